"""indexes for 督办台: overdue and nearly due orders by deadline, and the few awaiting an extension or paused,
so its counts and first pages read an index instead of every open order

Revision ID: 0023_supervise_indexes
Revises: 0022_sla_restart_on_redispatch
Create Date: 2026-12-05 08:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_supervise_indexes"
down_revision = "0022_sla_restart_on_redispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_status_reply_due", "tickets", ["status", "reply_due"])
    pending = sa.text("extension_days IS NOT NULL")
    op.create_index("ix_tickets_extension_pending", "tickets", ["status"], sqlite_where=pending, postgresql_where=pending)
    op.create_index("ix_tickets_paused", "tickets", ["status"], sqlite_where=sa.text("paused IS 1"), postgresql_where=sa.text("paused IS true"))


def downgrade() -> None:
    for name in ("ix_tickets_paused", "ix_tickets_extension_pending", "ix_tickets_status_reply_due"):
        op.drop_index(name, table_name="tickets")

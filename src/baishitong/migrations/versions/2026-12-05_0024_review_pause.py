"""sla_policies.pause_during_review: whether the time a unit's 延期 or 退单 request waits for the centre
stops the unit's clock; tickets.clock_stopped: whether the stored deadlines are a lower bound (the clock
stands still, paused by the unit or held for review), so the worker moves them on

Revision ID: 0024_review_pause
Revises: 0023_supervise_indexes
Create Date: 2026-12-05 11:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_review_pause"
down_revision = "0023_supervise_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_policies") as batch:
        batch.add_column(sa.Column("pause_during_review", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("clock_stopped", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE tickets SET clock_stopped = paused")
    op.create_index("ix_tickets_clock_stopped", "tickets", ["status"], sqlite_where=sa.text("clock_stopped IS 1"), postgresql_where=sa.text("clock_stopped IS true"))


def downgrade() -> None:
    op.drop_index("ix_tickets_clock_stopped", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("clock_stopped")
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("pause_during_review")

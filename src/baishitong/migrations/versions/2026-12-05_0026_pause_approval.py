"""sla_policies.pause_needs_approval: whether a unit's 暂停计时 waits for the centre's consent before the
clock stops; tickets.pause_request: the reason of such a request while it waits (督办台 lists them)

Revision ID: 0026_pause_approval
Revises: 0025_user_phone
Create Date: 2026-12-05 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_pause_approval"
down_revision = "0025_user_phone"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch operation may rebuild the table on SQLite, and the rebuild drops the DESC of
    # ix_tickets_dispatch_queue (see 0028).
    op.add_column("sla_policies", sa.Column("pause_needs_approval", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tickets", sa.Column("pause_request", sa.Text(), nullable=True))
    # 督办台's 计时暂停 section lists both, under this very condition (a partial index is used only for a query
    # whose condition implies its own).
    op.create_index(
        "ix_tickets_paused_or_pending",
        "tickets",
        ["status"],
        sqlite_where=sa.text("paused IS 1 OR pause_request IS NOT NULL"),
        postgresql_where=sa.text("paused IS true OR pause_request IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_paused_or_pending", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("pause_request")
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("pause_needs_approval")

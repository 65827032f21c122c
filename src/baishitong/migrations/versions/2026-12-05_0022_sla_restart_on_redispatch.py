"""sla_policies.restart_on_redispatch: whether an order sent to another unit (after an approved 退单, or
re-dispatched before signing) gets a new clock, so the new unit is not charged with time spent elsewhere

Revision ID: 0022_sla_restart_on_redispatch
Revises: 0021_event_version
Create Date: 2026-12-05 08:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_sla_restart_on_redispatch"
down_revision = "0021_event_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sla_policies") as batch:
        batch.add_column(sa.Column("restart_on_redispatch", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("restart_on_redispatch")

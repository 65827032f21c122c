"""ticket_events.version: the order's version each state-changing event produced, so a form opened before
changes that do not touch it (an extension decided) still goes through

Revision ID: 0021_event_version
Revises: 0020_idempotency_created_index
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_event_version"
down_revision = "0020_idempotency_created_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Events from before this column keep NULL: a form older than them still gets 409, as before.
    with op.batch_alter_table("ticket_events") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ticket_events") as batch:
        batch.drop_column("version")

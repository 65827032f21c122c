"""index for 待派单: urgent orders first, then the longest waiting, without sorting the whole queue

Revision ID: 0019_dispatch_queue_index
Revises: 0018_idempotency_scope
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_dispatch_queue_index"
down_revision = "0018_idempotency_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_dispatch_queue", "tickets", ["status", sa.text("urgency DESC"), "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_dispatch_queue", table_name="tickets")

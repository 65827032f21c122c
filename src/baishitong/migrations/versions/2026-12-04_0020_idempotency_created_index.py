"""index idempotency_keys.created_at, so the hourly purge of expired keys finds them without a table scan

Revision ID: 0020_idempotency_created_index
Revises: 0019_dispatch_queue_index
Create Date: 2026-12-05 08:00:00
"""

from alembic import op

revision = "0020_idempotency_created_index"
down_revision = "0019_dispatch_queue_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")

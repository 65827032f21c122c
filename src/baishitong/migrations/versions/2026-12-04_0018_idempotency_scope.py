"""idempotency scopes name the endpoint, its target and the staff member (tickets.note:SD…:user7), so they are longer

Revision ID: 0018_idempotency_scope
Revises: 0017_phrase_versions
Create Date: 2026-12-05 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_idempotency_scope"
down_revision = "0017_phrase_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("scope", existing_type=sa.String(32), type_=sa.String(128), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.alter_column("scope", existing_type=sa.String(128), type_=sa.String(32), existing_nullable=False)

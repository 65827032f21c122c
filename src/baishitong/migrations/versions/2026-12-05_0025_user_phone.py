"""users.phone: a staff member's work phone, kept by the system admin or their unit admin (本单位人员)
so a unit's people can be reached about an order

Revision ID: 0025_user_phone
Revises: 0024_review_pause
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_user_phone"
down_revision = "0024_review_pause"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")

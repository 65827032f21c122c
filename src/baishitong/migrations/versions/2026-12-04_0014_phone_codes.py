"""one-time SMS codes for 我的诉求

Revision ID: 0014_phone_codes
Revises: 0013_policy_alerts
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0014_phone_codes"
down_revision = "0013_policy_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "phone_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", baishitong.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_phone_codes"),
    )
    op.create_index("ix_phone_codes_phone", "phone_codes", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_phone_codes_phone", table_name="phone_codes")
    op.drop_table("phone_codes")

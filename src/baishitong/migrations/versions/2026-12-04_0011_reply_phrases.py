"""reply phrases (常用答复语)

Revision ID: 0011_reply_phrases
Revises: 0010_audit_seal_at_commit
Create Date: 2026-12-04 19:30:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0011_reply_phrases"
down_revision = "0010_audit_seal_at_commit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_phrases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_reply_phrases_unit_id_units"),
        sa.PrimaryKeyConstraint("id", name="pk_reply_phrases"),
    )
    op.create_index("ix_reply_phrases_unit_id", "reply_phrases", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_reply_phrases_unit_id", table_name="reply_phrases")
    op.drop_table("reply_phrases")

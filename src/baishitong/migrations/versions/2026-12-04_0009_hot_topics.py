"""hot-topic snapshots

Revision ID: 0009_hot_topics
Revises: 0008_duplicate_scan_index
Create Date: 2026-12-04 17:30:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0009_hot_topics"
down_revision = "0008_duplicate_scan_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hot_topic_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("computed_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.Column("n_tickets", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hot_topic_snapshots"),
    )
    op.create_index("ix_hot_topic_snapshots_window_computed", "hot_topic_snapshots", ["window_days", "computed_at"])


def downgrade() -> None:
    op.drop_index("ix_hot_topic_snapshots_window_computed", table_name="hot_topic_snapshots")
    op.drop_table("hot_topic_snapshots")

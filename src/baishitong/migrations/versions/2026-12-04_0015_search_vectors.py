"""sentence vectors of knowledge-base articles and service items, for hybrid search

Revision ID: 0015_search_vectors
Revises: 0014_phone_codes
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0015_search_vectors"
down_revision = "0014_phone_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_vectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_key", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", baishitong.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_vectors"),
        sa.UniqueConstraint("doc_key", name="uq_search_vectors_doc_key"),
    )
    op.create_index("ix_search_vectors_updated_at", "search_vectors", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_search_vectors_updated_at", table_name="search_vectors")
    op.drop_table("search_vectors")

"""a version per policy and financing product, so two admins' edits never silently overwrite each other

Revision ID: 0016_enterprise_versions
Revises: 0015_search_vectors
Create Date: 2026-12-05 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_enterprise_versions"
down_revision = "0015_search_vectors"
branch_labels = None
depends_on = None

TABLES = ("enterprise_policies", "financing_products")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")

"""a version per reply phrase, so two editors' saves never silently overwrite each other

Revision ID: 0017_phrase_versions
Revises: 0016_enterprise_versions
Create Date: 2026-12-05 02:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_phrase_versions"
down_revision = "0016_enterprise_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reply_phrases") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("reply_phrases") as batch:
        batch.drop_column("version")

"""first contact time on tickets; joins the domain branches

Revision ID: 0007_first_contact
Revises: 0003_routing, 0004_knowledge, 0005_points, 0006_web
Create Date: 2026-12-04 15:10:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0007_first_contact"
down_revision = ("0003_routing", "0004_knowledge", "0005_points", "0006_web")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contacted_at", baishitong.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("contacted_at")

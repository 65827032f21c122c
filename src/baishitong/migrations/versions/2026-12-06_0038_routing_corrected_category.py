"""routing_decisions.corrected_category: the category staff put an order under when the router's was wrong (分类纠正率)

Revision ID: 0038_routing_corrected_category
Revises: 0037_ticket_assistant_session
Create Date: 2026-12-06 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0038_routing_corrected_category"
down_revision = "0037_ticket_assistant_session"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("routing_decisions", sa.Column("corrected_category", sa.String(length=16), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("routing_decisions") as batch:
            batch.drop_column("corrected_category")
    else:
        op.drop_column("routing_decisions", "corrected_category")

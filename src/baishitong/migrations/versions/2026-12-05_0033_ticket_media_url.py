"""tickets.media_url: the photo link an Open311 client sent with the request (GeoReport v2 media_url)

Revision ID: 0033_ticket_media_url
Revises: 0032_ticket_assignee
Create Date: 2026-12-06 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_ticket_media_url"
down_revision = "0032_ticket_assignee"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on SQLite too: no table rebuild (which would drop the DESC of ix_tickets_dispatch_queue, see 0028).
    op.add_column("tickets", sa.Column("media_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tickets") as batch:
            batch.drop_column("media_url")
    else:
        op.drop_column("tickets", "media_url")

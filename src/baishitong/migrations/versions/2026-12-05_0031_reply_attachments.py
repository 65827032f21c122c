"""attachments.event_id: the 答复 a file was sent with (the requester sees it); none for the photos of the request

Revision ID: 0031_reply_attachments
Revises: 0030_clock_from_dispatch
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_reply_attachments"
down_revision = "0030_clock_from_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f("fk_attachments_event_id_ticket_events"), "ticket_events", ["event_id"], ["id"])
        batch.create_index(batch.f("ix_attachments_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index(batch.f("ix_attachments_event_id"))
        batch.drop_constraint(batch.f("fk_attachments_event_id_ticket_events"), type_="foreignkey")
        batch.drop_column("event_id")

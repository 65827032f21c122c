"""tickets.assignee_id: the 承办人 within the lead unit (单位工作台 指派承办人 / 我来办)

Revision ID: 0032_ticket_assignee
Revises: 0031_reply_attachments
Create Date: 2026-12-06 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_ticket_assignee"
down_revision = "0031_reply_attachments"
branch_labels = None
depends_on = None

FK = "fk_tickets_assignee_id_users"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its REFERENCES in place; Alembic would rebuild the table for the constraint,
        # and the rebuild drops the DESC of ix_tickets_dispatch_queue (see 0028).
        op.execute("ALTER TABLE tickets ADD COLUMN assignee_id INTEGER REFERENCES users (id)")
    else:
        op.add_column("tickets", sa.Column("assignee_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK, "tickets", "users", ["assignee_id"], ["id"])
    # 单位工作台's 我的.
    op.create_index("ix_tickets_assignee_id", "tickets", ["assignee_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee_id", table_name="tickets")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tickets") as batch:
            batch.drop_column("assignee_id")
    else:
        op.drop_constraint(FK, "tickets", type_="foreignkey")
        op.drop_column("tickets", "assignee_id")

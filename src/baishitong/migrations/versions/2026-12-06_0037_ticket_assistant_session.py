"""tickets.assistant_session_id: the 在线咨询 conversation an order was made from (来源会话), for staff to read it whole

Revision ID: 0037_ticket_assistant_session
Revises: 0036_unit_desk_indexes
Create Date: 2026-12-06 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0037_ticket_assistant_session"
down_revision = "0036_unit_desk_indexes"
branch_labels = None
depends_on = None

FK = "fk_tickets_assistant_session_id_assistant_sessions"
INDEX = "ix_tickets_assistant_session_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # With its REFERENCES in place, as 0032: a constraint added by Alembic would rebuild the table (see 0028).
        op.execute("ALTER TABLE tickets ADD COLUMN assistant_session_id VARCHAR(32) REFERENCES assistant_sessions (id)")
    else:
        op.add_column("tickets", sa.Column("assistant_session_id", sa.String(length=32), nullable=True))
        op.create_foreign_key(FK, "tickets", "assistant_sessions", ["assistant_session_id"], ["id"])
    # The conversation page finds the orders made from it.
    op.create_index(INDEX, "tickets", ["assistant_session_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="tickets")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("tickets") as batch:
            batch.drop_column("assistant_session_id")
    else:
        op.drop_constraint(FK, "tickets", type_="foreignkey")
        op.drop_column("tickets", "assistant_session_id")

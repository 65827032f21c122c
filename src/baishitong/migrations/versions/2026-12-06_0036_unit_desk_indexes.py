"""单位工作台's 未指派 and 我的 read their page in deadline order off an index: tickets (lead_unit_id, status, reply_due)
and (assignee_id, status, reply_due), each in place of the index it begins with

Revision ID: 0036_unit_desk_indexes
Revises: 0035_ticket_lead_dispatched
Create Date: 2026-12-06 06:00:00
"""

from alembic import op

revision = "0036_unit_desk_indexes"
down_revision = "0035_ticket_lead_dispatched"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE / DROP INDEX: no batch operation, which on SQLite would rebuild the table (see 0028).
    op.create_index("ix_tickets_lead_status_reply_due", "tickets", ["lead_unit_id", "status", "reply_due"])
    op.drop_index("ix_tickets_lead_status", table_name="tickets")
    op.create_index("ix_tickets_assignee_status_reply_due", "tickets", ["assignee_id", "status", "reply_due"])
    op.drop_index("ix_tickets_assignee_id", table_name="tickets")


def downgrade() -> None:
    op.create_index("ix_tickets_assignee_id", "tickets", ["assignee_id"])
    op.drop_index("ix_tickets_assignee_status_reply_due", table_name="tickets")
    op.create_index("ix_tickets_lead_status", "tickets", ["lead_unit_id", "status"])
    op.drop_index("ix_tickets_lead_status_reply_due", table_name="tickets")

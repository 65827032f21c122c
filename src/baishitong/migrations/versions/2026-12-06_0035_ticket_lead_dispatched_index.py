"""tickets (lead_unit_id, dispatched_at): 工单查询 by one 主办单位 and a 派单日期 range (the 督办台 league's links)
reads that unit's orders of the period, not every order the unit ever had

Revision ID: 0035_ticket_lead_dispatched
Revises: 0034_mask_stored_errors
Create Date: 2026-12-06 14:00:00
"""

from alembic import op

revision = "0035_ticket_lead_dispatched"
down_revision = "0034_mask_stored_errors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_lead_dispatched", "tickets", ["lead_unit_id", "dispatched_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_lead_dispatched", table_name="tickets")

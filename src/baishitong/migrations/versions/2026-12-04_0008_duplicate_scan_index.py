"""index for the duplicate scan: open tickets of a period by place

Revision ID: 0008_duplicate_scan_index
Revises: 0007_first_contact
Create Date: 2026-12-04 15:30:00
"""

from alembic import op

revision = "0008_duplicate_scan_index"
down_revision = "0007_first_contact"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_duplicate_scan", "tickets", ["status", "created_at", "region_id", "lat", "lon"])


def downgrade() -> None:
    op.drop_index("ix_tickets_duplicate_scan", table_name="tickets")

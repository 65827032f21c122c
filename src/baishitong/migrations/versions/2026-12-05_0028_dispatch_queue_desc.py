"""ix_tickets_dispatch_queue back to (status, urgency DESC, created_at, id): on SQLite the table rebuild of
0024's batch operation re-created it without DESC, so 待派单 sorted its page in a temporary tree (about
18 ms at 100,000 orders instead of under 1 ms); and 督办台's partial indexes after it

Revision ID: 0028_dispatch_queue_desc
Revises: 0027_job_retry
Create Date: 2026-12-05 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_dispatch_queue_desc"
down_revision = "0027_job_retry"
branch_labels = None
depends_on = None


# Without statistics SQLite settles a tie between indexes that start with `status` for the one created last,
# so the partial indexes of 督办台's sections are created again after it: each then serves its own section
# instead of a scan of every signed order through the dispatch index (tests/test_schema.py checks the plans).
PARTIAL = {
    "ix_tickets_extension_pending": ("extension_days IS NOT NULL", "extension_days IS NOT NULL"),
    "ix_tickets_paused": ("paused IS 1", "paused IS true"),
    "ix_tickets_clock_stopped": ("clock_stopped IS 1", "clock_stopped IS true"),
    "ix_tickets_paused_or_pending": ("paused IS 1 OR pause_request IS NOT NULL", "paused IS true OR pause_request IS NOT NULL"),
}


def upgrade() -> None:
    op.drop_index("ix_tickets_dispatch_queue", table_name="tickets")
    op.create_index("ix_tickets_dispatch_queue", "tickets", ["status", sa.text("urgency DESC"), "created_at", "id"])
    for name, (sqlite_where, postgresql_where) in PARTIAL.items():
        op.drop_index(name, table_name="tickets")
        op.create_index(name, "tickets", ["status"], sqlite_where=sa.text(sqlite_where), postgresql_where=sa.text(postgresql_where))


def downgrade() -> None:
    pass  # the index as it should be is the index as 0019 made it

"""ended_staff_sessions: signing out ends the session on the server, not only the browser's cookie

Revision ID: 0029_ended_staff_sessions
Revises: 0028_dispatch_queue_desc
Create Date: 2026-12-05 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_ended_staff_sessions"
down_revision = "0028_dispatch_queue_desc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ended_staff_sessions",
        sa.Column("sid", sa.String(length=32), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_ended_staff_sessions")),
    )
    op.create_index(op.f("ix_ended_staff_sessions_ended_at"), "ended_staff_sessions", ["ended_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ended_staff_sessions_ended_at"), table_name="ended_staff_sessions")
    op.drop_table("ended_staff_sessions")

"""sla_policies.clock_from_dispatch: whether a unit's deadlines count from the order's first dispatch instead
of its registration; tickets.first_dispatched_at: that dispatch, filled in for the orders already sent

Revision ID: 0030_clock_from_dispatch
Revises: 0029_ended_staff_sessions
Create Date: 2026-12-05 21:00:00
"""

import sqlalchemy as sa
from alembic import op

import baishitong.db

revision = "0030_clock_from_dispatch"
down_revision = "0029_ended_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch operation may rebuild the table on SQLite, and the rebuild drops the DESC of
    # ix_tickets_dispatch_queue (see 0028).
    op.add_column("sla_policies", sa.Column("clock_from_dispatch", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tickets", sa.Column("first_dispatched_at", baishitong.db.UTCDateTime(), nullable=True))
    tickets = sa.table("tickets", sa.column("id"), sa.column("dispatched_at"), sa.column("first_dispatched_at"))
    events = sa.table("ticket_events", sa.column("ticket_id"), sa.column("action"), sa.column("created_at"))
    # An order sent on has its first dispatch in its timeline; one never sent on has it in dispatched_at, to the
    # microsecond (its event is written a moment after).
    first_event = sa.select(sa.func.min(events.c.created_at)).where(events.c.ticket_id == tickets.c.id, events.c.action == "dispatch").scalar_subquery()
    op.execute(
        tickets.update()
        .where(tickets.c.dispatched_at.is_not(None))
        .values(first_dispatched_at=sa.case((first_event < tickets.c.dispatched_at, first_event), else_=tickets.c.dispatched_at))
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("first_dispatched_at")
    with op.batch_alter_table("sla_policies") as batch:
        batch.drop_column("clock_from_dispatch")

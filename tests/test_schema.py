"""The schema the migrations build is the one the queries are written for."""

import pytest
from sqlalchemy import and_, func, or_, select

from baishitong.tickets.models import Ticket


def test_the_dispatch_queue_reads_its_order_off_its_index(database):
    """待派单 lists urgent orders first, then the longest waiting: (status, urgency DESC, created_at, id). A table
    rebuild on SQLite once re-created the index without DESC, and every page load sorted in a temporary tree."""
    query = select(Ticket.id).where(Ticket.status == "registered").order_by(Ticket.urgency.desc(), Ticket.created_at, Ticket.id).limit(20)
    with database.engine.connect() as conn:
        if database.is_sqlite:
            definition = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'ix_tickets_dispatch_queue'").scalar()
            plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(query.compile(database.engine, compile_kwargs={"literal_binds": True}))))
            assert "ix_tickets_dispatch_queue" in plan and "TEMP B-TREE" not in plan, plan
        else:
            definition = conn.exec_driver_sql("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_tickets_dispatch_queue'").scalar()
    assert "urgency DESC" in definition


@pytest.mark.parametrize(
    ("section", "index"),
    [
        (Ticket.extension_days.is_not(None), "ix_tickets_extension_pending"),
        (or_(Ticket.paused.is_(True), Ticket.pause_request.is_not(None)), "ix_tickets_paused_or_pending"),
        (Ticket.clock_stopped.is_(True), "ix_tickets_clock_stopped"),
    ],
)
def test_the_few_orders_of_a_desk_section_are_read_off_its_partial_index(database, section, index):
    """督办台's 延期审批 and 计时暂停, and the worker's minute run over stopped clocks, each want a handful of the
    signed orders: without statistics SQLite must still pick their partial index, not scan every signed order."""
    if not database.is_sqlite:
        pytest.skip("PostgreSQL plans from the statistics autovacuum keeps")
    query = select(func.count()).select_from(Ticket).where(and_(Ticket.status == "signed", section))
    with database.engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(query.compile(database.engine, compile_kwargs={"literal_binds": True}))))
    assert index in plan, plan

"""The schema the migrations build is the one the queries are written for."""

from sqlalchemy import select

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

"""The schema the migrations build is the one the queries are written for."""

from datetime import datetime, timezone

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


def test_every_index_the_models_declare_is_built_by_the_migrations(database):
    """A query is written for the indexes declared on the models; the migrations are what builds them."""
    from sqlalchemy import inspect

    from baishitong.db import Base

    inspector = inspect(database.engine)
    missing = []
    for table in Base.metadata.sorted_tables:
        built = {index["name"]: index["column_names"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            # An index on an expression (urgency DESC) is checked by name: its columns read back differently.
            columns = [c.name for c in index.columns] if len(index.columns) == len(index.expressions) else None
            if index.name not in built or (columns is not None and built[index.name] != columns):
                missing.append(f"{table.name}.{index.name}")
    assert missing == []


def test_a_units_orders_by_dispatch_date_are_read_off_their_index(database):
    """工单查询 by 主办单位 and 派单日期 (the 督办台 league's 派单数 and 回访数 links) reads the unit's orders of the
    period, not every order the unit ever had."""
    if not database.is_sqlite:
        pytest.skip("PostgreSQL plans from the statistics autovacuum keeps")
    query = select(func.count()).select_from(Ticket).where(Ticket.lead_unit_id == 3, Ticket.dispatched_at >= datetime(2026, 9, 1, tzinfo=timezone.utc), Ticket.dispatched_at < datetime(2026, 12, 1, tzinfo=timezone.utc))
    with database.engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(query.compile(database.engine, compile_kwargs={"literal_binds": True}))))
    assert "ix_tickets_lead_dispatched (lead_unit_id=? AND dispatched_at>? AND dispatched_at<?)" in plan, plan


@pytest.mark.parametrize(("tab", "who", "index"), [("signed", "none", "ix_tickets_lead_status_reply_due"), ("dispatched", "mine", "ix_tickets_assignee_status_reply_due"), ("signed", "", "ix_tickets_status_reply_due")])
def test_the_unit_desks_tabs_read_their_order_off_an_index(database, tab, who, index):
    """单位工作台 by deadline, also narrowed to 未指派 or 我的: each page read in order, not sorted whole, and 我的 not
    found by reading every order of the state."""
    from baishitong.web import unit

    if not database.is_sqlite:
        pytest.skip("PostgreSQL plans from the statistics autovacuum keeps")
    query = select(Ticket.id).where(unit._tab_clause(3, tab), *unit._who_clause(who, 3, 5))  # the page reads its ids first
    query = unit._ordered(query, tab, 3).limit(30)
    with database.engine.connect() as conn:
        plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(query.compile(database.engine, compile_kwargs={"literal_binds": True, "render_postcompile": True}))))
    assert f"USING INDEX {index}" in plan and "TEMP B-TREE FOR ORDER BY" not in plan and "RIGHT PART OF ORDER BY" not in plan, plan

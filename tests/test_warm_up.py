"""The app builds its search indexes and loads the router in the background when it starts."""

import logging

from baishitong.app import warm_up
from baishitong.db import Database
from baishitong.knowledge import service as knowledge


def test_warm_up_builds_the_indexes_the_first_searches_need(database):
    knowledge._cache.clear()
    warm_up(database)
    scopes = {scope for (_, scope) in knowledge._cache}
    assert {"combined", "articles:public"} <= scopes


def test_a_failed_warm_up_is_logged_not_raised(tmp_path, caplog):
    broken = Database(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    with caplog.at_level(logging.ERROR, logger="baishitong.app"):
        warm_up(broken)
    assert "warm-up failed" in caplog.text


def test_sqlite_plans_desk_sections_off_their_partial_indexes_once_it_has_statistics(tmp_path):
    """Without statistics SQLite may scan every signed order for 督办台's few paused ones; warm-up (and the
    worker, hourly) give it statistics, and the section's query then reads its own partial index."""
    from sqlalchemy import and_, func, or_, select, update

    from baishitong import migrate
    from baishitong.actors import REQUESTER
    from baishitong.tickets import service
    from baishitong.tickets.models import Ticket
    from tests.conftest import seed_test_database
    from tests.tickets.factories import intake

    url = f"sqlite:///{tmp_path / 'desk.db'}"
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        seed_test_database(session)
        for _ in range(60):
            service.create_ticket(session, data=intake(), actor=REQUESTER, auto_dispatch=False)
        session.execute(update(Ticket).values(status="signed"))
    paused_section = select(func.count()).select_from(Ticket).where(and_(Ticket.status == "signed", or_(Ticket.paused.is_(True), Ticket.pause_request.is_not(None))))
    sql = str(paused_section.compile(db.engine, compile_kwargs={"literal_binds": True}))

    db.refresh_planner_statistics()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'tickets'").scalar() > 0
        plan = " ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    assert "ix_tickets_paused_or_pending" in plan
    db.dispose()

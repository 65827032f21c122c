"""Stop the worker, move the clock past due, restart: exactly one urge, nothing lost."""

import os
import subprocess
import sys
import time
from datetime import datetime

from sqlalchemy import select

from baishitong import migrate
from baishitong.actors import REQUESTER, Actor
from baishitong.db import Database
from baishitong.org import service as org
from baishitong.tickets import schemas, service
from baishitong.tickets.models import TicketEvent
from baishitong.tickets.service import LOCAL_TZ
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.tickets.factories import intake


def _worker(url: str, var_dir, now: str) -> subprocess.Popen:
    env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_VAR_DIR": str(var_dir), "BAISHITONG_QUEUE_BACKEND": "sqlite", "BAISHITONG_FAKE_NOW": now}
    return subprocess.Popen([sys.executable, "-m", "baishitong", "worker", "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_overdue_order_gets_exactly_one_urge_across_worker_restarts(tmp_path, monkeypatch):
    url = create_fresh_database(tmp_path)
    created = datetime(2026, 12, 7, 9, 0, tzinfo=LOCAL_TZ)
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", created.isoformat())
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
            ticket, _ = service.create_ticket(session, data=intake(type="咨询"), actor=REQUESTER)
            operator = Actor.for_user(org.get_user(session, username="t_operator"))
            handler = Actor.for_user(org.get_user(session, username="t_ronggui"))
            service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=1, lead_unit="ronggui"))
            service.act(session, number=ticket.number, action="sign", actor=handler, body=schemas.ActionIn(version=2))
            service.act(session, number=ticket.number, action="contact", actor=handler, body=schemas.ContactIn(version=3, outcome="已联系"))
            ticket_id = ticket.id

        def urges() -> int:
            with db.session(write=False) as session:
                return len(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "urge")).all())

        # Before the deadline: the worker runs, no urge.
        worker = _worker(url, tmp_path / "var", created.isoformat())
        assert _wait_for(lambda: worker.stdout.readline().startswith("百事通后台任务进程已启动"))
        worker.terminate()
        worker.wait(20)
        assert urges() == 0

        # While no worker runs, the clock passes the 2-working-day reply deadline (Dec 9 09:00).
        late = datetime(2026, 12, 10, 9, 0, tzinfo=LOCAL_TZ).isoformat()
        for _ in range(2):
            worker = _worker(url, tmp_path / "var", late)
            assert _wait_for(lambda: urges() >= 1)
            time.sleep(1.5)
            worker.kill()
            worker.wait(20)
        assert urges() == 1
        db.dispose()
    finally:
        drop_fresh_database(url)

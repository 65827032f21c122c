"""QUEUE_BACKEND=redis, as a larger deployment runs it: a real worker on a real Redis does the outbox's jobs."""

import os
import socket
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from baishitong import migrate
from baishitong.actors import REQUESTER
from baishitong.db import Database
from baishitong.jobs.models import OutboxJob
from baishitong.notify.models import Message
from baishitong.tickets import service
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.tickets.factories import intake

# A database index of its own, so the test neither sees nor leaves jobs in a deployment's queue.
REDIS_URL = "redis://127.0.0.1:6379/11"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_a_worker_on_redis_does_the_jobs_a_registration_queued(tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    url = create_fresh_database(tmp_path)
    worker = None
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
            service.create_ticket(session, data=intake(), actor=REQUESTER)  # queues its 受理通知 and routing work

        def open_jobs() -> int:
            with db.session(write=False) as session:
                return session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.done_at.is_(None)))

        assert open_jobs() > 0
        env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_VAR_DIR": str(tmp_path / "var"), "BAISHITONG_QUEUE_BACKEND": "redis", "BAISHITONG_REDIS_URL": REDIS_URL}
        worker = subprocess.Popen([sys.executable, "-m", "baishitong", "worker", "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert "队列：redis" in worker.stdout.readline()
        deadline = time.monotonic() + 60
        while open_jobs() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert open_jobs() == 0, "every job the registration queued was run through Redis"
        with db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(Message).where(Message.template_code == "ticket_registered", Message.status == "sent")) == 1
        db.dispose()
    finally:
        if worker is not None:
            worker.kill()
            worker.wait(20)
        drop_fresh_database(url)
        redis.Redis.from_url(REDIS_URL).flushdb()

"""The worker deletes Idempotency-Keys past their retention, in batches, and keeps the recent ones replaying."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from baishitong import idempotency
from baishitong.config import get_settings
from baishitong.jobs import queue
from baishitong.tickets.models import IdempotencyKey

SCOPE = "test.purge"
# Long before the clock of any other test, so their committed keys are never older than the cutoff.
NOW = datetime(2020, 1, 10, 12, tzinfo=timezone.utc)


@pytest.fixture
def keys(database, monkeypatch):
    """Commits a key created `hours_ago` before NOW; removes this test's keys afterwards."""

    def remember(name: str, hours_ago: float) -> None:
        monkeypatch.setenv("BAISHITONG_FAKE_NOW", (NOW - timedelta(hours=hours_ago)).isoformat())
        with database.session() as session:
            idempotency.remember(session, scope=SCOPE, key=name, body={"name": name}, resource_id=name)
        monkeypatch.delenv("BAISHITONG_FAKE_NOW")

    yield remember
    with database.session() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.scope == SCOPE))


def remaining(database) -> set[str]:
    with database.session(write=False) as session:
        return set(session.scalars(select(IdempotencyKey.key).where(IdempotencyKey.scope == SCOPE)))


def test_keys_older_than_the_retention_go_in_batches_and_recent_ones_stay(database, keys):
    for name, hours_ago in [("old-1", 73), ("old-2", 100), ("old-3", 500), ("old-4", 72.01), ("recent", 71), ("fresh", 0)]:
        keys(name, hours_ago)
    assert idempotency.purge_expired(database, now=NOW, retention_hours=72, batch=3) == 4
    assert remaining(database) == {"recent", "fresh"}
    assert idempotency.purge_expired(database, now=NOW, retention_hours=72, batch=3) == 0
    assert remaining(database) == {"recent", "fresh"}


def test_a_retry_within_the_retention_still_replays_and_one_after_it_is_new(database, keys):
    keys("order-1", 0)
    body = {"name": "order-1"}
    idempotency.purge_expired(database, now=NOW + timedelta(hours=71), retention_hours=72)
    with database.session(write=False) as session:
        assert idempotency.replayed(session, scope=SCOPE, key="order-1", body=body) == "order-1"
    idempotency.purge_expired(database, now=NOW + timedelta(hours=73), retention_hours=72)
    with database.session(write=False) as session:
        assert idempotency.replayed(session, scope=SCOPE, key="order-1", body=body) is None


def test_the_hourly_worker_task_uses_the_retention_setting(database, keys, monkeypatch):
    assert get_settings().idempotency_retention_hours == 72
    keys("day-old", 25)
    keys("hours-old", 23)
    monkeypatch.setenv("BAISHITONG_IDEMPOTENCY_RETENTION_HOURS", "24")
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", NOW.isoformat())
    get_settings.cache_clear()
    try:
        queue.purge_idempotency_keys.call_local()
    finally:
        get_settings.cache_clear()
    assert remaining(database) == {"hours-old"}
    assert "baishitong.purge_idempotency_keys" in {task.name for task in queue.huey._registry.periodic_tasks}

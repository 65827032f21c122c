"""The real queue (huey): SQLite file by default, Redis at scale, in-process for tests.

Only job ids travel through the queue; the job itself lives in the outbox table.
"""

import logging
import threading
from functools import lru_cache

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from baishitong.config import get_settings

log = logging.getLogger(__name__)
_local = threading.local()


@lru_cache
def get_huey() -> Huey:
    settings = get_settings()
    if settings.queue_backend == "redis":
        return RedisHuey("baishitong", url=settings.redis_url)
    if settings.queue_backend == "immediate":
        return MemoryHuey("baishitong", immediate=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("baishitong", filename=str(settings.var_dir / "queue.db"))


_database = None


def get_database():
    """The database jobs run against: the configured one, or the one a test or the app set."""
    global _database
    if _database is None:
        from baishitong.db import Database

        _database = Database(get_settings().effective_database_url)
    return _database


def use_database(database) -> None:
    global _database
    _database = database


huey = get_huey()


@huey.task(name="baishitong.run_outbox_job")
def run_outbox_job(job_id: int) -> None:
    """Retries are the outbox's own (jobs.service.execute and the relay), the same on every queue backend."""
    from baishitong.jobs.service import execute

    execute(get_database(), job_id)


@huey.periodic_task(crontab(minute="*"), name="baishitong.relay")
def relay_outbox() -> None:
    from baishitong.jobs.service import relay

    relay(get_database())


@huey.periodic_task(crontab(minute="*"), name="baishitong.tick")
def tick() -> None:
    """Once a minute: deadline checks and other time-driven work."""
    from baishitong.jobs.periodic import run_periodic

    run_periodic(get_database())


@huey.periodic_task(crontab(minute="*"), name="baishitong.embed")
def embed() -> None:
    """Once a minute, apart from the tick: sentence vectors for new and edited articles (a backfill
    takes minutes, in slices of at most EMBED_BUDGET_S)."""
    from baishitong.knowledge.vectors import embed_changed

    embed_changed(get_database())


@huey.periodic_task(crontab(minute="17"), name="baishitong.purge_idempotency_keys")
def purge_idempotency_keys() -> None:
    """Hourly: Idempotency-Keys past their retention go, so the table stops growing."""
    from baishitong import clock, idempotency

    idempotency.purge_expired(get_database(), now=clock.now(), retention_hours=get_settings().idempotency_retention_hours)


def send(job_id: int, *, mark: bool = True) -> None:
    """Hands a committed outbox job to the queue. If this fails, the relay sends it later."""
    try:
        run_outbox_job(job_id)
    except Exception:
        log.exception("could not send job %s; the relay will retry", job_id)
        return
    if mark and get_settings().queue_backend != "immediate":
        from baishitong.jobs.service import mark_sent

        mark_sent(get_database(), [job_id])

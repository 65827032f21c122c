"""The real queue (huey): SQLite file by default, Redis at scale, in-process for tests.

Only job ids travel through the queue; the job itself lives in the outbox table. Messages to the SMS and WeChat
gateways go through a queue of their own, with worker threads of their own: a slow gateway holds each send up to
its timeout, and a backlog of alerts would otherwise keep dispatch, deadline and other jobs waiting behind it.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer

from baishitong.config import get_settings
from baishitong.jobs.registry import MAIN, NOTIFY, queue_of

log = logging.getLogger(__name__)
_local = threading.local()


@lru_cache
def get_huey(name: str = MAIN) -> Huey:
    settings = get_settings()
    if settings.queue_backend == "redis":
        return RedisHuey(name, url=settings.redis_url)
    if settings.queue_backend == "immediate":
        return MemoryHuey(name, immediate=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.var_dir / "queue.db"))


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
notify_huey = get_huey(NOTIFY)


class MainConsumer(Consumer):
    """The main queue's consumer, which also restarts the notification consumer's dead threads. huey restarts them
    only from its own consumer's run() loop, and a process runs one consumer (it owns the signals): the other is only
    started, so one of its threads dying silently stopped SMS and WeChat messages until the worker restarted."""

    def __init__(self, huey: Huey, *, messages: Consumer, **options) -> None:
        super().__init__(huey, **options)
        self.messages = messages

    def check_worker_health(self) -> bool:
        if not self.messages.check_worker_health():
            log.warning("notification worker thread died and was restarted")
        return super().check_worker_health()


@contextmanager
def _one_line_while_database_away(task: str) -> Iterator[None]:
    """With the database down every job and each minute's tasks stop at their first query; huey's traceback for
    each would flood a small server's log. Nothing is lost: a job's outbox row stays pending and the relay sends
    it again once the database is back; the periodic tasks simply run next minute. Other errors keep their traceback."""
    from baishitong.db import database_unavailable, unavailable_reason

    try:
        yield
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        log.warning("%s stopped, database unavailable: %s", task, unavailable_reason(exc))


@huey.task(name="baishitong.run_outbox_job")
def run_outbox_job(job_id: int) -> None:
    """Retries are the outbox's own (jobs.service.execute and the relay), the same on every queue backend."""
    from baishitong.jobs.service import execute

    with _one_line_while_database_away(f"baishitong.run_outbox_job (job {job_id})"):
        execute(get_database(), job_id)


@notify_huey.task(name="baishitong.run_notification_job")
def run_notification_job(job_id: int) -> None:
    """A job registered for the notification queue (`job(..., queue=NOTIFY)`), run as any other."""
    from baishitong.jobs.service import execute

    with _one_line_while_database_away(f"baishitong.run_notification_job (job {job_id})"):
        execute(get_database(), job_id)


@huey.periodic_task(crontab(minute="*"), name="baishitong.relay")
def relay_outbox() -> None:
    from baishitong.jobs.service import relay

    with _one_line_while_database_away("baishitong.relay"):
        relay(get_database())


@huey.periodic_task(crontab(minute="*"), name="baishitong.tick")
def tick() -> None:
    """Once a minute: deadline checks and other time-driven work."""
    from baishitong.jobs.periodic import run_periodic

    with _one_line_while_database_away("baishitong.tick"):
        run_periodic(get_database())


@huey.periodic_task(crontab(minute="*"), name="baishitong.embed")
def embed() -> None:
    """Once a minute, apart from the tick: sentence vectors for new and edited articles (a backfill
    takes minutes, in slices of at most EMBED_BUDGET_S)."""
    from baishitong.knowledge.vectors import embed_changed

    with _one_line_while_database_away("baishitong.embed"):
        embed_changed(get_database())


@huey.periodic_task(crontab(minute="17"), name="baishitong.purge_idempotency_keys")
def purge_idempotency_keys() -> None:
    """Hourly: Idempotency-Keys past their retention go, so the table stops growing."""
    from baishitong import clock, idempotency

    with _one_line_while_database_away("baishitong.purge_idempotency_keys"):
        idempotency.purge_expired(get_database(), now=clock.now(), retention_hours=get_settings().idempotency_retention_hours)


def send(job_id: int, *, name: str, mark: bool = True) -> None:
    """Hands a committed outbox job (`name` is the job's) to its queue. If this fails, the relay sends it later."""
    try:
        (run_notification_job if queue_of(name) == NOTIFY else run_outbox_job)(job_id)
    except Exception:
        log.exception("could not send job %s; the relay will retry", job_id)
        return
    if mark and get_settings().queue_backend != "immediate":
        from baishitong.jobs.service import mark_sent

        try:
            mark_sent(get_database(), [job_id])
        except Exception as exc:
            # The request has committed and the job is on its queue: the request must not fail now, nor the
            # callbacks after this one be skipped. Unmarked, the relay hands the job over again; jobs are idempotent.
            log.warning("job %s sent but not marked as sent (%s); the relay will send it again", job_id, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

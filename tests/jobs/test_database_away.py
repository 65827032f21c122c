"""A job failing for the database being away (restarting, locked) logs one WARNING line saying which job and why,
not a traceback per job for as long as it is away, and is tried again as after any failure; a real fault in a job
keeps its traceback."""

import logging

from sqlalchemy.exc import OperationalError

from baishitong import clock
from baishitong.db import Database
from baishitong.jobs import queue
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import job


def _away(reason: str) -> OperationalError:
    return OperationalError("UPDATE tickets SET ...", {}, Exception(reason))


@job("test.database_locked")
def database_locked(session, *, marker: str) -> None:
    raise _away("database is locked")


@job("test.database_gone_while_sending", outside_transaction=True)
def database_gone_while_sending(db, *, marker: str) -> None:
    raise _away("server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally")


@job("test.real_fault")
def real_fault(session, *, marker: str) -> None:
    raise RuntimeError("a bug in a job")


def _run(db, name: str) -> OutboxJob:
    with db.session() as session:
        job_id = jobs.enqueue(session, name, marker="m").id  # run on commit (the test queue is immediate)
    with db.session(write=False) as session:
        return session.get(OutboxJob, job_id)


def test_a_job_failing_for_the_database_logs_one_warning_line_and_is_tried_again(own_database, monkeypatch, caplog):
    now = clock.now()
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", now.isoformat())
    caplog.clear()
    locked = _run(own_database, "test.database_locked")
    gone = _run(own_database, "test.database_gone_while_sending")

    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in lines] == [
        f"job {locked.id} (test.database_locked) failed, database unavailable: database is locked",
        f"job {gone.id} (test.database_gone_while_sending) failed, database unavailable: server closed the connection unexpectedly",
    ]
    assert all(r.levelno == logging.WARNING and not r.exc_info and not r.exc_text for r in lines)
    for row in (locked, gone):
        assert row.attempts == 1 and row.failed_at is None and row.done_at is None
        assert row.next_attempt_at == jobs.retry_at(1, now) and "OperationalError" in row.last_error


def test_a_real_fault_in_a_job_keeps_its_traceback(own_database, caplog):
    caplog.clear()
    row = _run(own_database, "test.real_fault")
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.levelno == logging.ERROR and line.getMessage() == f"job {row.id} (test.real_fault) failed"
    assert "Traceback" in line.exc_text and "RuntimeError: a bug in a job" in line.exc_text
    assert row.attempts == 1 and row.next_attempt_at is not None


def _down() -> Database:
    """A database nobody answers on: every first query is refused, as when PostgreSQL is stopped."""
    return Database("postgresql+psycopg://postgres@127.0.0.1:1/gone?connect_timeout=2")


def test_with_the_database_down_a_job_logs_one_warning_line_and_stays_in_the_outbox_for_the_relay(own_database, monkeypatch, caplog):
    monkeypatch.setattr(queue, "_database", _down())
    caplog.clear()
    with own_database.session() as session:
        job_id = jobs.enqueue(session, "test.real_fault", marker="m").id  # handed to the (immediate) queue on commit

    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.levelno == logging.WARNING and not line.exc_info
    assert line.getMessage().startswith(f"baishitong.run_outbox_job (job {job_id}) stopped, database unavailable: ")
    assert "127.0.0.1" in line.getMessage() and "\n" not in line.getMessage()
    with own_database.session(write=False) as session:
        row = session.get(OutboxJob, job_id)
        assert row.attempts == 0 and row.done_at is None and row.failed_at is None
        assert job_id in jobs.pending(session)  # the relay sends it again once the database is back


def test_with_the_database_down_each_minutes_tasks_log_one_warning_line_each(monkeypatch, caplog):
    from baishitong.text import embedding

    monkeypatch.setattr(queue, "_database", _down())
    monkeypatch.setattr(embedding, "available", lambda: True)
    caplog.clear()
    queue.relay_outbox()
    queue.tick()
    queue.embed()
    queue.purge_idempotency_keys()

    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in lines] == [f"baishitong.{name} stopped, database unavailable" for name in ("relay", "tick", "embed", "purge_idempotency_keys")]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in lines)


def test_any_other_error_in_a_periodic_task_keeps_hueys_traceback(monkeypatch, caplog):
    from baishitong.jobs import periodic

    def broken(db):
        raise RuntimeError("a bug in the tick")

    monkeypatch.setattr(periodic, "run_periodic", broken)
    caplog.clear()
    queue.tick()
    [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert line.levelno == logging.ERROR and "RuntimeError: a bug in the tick" in line.exc_text

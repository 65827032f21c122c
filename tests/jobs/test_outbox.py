"""Jobs are sent only after the transaction that created them commits."""

import threading

import pytest
from sqlalchemy import select

from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import job

RUNS: list[str] = []


@job("test.record")
def record(session, *, marker: str) -> None:
    RUNS.append(marker)


def test_job_of_a_rolled_back_transaction_never_runs(database):
    RUNS.clear()
    with pytest.raises(RuntimeError):
        with database.session() as session:
            jobs.enqueue(session, "test.record", marker="rolled-back")
            raise RuntimeError("the request failed after enqueueing")
    with database.session() as session:
        jobs.enqueue(session, "test.record", marker="committed")
    assert RUNS == ["committed"]
    with database.session(write=False) as session:
        markers = [row.payload["marker"] for row in session.scalars(select(OutboxJob).where(OutboxJob.name == "test.record"))]
    assert markers == ["committed"]


def test_a_done_job_is_not_run_again_when_redelivered(database):
    RUNS.clear()
    with database.session() as session:
        row = jobs.enqueue(session, "test.record", marker="once")
    assert RUNS == ["once"]
    assert jobs.execute(database, row.id) is False
    assert RUNS == ["once"]


def test_dedupe_key_enqueues_once(database):
    RUNS.clear()
    for _ in range(3):
        with database.session() as session:
            jobs.enqueue(session, "test.record", dedupe_key="test:dedupe:1", marker="deduped")
    assert RUNS == ["deduped"]


def test_same_dedupe_key_in_two_transactions_at_once_spoils_neither(database):
    """On PostgreSQL the second insert waits for the first transaction and then finds the key taken."""
    RUNS.clear()
    flushed, release = threading.Event(), threading.Event()

    def first():
        with database.session() as session:
            jobs.enqueue(session, "test.record", dedupe_key="test:race", marker="first")
            flushed.set()
            release.wait(5)

    holder = threading.Thread(target=first)
    holder.start()
    assert flushed.wait(5)
    threading.Timer(0.5, release.set).start()
    with database.session() as session:
        assert jobs.enqueue(session, "test.record", dedupe_key="test:race", marker="second") is None
        jobs.enqueue(session, "test.record", marker="the rest of the second transaction")
    holder.join()
    assert sorted(RUNS) == ["first", "the rest of the second transaction"]

"""Enqueue inside the transaction, send after commit, run once per job row."""

import logging
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.db import Database, after_commit
from baishitong.jobs import queue
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import run_handler

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(minutes=5)


def enqueue(session: Session, name: str, *, dedupe_key: str | None = None, **payload) -> OutboxJob | None:
    """Writes the job into this transaction; it reaches the queue only if the transaction commits.

    With a dedupe key that was already used, nothing is enqueued and None is returned.
    """
    if dedupe_key is not None and session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == dedupe_key)):
        return None
    row = OutboxJob(name=name, payload=payload, dedupe_key=dedupe_key)
    session.add(row)
    session.flush()
    job_id = row.id
    after_commit(session, lambda: queue.send(job_id))
    return row


def execute(db: Database, job_id: int) -> bool:
    """Runs one outbox job in its own transaction; a job already done is skipped."""
    with db.session() as session:
        row = session.get(OutboxJob, job_id)
        if row is None or row.done_at is not None:
            return False
        row.attempts += 1
        try:
            with session.begin_nested():
                run_handler(session, row.name, row.payload)
        except Exception as exc:
            # The handler's changes are undone; the error stays on the row and the queue retries.
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            session.commit()
            raise
        row.done_at = clock.now()
        row.last_error = None
    return True


def pending(session: Session, *, older_than: timedelta = RESEND_AFTER, limit: int = 500) -> list[int]:
    """Jobs never sent, or sent long ago and still not done (the worker died, the send was lost)."""
    cutoff = clock.now() - older_than
    rows = session.scalars(
        select(OutboxJob.id)
        .where(OutboxJob.done_at.is_(None), or_(OutboxJob.sent_at.is_(None), OutboxJob.sent_at < cutoff))
        .order_by(OutboxJob.id)
        .limit(limit)
    )
    return list(rows)


def mark_sent(db: Database, job_ids: list[int]) -> None:
    if not job_ids:
        return
    with db.session() as session:
        for row in session.scalars(select(OutboxJob).where(OutboxJob.id.in_(job_ids))):
            row.sent_at = clock.now()


def relay(db: Database) -> int:
    """Sends every pending outbox job to the queue again; run periodically by the worker."""
    with db.session(write=False) as session:
        ids = pending(session)
    for job_id in ids:
        queue.send(job_id, mark=False)
    mark_sent(db, ids)
    return len(ids)

"""Enqueue inside the transaction, send after commit, run once per job row."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.db import Database, after_commit, database_unavailable, unavailable_reason
from baishitong.errors import Conflict
from baishitong.jobs import queue
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import handler_for, run_handler, runs_outside_transaction
from baishitong.logs import mask_secrets_in_text

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(minutes=5)


def enqueue(session: Session, name: str, *, dedupe_key: str | None = None, **payload) -> OutboxJob | None:
    """Writes the job into this transaction; it reaches the queue only if the transaction commits.

    With a dedupe key that was already used, nothing is enqueued and None is returned.
    """
    if dedupe_key is not None and session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == dedupe_key)):
        return None
    row = OutboxJob(name=name, payload=payload, dedupe_key=dedupe_key)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # A concurrent transaction enqueued the same key after our look-up: theirs stands, ours carries on.
        return None
    job_id = row.id
    after_commit(session, lambda: queue.send(job_id, name=name))
    return row


MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=1)  # then 2, 4 and 8 minutes between the five attempts


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When a failed attempt is tried again (jobs, and the messages they send); None once MAX_ATTEMPTS are spent."""
    return None if attempts >= MAX_ATTEMPTS else now + RETRY_BASE * 2 ** (attempts - 1)

# A job that waits on the outside world runs outside a transaction: it holds the job this long, so a second
# worker does not start it too, and a worker killed mid-run frees it when the lease runs out.
LEASE = RESEND_AFTER


def _runnable(row: OutboxJob, now) -> bool:
    return row.done_at is None and row.failed_at is None and (row.next_attempt_at is None or row.next_attempt_at <= now)


def _finish(row: OutboxJob, error: Exception | None) -> None:
    now = clock.now()
    if error is None:
        row.done_at, row.next_attempt_at, row.last_error = now, None, None
        return
    # Shown under 失败的后台任务 on 消息发件箱: an error text may quote the message or order it failed on, with
    # the number, or the alert or reply-file link, in it.
    row.last_error = mask_secrets_in_text(f"{type(error).__name__}: {error}")[:2000]
    row.next_attempt_at = retry_at(row.attempts, now)
    if row.next_attempt_at is None:
        row.failed_at = now


def _log_failure(job_id: int, name: str, error: Exception) -> None:
    """The database away (restarting, locked past its timeout) is one line with the driver's reason: the job is tried
    again as after any failure, and a traceback per job while it is away would flood a small server's log."""
    if database_unavailable(error):
        log.warning("job %s (%s) failed, database unavailable: %s", job_id, name, unavailable_reason(error))
    else:
        log.error("job %s (%s) failed", job_id, name, exc_info=error)


def execute(db: Database, job_id: int) -> bool:
    """Runs one outbox job once: its row is locked while the job's transaction runs, so a second worker handed
    the same job waits and then finds it done. A failure is retried after a backoff, and after MAX_ATTEMPTS the
    job is given up and listed for the admin; a job done, given up or waiting out its backoff is skipped."""
    with db.session() as session:
        row = session.get(OutboxJob, job_id, with_for_update=True)
        if row is None or not _runnable(row, clock.now()):
            return False
        row.attempts += 1
        name, payload = row.name, dict(row.payload)
        if runs_outside_transaction(name):
            row.next_attempt_at = clock.now() + LEASE
        else:
            error = None
            try:
                with session.begin_nested():
                    run_handler(session, name, payload)
            except Exception as exc:  # the handler's changes are undone; the error stays on the row
                _log_failure(job_id, name, exc)
                error = exc
            _finish(row, error)
            return error is None
    error = None
    try:
        handler_for(name)(db, **payload)
    except Exception as exc:
        _log_failure(job_id, name, exc)
        error = exc
    with db.session() as session:
        _finish(session.get(OutboxJob, job_id, with_for_update=True), error)
    return error is None


def pending(session: Session, *, older_than: timedelta = RESEND_AFTER, limit: int = 500) -> list[int]:
    """Jobs never sent, sent long ago and still not done (the send was lost), or due again after a failed
    attempt or an expired lease (the worker died mid-run); never those done or given up."""
    now = clock.now()
    rows = session.scalars(
        select(OutboxJob.id)
        .where(
            OutboxJob.done_at.is_(None),
            OutboxJob.failed_at.is_(None),
            or_(
                OutboxJob.next_attempt_at <= now,
                and_(OutboxJob.next_attempt_at.is_(None), or_(OutboxJob.sent_at.is_(None), OutboxJob.sent_at < now - older_than)),
            ),
        )
        .order_by(OutboxJob.id)
        .limit(limit)
    )
    return list(rows)


def mark_sent(db: Database, job_ids: list[int]) -> None:
    """Records the hand-over; a job that was due again is now the queue's, to be run once more."""
    if not job_ids:
        return
    now = clock.now()
    with db.session() as session:
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(job_ids)).values(sent_at=now))
        session.execute(update(OutboxJob).where(OutboxJob.id.in_(job_ids), OutboxJob.next_attempt_at <= now).values(next_attempt_at=None))


def failed(session: Session, *, limit: int = 100) -> list[OutboxJob]:
    """Jobs given up after MAX_ATTEMPTS, latest first: what the admin must look into."""
    return list(session.scalars(select(OutboxJob).where(OutboxJob.failed_at.is_not(None)).order_by(OutboxJob.failed_at.desc(), OutboxJob.id.desc()).limit(limit)))


def retry(session: Session, *, job_id: int, actor: str) -> OutboxJob:
    """重新执行: the admin has fixed the cause (a gateway address, a unit's data); the job gets its attempts back
    and goes to the queue once this transaction commits."""
    from baishitong.audit import service as audit

    row = session.get(OutboxJob, job_id, with_for_update=True)
    if row is None or row.failed_at is None:
        raise Conflict("job_not_failed", "该后台任务不在失败列表中，可能已重新执行")
    # Masked again, as a row may have been written by an older version (migration 0034 masked those stored before).
    error = mask_secrets_in_text(row.last_error)
    audit.record(session, actor=actor, action="job.retry", object_type="job", object_id=str(row.id), data={"name": row.name, "attempts": row.attempts, "last_error": error})
    row.failed_at, row.next_attempt_at, row.attempts, row.sent_at = None, None, 0, None
    session.flush()
    name = row.name
    after_commit(session, lambda: queue.send(job_id, name=name))
    return row


def relay(db: Database) -> int:
    """Sends every pending outbox job to the queue again; run periodically by the worker."""
    with db.session(write=False) as session:
        ids = pending(session)
        names = dict(session.execute(select(OutboxJob.id, OutboxJob.name).where(OutboxJob.id.in_(ids))).all())
    for job_id in ids:
        queue.send(job_id, name=names[job_id], mark=False)
    mark_sent(db, ids)
    return len(ids)

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from baishitong.db import Base, utcnow


class OutboxJob(Base):
    """A job written in the same transaction as the change that caused it.

    The queue only hears of it after commit; a row that is never marked done is
    sent again by the relay, and handlers are idempotent, so delivery is at least once.
    A job that keeps failing waits out a growing backoff (`next_attempt_at`) and after
    MAX_ATTEMPTS is given up (`failed_at`), with its error shown to the admin.
    """

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_pending", "done_at", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(default=dict)
    # Jobs with the same dedupe key are enqueued once (e.g. one urge per ticket and deadline).
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    # Not run before this: a failed attempt's backoff, or the lease of a run in progress.
    next_attempt_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

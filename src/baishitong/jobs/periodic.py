"""Time-driven work, run once a minute by the worker and idempotent by construction."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.db import Database
from baishitong.tickets.service import LOCAL_TZ

REMINDER_HOURS = (9, 20)
PERIODIC_LOCK = 12345001


def _take_turns(session: Session) -> None:
    """Every worker process runs the minute tick: two at once take turns, so the second sees what the first
    did (a reminder texted, a retry queued) instead of doing it again. SQLite's write transactions already
    take turns."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PERIODIC_LOCK})


def run_periodic(db: Database) -> dict[str, int]:
    from baishitong.analytics import service as analytics
    from baishitong.enterprise import alerts
    from baishitong.knowledge import service as knowledge
    from baishitong.notify import service as notify
    from baishitong.points import appointments
    from baishitong.sla import service as sla

    now = clock.now()
    with db.session() as session:
        _take_turns(session)
        paused = sla.refresh_paused(session)
        counts = sla.check_deadlines(session, now=now)
        counts["paused_refreshed"] = paused
        counts["retries"] = notify.retry_due(session, now=now)
        knowledge.review_reminders(session, today=knowledge.today())
        appointments.mark_no_shows(session, now=now)
        counts["lapsed_subscriptions"] = alerts.expire_lapsed(session, now=now)
        # Day-before reminders go out in the daytime, not at midnight.
        if REMINDER_HOURS[0] <= now.astimezone(LOCAL_TZ).hour < REMINDER_HOURS[1]:
            appointments.send_reminders(session, now=now)
    # Its own transaction: a slow clustering run must not hold back the deadline work above.
    with db.session() as session:
        _take_turns(session)
        counts["hot_topics"] = analytics.refresh_stale_hot_topics(session, now=now)
    return counts

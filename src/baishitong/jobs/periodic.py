"""Time-driven work, run once a minute by the worker and idempotent by construction."""

from baishitong import clock
from baishitong.db import Database


def run_periodic(db: Database) -> dict[str, int]:
    from baishitong.notify import service as notify
    from baishitong.sla import service as sla

    now = clock.now()
    with db.session() as session:
        counts = sla.check_deadlines(session, now=now)
        counts["retries"] = notify.retry_due(session, now=now)
    return counts

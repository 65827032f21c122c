"""Background jobs of analytics."""

from sqlalchemy.orm import Session

from baishitong.analytics import service
from baishitong.jobs.registry import job


@job(service.HOT_JOB)
def hot_topics(session: Session, *, window_days: int) -> None:
    """A supervisor's 立即刷新: one more snapshot, harmless if it runs twice."""
    service.compute_hot_topics(session, window_days=window_days)

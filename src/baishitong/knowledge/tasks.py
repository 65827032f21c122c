"""Background work of the knowledge base: review reminders (sentence vectors: `vectors`)."""

from sqlalchemy.orm import Session

from baishitong.jobs.registry import job
from baishitong.knowledge import service


@job(service.REVIEW_JOB)
def review_reminder(session: Session, *, article_id: int, due: str) -> None:
    """Runs once per outbox row (the row is marked done in the same transaction), so a unit hears once per due date."""
    service.send_review_reminder(session, article_id=article_id, due=due)

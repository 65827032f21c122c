"""Background routing work."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from baishitong.jobs.registry import job
from baishitong.routing import service
from baishitong.routing.models import RouterModel


@job("routing.retrain")
def retrain(session: Session, *, label: str, actor: str, request_key: str) -> None:
    """Trains from the database; a re-run of the same request finds its model and does nothing. The new
    model replaces the active one only if it is not worse; otherwise it waits on the models page."""
    if session.scalar(select(RouterModel.id).where(RouterModel.request_key == request_key)) is not None:
        return
    row = service.train_from_database(session, label=label, actor=actor, request_key=request_key, activate_now=False)
    reason = service.reason_not_to_replace(session, candidate=row)
    if reason is None:
        service.activate(session, version=row.version, actor=actor)
    else:
        row.note = f"{row.note}；未自动启用：{reason}"

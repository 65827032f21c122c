from sqlalchemy.orm import Session

from baishitong.jobs.registry import job
from baishitong.sla import service


@job("sla.recompute_open")
def recompute_open(session: Session, *, reason: str = "") -> None:
    service.recompute_open(session)

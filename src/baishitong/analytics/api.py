from datetime import date, datetime, time

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.analytics import service
from baishitong.deps import current_actor, get_db_session
from baishitong.errors import Forbidden
from baishitong.tickets.service import LOCAL_TZ

router = APIRouter(prefix="/api/v1/stats", tags=["统计"])


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ) if day else None


@router.get("/units")
def unit_rates(
    since: date | None = Query(default=None, alias="from", description="起始日期（含），YYYY-MM-DD"),
    until: date | None = Query(default=None, alias="to", description="截止日期（不含），YYYY-MM-DD"),
    unit: str | None = None,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
):
    """On-time signing and reply, resolution, satisfaction and return rates per unit."""
    if actor.is_unit_staff:
        if unit and unit != actor.unit_code:
            raise Forbidden("not_your_unit", "只能查看本单位的统计")
        unit = actor.unit_code
    return {"from": since, "to": until, "units": service.unit_rates(session, since=_start(since), until=_start(until), unit_code=unit)}

from datetime import date, datetime, time

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.analytics import schemas, service
from baishitong.bounds import Day
from baishitong.deps import current_actor, get_db_session
from baishitong.errors import Forbidden, InvalidInput
from baishitong.tickets.service import LOCAL_TZ

router = APIRouter(prefix="/api/v1/stats", tags=["统计"])


def _start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ) if day else None


@router.get("/units")
def unit_rates(
    since: Day | None = Query(default=None, alias="from", description="派单日期起（含），YYYY-MM-DD，北京时间"),
    until: Day | None = Query(default=None, alias="to", description="派单日期止（不含：to=2026-12-01 统计到 11 月 30 日为止），YYYY-MM-DD，北京时间；不晚于 from 时 422"),
    unit: str | None = None,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
):
    """On-time signing and reply, resolution, satisfaction and return rates per unit.

    Orders are counted by their latest dispatch time (派单时间), not by when they were received: those dispatched
    from the start of `from` (Beijing time) up to, but not including, the start of `to` — `to` is excluded, so
    `from=2026-11-01&to=2026-12-01` is all of November. Merged orders are left out (they count for their master's
    unit); an order a unit returned in the period stays in its `dispatched` and `returns` after it is sent elsewhere.
    A `to` not after `from` (no day at all, as `from=to` is with `to` excluded) is refused with 422 `invalid_filter`
    rather than answered with every rate empty."""
    if since and until and until <= since:
        raise InvalidInput("invalid_filter", "统计期间为空：to 不含当天，须晚于 from（统计一天请把 to 设为次日）", details={"field": "to"})
    if actor.is_unit_staff:
        if unit and unit != actor.unit_code:
            raise Forbidden("not_your_unit", "只能查看本单位的统计")
        unit = actor.unit_code
    return {"from": since, "to": until, "units": service.unit_rates(session, since=_start(since), until=_start(until), unit_code=unit)}


HOT_TOPIC_ROLES = ("operator", "supervisor", "admin")


def _hot_topic_reader(actor: Actor = Depends(current_actor)) -> Actor:
    """Topics span every unit's work, so department staff, who see only their own, are not shown them."""
    if actor.role not in HOT_TOPIC_ROLES:
        raise Forbidden("hot_topics_forbidden", "热点诉求仅对12345中心话务、督办和管理人员开放")
    return actor


def _window(window_days: int) -> int:
    if window_days not in service.HOT_WINDOWS:
        raise InvalidInput("invalid_window", "统计周期只能是 1、7 或 30 天")
    return window_days


@router.get("/hot-topics", response_model=schemas.HotTopicsOut)
def hot_topics(window_days: int = Query(7, description=schemas.WINDOW_DAYS, json_schema_extra={"enum": list(service.HOT_WINDOWS)}), actor: Actor = Depends(_hot_topic_reader), session: Session = Depends(get_db_session)):
    """The latest computed hot topics of the period, hottest first (recomputed hourly by the worker)."""
    return schemas.HotTopicsOut.of(window_days, service.latest_hot_topics(session, window_days=_window(window_days)))


@router.post("/hot-topics/refresh", response_model=schemas.RefreshOut, status_code=202)
def refresh_hot_topics(data: schemas.RefreshIn, actor: Actor = Depends(_hot_topic_reader), session: Session = Depends(get_db_session)):
    """Queues a recomputation now instead of waiting for the hourly run."""
    return schemas.RefreshOut(window_days=data.window_days, queued=service.request_hot_topics(session, window_days=_window(data.window_days)))

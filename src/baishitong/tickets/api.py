from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from baishitong import idempotency, validation_text
from baishitong.bounds import MAX_PAGE, Day
from baishitong.actors import REQUESTER, Actor
from baishitong.attachments import service as attachments
from baishitong.config import Settings
from baishitong.deps import current_actor, get_db_session, get_settings, optional_actor, rate_limit
from baishitong.errors import InvalidInput
from baishitong.routing import service as routing
from baishitong.tickets import cases, schemas, service
from baishitong.tickets.states import STATUS_LABELS, TRANSITIONS, Status

router = APIRouter(prefix="/api/v1", tags=["工单"])


@router.post(
    "/tickets",
    status_code=201,
    response_model=schemas.TicketOut,
    responses=idempotency.replayed_response(schemas.TicketOut),
    dependencies=[rate_limit("intake", "intake_rate_limit_per_minute")],
)
def create_ticket(
    data: schemas.TicketCreate,
    response: Response,
    session: Session = Depends(get_db_session),
    staff: Actor | None = Depends(optional_actor),
    idempotency_key: idempotency.Key = None,
):
    """Public intake (no login needed). With a staff or integration token the intake is recorded as theirs.

    A retry with the same Idempotency-Key returns the same ticket (200). Without a token, the very same request
    (type, title, content, place, name, phone, 匿名/保密) sent again within 10 minutes returns the order already
    registered (200) under any key: a citizen's app resending it is not a second order.

    `assistant_session_id` links the order to the 在线咨询 conversation it is made from (来源会话), as the web's 转为工单
    does: the `session_id` of `POST /assistant/ask`, which the 转为工单 action's `prefill` already carries. Without a
    token it is the citizen's own (the id is their key to it); with a token of the centre's chat staff, who see every
    conversation in the queue, one that user serves; unit staff link none. An unknown one → 404, another's → 403, and
    nothing is registered.
    """
    if staff is None:
        service.check_self_service(data)
    actor = staff or REQUESTER
    ticket, created = service.create_ticket(session, data=data, actor=actor, idempotency_key=idempotency_key, self_service=staff is None)
    if not created:
        response.status_code = 200
    return service.to_out(ticket, actor)


@router.post("/track", response_model=schemas.TrackOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")])
def track(data: schemas.TrackIn, session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings)):
    """进度查询: the phone travels in the body, since proxies, browser histories and access logs keep a URL."""
    return track_out(session, settings, service.track(session, number=data.number, phone=data.phone))


@router.get("/track", response_model=schemas.TrackOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")], deprecated=True)
def track_by_query(number: str = Query(max_length=20), phone: str = Query(max_length=32), session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings)):
    """For apps written against it before POST /track: the phone in the URL ends up in logs along the way."""
    return track_out(session, settings, service.track(session, number=number, phone=phone))


@router.post("/track/callback", response_model=schemas.TrackOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")])
def public_callback(data: schemas.PublicCallbackIn, session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings), idempotency_key: idempotency.Key = None):
    """The requester's rating; a retry with the same Idempotency-Key gets the first answer back instead of 409 already_rated."""
    scope, body = idempotency.scope("track.callback", target=data.number), data.model_dump(mode="json")
    if idempotency.replayed(session, scope=scope, key=idempotency_key, body=body) is not None:
        return track_out(session, settings, service.track(session, number=data.number, phone=data.phone))
    ticket = service.public_callback(session, number=data.number, phone=data.phone, solved=data.solved, satisfaction=data.satisfaction)
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=ticket.number)
    return track_out(session, settings, ticket)


def track_out(session: Session, settings: Settings, ticket) -> schemas.TrackOut:
    return schemas.TrackOut(
        number=ticket.number,
        status=ticket.status,
        status_label=STATUS_LABELS[Status(ticket.status)],
        type=ticket.type,
        title=ticket.title,
        created_at=ticket.created_at,
        unit=unit.name if (unit := service.handling_unit(ticket)) else None,
        reply=ticket.reply_content,
        callback_due=service.callback_due(ticket),
        callback={"solved": ticket.callback_solved, "satisfaction": ticket.callback_satisfaction} if ticket.callback_at else None,
        timeline=service.requester_timeline(ticket),
        reply_files=[
            schemas.ReplyFileOut(name=a.original_name, content_type=a.content_type, size=a.size, url=attachments.requester_link(settings.secret_key, ticket=ticket, attachment=a))
            for a in attachments.reply_files(session, ticket=ticket)
        ],
    )


def _local_days(start: date | None, end: date | None, label: str, field: str) -> tuple[datetime | None, datetime | None]:
    """Whole local days, `end` included: the start of the first day and of the day after the last."""
    if start and end and end < start:
        raise InvalidInput("invalid_filter", f"{label}的结束日期不能早于开始日期", details={"field": field})
    return (datetime.combine(start, time(), service.LOCAL_TZ) if start else None, datetime.combine(end + timedelta(days=1), time(), service.LOCAL_TZ) if end else None)


@router.get("/tickets", response_model=schemas.TicketPage)
def list_tickets(
    status: Annotated[list[str] | None, Query()] = None,
    type: str | None = None,
    channel: str | None = None,
    lead_unit: str | None = Query(default=None, description=f"承办单位编码；`{service.NONE}`：未派单（尚无承办单位）的工单"),
    category: str | None = Query(default=None, max_length=20, description=f"分类编码（含其下各级，按编码前缀；没有分类以它开头时 404）；`{service.NONE}`：未分类的工单"),
    category_root: str | None = Query(
        default=None,
        max_length=20,
        description=f"分类编码（含其下各级，按上级分类逐级包含，与工单查询的“分类”、统计分析的分类计数相同；分类不存在时 404）；`{service.NONE}`：未分类的工单",
    ),
    region: str | None = Query(default=None, description=f"镇街或村居编码（镇街含其下村居）；`{service.NONE}`：未定位的工单"),
    q: str | None = Query(default=None, max_length=100),
    overdue: bool | None = None,
    created_from: Day | None = Query(default=None, description="受理日期起（含），YYYY-MM-DD，北京时间；与统计分析的受理量按同样的日期计"),
    created_to: Day | None = Query(default=None, description="受理日期止（含：created_to=2026-11-30 包括 11 月 30 日全天），YYYY-MM-DD，北京时间；早于 created_from 时 422"),
    dispatched_from: Day | None = Query(default=None, description="派单日期起（含），YYYY-MM-DD，北京时间；按最近一次派单计，与督办台承办单位排名相同"),
    dispatched_to: Day | None = Query(default=None, description="派单日期止（含：dispatched_to=2026-11-30 包括 11 月 30 日全天），YYYY-MM-DD，北京时间；早于 dispatched_from 时 422"),
    callback: bool | None = Query(default=None, description="true：已回访（有回访评价，即督办台承办单位排名的回访数；拒绝评价、未接通的不算）；false：未回访"),
    matters: bool = Query(default=False, description="true：不含并单和作废的工单（只计诉求事项，与统计分析的计数相同）；false 或不传：全部"),
    page: int = Query(default=1, ge=1, le=MAX_PAGE),
    per_page: int = Query(default=20, ge=1, le=200),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
):
    """Orders the caller may see, newest first, with the filters of 工单查询: `created_*` (受理日期) and `dispatched_*`
    (派单日期) are whole days, both included (unlike /stats/units, whose `to` is excluded); `none` for `lead_unit`,
    `category`, `category_root` or `region` lists the orders without one (未派单, 未分类, 未定位). `category_root` is the
    page's 分类 (the category and all under it by parent); `category`, kept for existing clients, matches by code prefix."""
    created_since, created_until = _local_days(created_from, created_to, "受理日期", "created_to")
    since, until = _local_days(dispatched_from, dispatched_to, "派单日期", "dispatched_to")
    given = lambda value: value if value != service.NONE else None  # noqa: E731
    items, total = service.list_tickets(
        session,
        actor=actor,
        status=status,
        type=type,
        channel=channel,
        lead_unit=given(lead_unit),
        category_prefix=given(category),
        category_root=given(category_root),
        region_code=given(region),
        without=sorted({name for name, value in (("lead_unit", lead_unit), ("category", category), ("category", category_root), ("region", region)) if value == service.NONE}),
        query_text=q,
        overdue=overdue,
        created_from=created_since,
        created_to=created_until,
        dispatched_from=since,
        dispatched_to=until,
        callback=callback,
        matters_only=matters,
        page=page,
        per_page=per_page,
    )
    repeats = service.repeat_calls(session, ticket_ids=[t.id for t in items])
    return schemas.TicketPage(items=[service.to_out(t, actor, repeat_calls=repeats.get(t.id, 0)) for t in items], total=total, page=page, per_page=per_page)


@router.get("/tickets/{number}", response_model=schemas.TicketOut)
def get_ticket(number: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    ticket = service.get_ticket(session, number=number, actor=actor)
    repeats = service.repeat_call_count(session, ticket_id=ticket.id)
    return service.to_out(ticket, actor, with_events=True, routing=routing.latest_decision_out(session, ticket=ticket), repeat_calls=repeats)


@router.post("/tickets/{number}/requester", response_model=schemas.RequesterOut)
def reveal_requester(
    number: str,
    data: schemas.RequesterRevealIn | None = None,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
):
    """Unmasked contact details; every call is written to the audit trail."""
    return service.reveal_requester(session, number=number, actor=actor, purpose=data.purpose if data else None)


@router.get("/tickets/{number}/personal-data-views")
def personal_data_views(number: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    ticket = service.get_ticket(session, number=number, actor=actor)
    return service.personal_data_views(session, ticket=ticket)


@router.get("/tickets/{number}/similar-cases", response_model=list[schemas.CaseOut])
def similar_cases(number: str, limit: Annotated[int, Query(ge=1, le=20)] = 5, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    """类案参考: answered orders about the same matter with their replies (a unit's staff: their unit's only)."""
    ticket = service.get_ticket(session, number=number, actor=actor)
    return [schemas.CaseOut(**vars(c)) for c in cases.similar_cases(session, ticket=ticket, actor=actor, limit=limit)]


ACT_DESCRIPTION = (
    "One action on a work order; the body carries the `version` the actor saw. Actions that change the order "
    "answer 409 `version_conflict` when someone acted in between, unless all that came in between is what the action tolerates ("
    + "; ".join(f"{name}: {', '.join(sorted(t.tolerates))}" for name, t in TRANSITIONS.items() if t.tolerates)
    + "). The append-only ones ("
    + ", ".join(name for name, t in TRANSITIONS.items() if t.append_only)
    + ") accept a stale version and leave it unchanged, so they never make anyone else's form stale. "
    "Wrong role or unit → 403, checked before the version; wrong state → 409 `invalid_state`. A retry with the same `Idempotency-Key` "
    "(per order, action and user) does not act again: it answers with the order as it is now."
)


# What `act` takes: every transition but the intake itself (an unknown one → 404 unknown_action).
ACTIONS = [name for name in TRANSITIONS if name != "register"]


def _action_bodies() -> dict:
    """The body each action reads (schemas.ACTION_BODIES, ActionIn for the others), for the documentation: the route
    takes any object and validates it by action, so FastAPI alone would describe the body as any object at all."""
    names: dict[type[schemas.ActionIn], list[str]] = {}
    for action in ACTIONS:
        names.setdefault(schemas.ACTION_BODIES.get(action, schemas.ActionIn), []).append(action)
    variants = [
        {**model.model_json_schema(), "title": model.__name__, "description": "用于：" + "、".join(used_by)}
        for model, used_by in names.items()
    ]
    return {"required": True, "content": {"application/json": {"schema": {"anyOf": variants}}}}


@router.post(
    "/tickets/{number}/actions/{action}",
    response_model=schemas.TicketOut,
    description=ACT_DESCRIPTION,
    openapi_extra={"requestBody": _action_bodies()},
)
def act(
    number: str,
    action: Annotated[str, Path(description="操作名；请求体的字段随操作而定（见请求体各结构的“用于”）", json_schema_extra={"enum": ACTIONS})],
    body: Annotated[dict, Body()],
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
    idempotency_key: idempotency.Key = None,
):
    model = schemas.ACTION_BODIES.get(action, schemas.ActionIn)
    try:
        parsed = model.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput("invalid_body", validation_text.summary(exc.errors()), details={"errors": exc.errors(include_url=False, include_context=False, include_input=False)}) from None
    # Checked before the version: a retried reply would otherwise get 409 version_conflict from its own first attempt.
    scope, fields = idempotency.scope(f"tickets.{action}", target=number, actor=actor), parsed.model_dump(mode="json")
    if idempotency.replayed(session, scope=scope, key=idempotency_key, body=fields) is not None:
        ticket = service.get_ticket(session, number=number, actor=actor)
    else:
        ticket = service.act(session, number=number, action=action, actor=actor, body=parsed)
        idempotency.remember(session, scope=scope, key=idempotency_key, body=fields, resource_id=ticket.number)
    return service.to_out(ticket, actor, with_events=True, repeat_calls=service.repeat_call_count(session, ticket_id=ticket.id))

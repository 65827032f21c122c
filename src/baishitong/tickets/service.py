"""The work-order lifecycle. Every status change goes through `transition()`."""

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import set_committed_value

from baishitong import hooks, idempotency
from baishitong.actors import REQUESTER, Actor
from baishitong.actors import SYSTEM as ACTING_SYSTEM  # the Actor; states.SYSTEM is its role
from baishitong.assistant.models import AssistantSession
from baishitong.audit import service as audit
from baishitong.config import get_settings
from baishitong.db import claim_version, utcnow
from baishitong.errors import BadChoice, Conflict, Forbidden, InvalidInput, NotFound
from baishitong.org import service as org
from baishitong.org.models import Category, Region, Unit, User
from baishitong.security import mask_id_number, mask_name, mask_numbers_in_text, mask_phone
from baishitong.tickets import schemas
from baishitong.tickets.models import Ticket, TicketCoUnit, TicketEvent, TicketSequence
from baishitong.tickets.states import (
    CENTRE,
    EVENT_LABELS,
    FINAL_STATUSES,
    MISSED_CALLBACKS_TO_CLOSE,
    NOT_MATTERS,
    STATUS_LABELS,
    SYSTEM,
    TRANSITIONS,
    Party,
    Status,
    Transition,
    target_status,
)
from baishitong.tickets.validation import normalise_phone

if TYPE_CHECKING:
    from baishitong.routing.service import LeadHint

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Anonymous intake's keys are stored under this scope, an account's under it plus ":user<id>" (idempotency.scope);
# Open311's token lookup reads both.
CREATE_SCOPE = "tickets.create"
# Roles that need the requester's contact details to do their job (call back, contact).
CONTACT_ROLES = {"operator", "supervisor", "admin", "handler", "unit_admin"}


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def next_number(session: Session, *, day: date | None = None) -> str:
    """SD + date + daily sequence; an atomic upsert so concurrent intakes never collide."""
    day = day or local_today()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(TicketSequence)
        .values(day=day, value=1)
        .on_conflict_do_update(index_elements=["day"], set_={"value": TicketSequence.value + 1})
        .returning(TicketSequence.value)
    )
    value = session.execute(statement).scalar_one()
    return f"SD{day:%Y%m%d}{value:04d}"


SELF_SERVICE_CHANNELS = ("web", "wechat", "app", "enterprise")
# A version conflict (409): the change in between may be the same person's, sent from another tab or window.
STALE_MESSAGE = "工单刚刚已被更新（可能是您在其他窗口的操作或他人的操作），请刷新后再试"


def check_self_service(data: schemas.TicketCreate) -> None:
    """What only staff decide: an anonymous request cannot claim the hotline, mark itself urgent (which
    shortens every unit's time limit) or pick its category past the router. A doorstep point's kiosk
    names its point (point_code), which makes the channel 门口办."""
    if data.channel not in SELF_SERVICE_CHANNELS:
        raise InvalidInput("channel_not_allowed", "未登录提交的诉求，渠道只能是 web、wechat、app 或 enterprise")
    if data.urgency != "normal":
        raise InvalidInput("urgency_not_allowed", "紧急程度由受理人员判定，未登录提交时请勿设置 urgency")
    if data.category_code:
        raise InvalidInput("classification_not_allowed", "问题分类由受理人员和智能分拨确定，未登录提交时请勿设置 category_code")


def create_ticket(
    session: Session,
    *,
    data: schemas.TicketCreate,
    actor: Actor,
    idempotency_key: str | None = None,
    auto_dispatch: bool = True,
    lead_hint: "LeadHint | None" = None,
    registered_on: date | None = None,
    self_service: bool = False,
    conversation_id: str | None = None,
) -> tuple[Ticket, bool]:
    """Registers a work order. Returns (ticket, created); a repeated idempotency key returns the first ticket.

    `self_service` is intake the citizen sends themselves (我要反映, the anonymous API, Open311): the very request
    sent again within `RESUBMIT_WINDOW` returns the order already registered (`just_submitted`), whatever its key.

    `auto_dispatch=False` is for an operator who answers, holds or dispatches the order themselves: the
    router's proposal is still recorded, but the order is not sent anywhere behind their back.
    `lead_hint` is a lead unit the intake already knows (routing.service.LeadHint).
    `registered_on` numbers an order taken on an earlier day (the demo's history) by that day, as its number says.
    `conversation_id` is the 在线咨询 conversation the order is made from (来源会话), one the caller has checked (the web's
    cookie, the console's chat); `data.assistant_session_id`, an API caller's, is checked here against `actor`
    (`linkable_conversation`) once the request is no replay. An order replayed keeps its own.
    """
    # Per account, as every other key: two integrations (or an operator and the web) may both number their keys 1, 2, 3.
    # Without a 来源会话 the body hashes as it did before the field was added, so a key stored then still replays.
    unlinked = {"assistant_session_id"} if data.assistant_session_id is None else None
    body, scope = data.model_dump(mode="json", exclude=unlinked), idempotency.scope(CREATE_SCOPE, actor=actor)
    first = idempotency.replayed(session, scope=scope, key=idempotency_key, body=body)
    if first is not None:
        return session.scalar(select(Ticket).where(Ticket.number == first)), False
    if data.assistant_session_id is not None:
        conversation_id = linkable_conversation(session, conversation_id=data.assistant_session_id, actor=actor)

    region = org.get_region(session, code=data.region_code) if data.region_code else None
    if region is None:
        region = hooks.locate_region(session, address=data.address, location=data.location)
    category = org.get_category(session, code=data.category_code) if data.category_code else None
    channel = data.channel
    if data.point_code:
        # A request taken at a doorstep point (门口办) counts towards that point's workload.
        hooks.require_point(session, code=data.point_code)
        channel = "doorstep"
    if self_service and (earlier := just_submitted(session, data=data, channel=channel, region=region, actor=actor)) is not None:
        # Its key now answers with that order too, so a retry of this very request replays as usual.
        idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=earlier.number)
        return earlier, False
    ticket = Ticket(
        number=next_number(session, day=registered_on),
        channel=channel,
        type=data.type,
        # The title is shown in every list and message, so a number said in the content never reaches it.
        title=mask_numbers_in_text(data.title) if data.title else _title_from(mask_numbers_in_text(data.content)),
        content=data.content,
        requester_name=None if data.anonymous else data.requester.name,
        requester_phone=data.requester.phone,
        requester_id_number=data.requester.id_number,
        anonymous=data.anonymous,
        confidential=data.confidential,
        address=data.address,
        lat=data.location.lat if data.location else None,
        lon=data.location.lon if data.location else None,
        region=region,
        category=category,
        urgency=data.urgency,
        point_code=data.point_code,
        assistant_session_id=conversation_id,
        status=Status.REGISTERED,
    )
    session.add(ticket)
    session.flush()
    transition(session, ticket, action="register", actor=actor, data={"channel": data.channel})
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=ticket.number)
    hooks.ticket_registered(session, ticket=ticket, actor=actor, auto_dispatch=auto_dispatch, lead_hint=lead_hint)
    return ticket, True


def linkable_conversation(session: Session, *, conversation_id: str, actor: Actor) -> str:
    """The 来源会话 an API caller names for its order. A conversation's random id is the citizen's only key to it
    (the assistant API reads the transcript to whoever holds it), so without a token holding the id is enough. The
    centre's chat staff see every id in the queue, so theirs must be one they serve, as the web links the
    conversation the console was opened from; unit staff never serve one, nor see one, and name none."""
    conversation = session.get(AssistantSession, conversation_id)
    if conversation is None:
        raise NotFound("assistant_session_not_found", "来源会话不存在，请核对 assistant_session_id（政务君返回的 session_id）")
    if actor.role == REQUESTER.role or (actor.role in CENTRE and conversation.operator == actor.name):
        return conversation.id
    if actor.role in CENTRE:
        raise Forbidden("conversation_not_linkable", "只能关联您本人接待的在线咨询会话，该会话不是您接待的")
    raise Forbidden("conversation_not_linkable", "承办单位的账号不能关联在线咨询会话：来源会话由市民本人或接待的话务员关联")


def made_from_conversation(session: Session, *, conversation_id: str) -> list[Ticket]:
    """The orders made from a 在线咨询 conversation, first first: the conversation page links to them."""
    return list(session.scalars(select(Ticket).where(Ticket.assistant_session_id == conversation_id).order_by(Ticket.id)))


# Back after 我要反映 shows the form again, refilled by the browser but with a new key: sent again, the same words
# from the same phone within this window are the order already registered, not a second one.
RESUBMIT_WINDOW = timedelta(minutes=10)


def _squash(text: str | None) -> str:
    return "".join((text or "").split())


def just_submitted(session: Session, *, data: schemas.TicketCreate, channel: str, region: Region | None, actor: Actor) -> Ticket | None:
    """The order this phone registered through `channel` and the same account (the public site's requester, or one
    integration) within `RESUBMIT_WINDOW` with the very same request: type, title, words, place, name and the
    匿名/保密 choices, spacing aside. Anything changed makes a new request, and two people reporting one matter
    are 并单's business, not this. A voided order is not returned."""
    title = mask_numbers_in_text(data.title) if data.title else None
    if title == _title_from(mask_numbers_in_text(data.content)):
        title = None  # typed as the one made from the words would be: stored alike, so compared alike
    wanted = (data.type, _squash(title) if title else None, _squash(data.content), _squash(data.address), region.id if region else None,
              None if data.anonymous else (data.requester.name or None), data.anonymous, data.confidential)
    candidates = session.scalars(
        select(Ticket)
        .where(Ticket.requester_phone == data.requester.phone, Ticket.channel == channel, Ticket.created_at >= utcnow() - RESUBMIT_WINDOW, Ticket.status != Status.VOIDED)
        .where(exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "register", TicketEvent.actor == actor.name))
        .order_by(Ticket.id.desc())
    )
    for ticket in candidates:
        # An order sent without a title has the one made from its words.
        title = None if ticket.title == _title_from(mask_numbers_in_text(ticket.content)) else _squash(ticket.title)
        have = (ticket.type, title, _squash(ticket.content), _squash(ticket.address), ticket.region_id,
                ticket.requester_name, ticket.anonymous, ticket.confidential)
        if have == wanted:
            return ticket
    return None


TITLE_CHARS = 40


def _title_from(content: str) -> str:
    """The message's first sentence; one cut short says so (…), so a list never reads as if it ended there."""
    first = content.strip().split("\n", 1)[0]
    for mark in "。！？!?；;":
        first = first.split(mark, 1)[0]
    first = first.strip() or content.strip()
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


# --- visibility and masking -------------------------------------------------


def _visible_to(query: Select, actor: Actor) -> Select:
    if actor.role in CENTRE:
        return query
    if actor.is_unit_staff and actor.unit_id is not None:
        co = select(TicketCoUnit.ticket_id).where(TicketCoUnit.unit_id == actor.unit_id)
        return query.where(
            or_(Ticket.lead_unit_id == actor.unit_id, Ticket.sub_unit_id == actor.unit_id, Ticket.id.in_(co))
        )
    return query.where(False)


def get_ticket(session: Session, *, number: str, actor: Actor) -> Ticket:
    """A number read out over the phone and typed in lower case, or with a space, is the same order."""
    number = number.strip().upper()
    ticket = session.scalar(_visible_to(select(Ticket), actor).where(Ticket.number == number))
    if ticket is None:
        raise NotFound("ticket_not_found", f"工单 {number} 不存在或无权查看")
    return ticket


def _check_filters(*, status: list[str] | None, type: str | None, channel: str | None) -> None:
    """An unknown value would match nothing and read as "no such orders"; it is refused, naming what is allowed."""
    for value in status or ():
        if value not in STATUS_LABELS:
            raise BadChoice("invalid_filter", field="status", what="工单状态", value=value, choices={s.value: label for s, label in STATUS_LABELS.items()})
    if type and type not in schemas.TYPES:
        raise BadChoice("invalid_filter", field="type", what="诉求类型", value=type, choices={t: t for t in schemas.TYPES})
    if channel and channel not in schemas.CHANNEL_LABELS:
        raise BadChoice("invalid_filter", field="channel", what="受理渠道", value=channel, choices=schemas.CHANNEL_LABELS)


# What an order can lack, by the name `list_tickets(without=...)` takes; NONE is the value of a list's unit,
# category or town filter (web and API) that asks for the orders without one.
NONE = "none"
WITHOUT = {"lead_unit": Ticket.lead_unit_id, "category": Ticket.category_id, "region": Ticket.region_id}


def list_tickets(
    session: Session,
    *,
    actor: Actor,
    status: list[str] | None = None,
    type: str | None = None,
    channel: str | None = None,
    lead_unit: str | None = None,
    category_prefix: str | None = None,
    category_root: str | None = None,
    region_code: str | None = None,
    query_text: str | None = None,
    overdue: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    dispatched_from: datetime | None = None,
    dispatched_to: datetime | None = None,
    without: Collection[str] = (),
    callback: bool | None = None,
    matters_only: bool = False,
    page: int = 1,
    per_page: int = 20,
) -> tuple[list[Ticket], int]:
    """`category_root` and `matters_only` select as 统计分析 counts (a category with everything under it by parent,
    merged and voided orders left out), so a figure there and the list it links to agree. `without` names what the
    orders lack (WITHOUT: 未派单, 未分类, 未定位); `dispatched_*` bound the latest dispatch, as the 督办台 league counts;
    `callback` True keeps the orders with a callback rating on record (有回访评价, the league's 回访数, in any status,
    closed and archived too, not only the status 已回访; a declined or missed callback is none), False those without."""
    _check_filters(status=status, type=type, channel=channel)
    query = _visible_to(select(Ticket), actor)
    if status:
        query = query.where(Ticket.status.in_(status))
    if type:
        query = query.where(Ticket.type == type)
    if channel:
        query = query.where(Ticket.channel == channel)
    if lead_unit:
        unit = org.get_unit(session, code=lead_unit)
        query = query.where(Ticket.lead_unit_id == unit.id)
    if category_prefix:
        matching = Category.code.startswith(category_prefix, autoescape=True)
        if session.scalar(select(Category.id).where(matching).limit(1)) is None:
            # As category_root does: a code no category has is a mistake to say, not an empty list.
            raise NotFound("category_not_found", f"分类 {category_prefix} 不存在")
        query = query.join(Category, Ticket.category_id == Category.id).where(matching)
    if category_root:
        query = query.where(Ticket.category_id.in_(_category_tree(session, code=category_root)))
    if region_code:
        region = org.get_region(session, code=region_code)
        sub = select(Region.id).where(or_(Region.id == region.id, Region.parent_id == region.id))
        query = query.where(Ticket.region_id.in_(sub))
    if query_text:
        like = f"%{query_text}%"
        query = query.where(or_(Ticket.number == query_text.strip().upper(), Ticket.title.like(like), Ticket.content.like(like)))
    if overdue:
        query = query.where(Ticket.reply_due < utcnow(), Ticket.status.in_([Status.DISPATCHED, Status.SIGNED]))
    if created_from:
        query = query.where(Ticket.created_at >= created_from)
    if created_to:
        query = query.where(Ticket.created_at < created_to)
    if dispatched_from:
        query = query.where(Ticket.dispatched_at >= dispatched_from)
    if dispatched_to:
        query = query.where(Ticket.dispatched_at < dispatched_to)
    for name in without:
        query = query.where(WITHOUT[name].is_(None))
    if callback is not None:
        query = query.where(Ticket.callback_at.is_not(None) if callback else Ticket.callback_at.is_(None))
    if matters_only:
        query = query.where(Ticket.status.not_in(sorted(NOT_MATTERS)))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.order_by(Ticket.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total or 0


def _category_tree(session: Session, *, code: str) -> set[int]:
    """The category's id and its descendants' (a few hundred categories: walked in Python)."""
    root = org.get_category(session, code=code)
    children: dict[int | None, list[int]] = {}
    for category_id, parent_id in session.execute(select(Category.id, Category.parent_id)):
        children.setdefault(parent_id, []).append(category_id)
    found, todo = set(), [root.id]
    while todo:
        category_id = todo.pop()
        found.add(category_id)
        todo.extend(children.get(category_id, []))
    return found


def requester_view(ticket: Ticket, actor: Actor, *, reveal: bool = False) -> schemas.RequesterOut:
    """What this actor may see of the requester; unmasked only on an explicit, audited reveal."""
    hidden = ticket.confidential and actor.role not in CENTRE
    if hidden:
        return schemas.RequesterOut(name="保密", phone=None, id_number=None, masked=True, hidden=True)
    name = "匿名" if ticket.anonymous else ticket.requester_name
    if reveal:
        return schemas.RequesterOut(name=name, phone=ticket.requester_phone, id_number=ticket.requester_id_number, masked=False)
    return schemas.RequesterOut(
        name=name if ticket.anonymous else mask_name(name),
        phone=mask_phone(ticket.requester_phone),
        id_number=mask_id_number(ticket.requester_id_number),
        masked=True,
    )


def reveal_requester(session: Session, *, number: str, actor: Actor, purpose: str | None = None) -> schemas.RequesterOut:
    ticket = get_ticket(session, number=number, actor=actor)
    if actor.role not in CONTACT_ROLES:
        raise Forbidden("not_allowed", "您的角色无权查看诉求人联系方式")
    if ticket.confidential and actor.role not in CENTRE:
        raise Forbidden("confidential", "该工单为保密件，承办单位不能查看诉求人身份")
    if actor.is_unit_staff and ticket.lead_unit_id != actor.unit_id and ticket.sub_unit_id != actor.unit_id:
        raise Forbidden("not_lead_unit", "只有主办单位可以查看诉求人联系方式")
    audit.record(
        session,
        actor=actor.name,
        action="personal_data.view",
        object_type="ticket",
        object_id=ticket.number,
        data={"role": actor.role, "fields": ["name", "phone", "id_number", "content"], "purpose": purpose or ""},
    )
    # The content in full too: numbers the caller said in it are masked everywhere else.
    return requester_view(ticket, actor, reveal=True).model_copy(update={"content": ticket.content})


def personal_data_views(session: Session, *, ticket: Ticket) -> list[dict]:
    return [
        {"at": e.at, "actor": e.actor, "role": e.data.get("role"), "purpose": e.data.get("purpose")}
        for e in audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("personal_data.view",))
    ]


# --- actions ----------------------------------------------------------------


def act(session: Session, *, number: str, action: str, actor: Actor, body: schemas.ActionIn) -> Ticket:
    transition_def = TRANSITIONS.get(action)
    if transition_def is None or action == "register":
        raise NotFound("unknown_action", f"不支持的操作：{action}")
    ticket = get_ticket(session, number=number, actor=actor)
    # The right to act comes before the version: someone without it must not learn that the order changed.
    _check_permitted(ticket, action, actor)
    if not transition_def.append_only and body.version is None:
        raise InvalidInput("version_required", f"“{transition_def.label}”需要提供工单的 version，请先读取工单")
    if not transition_def.append_only and body.version != ticket.version and not _only_tolerated_since(session, ticket, seen=body.version, tolerated=transition_def.tolerates):
        raise Conflict(
            "version_conflict",
            STALE_MESSAGE,
            details={"current_version": ticket.version},
        )
    _check_allowed(ticket, action, actor)
    _ACTION_HANDLERS[action](session, ticket, actor, body)
    return ticket


def _only_tolerated_since(session: Session, ticket: Ticket, *, seen: int, tolerated: frozenset[str]) -> bool:
    """Whether every change since version `seen` is one the action tolerates (`Transition.tolerates`).
    Each version bump has its event; an event without a recorded version (older ones) counts as a conflict."""
    if not tolerated or not 0 < seen < ticket.version:
        return False
    since = session.scalars(select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id, TicketEvent.version > seen)).all()
    return len(since) == ticket.version - seen and set(since) <= tolerated


def _claim_version(session: Session, ticket: Ticket) -> None:
    """Of two concurrent actions exactly one gets through (the version the actor saw is checked in `act`)."""
    claim_version(session, ticket, None, message=STALE_MESSAGE)


def _claim_guard(session: Session, ticket: Ticket, definition: Transition, actor: Actor) -> None:
    """For append-only actions, which leave the version alone: the state and unit guard is checked again
    in SQL against the row as it is now, so a concurrent reply, return or re-dispatch still refuses them."""
    now = utcnow()
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status.in_(definition.sources), *_party_clause(definition, actor))
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict("version_conflict", STALE_MESSAGE)
    set_committed_value(ticket, "updated_at", now)


def _party_clause(definition: Transition, actor: Actor) -> list[ColumnElement[bool]]:
    """The unit relation of `_check_allowed` as an SQL condition."""
    if definition.party is Party.ANY or not actor.is_unit_staff:
        return []
    lead = Ticket.lead_unit_id == actor.unit_id
    sub = Ticket.sub_unit_id == actor.unit_id
    co = Ticket.id.in_(select(TicketCoUnit.ticket_id).where(TicketCoUnit.unit_id == actor.unit_id))
    return [{Party.LEAD: lead, Party.LEAD_OR_SUB: or_(lead, sub), Party.CO: co}[definition.party]]


def _set_flag(session: Session, ticket: Ticket, *, only_if: ColumnElement[bool] | None = None, **values) -> bool:
    """Writes flag columns in SQL (counters as `column + 1`, set-once columns with `only_if` unset), so
    concurrent append-only actions never lose each other's update. False when `only_if` no longer held."""
    row = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, *([only_if] if only_if is not None else []))
        .values(**values)
        .returning(*(getattr(Ticket, name) for name in values))
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return False
    for name, value in zip(values, row):
        set_committed_value(ticket, name, value)
    return True


def _check_permitted(ticket: Ticket, action: str, actor: Actor) -> None:
    """The actor's role and unit relation to the order, whatever state it is in."""
    definition = TRANSITIONS[action]
    if actor.role not in definition.roles:
        raise Forbidden("role_not_allowed", f"您的角色无权执行“{definition.label}”")
    if definition.party is not Party.ANY and actor.is_unit_staff:
        lead = ticket.lead_unit_id == actor.unit_id
        sub = ticket.sub_unit_id == actor.unit_id
        co = any(c.unit_id == actor.unit_id for c in ticket.co_units)
        ok = {
            Party.LEAD: lead,
            Party.LEAD_OR_SUB: lead or sub,
            Party.CO: co,
        }[definition.party]
        if not ok:
            raise Forbidden("not_your_unit", f"只有{'协办' if definition.party is Party.CO else '主办'}单位可以执行“{definition.label}”")


def _check_allowed(ticket: Ticket, action: str, actor: Actor) -> None:
    _check_permitted(ticket, action, actor)
    definition = TRANSITIONS[action]
    if ticket.status not in definition.sources:
        raise Conflict(
            "invalid_state",
            f"工单当前状态为“{STATUS_LABELS[Status(ticket.status)]}”，不能执行“{definition.label}”",
        )


def transition(
    session: Session,
    ticket: Ticket,
    *,
    action: str,
    actor: Actor,
    note: str | None = None,
    data: dict | None = None,
) -> TicketEvent:
    """Checks the action against the table, moves the status, writes the event and the audit row.

    Append-only actions (`Transition.append_only`) skip the version compare-and-set. Their handlers write
    their flag columns with `_set_flag` before calling this, never through the ORM, which would overwrite
    what a concurrent actor wrote; if the guard then refuses, the caller's transaction rolls them back.
    """
    definition = TRANSITIONS[action]
    before = Status(ticket.status) if action != "register" else None
    if action != "register":
        _check_allowed(ticket, action, actor)
    after = target_status(definition, Status(ticket.status), ticket.status_before_return)
    if definition.append_only:
        _claim_guard(session, ticket, definition, actor)
    else:
        if action != "register":
            _claim_version(session, ticket)
        ticket.status = after
        ticket.updated_at = utcnow()
    version = None if definition.append_only or action == "register" else ticket.version
    event = record_event(session, ticket, action=action, actor=actor, before=before, after=after, note=note, data=data, version=version)
    hooks.ticket_transitioned(session, ticket=ticket, event=event, actor=actor)
    return event


def record_event(
    session: Session,
    ticket: Ticket,
    *,
    action: str,
    actor: Actor,
    before: Status | None,
    after: Status,
    note: str | None = None,
    data: dict | None = None,
    version: int | None = None,
) -> TicketEvent:
    """The one writer of an order's event row and its audit row: `transition()` for every action of the table,
    and what changes an order without being an action anyone takes on it (`release_assigned`). `version`: the
    version the event made, None for one that bumped none."""
    event = TicketEvent(
        ticket=ticket,
        action=action,
        from_status=before,
        to_status=after,
        actor=actor.name,
        actor_role=actor.role,
        unit_id=actor.unit_id,
        note=note,
        data=data or {},
        version=version,
    )
    session.add(event)
    session.flush()
    audit.record(
        session,
        actor=actor.name,
        action=f"ticket.{action}",
        object_type="ticket",
        object_id=ticket.number,
        data=_audit_data({"from": before, "to": after, "version": ticket.version, "note": note, **(data or {})}),
    )
    return event


def _audit_data(data: dict) -> dict:
    """The words an event keeps (a note, a reply, a repeat caller's call) masked as on the order page: the
    trail is read by auditors, who need who did what, not the numbers a caller said."""
    return {key: mask_numbers_in_text(value) if key in ("note", "content") and isinstance(value, str) else value for key, value in data.items()}


def _units_by_code(session: Session, codes: list[str]) -> list[Unit]:
    return [org.get_unit(session, code=code) for code in dict.fromkeys(codes)]


def _dispatch(session: Session, ticket: Ticket, actor: Actor, body: schemas.DispatchIn) -> None:
    dispatch_to(session, ticket, actor=actor, lead_code=body.lead_unit, co_codes=body.co_units, note=body.note, category_code=body.category_code)


def dispatch_to(
    session: Session,
    ticket: Ticket,
    *,
    actor: Actor,
    lead_code: str,
    co_codes: list[str] = (),
    note: str | None = None,
    evidence: dict | None = None,
    category_code: str | None = None,
) -> TicketEvent:
    """`category_code`: the category the dispatcher puts the order under, when it is not the one it has."""
    lead = org.get_unit(session, code=lead_code)
    if lead.kind == "centre":
        raise InvalidInput("invalid_lead_unit", "不能派给热线中心本身")
    category = org.get_category(session, code=category_code) if category_code else None
    if category is not None and not category.active and category.id != ticket.category_id:
        raise InvalidInput("category_inactive", f"问题分类 {category.path} 已停用，请选择其他分类")
    co_units = [u for u in _units_by_code(session, list(co_codes)) if u.id != lead.id]
    previous_lead = ticket.lead_unit.code if ticket.lead_unit else None
    _check_allowed(ticket, "dispatch", actor)
    # Sent on: after an approved 退单 (no unit holds it) or to another unit before the first one signed.
    redispatch = ticket.dispatched_at is not None and previous_lead != lead.code
    if redispatch:
        # The new unit signs and reaches the requester itself: the previous unit's would be counted as its own.
        ticket.signed_at = ticket.contacted_at = None
    if previous_lead != lead.code:
        ticket.assignee = None  # a 承办人 of the unit the order leaves
    ticket.lead_unit = lead
    ticket.sub_unit = None
    ticket.co_units = [TicketCoUnit(unit=u) for u in co_units]
    ticket.dispatched_at = utcnow()
    ticket.first_dispatched_at = ticket.first_dispatched_at or ticket.dispatched_at
    ticket.return_reason = None
    # The name as it was then: the requester's 进度查询 says where each dispatch went, even after the order moved on.
    data = {"lead_unit": lead.code, "lead_unit_name": lead.name, "co_units": [u.code for u in co_units]}
    if previous_lead and previous_lead != lead.code:
        data["previous_lead_unit"] = previous_lead
    if category is not None and category.id != ticket.category_id:
        # Routing reads the change off the event (hooks.ticket_transitioned → routing's on_staff_dispatch).
        data |= {"category": category.code, "category_name": category.path, "previous_category": ticket.category.code if ticket.category else None}
        ticket.category = category
    if evidence:
        data["evidence"] = evidence
    # Deadlines first: the unit's new-ticket message quotes the signing deadline.
    if hooks.ticket_dispatched(session, ticket=ticket, redispatch=redispatch):
        data["clock_restarted"] = True
    return transition(session, ticket, action="dispatch", actor=actor, note=note, data=data)


def _sign(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    transition(session, ticket, action="sign", actor=actor, note=body.note)
    ticket.signed_at = utcnow()


def _assign(session: Session, ticket: Ticket, actor: Actor, body: schemas.AssignIn) -> None:
    """指派承办人: the unit admin gives the order to any active staff member of the lead unit; a handler takes an
    unassigned one for themselves (我来办), since handing a colleague's order over is the admin's call."""
    username = body.assignee or actor.name
    assignee = session.scalar(select(User).where(User.username == username))
    if assignee is None or assignee.unit_id != ticket.lead_unit_id or not assignee.active or assignee.role not in ("handler", "unit_admin"):
        raise InvalidInput("invalid_assignee", f"“{username}”不是本单位在用的承办人员账号")
    if actor.role != "unit_admin":
        if assignee.id != actor.user_id:
            raise Forbidden("assign_others_not_allowed", "只有单位管理员可以把工单指派给其他人员")
        if ticket.assignee_id not in (None, actor.user_id):
            raise Conflict("already_assigned", f"该工单已由{ticket.assignee.display_name}承办，如需改派请联系单位管理员")
    if ticket.assignee_id == assignee.id:
        raise Conflict("already_assigned", f"该工单已由{assignee.display_name}承办")
    previous = ticket.assignee
    data = {"assignee": assignee.username, "assignee_name": assignee.display_name}
    if previous is not None:
        data |= {"previous": previous.username, "previous_name": previous.display_name}
    transition(session, ticket, action="assign", actor=actor, note=body.note, data=data)
    ticket.assignee = assignee


# Why a 承办人's orders went back to 未指派, by org.service's account change.
UNASSIGN_REASONS = {"disabled": "承办人账号已停用", "moved": "承办人已调离本单位"}


def release_assigned(session: Session, *, user: User, actor: str, reason: str) -> list[str]:
    """Returns the unfinished orders of a 承办人 who can no longer work them (account disabled, moved to another unit
    or role) to their unit's 未指派, so its admin sees them there and names someone, with an event and an audit row on
    each; the numbers, oldest first. An order 已答复 or 已回访 goes too: a 重办 would bring it back to nobody, as would a
    refused 退单. The version stays: the unit's open forms on the order are still good, and an order the unit
    re-assigns meanwhile is left alone (the rows are locked, and the condition read again)."""
    by = session.scalar(select(User).where(User.username == actor))
    held = session.scalars(
        select(Ticket).where(Ticket.assignee_id == user.id, Ticket.status.not_in(sorted(FINAL_STATUSES))).order_by(Ticket.id).with_for_update(of=Ticket)
    ).all()
    _unassign(session, held, actor=Actor.for_user(by) if by else Actor(name=actor, role=SYSTEM, display_name=actor), reason=reason)
    return [ticket.number for ticket in held]


def release_stranded(session: Session) -> list[str]:
    """Repairs what disabling or moving an account left behind before it released the account's orders: every
    unfinished order whose 承办人 is disabled, or no longer staff of the unit leading it, goes back to that unit's
    未指派, by the system, with its event and audit row. Idempotent (`baishitong init` runs it after migrating);
    the numbers, oldest first."""
    unfinished = select(Ticket).join(User, Ticket.assignee_id == User.id).where(Ticket.status.not_in(sorted(FINAL_STATUSES))).order_by(Ticket.id)
    disabled = session.scalars(unfinished.where(User.active.is_(False)).with_for_update(of=Ticket)).all()
    moved = session.scalars(
        unfinished.where(User.active.is_(True), or_(User.unit_id.is_distinct_from(Ticket.lead_unit_id), User.role.not_in(("handler", "unit_admin")))).with_for_update(of=Ticket)
    ).all()
    _unassign(session, disabled, actor=ACTING_SYSTEM, reason="disabled")
    _unassign(session, moved, actor=ACTING_SYSTEM, reason="moved")
    return [ticket.number for ticket in sorted([*disabled, *moved], key=lambda t: t.id)]


def _unassign(session: Session, tickets: Collection[Ticket], *, actor: Actor, reason: str) -> None:
    """Takes each order from its 承办人 back to the unit's 未指派: not an action of the table (the status and the
    version stay), but written, event and audit row, by the same `record_event` as one."""
    for ticket in tickets:
        previous = ticket.assignee
        ticket.assignee = None
        ticket.updated_at = utcnow()
        data = {"previous": previous.username, "previous_name": previous.display_name, "reason": UNASSIGN_REASONS[reason]}
        record_event(session, ticket, action="unassign", actor=actor, before=Status(ticket.status), after=Status(ticket.status), data=data)
    session.flush()


def _return(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    previous = ticket.status
    transition(session, ticket, action="return", actor=actor, note=body.note, data={"reason": body.reason})
    ticket.status_before_return = previous
    ticket.return_reason = body.reason


def _approve_return(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    returned_by = ticket.lead_unit.code if ticket.lead_unit else None
    transition(session, ticket, action="approve-return", actor=actor, note=body.note, data={"returned_by": returned_by, "reason": ticket.return_reason})
    ticket.lead_unit = None
    ticket.sub_unit = None
    ticket.assignee = None
    ticket.co_units = []
    ticket.status_before_return = None
    _unit_done(session, ticket)  # the next unit starts without them


def _unit_done(session: Session, ticket: Ticket) -> None:
    """The unit's own requests and its stopped clock end with its part: a pending 延期 or 暂停 would show the next
    unit (or a 重办) as 待批, and a pause left open would stop the next unit's clock."""
    ticket.extension_days = None
    ticket.extension_reason = None
    ticket.pause_request = None
    if ticket.paused:
        hooks.clock_resumed(session, ticket=ticket)


def _reject_return(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    transition(session, ticket, action="reject-return", actor=actor, note=body.note, data={"reason": body.reason, "return_reason": ticket.return_reason})
    ticket.status_before_return = None
    ticket.return_reason = None


def _subdispatch(session: Session, ticket: Ticket, actor: Actor, body: schemas.UnitIn) -> None:
    unit = org.get_unit(session, code=body.unit)
    if unit.parent_id != ticket.lead_unit_id:
        raise InvalidInput("not_a_subunit", f"{unit.name} 不是主办单位的下属村居")
    transition(session, ticket, action="subdispatch", actor=actor, note=body.note, data={"unit": unit.code})
    ticket.sub_unit = unit


def granted_extensions(session: Session, *, ticket_ids: list[int]) -> dict[int, int]:
    """How many 延期 the centre has granted on each order, over its whole life, in one query."""
    if not ticket_ids:
        return {}
    query = select(TicketEvent.ticket_id, func.count()).where(TicketEvent.action == "approve-extension", TicketEvent.ticket_id.in_(ticket_ids)).group_by(TicketEvent.ticket_id)
    return dict(session.execute(query).all())


def extension_limit_reached(granted: int) -> bool:
    """Whether an order granted `granted` extensions may ask for no more (settings.max_extensions; 0 is no limit)."""
    limit = get_settings().max_extensions
    return bool(limit) and granted >= limit


def extension_limit_text(granted: int) -> str:
    return f"该工单已获准延期 {granted} 次，已达每张工单的延期次数上限（{get_settings().max_extensions} 次），不能再申请延期；请在现有时限内答复，确有困难请与热线中心联系"


def _extend(session: Session, ticket: Ticket, actor: Actor, body: schemas.ExtendIn) -> None:
    if ticket.extension_days:
        raise Conflict("extension_pending", "已有待审批的延期申请")
    granted = granted_extensions(session, ticket_ids=[ticket.id]).get(ticket.id, 0)
    if extension_limit_reached(granted):
        raise Conflict("extension_limit_reached", extension_limit_text(granted))
    transition(session, ticket, action="extend", actor=actor, note=body.note, data={"days": body.days, "reason": body.reason})
    ticket.extension_days = body.days
    ticket.extension_reason = body.reason


def _approve_extension(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    if not ticket.extension_days:
        raise Conflict("no_extension_pending", "没有待审批的延期申请")
    days = ticket.extension_days
    transition(session, ticket, action="approve-extension", actor=actor, note=body.note, data={"days": days})
    ticket.extension_days = None
    ticket.extension_reason = None
    hooks.extension_approved(session, ticket=ticket, days=days)


def _reject_extension(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    if not ticket.extension_days:
        raise Conflict("no_extension_pending", "没有待审批的延期申请")
    transition(session, ticket, action="reject-extension", actor=actor, note=body.note, data={"days": ticket.extension_days, "reason": body.reason})
    ticket.extension_days = None
    ticket.extension_reason = None


def _contact(session: Session, ticket: Ticket, actor: Actor, body: schemas.ContactIn) -> None:
    """The unit's first contact with the requester (enterprise requests: within one working hour).

    Only reaching the requester sets contacted_at and so meets the deadline; an attempt that did not get
    through is recorded with its outcome and leaves the deadline running, so the unit tries again."""
    reached = body.outcome in schemas.CONTACT_REACHED
    if reached and not _set_flag(session, ticket, only_if=Ticket.contacted_at.is_(None), contacted_at=utcnow()):
        raise Conflict("already_contacted", "已记录首次联系")
    if not reached and ticket.contacted_at is not None:
        raise Conflict("already_contacted", "已记录首次联系")
    attempt = sum(1 for e in ticket.events if e.action == "contact") + 1
    transition(session, ticket, action="contact", actor=actor, note=body.note, data={"outcome": body.outcome, "attempt": attempt})


def _pause(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    """At once, or, where the policy wants the centre's consent, a request: the clock runs until it is granted."""
    if ticket.paused:
        raise Conflict("already_paused", "计时已暂停")
    if ticket.pause_request:
        raise Conflict("pause_pending", "已有待审批的暂停计时申请")
    if hooks.pause_needs_approval(session):
        transition(session, ticket, action="pause", actor=actor, note=body.note, data={"reason": body.reason, "pending": True})
        ticket.pause_request = body.reason
        return
    transition(session, ticket, action="pause", actor=actor, note=body.note, data={"reason": body.reason})
    hooks.clock_paused(session, ticket=ticket, reason=body.reason)


def _approve_pause(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    if not ticket.pause_request:
        raise Conflict("no_pause_pending", "没有待审批的暂停计时申请")
    reason = ticket.pause_request
    transition(session, ticket, action="approve-pause", actor=actor, note=body.note, data={"reason": reason})
    ticket.pause_request = None
    hooks.clock_paused(session, ticket=ticket, reason=reason)


def _reject_pause(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    if not ticket.pause_request:
        raise Conflict("no_pause_pending", "没有待审批的暂停计时申请")
    transition(session, ticket, action="reject-pause", actor=actor, note=body.note, data={"requested": ticket.pause_request, "reason": body.reason})
    ticket.pause_request = None


def _resume(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    if not ticket.paused:
        raise Conflict("not_paused", "计时未暂停")
    transition(session, ticket, action="resume", actor=actor, note=body.note)
    hooks.clock_resumed(session, ticket=ticket)


def _contribute(session: Session, ticket: Ticket, actor: Actor, body: schemas.ContentIn) -> None:
    transition(session, ticket, action="contribute", actor=actor, note=body.note, data={"content": body.content})
    for co in ticket.co_units:
        if co.unit_id == actor.unit_id:
            co.contribution = body.content
            co.contributed_at = utcnow()


def _decline_co(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    """退回协办: a co-handling unit the order does not concern leaves it, saying why in the timeline that
    the lead unit and the dispatcher read; it then no longer sees the order. Once it has given its 协办意见
    the order did concern it: leaving would take that opinion out of the lead unit's reply form."""
    own = next(c for c in ticket.co_units if c.unit_id == actor.unit_id)
    if own.contribution:
        raise Conflict("already_contributed", "已提交协办意见，不能再退回协办；如需更正，请修改协办意见")
    unit = own.unit
    transition(session, ticket, action="decline-co", actor=actor, note=body.note, data={"reason": body.reason, "unit": unit.code})
    ticket.co_units = [c for c in ticket.co_units if c.unit_id != actor.unit_id]


def _reply(session: Session, ticket: Ticket, actor: Actor, body: schemas.ContentIn) -> None:
    """A reply ends the unit's work, so an extension or pause request still awaiting approval lapses (no
    supervisor can decide it any more: approval needs 办理中) and a stopped clock ends (_unit_done)."""
    transition(session, ticket, action="reply", actor=actor, note=body.note, data={"content": body.content})
    ticket.reply_content = body.content
    ticket.replied_at = utcnow()
    _unit_done(session, ticket)
    _share_with_duplicates(session, ticket, actor=actor, action="reply")


def _answer(session: Session, ticket: Ticket, actor: Actor, body: schemas.ContentIn) -> None:
    if ticket.type != "咨询":
        raise Conflict("not_a_consultation", "只有咨询类工单可以在受理时直接办结")
    transition(session, ticket, action="answer", actor=actor, note=body.note, data={"content": body.content})
    ticket.reply_content = body.content
    ticket.replied_at = ticket.closed_at = utcnow()


def _callback(session: Session, ticket: Ticket, actor: Actor, body: schemas.CallbackIn) -> None:
    record_callback(session, ticket, actor=actor, solved=body.solved, satisfaction=body.satisfaction, note=body.note)


def approved_returns(session: Session, *, ticket_ids: list[int]) -> dict[int, list[tuple[str | None, str | None]]]:
    """(unit code, reason) of each approved return, oldest first, per ticket: who already refused the order."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.data).where(TicketEvent.action == "approve-return", TicketEvent.ticket_id.in_(ticket_ids)).order_by(TicketEvent.id)
    )
    out: dict[int, list[tuple[str | None, str | None]]] = {}
    for ticket_id, data in rows:
        out.setdefault(ticket_id, []).append(((data or {}).get("returned_by"), (data or {}).get("reason")))
    return out


# Each reply (an order's own, or its master's for a merged caller) starts a new round of callbacks: the calls
# nobody answered, or the refusal, before a 重办 say nothing about whether the new answer can be rated.
CALLBACK_ROUND_STARTS = ("reply", "master-reply")


def _this_round(ticket: Ticket) -> list[TicketEvent]:
    events = ticket.events
    start = max((at for at, e in enumerate(events) if e.action in CALLBACK_ROUND_STARTS), default=-1)
    return events[start + 1 :]


def _in_this_round(event_id: ColumnElement[int], ticket_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL for _this_round: the event came after its order's latest reply."""
    reply = aliased(TicketEvent)
    last_reply = select(func.max(reply.id)).where(reply.ticket_id == ticket_id, reply.action.in_(CALLBACK_ROUND_STARTS)).scalar_subquery()
    return event_id > func.coalesce(last_reply, 0)


def missed_callbacks(ticket: Ticket) -> int:
    """Unanswered callback calls about the current reply."""
    return sum(1 for e in _this_round(ticket) if e.action == "callback-missed")


def callback_declined(ticket: Ticket) -> bool:
    """Whether the requester, reached about the current reply, declined to rate it (回访拒绝评价)."""
    return any(e.action == "callback-declined" for e in _this_round(ticket))


def missed_callback_counts(session: Session, *, ticket_ids: list[int]) -> dict[int, int]:
    """missed_callbacks for a page of tickets in one query."""
    if not ticket_ids:
        return {}
    this_round = _in_this_round(TicketEvent.id, TicketEvent.ticket_id)
    query = select(TicketEvent.ticket_id, func.count()).where(TicketEvent.action == "callback-missed", TicketEvent.ticket_id.in_(ticket_ids), this_round).group_by(TicketEvent.ticket_id)
    return dict(session.execute(query).all())


def declined_callbacks(session: Session, *, ticket_ids: list[int]) -> set[int]:
    """callback_declined for a page of tickets in one query."""
    if not ticket_ids:
        return set()
    this_round = _in_this_round(TicketEvent.id, TicketEvent.ticket_id)
    return set(session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "callback-declined", TicketEvent.ticket_id.in_(ticket_ids), this_round)))


def callback_due(ticket: Ticket) -> bool:
    """Whether a callback is owed: a replied order, or a caller merged into an order whose reply has reached
    them (see _share_with_duplicates) and who has not been called back since. A caller who rang twice
    about their own order is called back once, on that order."""
    if ticket.status == Status.MERGED:
        return ticket.replied_at is not None and ticket.callback_at is None and ticket.requester_phone != ticket.master.requester_phone and not callback_declined(ticket)
    return ticket.status == Status.REPLIED


def handling_unit(ticket: Ticket) -> Unit | None:
    """The unit the requester is told handles their order: for a merged caller the master's, whose reply they read."""
    if ticket.status == Status.MERGED and ticket.master is not None:
        return ticket.master.lead_unit
    return ticket.lead_unit


def callback_queue_clause() -> ColumnElement[bool]:
    """待回访 as a condition: replied orders, and merged callers still owed a call who can be reached (a phone
    not already called about the master or an earlier repeat, fewer than MISSED_CALLBACKS_TO_CLOSE
    unanswered calls about the current reply and no refusal to rate it; a merged order has nothing to close)."""
    this_round = _in_this_round(TicketEvent.id, Ticket.id)
    missed = select(func.count()).where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "callback-missed", this_round).scalar_subquery()
    declined = exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "callback-declined", this_round)
    other = aliased(Ticket)
    same_caller = exists().where(
        or_(other.id == Ticket.master_id, and_(other.master_id == Ticket.master_id, other.status == Status.MERGED, other.id < Ticket.id)),
        other.requester_phone == Ticket.requester_phone,
    )
    merged = and_(
        Ticket.status == Status.MERGED, Ticket.replied_at.is_not(None), Ticket.callback_at.is_(None), Ticket.requester_phone.is_not(None),
        missed < MISSED_CALLBACKS_TO_CLOSE, ~declined, ~same_caller,
    )
    return or_(Ticket.status == Status.REPLIED, merged)


def _require_callback_due(ticket: Ticket) -> None:
    if ticket.status == Status.MERGED and not callback_due(ticket):
        if ticket.callback_at is not None:
            raise Conflict("already_called_back", "该诉求人已回访过")
        raise Conflict("master_not_replied", f"主工单 {ticket.master.number} 尚未答复，答复后再回访")


def _require_call_still_owed(ticket: Ticket) -> None:
    """A call is still owed and the requester has not declined: one who did is not rung again."""
    _require_callback_due(ticket)
    if callback_declined(ticket):
        raise Conflict("callback_declined", "诉求人已接通但拒绝评价，无需再次回访，可直接办结")


def _callback_missed(session: Session, ticket: Ticket, actor: Actor, body: schemas.CallbackMissedIn) -> None:
    _require_call_still_owed(ticket)
    transition(session, ticket, action="callback-missed", actor=actor, note=body.note, data={"outcome": body.outcome, "attempt": missed_callbacks(ticket) + 1})


def _callback_declined(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    """The requester answered and declined to rate: reached, so not called again like an unanswered call, and
    no rating, so no satisfaction figure counts it; the order may then be closed (may_close)."""
    _require_call_still_owed(ticket)
    transition(session, ticket, action="callback-declined", actor=actor, note=body.note)


def record_callback(session: Session, ticket: Ticket, *, actor: Actor, solved: bool, satisfaction: str, note: str | None = None) -> None:
    _require_callback_due(ticket)
    transition(session, ticket, action="callback", actor=actor, note=note, data={"solved": solved, "satisfaction": satisfaction})
    ticket.callback_solved = solved
    ticket.callback_satisfaction = satisfaction
    ticket.callback_at = utcnow()


def _redo(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    if ticket.callback_solved and ticket.callback_satisfaction != "不满意":
        raise Conflict("redo_not_needed", "回访结果为已解决且满意，无需重办")
    data = {"satisfaction": ticket.callback_satisfaction, "solved": ticket.callback_solved, "reason": body.reason}
    transition(session, ticket, action="redo", actor=actor, note=body.note, data=data)
    ticket.redo_count += 1
    ticket.reply_content = None
    ticket.replied_at = None
    ticket.callback_solved = ticket.callback_satisfaction = ticket.callback_at = None
    hooks.ticket_redone(session, ticket=ticket, reason=body.reason)


def _latest_events(session: Session, ticket_ids: list[int], condition: ColumnElement[bool]) -> dict[int, TicketEvent]:
    """Each order's newest event meeting `condition`, in one query."""
    if not ticket_ids:
        return {}
    latest = select(func.max(TicketEvent.id)).where(condition, TicketEvent.ticket_id.in_(ticket_ids)).group_by(TicketEvent.ticket_id)
    return {event.ticket_id: event for event in session.scalars(select(TicketEvent).where(TicketEvent.id.in_(latest)))}


def callback_notes(session: Session, *, ticket_ids: list[int]) -> dict[int, str]:
    """The 回访记录 of each ticket's latest callback (what the requester said), in one query."""
    latest = _latest_events(session, ticket_ids, TicketEvent.action == "callback")
    return {ticket_id: event.note for ticket_id, event in latest.items() if event.note}


def latest_redos(session: Session, *, ticket_ids: list[int]) -> dict[int, dict]:
    """Why each order came back: its latest 重办's reason, with the callback result and 回访记录 that led to it."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.action, TicketEvent.note, TicketEvent.data)
        .where(TicketEvent.action.in_(["callback", "redo"]), TicketEvent.ticket_id.in_(ticket_ids))
        .order_by(TicketEvent.id)
    )
    heard: dict[int, str | None] = {}
    out: dict[int, dict] = {}
    for ticket_id, action, note, data in rows:
        if action == "callback":
            heard[ticket_id] = note
        else:
            data = data or {}
            # Redos from before the reason was required kept any text in the note.
            out[ticket_id] = {"reason": data.get("reason") or note, "solved": data.get("solved"), "satisfaction": data.get("satisfaction"), "callback_note": heard.get(ticket_id)}
    return out


def _note_out(event: TicketEvent) -> dict:
    return {"label": EVENT_LABELS[event.action], "note": event.note, "at": event.created_at}


def latest_centre_notes(session: Session, *, ticket_ids: list[int]) -> dict[int, dict]:
    """The latest 催办 or 督办 note on each order (label, note, at): what the centre last asked of the unit."""
    noted = and_(TicketEvent.action.in_(["urge", "supervise"]), TicketEvent.note.is_not(None), TicketEvent.note != "")
    return {ticket_id: _note_out(event) for ticket_id, event in _latest_events(session, ticket_ids, noted).items()}


# The unit's requests to the centre and the centre's answers, with what starts a unit's part afresh or ends it.
_REQUESTS_AND_DECISIONS = (
    "dispatch", "redo", "reply", "return", "approve-return", "reject-return", "extend", "approve-extension", "reject-extension", "pause", "approve-pause", "reject-pause",
)


def latest_refusals(session: Session, *, ticket_ids: list[int]) -> dict[int, dict]:
    """The centre's refusal of the unit's 退单, 延期 or 暂停计时 request on each order (label, reason, at), while it is
    the latest word on the matter: a request, decision, dispatch, 重办 or reply since makes it history."""
    latest = _latest_events(session, ticket_ids, TicketEvent.action.in_(_REQUESTS_AND_DECISIONS))
    return {
        ticket_id: {"label": EVENT_LABELS[event.action], "reason": (event.data or {}).get("reason") or event.note, "at": event.created_at}
        for ticket_id, event in latest.items()
        if event.action.startswith("reject-")
    }


def latest_contacts(session: Session, *, ticket_ids: list[int]) -> dict[int, dict]:
    """Each order's 首次联系 so far (outcome, reached, attempt), for the unit desk's cards: the latest attempt is the
    one that reached the requester (none is recorded after it) or the latest that did not."""
    latest = _latest_events(session, ticket_ids, TicketEvent.action == "contact")
    return {
        ticket_id: {"outcome": (event.data or {}).get("outcome", "已联系"), "reached": contact_reached(event), "attempt": (event.data or {}).get("attempt", 1)}
        for ticket_id, event in latest.items()
    }


def dispatch_notes(session: Session, *, ticket_ids: list[int]) -> dict[int, dict]:
    """The 派单说明 (or 下派说明) of the dispatch that sent each order where it is now, when a person wrote one:
    a note written for an earlier unit, or the router's own (智能分拨自动派单), tells this unit nothing."""
    latest = _latest_events(session, ticket_ids, TicketEvent.action.in_(["dispatch", "subdispatch"]))
    return {ticket_id: _note_out(event) for ticket_id, event in latest.items() if event.note and event.actor_role != SYSTEM}


def may_close(ticket: Ticket) -> bool:
    """A replied order is closed after its callback, or without one only when the requester cannot or will not
    rate it: no phone, MISSED_CALLBACKS_TO_CLOSE calls that nobody answered, or a refusal to rate."""
    if ticket.status != Status.REPLIED:
        return True
    return not ticket.requester_phone or missed_callbacks(ticket) >= MISSED_CALLBACKS_TO_CLOSE or callback_declined(ticket)


def _close(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    if actor.role != SYSTEM and not may_close(ticket):
        raise Conflict("callback_required", f"请先回访诉求人：电话回访并记录结果（或诉求人拒绝评价），或 {MISSED_CALLBACKS_TO_CLOSE} 次回访未接通后按未回访办结")
    transition(session, ticket, action="close", actor=actor, note=body.note)
    ticket.closed_at = utcnow()
    _share_with_duplicates(session, ticket, actor=actor, action="close")


def _share_with_duplicates(session: Session, master: Ticket, *, actor: Actor, action: str) -> None:
    """并单 answers every caller: the orders merged into `master` carry its reply (texted to their callers,
    who track their own numbers) and its closing, as events on each of them."""
    unit = master.lead_unit.name if master.lead_unit else None
    texted = {master.requester_phone}  # the master's requester hears it on the master; nobody hears it twice
    for duplicate in session.scalars(select(Ticket).where(Ticket.master_id == master.id, Ticket.status == Status.MERGED).order_by(Ticket.id)):
        data = {"master": master.number, "unit": unit}
        if action == "reply":
            duplicate.reply_content, duplicate.replied_at = master.reply_content, master.replied_at
            # A redone master's new reply is owed a new callback, as the master's own requester gets one.
            duplicate.callback_solved = duplicate.callback_satisfaction = duplicate.callback_at = None
            data["content"] = (master.reply_content or "")[:500]
        else:
            duplicate.closed_at = master.closed_at
        status = Status(duplicate.status)
        record_event(session, duplicate, action=f"master-{action}", actor=actor, before=status, after=status, data=data)
        if action == "reply" and duplicate.requester_phone not in texted:
            texted.add(duplicate.requester_phone)
            hooks.duplicate_answered(session, ticket=duplicate, unit=unit)


def _urge(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    record_urge(session, ticket, actor=actor, note=body.note)


def record_urge(session: Session, ticket: Ticket, *, actor: Actor, note: str | None = None, data: dict | None = None) -> TicketEvent:
    """催办 by staff or by the deadline check; the count goes up in SQL, so two urges at once both count."""
    _set_flag(session, ticket, urge_count=Ticket.urge_count + 1)
    return transition(session, ticket, action="urge", actor=actor, note=note, data={"count": ticket.urge_count, **(data or {})})


def _supervise(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
    if not _set_flag(session, ticket, only_if=Ticket.supervised.is_(False), supervised=True):
        raise Conflict("already_supervised", "该工单已在督办中")
    transition(session, ticket, action="supervise", actor=actor, note=body.note)


def _merge(session: Session, ticket: Ticket, actor: Actor, body: schemas.MergeIn) -> None:
    master = get_ticket(session, number=body.into, actor=actor)
    if master.id == ticket.id:
        raise InvalidInput("merge_into_self", "不能并入自身")
    if master.status in FINAL_STATUSES:
        raise Conflict("master_closed", f"主工单 {master.number} 已结束，不能并入")
    transition(session, ticket, action="merge", actor=actor, note=body.note, data={"into": master.number})
    ticket.master = master
    # Calls already merged into this order follow it to the master: the master's reply reaches them, they are
    # called back, and they count among its 重复来电 (else they would wait on a 已并单 order for good).
    for earlier in session.scalars(select(Ticket).where(Ticket.master_id == ticket.id)):
        earlier.master = master
    # What the repeat caller said this time, so the unit working the master reads it there.
    call = {"duplicate": ticket.number, "content": ticket.content[:500]}
    if master.status in (Status.DISPATCHED, Status.SIGNED):
        # A repeat call while a unit works the order is pressure on that unit: it counts as a 催办 (the
        # count on its desk and 督办台, the unit's 催办 text), and that urge is the call's one event. Not
        # while a 退单 awaits the centre's decision: the unit that returned it is not the one to press.
        record_urge(session, master, actor=actor, note=body.note or f"诉求人重复来电（重复件 {ticket.number}）", data={"repeat_call": True, **call})
        return
    status = Status(master.status)
    record_event(session, master, action="merged-in", actor=actor, before=status, after=status, note=body.note, data=call)


def repeat_calls(session: Session, *, ticket_ids: list[int]) -> dict[int, int]:
    """重复来电: how many calls were merged into each of these orders, in one query."""
    if not ticket_ids:
        return {}
    query = select(Ticket.master_id, func.count()).where(Ticket.master_id.in_(ticket_ids)).group_by(Ticket.master_id)
    return dict(session.execute(query).all())


def repeat_call_count(session: Session, *, ticket_id: int) -> int:
    """重复来电 for one order: its page and the API's answer about it."""
    return session.scalar(select(func.count()).select_from(Ticket).where(Ticket.master_id == ticket_id))


def _void(session: Session, ticket: Ticket, actor: Actor, body: schemas.ReasonIn) -> None:
    transition(session, ticket, action="void", actor=actor, note=body.note, data={"reason": body.reason})
    ticket.closed_at = utcnow()


def _generic(action: str):
    def handler(session: Session, ticket: Ticket, actor: Actor, body: schemas.ActionIn) -> None:
        transition(session, ticket, action=action, actor=actor, note=body.note)

    return handler


_ACTION_HANDLERS = {
    "dispatch": _dispatch,
    "sign": _sign,
    "assign": _assign,
    "return": _return,
    "approve-return": _approve_return,
    "reject-return": _reject_return,
    "subdispatch": _subdispatch,
    "extend": _extend,
    "approve-extension": _approve_extension,
    "reject-extension": _reject_extension,
    "contribute": _contribute,
    "decline-co": _decline_co,
    "contact": _contact,
    "pause": _pause,
    "approve-pause": _approve_pause,
    "reject-pause": _reject_pause,
    "resume": _resume,
    "reply": _reply,
    "answer": _answer,
    "callback": _callback,
    "callback-missed": _callback_missed,
    "callback-declined": _callback_declined,
    "redo": _redo,
    "close": _close,
    "urge": _urge,
    "supervise": _supervise,
    "merge": _merge,
    "void": _void,
    "note": _generic("note"),
    "archive": _generic("archive"),
}


# --- the requester's side ---------------------------------------------------


def track(session: Session, *, number: str, phone: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.number == number.strip().upper()))
    try:
        digits = normalise_phone(phone)
    except ValueError:
        digits = None
    if ticket is None or not digits or ticket.requester_phone != digits:
        raise NotFound("ticket_not_found", "未查询到该工单，请核对工单号和反映诉求时留下的联系电话")
    return ticket


def public_callback(session: Session, *, number: str, phone: str, solved: bool, satisfaction: str) -> Ticket:
    ticket = track(session, number=number, phone=phone)
    if ticket.callback_at is not None and ticket.status != Status.REPLIED:
        # A refresh or a double tap sends the rating again: say it is recorded, not why the state forbids it.
        raise Conflict("already_rated", "您已评价过这张工单，感谢您的反馈")
    record_callback(session, ticket, actor=REQUESTER, solved=solved, satisfaction=satisfaction, note="诉求人在线评价")
    return ticket


_REQUESTER_TEXT = {
    "register": "您的诉求已受理，工单编号 {number}",
    "dispatch": "已转交{unit}办理",
    "sign": "{unit}已签收，正在办理",
    "contact": "{unit}已与您联系",
    "approve-return": "工单正在重新分派至更合适的单位",
    "approve-extension": "承办单位申请延期已获批准，将在延长期限内答复",
    "reply": "{unit}已答复您的诉求",
    "answer": "您的咨询已直接答复办结",
    "callback": "已记录您的评价，感谢您的反馈",
    "redo": "您的诉求已安排重新办理",
    "close": "工单已办结",
    "urge": "已对承办单位进行催办",
    "supervise": "已列入督办，加快办理",
    "merge": "您反映的问题已与相同诉求合并办理（主工单 {into}）",
    "master-reply": "{unit}已答复（与主工单 {master} 合并办理）",
    "master-close": "合并办理的主工单 {master} 已办结",
    "void": "经核实，该诉求不予受理：{reason}",
    "archive": "工单已归档",
}


# An attempt that did not reach the requester: they learn the unit tried (and may expect another call).
_CONTACT_MISSED_TEXT = "{unit}曾尝试与您联系，未能联系上"


def contact_reached(event: TicketEvent) -> bool:
    """Whether a 首次联系 reached the requester; one recorded before outcomes were asked for did."""
    return (event.data or {}).get("outcome", "已联系") in schemas.CONTACT_REACHED


def requester_timeline(ticket: Ticket) -> list[schemas.TrackEvent]:
    items = []
    for event in ticket.events:
        template = _REQUESTER_TEXT.get(event.action)
        if template is None:
            continue
        unit = event.data.get("lead_unit_name") or (ticket.lead_unit.name if ticket.lead_unit else "承办单位")
        if event.action == "dispatch":
            unit = event.data.get("lead_unit_name") or unit
        elif event.unit is not None:
            unit = event.unit.name
        if event.action == "contact" and not contact_reached(event):
            template = _CONTACT_MISSED_TEXT
        if event.action.startswith("master-"):
            unit = event.data.get("unit") or "承办单位"
        text = template.format(number=ticket.number, unit=unit, into=event.data.get("into", ""), reason=event.data.get("reason", ""), master=event.data.get("master", ""))
        items.append(schemas.TrackEvent(at=event.created_at, text=text))
    return items


# --- presenting -------------------------------------------------------------


def deadlines_of(ticket: Ticket) -> dict:
    return {
        "sign": ticket.sign_due,
        "contact": ticket.contact_due,
        "reply": ticket.reply_due,
        "close": ticket.close_due,
        "provisional": ticket.deadline_provisional,
        "paused": ticket.paused,  # the unit's own pause
        "clock_stopped": ticket.clock_stopped,  # any pause, a review hold too: the deadlines move on until it ends
        "policy_version": ticket.sla_policy_version,
    }


def _event_data(data: dict) -> dict:
    """Words kept with an event masked as the order's content is: a repeat caller's (merged-in, or the urge it
    counted as), which the unit reads on the master, and a reply's, which often names the number the unit rang."""
    if data and data.get("content"):
        return {**data, "content": mask_numbers_in_text(data["content"])}
    return data


def to_out(ticket: Ticket, actor: Actor, *, with_events: bool = False, routing: dict | None = None, repeat_calls: int = 0) -> schemas.TicketOut:
    events = None
    if with_events:
        events = [
            schemas.EventOut(
                action=e.action,
                label=EVENT_LABELS.get(e.action, e.action),
                from_status=e.from_status,
                to_status=e.to_status,
                actor=e.actor,
                actor_role=e.actor_role,
                unit=e.unit.code if e.unit else None,
                note=mask_numbers_in_text(e.note) if e.note else e.note,
                data=_event_data(e.data),
                at=e.created_at,
            )
            for e in ticket.events
        ]
    return schemas.TicketOut(
        number=ticket.number,
        status=ticket.status,
        status_label=STATUS_LABELS[Status(ticket.status)],
        version=ticket.version,
        type=ticket.type,
        channel=ticket.channel,
        title=ticket.title,
        content=mask_numbers_in_text(ticket.content),
        urgency=ticket.urgency,
        address=ticket.address,
        region={"code": ticket.region.code, "name": ticket.region.short_name, "town": (ticket.region.parent or ticket.region).short_name}
        if ticket.region
        else None,
        category={"code": ticket.category.code, "name": ticket.category.name, "path": ticket.category.path} if ticket.category else None,
        lead_unit=ticket.lead_unit.code if ticket.lead_unit else None,
        lead_unit_name=ticket.lead_unit.name if ticket.lead_unit else None,
        sub_unit=ticket.sub_unit.code if ticket.sub_unit else None,
        assignee=schemas.AssigneeOut(username=ticket.assignee.username, name=ticket.assignee.display_name) if ticket.assignee_id else None,
        co_units=[schemas.CoUnitOut(code=c.unit.code, name=c.unit.name, contribution=c.contribution) for c in ticket.co_units],
        requester=requester_view(ticket, actor),
        anonymous=ticket.anonymous,
        confidential=ticket.confidential,
        master=ticket.master.number if ticket.master_id else None,
        urge_count=ticket.urge_count,
        repeat_calls=repeat_calls,
        supervised=ticket.supervised,
        pending_extension={"days": ticket.extension_days, "reason": ticket.extension_reason} if ticket.extension_days else None,
        pending_pause={"reason": ticket.pause_request} if ticket.pause_request else None,
        return_reason=ticket.return_reason,
        reply=mask_numbers_in_text(ticket.reply_content) if ticket.reply_content else None,
        callback={"solved": ticket.callback_solved, "satisfaction": ticket.callback_satisfaction, "at": ticket.callback_at}
        if ticket.callback_at
        else None,
        deadlines=deadlines_of(ticket),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        events=events,
        routing=routing,
        # As the order page's 来源会话: the transcript is the centre's, who can open it.
        assistant_session_id=ticket.assistant_session_id if actor.role in CENTRE else None,
    )

"""Reference data (gazetteer, units, categories) and the Shunde demo."""

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.actors import REQUESTER, Actor
from baishitong.db import utcnow
from baishitong.demo import categories as demo_categories
from baishitong.demo import units as demo_units
from baishitong.org import service as org
from baishitong.org.models import Category, Region, Unit, User
from baishitong.routing.models import RouterModel, RoutingDecision
from baishitong.sla import service as sla
from baishitong.sla.calendar import DEFAULT_WORKING_HOURS, BusinessCalendar
from baishitong.sla.models import TicketPause
from baishitong.tickets import schemas
from baishitong.tickets import service as tickets
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.tickets.states import CENTRE

DEMO_PASSWORD = "demo12345"
DEMO_ACCOUNTS = [
    ("operator1", "operator", None, "话务员 黄小燕"),
    ("operator2", "operator", None, "话务员 冯志强"),
    ("ronggui", "handler", "ronggui", "容桂街道 何敏"),
    ("ronggui_admin", "unit_admin", "ronggui", "容桂街道 梁主任"),
    ("daliang", "handler", "daliang", "大良街道 陈伟"),
    ("beijiao", "handler", "beijiao", "北滘镇 欧阳丽"),
    ("sjj", "handler", "SJJ", "区市场监管局 李文"),
    ("cgzf", "handler", "CGZF", "区城管执法局 周强"),
    ("rsj", "handler", "RSJ", "区人社局 吴芳"),
    # 停水 and 公积金 calls go straight to these units (the catalogue's keyword rules): someone sees them in the demo.
    ("gongshui", "handler", "GS", "区供水有限公司 黄志明"),
    ("gjj", "handler", "GJJ", "公积金顺德管理部 林静"),
    ("supervisor", "supervisor", None, "督办员 罗建华"),
    ("admin", "admin", None, "系统管理员"),
]


def gazetteer() -> dict:
    return json.loads(resources.files("baishitong.data").joinpath("gazetteer.json").read_text("utf-8"))


def load_reference(session: Session) -> dict[str, int]:
    """Loads regions, units and categories into empty tables; leaves edited data alone."""
    counts = {"区域": 0, "单位": 0, "问题分类": 0}
    if not session.scalar(select(func.count()).select_from(Region)):
        for town in gazetteer()["towns"]:
            town_row = Region(code=town["code"], name=town["name"], short_name=town["short"], kind="town", aliases=town["aliases"], lat=town["lat"], lon=town["lon"])
            session.add(town_row)
            counts["区域"] += 1
            for c in town["communities"]:
                session.add(Region(code=c["code"], name=c["name"], short_name=c["short"], kind="community", parent=town_row, aliases=c["aliases"], lat=c["lat"], lon=c["lon"]))
                counts["区域"] += 1
        session.flush()
    if not session.scalar(select(func.count()).select_from(Unit)):
        by_code: dict[str, Unit] = {}
        for spec in demo_units.UNITS:
            unit = Unit(
                code=spec["code"],
                name=spec["name"],
                kind=spec["kind"],
                parent=by_code.get(spec["parent"]) if spec["parent"] else None,
                region_code=spec.get("region_code"),
                phone=spec.get("phone"),
            )
            by_code[spec["code"]] = unit
            session.add(unit)
        counts["单位"] = len(by_code)
        session.flush()
    if not session.scalar(select(func.count()).select_from(Category)):
        by_code_c: dict[str, Category] = {}
        for spec in demo_categories.FLAT:
            category = Category(code=spec["code"], name=spec["name"], level=spec["level"], parent=by_code_c.get(spec["parent"]))
            by_code_c[spec["code"]] = category
            session.add(category)
        counts["问题分类"] = len(by_code_c)
        session.flush()
    counts.update(sla.ensure_seeded(session))
    # Here, not in ensure_seeded: that runs on every booking-day look-up, this once per `init` (upgrades too).
    counts["推定节假日"] = sla.seed_estimates(session)
    from baishitong.routing import service as routing

    counts["派单规则"] = routing.ensure_default_catalogue(session)
    return counts


@dataclass
class DemoResult:
    created: bool
    tickets: int = 0
    accounts: list[tuple[str, str, str | None]] = field(default_factory=list)
    router_version: str | None = None
    router_f1: float | None = None  # cross-validated at level 1


def load_demo(session: Session) -> DemoResult:
    accounts = [(u, r, unit) for u, r, unit, _ in DEMO_ACCOUNTS]
    if session.scalar(select(User).where(User.username == DEMO_ACCOUNTS[0][0])) is not None:
        return DemoResult(created=False, accounts=accounts)
    for username, role, unit, display in DEMO_ACCOUNTS:
        org.create_user(session, username=username, password=DEMO_PASSWORD, role=role, unit_code=unit, display_name=display, actor="demo")
    count = load_demo_orders(session)
    from baishitong.knowledge import service as knowledge

    knowledge.load_demo(session)
    from baishitong.points import service as points

    points.load_demo(session)
    from baishitong.phrases import service as phrases

    phrases.load_demo(session)
    from baishitong.enterprise import service as enterprise

    enterprise.load_demo(session)
    model = train_router(session)
    # The 热点诉求 page has topics before the worker's first hourly run.
    from baishitong.analytics import service as analytics

    analytics.refresh_stale_hot_topics(session, now=utcnow())
    return DemoResult(created=True, tickets=count, accounts=accounts, router_version=model.version, router_f1=model.metrics.get("cv_macro_f1_l1"))


def train_router(session: Session) -> RouterModel:
    """A router trained on the demo's own closed orders, so suggestions work from the first call; the orders still
    open get what it proposes for them as their routing evidence (see route_open_orders)."""
    from baishitong.routing import service as routing

    model = routing.train_from_database(session, label="category", actor="demo")
    route_open_orders(session)
    return model


def route_open_orders(session: Session) -> int:
    """The demo's orders came in before there was a model, so their routing decisions name a unit with no confidence.
    Those of the orders still open (not what the model learned from) get the active model's evidence, as if it had
    routed them when they came in: its version, label, score and top 3, beside the catalogue rule and place already
    recorded. What people then did with the proposal (accepted, corrected, still to review) stays. Returns how many
    decisions it filled in."""
    from baishitong.routing import service as routing

    latest = select(func.max(RoutingDecision.id)).group_by(RoutingDecision.ticket_id)
    rows = session.execute(
        select(RoutingDecision, Ticket)
        .join(Ticket, Ticket.id == RoutingDecision.ticket_id)
        .where(RoutingDecision.id.in_(latest), RoutingDecision.model_version.is_(None), Ticket.status.not_in(routing.TRAINING_STATUSES))
        .order_by(RoutingDecision.id)
    ).all()
    # Calls an operator typed up: their category, against the model's, counts in the 分类纠正率 (a citizen's does not).
    by_centre = set(session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.action == "register", TicketEvent.actor_role.in_(CENTRE))))
    filled = 0
    for decision, ticket in rows:
        s = routing.suggest_for(session, ticket=ticket, threshold=(decision.evidence or {}).get("threshold"))
        if s.model_version is None:
            break
        decision.model_version, decision.label, decision.confidence, decision.top3 = s.model_version, s.label, s.confidence, s.top3
        # The rest of the evidence (place, catalogue rule, threshold, corrections) is as recorded then.
        model = {key: value for key, value in s.evidence.items() if key in ("model", "category_suggested")}
        decision.evidence = (decision.evidence or {}) | model
        if decision.corrected_category is None and ticket.id in by_centre:
            routing.record_intake_category(decision, at=decision.created_at)
        filled += 1
    return filled


def _staff(session: Session, username: str) -> Actor:
    return Actor.for_user(org.get_user(session, username=username))


def _unit_actor(session: Session, unit_code: str) -> Actor:
    """A handler account of the unit, so every demo order can be walked through its life and its timeline
    names a person: the unit's demo login where it has one, else a disabled 承办人 account made for it."""
    unit = org.get_unit(session, code=unit_code)
    user = session.scalar(
        select(User).where(User.unit_id == unit.id, User.role == "handler").order_by(User.active.desc(), User.id).limit(1)
    )
    if user is None:
        username = f"{unit_code.lower()}-handler"
        org.create_user(session, username=username, password=secrets.token_urlsafe(18), role="handler", unit_code=unit_code, display_name=f"{unit.name}承办人")
        user = org.disable_user(session, username=username).user
    return Actor.for_user(user)


def load_demo_orders(session: Session, *, orders: list[dict] | None = None, now: datetime | None = None) -> int:
    """`now`: the moment the demo is loaded (a test's fixed clock). The orders' lives are replayed up to the start of
    that day, so what the demo shows does not depend on the hour it is loaded: a reply or an archive due later today
    has not happened yet, whether it is loaded at 8:00 or at 20:00, and nothing is stamped after the moment it runs.
    This morning's orders, which came in before that moment, are replayed up to it."""
    from baishitong.demo.orders import generate_orders

    now = now or utcnow()
    local_now = now.astimezone(tickets.LOCAL_TZ)
    start_of_day = datetime.combine(local_now.date(), time(), tzinfo=tickets.LOCAL_TZ)
    operator = _staff(session, "operator1")
    supervisor = _staff(session, "supervisor")
    policy = sla.current_policy(session)
    calendar = sla.business_calendar(session, policy=policy)
    specs = orders if orders is not None else generate_orders(today=local_now.date(), loaded_at=local_now.time())
    # All orders are registered first, so that duplicates are merged while their master is still open.
    # In the order they came in, so that each day's numbers run with the time of day.
    by_ref = {spec["ref"]: register(session, spec, operator=operator) for spec in sorted(specs, key=lambda spec: _aware(spec["created_at"]))}
    for spec in sorted(specs, key=lambda spec: spec["target_status"] != "merged"):
        try:
            until = now if _aware(spec["created_at"]) >= start_of_day else start_of_day
            replay(session, by_ref[spec["ref"]], spec, operator=operator, supervisor=supervisor, by_ref=by_ref, now=until, calendar=calendar)
        except _NotYet:
            pass  # the order stays as it was before that step
    # Deadlines were computed while replaying at today's clock; recompute them from the simulated times.
    for ticket in by_ref.values():
        sla.recompute(session, ticket=ticket, policy=policy, calendar=calendar)
        _date_routing_decisions(session, ticket)
    return len(specs)


def _date_routing_decisions(session: Session, ticket: Ticket) -> None:
    """A decision is made as its order comes in and corrected when a person dispatches it elsewhere; stamped with the
    moment the demo was loaded, the misroute report's `since` would count every one as recent."""
    dispatches = [e.created_at for e in ticket.events if e.action == "dispatch" and e.actor_role != "system"]
    for decision in session.scalars(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket.id)):
        decision.created_at = ticket.created_at
        if decision.corrected_at is not None and dispatches:
            decision.corrected_at = dispatches[-1]
            if corrections := list((decision.evidence or {}).get("corrections", [])):
                corrections[-1] = {**corrections[-1], "at": dispatches[-1].isoformat()}
                decision.evidence = {**decision.evidence, "corrections": corrections}


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=tickets.LOCAL_TZ) if value.tzinfo is None else value


def register(session: Session, spec: dict, *, operator: Actor) -> Ticket:
    requester = spec["requester"]
    data = schemas.TicketCreate(
        type=spec["type"],
        title=spec["title"],
        content=spec["content"],
        address=spec.get("address"),
        region_code=spec.get("community_code") or spec.get("town_code"),
        channel=spec["channel"],
        urgency=spec.get("urgency", "normal"),
        category_code=spec["category_code"],
        requester=schemas.RequesterIn(name=requester.get("name"), phone=requester["phone"], id_number=requester.get("id_number")),
        anonymous=spec.get("anonymous", False),
        confidential=spec.get("confidential", False),
    )
    actor = operator if spec["channel"] == "hotline" else REQUESTER
    created_at = _aware(spec["created_at"])
    ticket, _ = tickets.create_ticket(session, data=data, actor=actor, registered_on=created_at.astimezone(tickets.LOCAL_TZ).date())
    ticket.created_at = ticket.updated_at = ticket.clock_started_at = created_at
    for event in ticket.events:
        event.created_at = ticket.created_at
    return ticket


class _NotYet(Exception):
    """A step of a demo order's life that would come after the moment the demo is loaded: it has not happened."""


# What the 12345 centre does as a call comes in, at any hour; every other step is office work.
_ROUND_THE_CLOCK = {"dispatch", "void", "merge", "answer"}


def replay(session: Session, ticket: Ticket, spec: dict, *, operator: Actor, supervisor: Actor, by_ref: dict[str, Ticket], now: datetime, calendar: BusinessCalendar) -> None:
    """Walks one demo order through the real state machine, stamping simulated times. A step that would come after
    `now` (a reply due later today, an archive a week after closing) raises _NotYet, where the walk stops: the order
    waits in the state it had reached, rather than the step being stamped at the moment the demo was loaded.
    Staff steps (签收, 答复, 延期, 回访…) land in office hours of a workday: one due at night or on a weekend is
    taken at the next office moment, and never before the step it follows."""
    clock = [ticket.created_at]

    def stamp(hours: float) -> datetime:
        clock[0] = clock[0] + timedelta(hours=hours)
        return clock[0]

    def _do(session: Session, ticket: Ticket, action: str, actor: Actor, body: schemas.ActionIn, at: datetime) -> None:
        if action not in _ROUND_THE_CLOCK:
            after = ticket.events[-1].created_at
            local = (at if at > after else after + timedelta(minutes=5)).astimezone(tickets.LOCAL_TZ).replace(tzinfo=None)
            office = calendar.add_working_hours(local, 0).at.replace(tzinfo=tickets.LOCAL_TZ)
            if office > now >= at:
                # Due last evening: done before the office closed rather than not yet, so the state counts hold.
                earlier = _last_office_moment(calendar, local)
                office = earlier if earlier is not None and earlier >= after else office
            at = office
            clock[0] = max(clock[0], at)
        if at > now:
            raise _NotYet(action)
        _act(session, ticket, action, actor, body, at)

    def _callback(session: Session, ticket: Ticket, callback: dict, operator: Actor, at: datetime) -> None:
        body = schemas.CallbackIn(version=ticket.version, solved=callback["solved"], satisfaction=callback["satisfaction"], note=callback.get("note"))
        _do(session, ticket, "callback", operator, body, at)

    target = spec["target_status"]
    v = lambda: ticket.version  # noqa: E731
    if target == "registered":
        return
    if target == "voided":
        _do(session, ticket, "void", operator, schemas.ReasonIn(version=v(), reason=spec.get("void_reason") or "经核实为无效诉求"), stamp(0.5))
        return
    if target == "merged":
        master = by_ref[spec["merged_into"]]
        _do(session, ticket, "merge", operator, schemas.MergeIn(version=v(), into=master.number), stamp(0.5))
        return
    if target == "answered":
        # 直接答复办结: the operator answered the 咨询 during the call.
        _do(session, ticket, "answer", operator, schemas.ContentIn(version=v(), content=spec["reply"]), _at(spec.get("replied_at"), stamp(0.1)))
        return
    lead = spec["lead_unit"]
    if lead == demo_units.CENTRE_CODE:
        # Matters the centre cannot answer itself go to the town where they happen.
        lead = demo_units.town_unit_code(spec["town_code"])
    co_units = spec.get("co_units") or []
    _do(session, ticket, "dispatch", operator, schemas.DispatchIn(version=v(), lead_unit=lead, co_units=co_units), _at(spec.get("dispatched_at"), stamp(0.5)))
    if target == "dispatched":
        return
    handler = _unit_actor(session, lead)
    if target == "returned":
        _do(session, ticket, "return", handler, schemas.ReasonIn(version=v(), reason=spec.get("return_reason") or "不属于我单位职责"), stamp(3))
        return
    _do(session, ticket, "sign", handler, schemas.ActionIn(version=v()), stamp(1.5))
    # At a unit with a demo login its handler takes most orders (我来办), so 我的 and 未指派 both hold some.
    if spec.get("assigned") and org.get_user(session, username=handler.name).active:
        _do(session, ticket, "assign", handler, schemas.AssignIn(version=v()), stamp(0.2))
    # Most handlers phone the requester within hours; one order in six is reached late, so the league
    # table's 按时联系率 has something to rank.
    late = 30 if ticket.id % 6 == 0 else 3
    if spec.get("replied_at"):  # however late, the call comes before the reply
        late = min(late, max(0.2, (_aware(spec["replied_at"]) - clock[0]).total_seconds() / 3600 - 1))
    _do(session, ticket, "contact", handler, schemas.ContactIn(version=v(), outcome="已联系", note="已电话联系诉求人，核实具体情况"), stamp(late))
    for extension in spec.get("extensions") or []:
        _do(session, ticket, "extend", handler, schemas.ExtendIn(version=v(), days=extension["days"], reason=extension["reason"]), stamp(24))
        if extension["approved"]:
            _do(session, ticket, "approve-extension", supervisor, schemas.ActionIn(version=v()), stamp(3))
        else:
            _do(session, ticket, "reject-extension", supervisor, schemas.ReasonIn(version=v(), reason=extension["refusal"]), stamp(3))
    if spec.get("contribution"):
        # Two hours after the contact, unless the reply, which draws on the opinion, comes sooner.
        within = 2.0
        if spec.get("replied_at"):
            within = min(within, max(0.0, (_aware(spec["replied_at"]) - clock[0]).total_seconds() / 3600 / 2))
        _do(session, ticket, "contribute", _unit_actor(session, co_units[0]), schemas.ContentIn(version=v(), content=spec["contribution"]), stamp(within))
    if spec.get("pause"):
        _do(session, ticket, "pause", handler, schemas.ReasonIn(version=v(), reason=spec["pause"]["reason"]), _at(spec["pause"]["at"], stamp(24)))
        session.scalar(select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.ended_at.is_(None))).started_at = ticket.events[-1].created_at
    if target == "extension-requested":
        _do(session, ticket, "extend", handler, schemas.ExtendIn(version=v(), days=spec.get("extension_days") or 5, reason=spec.get("extension_reason") or "需要现场核查"), _at(spec.get("extension_at"), stamp(24)))
        return
    if target in ("signed", "extended"):
        return
    _do(session, ticket, "reply", handler, schemas.ContentIn(version=v(), content=spec.get("reply") or "您好，您反映的问题已处理。"), _at(spec.get("replied_at"), stamp(48)))
    if target == "replied":
        return
    callback = spec.get("callback") or {"solved": True, "satisfaction": "满意"}
    _callback(session, ticket, callback, operator, _at(callback.get("at"), stamp(20)))
    clock[0] = ticket.events[-1].created_at
    if target == "callback-done":
        return
    redo = spec.get("redo")
    if redo:
        # 重办: the supervisor sends the unhappy callback back; the unit answers again and is called back again.
        _do(session, ticket, "redo", supervisor, schemas.ReasonIn(version=v(), reason=redo["reason"]), _at(redo["at"], stamp(4)))
        ticket.clock_started_at = ticket.events[-1].created_at  # the new clock runs from the 重办, not from today
        clock[0] = ticket.events[-1].created_at
        if target == "redone":
            return
        _do(session, ticket, "reply", handler, schemas.ContentIn(version=v(), content=redo["reply"]), _at(redo["replied_at"], stamp(72)))
        _callback(session, ticket, redo["callback"], operator, _at(redo["callback"]["at"], stamp(20)))
        clock[0] = ticket.events[-1].created_at
    _do(session, ticket, "close", operator, schemas.ActionIn(version=v()), stamp(1))
    if target == "archived":
        _do(session, ticket, "archive", supervisor, schemas.ActionIn(version=v()), stamp(24 * 7))


def _last_office_moment(calendar: BusinessCalendar, local: datetime) -> datetime | None:
    """The latest minute of office hours at or before `local` (naive local time), within the week before it."""
    for back in range(8):
        day = local.date() - timedelta(days=back)
        if not calendar.is_workday(day):
            continue
        for begin, end in reversed(DEFAULT_WORKING_HOURS):
            if datetime.combine(day, begin) <= local:
                return min(local, datetime.combine(day, end) - timedelta(minutes=1)).replace(tzinfo=tickets.LOCAL_TZ)
    return None


def _at(given: datetime | None, fallback: datetime) -> datetime:
    return _aware(given) if given else fallback


def _act(session: Session, ticket: Ticket, action: str, actor: Actor, body: schemas.ActionIn, at: datetime) -> None:
    tickets.act(session, number=ticket.number, action=action, actor=actor, body=body)
    _stamp(ticket, at)
    # What the action wrote on other orders happened then too: 并入重复件 on the master, and the master's reply and
    # closing on the orders merged into it.
    if action == "merge":
        ticket.master.events[-1].created_at = at
    elif action in ("reply", "close"):
        for duplicate in session.scalars(select(Ticket).where(Ticket.master_id == ticket.id, Ticket.status == "merged")):
            _stamp(duplicate, at)


def _stamp(ticket: Ticket, at: datetime) -> None:
    ticket.events[-1].created_at = at
    for attr in ("dispatched_at", "first_dispatched_at", "signed_at", "contacted_at", "replied_at", "callback_at", "closed_at"):
        if getattr(ticket, attr) is not None and getattr(ticket, attr) > at:
            setattr(ticket, attr, at)
    ticket.updated_at = at

"""Deadlines as stored data: policies, the business calendar, pauses, warnings and urges."""

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baishitong import bounds, clock
from baishitong.actors import SYSTEM, Actor
from baishitong.audit import service as audit
from baishitong.errors import Conflict, InvalidInput
from baishitong.sla.calendar import DEFAULT_WORKING_HOURS, BusinessCalendar, Deadline, DayKind, Pause, covered_years, seed_days
from baishitong.sla.estimated import estimated_off_days, estimated_years
from baishitong.sla.models import CalendarDay, CalendarYear, SlaAlert, SlaPolicy, TicketPause
from baishitong.sla.policy import Limit, SlaRule, Stage, Unit, compute_deadlines, deadline_for, default_rules, match
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.tickets.service import LOCAL_TZ
from baishitong.tickets.states import Status

TIMED_STATUSES = (Status.DISPATCHED, Status.SIGNED)
STAGE_LABELS = {"sign": "签收", "contact": "首次联系", "reply": "答复"}
# As the 节假日 form names them: a refusal names the choices the admin sees, not the stored codes.
DAY_KIND_LABELS = {DayKind.OFF: "休息日（节假日）", DayKind.WORKDAY: "工作日（调休上班）"}
# A unit's request and the centre's decisions that end its wait (SlaPolicy.pause_during_review).
REVIEWS = {"extend": ("approve-extension", "reject-extension"), "return": ("approve-return", "reject-return")}
REVIEW_ACTIONS = frozenset(REVIEWS) | {decision for decisions in REVIEWS.values() for decision in decisions}


# --- conversions ------------------------------------------------------------


def to_local(value: datetime) -> datetime:
    """The calendar works in naive Shunde local time."""
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def from_local(value: datetime) -> datetime:
    return value.replace(tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def rule_to_json(rule: SlaRule) -> dict:
    return {
        "name": rule.name,
        "type": rule.type,
        "channel": rule.channel,
        "urgency": rule.urgency,
        "category_prefix": rule.category_prefix,
        "stages": {str(stage): {"amount": limit.amount, "unit": str(limit.unit)} for stage, limit in rule.stages.items()},
    }


def rule_from_json(data: dict) -> SlaRule:
    try:
        stages = {Stage(s): Limit(float(v["amount"]), Unit(v["unit"])) for s, v in (data.get("stages") or {}).items()}
        return SlaRule(data.get("type"), data.get("channel"), data.get("urgency"), data.get("category_prefix") or None, stages, name=data.get("name") or "")
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput("invalid_sla_rule", f"时限规则“{data.get('name', '')}”有误：{exc}") from None


# --- policy and calendar ------------------------------------------------------


def ensure_seeded(session: Session) -> dict[str, int]:
    """First start: the default policy and the holidays the chinese-calendar package knows."""
    counts = {"时限策略": 0, "节假日与调休": 0}
    if session.scalar(select(func.count()).select_from(SlaPolicy)) == 0:
        session.add(
            SlaPolicy(
                version=1,
                rules=[rule_to_json(r) for r in default_rules()],
                working_hours=[[b.strftime("%H:%M"), e.strftime("%H:%M")] for b, e in DEFAULT_WORKING_HOURS],
                warning_share=0.75,
                note="广东省12345热线2022年工作规范默认时限",
                created_by="system",
            )
        )
        counts["时限策略"] = 1
    if session.scalar(select(func.count()).select_from(CalendarYear)) == 0:
        years = covered_years()
        for day, kind, name in seed_days(min(years), max(years)):
            session.add(CalendarDay(day=day, kind=str(kind), name=name, source="seed"))
            counts["节假日与调休"] += 1
        for year in years:
            session.add(CalendarYear(year=year, source="seed"))
    session.flush()
    return counts


def seed_estimates(session: Session) -> int:
    """The statutory days off of years nobody has entered yet (see sla/estimated.py), so that a 元旦 or
    春节 in such a year is neither a working day for deadlines nor open for bookings. Once a year has an
    entry of its own (published schedule or an admin's day), its estimates are left as they are."""
    known = set(session.scalars(select(CalendarYear.year)))
    present = set(session.scalars(select(CalendarDay.day).where(CalendarDay.day >= date(min(estimated_years()), 1, 1))))
    added = 0
    for year in sorted(estimated_years() - known):
        for day, name in estimated_off_days(year):
            if day not in present:
                session.add(CalendarDay(day=day, kind="off", name=name, source="estimate"))
                added += 1
    session.flush()
    return added


def current_policy(session: Session) -> SlaPolicy:
    policy = session.scalar(select(SlaPolicy).order_by(SlaPolicy.version.desc()).limit(1))
    if policy is None:
        ensure_seeded(session)
        policy = session.scalar(select(SlaPolicy).order_by(SlaPolicy.version.desc()).limit(1))
    return policy


def policy_rules(policy: SlaPolicy) -> list[SlaRule]:
    return [rule_from_json(r) for r in policy.rules]


def save_policy(
    session: Session,
    *,
    rules: list[dict],
    working_hours: list[list[str]] | None,
    warning_share: float | None,
    actor: Actor,
    note: str | None = None,
    base_version: int | None = None,
    restart_on_redispatch: bool | None = None,
    pause_during_review: bool | None = None,
    pause_needs_approval: bool | None = None,
    clock_from_dispatch: bool | None = None,
) -> SlaPolicy:
    """The next version of the policy. With `base_version` (the one the editor started from), a save on
    top of someone else's newer version is refused: the form carries every rule, so it would undo theirs."""
    parsed = [rule_from_json(r) for r in rules]
    for rule in parsed:
        reply, close = rule.stages.get(Stage.REPLY), rule.stages.get(Stage.CLOSE)
        # Every stage counts from registration, so a close limit shorter than the reply one could never be met.
        if reply and close and reply.unit == close.unit and close.amount < reply.amount:
            raise InvalidInput("sla_close_before_reply", f"时限规则“{rule.name}”的办结时限短于答复时限，请调整")
    try:
        match(parsed, type="投诉", channel="web", urgency="normal", category_code=None)
    except ValueError:
        raise InvalidInput("sla_catch_all_missing", "必须保留一条适用于所有工单、设定全部环节时限的默认规则") from None
    current = current_policy(session)
    if base_version is not None and current.version != base_version:
        raise Conflict("sla_policy_changed", f"时限策略已被修改为第 {current.version} 版（可能是您在其他窗口的操作或他人的操作），本次修改未保存；请刷新页面，在最新版本上重新修改")
    hours = working_hours or current.working_hours
    _windows(hours)  # validates
    share = current.warning_share if warning_share is None else warning_share
    if not 0 < share < 1:
        raise InvalidInput("invalid_warning_share", "预警比例应在 0 到 1 之间")
    restart = current.restart_on_redispatch if restart_on_redispatch is None else restart_on_redispatch
    review = current.pause_during_review if pause_during_review is None else pause_during_review
    consent = current.pause_needs_approval if pause_needs_approval is None else pause_needs_approval
    from_dispatch = current.clock_from_dispatch if clock_from_dispatch is None else clock_from_dispatch
    policy = SlaPolicy(
        version=current.version + 1,
        rules=[rule_to_json(r) for r in parsed],
        working_hours=hours,
        warning_share=share,
        restart_on_redispatch=restart,
        pause_during_review=review,
        pause_needs_approval=consent,
        clock_from_dispatch=from_dispatch,
        note=note,
        created_by=actor.name,
    )
    try:
        with session.begin_nested():  # two saves of the same version at once: the second one is refused
            session.add(policy)
            session.flush()
    except IntegrityError:
        raise Conflict("sla_policy_changed", "时限策略刚刚已被修改（可能是您在其他窗口的操作或他人的操作），请刷新后重试") from None
    audit.record(
        session, actor=actor.name, action="sla.policy.save", object_type="sla_policy", object_id=str(policy.version), data={"rules": len(parsed), "note": note or "", "restart_on_redispatch": restart, "pause_during_review": review, "pause_needs_approval": consent, "clock_from_dispatch": from_dispatch}
    )
    _schedule_recompute(session, reason=f"policy v{policy.version}")
    return policy


def _windows(hours: list[list[str]]) -> list[tuple[time, time]]:
    try:
        windows = [(time.fromisoformat(b), time.fromisoformat(e)) for b, e in hours]
        BusinessCalendar({}, working_hours=windows, known_years=())
    except (ValueError, TypeError):
        raise InvalidInput("invalid_working_hours", "工作时间格式应为 [[\"08:30\",\"12:00\"],[\"14:00\",\"17:30\"]]，且时段不可重叠") from None
    return windows


def business_calendar(session: Session, *, policy: SlaPolicy | None = None) -> BusinessCalendar:
    policy = policy or current_policy(session)
    overrides = {row.day: DayKind(row.kind) for row in session.scalars(select(CalendarDay))}
    years = set(session.scalars(select(CalendarYear.year)))
    return BusinessCalendar(overrides, working_hours=_windows(policy.working_hours), known_years=years)


def set_calendar_day(session: Session, *, day: date, kind: str | None, name: str, actor: Actor) -> None:
    """An admin marks a day off or a make-up workday, or (kind None) restores the weekday rule."""
    if not bounds.plausible(day):
        raise InvalidInput("day_out_of_range", f"日期{bounds.YEARS}")
    row = session.get(CalendarDay, day)
    if kind is None:
        if row is not None:
            session.delete(row)
    else:
        if kind not in DAY_KIND_LABELS:
            raise InvalidInput("invalid_day_kind", f"日期类型应为“{DAY_KIND_LABELS[DayKind.OFF]}”或“{DAY_KIND_LABELS[DayKind.WORKDAY]}”")
        if row is None:
            session.add(CalendarDay(day=day, kind=kind, name=name, source="admin"))
        else:
            row.kind, row.name, row.source = kind, name, "admin"
    if session.get(CalendarYear, day.year) is None:
        session.add(CalendarYear(year=day.year, source="admin"))
    session.flush()
    audit.record(session, actor=actor.name, action="sla.calendar.set", object_type="calendar_day", object_id=day.isoformat(), data={"kind": kind, "name": name})
    _schedule_recompute(session, reason=f"calendar {day}")


def year_entered(session: Session, *, year: int) -> bool:
    """Whether the year's schedule is in: published with the calendar package, or entered by an admin."""
    return session.get(CalendarYear, year) is not None


def calendar_days(session: Session, *, year: int) -> list[CalendarDay]:
    return list(session.scalars(select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day)))


def _schedule_recompute(session: Session, *, reason: str) -> None:
    from baishitong.jobs.service import enqueue

    enqueue(session, "sla.recompute_open", reason=reason)


# --- the clock of one ticket --------------------------------------------------


def _pauses(session: Session, ticket: Ticket, policy: SlaPolicy) -> tuple[list[Pause], list[Pause]]:
    """The pauses that stop every step's clock (the unit's own, a 退单 under review), and those that stop the
    reply and close limits: these and a 延期 under review, which holds the time to answer but not the first
    contact the requester is owed meanwhile."""
    rows = session.scalars(select(TicketPause).where(TicketPause.ticket_id == ticket.id).order_by(TicketPause.started_at))
    pauses = [(to_local(p.started_at), to_local(p.ended_at) if p.ended_at else None) for p in rows]
    if not policy.pause_during_review:
        return pauses, pauses
    holds = _review_holds(session, ticket)
    return pauses + holds["return"], pauses + holds["return"] + holds["extend"]


def _review_holds(session: Session, ticket: Ticket) -> dict[str, list[Pause]]:
    """From each 延期 or 退单 request to the centre's decision on it (still open: None), by request."""
    events = session.execute(
        select(TicketEvent.action, TicketEvent.created_at).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(REVIEW_ACTIONS)).order_by(TicketEvent.id)
    )
    holds: dict[str, list[Pause]] = {request: [] for request in REVIEWS}
    waiting: dict[str, datetime] = {}
    for action, at in events:
        if action in REVIEWS:
            waiting[action] = to_local(at)
        for request, decisions in REVIEWS.items():
            if action in decisions and request in waiting:
                holds[request].append((waiting.pop(request), to_local(at)))
    for request, since in waiting.items():
        holds[request].append((since, None))
    return holds


def _extended(limit: Limit, days: int) -> Limit:
    if not days:
        return limit
    if limit.unit is Unit.WORKING_DAYS:
        return Limit(limit.amount + days, limit.unit)
    if limit.unit is Unit.WORKING_HOURS:
        return Limit(limit.amount + days * 7, limit.unit)
    return Limit(limit.amount + days * 24, limit.unit)


def _scaled(limit: Limit, share: float) -> Limit:
    return Limit(limit.amount * share, limit.unit)


def _unit_start(ticket: Ticket, policy: SlaPolicy, start: datetime) -> datetime:
    """Where the unit's steps (contact, reply) count from: the clock's start or, where the policy says so
    (`clock_from_dispatch`), the order's first dispatch when that is later, so the days it waited in 待派单 are
    the centre's and neither urge the unit nor lower its figures. A later restart (重办, 改派) counts from itself."""
    if policy.clock_from_dispatch and ticket.first_dispatched_at is not None:
        return max(start, to_local(ticket.first_dispatched_at))
    return start


def recompute(session: Session, *, ticket: Ticket, policy: SlaPolicy | None = None, calendar: BusinessCalendar | None = None) -> None:
    policy = policy or current_policy(session)
    calendar = calendar or business_calendar(session, policy=policy)
    rule = match(policy_rules(policy), type=ticket.type, channel=ticket.channel, urgency=ticket.urgency, category_code=ticket.category.code if ticket.category else None)
    start = to_local(ticket.clock_started_at or ticket.created_at)
    unit_start = _unit_start(ticket, policy, start)
    now = to_local(clock.now())
    step_pauses, pauses = _pauses(session, ticket, policy)
    stages = compute_deadlines(calendar, rule, unit_start, step_pauses, now=now)
    reply_limit = _extended(rule.stages[Stage.REPLY], ticket.extension_granted_days)
    close_limit = _extended(rule.stages[Stage.CLOSE], ticket.extension_granted_days)
    reply = deadline_for(calendar, reply_limit, unit_start, pauses, now=now)
    # 办结 is the centre's step and the statutory total owed to the requester: from registration (or a restart).
    close = deadline_for(calendar, close_limit, start, pauses, now=now)
    warn = deadline_for(calendar, _scaled(reply_limit, policy.warning_share), unit_start, pauses, now=now)
    sign: Deadline | None = None
    if ticket.dispatched_at is not None:
        sign = deadline_for(calendar, rule.stages[Stage.SIGN], to_local(ticket.dispatched_at), step_pauses, now=now)
    # No step may fall due after the reply it leads to: an enterprise order's 24 clock hours can end over a
    # weekend, before working-hour limits to sign or make contact would.
    ticket.sign_due = from_local(min(sign.at, reply.at)) if sign else None
    ticket.contact_due = from_local(min(stages[Stage.CONTACT].at, reply.at))
    ticket.reply_due = from_local(reply.at)
    ticket.close_due = from_local(close.at)
    ticket.reply_warn_at = from_local(warn.at)
    ticket.clock_stopped = reply.paused
    ticket.deadline_provisional = any(d.provisional for d in (reply, close, stages[Stage.CONTACT], *( [sign] if sign else [])))
    ticket.sla_policy_version = policy.version


def start_clock(session: Session, *, ticket: Ticket, redo: bool = False) -> None:
    """Registration starts the clock; a redo (重办) after an unsatisfied callback starts a new one."""
    if redo or ticket.clock_started_at is None:
        ticket.clock_started_at = clock.now() if redo else ticket.created_at
        if redo:
            ticket.extension_granted_days = 0
    recompute(session, ticket=ticket)


def dispatched(session: Session, *, ticket: Ticket, redispatch: bool) -> bool:
    """The signing deadline runs from this dispatch. An order sent on to another unit (after an approved 退单,
    or before the first unit signed) starts a new clock when the policy says so, as a 重办 does: the new
    unit is not charged with the days the order spent elsewhere. Returns whether the clock restarted."""
    restart = redispatch and current_policy(session).restart_on_redispatch
    start_clock(session, ticket=ticket, redo=restart)
    return restart


def extend_clock(session: Session, *, ticket: Ticket, days: int) -> None:
    ticket.extension_granted_days += days
    recompute(session, ticket=ticket)


def pause(session: Session, *, ticket: Ticket, reason: str) -> None:
    if ticket.paused:
        raise Conflict("already_paused", "计时已暂停")
    session.add(TicketPause(ticket_id=ticket.id, reason=reason, started_at=clock.now()))
    ticket.paused = True
    session.flush()
    recompute(session, ticket=ticket)


def resume(session: Session, *, ticket: Ticket) -> None:
    row = session.scalar(select(TicketPause).where(TicketPause.ticket_id == ticket.id, TicketPause.ended_at.is_(None)))
    if row is None:
        raise Conflict("not_paused", "计时未暂停")
    row.ended_at = clock.now()
    ticket.paused = False
    session.flush()
    recompute(session, ticket=ticket)


def review_changed(session: Session, *, ticket: Ticket) -> None:
    """A 延期 or 退单 request, or the centre's decision on it: the unit's clock stops or runs again."""
    policy = current_policy(session)
    if policy.pause_during_review:
        recompute(session, ticket=ticket, policy=policy)


def refresh_paused(session: Session) -> int:
    """The stored deadlines of an order whose clock stands still (paused by the unit, or held while the centre
    reviews its request) are a lower bound taken when they were last computed: the deadline if the clock ran
    again then. The worker moves them on each minute, so such an order stays off overdue lists, out of the
    league's late orders and away from the deadline checks; an order stopped after its deadline stays late."""
    paused = session.scalars(select(Ticket).where(Ticket.status.in_(TIMED_STATUSES), Ticket.clock_stopped.is_(True))).all()
    if not paused:  # most minutes: no policy or calendar to read
        return 0
    policy = current_policy(session)
    calendar = business_calendar(session, policy=policy)
    for ticket in paused:
        recompute(session, ticket=ticket, policy=policy, calendar=calendar)
        # Time passing is not a change to the order: Open311's updated_datetime and the desks' "latest
        # first" must not move every minute (an SQL expression here keeps the column's onupdate away).
        ticket.updated_at = Ticket.updated_at
    session.flush()
    return len(paused)


def recompute_open(session: Session) -> int:
    policy = current_policy(session)
    calendar = business_calendar(session, policy=policy)
    count = 0
    for ticket in session.scalars(select(Ticket).where(Ticket.status.in_([*TIMED_STATUSES, Status.REGISTERED, Status.RETURNED, Status.REPLIED]))):
        recompute(session, ticket=ticket, policy=policy, calendar=calendar)
        count += 1
    return count


# --- warnings, urges, escalation ------------------------------------------------


def _alert_once(session: Session, *, ticket: Ticket, stage: str, kind: str, due_at: datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(SlaAlert(ticket_id=ticket.id, stage=stage, kind=kind, due_at=due_at))
    except IntegrityError:
        return False
    return True


def check_deadlines(session: Session, *, now: datetime) -> dict[str, int]:
    """Warns units near a deadline and urges and escalates overdue orders, each exactly once per deadline."""
    from baishitong.notify import service as notify
    from baishitong.tickets import service as tickets

    counts = {"warnings": 0, "urges": 0}
    due = session.scalars(
        select(Ticket).where(
            Ticket.status.in_(TIMED_STATUSES),
            Ticket.paused.is_(False),
            or_(
                Ticket.reply_warn_at <= now,
                and_(Ticket.status == Status.DISPATCHED, Ticket.sign_due <= now),
                and_(Ticket.contacted_at.is_(None), Ticket.contact_due <= now),
            ),
        )
    ).all()
    for ticket in due:
        stages = [("reply", ticket.reply_due)]
        if ticket.status == Status.DISPATCHED and ticket.sign_due is not None:
            stages.append(("sign", ticket.sign_due))
        if ticket.contacted_at is None and ticket.contact_due is not None:
            stages.append(("contact", ticket.contact_due))
        for stage, due_at in stages:
            if due_at is None:
                continue
            if due_at <= now:
                if _alert_once(session, ticket=ticket, stage=stage, kind="overdue", due_at=due_at):
                    label = STAGE_LABELS[stage]
                    tickets.record_urge(session, ticket, actor=SYSTEM, note=f"{label}已超时，系统自动催办", data={"stage": stage, "due": due_at.isoformat(), "auto": True})
                    notify.deadline_alert(session, ticket=ticket, stage=stage, overdue=True)
                    counts["urges"] += 1
            elif stage == "reply" and ticket.reply_warn_at is not None and ticket.reply_warn_at <= now:
                if _alert_once(session, ticket=ticket, stage=stage, kind="warning", due_at=due_at):
                    notify.deadline_alert(session, ticket=ticket, stage=stage, overdue=False)
                    counts["warnings"] += 1
    return counts


def deadline_text(deadline: Deadline) -> str:
    return deadline.at.strftime("%Y-%m-%dT%H:%M") + (" provisional" if deadline.provisional else "")


# Well past any statutory limit (the longest are a few dozen working days), short of running off the calendar.
CLI_MAX_WORKING_DAYS = 365


def cli_deadline(*, start: datetime, working_days: float | None, working_hours: float | None, calendar: BusinessCalendar) -> Deadline:
    """`baishitong sla deadline`: a start with an offset is read in local time; one limit, finite and in range."""
    if start.tzinfo is not None:
        start = start.astimezone(LOCAL_TZ).replace(tzinfo=None)
    if not bounds.plausible(start):
        raise InvalidInput("invalid_start", f"--start {bounds.YEARS}")
    if working_days is not None and working_hours is not None:
        raise InvalidInput("two_limits", "--working-days 和 --working-hours 只能指定其中一个")
    if working_days is not None:
        if not 0 <= working_days <= CLI_MAX_WORKING_DAYS:  # NaN fails every comparison
            raise InvalidInput("invalid_limit", f"--working-days 须在 0 至 {CLI_MAX_WORKING_DAYS} 之间")
        return calendar.add_working_days(start, working_days)
    if working_hours is not None:
        if not 0 <= working_hours <= CLI_MAX_WORKING_DAYS * 24:
            raise InvalidInput("invalid_limit", f"--working-hours 须在 0 至 {CLI_MAX_WORKING_DAYS * 24} 之间")
        return calendar.add_working_hours(start, working_hours)
    raise InvalidInput("missing_limit", "请指定 --working-days 或 --working-hours")


def overdue_hours(ticket: Ticket, *, now: datetime) -> float | None:
    if ticket.reply_due is None or ticket.reply_due > now:
        return None
    return (now - ticket.reply_due) / timedelta(hours=1)

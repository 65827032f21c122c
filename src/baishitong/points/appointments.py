"""Booking a time slot at a service point: slots, book/cancel/reschedule, check-in, no-shows, reminders.

Never overbooked: every booking bumps its slot's counter row with
`UPDATE … SET booked = booked + 1 WHERE booked < capacity` and fails when no row
changed. On PostgreSQL concurrent updates of that row queue on its row lock and
re-check the condition after the winner commits; on SQLite write transactions
begin IMMEDIATE and run one at a time. The counter row itself is created with
insert-on-conflict-do-nothing, so the first bookings of a slot cannot race either.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.dates import day_text
from baishitong.demo.catalogue import SERVICE_ITEMS
from baishitong.errors import Conflict, InvalidInput, NotFound
from baishitong.notify import service as notify
from baishitong.org.models import Unit
from baishitong.points import hours as hours_core
from baishitong.points import service as points
from baishitong.points.models import Appointment, AppointmentSequence, ServicePoint, SlotCounter
from baishitong.tickets.schemas import visible_length
from baishitong.tickets.validation import MOBILE, normalise_phone

SCOPE = "appointments.create"
BOOKING_DAYS = 14  # today and the next 13 days
NO_SHOW_AFTER = timedelta(minutes=30)
STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "checked_in": "已签到", "no_show": "已爽约"}
SLOT_PASSED = "预约时段已开始或已过，无法取消或改约"


@dataclass(frozen=True, slots=True)
class SlotView:
    start: datetime  # aware, Shunde time
    end: datetime
    capacity: int
    remaining: int


def local(value: datetime) -> datetime:
    """Aware Shunde time; a naive value is taken to be Shunde wall-clock time already."""
    return value.astimezone(hours_core.SHUNDE_TZ) if value.tzinfo else value.replace(tzinfo=hours_core.SHUNDE_TZ)


def _utc(value: datetime) -> datetime:
    return local(value).astimezone(timezone.utc)


# --- slots ---------------------------------------------------------------------


def day_slots(session: Session, *, point: ServicePoint, day: date, now: datetime | None = None) -> list[SlotView]:
    """The point's slots on `day` (none on holidays; weekday hours on make-up workdays), upcoming only when now is given."""
    capacity = point.capacity
    if not point.active or capacity < 1 or not point.hours:
        return []
    workday, holiday = points.day_flags(session, day)
    raw = hours_core.slots(point.hours, day, workday=workday, holiday=holiday, slot_minutes=point.slot_minutes, capacity=capacity)
    views = [(local(s.start), local(s.end)) for s in raw]
    if now is not None:
        views = [(start, end) for start, end in views if start > now]
    if not views:
        return []
    starts = [start.astimezone(timezone.utc) for start, _ in views]
    booked = dict(session.execute(select(SlotCounter.slot_start, SlotCounter.booked).where(SlotCounter.point_id == point.id, SlotCounter.slot_start.in_(starts))).all())
    return [SlotView(start, end, capacity, max(0, capacity - booked.get(start.astimezone(timezone.utc), 0))) for start, end in views]


def bookable(day: date, *, today: date) -> bool:
    return 0 <= (day - today).days < BOOKING_DAYS


def _slot(session: Session, *, point: ServicePoint, start: datetime, now: datetime) -> SlotView:
    start = local(start)
    if start <= now:
        raise InvalidInput("slot_in_past", "该时段已开始或已过去，请选择之后的时段")
    if not bookable(start.date(), today=now.date()):
        last = now.date() + timedelta(days=BOOKING_DAYS - 1)
        raise InvalidInput("slot_too_far", f"只能预约 {BOOKING_DAYS} 天内（{day_text(last)}前）的时段")
    for slot in day_slots(session, point=point, day=start.date()):
        if slot.start == start:
            return slot
    raise InvalidInput("slot_unavailable", f"{point.name}在 {day_text(start, year=True, time=True)} 没有可预约的时段（可能不营业或时间不对）")


def _take_place(session: Session, *, point: ServicePoint, slot: SlotView) -> None:
    start = slot.start.astimezone(timezone.utc)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(SlotCounter).values(point_id=point.id, slot_start=start, booked=0).on_conflict_do_nothing(index_elements=["point_id", "slot_start"]))
    taken = session.execute(
        update(SlotCounter)
        .where(SlotCounter.point_id == point.id, SlotCounter.slot_start == start, SlotCounter.booked < slot.capacity)
        .values(booked=SlotCounter.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise Conflict("slot_full", f"{day_text(slot.start, time=True)} 的时段已约满，请选择其他时段")


def _release_place(session: Session, *, appointment: Appointment) -> None:
    session.execute(
        update(SlotCounter)
        .where(SlotCounter.point_id == appointment.point_id, SlotCounter.slot_start == appointment.slot_start, SlotCounter.booked > 0)
        .values(booked=SlotCounter.booked - 1)
        .execution_options(synchronize_session=False)
    )


# --- booking -------------------------------------------------------------------


def next_number(session: Session, *, day: date) -> str:
    """YY + date + daily sequence, by atomic upsert like work-order numbers."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(AppointmentSequence)
        .values(day=day, value=1)
        .on_conflict_do_update(index_elements=["day"], set_={"value": AppointmentSequence.value + 1})
        .returning(AppointmentSequence.value)
    )
    return f"YY{day:%Y%m%d}{session.execute(statement).scalar_one():04d}"


def book(
    session: Session,
    *,
    point_code: str,
    slot_start: datetime,
    name: str,
    phone: str,
    now: datetime,
    item_code: str | None = None,
    idempotency_key: str | None = None,
) -> tuple[Appointment, bool]:
    """Books one place; (appointment, created). A repeated Idempotency-Key returns the first booking.

    One phone holds at most one booking per point and day, so nobody can drain a day's places under
    fresh keys; a second visit that day is a 改约 of the first."""
    phone = checked_mobile(phone)
    name = (name or "").strip()
    # A zero-width space or a right-to-left mark survives strip(): the counter would have no name to call.
    if not visible_length(name):
        raise InvalidInput("name_required", "请填写预约人姓名")
    body = {"point": point_code, "item": item_code, "slot_start": _utc(slot_start).isoformat(), "name": name, "phone": phone}
    first = idempotency.replayed(session, scope=SCOPE, key=idempotency_key, body=body)
    if first is not None:
        return session.scalar(select(Appointment).where(Appointment.number == first)), False
    point = points.get_point(session, code=point_code)
    if item_code and item_code not in (point.services or {}):
        raise InvalidInput("item_not_offered", f"{point.name}不办理事项“{item_code}”")
    slot = _slot(session, point=point, start=slot_start, now=local(now))
    _refuse_second_booking(session, point=point, phone=phone, day=slot.start.date())
    _take_place(session, point=point, slot=slot)
    appointment = Appointment(
        number=next_number(session, day=local(now).date()),
        point=point,
        item_code=item_code,
        slot_start=slot.start.astimezone(timezone.utc),
        slot_end=slot.end.astimezone(timezone.utc),
        name=name,
        phone=phone,
        status="booked",
    )
    session.add(appointment)
    session.flush()
    idempotency.remember(session, scope=SCOPE, key=idempotency_key, body=body, resource_id=appointment.number)
    confirm_by_sms(session, appointment=appointment, now=now)
    return appointment, True


def _refuse_second_booking(session: Session, *, point: ServicePoint, phone: str, day: date, moving: Appointment | None = None) -> None:
    """One booking per phone, point and day; `moving` is the booking being rescheduled, which does not count.

    Two of them sent at the same instant must not both pass the check: SQLite's write transactions already take
    turns; on PostgreSQL this phone's bookings at the point take turns under an advisory lock until commit."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"booking:{point.id}:{phone}:{day.isoformat()}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    begin = datetime.combine(day, time.min, hours_core.SHUNDE_TZ).astimezone(timezone.utc)
    query = select(Appointment).where(
        Appointment.point_id == point.id, Appointment.phone == phone, Appointment.status == "booked",
        Appointment.slot_start >= begin, Appointment.slot_start < begin + timedelta(days=1),
    )
    if moving is not None:
        query = query.where(Appointment.id != moving.id)
    held = session.scalar(query.limit(1))
    if held is not None:
        raise Conflict(
            "already_booked",
            f"该手机号已预约{point.name} {day_text(held.slot_start, time=True)} 的时段（预约号 {held.number}），同一天只能预约一次；如需换时间，请在“预约查询”中改约",
        )


def checked_mobile(phone: str) -> str:
    """The number the confirmation and reminder are texted to and the booking later proven with, so a mobile:
    a landline takes no SMS. 138 0000 0000 and +86 13800000000 are one."""
    try:
        digits = normalise_phone(phone)
    except ValueError:
        digits = ""
    if not MOBILE.match(digits):
        raise InvalidInput("invalid_phone", "请填写 11 位手机号码，预约确认和提醒以短信发送")
    return digits


def _digits(phone: str) -> str:
    try:
        return normalise_phone(phone or "")
    except ValueError:
        return re.sub(r"\D", "", phone or "")


def get_for_requester(session: Session, *, number: str, phone: str) -> Appointment:
    """The requester proves ownership with the phone number; a mismatch looks like a missing booking."""
    appointment = session.scalar(select(Appointment).where(Appointment.number == number))
    if appointment is None or not _digits(phone) or _digits(appointment.phone) != _digits(phone):
        raise NotFound("appointment_not_found", "预约不存在或手机号不匹配")
    return appointment


def get(session: Session, *, number: str) -> Appointment:
    appointment = session.scalar(select(Appointment).where(Appointment.number == number))
    if appointment is None:
        raise NotFound("appointment_not_found", f"预约“{number}”不存在")
    return appointment


def _require_booked(appointment: Appointment, what: str) -> None:
    if appointment.status != "booked":
        raise Conflict("appointment_not_active", f"该预约{STATUS_LABELS.get(appointment.status, appointment.status)}，无法{what}")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("appointment_changed", "该预约刚被修改，请刷新后重试") from None


def changeable(appointment: Appointment, *, now: datetime) -> bool:
    """Whether the booker may still cancel or move it: booked, and its slot not yet begun."""
    return appointment.status == "booked" and local(appointment.slot_start) > local(now)


def _require_changeable(appointment: Appointment, what: str, *, now: datetime) -> None:
    """Once the slot has begun the booking is kept or missed: a late 取消 would hide a no-show as 已取消."""
    _require_booked(appointment, what)
    if not changeable(appointment, now=now):
        raise Conflict("slot_passed", SLOT_PASSED)


def cancel(session: Session, *, number: str, phone: str, now: datetime) -> Appointment:
    appointment = get_for_requester(session, number=number, phone=phone)
    _require_changeable(appointment, "取消", now=now)
    _release_place(session, appointment=appointment)
    appointment.status = "cancelled"
    _flush(session)
    return appointment


def reschedule(session: Session, *, number: str, phone: str, slot_start: datetime, now: datetime) -> Appointment:
    appointment = get_for_requester(session, number=number, phone=phone)
    _require_changeable(appointment, "改约", now=now)
    if _utc(slot_start) == _utc(appointment.slot_start):
        raise Conflict("same_slot", "您当前预约的就是这个时段，请选择其他时段改约")
    slot = _slot(session, point=appointment.point, start=slot_start, now=local(now))
    new_start = slot.start.astimezone(timezone.utc)
    # Else two bookings made on different days could be moved onto one, past the one-a-day rule.
    _refuse_second_booking(session, point=appointment.point, phone=appointment.phone, day=slot.start.date(), moving=appointment)
    _take_place(session, point=appointment.point, slot=slot)
    _release_place(session, appointment=appointment)
    appointment.slot_start, appointment.slot_end = new_start, slot.end.astimezone(timezone.utc)
    _flush(session)
    confirm_by_sms(session, appointment=appointment, now=now)
    return appointment


def serves(session: Session, *, actor: Actor, point: ServicePoint) -> bool:
    """Who may look up and check in a point's bookings: the centre anywhere; a town's or a community's
    staff at the points in their town; departments' staff at the district hall, where their windows are."""
    if not actor.is_unit_staff:
        return True
    unit = session.get(Unit, actor.unit_id)
    if unit is None:
        return False
    if unit.kind == "department":
        return point.kind == "district_hall"
    town = unit if unit.kind == "town" else unit.parent if unit.kind == "community" else None
    return town is not None and town.region_code == point.town_code


def get_for_counter(session: Session, *, number: str, actor: Actor) -> Appointment:
    """A booking at a point this actor serves; any other looks missing, as another unit's work order does."""
    appointment = get(session, number=number)
    if not serves(session, actor=actor, point=appointment.point):
        raise NotFound("appointment_not_found", f"预约“{number}”不存在或不属于本单位服务的网点")
    return appointment


def check_in(session: Session, *, number: str, now: datetime, actor: Actor) -> Appointment:
    """Staff at the point confirm arrival, on the booked day (a late arrival already marked no-show still counts)."""
    appointment = get_for_counter(session, number=number, actor=actor)
    if appointment.status not in ("booked", "no_show"):
        raise Conflict("appointment_not_active", f"该预约{STATUS_LABELS.get(appointment.status, appointment.status)}，无法签到")
    if local(appointment.slot_start).date() != local(now).date():
        raise InvalidInput("not_appointment_day", f"只能在预约当天（{local(appointment.slot_start):%Y-%m-%d}）签到")
    appointment.status = "checked_in"
    appointment.checked_in_at = now
    _flush(session)
    audit.record(session, actor=actor.name, action="appointment.check_in", object_type="appointment", object_id=appointment.number, data={"point": appointment.point.code})
    return appointment


# --- time-driven ---------------------------------------------------------------


def mark_no_shows(session: Session, *, now: datetime) -> int:
    """Booked appointments whose slot ended more than 30 minutes ago become no-shows; idempotent."""
    due = session.scalars(select(Appointment).where(Appointment.status == "booked", Appointment.slot_end < now - NO_SHOW_AFTER))
    count = 0
    for appointment in due:
        appointment.status = "no_show"
        count += 1
    _flush(session)
    return count


def _item_name(code: str | None) -> str:
    """The reminder template reads "办理{item}"; demo catalogue names until the ServiceItem table is wired in."""
    if not code:
        return "政务服务事项"
    return next((i["name"] for i in SERVICE_ITEMS if i["code"] == code), code)


def _text(session: Session, appointment: Appointment, *, template_code: str, with_day: bool) -> None:
    start = local(appointment.slot_start)
    point = appointment.point
    notify.to_requester(
        session,
        phone=appointment.phone,
        template_code=template_code,
        context={
            "number": appointment.number,
            "name": appointment.name,
            "point": point.name,
            "address": point.address,
            "phone": point.phone or "",
            "date": day_text(start, year=True),
            "time": day_text(start, time=True) if with_day else f"{start:%H:%M}",
            "item": _item_name(appointment.item_code),
        },
        ticket_id=None,
    )


def confirm_by_sms(session: Session, *, appointment: Appointment, now: datetime) -> None:
    """The booking (or its new time) by SMS: the 预约号 is otherwise only on a page the citizen may close.

    Sent the day before the visit or on the day itself, it stands for the reminder, which would otherwise
    follow it within the minute; a new time further ahead re-arms the reminder."""
    _text(session, appointment, template_code="appointment_booked", with_day=True)
    soon = local(appointment.slot_start).date() <= local(now).date() + timedelta(days=1)
    appointment.reminded_at = now if soon else None
    _flush(session)


def remind(session: Session, *, appointment: Appointment, now: datetime) -> bool:
    """Sends the day-before reminder once per booked slot (a reschedule re-arms it)."""
    if appointment.status != "booked" or appointment.reminded_at is not None:
        return False
    _text(session, appointment, template_code="appointment_reminder", with_day=False)
    appointment.reminded_at = now
    _flush(session)
    return True


def send_reminders(session: Session, *, now: datetime) -> int:
    """Reminds everyone booked for tomorrow (Shunde date) who has not been reminded yet."""
    tomorrow = local(now).date() + timedelta(days=1)
    begin = datetime.combine(tomorrow, time(), hours_core.SHUNDE_TZ).astimezone(timezone.utc)
    due = session.scalars(
        select(Appointment)
        .where(Appointment.status == "booked", Appointment.reminded_at.is_(None), Appointment.slot_start >= begin, Appointment.slot_start < begin + timedelta(days=1))
        .order_by(Appointment.slot_start, Appointment.id)
    ).all()
    return sum(remind(session, appointment=a, now=now) for a in due)

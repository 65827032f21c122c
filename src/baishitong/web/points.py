"""办事网点 and 预约: find the nearest point, see its hours and services, book, look up, change or cancel."""

import secrets
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong import bounds, clock
from baishitong.dates import day_text
from baishitong.deps import get_db_session
from baishitong.errors import Conflict, DomainError, InvalidInput, NotFound
from baishitong.knowledge import service as kb
from baishitong.points import KIND_LABELS
from baishitong.points import appointments as booking
from baishitong.points import hours as hours_core
from baishitong.points import service as points
from baishitong.points.models import Appointment, ServicePoint
from baishitong.security import mask_name, mask_phone
from baishitong.tickets.schemas import visible_length
from baishitong.tickets.validation import normalise_number
from baishitong.web.csrf import checked_form
from baishitong.web.views import render

router = APIRouter(include_in_schema=False)

NEAREST_LIMIT = 10
NEARBY_M = 2000  # 门口办's promise: a service point within 2 km
OUTSIDE_SHUNDE_M = 50_000  # further than that, the place searched from is not in Shunde
WEEKDAYS = "一二三四五六日"
# What 24小时 means to a citizen: a kiosk that never closes, not even on holidays (hours.day_intervals).
ALL_DAY_HOURS = "全天 24 小时开放，节假日照常"


def distance_text(metres: float) -> str:
    return f"{metres:.0f} 米" if metres < 1000 else f"{metres / 1000:.1f} 公里"


def _item_names(session: Session) -> dict[str, str]:
    return {i.code: i.name for i in kb.list_items(session)}


def _hours_lines(text: str) -> list[str]:
    """'周一至周五 09:00-17:00; 周六 09:00-12:00' → one line per rule, as written by the point."""
    if hours_core.always_open(text):
        return [ALL_DAY_HOURS]
    return [part.strip() for part in (text or "").replace("；", ";").split(";") if part.strip()]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _float(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


@router.get("/points")
def points_list(
    request: Request, near: str = "", lat: str = "", lon: str = "", service: str = "", open_now: str = "", bookable: str = "", within: str = "",
    session: Session = Depends(get_db_session),
):
    """Nearest points; bookable=1 (办事指南's 预约办理) keeps only those taking online appointments, within=1
    those within 2 km. The nearest one's distance says when none is that close, or the place is not in Shunde."""
    near, service = near.strip()[:100], service.strip()[:32]
    items = _item_names(session)
    values = {"near": near, "service": service if service in items else "", "open_now": bool(open_now), "bookable": bool(bookable), "within": bool(within), "lat": "", "lon": ""}
    latitude, longitude = _float(lat), _float(lon)
    place, error, results, nearest_m = None, None, None, None
    try:
        # A place typed in is the citizen's latest choice; otherwise 使用我的位置's position, which the form
        # keeps so that changing a filter searches around it again.
        if near:
            latitude, longitude, place = points.locate_text(session, text=near)
        elif latitude is not None and longitude is not None:
            place = "您的位置"
            values |= {"lat": f"{latitude:.3f}", "lon": f"{longitude:.3f}"}
        if place:
            now = clock.now()
            hits = points.nearest(
                session, lat=latitude, lon=longitude, limit=NEAREST_LIMIT, radius_m=NEARBY_M if values["within"] else None,
                service=values["service"] or None, open_now=values["open_now"], bookable=values["bookable"], at=now,
            )
            nearest_m = hits[0][1] if hits else None
            is_open = points.open_checker(session, now)
            results = [
                {"point": p, "distance": distance_text(d), "open": is_open(p.hours), "hours": ALL_DAY_HOURS if hours_core.always_open(p.hours) else p.hours, "bookable": p.bookable, "kind": KIND_LABELS.get(p.kind, p.kind)}
                for p, d in hits
            ]
    except InvalidInput as exc:
        error = exc.message
    # Searched without a place, or arrived from 办事指南 with only the service chosen.
    ask_place = place is None and error is None and ("near" in request.query_params or bool(values["service"]))
    return render(
        request,
        "public/points.html",
        {
            "values": values, "items": sorted(items.items()), "item_name": items.get(values["service"]), "place": place, "error": error, "ask_place": ask_place, "results": results,
            "outside_shunde": nearest_m is not None and nearest_m > OUTSIDE_SHUNDE_M, "none_nearby": nearest_m is not None and nearest_m > NEARBY_M, "nav": "/points",
        },
    )


@router.get("/points/{code}")
def point_detail(code: str, request: Request, session: Session = Depends(get_db_session)):
    point = points.get_point(session, code=code)
    items = _item_names(session)
    services = [{"code": c, "name": items.get(c, c), "channels": channels} for c, channels in sorted((point.services or {}).items())]
    return render(
        request,
        "public/points_detail.html",
        {"point": point, "kind": KIND_LABELS.get(point.kind, point.kind), "hours": _hours_lines(point.hours), "always_open": hours_core.always_open(point.hours), "open": points.open_checker(session, clock.now())(point.hours), "services": services, "bookable": point.bookable, "nav": "/points"},
    )


# --- booking -------------------------------------------------------------------


def _today() -> date:
    return booking.local(clock.now()).date()


def _days(session: Session, point: ServicePoint) -> list[dict]:
    """The next 14 days with how many places are left; closed days (holidays, weekends) say 休息."""
    now = booking.local(clock.now())
    out = []
    for offset in range(booking.BOOKING_DAYS):
        day = now.date() + timedelta(days=offset)
        slots = booking.day_slots(session, point=point, day=day, now=now)
        # Today past its last slot's start: the point may still be open, it is only too late to book (已截止, not 休息).
        ended = offset == 0 and not slots and bool(booking.day_slots(session, point=point, day=day))
        out.append({"date": day, "label": day_text(day), "weekday": "今天" if offset == 0 else "周" + WEEKDAYS[day.weekday()], "open": bool(slots), "ended": ended, "left": sum(s.remaining for s in slots)})
    return out


def _parse_day(value: str | None) -> date | None:
    """The day a link or a form names, read as every typed date is (bounds.parse_day). None for a missing, malformed
    or impossible one (2026-02-30 in an edited link): the page then shows the first day with places, as it does for a
    day it does not offer, rather than an error about a field the citizen never typed in."""
    try:
        return bounds.parse_day(value) if value else None
    except ValueError:
        return None


def _slots(session: Session, point: ServicePoint, day: date | None) -> list[booking.SlotView]:
    if day is None or not booking.bookable(day, today=_today()):
        return []
    return booking.day_slots(session, point=point, day=day, now=booking.local(clock.now()))


def _book_page(request: Request, session: Session, point: ServicePoint, *, day: date | None, values: dict, errors: dict, status_code: int = 200):
    days = _days(session, point)
    if day is None or not any(d["date"] == day for d in days):
        day = next((d["date"] for d in days if d["left"]), None)
    items = _item_names(session)
    values.setdefault("idempotency_key", secrets.token_urlsafe(18))
    return render(
        request,
        "public/points_book.html",
        {
            "point": point,
            "days": days,
            "day": day,
            "slots": _slots(session, point, day),
            "services": [(c, items.get(c, c)) for c in sorted(point.services or {})],
            "values": values,
            "errors": errors,
            "nav": "/points",
        },
        status_code=status_code,
    )


def _bookable_point(session: Session, code: str) -> ServicePoint:
    point = points.get_point(session, code=code)
    if not point.bookable:
        raise InvalidInput("point_not_bookable", f"{point.name}暂不支持网上预约，请直接前往或致电咨询")
    return point


@router.get("/points/{code}/book")
def book_form(code: str, request: Request, day: str = Query(default="", alias="date"), item: str = "", session: Session = Depends(get_db_session)):
    point = _bookable_point(session, code)
    item = item if item in (point.services or {}) else ""
    return _book_page(request, session, point, day=_parse_day(day), values={"item": item}, errors={})


@router.post("/points/{code}/book")
def book(code: str, request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    request.app.state.rate_limiter.hit("intake", _client(request), limit=request.app.state.settings.intake_rate_limit_per_minute)
    point = _bookable_point(session, code)
    values = {k: str(form.get(k, "")).strip() for k in ("slot", "name", "phone", "item", "idempotency_key")}
    errors: dict[str, str] = {}
    try:
        slot_start = bounds.in_years(datetime.fromisoformat(values["slot"]))
    except ValueError:
        slot_start = None
        errors["slot"] = "请选择预约时段"
    if not visible_length(values["name"]):
        errors["name"] = "请填写姓名"
    elif len(values["name"]) > 64:
        errors["name"] = "姓名不能超过 64 字"
    if not values["phone"]:
        errors["phone"] = "请填写手机号码"
    else:
        try:
            booking.checked_mobile(values["phone"])
        except InvalidInput as exc:
            errors["phone"] = exc.message
    if values["item"] and values["item"] not in (point.services or {}):
        errors["item"] = "该网点不办理此事项，请重新选择"
    day = booking.local(slot_start).date() if slot_start else _parse_day(str(form.get("date", "")))
    if errors:
        return _book_page(request, session, point, day=day, values=values, errors=errors, status_code=422)
    try:
        appointment, _ = booking.book(
            session, point_code=point.code, slot_start=slot_start, name=values["name"], phone=values["phone"], now=clock.now(),
            item_code=values["item"] or None, idempotency_key="web:" + values["idempotency_key"] if values["idempotency_key"] else None,
        )
    except Conflict as exc:
        session.rollback()
        point = points.get_point(session, code=code)
        message = "该时段刚刚约满了，请选择其他时段。" if exc.code == "slot_full" else exc.message
        values.pop("slot")
        return _book_page(request, session, point, day=day, values=values, errors={"slot": message}, status_code=409)
    except InvalidInput as exc:
        session.rollback()
        point = points.get_point(session, code=code)
        return _book_page(request, session, point, day=day, values=values, errors={"slot": exc.message}, status_code=422)
    # Rendered, not redirected: the booking number is only ever shown to whoever booked.
    return render(request, "public/booking_done.html", {"appointment": appointment, "item_name": _item_names(session).get(appointment.item_code or ""), "nav": "/points"})


# --- 预约查询 --------------------------------------------------------------------


def _lookup_context(session: Session, appointment: Appointment, phone: str, *, day: date | None = None) -> dict:
    """What the booker sees; 取消 and 改约 only while the slot has not begun (the no-show job comes later)."""
    active = booking.changeable(appointment, now=clock.now())
    return {
        "appointment": appointment,
        "phone": phone,
        "masked_name": mask_name(appointment.name),
        "masked_phone": mask_phone(appointment.phone),
        "status_label": booking.STATUS_LABELS.get(appointment.status, appointment.status),
        "item_name": _item_names(session).get(appointment.item_code or ""),
        "start": booking.local(appointment.slot_start),
        "end": booking.local(appointment.slot_end),
        "active": active,
        "passed": appointment.status == "booked" and not active,
        "days": _days(session, appointment.point) if active else [],
        "day": day,
        "slots": _slots(session, appointment.point, day) if active else [],
    }


def _lookup_page(request: Request, context: dict, *, status_code: int = 200):
    return render(request, "public/booking.html", {"nav": "/booking", **context}, status_code=status_code)


def _form_lookup(request: Request, form: FormData, session: Session) -> tuple[str, str, Appointment | None, str | None]:
    request.app.state.rate_limiter.hit("track", _client(request), limit=request.app.state.settings.track_rate_limit_per_minute)
    number, phone = normalise_number(str(form.get("number", ""))), str(form.get("phone", "")).strip()
    try:
        return number, phone, booking.get_for_requester(session, number=number, phone=phone), None
    except NotFound as exc:
        return number, phone, None, exc.message


@router.get("/booking")
def booking_form(request: Request, number: str = ""):
    return _lookup_page(request, {"values": {"number": number.strip()[:20]}})


@router.post("/booking")
def booking_lookup(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    number, phone, appointment, error = _form_lookup(request, form, session)
    if appointment is None:
        return _lookup_page(request, {"values": {"number": number}, "phone": phone[:20], "not_found": error})
    return _lookup_page(request, {"values": {"number": number}, **_lookup_context(session, appointment, phone, day=_parse_day(str(form.get("date", ""))))})


@router.post("/booking/cancel")
def booking_cancel(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    number, phone, appointment, error = _form_lookup(request, form, session)
    if appointment is None:
        return _lookup_page(request, {"values": {"number": number}, "phone": phone[:20], "not_found": error})
    cancelled = ("success", "预约已取消。如需办理，可重新预约。")
    try:
        appointment = booking.cancel(session, number=number, phone=phone, now=clock.now())
        outcome = cancelled
    except DomainError as exc:
        session.rollback()
        appointment = booking.get_for_requester(session, number=number, phone=phone)
        # A second 取消预约 (a refresh, another tap while the first was on its way) finds what was asked for.
        outcome = cancelled if appointment.status == "cancelled" else ("error", exc.message)
    # The outcome heads #results, where the form's #fragment takes the page and the focus.
    return _lookup_page(request, {"values": {"number": number}, **_lookup_context(session, appointment, phone), "outcome": outcome})


@router.post("/booking/reschedule")
def booking_reschedule(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    number, phone, appointment, error = _form_lookup(request, form, session)
    if appointment is None:
        return _lookup_page(request, {"values": {"number": number}, "phone": phone[:20], "not_found": error})
    day = None
    try:
        slot_start = bounds.in_years(datetime.fromisoformat(str(form.get("slot", ""))))
    except ValueError:
        slot_start = None
        day = _parse_day(str(form.get("date", "")))
        outcome = ("error", "请选择新的预约时段")
    if slot_start is not None:
        try:
            appointment = booking.reschedule(session, number=number, phone=phone, slot_start=slot_start, now=clock.now())
            start = booking.local(appointment.slot_start)
            outcome = ("success", f"已改约到 {day_text(start, time=True)}，请按时前往办理。")
        except DomainError as exc:
            session.rollback()
            appointment = booking.get_for_requester(session, number=number, phone=phone)
            day = booking.local(slot_start).date()
            outcome = ("error", "该时段已约满，请选择其他时段。" if exc.code == "slot_full" else exc.message)
    return _lookup_page(request, {"values": {"number": number}, **_lookup_context(session, appointment, phone, day=day), "outcome": outcome})

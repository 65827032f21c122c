"""门口办: find a service point, see its slots, book, change or cancel an appointment."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, Response
from sqlalchemy.orm import Session

from baishitong import clock, idempotency
from baishitong.actors import Actor
from baishitong.bounds import Day
from baishitong.deps import get_db_session, get_settings, rate_limit
from baishitong.errors import InvalidInput
from baishitong.org.api import require_roles
from baishitong.points import KIND_LABELS, POINT_KINDS, schemas, service
from baishitong.points import appointments as booking
from baishitong.points.models import Appointment, ServicePoint
from baishitong.security import mask_name, mask_phone

router = APIRouter(prefix="/api/v1", tags=["门口办"])

STAFF_ROLES = ("operator", "handler", "unit_admin", "supervisor", "admin")


def _point_fields(p: ServicePoint) -> dict:
    return {
        "code": p.code, "name": p.name, "kind": p.kind, "kind_label": KIND_LABELS.get(p.kind, p.kind), "host": p.host,
        "address": p.address, "lat": p.lat, "lon": p.lon, "town_code": p.town_code, "community_code": p.community_code,
        "hours": p.hours, "phone": p.phone, "staff": p.staff, "services": p.services or {},
        "bookable": p.bookable,
    }


@router.get("/points", response_model=list[schemas.PointOut])
def list_points(
    kind: Annotated[str | None, Query(description=f"网点类型：{'、'.join(POINT_KINDS)}")] = None,
    town: Annotated[str | None, Query(description="镇街编码或名称")] = None,
    service_code: Annotated[str | None, Query(alias="service", description="服务事项编码")] = None,
    session: Session = Depends(get_db_session),
):
    return [_point_fields(p) for p in service.list_points(session, kind=kind, town=town, service=service_code)]


@router.get("/points/nearest", response_model=list[schemas.NearestOut])
def nearest_points(
    # allow_inf_nan=False: a broken position (NaN) is told as not a number, not as "应不大于 90".
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    near: Annotated[str | None, Query(max_length=200, description="地址、村居或镇街名称，代替经纬度")] = None,
    radius: Annotated[float | None, Query(gt=0, le=100_000, allow_inf_nan=False, description="半径（米）")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    service_code: Annotated[str | None, Query(alias="service", max_length=32)] = None,
    open_now: bool = False,
    session: Session = Depends(get_db_session),
):
    """Nearest active points with exact great-circle distances, nearest first."""
    if lat is None or lon is None:
        if not near:
            raise InvalidInput("location_required", "请提供经纬度（lat、lon）或地点名称（near）")
        lat, lon, _ = service.locate_text(session, text=near)
    now = clock.now()
    hits = service.nearest(session, lat=lat, lon=lon, radius_m=radius, limit=limit, service=service_code, open_now=open_now, at=now)
    is_open = service.open_checker(session, now)
    return [{**_point_fields(p), "distance_m": round(d, 1), "open_now": is_open(p.hours)} for p, d in hits]


@router.get("/points/coverage", dependencies=[Depends(require_roles("admin", "supervisor"))])
def point_coverage(radius: Annotated[float, Query(gt=0, le=50_000)] = 2000, session: Session = Depends(get_db_session)):
    """Which communities have a staffed point within the radius, the gaps, suggested sites and workload."""
    return service.coverage(session, radius_m=radius)


@router.get("/points/coverage.svg", dependencies=[Depends(require_roles("admin", "supervisor"))])
def point_coverage_svg(radius: Annotated[float, Query(gt=0, le=50_000)] = 2000, session: Session = Depends(get_db_session)):
    return Response(service.coverage_svg(session, radius_m=radius), media_type="image/svg+xml")


@router.post("/points/import", response_model=schemas.PointImportOut)
def import_points(
    upload: Annotated[schemas.PointImportIn, File()],
    actor: Actor = Depends(require_roles("admin")),
    session: Session = Depends(get_db_session),
    settings=Depends(get_settings),
):
    """CSV or XLSX with code,name,kind,address,lat,lon[,town,hours,phone,services…]; upsert by code, all or nothing."""
    content = upload.file.file.read(settings.upload_max_bytes + 1)
    if len(content) > settings.upload_max_bytes:
        raise InvalidInput("file_too_large", f"文件超过 {settings.upload_max_bytes // (1024 * 1024)} MB 上限")
    return service.import_file(session, filename=upload.file.filename or "points.csv", content=content, actor=actor.name).as_dict()


@router.get("/points/{code}", response_model=schemas.PointDetailOut)
def get_point(code: str, session: Session = Depends(get_db_session)):
    point = service.get_point(session, code=code)
    return {
        **_point_fields(point),
        "open_now": service.open_checker(session, clock.now())(point.hours),
        "tickets": service.workload(session).get(point.code, 0),
    }


@router.get("/points/{code}/slots", response_model=list[schemas.SlotOut])
def point_slots(code: str, day: Annotated[Day, Query(alias="date")], session: Session = Depends(get_db_session)):
    """Upcoming bookable slots of one day with the places left (none beyond the booking window)."""
    point = service.get_point(session, code=code)
    now = booking.local(clock.now())
    if not booking.bookable(day, today=now.date()):
        return []
    return [
        {"start": s.start.isoformat(), "end": s.end.isoformat(), "capacity": s.capacity, "remaining": s.remaining}
        for s in booking.day_slots(session, point=point, day=day, now=now)
    ]


def appointment_out(a: Appointment, *, masked: bool) -> schemas.AppointmentOut:
    """`changeable` by the rule 预约查询 offers 取消/改约 by, so an app need not learn it from a 409."""
    return schemas.AppointmentOut(
        number=a.number,
        point=a.point.code,
        point_name=a.point.name,
        address=a.point.address,
        item=a.item_code,
        slot_start=booking.local(a.slot_start).isoformat(),
        slot_end=booking.local(a.slot_end).isoformat(),
        name=mask_name(a.name) if masked else a.name,
        phone=mask_phone(a.phone) if masked else a.phone,
        status=a.status,
        status_label=booking.STATUS_LABELS.get(a.status, a.status),
        changeable=booking.changeable(a, now=clock.now()),
        created_at=a.created_at,
        checked_in_at=a.checked_in_at,
    )


@router.post(
    "/appointments",
    status_code=201,
    response_model=schemas.AppointmentOut,
    responses=idempotency.replayed_response(schemas.AppointmentOut),
    dependencies=[rate_limit("intake", "intake_rate_limit_per_minute")],
)
def create_appointment(
    data: schemas.AppointmentIn,
    response: Response,
    session: Session = Depends(get_db_session),
    idempotency_key: idempotency.Key = None,
):
    """Public booking (no login); 409 slot_full when no place is left. A retry with the same Idempotency-Key returns the same booking (200)."""
    appointment, created = booking.book(
        session, point_code=data.point, item_code=data.item, slot_start=data.slot_start, name=data.name, phone=data.phone,
        now=clock.now(), idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = 200
    return appointment_out(appointment, masked=False)


@router.post("/appointments/{number}/lookup", response_model=schemas.AppointmentOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")])
def look_up_appointment(number: str, data: schemas.PhoneIn, session: Session = Depends(get_db_session)):
    """The booker's view of a booking: the phone travels in the body, since proxies and access logs keep a URL."""
    return appointment_out(booking.get_for_requester(session, number=number, phone=data.phone), masked=True)


@router.get("/appointments/{number}", response_model=schemas.AppointmentOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")], deprecated=True)
def get_appointment(number: str, phone: Annotated[str, Query(max_length=32)], session: Session = Depends(get_db_session)):
    """For apps written against it before POST …/lookup: the phone in the URL ends up in logs along the way."""
    return appointment_out(booking.get_for_requester(session, number=number, phone=phone), masked=True)


@router.post("/appointments/{number}/cancel", response_model=schemas.AppointmentOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")])
def cancel_appointment(number: str, data: schemas.PhoneIn, session: Session = Depends(get_db_session), idempotency_key: idempotency.Key = None):
    """A retry with the same Idempotency-Key gets the cancelled booking back instead of 409 appointment_not_active;
    409 slot_passed once the slot has begun."""
    scope, body = idempotency.scope("appointments.cancel", target=number), data.model_dump(mode="json")
    if idempotency.replayed(session, scope=scope, key=idempotency_key, body=body) is not None:
        return appointment_out(booking.get_for_requester(session, number=number, phone=data.phone), masked=True)
    appointment = booking.cancel(session, number=number, phone=data.phone, now=clock.now())
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=appointment.number)
    return appointment_out(appointment, masked=True)


@router.post("/appointments/{number}/reschedule", response_model=schemas.AppointmentOut, dependencies=[rate_limit("track", "track_rate_limit_per_minute")])
def reschedule_appointment(number: str, data: schemas.RescheduleIn, session: Session = Depends(get_db_session)):
    """409 slot_passed once the booked slot has begun, 409 same_slot for the slot already held."""
    return appointment_out(booking.reschedule(session, number=number, phone=data.phone, slot_start=data.slot_start, now=clock.now()), masked=True)


@router.post("/appointments/{number}/check-in", response_model=schemas.AppointmentOut)
def check_in_appointment(
    number: str, actor: Actor = Depends(require_roles(*STAFF_ROLES)), session: Session = Depends(get_db_session), idempotency_key: idempotency.Key = None
):
    """A retry with the same Idempotency-Key gets the checked-in booking back instead of 409 appointment_not_active.

    The requester is masked as on the 预约签到 page: the number and the time are what the counter checks."""
    scope = idempotency.scope("appointments.check-in", target=number, actor=actor)
    if idempotency.replayed(session, scope=scope, key=idempotency_key, body={}) is not None:
        return appointment_out(booking.get_for_counter(session, number=number, actor=actor), masked=True)
    appointment = booking.check_in(session, number=number, now=clock.now(), actor=actor)
    idempotency.remember(session, scope=scope, key=idempotency_key, body={}, resource_id=appointment.number)
    return appointment_out(appointment, masked=True)

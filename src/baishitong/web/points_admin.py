"""门口办网点管理 for staff: coverage map and gaps, workload, the points table, import/export, appointment check-in."""

from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from baishitong import clock
from baishitong.deps import get_db_session
from baishitong.errors import DomainError
from baishitong.org import service as org
from baishitong.points import KIND_LABELS
from baishitong.points import appointments as booking
from baishitong.points import service as points
from baishitong.points.coverage import TARGET_RADIUS_M
from baishitong.security import mask_name, mask_phone
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.points import distance_text
from baishitong.web.views import flash, page_number, redirect, render

router = APIRouter(prefix="/staff/points", include_in_schema=False)
planners = require("admin", "supervisor")
admin_only = require("admin")
counter_staff = require("operator", "handler", "unit_admin", "supervisor", "admin")

RADII = (1000, 2000, 3000)
# What the page edits of one point; the rest (place, services) comes from the import file.
EDITABLE = ("hours", "phone", "staff", "active", "slot_minutes", "slot_capacity")
PER_PAGE = 50
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _radius(value: int | None) -> int:
    return value if value in RADII else int(TARGET_RADIUS_M)


def _overview(
    request: Request, session: Session, *, radius: int, q: str, kind: str, town: str, page: int = 1, import_errors: list[str] | None = None,
    editing: dict | None = None, edit_error: str | None = None, status_code: int = 200,
):
    """`editing` is the point open in the 修改网点 form: as stored, or as typed when `edit_error` refused it."""
    report = points.coverage(session, radius_m=radius)
    towns = org.town_names(session)
    load = points.workload(session)
    rows = points.list_points(session, include_inactive=True)
    if kind:
        rows = [p for p in rows if p.kind == kind]
    if town:
        rows = [p for p in rows if p.town_code == town]
    if q:
        rows = [p for p in rows if q in p.code or q in p.name or q in (p.address or "") or q in (p.host or "")]
    pages = max(1, ceil(len(rows) / PER_PAGE))
    page = min(max(page, 1), pages)
    filters = {"q": q, "kind": kind, "town": town}
    query = {"radius": radius, **{k: v for k, v in filters.items() if v}}
    return render(
        request,
        "staff/points.html",
        {
            "nav": "/staff/points",
            "radius": radius,
            "radii": RADII,
            "report": report,
            "svg": points.coverage_svg(session, radius_m=radius),
            "towns": towns,
            "kinds": KIND_LABELS,
            "rows": rows[(page - 1) * PER_PAGE : page * PER_PAGE],
            "total": len(rows),
            "page": page,
            "pages": pages,
            "page_url": lambda p: f"/staff/points?{urlencode({**query, 'page': p})}#points-table",
            "load": load,
            "filters": filters,
            "import_errors": import_errors,
            "editing": editing,
            "edit_error": edit_error,
            "distance_text": distance_text,
        },
        status_code=status_code,
    )


def _point_row(session: Session, code: str) -> dict | None:
    """The point as its import row (the export's), which an edit changes and imports again."""
    return next((row for row in points.export_rows(session) if row["code"] == code), None)


@router.get("")
def overview(
    request: Request, radius: int | None = None, q: str = "", kind: str = "", town: str = "", edit: str = "", staff: Staff = Depends(planners), session: Session = Depends(get_db_session)
):
    """?edit=CODE opens that point's 修改网点 form (admin only)."""
    editing = _point_row(session, edit) if edit and staff.role == "admin" else None
    return _overview(request, session, radius=_radius(radius), q=q.strip()[:64], kind=kind if kind in KIND_LABELS else "", town=town[:16], page=page_number(request), editing=editing)


@router.post("/{code}/edit")
def edit_point(code: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """Opening hours, phone, staff and booking slots of one point: a one-row import, so it is checked and audited
    as the file is. A refusal comes back in the form as typed, with the reason there."""
    row = _point_row(session, code)
    if row is None:
        raise HTTPException(404)
    typed = {name: str(form.get(name, "")).strip() for name in EDITABLE if name != "active"} | {"active": "是" if form.get("active") == "1" else "否"}
    row = {k: str(v) for k, v in row.items()} | typed
    try:
        result = points.import_rows(session, [row], actor=staff.actor.name)
    except DomainError as exc:
        session.rollback()
        reasons = [e.split("：", 1)[-1] for e in exc.details.get("errors") or [exc.message]]
        return _overview(request, session, radius=int(TARGET_RADIUS_M), q="", kind="", town="", editing=row, edit_error="；".join(reasons), status_code=exc.status_code)
    flash(request, "success", f"已保存网点 {code} {row['name']}" if result.updated else f"网点 {code} 没有变化")
    return redirect("/staff/points?" + urlencode({"q": code}) + "#points-table")


@router.get("/coverage.svg")
def coverage_svg(radius: int | None = None, staff: Staff = Depends(planners), session: Session = Depends(get_db_session)):
    return Response(points.coverage_svg(session, radius_m=_radius(radius)), media_type="image/svg+xml", headers={"Content-Disposition": 'attachment; filename="coverage.svg"'})


@router.get("/export.{fmt}")
def export(fmt: str, staff: Staff = Depends(planners), session: Session = Depends(get_db_session)):
    if fmt not in EXPORT_TYPES:
        raise HTTPException(404)
    content = points.export_file(session, filename=f"points.{fmt}")
    return Response(content, media_type=EXPORT_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="service-points.{fmt}"'})


@router.post("/import")
def import_points(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(admin_only), session: Session = Depends(get_db_session)):
    """All or nothing: a file with bad rows changes nothing and lists every bad row."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        flash(request, "error", "请选择要导入的 CSV 或 XLSX 文件")
        return redirect("/staff/points#import")
    limit = request.app.state.settings.upload_max_bytes
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        flash(request, "error", f"文件超过 {limit // (1024 * 1024)} MB 上限")
        return redirect("/staff/points#import")
    try:
        result = points.import_file(session, filename=upload.filename, content=content, actor=staff.actor.name)
    except DomainError as exc:
        session.rollback()
        errors = exc.details.get("errors") or [exc.message]
        return _overview(request, session, radius=int(TARGET_RADIUS_M), q="", kind="", town="", import_errors=errors, status_code=422)
    flash(request, "success", f"导入完成：新增 {result.created} 个，更新 {result.updated} 个，未变化 {result.unchanged} 个")
    return redirect("/staff/points")


def _check_in_page(request: Request, session: Session, staff: Staff, *, number: str, error: str | None = None, status_code: int = 200):
    found = None
    if number and error is None:
        try:
            found = booking.get_for_counter(session, number=number, actor=staff.actor)
        except DomainError as exc:
            error = exc.message
    view = None
    if found is not None:
        view = {
            "number": found.number,
            "name": mask_name(found.name),
            "phone": mask_phone(found.phone),
            "point": found.point.name,
            "start": booking.local(found.slot_start),
            "end": booking.local(found.slot_end),
            "status": found.status,
            "status_label": booking.STATUS_LABELS.get(found.status, found.status),
            "checked_in_at": booking.local(found.checked_in_at) if found.checked_in_at else None,
            "today": booking.local(found.slot_start).date() == booking.local(clock.now()).date(),
        }
    return render(request, "staff/points_check_in.html", {"nav": "/staff/points/check-in", "number": number, "booking": view, "error": error}, status_code=status_code)


@router.get("/check-in")
def check_in_page(request: Request, number: str = "", staff: Staff = Depends(counter_staff), session: Session = Depends(get_db_session)):
    return _check_in_page(request, session, staff, number=number.strip().upper()[:20])


@router.post("/check-in")
def check_in(request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(counter_staff), session: Session = Depends(get_db_session)):
    number = str(form.get("number", "")).strip().upper()[:20]
    try:
        booking.check_in(session, number=number, now=clock.now(), actor=staff.actor)
    except DomainError as exc:
        session.rollback()
        # A second 签到 (a double click, another tap while the first was on its way) finds what was asked for.
        if exc.code != "appointment_not_active" or booking.get_for_counter(session, number=number, actor=staff.actor).status != "checked_in":
            return _check_in_page(request, session, staff, number=number, error=exc.message, status_code=exc.status_code)
    flash(request, "success", f"预约 {number} 已签到")
    return redirect(f"/staff/points/check-in?number={number}")

"""Service-point directory: import/export, nearest points, opening state, coverage and workload."""

from __future__ import annotations

import csv
import io
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.audit import service as audit
from baishitong.demo.catalogue import SERVICE_ITEMS
from baishitong.errors import InvalidInput, NotFound
from baishitong.org.models import Region
from baishitong.points import KIND_LABELS, POINT_KINDS
from baishitong.points import coverage as coverage_core
from baishitong.points import demo as demo_core
from baishitong.points import hours as hours_core
from baishitong.points import mapsvg
from baishitong.points.geo import PointIndex
from baishitong.points.models import ServicePoint
from baishitong.routing import locate as locator
from baishitong.sla import service as sla
from baishitong.sla.models import CalendarDay
from baishitong.tickets.models import Ticket

# Generous box around Shunde: catches swapped or mistyped coordinates, not exact borders.
LAT_RANGE = (22.4, 23.3)
LON_RANGE = (112.7, 113.6)
MAX_IMPORT_ERRORS = 20

COLUMNS = ("code", "name", "kind", "host", "address", "lat", "lon", "town", "community", "hours", "phone", "staff", "services", "active", "slot_minutes", "slot_capacity")
_HEADER_ALIASES = {
    "编码": "code", "网点编码": "code", "名称": "name", "网点名称": "name", "类型": "kind", "网点类型": "kind",
    "主办单位": "host", "地址": "address", "纬度": "lat", "经度": "lon", "镇街": "town", "村居": "community", "社区": "community",
    "营业时间": "hours", "电话": "phone", "人数": "staff", "窗口人数": "staff", "服务事项": "services", "启用": "active",
    "预约时段分钟": "slot_minutes", "每时段名额": "slot_capacity",
}
_KIND_BY_LABEL = {label: kind for kind, label in KIND_LABELS.items()}
_TRUE = {"1", "true", "yes", "y", "是", "启用"}
_FALSE = {"0", "false", "no", "n", "否", "停用"}


# --- calendar ----------------------------------------------------------------


def day_flags(session: Session, day: date) -> tuple[bool, bool]:
    """(workday, holiday) for opening hours, from the calendar table.

    Mirrors BusinessCalendar.kind (an override wins, else Mon–Fri work), and adds
    what hours.day_intervals needs but the calendar cannot say: an "off" override
    is a holiday — including its weekend days — whereas an ordinary weekend is not.
    """
    sla.ensure_seeded(session)
    kind = session.scalar(select(CalendarDay.kind).where(CalendarDay.day == day))
    if kind is None:
        return day.weekday() < 5, False
    return kind == "workday", kind == "off"


def open_checker(session: Session, at: datetime) -> Callable[[hours_core.OpeningHours | str | None], bool]:
    """is-open test for many points at one moment, reading the calendar once."""
    local = at.astimezone(hours_core.SHUNDE_TZ)
    workday, holiday = day_flags(session, local.date())

    def check(point_hours: hours_core.OpeningHours | str | None) -> bool:
        if not point_hours:
            return False
        try:
            return hours_core.is_open(point_hours, local, is_holiday=lambda _d: holiday, is_workday=lambda _d: workday)
        except ValueError:
            return False

    return check


# --- reading -----------------------------------------------------------------


def get_point(session: Session, *, code: str) -> ServicePoint:
    """An active point: a retired one is gone for citizens, integrators and new orders alike."""
    point = session.scalar(select(ServicePoint).where(ServicePoint.code == code, ServicePoint.active.is_(True)))
    if point is None:
        raise NotFound("point_not_found", f"服务网点“{code}”不存在")
    return point


def list_points(session: Session, *, kind: str | None = None, town: str | None = None, service: str | None = None, include_inactive: bool = False) -> list[ServicePoint]:
    query = select(ServicePoint).order_by(ServicePoint.code)
    if not include_inactive:
        query = query.where(ServicePoint.active.is_(True))
    if kind:
        query = query.where(ServicePoint.kind == kind)
    if town:
        query = query.where(ServicePoint.town_code == _town_code(session, town, row=None))
    points = list(session.scalars(query))
    if service:
        points = [p for p in points if service in (p.services or {})]
    return points


def workload(session: Session) -> dict[str, int]:
    """Work orders registered at each point (tickets.point_code)."""
    rows = session.execute(select(Ticket.point_code, func.count()).where(Ticket.point_code.is_not(None)).group_by(Ticket.point_code))
    return {code: count for code, count in rows}


# --- nearest -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    id: int
    services: frozenset[str]
    hours: hours_core.OpeningHours | None
    bookable: bool


@dataclass(frozen=True, slots=True)
class _Snapshot:
    revision: tuple
    index: PointIndex[int]
    entries: dict[int, _Entry]


_index_cache: dict[str, _Snapshot] = {}
_index_lock = threading.Lock()


def _revision(session: Session) -> tuple:
    """Changes whenever a point is added, removed or edited (updated_at is bumped on every write)."""
    return tuple(session.execute(select(func.count(), func.max(ServicePoint.updated_at), func.max(ServicePoint.id))).one())


def _snapshot(session: Session) -> _Snapshot:
    """The process-wide index of active points for this database, rebuilt when the revision moves."""
    key = str(session.get_bind().engine.url)
    revision = _revision(session)
    cached = _index_cache.get(key)
    if cached is not None and cached.revision == revision:
        return cached
    rows = session.execute(
        select(ServicePoint.id, ServicePoint.lat, ServicePoint.lon, ServicePoint.services, ServicePoint.hours, ServicePoint.bookable.label("bookable"))
        .where(ServicePoint.active.is_(True))
        .order_by(ServicePoint.id)
    ).all()
    entries = {r.id: _Entry(r.id, frozenset(r.services or {}), _parse_or_none(r.hours), bool(r.bookable)) for r in rows}
    snapshot = _Snapshot(revision, PointIndex((r.id, r.lat, r.lon) for r in rows), entries)
    with _index_lock:
        _index_cache[key] = snapshot
    return snapshot


def _parse_or_none(text: str) -> hours_core.OpeningHours | None:
    try:
        return hours_core.parse_hours(text) if text else None
    except ValueError:
        return None


def locate_text(session: Session, *, text: str) -> tuple[float, float, str]:
    """An address or community/town name → (lat, lon, place name) of its community, else its town."""
    location = locator.locate(text)
    code = location and (location.community_code or location.town_code)
    region = session.scalar(select(Region).where(Region.code == code)) if code else None
    if region is None or region.lat is None or region.lon is None:
        raise InvalidInput("location_unknown", f"无法识别“{text}”所在的顺德镇街或村居，请输入镇街或村（社区）名称，如“容桂高黎社区”，或点“使用我的位置”")
    return region.lat, region.lon, region.name


def nearest(
    session: Session,
    *,
    lat: float,
    lon: float,
    radius_m: float | None = None,
    limit: int | None = 10,
    service: str | None = None,
    open_now: bool = False,
    bookable: bool = False,
    at: datetime | None = None,
) -> list[tuple[ServicePoint, float]]:
    """Active points nearest first with exact great-circle distances (m), optionally filtered."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput("invalid_coordinates", "坐标超出范围：纬度须在 ±90°、经度须在 ±180° 之内")
    if open_now and at is None:
        raise ValueError("open_now needs at")
    snapshot = _snapshot(session)
    is_open = open_checker(session, at) if open_now else None

    def wanted(point_id: int) -> bool:
        entry = snapshot.entries[point_id]
        if (service and service not in entry.services) or (bookable and not entry.bookable):
            return False
        return is_open is None or is_open(entry.hours)

    filtered = service or open_now or bookable
    hits = snapshot.index.nearest(lat, lon, radius_m=radius_m, limit=limit, predicate=wanted if filtered else None)
    if not hits:
        return []
    by_id = {p.id: p for p in session.scalars(select(ServicePoint).where(ServicePoint.id.in_([i for i, _ in hits])))}
    return [(by_id[i], d) for i, d in hits if i in by_id]


# --- import / export -----------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def read_table(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, optional BOM, or GB18030) or XLSX file as header → text."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception:
            raise InvalidInput("invalid_file", "无法读取 Excel 文件，请确认是 .xlsx 格式") from None
        values = [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
    elif suffix in (".csv", ".txt"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("gb18030", errors="replace")
        values = [[v.strip() for v in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise InvalidInput("unsupported_file", "仅支持 .csv 或 .xlsx 文件")
    if not values:
        raise InvalidInput("empty_file", "文件为空")
    header = [_HEADER_ALIASES.get(h, h.lower()) for h in values[0]]
    missing = [c for c in ("code", "name", "kind", "address", "lat", "lon") if c not in header]
    if missing:
        raise InvalidInput("missing_columns", f"缺少必填列：{'、'.join(missing)}（表头应包含 code,name,kind,address,lat,lon）")
    return [dict(zip(header, row)) for row in values[1:]]


def parse_services(text: str) -> dict[str, list[str]]:
    """'GA001:窗口|自助办; RS001' (or a JSON object) → {item: [channels]}; an item alone means 窗口."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError
        return {str(k): [str(c) for c in v] for k, v in data.items()}
    out: dict[str, list[str]] = {}
    for piece in text.replace("；", ";").split(";"):
        if not piece.strip():
            continue
        item, _, channels = piece.replace("：", ":").partition(":")
        out[item.strip()] = [c.strip() for c in channels.split("|") if c.strip()] or ["窗口"]
    return out


def format_services(services: dict[str, list[str]]) -> str:
    return "; ".join(f"{item}:{'|'.join(channels)}" for item, channels in services.items())


def _town_code(session: Session, value: str, *, row: int | None) -> str:
    region = session.scalar(
        select(Region).where(Region.kind == "town", (Region.code == value) | (Region.name == value) | (Region.short_name == value))
    )
    if region is None:
        where = f"第{row}行：" if row else ""
        raise InvalidInput("unknown_town", f"{where}镇街“{value}”不存在")
    return region.code


def _number(raw: str, label: str, lo: float, hi: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{label}“{raw}”不是数字") from None
    if not lo <= value <= hi:
        raise ValueError(f"{label} {raw} 不在顺德区范围内（{lo}–{hi}），请检查是否填反或写错")
    return value


def _integer(raw: str, label: str, default: int | None, minimum: int) -> int | None:
    if raw in ("", None):
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise ValueError(f"{label}“{raw}”不是整数") from None
    if value < minimum:
        raise ValueError(f"{label}不能小于 {minimum}")
    return value


def _clean_row(raw: dict[str, str], towns: dict[str, str]) -> dict[str, Any]:
    """One input row → ServicePoint field values; ValueError with a Chinese reason."""
    values = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    for required, label in (("code", "编码"), ("name", "名称"), ("address", "地址")):
        if not values[required]:
            raise ValueError(f"{label}不能为空")
    kind = _KIND_BY_LABEL.get(values["kind"], values["kind"])
    if kind not in POINT_KINDS:
        raise ValueError(f"类型“{values['kind']}”无效，应为 {'、'.join(POINT_KINDS)} 之一（或其中文名称）")
    hours = values["hours"]
    if hours:
        hours = hours_core.format_hours(hours_core.parse_hours(hours))
    town = values["town"]
    if town and town not in towns:
        raise ValueError(f"镇街“{town}”不存在")
    try:
        services = parse_services(values["services"])
    except (ValueError, TypeError, AttributeError):
        raise ValueError("服务事项格式应为“GA001:窗口|自助办; RS001:代送件”") from None
    active = values["active"].lower()
    if active and active not in _TRUE | _FALSE:
        raise ValueError(f"启用“{values['active']}”应为 是/否")
    slot_minutes = _integer(values["slot_minutes"], "预约时段分钟", 30, 5)
    return {
        "code": values["code"],
        "name": values["name"],
        "kind": kind,
        "host": values["host"] or None,
        "address": values["address"],
        "lat": _number(values["lat"], "纬度", *LAT_RANGE),
        "lon": _number(values["lon"], "经度", *LON_RANGE),
        "town_code": towns[town] if town else None,
        "community_code": values["community"] or None,
        "hours": hours,
        "phone": values["phone"] or None,
        "staff": _integer(values["staff"], "人数", 0, 0),
        "services": services,
        "active": active not in _FALSE,
        "slot_minutes": slot_minutes,
        "slot_capacity": _integer(values["slot_capacity"], "每时段名额", None, 0),
    }


def import_rows(session: Session, rows: list[dict[str, Any]], *, actor: str) -> ImportResult:
    """Upsert points by code; all-or-nothing, with every bad row reported by its spreadsheet row number.
    An import that changes anything is audited with the codes it added and changed: it is how opening
    hours, services and slots are edited."""
    towns: dict[str, str] = {}
    for region in session.scalars(select(Region).where(Region.kind == "town")):
        for name in (region.code, region.name, region.short_name):
            towns[name] = region.code
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(rows, start=2):
        if not any(str(v or "").strip() for v in raw.values()):
            continue
        try:
            values = _clean_row({k: str(v) if v is not None else "" for k, v in raw.items()}, towns)
        except ValueError as exc:
            errors.append(f"第{n}行：{exc}")
            continue
        if values["code"] in seen:
            errors.append(f"第{n}行：编码“{values['code']}”与第{seen[values['code']]}行重复")
            continue
        seen[values["code"]] = n
        cleaned.append(values)
    if errors:
        more = f"；另有 {len(errors) - MAX_IMPORT_ERRORS} 处错误" if len(errors) > MAX_IMPORT_ERRORS else ""
        raise InvalidInput("invalid_import", "导入失败，未做任何修改：" + "；".join(errors[:MAX_IMPORT_ERRORS]) + more, details={"errors": errors})
    existing = {p.code: p for p in session.scalars(select(ServicePoint).where(ServicePoint.code.in_(list(seen))))} if seen else {}
    result = ImportResult()
    created: list[str] = []
    updated: dict[str, list[str]] = {}
    for values in cleaned:
        point = existing.get(values["code"])
        if point is None:
            session.add(ServicePoint(**values))
            result.created += 1
            created.append(values["code"])
            continue
        changed = {k: v for k, v in values.items() if getattr(point, k) != v}
        if changed:
            for k, v in changed.items():
                setattr(point, k, v)
            result.updated += 1
            updated[values["code"]] = sorted(changed)
        else:
            result.unchanged += 1
    session.flush()
    if created or updated:
        audit.record(session, actor=actor, action="points.import", object_type="service_points", object_id="import", data={"created": created, "updated": updated, "unchanged": result.unchanged})
    return result


def import_file(session: Session, *, filename: str, content: bytes, actor: str) -> ImportResult:
    return import_rows(session, read_table(filename, content), actor=actor)


def export_rows(session: Session) -> list[dict[str, Any]]:
    towns = {r.code: r.name for r in session.scalars(select(Region).where(Region.kind == "town"))}
    return [
        {
            "code": p.code, "name": p.name, "kind": p.kind, "host": p.host or "", "address": p.address,
            "lat": p.lat, "lon": p.lon, "town": towns.get(p.town_code, p.town_code or ""), "community": p.community_code or "",
            "hours": p.hours, "phone": p.phone or "", "staff": p.staff, "services": format_services(p.services or {}),
            "active": "是" if p.active else "否", "slot_minutes": p.slot_minutes,
            "slot_capacity": "" if p.slot_capacity is None else p.slot_capacity,
        }
        for p in list_points(session, include_inactive=True)
    ]


def export_file(session: Session, *, filename: str) -> bytes:
    """CSV (UTF-8 with BOM, opens in Excel) or XLSX, re-importable unchanged."""
    rows = export_rows(session)
    if Path(filename).suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "服务网点"
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([row[c] for c in COLUMNS])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- coverage ------------------------------------------------------------------


def _geography(session: Session) -> tuple[list[dict], list[dict]]:
    regions = list(session.scalars(select(Region).where(Region.lat.is_not(None), Region.lon.is_not(None)).order_by(Region.code)))
    towns = [{"code": r.code, "name": r.name, "short": r.short_name, "lat": r.lat, "lon": r.lon} for r in regions if r.kind == "town"]
    communities = [
        {"code": r.code, "name": r.name, "short": r.short_name, "lat": r.lat, "lon": r.lon, "town_code": r.parent.code if r.parent else None}
        for r in regions
        if r.kind == "community"
    ]
    return towns, communities


def _staffed(session: Session) -> list[ServicePoint]:
    return [p for p in list_points(session) if p.kind != "self_service"]


MAX_COVERAGE_RADIUS_M = 50_000  # the whole district; as the API's bound


def coverage(session: Session, *, radius_m: float = coverage_core.TARGET_RADIUS_M, suggestions: int = 5) -> dict[str, Any]:
    """2 km reach of staffed points over community centroids, the gaps and where to add points."""
    if not 0 < radius_m <= MAX_COVERAGE_RADIUS_M:  # also refuses NaN, which compares false with everything
        raise InvalidInput("invalid_radius", f"覆盖半径须大于 0、不超过 {MAX_COVERAGE_RADIUS_M:,} 米")
    towns, communities = _geography(session)
    points = _staffed(session)
    report = coverage_core.compute_coverage(communities, points, radius_m=radius_m)
    sites = coverage_core.suggest_sites(communities, points, radius_m=radius_m, k=suggestions)
    town_names = {t["code"]: t["name"] for t in towns}
    names = {p.code: p.name for p in points}
    load = workload(session)

    def distance(value: float) -> float | None:
        return None if math.isinf(value) else round(value, 1)

    return {
        "radius_m": radius_m,
        "communities": len(report.communities),
        "covered": report.covered_count,
        "ratio": round(report.ratio, 4),
        "points": len(points),
        "by_town": [{"town_code": code, "town_name": town_names.get(code), "covered": c, "total": t} for code, (c, t) in report.by_town().items()],
        "items": [
            {"code": c.code, "name": c.name, "town_code": c.town_code, "nearest_point": c.nearest_point, "distance_m": distance(c.distance_m), "covered": c.covered}
            for c in report.communities
        ],
        "uncovered": [
            {"code": c.code, "name": c.name, "town_code": c.town_code, "nearest_point": c.nearest_point, "nearest_point_name": names.get(c.nearest_point), "distance_m": distance(c.distance_m)}
            for c in report.uncovered
        ],
        "suggestions": [
            {"lat": round(s.lat, 6), "lon": round(s.lon, 6), "closes": s.closes, "community_codes": list(s.community_codes), "anchor_code": s.anchor_code, "anchor_name": s.anchor_name, "town_code": s.town_code}
            for s in sites
        ],
        "workload": sorted(({"code": code, "name": names.get(code), "tickets": n} for code, n in load.items()), key=lambda w: (-w["tickets"], w["code"])),
    }


def coverage_svg(session: Session, *, radius_m: float = coverage_core.TARGET_RADIUS_M) -> str:
    towns, communities = _geography(session)
    points = list_points(session)
    report = coverage_core.compute_coverage(communities, [p for p in points if p.kind != "self_service"], radius_m=radius_m)
    return mapsvg.render_map(towns, communities, points, report, circles=True)


# --- demo ----------------------------------------------------------------------


def demo_services(kind: str) -> dict[str, list[str]]:
    """Plausible offer by kind: halls serve at the window, branches take 代送件 and host kiosks, kiosks self-serve."""
    offer: dict[str, list[str]] = {}
    for item in SERVICE_ITEMS:
        channels = item["channels"]
        if kind in ("district_hall", "town_centre"):
            chosen = [c for c in ("窗口", "自助办") if c in channels]
        elif kind == "bank_branch":
            chosen = [c for c in ("代送件", "自助办") if c in channels]
        else:
            chosen = ["自助办"] if "自助办" in channels else []
        if chosen:
            offer[item["code"]] = chosen
    return offer


def load_demo(session: Session) -> ImportResult:
    """The deterministic demo network with services assigned by kind; idempotent."""
    from baishitong import seed

    rows = []
    for p in demo_core.demo_points(seed.gazetteer()):
        rows.append({**{k: p[k] for k in ("code", "name", "kind", "host", "address", "lat", "lon", "hours", "phone", "staff")}, "town": p["town_code"], "community": p["community_code"], "services": json.dumps(demo_services(p["kind"]), ensure_ascii=False)})
    return import_rows(session, rows, actor="system")

"""Directory service: import/export, nearest with filters and the business calendar, coverage."""

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from baishitong.errors import InvalidInput
from baishitong.points import service
from baishitong.points.geo import haversine_m
from baishitong.points.hours import SHUNDE_TZ
from baishitong.sla import service as sla

HEADER = "code,name,kind,address,lat,lon,town,hours,phone,services,staff\n"
ROWS = [
    "T-A,测试农商银行常教分理处,bank_branch,伦教街道新民路1号,22.8321,113.1843,伦教,周一至周五 09:00-17:00,0757-29990001,GA001:代送件,3",
    "T-B,测试伦教行政服务中心,town_centre,伦教街道伦教大道2号,22.8402,113.1852,伦教,\"周一至周五 08:30-12:00,14:00-17:30\",0757-29990002,GA001:窗口; RS001:窗口,20",
    "T-C,测试政务自助终端,self_service,伦教街道荔村路3号,22.8330,113.1850,伦教,24小时,,GA005:自助办,0",
    "T-D,测试工商银行永丰支行,bank_branch,伦教街道三洲路4号,22.8605,113.1937,伦教,周一至周五 09:00-17:00; 周六 09:00-12:00,,RS001:代送件,2",
]
ORIGIN = (22.83202, 113.18425)  # 常教社区


def csv_bytes(rows=ROWS) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture
def network(session):
    sla.ensure_seeded(session)
    service.import_file(session, filename="points.csv", content=csv_bytes(), actor="t_admin")
    return session


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHUNDE_TZ)


def codes(hits):
    return [p.code for p, _ in hits if p.code.startswith("T-")]


def test_nearest_is_ordered_by_exact_distance(network):
    hits = service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, limit=10)
    expected = sorted(ROWS, key=lambda r: haversine_m(*ORIGIN, float(r.split(",")[4]), float(r.split(",")[5])))
    assert codes(hits) == [r.split(",")[0] for r in expected]
    for point, distance in hits:
        assert distance == pytest.approx(haversine_m(*ORIGIN, point.lat, point.lon), abs=1e-6)


def test_radius_limit_and_service_filters(network):
    assert codes(service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=500, limit=10)) == ["T-A", "T-C"]
    assert codes(service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, limit=1)) == ["T-A"]
    assert codes(service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, service="RS001")) == ["T-B", "T-D"]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-10-09T10:00", ["T-A", "T-C", "T-B", "T-D"]),  # ordinary Friday
        ("2026-10-09T13:00", ["T-A", "T-C", "T-D"]),  # centre's lunch break
        ("2026-10-01T10:00", ["T-C"]),  # National Day: everything closed but the 24-hour kiosk
        ("2026-10-03T10:00", ["T-C"]),  # a Saturday inside the holiday
        ("2026-10-10T10:00", ["T-A", "T-C", "T-B", "T-D"]),  # make-up workday (Saturday) keeps weekday hours
        ("2026-10-17T10:00", ["T-C", "T-D"]),  # ordinary Saturday
    ],
)
def test_open_now_follows_hours_and_business_calendar(network, moment, expected):
    hits = service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, open_now=True, at=local(moment))
    assert codes(hits) == expected


def test_bookable_filter_keeps_points_taking_appointments(network):
    """The kiosk T-C has no counter staff, so nothing to book; the index and the model agree."""
    hits = service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, bookable=True)
    assert codes(hits) == ["T-A", "T-B", "T-D"]
    assert [p.code for p in service.list_points(network) if p.code.startswith("T-") and not p.bookable] == ["T-C"]


def test_admin_marked_holiday_closes_points(network):
    """An 休息日 the admin marks closes the staffed points; the 24-hour kiosk, which never closes, stays open."""
    from baishitong.actors import SYSTEM

    sla.set_calendar_day(network, day=datetime(2026, 10, 16).date(), kind="off", name="台风停工", actor=SYSTEM)
    assert codes(service.nearest(network, lat=ORIGIN[0], lon=ORIGIN[1], radius_m=10_000, open_now=True, at=local("2026-10-16T10:00"))) == ["T-C"]


def test_near_text_resolves_community(network):
    lat, lon, name = service.locate_text(network, text="伦教常教社区")
    assert name == "常教社区居委会" and (lat, lon) == ORIGIN
    with pytest.raises(InvalidInput):
        service.locate_text(network, text="北京市朝阳区")


def test_index_rebuilds_when_points_change(network):
    row = "T-E,新网点,bank_branch,大良某路,22.9000,113.3000,大良,周一至周五 09:00-17:00,,,2"
    assert codes(service.nearest(network, lat=22.90, lon=113.30, radius_m=1000)) == []
    service.import_file(network, filename="more.csv", content=csv_bytes([row]), actor="t_admin")
    assert codes(service.nearest(network, lat=22.90, lon=113.30, radius_m=1000)) == ["T-E"]
    service.import_file(network, filename="more.csv", content=(HEADER.replace("staff", "staff,active") + row + ",否\n").encode(), actor="t_admin")
    assert codes(service.nearest(network, lat=22.90, lon=113.30, radius_m=1000)) == []


def test_import_is_idempotent_and_counts(network):
    again = service.import_file(network, filename="points.csv", content=csv_bytes(), actor="t_admin")
    assert again.as_dict() == {"created": 0, "updated": 0, "unchanged": 4}
    changed = ROWS[:1] + [ROWS[1].replace("20", "25")]
    assert service.import_file(network, filename="points.csv", content=csv_bytes(changed), actor="t_admin").as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    point = service.get_point(network, code="T-B")
    assert point.staff == 25 and point.services == {"GA001": ["窗口"], "RS001": ["窗口"]} and point.town_code == "440606003"


def test_import_rejects_bad_rows_with_row_numbers_and_changes_nothing(session):
    bad = [
        "X-1,好网点,bank_branch,地址1,22.83,113.18,,,,,",
        "X-2,坏纬度,bank_branch,地址2,abc,113.18,,,,,",
        "X-3,填反坐标,bank_branch,地址3,113.18,22.83,,,,,",
        "X-4,坏类型,atm,地址4,22.83,113.18,,,,,",
        "X-5,坏时间,bank_branch,地址5,22.83,113.18,,周一 25:00-26:00,,,",
        "X-1,重复,bank_branch,地址6,22.83,113.18,,,,,",
    ]
    with pytest.raises(InvalidInput) as err:
        service.import_file(session, filename="bad.csv", content=csv_bytes(bad), actor="t_admin")
    errors = err.value.details["errors"]
    assert [e.split("：")[0] for e in errors] == ["第3行", "第4行", "第5行", "第6行", "第7行"]
    assert "纬度" in errors[0] and "顺德" in errors[1] and "类型" in errors[2] and "营业时间" in errors[3] and "重复" in errors[4]
    assert not [p for p in service.list_points(session, include_inactive=True) if p.code.startswith("X-")]


def test_import_needs_required_columns(session):
    with pytest.raises(InvalidInput, match="lat"):
        service.import_file(session, filename="p.csv", content="code,name,kind,address,lon\n".encode(), actor="t_admin")


def test_export_roundtrip_csv_and_xlsx(network):
    for name in ("out.csv", "out.xlsx"):
        content = service.export_file(network, filename=name)
        result = service.import_file(network, filename=name, content=content, actor="t_admin")
        assert result.created == 0 and result.updated == 0


def test_coverage_json_and_svg(network):
    report = service.coverage(network, radius_m=2000)
    items = {c["code"]: c for c in report["items"]}
    assert items["440606003001"]["covered"] and items["440606003001"]["nearest_point"] == "T-A"
    assert report["points"] == 3  # the self-service kiosk does not count
    assert report["communities"] == len(items) > 100
    assert len(report["uncovered"]) == report["communities"] - report["covered"]
    assert report["suggestions"] and report["suggestions"][0]["closes"] >= report["suggestions"][-1]["closes"]
    svg = service.coverage_svg(network, radius_m=2000)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_workload_counts_tickets_per_point(network):
    from baishitong.actors import REQUESTER
    from baishitong.tickets import service as tickets
    from tests.tickets.factories import intake

    for _ in range(2):
        tickets.create_ticket(network, data=intake(point_code="T-A"), actor=REQUESTER)
    assert service.workload(network)["T-A"] == 2
    assert {"code": "T-A", "name": "测试农商银行常教分理处", "tickets": 2} in service.coverage(network)["workload"]


def test_load_demo_assigns_services_by_kind(session):
    result = service.load_demo(session)
    assert result.created > 200
    assert service.load_demo(session).as_dict() == {"created": 0, "updated": 0, "unchanged": result.created}
    kiosk = service.list_points(session, kind="self_service")[0]
    assert kiosk.services and all(ch == ["自助办"] for ch in kiosk.services.values())
    branch = service.list_points(session, kind="bank_branch")[0]
    assert all(set(ch) <= {"代送件", "自助办"} for ch in branch.services.values())
    hall = service.get_point(session, code="QZX-SD")
    assert "窗口" in hall.services["GA001"]

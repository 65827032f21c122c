"""HTTP surface of 门口办: directory, nearest, coverage (roles), import, booking lifecycle."""

import xml.etree.ElementTree as ET

import pytest

from baishitong.points import api as points_api
from baishitong.sla import service as sla
from tests.points.test_service import ORIGIN, csv_bytes


@pytest.fixture
def app(app):
    """Mounts the router until routers.py does."""
    if not any(getattr(r, "path", "") == "/api/v1/points" for r in app.routes):
        app.include_router(points_api.router)
    return app


@pytest.fixture
def network(client, login, session):
    sla.ensure_seeded(session)
    response = client.post("/api/v1/points/import", files={"file": ("points.csv", csv_bytes(), "text/csv")}, headers=login("t_admin"))
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 4, "updated": 0, "unchanged": 0}
    return client


def test_import_needs_admin_and_reports_bad_rows(client, login):
    assert client.post("/api/v1/points/import", files={"file": ("p.csv", csv_bytes(), "text/csv")}, headers=login("t_operator")).status_code == 403
    bad = client.post("/api/v1/points/import", files={"file": ("p.csv", csv_bytes(["B-1,坏,bank_branch,地址,x,113.1,,,,,"]), "text/csv")}, headers=login("t_admin"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_import" and "第2行" in bad.json()["error"]["message"]


def test_nearest_by_coordinates_and_by_name(network, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-17T02:00:00+00:00")  # Saturday 10:00 in Shunde
    items = network.get("/api/v1/points/nearest", params={"lat": ORIGIN[0], "lon": ORIGIN[1], "radius": 5000}).json()
    assert [i["code"] for i in items] == ["T-A", "T-C", "T-B", "T-D"]
    assert items == sorted(items, key=lambda i: i["distance_m"])
    assert {"code", "name", "kind", "address", "distance_m", "open_now", "hours", "phone"} <= set(items[0])
    assert [i["open_now"] for i in items] == [False, True, False, True]
    open_items = network.get("/api/v1/points/nearest", params={"lat": ORIGIN[0], "lon": ORIGIN[1], "radius": 5000, "open_now": "true"}).json()
    assert [i["code"] for i in open_items] == ["T-C", "T-D"]
    by_name = network.get("/api/v1/points/nearest", params={"near": "常教社区", "radius": 5000, "service": "RS001"}).json()
    assert [i["code"] for i in by_name] == ["T-B", "T-D"]
    unknown = network.get("/api/v1/points/nearest", params={"near": "北京市朝阳区"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "location_unknown"
    assert network.get("/api/v1/points/nearest").status_code == 422


@pytest.mark.parametrize(("params", "message"), [
    ({"lat": "nan", "lon": "113.18"}, "lat：应为有限的数字"),
    ({"lat": "22.83", "lon": "inf"}, "lon：应为有限的数字"),
    ({"lat": "22.83", "lon": "113.18", "radius": "NaN"}, "radius：应为有限的数字"),
    ({"lat": "999", "lon": "113.18"}, "lat：应不大于 90"),
])
def test_a_broken_position_is_refused_saying_what_is_wrong(network, params, message):
    """A phone's failed fix arrives as NaN: it is not a number, rather than a latitude above 90."""
    refused = network.get("/api/v1/points/nearest", params=params)
    assert refused.status_code == 422 and message in refused.json()["error"]["message"]


def test_list_and_detail(network):
    assert [p["code"] for p in network.get("/api/v1/points", params={"kind": "bank_branch", "town": "伦教"}).json()] == ["T-A", "T-D"]
    assert [p["code"] for p in network.get("/api/v1/points", params={"service": "GA005"}).json()] == ["T-C"]
    detail = network.get("/api/v1/points/T-B").json()
    assert detail["tickets"] == 0 and detail["services"]["RS001"] == ["窗口"]
    assert network.get("/api/v1/points/NOPE").json()["error"]["code"] == "point_not_found"


def test_retired_point_is_gone_for_integrators(network, login):
    retire = "code,name,kind,address,lat,lon,town,hours,active\nT-B,测试伦教行政服务中心,town_centre,伦教街道伦教大道2号,22.8402,113.1852,伦教,周一至周五 08:30-17:30,否\n"
    assert network.post("/api/v1/points/import", files={"file": ("p.csv", retire.encode(), "text/csv")}, headers=login("t_admin")).status_code == 200
    for path in ("/api/v1/points/T-B", "/api/v1/points/T-B/slots?date=2030-01-07"):
        gone = network.get(path)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "point_not_found"
    assert "T-B" not in [p["code"] for p in network.get("/api/v1/points").json()]


def test_coverage_is_for_admins_and_supervisors(network, login):
    assert network.get("/api/v1/points/coverage").status_code == 401
    assert network.get("/api/v1/points/coverage", headers=login("t_operator")).status_code == 403
    report = network.get("/api/v1/points/coverage", headers=login("t_supervisor")).json()
    assert report["points"] == 3 and report["uncovered"] and report["suggestions"]
    svg = network.get("/api/v1/points/coverage.svg", headers=login("t_admin"))
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(svg.text)


def test_booking_lifecycle(network, login, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-08T01:00:00+00:00")
    slots = network.get("/api/v1/points/T-A/slots", params={"date": "2026-10-10"}).json()
    assert slots[0] == {"start": "2026-10-10T09:00:00+08:00", "end": "2026-10-10T09:30:00+08:00", "capacity": 3, "remaining": 3}
    assert network.get("/api/v1/points/T-A/slots", params={"date": "2026-10-01"}).json() == []
    body = {"point": "T-A", "item": "GA001", "slot_start": slots[0]["start"], "name": "李四", "phone": "13800138000"}
    created = network.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "abc"})
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    landline = network.post("/api/v1/appointments", json={**body, "phone": "0757-22223333"})
    assert landline.status_code == 422 and landline.json()["error"] == {"code": "invalid_phone", "message": "请填写 11 位手机号码，预约确认和提醒以短信发送"}
    replay = network.post("/api/v1/appointments", json=body, headers={"Idempotency-Key": "abc"})
    assert replay.status_code == 200 and replay.json()["number"] == number
    for phone in ("13900000001", "13900000002"):
        assert network.post("/api/v1/appointments", json={**body, "phone": phone}).status_code == 201
    full = network.post("/api/v1/appointments", json={**body, "phone": "13900000003"})
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    closed = network.post("/api/v1/appointments", json={**body, "slot_start": "2026-10-01T09:00:00+08:00"})
    assert closed.status_code == 422
    assert network.post(f"/api/v1/appointments/{number}/lookup", json={"phone": "13000000000"}).status_code == 404
    shown = network.post(f"/api/v1/appointments/{number}/lookup", json={"phone": "13800138000"}).json()
    assert shown["phone"] == "138****8000" and shown["status"] == "booked"
    assert network.get(f"/api/v1/appointments/{number}", params={"phone": "13800138000"}).json() == shown  # the deprecated form
    assert network.post(f"/api/v1/appointments/{number}/reschedule", json={"phone": "13000000000", "slot_start": "2026-10-10T10:00:00+08:00"}).status_code == 404
    moved = network.post(f"/api/v1/appointments/{number}/reschedule", json={"phone": "13800138000", "slot_start": "2026-10-10T10:00:00+08:00"})
    assert moved.status_code == 200 and moved.json()["slot_start"] == "2026-10-10T10:00:00+08:00"
    assert network.post(f"/api/v1/appointments/{number}/check-in").status_code == 401
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-10T01:50:00+00:00")
    checked = network.post(f"/api/v1/appointments/{number}/check-in", headers=login("t_operator"))
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    # The counter sees the requester masked, as on 预约签到; only the requester's own booking answer is in full.
    assert checked.json()["phone"] == "138****8000" and checked.json()["name"] == "李*"
    assert network.post(f"/api/v1/appointments/{number}/cancel", json={"phone": "13800138000"}).status_code == 409


def test_a_booking_whose_slot_has_begun_is_neither_cancelled_nor_moved_and_its_own_slot_is_no_new_one(network, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-08T01:00:00+00:00")
    start = network.get("/api/v1/points/T-A/slots", params={"date": "2026-10-10"}).json()[0]["start"]
    created = network.post("/api/v1/appointments", json={"point": "T-A", "slot_start": start, "name": "李四", "phone": "13800138000"}).json()
    number = created["number"]
    assert created["changeable"] is True
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-10T00:59:00+00:00")  # 08:59 on the day: a minute left to cancel or move
    assert network.post(f"/api/v1/appointments/{number}/lookup", json={"phone": "13800138000"}).json()["changeable"] is True
    same = network.post(f"/api/v1/appointments/{number}/reschedule", json={"phone": "13800138000", "slot_start": start})
    assert same.status_code == 409 and same.json()["error"] == {"code": "same_slot", "message": "您当前预约的就是这个时段，请选择其他时段改约"}
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-10T01:10:00+00:00")  # 09:10 on the day: the 09:00 slot has begun
    passed = {"code": "slot_passed", "message": "预约时段已开始或已过，无法取消或改约"}
    cancel = network.post(f"/api/v1/appointments/{number}/cancel", json={"phone": "13800138000"})
    assert cancel.status_code == 409 and cancel.json()["error"] == passed
    moved = network.post(f"/api/v1/appointments/{number}/reschedule", json={"phone": "13800138000", "slot_start": "2026-10-10T10:00:00+08:00"})
    assert moved.status_code == 409 and moved.json()["error"] == passed
    # The app learns it from the booking itself, not only from the 409.
    shown = network.post(f"/api/v1/appointments/{number}/lookup", json={"phone": "13800138000"}).json()
    assert shown["status"] == "booked" and shown["slot_start"] == start and shown["changeable"] is False


def test_a_retried_cancel_or_check_in_gets_the_booking_back_instead_of_409(network, login, monkeypatch):
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-08T01:00:00+00:00")
    start = network.get("/api/v1/points/T-A/slots", params={"date": "2026-10-10"}).json()[0]["start"]
    cancelled, arriving = (
        network.post("/api/v1/appointments", json={"point": "T-A", "slot_start": start, "name": "李四", "phone": phone}).json()["number"] for phone in ("13800138000", "13800138001")
    )
    for _ in range(2):
        retry = network.post(f"/api/v1/appointments/{cancelled}/cancel", json={"phone": "13800138000"}, headers={"Idempotency-Key": "cancel-1"})
        assert retry.status_code == 200 and retry.json()["status"] == "cancelled" and retry.json()["changeable"] is False, retry.text
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", "2026-10-10T01:50:00+00:00")
    for _ in range(2):
        retry = network.post(f"/api/v1/appointments/{arriving}/check-in", headers={**login("t_operator"), "Idempotency-Key": "check-in-1"})
        assert retry.status_code == 200 and retry.json()["status"] == "checked_in", retry.text
        assert retry.json()["phone"] == "138****8001"

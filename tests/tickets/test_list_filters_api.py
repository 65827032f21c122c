"""GET /api/v1/tickets filters as 工单查询 does: 受理日期 and 派单日期 as whole local days (至 included), `none` for the
orders without a unit, category or town, 已回访 / 未回访, 不含并单和作废 (`matters`) and the page's 分类 (`category_root`,
by parent); the list on the page and the API count the same orders."""

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from baishitong.org.models import Category, Region
from baishitong.tickets.service import LOCAL_TZ
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as page_login

DAY = date(2026, 11, 30)


@pytest.fixture
def orders(session):
    """Two dispatched on DAY (just after midnight and just before the next), one the minute after; one with a
    callback; one neither dispatched, classified nor placed, and one registered but placed and classified."""
    at = lambda day, hour, minute: datetime.combine(day, time(hour, minute), LOCAL_TZ)  # noqa: E731
    late, early, next_morning = (make_ticket(session, state="signed") for _ in range(3))
    late.dispatched_at, early.dispatched_at, next_morning.dispatched_at = at(DAY, 23, 59), at(DAY, 0, 0), at(DAY + timedelta(days=1), 0, 0)
    rated = make_ticket(session, state="callback")
    rated.dispatched_at = at(DAY, 12, 0)
    waiting, placed = make_ticket(session), make_ticket(session)
    waiting.category_id = waiting.region_id = None
    placed.category_id = session.scalar(select(Category.id).limit(1))
    placed.region_id = session.scalar(select(Region.id).limit(1))
    session.flush()
    return {"late": late, "early": early, "next_morning": next_morning, "rated": rated, "waiting": waiting, "placed": placed}


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["number"] for item in response.json()["items"]}


def test_the_api_filters_by_dispatch_day_with_the_last_day_included(client, login, orders):
    headers = login("t_supervisor")
    listed = client.get("/api/v1/tickets", params={"dispatched_from": DAY.isoformat(), "dispatched_to": DAY.isoformat()}, headers=headers)
    assert numbers(listed) == {orders[k].number for k in ("late", "early", "rated")} and listed.json()["total"] == 3
    onwards = numbers(client.get("/api/v1/tickets", params={"dispatched_from": (DAY + timedelta(days=1)).isoformat()}, headers=headers))
    assert orders["next_morning"].number in onwards and orders["late"].number not in onwards
    until = numbers(client.get("/api/v1/tickets", params={"dispatched_to": DAY.isoformat(), "per_page": 200}, headers=headers))
    assert orders["late"].number in until and orders["next_morning"].number not in until and orders["waiting"].number not in until


def test_the_api_lists_the_orders_without_a_unit_category_or_town_as_none(client, login, orders):
    headers = login("t_supervisor")
    lacking = numbers(client.get("/api/v1/tickets", params={"lead_unit": "none", "category": "none", "region": "none"}, headers=headers))
    assert lacking == {orders["waiting"].number}
    undispatched = numbers(client.get("/api/v1/tickets", params={"lead_unit": "none", "per_page": 200}, headers=headers))
    assert {orders["waiting"].number, orders["placed"].number} <= undispatched and orders["late"].number not in undispatched


def test_the_api_filters_by_callback(client, login, orders):
    headers = login("t_supervisor")
    assert numbers(client.get("/api/v1/tickets", params={"callback": "true"}, headers=headers)) == {orders["rated"].number}
    not_yet = numbers(client.get("/api/v1/tickets", params={"callback": "false", "per_page": 200}, headers=headers))
    assert orders["late"].number in not_yet and orders["rated"].number not in not_yet


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dispatched_from": "2026-11-30", "dispatched_to": "2026-11-01"}, "派单日期的结束日期不能早于开始日期"),
        ({"dispatched_from": "2026-02-30"}, "dispatched_from：日期不存在：2026-02-30"),
        ({"dispatched_to": "9999-12-31"}, "dispatched_to：须在 2000 年至 2100 年之间"),
        ({"callback": "maybe"}, "callback"),
    ],
)
def test_a_bad_or_reversed_dispatch_day_is_refused_not_read_as_no_limit(client, login, params, message):
    response = client.get("/api/v1/tickets", params=params, headers=login("t_supervisor"))
    assert response.status_code == 422 and message in response.json()["error"]["message"], response.text


def test_the_page_and_the_api_count_the_same_orders(web, client, login, orders):
    headers = login("t_supervisor")
    page_login(web, "t_supervisor")
    day = DAY.isoformat()
    pairs = [
        (f"dispatched_from={day}&dispatched_to={day}", {"dispatched_from": day, "dispatched_to": day}),
        (f"dispatched_to={day}", {"dispatched_to": day}),
        ("unit=none&category=none&region=none", {"lead_unit": "none", "category": "none", "region": "none"}),
        ("unit=none", {"lead_unit": "none"}),
        ("region=none", {"region": "none"}),
        ("callback=yes", {"callback": "true"}),
        ("callback=no", {"callback": "false"}),
        (f"unit=ronggui&dispatched_from={day}&dispatched_to={day}&callback=yes", {"lead_unit": "ronggui", "dispatched_from": day, "dispatched_to": day, "callback": "true"}),
    ]
    for page_query, params in pairs:
        page = web.get(f"/staff/tickets?{page_query}").text
        total = client.get("/api/v1/tickets", params=params, headers=headers).json()["total"]
        assert f"共 {total} 件" in page, (page_query, total, re.search(r"共 \d+ 件", page))
    assert client.get("/api/v1/tickets", params=pairs[0][1], headers=headers).json()["total"] == 3


def test_the_openapi_document_describes_the_new_filters(client):
    parameters = {p["name"]: p for p in client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert {"dispatched_from", "dispatched_to", "callback"} <= set(parameters)
    assert "含" in parameters["dispatched_to"]["description"] and parameters["dispatched_from"]["schema"]["anyOf"][0]["format"] == "date"
    assert all("none" in parameters[name]["description"] for name in ("lead_unit", "category", "region"))
    assert "已回访" in parameters["callback"]["description"]


def test_the_page_filters_by_callback_and_exports_the_same(web, orders):
    import csv
    import io

    page_login(web, "t_supervisor")
    page = web.get("/staff/tickets?callback=yes").text
    assert orders["rated"].number in page and orders["late"].number not in page and "共 1 件" in page
    assert '<option value="yes" selected>有回访评价</option>' in page and '<option value="no">无回访评价</option>' in page
    assert 'name="callback" value="yes"' in page, "the export keeps the choice"
    exported = web.get("/staff/exports/tickets.csv?callback=yes").content.decode("utf-8-sig")
    assert [line[0] for line in list(csv.reader(io.StringIO(exported)))[1:]] == [orders["rated"].number]
    not_yet = web.get("/staff/tickets?callback=no").text
    assert orders["late"].number in not_yet and orders["rated"].number not in not_yet
    unknown = web.get("/staff/tickets?callback=maybe")
    assert unknown.status_code == 200 and "回访“maybe”无效，只能是：有回访评价、无回访评价" in unknown.text and "共 0 件" in unknown.text


@pytest.fixture
def intake_days(session):
    """Registered on DAY just after midnight and just before the next, and the minute after; on DAY too, one merged
    and one voided (not matters); and one in a level-1 category whose code merely starts with 01's, not under it."""
    from baishitong.org import service as org

    at = lambda day, hour, minute: datetime.combine(day, time(hour, minute), LOCAL_TZ)  # noqa: E731
    early, late, next_morning, merged, voided, stray = (make_ticket(session) for _ in range(6))
    early.created_at, late.created_at, next_morning.created_at = at(DAY, 0, 0), at(DAY, 23, 59), at(DAY + timedelta(days=1), 0, 0)
    merged.created_at = voided.created_at = at(DAY, 12, 0)
    merged.status, voided.status = "merged", "voided"
    under, beside = org.get_category(session, code="0101"), org.save_category(session, code="0199", name="另设一级分类", parent_code=None, actor="t_admin")
    early.category_id, stray.category_id = under.id, beside.id
    session.flush()
    return {"early": early, "late": late, "next_morning": next_morning, "merged": merged, "voided": voided, "stray": stray}


def test_the_api_filters_by_intake_day_with_the_last_day_included_and_matters_only(client, login, intake_days):
    headers = login("t_supervisor")
    day = DAY.isoformat()
    on_the_day = client.get("/api/v1/tickets", params={"created_from": day, "created_to": day}, headers=headers)
    assert numbers(on_the_day) == {intake_days[k].number for k in ("early", "late", "merged", "voided")} and on_the_day.json()["total"] == 4
    matters = numbers(client.get("/api/v1/tickets", params={"created_from": day, "created_to": day, "matters": "true"}, headers=headers))
    assert matters == {intake_days["early"].number, intake_days["late"].number}
    everything = numbers(client.get("/api/v1/tickets", params={"created_from": day, "created_to": day, "matters": "false"}, headers=headers))
    assert intake_days["voided"].number in everything
    onwards = numbers(client.get("/api/v1/tickets", params={"created_from": (DAY + timedelta(days=1)).isoformat(), "per_page": 200}, headers=headers))
    assert intake_days["next_morning"].number in onwards and intake_days["late"].number not in onwards
    until = numbers(client.get("/api/v1/tickets", params={"created_to": day, "per_page": 200}, headers=headers))
    assert intake_days["late"].number in until and intake_days["next_morning"].number not in until


def test_category_root_takes_the_category_and_all_under_it_by_parent_while_category_keeps_matching_by_prefix(client, login, intake_days):
    headers = login("t_supervisor")
    by_parent = numbers(client.get("/api/v1/tickets", params={"category_root": "01", "per_page": 200}, headers=headers))
    assert intake_days["early"].number in by_parent and intake_days["stray"].number not in by_parent
    by_prefix = numbers(client.get("/api/v1/tickets", params={"category": "01", "per_page": 200}, headers=headers))
    assert {intake_days["early"].number, intake_days["stray"].number} <= by_prefix, "existing clients keep the prefix"
    lacking = numbers(client.get("/api/v1/tickets", params={"category_root": "none", "per_page": 200}, headers=headers))
    assert lacking == numbers(client.get("/api/v1/tickets", params={"category": "none", "per_page": 200}, headers=headers))
    for name in ("category_root", "category"):
        unknown = client.get("/api/v1/tickets", params={name: "99"}, headers=headers)
        assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "分类 99 不存在", (name, unknown.text)
    # A prefix that starts some codes is still a filter, not an unknown category; a LIKE wildcard is no prefix of any.
    assert intake_days["early"].number in numbers(client.get("/api/v1/tickets", params={"category": "0", "per_page": 200}, headers=headers))
    assert client.get("/api/v1/tickets", params={"category": "%"}, headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("params", "message", "field"),
    [
        ({"created_from": "2026-11-30", "created_to": "2026-11-01"}, "受理日期的结束日期不能早于开始日期", "created_to"),
        ({"created_from": "2026-02-30"}, "created_from：日期不存在：2026-02-30", None),
        ({"created_to": "1999-12-31"}, "created_to：须在 2000 年至 2100 年之间", None),
        ({"matters": "maybe"}, "matters", None),
    ],
)
def test_a_bad_or_reversed_intake_day_or_matters_choice_is_refused(client, login, params, message, field):
    response = client.get("/api/v1/tickets", params=params, headers=login("t_supervisor"))
    assert response.status_code == 422 and message in response.json()["error"]["message"], response.text
    if field:
        assert response.json()["error"]["details"]["field"] == field


def test_the_page_and_the_api_count_the_same_orders_by_intake_day_matters_and_category(web, client, login, intake_days):
    headers = login("t_supervisor")
    page_login(web, "t_supervisor")
    day, after = DAY.isoformat(), (DAY + timedelta(days=1)).isoformat()
    pairs = [
        (f"from={day}&to={day}", {"created_from": day, "created_to": day}),
        (f"from={day}&to={day}&matters=1", {"created_from": day, "created_to": day, "matters": "true"}),
        (f"to={day}", {"created_to": day}),
        (f"from={after}", {"created_from": after}),
        ("matters=1", {"matters": "true"}),
        ("category=01", {"category_root": "01"}),
        ("category=0199&matters=1", {"category_root": "0199", "matters": "true"}),
        ("category=none", {"category_root": "none"}),
        (f"category=01&from={day}&to={day}&unit=none", {"category_root": "01", "created_from": day, "created_to": day, "lead_unit": "none"}),
    ]
    for page_query, params in pairs:
        page = web.get(f"/staff/tickets?{page_query}").text
        total = client.get("/api/v1/tickets", params=params, headers=headers).json()["total"]
        assert f"共 {total} 件" in page, (page_query, total, re.search(r"共 \d+ 件", page))
    assert [client.get("/api/v1/tickets", params=pairs[i][1], headers=headers).json()["total"] for i in (0, 1)] == [4, 2]
    prefix = client.get("/api/v1/tickets", params={"category": "01"}, headers=headers).json()["total"]
    assert f"共 {prefix} 件" not in web.get("/staff/tickets?category=01").text, "by prefix 01 also takes 0199, which the page's 分类 does not"


def test_the_openapi_document_describes_the_intake_day_matters_and_category_root(client):
    parameters = {p["name"]: p for p in client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert "受理日期" in parameters["created_from"]["description"] and parameters["created_from"]["schema"]["anyOf"][0]["format"] == "date"
    assert "含：created_to" in parameters["created_to"]["description"]
    assert "不含并单和作废" in parameters["matters"]["description"] and parameters["matters"]["schema"]["type"] == "boolean"
    assert "上级分类" in parameters["category_root"]["description"] and "none" in parameters["category_root"]["description"]
    assert "前缀" in parameters["category"]["description"]

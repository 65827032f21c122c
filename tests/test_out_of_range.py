"""Numbers and dates far outside what the platform stores (page 10^20, the year 9999) are refused in
Chinese — JSON on the API and Open311, the normal pages on the site — never a 500."""

import re

import pytest

from tests.web.test_kb_admin import article_form
from tests.web.test_pages import login, token

HUGE = "99999999999999999999"
LATE = "9999-12-31T23:59:59-14:00"
EARLY = "0001-01-01T00:00:00+14:00"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def refusal(response) -> str:
    assert response.status_code in (400, 422), (response.status_code, response.text[:300])
    text = response.json()["error"]["message"]
    assert CHINESE.search(text), text
    return text


@pytest.mark.parametrize(
    ("user", "path", "expected"),
    [
        ("t_admin", f"/api/v1/tickets?page={HUGE}", "page：应不大于 10000"),
        ("t_admin", f"/api/v1/notifications/outbox?offset={HUGE}", "offset：应不大于"),
        ("t_admin", f"/api/v1/kb/articles?offset={HUGE}", "offset：应不大于"),
        ("t_admin", f"/api/v1/routing/misroutes?since={LATE}", "since：须在 2000 年至 2100 年之间"),
        ("t_admin", "/api/v1/stats/units?from=9999-12-31&to=9999-12-31", "from：须在 2000 年至 2100 年之间"),
        ("t_admin", "/api/v1/stats/units?from=0001-01-01", "from：须在 2000 年至 2100 年之间"),
        ("t_admin", "/api/v1/points/any/slots?date=9999-12-31", "date：须在 2000 年至 2100 年之间"),
        ("t_admin", "/api/v1/sla/calendar/0", "year：应不小于 2000"),
        ("t_admin", "/api/v1/sla/calendar/-1", "year：应不小于 2000"),
        ("t_admin", "/api/v1/sla/calendar/99999", "year：应不大于 2100"),
        ("t_admin", f"/api/v1/enterprise/policies/{HUGE}", "超出可处理的范围"),
    ],
)
def test_the_api_refuses_out_of_range_numbers_and_dates_in_chinese(client, login, user, path, expected):
    assert expected in refusal(client.get(path, headers=login(user)))


@pytest.mark.parametrize("slot_start", [LATE, EARLY])
def test_a_booking_in_the_year_9999_is_refused_not_a_500(client, slot_start):
    body = {"point": "any", "slot_start": slot_start, "name": "陈先生", "phone": "13800138000"}
    assert "slot_start：须在 2000 年至 2100 年之间" in refusal(client.post("/api/v1/appointments", json=body))


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_calendar_day_out_of_range_is_refused(client, login, day):
    response = client.put(f"/api/v1/sla/calendar/days/{day}", json={"kind": "off", "name": "测试"}, headers=login("t_admin"))
    assert response.json()["error"]["code"] == "day_out_of_range" and "2000 年至 2100 年" in refusal(response)


@pytest.mark.parametrize(("fmt", "param"), [("json", "start_date"), ("xml", "start_date"), ("json", "end_date")])
def test_open311_refuses_a_date_in_the_year_9999_in_its_own_error_format(client, fmt, param):
    response = client.get(f"/open311/v2/requests.{fmt}", params={param: LATE})
    assert response.status_code == 400
    assert f"{param} 须在 2000 年至 2100 年之间" in response.text
    assert response.headers["content-type"].startswith("application/json" if fmt == "json" else "text/xml")


@pytest.mark.parametrize(
    "path",
    [f"/staff/tickets?page={HUGE}", f"/staff/console/dispatch?page={HUGE}", "/staff/tickets?page=9223372036854775807"],
)
def test_a_staff_list_with_a_huge_page_number_still_shows_the_list(web, path):
    login(web, "t_admin")
    assert web.get(path).status_code == 200


@pytest.mark.parametrize(("query", "message"), [("to=9999-12-31", "受理日期须在 2000 年至 2100 年之间"), ("from=0001-01-01", "受理日期须在 2000 年至 2100 年之间")])
def test_an_export_with_a_date_out_of_range_goes_back_to_the_list_saying_why(web, query, message):
    login(web, "t_admin")
    response = web.get(f"/staff/exports/tickets.csv?{query}")
    assert response.status_code == 200 and response.url.path == "/staff/tickets" and message in response.text


@pytest.mark.parametrize("query", ["from=9999-12-31&to=9999-12-31", "from=0001-01-01&to=0001-01-02"])
def test_statistics_for_a_period_out_of_range_show_the_last_30_days_saying_why(web, query):
    login(web, "t_admin")
    response = web.get(f"/staff/stats?{query}")
    assert response.status_code == 422 and "日期须在 2000 年至 2100 年之间，已显示最近 30 天" in response.text


def test_a_period_too_long_for_statistics_stays_in_the_form_as_typed_while_the_figures_are_the_last_30_days(web):
    """One date to correct, not both to retype; the figures and the download are the last 30 days, as the page says."""
    login(web, "t_supervisor")
    response = web.get("/staff/stats?from=2025-01-01&to=2026-06-30")
    assert response.status_code == 422 and "统计期间最长 366 天，已显示最近 30 天" in response.text
    assert re.search(r'<input type="date" name="from"[^>]*value="2025-01-01"', response.text)
    assert re.search(r'<input type="date" name="to"[^>]*value="2026-06-30"', response.text)
    assert "/staff/stats.xlsx?from=2025-01-01" not in response.text


def test_a_page_with_an_id_too_large_for_the_database_is_an_error_page_not_a_500(web):
    response = web.get(f"/enterprise/policies/{HUGE}")
    assert response.status_code == 422 and "提交内容有误" in response.text


ARTICLE = {"title": "犬只登记办理指南", "body": "携带身份证办理"}
POLICY = {"title": "专精特新培育奖励", "unit": "GXJ", "summary": "奖励新认定的专精特新企业。", "benefit": "最高奖励100万元", "status": "published"}


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/kb/articles", {**ARTICLE, "valid_from": "0001-01-01"}, "valid_from"),
    ("/api/v1/kb/articles", {**ARTICLE, "valid_to": "9999-12-31"}, "valid_to"),
    ("/api/v1/kb/articles", {**ARTICLE, "review_due": "9999-12-31"}, "review_due"),
    ("/api/v1/enterprise/policies", {**POLICY, "apply_from": "0001-01-01"}, "apply_from"),
    ("/api/v1/enterprise/policies", {**POLICY, "apply_to": "9999-12-31"}, "apply_to"),
])
def test_article_and_policy_dates_out_of_range_are_refused_on_create_and_edit(client, login, path, body, field):
    admin = login("t_admin")
    assert f"{field}：须在 2000 年至 2100 年之间" in refusal(client.post(path, json=body, headers=admin))
    created = client.post(path, json={**body, field: "2030-06-30"}, headers=admin)
    assert created.status_code == 201, created.text
    row = created.json()
    one = f"{path}/{row['id']}"
    edited = client.put(one, json={**body, "version": row["version"]}, headers=admin)
    assert f"{field}：须在 2000 年至 2100 年之间" in refusal(edited)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_the_article_editor_refuses_a_date_out_of_range_as_a_form_error(web, day):
    login(web, "t_admin")
    page = web.get("/staff/kb/new")
    refused = web.post("/staff/kb/new", data=article_form(page.text, external_id="far-01", review_due=day))
    assert refused.status_code == 422 and "复核日期须在 2000 年至 2100 年之间" in refused.text and f'value="{day}"' in refused.text
    assert web.get("/staff/kb/far-01/edit").status_code == 404


@pytest.mark.parametrize("field", ["apply_from", "apply_to"])
def test_the_policy_form_refuses_a_date_out_of_range_next_to_the_field(web, field):
    login(web, "t_admin")
    form = {"csrf_token": token(web.get("/staff/enterprise").text), **POLICY, "unit": "SWUJ", "body": "", "apply_from": "", "apply_to": "", "min_years": "0", field: "9999-12-31"}
    refused = web.post("/staff/enterprise/policies", data=form)
    assert refused.status_code == 422 and "须在 2000 年至 2100 年之间" in refused.text and 'value="9999-12-31"' in refused.text

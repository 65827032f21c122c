"""A date written as 年-月-日 that does not exist (2026-02-30) is refused as such — "日期不存在：2026-02-30" — on the
API and on every page with a date field, not with how to write a date; one that is not 年-月-日 at all still is."""

import pytest

from tests.test_out_of_range import POLICY, refusal
from tests.web.test_kb_admin import article_form
from tests.web.test_pages import login, token


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/stats/units?from=2026-02-30", "from：日期不存在：2026-02-30"),
        ("/api/v1/stats/units?to=2026-13-01", "to：日期不存在：2026-13-01"),
        ("/api/v1/stats/units?from=2026-2-3", "from：日期格式不正确（如 2026-12-05）"),
        ("/api/v1/points/any/slots?date=2026-04-31", "date：日期不存在：2026-04-31"),
        ("/api/v1/routing/misroutes?since=2026-02-30T09:00:00%2B08:00", "since：日期不存在：2026-02-30"),
    ],
)
def test_the_api_says_the_date_does_not_exist(client, login, path, expected):
    assert expected in refusal(client.get(path, headers=login("t_admin")))


def test_an_article_posted_to_the_api_with_no_such_day_is_refused_saying_so(client, login):
    body = {"title": "犬只登记办理指南", "body": "携带身份证办理", "review_due": "2026-02-30"}
    assert "review_due：日期不存在：2026-02-30" in refusal(client.post("/api/v1/kb/articles", json=body, headers=login("t_admin")))


def test_open311_says_the_date_does_not_exist(client):
    response = client.get("/open311/v2/requests.json", params={"start_date": "2026-02-30T00:00:00+08:00"})
    assert response.status_code == 400 and "start_date 日期不存在：2026-02-30" in response.text


@pytest.mark.parametrize(("query", "message"), [("from=2026-02-30", "日期不存在：2026-02-30，已显示最近 30 天"), ("from=2026/02/03", "日期格式应为 年-月-日，已显示最近 30 天")])
def test_the_statistics_page_says_which_date_is_wrong_and_how(web, query, message):
    login(web, "t_admin")
    response = web.get(f"/staff/stats?{query}")
    assert response.status_code == 422 and message in response.text


@pytest.mark.parametrize(("query", "message"), [("from=2026-02-30", "受理日期不存在：2026-02-30"), ("to=x", "受理日期格式应为 年-月-日")])
def test_an_export_with_no_such_day_goes_back_to_the_list_saying_so(web, query, message):
    login(web, "t_admin")
    response = web.get(f"/staff/exports/tickets.csv?{query}")
    assert response.url.path == "/staff/tickets" and message in response.text


def test_the_article_editor_says_the_date_does_not_exist(web):
    login(web, "t_admin")
    refused = web.post("/staff/kb/new", data=article_form(web.get("/staff/kb/new").text, external_id="feb-30", review_due="2026-02-30"))
    assert refused.status_code == 422 and "复核日期不存在：2026-02-30" in refused.text and 'value="2026-02-30"' in refused.text


def test_the_calendar_says_the_date_does_not_exist(web):
    login(web, "t_admin")
    form = {"csrf_token": token(web.get("/staff/admin/calendar").text), "day": "2026-02-30", "kind": "off", "name": "测试"}
    assert "日期不存在：2026-02-30" in web.post("/staff/admin/calendar", data=form).text


def test_the_policy_form_says_the_date_does_not_exist_next_to_the_field(web):
    login(web, "t_admin")
    form = {"csrf_token": token(web.get("/staff/enterprise").text), **POLICY, "unit": "SWUJ", "body": "", "apply_from": "", "apply_to": "2026-02-30", "min_years": "0"}
    refused = web.post("/staff/enterprise/policies", data=form)
    assert refused.status_code == 422 and "日期不存在：2026-02-30" in refused.text and 'value="2026-02-30"' in refused.text

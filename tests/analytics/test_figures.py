"""The figures supervisors read, counted by hand over a small known set of orders: 承办单位排名, 统计分析 and its
Excel download, 热点诉求."""

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from baishitong.analytics import report as reports
from baishitong.analytics import service as analytics
from baishitong.db import utcnow
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.sla.test_service import at, local
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def league(session) -> dict[str, dict]:
    now = utcnow()
    return {r["unit"]: r for r in analytics.unit_rates(session, since=now - timedelta(days=30), until=now + timedelta(minutes=1))}


def act(session, ticket, action: str, who: str, body) -> None:
    service.act(session, number=ticket.number, action=action, actor=actor(session, who), body=body)


def test_an_order_a_unit_asked_to_return_counts_once_among_those_it_was_sent(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    pending = make_ticket(session, state="returned", lead="daliang")  # 退单待审: still the unit's
    refused = make_ticket(session, state="returned", lead="daliang")
    act(session, refused, "reject-return", "t_operator", schemas.ReasonIn(version=refused.version, reason="属于本单位职责"))
    gone = make_ticket(session, state="returned", lead="daliang")
    act(session, gone, "approve-return", "t_operator", schemas.ActionIn(version=gone.version))
    act(session, gone, "dispatch", "t_operator", schemas.DispatchIn(version=gone.version, lead_unit="ronggui"))
    make_ticket(session, state="signed", lead="daliang")
    assert pending.status == "returned" and refused.status == "dispatched"
    rows = league(session)
    assert (rows["daliang"]["dispatched"], rows["daliang"]["returns"], rows["daliang"]["return_rate"]) == (4, 3, 0.75)
    assert (rows["ronggui"]["dispatched"], rows["ronggui"]["returns"]) == (1, 0)


def test_the_unit_an_order_is_sent_on_to_signs_and_reaches_the_requester_itself(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", lead="daliang")
    act(session, ticket, "contact", "t_daliang", schemas.ContactIn(outcome="已联系"))
    act(session, ticket, "return", "t_daliang", schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"))
    act(session, ticket, "approve-return", "t_operator", schemas.ActionIn(version=ticket.version))
    act(session, ticket, "dispatch", "t_operator", schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
    assert ticket.signed_at is None and ticket.contacted_at is None
    rows = league(session)
    assert rows["ronggui"]["signed"] == 0 and rows["ronggui"]["on_time_sign_rate"] is None and rows["ronggui"]["on_time_contact_rate"] is None
    act(session, ticket, "contact", "t_ronggui", schemas.ContactIn(outcome="已联系"))  # not refused as already contacted
    assert ticket.contacted_at is not None


def test_a_reply_without_a_first_contact_after_its_deadline_leaves_the_contact_late(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")  # Monday; first contact due Tuesday 09:00
    late = make_ticket(session, state="signed", lead="daliang")
    in_time = make_ticket(session, state="signed", lead="daliang")
    act(session, in_time, "contact", "t_daliang", schemas.ContactIn(outcome="已联系"))
    at(monkeypatch, "2026-12-10 09:00")
    assert league(session)["daliang"]["on_time_contact_rate"] == 0.5
    act(session, late, "reply", "t_daliang", schemas.ContentIn(version=late.version, content="已处理。"))
    assert league(session)["daliang"]["on_time_contact_rate"] == 0.5, "answering does not undo the missed contact"


def test_a_period_is_whole_days_in_shunde_time(session, monkeypatch):
    for moment in ("2026-10-31 23:59", "2026-11-01 00:00", "2026-11-30 23:30", "2026-12-01 00:10"):
        at(monkeypatch, moment)
        make_ticket(session, state="dispatched", lead="daliang")
    at(monkeypatch, "2026-12-05 10:00")
    november = reports.period_report(session, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert november.received == 2 and november.daily[0] == (date(2026, 11, 1), 1) and november.daily[-1] == (date(2026, 11, 30), 1)
    rows = analytics.unit_rates(session, since=local("2026-11-01 00:00"), until=local("2026-12-01 00:00"))
    assert [(r["unit"], r["dispatched"]) for r in rows] == [("daliang", 2)]


def test_the_excel_download_has_the_pages_figures_and_a_dash_for_a_rate_of_nothing(web, session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    make_ticket(session, state="callback")
    make_ticket(session, state="callback_unsatisfied")
    make_ticket(session, state="signed")
    at(monkeypatch, "2026-12-08 10:00")
    login(web, "t_supervisor")
    for period, expected in ((("2026-12-01", "2026-12-08"), {"受理量": 3, "回访量": 2, "满意率": 0.5, "解决率": 0.5}), (("2026-11-01", "2026-11-30"), {"受理量": 0, "满意率": "—"})):
        query = f"from={period[0]}&to={period[1]}"
        page = web.get(f"/staff/stats?{query}").text
        sheet = load_workbook(io.BytesIO(web.get(f"/staff/stats.xlsx?{query}").content))["总体情况"]
        values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=2)}
        assert {label: values[label] for label in expected} == expected
        for label, value in values.items():  # each figure as the page shows it
            shown = value if isinstance(value, (int, str)) else f"{value * 100:.1f}%" if "率" in label else None
            if shown is not None:
                assert f"{shown}" in page.split(label.split("（")[0], 1)[1][:300], label


def _topic_of(session, texts: list[str]):
    numbers = [make_ticket(session, content=text, requester={"name": "居民", "phone": f"1380013800{i}"}).number for i, text in enumerate(texts)]
    return numbers, analytics.compute_hot_topics(session, window_days=7).topics


def test_matters_that_share_only_a_street_are_no_hot_topic(session):
    _, topics = _topic_of(
        session,
        [
            "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。",
            "容桂街道高黎社区桂洲大道东有商铺晚上噪音扰民，音响声音很大。",
            "容桂街道高黎社区桂洲大道东人行道被车辆占用，行人只能走机动车道。",
            "容桂街道高黎社区桂洲大道东的垃圾桶满了没人清理，气味难闻。",
        ],
    )
    assert topics == []


def test_one_complaint_from_several_people_on_that_street_is_one_topic(session):
    numbers, topics = _topic_of(
        session,
        [
            "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全。",
            "高黎社区桂洲大道东路灯不亮好几天了，晚上行人看不清路。",
            "桂洲大道东高黎社区路段路灯不亮，请尽快维修路灯。",
            "容桂街道高黎社区桂洲大道东有商铺晚上噪音扰民，音响声音很大。",
        ],
    )
    assert len(topics) == 1 and sorted(topics[0]["keys"]) == sorted(numbers[:3])
    assert topics[0]["people"] == 3 and topics[0]["region"] == "容桂·高黎社区"


def test_a_redone_order_stays_visible_in_the_league_after_its_second_callback_is_happy(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    make_ticket(session, state="callback", lead="daliang")
    redone = make_ticket(session, state="callback_unsatisfied", lead="daliang")
    act(session, redone, "redo", "t_supervisor", schemas.ReasonIn(version=redone.version, reason="路灯仍不亮"))
    assert league(session)["daliang"]["redo_rate"] == 1 / 2  # the redone order counts while it is being redone
    act(session, redone, "reply", "t_daliang", schemas.ContentIn(version=redone.version, content="已更换灯具，路灯恢复。"))
    act(session, redone, "callback", "t_operator", schemas.CallbackIn(version=redone.version, solved=True, satisfaction="满意"))
    row = league(session)["daliang"]
    assert (row["satisfaction_rate"], row["redone"], row["redo_rate"]) == (1.0, 1, 0.5)


def test_the_unit_rates_api_says_it_counts_by_dispatch_with_to_excluded(client):
    """Integrators rely on the end date being excluded: the OpenAPI description says so, and what is counted by."""
    operation = client.app.openapi()["paths"]["/api/v1/stats/units"]["get"]
    assert "latest dispatch time" in operation["description"] and "`to` is excluded" in operation["description"]
    params = {p["name"]: p.get("description", "") for p in operation["parameters"]}
    assert params["from"].startswith("派单日期起（含）") and params["to"].startswith("派单日期止（不含")


@pytest.mark.parametrize("to", ["2026-11-30", "2026-12-01"])
def test_unit_rates_for_a_period_with_no_day_in_it_are_refused_not_answered_empty(client, login, to):
    """`to` is excluded: from=to (an integrator used to the inclusive ticket filters asking for one day) or a `to`
    before `from` held no day at all and answered every rate empty as if nothing had been dispatched."""
    response = client.get("/api/v1/stats/units", params={"from": "2026-12-01", "to": to}, headers=login("t_supervisor"))
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_filter" and "统计一天请把 to 设为次日" in response.json()["error"]["message"]
    one_day = client.get("/api/v1/stats/units", params={"from": "2026-12-01", "to": "2026-12-02"}, headers=login("t_supervisor"))
    assert one_day.status_code == 200

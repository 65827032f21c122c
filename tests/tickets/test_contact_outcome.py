"""首次联系 records whether the requester was reached; only reaching them meets the contact deadline."""

import pytest

from baishitong.analytics import service as analytics
from baishitong.errors import Conflict
from baishitong.sla import service as sla
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.sla.test_service import at, local
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import login, token


def contact(session, ticket, outcome, **extra):
    body = schemas.ContactIn(version=ticket.version, outcome=outcome, **extra)
    return service.act(session, number=ticket.number, action="contact", actor=actor(session, "t_ronggui"), body=body)


def test_an_unreached_attempt_is_recorded_but_is_no_contact(session):
    ticket = make_ticket(session, state="signed")
    contact(session, ticket, "未接通")
    contact(session, ticket, "号码错误", note="号码为空号")
    assert ticket.contacted_at is None
    contact(session, ticket, "诉求人拒绝沟通")
    assert ticket.contacted_at is not None, "a requester who declines to talk was reached"
    assert [e.data for e in ticket.events if e.action == "contact"] == [
        {"outcome": "未接通", "attempt": 1}, {"outcome": "号码错误", "attempt": 2}, {"outcome": "诉求人拒绝沟通", "attempt": 3},
    ]
    with pytest.raises(Conflict) as caught:
        contact(session, ticket, "未接通")
    assert caught.value.code == "already_contacted"


def test_a_late_real_contact_counts_late_in_the_league_however_early_the_missed_call(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="求助", channel="enterprise")  # contact within one working hour
    at(monkeypatch, "2026-12-07 09:20")
    contact(session, ticket, "未接通")
    rates = {r["unit"]: r for r in analytics.unit_rates(session, since=local("2026-12-07 00:00"), until=local("2026-12-08 00:00"))}
    assert rates["ronggui"]["on_time_contact_rate"] is None, "nothing reached, nothing to rate"
    assert sla.check_deadlines(session, now=local("2026-12-07 10:05"))["urges"] == 1, "the deadline kept running"
    at(monkeypatch, "2026-12-07 10:30")
    contact(session, ticket, "已联系")
    rates = {r["unit"]: r for r in analytics.unit_rates(session, since=local("2026-12-07 00:00"), until=local("2026-12-08 00:00"))}
    assert rates["ronggui"]["on_time_contact_rate"] == 0.0


def test_the_api_requires_one_of_the_listed_outcomes(client, login, session):
    ticket = make_ticket(session, state="signed")
    url = f"/api/v1/tickets/{ticket.number}/actions/contact"
    for body in ({"note": "已联系"}, {"outcome": "忙音"}):
        refused = client.post(url, json=body, headers=login("t_ronggui"))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_body"
    done = client.post(url, json={"outcome": "未接通"}, headers=login("t_ronggui"))
    assert done.status_code == 200, done.text
    session.refresh(ticket)
    assert ticket.contacted_at is None


def test_the_requester_reads_a_missed_attempt_as_one(client, session):
    ticket = make_ticket(session, state="signed")
    contact(session, ticket, "未接通")
    contact(session, ticket, "已联系")
    texts = [e["text"] for e in client.get("/api/v1/track", params={"number": ticket.number, "phone": PHONE}).json()["timeline"]]
    assert "容桂街道曾尝试与您联系，未能联系上" in texts and "容桂街道已与您联系" in texts


def test_an_older_contact_without_an_outcome_still_reads_as_reached(web, session):
    ticket = make_ticket(session, state="signed")
    ticket.contacted_at = ticket.signed_at
    service.transition(session, ticket, action="contact", actor=actor(session, "t_ronggui"), note="已电话联系")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert "联系结果" in page and "已联系（" in page and "尚未联系上" not in page
    assert "容桂街道已与您联系" in [e.text for e in service.requester_timeline(ticket)]


def test_the_order_page_asks_for_the_outcome_and_shows_it(web, session):
    ticket = make_ticket(session, state="signed")
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="contact"' in page and "诉求人拒绝沟通" in page
    form = {"csrf_token": token(page), "version": str(ticket.version), "next": f"/staff/tickets/{ticket.number}"}
    assert "“首次联系”未完成：请选择联系结果" in web.post(f"/staff/tickets/{ticket.number}/act/contact", data=form).text
    missed = web.post(f"/staff/tickets/{ticket.number}/act/contact", data={**form, "outcome": "未接通"}).text
    assert "已记录联系未成功（未接通），联系时限继续计时" in missed
    assert "尚未联系上：已尝试 1 次，最近一次未接通" in missed and "联系结果：未接通（第 1 次尝试）" in missed
    assert 'data-action-form="contact"' in missed, "the unit may try again"
    reached = web.post(f"/staff/tickets/{ticket.number}/act/contact", data={**form, "outcome": "已联系", "note": "已约定明日上门"}).text
    assert "已记录首次联系" in reached and "联系结果：已联系" in reached and 'data-action-form="contact"' not in reached
    assert ticket.contacted_at is not None

"""协办单位: a co-handler's desk shows what it owes (its 协办意见 by the reply deadline), only a missing
contribution makes it late, and a co-handler the order does not concern can leave it with a reason."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from baishitong.audit import service as audit
from baishitong.db import utcnow
from baishitong.errors import Conflict, Forbidden, NotFound
from baishitong.notify.models import Message
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as web_login, token

REASON = "本局不负责路灯维护，请由街道城建部门办理"


def decline(session, ticket, who="t_sjj", reason=REASON):
    return service.act(session, number=ticket.number, action="decline-co", actor=actor(session, who), body=schemas.ReasonIn(version=ticket.version, reason=reason))


def test_a_co_handler_declines_with_a_reason_and_no_longer_sees_the_order(session):
    ticket = make_ticket(session, state="dispatched")  # lead 容桂, co-handler SJJ
    assert [c.unit.code for c in ticket.co_units] == ["SJJ"]
    decline(session, ticket)
    assert ticket.co_units == [] and ticket.status == "dispatched"
    event = ticket.events[-1]
    assert (event.action, event.data, event.unit.code) == ("decline-co", {"reason": REASON, "unit": "SJJ"}, "SJJ")
    assert [e.data["reason"] for e in audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.decline-co",))] == [REASON]
    with pytest.raises(NotFound):
        service.get_ticket(session, number=ticket.number, actor=actor(session, "t_sjj"))
    told = session.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.template_code == "ticket_co_declined")).all()
    assert told and {m.unit_id for m in told} == {ticket.lead_unit_id}, "the lead unit hears at once"
    assert REASON in told[0].body and "市场监督管理局" in told[0].body


def test_only_a_co_handler_may_decline(session):
    ticket = make_ticket(session, state="signed")
    with pytest.raises(Forbidden) as refused:
        decline(session, ticket, who="t_ronggui")
    assert refused.value.code == "not_your_unit" and "协办" in refused.value.message


def test_decline_through_the_api_needs_a_reason(client, login, session):
    ticket = make_ticket(session, state="signed")
    url = f"/api/v1/tickets/{ticket.number}/actions/decline-co"
    missing = client.post(url, json={"version": ticket.version}, headers=login("t_sjj"))
    assert missing.status_code == 422 and missing.json()["error"]["message"]
    done = client.post(url, json={"version": ticket.version, "reason": REASON}, headers=login("t_sjj"))
    assert done.status_code == 200 and done.json()["co_units"] == []
    timeline = client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_ronggui")).json()["events"]
    assert timeline[-1]["action"] == "decline-co" and timeline[-1]["data"]["reason"] == REASON


def _card(page, number):
    return re.search(rf'<section class="card" data-ticket="{number}">.*?</section>', page, re.S).group(0)


def _overdue(page):
    return int(re.search(r'<p class="stat-label">已超时</p>\s*<p class="stat-value">(\d+)</p>', page).group(1))


def test_co_handler_card_shows_its_contribution_deadline_and_only_a_missing_one_is_late(web, session):
    ticket = make_ticket(session, state="dispatched")
    web_login(web, "t_sjj")
    before = _overdue(web.get("/staff/unit?tab=co").text)
    card = _card(web.get("/staff/unit?tab=co").text, ticket.number)
    assert "协办意见" in card and "签收" not in re.search(r'<div class="card-header">.*?</div>\s*</div>', card, re.S).group(0)
    ticket.reply_due = utcnow() - timedelta(hours=1)
    session.flush()
    assert _overdue(web.get("/staff/unit?tab=co").text) == before + 1, "its contribution is late"
    service.act(session, number=ticket.number, action="contribute", actor=actor(session, "t_sjj"), body=schemas.ContentIn(version=ticket.version, content="经核查，该路段无违规占道经营。"))
    session.flush()
    page = web.get("/staff/unit?tab=co").text
    assert _overdue(page) == before and "已提交协办意见" in _card(page, ticket.number)
    web_login(web, "t_ronggui")
    lead = _card(web.get("/staff/unit").text, ticket.number)
    assert "签收" in lead and "答复" in lead, "the lead still sees its own deadlines"


def test_co_handler_declines_on_the_order_page_and_the_lead_reads_why(web, session):
    ticket = make_ticket(session, state="signed")
    web_login(web, "t_sjj")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="decline-co"' in page
    empty = web.post(f"/staff/tickets/{ticket.number}/act/decline-co", data={"csrf_token": token(page), "version": ticket.version, "reason": ""}, follow_redirects=True)
    assert re.search(r"“退回协办”未完成：[^<]*原因", empty.text) and ticket.co_units
    done = web.post(f"/staff/tickets/{ticket.number}/act/decline-co", data={"csrf_token": token(page), "version": ticket.version, "reason": REASON, "next": f"/staff/tickets/{ticket.number}"}, follow_redirects=True)
    assert done.status_code == 200 and done.url.path == "/staff/unit" and "已退回协办" in done.text
    web_login(web, "t_ronggui")
    lead = web.get(f"/staff/tickets/{ticket.number}").text
    assert "退回协办" in lead and f"原因：{REASON}" in lead and 'data-action-form="decline-co"' not in lead


def test_after_its_opinion_a_co_handler_revises_it_instead_of_leaving(web, session):
    ticket = make_ticket(session, state="signed")
    sjj = actor(session, "t_sjj")
    service.act(session, number=ticket.number, action="contribute", actor=sjj, body=schemas.ContentIn(version=ticket.version, content="经核查，该路段餐馆证照齐全。"))
    with pytest.raises(Conflict, match="已提交协办意见，不能再退回协办"):
        decline(session, ticket)
    assert [c.contribution for c in ticket.co_units] == ["经核查，该路段餐馆证照齐全。"], "the lead unit's reply form still quotes it"
    session.flush()
    web_login(web, "t_sjj")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="decline-co"' not in page
    form = re.search(r'<form[^>]*/act/contribute".*?</form>', page, re.S).group(0)
    assert "经核查，该路段餐馆证照齐全。</textarea>" in form, "a revision starts from what was sent"

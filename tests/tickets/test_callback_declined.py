"""回访拒绝评价: a requester who answers the callback but declines to rate was reached. They are not rung again like
an unanswered call, the order may be closed at once, and no satisfaction or resolution figure counts them."""

from datetime import timedelta

import pytest

from baishitong import clock
from baishitong.analytics.report import period_report
from baishitong.errors import Conflict
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.tickets.test_merged_callback import merged_repeat, reply
from tests.web.test_pages import login, token


def declined(session, ticket, note=None):
    return service.act(session, number=ticket.number, action="callback-declined", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=ticket.version, note=note))


def missed(session, ticket, outcome="无人接听"):
    return service.act(session, number=ticket.number, action="callback-missed", actor=actor(session, "t_operator"), body=schemas.CallbackMissedIn(version=ticket.version, outcome=outcome))


def test_a_refusal_to_rate_lets_the_order_close_at_once_and_is_not_retried(session):
    ticket = make_ticket(session, state="replied")
    assert not service.may_close(ticket)
    declined(session, ticket, note="市民表示已解决，不想评价")
    assert ticket.status == "replied" and service.callback_declined(ticket) and service.may_close(ticket)
    assert service.missed_callbacks(ticket) == 0, "a refusal is no unanswered call"
    with pytest.raises(Conflict) as refused:
        missed(session, ticket)
    assert refused.value.code == "callback_declined"
    with pytest.raises(Conflict):
        declined(session, ticket)
    service.act(session, number=ticket.number, action="close", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=ticket.version, note="诉求人接通但拒绝评价，按未评价办结"))
    assert ticket.status == "closed"


def test_a_refusal_is_no_rating_in_the_figures(session):
    rated = make_ticket(session, state="callback")
    refused = make_ticket(session, state="replied")
    declined(session, refused)
    service.act(session, number=refused.number, action="close", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=refused.version))
    today = clock.now().date()
    report = period_report(session, start=today - timedelta(days=1), end=today + timedelta(days=1))
    assert report.callbacks == 1 and report.satisfaction_rate == 1.0 and report.resolution_rate == 1.0
    assert refused.callback_at is None and refused.callback_satisfaction is None and rated.callback_satisfaction == "满意"


def test_the_old_outcome_is_refused_with_what_to_send_instead(client, login, session):
    ticket = make_ticket(session, state="replied")
    response = client.post(f"/api/v1/tickets/{ticket.number}/actions/callback-missed", json={"outcome": "拒绝回访"}, headers=login("t_operator"))
    assert response.status_code == 422 and "callback-declined" in response.json()["error"]["message"]
    response = client.post(f"/api/v1/tickets/{ticket.number}/actions/callback-declined", json={}, headers=login("t_operator"))
    assert response.status_code == 200
    assert service.may_close(ticket) and service.missed_callbacks(ticket) == 0


def test_misses_before_a_redo_do_not_count_against_the_new_reply(session):
    """Two unanswered calls about the first reply, then the requester rated it 不满意 online and it was redone:
    the new reply is owed its own three tries, and an old refusal does not let it close unrated."""
    ticket = make_ticket(session, state="replied")
    missed(session, ticket)
    missed(session, ticket)
    service.act(session, number=ticket.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=ticket.version, solved=False, satisfaction="不满意"))
    service.act(session, number=ticket.number, action="redo", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason="路灯仍不亮"))
    service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=ticket.version, content="已重新检修线路，路灯恢复。"))
    missed(session, ticket)
    assert service.missed_callbacks(ticket) == 1 and not service.may_close(ticket)
    assert service.missed_callback_counts(session, ticket_ids=[ticket.id]) == {ticket.id: 1}
    assert [e.data["attempt"] for e in ticket.events if e.action == "callback-missed"] == [1, 2, 1]


def test_the_callback_queue_offers_the_refusal_as_its_own_choice(web, session):
    ticket = make_ticket(session, state="replied")
    login(web, "t_operator")
    page = web.get("/staff/console/callback").text
    row = page[page.index(f'id="row-{ticket.number}"') :]
    row = row[: row.index("</tr>")]
    outcomes = row[row.index('name="outcome"') : row.index("</select>")]
    assert "拒绝" not in outcomes, "not among the reasons a call did not get through"
    assert f'action="/staff/tickets/{ticket.number}/act/callback-declined"' in row and "接通但拒绝评价" in row

    landed = web.post(f"/staff/tickets/{ticket.number}/act/callback-declined", data={"csrf_token": token(page), "version": str(ticket.version), "next": f"/staff/console/callback?row={ticket.number}"})
    assert f"工单 {ticket.number} 已记录诉求人接通但拒绝评价" in landed.text
    row = landed.text[landed.text.index(f'id="row-{ticket.number}"') :]
    row = row[: row.index("</tr>")]
    assert "data-declined" in row and "callback-missed" not in row and "callback-declined" not in row
    assert f'action="/staff/tickets/{ticket.number}/act/close" data-confirm="确定将工单 {ticket.number} 按未评价办结吗？办结后不再回访。"' in row and "未评价办结" in row
    web.post(f"/staff/tickets/{ticket.number}/act/close", data={"csrf_token": token(page), "version": str(ticket.version), "next": "/staff/console/callback", "note": "诉求人接通但拒绝评价，按未评价办结"})
    session.refresh(ticket)
    assert ticket.status == "closed"
    timeline = web.get(f"/staff/tickets/{ticket.number}").text
    assert "回访拒绝评价" in timeline and "回访未接通" not in timeline


def test_the_ticket_page_records_a_refusal_apart_from_a_missed_call(web, session):
    ticket = make_ticket(session, state="replied")
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="callback-declined"' in page
    missed_form = page[page.index('data-action-form="callback-missed"') :]
    assert "拒绝" not in missed_form[: missed_form.index("</form>")]
    web.post(f"/staff/tickets/{ticket.number}/act/callback-declined", data={"csrf_token": token(page), "version": str(ticket.version), "next": f"/staff/tickets/{ticket.number}", "note": "市民不愿评价"})
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="callback-missed"' not in page and 'data-action-form="callback-declined"' not in page
    assert f'action="/staff/tickets/{ticket.number}/act/close"' in page and "市民不愿评价" in page


def test_a_merged_caller_who_declines_leaves_the_queue(web, session):
    master = make_ticket(session, state="signed")
    repeat = merged_repeat(session, master)
    reply(session, master)
    session.flush()
    login(web, "t_operator")
    page = web.get("/staff/console/callback").text
    assert f'data-ticket="{repeat.number}"' in page
    web.post(f"/staff/tickets/{repeat.number}/act/callback-declined", data={"csrf_token": token(page), "version": str(repeat.version), "next": "/staff/console/callback"})
    page = web.get("/staff/console/callback").text
    assert f'data-ticket="{repeat.number}"' not in page and f'data-ticket="{master.number}"' in page
    session.refresh(repeat)
    assert not service.callback_due(repeat) and repeat.callback_at is None

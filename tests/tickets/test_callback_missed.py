"""回访未接通: each unanswered callback call is recorded and counted; after three the centre may close without one."""

from baishitong.tickets import schemas, service
from baishitong.tickets.states import MISSED_CALLBACKS_TO_CLOSE
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token


def test_missed_callbacks_are_counted_and_keep_the_order_waiting(session):
    ticket = make_ticket(session, state="replied")
    operator = actor(session, "t_operator")
    for outcome in ("无人接听", "关机或停机"):
        service.act(session, number=ticket.number, action="callback-missed", actor=operator, body=schemas.CallbackMissedIn(version=ticket.version, outcome=outcome))
    assert ticket.status == "replied" and service.missed_callbacks(ticket) == 2
    assert [e.data for e in ticket.events if e.action == "callback-missed"] == [{"outcome": "无人接听", "attempt": 1}, {"outcome": "关机或停机", "attempt": 2}]
    assert service.missed_callback_counts(session, ticket_ids=[ticket.id]) == {ticket.id: 2}


def test_the_callback_queue_records_a_missed_call_and_offers_closing_after_three(web, session):
    ticket = make_ticket(session, state="replied")
    login(web, "t_operator")
    page = web.get("/staff/console/callback").text
    ticket_page = web.get(f"/staff/tickets/{ticket.number}").text
    assert 'data-action-form="callback-missed"' in ticket_page and "关机或停机" in ticket_page
    close_button = f'action="/staff/tickets/{ticket.number}/act/close"'
    assert f'action="/staff/tickets/{ticket.number}/act/callback-missed"' in page and close_button not in page
    assert close_button not in ticket_page, "no 办结 on the ticket page before the callback either"
    for _ in range(MISSED_CALLBACKS_TO_CLOSE):
        # The version the page showed stays valid: a missed call changes nothing another operator could be editing.
        recorded = web.post(f"/staff/tickets/{ticket.number}/act/callback-missed", data={"csrf_token": token(page), "version": str(ticket.version), "next": "/staff/console/callback", "outcome": "无人接听"})
    assert f"工单 {ticket.number} 已记录回访未接通" in recorded.text
    page = web.get("/staff/console/callback").text
    assert f'data-missed="{MISSED_CALLBACKS_TO_CLOSE}"' in page and "可直接办结" in page and close_button in page
    assert f'{close_button} data-confirm="确定将工单 {ticket.number} 按未回访办结吗？办结后不再回访。"' in page, "asked first, as 办结 elsewhere"
    web.post(f"/staff/tickets/{ticket.number}/act/close", data={"csrf_token": token(page), "version": str(ticket.version), "next": "/staff/console/callback", "note": "3 次回访未接通，按未回访办结"})
    assert ticket.status == "closed"
    timeline = web.get(f"/staff/tickets/{ticket.number}").text
    assert "回访未接通" in timeline and "无人接听（第 3 次）" in timeline


def test_an_unknown_outcome_is_refused_in_chinese(client, login, session):
    ticket = make_ticket(session, state="replied")
    response = client.post(f"/api/v1/tickets/{ticket.number}/actions/callback-missed", json={"outcome": "忙"}, headers=login("t_operator"))
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_body"

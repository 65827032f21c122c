"""A retried action with the same Idempotency-Key does not act twice, and answers as the first one did."""

import pytest
from sqlalchemy import func, select

from baishitong.tickets.models import Ticket
from tests.tickets.factories import PHONE, make_ticket


def post(client, ticket, action, headers, key, **body):
    return client.post(f"/api/v1/tickets/{ticket.number}/actions/{action}", json=body, headers={**headers, "Idempotency-Key": key})


def test_a_retried_note_or_urge_is_recorded_once(client, login, session):
    ticket = make_ticket(session, state="signed")
    operator = login("t_operator")
    first = post(client, ticket, "note", operator, "note-1", note="已致电承办人了解进度")
    again = post(client, ticket, "note", operator, "note-1", note="已致电承办人了解进度")
    assert first.status_code == again.status_code == 200
    assert [e["action"] for e in again.json()["events"]].count("note") == 1
    assert post(client, ticket, "urge", operator, "urge-1", note="市民再次来电").json()["urge_count"] == 1
    assert post(client, ticket, "urge", operator, "urge-1", note="市民再次来电").json()["urge_count"] == 1


def test_a_retried_versioned_action_gets_the_order_back_not_a_version_conflict(client, login, session):
    ticket = make_ticket(session, state="dispatched")
    handler = login("t_ronggui")
    body = {"version": ticket.version}
    signed = post(client, ticket, "sign", handler, "sign-1", **body)
    assert signed.status_code == 200, signed.text
    retry = post(client, ticket, "sign", handler, "sign-1", **body)
    assert retry.status_code == 200, retry.text
    assert retry.json()["status"] == "signed" and retry.json()["version"] == signed.json()["version"]
    assert [e["action"] for e in retry.json()["events"]].count("sign") == 1


def test_the_same_key_with_another_body_is_409(client, login, session):
    ticket = make_ticket(session, state="signed")
    operator = login("t_operator")
    assert post(client, ticket, "note", operator, "note-2", note="已致电承办人").status_code == 200
    reused = post(client, ticket, "note", operator, "note-2", note="承办人未接电话")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


def test_a_key_is_its_own_per_order_action_and_user(client, login, session):
    ticket, other = make_ticket(session, state="signed"), make_ticket(session, state="signed")
    note = {"note": "已致电承办人了解进度"}
    assert post(client, ticket, "note", login("t_operator"), "k", **note).status_code == 200
    assert post(client, other, "note", login("t_operator"), "k", **note).status_code == 200
    assert post(client, ticket, "urge", login("t_operator"), "k", **note).json()["urge_count"] == 1
    shown = post(client, ticket, "note", login("t_supervisor"), "k", **note).json()
    assert [e["action"] for e in shown["events"]].count("note") == 2
    assert [e["action"] for e in client.get(f"/api/v1/tickets/{other.number}", headers=login("t_operator")).json()["events"]].count("note") == 1


def test_a_retried_rating_gets_the_first_answer_instead_of_already_rated(client, session):
    ticket = make_ticket(session, state="replied")
    body = {"number": ticket.number, "phone": PHONE, "solved": True, "satisfaction": "满意"}
    first = client.post("/api/v1/track/callback", json=body, headers={"Idempotency-Key": "rate-1"})
    assert first.status_code == 200, first.text
    again = client.post("/api/v1/track/callback", json=body, headers={"Idempotency-Key": "rate-1"})
    assert again.status_code == 200 and again.json() == first.json()
    assert client.post("/api/v1/track/callback", json=body).json()["error"]["code"] == "already_rated"


def test_an_intake_key_is_its_own_per_user(client, login, session):
    """Two accounts (an integration and an operator, or two integrations numbering their keys 1, 2, 3…) that send
    the same key and call are two registrations: the second used to be answered 200 with the first one's order and
    nothing registered for it. Anonymous intake keeps one space, where the caller's phone is in the body."""
    call = {"type": "投诉", "content": "鉴海北路18号附近餐馆油烟直排，影响居民生活。", "requester": {"phone": PHONE}}
    anonymous = client.post("/api/v1/tickets", json=call, headers={"Idempotency-Key": "1"})
    operator = client.post("/api/v1/tickets", json=call, headers={**login("t_operator"), "Idempotency-Key": "1"})
    supervisor = client.post("/api/v1/tickets", json=call, headers={**login("t_supervisor"), "Idempotency-Key": "1"})
    assert (anonymous.status_code, operator.status_code, supervisor.status_code) == (201, 201, 201)
    assert len({anonymous.json()["number"], operator.json()["number"], supervisor.json()["number"]}) == 3
    retried = client.post("/api/v1/tickets", json=call, headers={**login("t_operator"), "Idempotency-Key": "1"})
    assert retried.status_code == 200 and retried.json()["number"] == operator.json()["number"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_key_is_refused_rather_than_taken_as_no_key(client, login, session, blank):
    """A client that sends the header means its retries to be answered once; sent empty (a template's unfilled
    variable) it used to be ignored, so every retry registered or acted again."""
    call = {"type": "投诉", "content": "鉴海北路18号附近餐馆油烟直排，影响居民生活。", "requester": {"phone": PHONE}}
    before = session.scalar(select(func.count()).select_from(Ticket))
    refused = client.post("/api/v1/tickets", json=call, headers={"Idempotency-Key": blank})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == {"code": "invalid_idempotency_key", "message": "Idempotency-Key 不能为空"}
    assert session.scalar(select(func.count()).select_from(Ticket)) == before
    ticket = make_ticket(session, state="signed")
    note = post(client, ticket, "note", login("t_operator"), blank, note="已致电承办人了解进度")
    assert note.status_code == 422 and note.json()["error"]["message"] == "Idempotency-Key 不能为空"
    assert "note" not in [e["action"] for e in client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_operator")).json()["events"]]
    assert client.post("/api/v1/tickets", json=call).status_code == 201, "no header at all is still no key"

"""来源会话 through the API: an app that chatted with 政务君 files the order linked to that conversation, as the web's
转为工单 does; nobody links a conversation that is not theirs."""

import re

from sqlalchemy import func, select

from baishitong.tickets.models import Ticket
from tests.web.test_pages import login as sign_in

ASK = "/api/v1/assistant/ask"
MATTER = "容桂街道高黎社区路灯坏了一个星期，晚上走路很危险，电话13800138000"
INTAKE = {"type": "求助", "content": MATTER, "address": "容桂街道高黎社区", "requester": {"phone": "13800138000"}}


def _conversation(client) -> tuple[str, dict]:
    """A citizen's app asks what 政务君 cannot answer: its session id and the 转为工单 draft."""
    reply = client.post(ASK, json={"question": MATTER}).json()
    ticket = next(a for a in reply["actions"] if a["type"] == "ticket")
    return reply["session_id"], ticket["prefill"]


def _served_by(client, login, username: str) -> str:
    """A conversation handed over and taken by `username` (their first reply takes it)."""
    session_id, _ = _conversation(client)
    assert client.post(f"/api/v1/assistant/sessions/{session_id}/handover").status_code == 200
    taken = client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好，我是话务员，请讲"}, headers=login(username))
    assert taken.status_code == 200, taken.text
    return session_id


def _orders(session) -> int:
    return session.scalar(select(func.count(Ticket.id)))


def test_the_apps_draft_files_the_order_linked_to_its_conversation_which_the_centre_opens(client, web, session, login):
    session_id, prefill = _conversation(client)
    assert prefill["assistant_session_id"] == session_id

    created = client.post("/api/v1/tickets", json=dict(prefill, type="求助", channel="wechat"))
    assert created.status_code == 201, created.text
    number = created.json()["number"]

    read = client.get(f"/api/v1/tickets/{number}", headers=login("t_operator")).json()
    assert read["assistant_session_id"] == session_id
    sign_in(web, "t_operator")
    order = web.get(f"/staff/tickets/{number}").text
    assert re.search(rf'<th scope="row">来源会话</th><td><a href="/staff/chat/{session_id}" id="source-chat">', order)
    assert f'href="/staff/tickets/{number}">工单 {number}</a>' in web.get(f"/staff/chat/{session_id}").text


def test_an_unknown_conversation_is_refused_in_chinese_and_nothing_is_registered(client, session):
    before = _orders(session)
    response = client.post("/api/v1/tickets", json={**INTAKE, "assistant_session_id": "0" * 32})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "assistant_session_not_found" and "来源会话不存在" in response.json()["error"]["message"]
    assert _orders(session) == before


def test_an_operator_links_the_conversation_they_serve_and_no_colleague_or_unit_links_it(client, session, login):
    session_id = _served_by(client, login, "t_operator")
    before = _orders(session)
    for username in ("t_supervisor", "t_admin", "t_ronggui"):
        refused = client.post("/api/v1/tickets", json={**INTAKE, "assistant_session_id": session_id}, headers=login(username))
        assert refused.status_code == 403, (username, refused.text)
        assert refused.json()["error"]["code"] == "conversation_not_linkable" and "会话" in refused.json()["error"]["message"]
    assert _orders(session) == before

    mine = client.post("/api/v1/tickets", json={**INTAKE, "channel": "hotline", "assistant_session_id": session_id}, headers=login("t_operator"))
    assert mine.status_code == 201, mine.text
    assert mine.json()["assistant_session_id"] == session_id
    assert session.scalar(select(Ticket.assistant_session_id).where(Ticket.number == mine.json()["number"])) == session_id


def test_a_retry_with_the_same_key_replays_and_another_conversation_or_none_under_it_conflicts(client, session, login):
    session_id, _ = _conversation(client)
    other, _ = _conversation(client)
    key = {"Idempotency-Key": "wx-order-1"}
    first = client.post("/api/v1/tickets", json={**INTAKE, "assistant_session_id": session_id}, headers=key)
    again = client.post("/api/v1/tickets", json={**INTAKE, "assistant_session_id": session_id}, headers=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    before = _orders(session)
    for changed in ({**INTAKE, "assistant_session_id": other}, INTAKE):
        conflict = client.post("/api/v1/tickets", json=changed, headers=key)
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert _orders(session) == before


def test_an_operators_retry_replays_after_a_colleague_has_taken_the_conversation(client, session, login):
    """The order was linked while the operator served the citizen: their retry is that order, not a 403."""
    session_id = _served_by(client, login, "t_operator")
    body, headers = {**INTAKE, "channel": "hotline", "assistant_session_id": session_id}, {**login("t_operator"), "Idempotency-Key": "hotline-7"}
    first = client.post("/api/v1/tickets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert client.post(f"/api/v1/assistant/sessions/{session_id}/close", headers=login("t_operator")).status_code == 200
    assert client.post(f"/api/v1/assistant/sessions/{session_id}/handover").status_code == 200
    assert client.post(f"/api/v1/assistant/sessions/{session_id}/reply", json={"text": "您好"}, headers=login("t_admin")).status_code == 200

    again = client.post("/api/v1/tickets", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    fresh = client.post("/api/v1/tickets", json=body, headers={**login("t_operator"), "Idempotency-Key": "hotline-8"})
    assert fresh.status_code == 403, "a new order is checked against who serves it now"

"""Append-only flags (办理进展, 催办, 督办, 首次联系) neither need the version the actor saw nor make anyone
else's form stale; actions that change the order keep the compare-and-set and its 409."""

import pytest
from sqlalchemy import update

from baishitong.audit import service as audit
from baishitong.errors import Conflict, Forbidden
from baishitong.org import service as org
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from baishitong.tickets.states import TRANSITIONS
from tests.conftest import actor
from tests.tickets.factories import make_ticket

STALE = {"error": {"code": "version_conflict", "message": "工单刚刚已被更新（可能是您在其他窗口的操作或他人的操作），请刷新后再试"}}


def act(client, ticket, action, headers, *, version, **body):
    return client.post(f"/api/v1/tickets/{ticket.number}/actions/{action}", json={"version": version, **body}, headers=headers)


def test_only_the_flags_that_overwrite_nothing_are_append_only():
    # Not contribute: it replaces the co-handling unit's 协办意见, which a colleague may be rewriting.
    assert {name for name, t in TRANSITIONS.items() if t.append_only} == {"note", "urge", "supervise", "contact", "callback-missed", "callback-declined"}


def test_note_urge_supervise_and_contact_with_a_stale_version_succeed_and_leave_the_version(client, login, session):
    ticket = make_ticket(session, state="signed")
    seen = ticket.version
    stale = seen - 2
    assert act(client, ticket, "note", login("t_operator"), version=stale, note="已致电承办人了解进度").status_code == 200
    urged = act(client, ticket, "urge", login("t_operator"), version=stale, note="市民再次来电")
    assert urged.status_code == 200, urged.text
    assert urged.json()["urge_count"] == 1 and urged.json()["version"] == seen
    assert act(client, ticket, "supervise", login("t_supervisor"), version=stale).json()["supervised"] is True
    contacted = act(client, ticket, "contact", login("t_ronggui"), version=stale, outcome="已联系", note="已电话联系诉求人")
    assert contacted.status_code == 200 and contacted.json()["version"] == seen
    session.refresh(ticket)
    assert ticket.contacted_at is not None
    events = [e for e in ticket.events if e.action in ("note", "urge", "supervise", "contact")]
    assert [(e.action, e.from_status, e.to_status) for e in events] == [(a, "signed", "signed") for a in ("note", "urge", "supervise", "contact")]
    assert events[1].data == {"count": 1}
    logged = audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.note", "ticket.urge", "ticket.supervise", "ticket.contact"))
    assert [e.action for e in logged] == ["ticket.note", "ticket.urge", "ticket.supervise", "ticket.contact"]
    assert all(e.data["version"] == seen for e in logged)


def test_a_reply_with_the_version_seen_before_notes_and_urges_still_succeeds(client, login, session):
    ticket = make_ticket(session, state="signed")
    seen = ticket.version
    act(client, ticket, "urge", login("t_supervisor"), version=seen)
    act(client, ticket, "note", login("t_operator"), version=seen, note="诉求人来电补充了位置")
    act(client, ticket, "urge", login("t_operator"), version=seen)
    reply = act(client, ticket, "reply", login("t_ronggui"), version=seen, content="已安排维修，路灯已恢复。")
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "replied" and reply.json()["urge_count"] == 2 and reply.json()["version"] == seen + 1


@pytest.mark.parametrize("first", ["sign", "reply"])
def test_a_stale_reply_after_another_handlers_sign_or_reply_is_still_409(client, login, session, first):
    ticket = make_ticket(session, state="dispatched" if first == "sign" else "signed")
    seen = ticket.version
    body = {"content": "已处理。"} if first == "reply" else {}
    assert act(client, ticket, first, login("t_ronggui"), version=seen, **body).status_code == 200
    stale = act(client, ticket, "reply", login("t_ronggui2"), version=seen, content="路灯已修复。")
    assert stale.status_code == 409
    assert stale.json() == {"error": {**STALE["error"], "details": {"current_version": seen + 1}}}


def test_the_state_role_and_unit_guard_still_applies_to_flags(session):
    replied = make_ticket(session, state="replied")
    with pytest.raises(Conflict) as caught:
        service.act(session, number=replied.number, action="note", actor=actor(session, "t_operator"), body=schemas.NoteIn(version=1, note="补充"))
    assert caught.value.code == "invalid_state"
    signed = make_ticket(session, state="signed")
    with pytest.raises(Forbidden):
        service.act(session, number=signed.number, action="urge", actor=actor(session, "t_ronggui"), body=schemas.ActionIn(version=signed.version))
    with pytest.raises(Forbidden):  # 区市场监管局 co-handles the order; first contact is the lead's
        service.act(session, number=signed.number, action="contact", actor=actor(session, "t_sjj"), body=schemas.ContactIn(version=signed.version, outcome="已联系"))
    assert signed.urge_count == 0 and signed.contacted_at is None


@pytest.mark.parametrize(("action", "who"), [("note", "t_operator"), ("urge", "t_supervisor")])
def test_a_flag_is_refused_when_another_actor_replied_after_it_was_read(session, action, who):
    ticket = make_ticket(session, state="signed")
    # Another transaction's commit: the row changes, the ticket already loaded here does not.
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status="replied").execution_options(synchronize_session=False))
    body = schemas.ACTION_BODIES.get(action, schemas.ActionIn)(version=ticket.version, **({"note": "补充"} if action == "note" else {}))
    with pytest.raises(Conflict) as caught:
        service.act(session, number=ticket.number, action=action, actor=actor(session, who), body=body)
    assert caught.value.code == "version_conflict"


def test_a_flag_is_refused_when_the_order_went_to_another_unit_after_it_was_read(session):
    ticket = make_ticket(session, state="signed")
    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(lead_unit_id=org.get_unit(session, code="daliang").id).execution_options(synchronize_session=False))
    with pytest.raises(Conflict) as caught:
        service.transition(session, ticket, action="contact", actor=actor(session, "t_ronggui"))
    assert caught.value.code == "version_conflict"


def test_supervise_and_first_contact_are_recorded_once(session):
    ticket = make_ticket(session, state="signed")
    supervisor, handler = actor(session, "t_supervisor"), actor(session, "t_ronggui")
    service.act(session, number=ticket.number, action="supervise", actor=supervisor, body=schemas.ActionIn(version=ticket.version))
    service.act(session, number=ticket.number, action="contact", actor=handler, body=schemas.ContactIn(version=ticket.version, outcome="已联系"))
    for action, who, code in (("supervise", supervisor, "already_supervised"), ("contact", handler, "already_contacted")):
        with pytest.raises(Conflict) as caught:
            service.act(session, number=ticket.number, action=action, actor=who, body=schemas.ACTION_BODIES.get(action, schemas.ActionIn)(version=ticket.version, **({"outcome": "已联系"} if action == "contact" else {})))
        assert caught.value.code == code
    assert [e.action for e in ticket.events].count("supervise") == 1 and [e.action for e in ticket.events].count("contact") == 1


def test_a_flag_needs_no_version_at_all_but_a_change_does(client, login, session):
    ticket = make_ticket(session, state="signed")
    urged = client.post(f"/api/v1/tickets/{ticket.number}/actions/urge", json={"note": "督查系统自动催办"}, headers=login("t_supervisor"))
    assert urged.status_code == 200 and urged.json()["urge_count"] == 1
    reply = client.post(f"/api/v1/tickets/{ticket.number}/actions/reply", json={"content": "已处理。"}, headers=login("t_ronggui"))
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "version_required" and "请先读取工单" in reply.json()["error"]["message"]

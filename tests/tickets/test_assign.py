"""指派承办人: within the lead unit, its admin names who works an order and a handler takes an unassigned one
(我来办); the 承办人 is in the API, the timeline and the audit trail, and goes when the order leaves the unit."""

from sqlalchemy import select

from baishitong.audit import service as audit
from baishitong.notify.models import Message
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket


def assign(client, login, ticket, who: str, **body):
    return client.post(f"/api/v1/tickets/{ticket.number}/actions/assign", json={"version": ticket.version, **body}, headers=login(who))


def messages_to(session, ticket, username):
    return session.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.template_code == "ticket_assigned", Message.recipient == username)).all()


def test_the_unit_admin_assigns_a_handler_who_is_told_and_the_order_says_so_everywhere(client, login, session):
    ticket = make_ticket(session, state="signed")
    done = assign(client, login, ticket, "t_ronggui_admin", assignee="t_ronggui2", note="该片区由你负责")
    assert done.status_code == 200, done.text
    out = done.json()
    assert out["assignee"] == {"username": "t_ronggui2", "name": "t_ronggui2"}
    event = out["events"][-1]
    assert event["action"] == "assign" and event["data"]["assignee"] == "t_ronggui2" and event["actor"] == "t_ronggui_admin"
    assert client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_ronggui2")).json()["assignee"]["username"] == "t_ronggui2"
    trail = audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.assign",))
    assert len(trail) == 1 and trail[0].actor == "t_ronggui_admin" and trail[0].data["assignee"] == "t_ronggui2"
    (message,) = messages_to(session, ticket, "t_ronggui2")
    assert ticket.number in message.body and "t_ronggui_admin将工单" in message.body and "该片区由你负责" in message.body


def test_a_handler_takes_an_unassigned_order_but_neither_hands_it_on_nor_takes_a_colleagues(client, login, session):
    ticket = make_ticket(session, state="dispatched")
    handing = assign(client, login, ticket, "t_ronggui", assignee="t_ronggui2")
    assert handing.status_code == 403 and handing.json()["error"]["code"] == "assign_others_not_allowed"
    taken = assign(client, login, ticket, "t_ronggui")  # 我来办: no assignee is oneself
    assert taken.status_code == 200 and taken.json()["assignee"]["username"] == "t_ronggui"
    assert messages_to(session, ticket, "t_ronggui") == [], "taking an order oneself needs no message"
    colleague = assign(client, login, ticket, "t_ronggui2")
    assert colleague.status_code == 409 and colleague.json()["error"]["code"] == "already_assigned"
    assert "t_ronggui" in colleague.json()["error"]["message"] and "单位管理员" in colleague.json()["error"]["message"]


def test_only_the_lead_units_active_staff_can_be_assigned_and_only_by_that_unit(client, login, session):
    ticket = make_ticket(session, state="signed")  # 容桂街道 leads, 区市场监管局 co-handles
    for username in ("t_daliang", "t_operator", "nobody_here"):
        refused = assign(client, login, ticket, "t_ronggui_admin", assignee=username)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_assignee", username
    co = assign(client, login, ticket, "t_sjj")
    assert co.status_code == 403 and co.json()["error"]["code"] == "not_your_unit"
    centre = assign(client, login, ticket, "t_operator", assignee="t_ronggui")
    assert centre.status_code == 403
    assert client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_ronggui")).json()["assignee"] is None


def test_a_reassignment_on_a_stale_version_is_a_conflict_and_a_fresh_one_names_the_previous_handler(client, login, session):
    ticket = make_ticket(session, state="signed")
    seen = ticket.version
    assert assign(client, login, ticket, "t_ronggui").status_code == 200
    stale = client.post(f"/api/v1/tickets/{ticket.number}/actions/assign", json={"version": seen, "assignee": "t_ronggui2"}, headers=login("t_ronggui_admin"))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    moved = assign(client, login, ticket, "t_ronggui_admin", assignee="t_ronggui2")
    assert moved.status_code == 200 and moved.json()["assignee"]["username"] == "t_ronggui2"
    assert moved.json()["events"][-1]["data"]["previous"] == "t_ronggui"
    again = assign(client, login, ticket, "t_ronggui_admin", assignee="t_ronggui2")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_assigned"


def test_the_centre_deciding_an_extension_is_no_conflict_with_an_assignment_in_between(client, login, session):
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=3, reason="需协调供电部门"))
    seen = ticket.version
    assert assign(client, login, ticket, "t_ronggui_admin", assignee="t_ronggui2").status_code == 200
    decided = client.post(f"/api/v1/tickets/{ticket.number}/actions/approve-extension", json={"version": seen}, headers=login("t_supervisor"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["assignee"]["username"] == "t_ronggui2"


def test_the_assignee_goes_when_the_order_leaves_the_unit(client, login, session):
    returned = make_ticket(session, state="signed")
    assert assign(client, login, returned, "t_ronggui").status_code == 200
    service.act(session, number=returned.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=returned.version, reason="不属于本单位职责"))
    service.act(session, number=returned.number, action="approve-return", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=returned.version))
    session.flush()
    assert returned.assignee_id is None
    service.act(session, number=returned.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=returned.version, lead_unit="ronggui"))
    assert client.get(f"/api/v1/tickets/{returned.number}", headers=login("t_ronggui")).json()["assignee"] is None, "sent back: nobody works it yet"

    moved = make_ticket(session, state="dispatched")
    assert assign(client, login, moved, "t_ronggui").status_code == 200
    service.act(session, number=moved.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=moved.version, lead_unit="ronggui"))
    session.flush()
    assert moved.assignee_id is not None, "dispatched again to the same unit: still theirs"
    service.act(session, number=moved.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=moved.version, lead_unit="daliang"))
    session.flush()
    assert moved.assignee_id is None

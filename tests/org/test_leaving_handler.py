"""A 承办人 whose account is disabled or moved out of the unit leaves their unfinished orders to the unit's 未指派,
where its admin sees them and names someone, instead of with a person who can no longer act on them."""

import re

from baishitong.audit import service as audit
from baishitong.org import service as org
from baishitong.tickets import schemas, service
from baishitong.tickets.models import TicketEvent
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token


def give(session, ticket, username: str) -> None:
    service.act(session, number=ticket.number, action="assign", actor=actor(session, "t_ronggui_admin"), body=schemas.AssignIn(version=ticket.version, assignee=username))


def assigned(session, state: str, username: str = "t_ronggui"):
    """An order in `state` worked by `username` (named 承办人 while the unit still had it to sign or answer)."""
    ticket = make_ticket(session, state="dispatched" if state == "dispatched" else "signed")
    give(session, ticket, username)
    if state in ("replied", "closed"):
        service.act(session, number=ticket.number, action="reply", actor=actor(session, username), body=schemas.ContentIn(version=ticket.version, content="已安排维修，路灯已恢复。"))
        service.act(session, number=ticket.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=ticket.version, solved=True, satisfaction="满意"))
    if state == "closed":
        service.act(session, number=ticket.number, action="close", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=ticket.version))
    return ticket


def test_disabling_a_handler_returns_their_unfinished_orders_to_unassigned_with_an_event_and_audit_on_each(session):
    waiting, working, answered = assigned(session, "dispatched"), assigned(session, "signed"), assigned(session, "replied")
    finished, colleagues = assigned(session, "closed"), assigned(session, "signed", "t_ronggui2")
    versions = {t.number: t.version for t in (waiting, working, answered)}

    change = org.disable_user(session, username="t_ronggui", actor="t_ronggui_admin", scope=org.account_scope(session, actor=actor(session, "t_ronggui_admin")))

    assert change.released == (waiting.number, working.number, answered.number), "oldest first; 已回访 too: a 重办 would bring it back to nobody"
    for ticket in (waiting, working, answered):
        session.refresh(ticket)
        assert ticket.assignee_id is None
        assert ticket.version == versions[ticket.number], "the unit's open forms on the order stay good"
        event = session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="unassign").one()
        assert (event.actor, event.actor_role, event.from_status, event.to_status) == ("t_ronggui_admin", "unit_admin", ticket.status, ticket.status)
        assert event.data == {"previous": "t_ronggui", "previous_name": "t_ronggui", "reason": "承办人账号已停用"}
        [entry] = audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.unassign",))
        assert entry.actor == "t_ronggui_admin" and entry.data["previous"] == "t_ronggui"
    assert finished.assignee.username == "t_ronggui", "a finished order keeps who worked it"
    assert colleagues.assignee.username == "t_ronggui2"
    [disabled] = audit.entries_for(session, object_type="user", object_id="t_ronggui", actions=("user.disable",))
    assert disabled.data == {"released_orders": 3}


def test_moving_a_handler_to_another_unit_releases_their_orders_but_a_new_role_in_the_same_unit_does_not(session):
    ticket = assigned(session, "signed")
    kept = org.update_user(session, username="t_ronggui", display_name="容桂 甲", role="unit_admin", unit_code="ronggui", actor="t_admin")
    assert kept.released == () and ticket.assignee.username == "t_ronggui", "still the unit's, and may still act"
    moved = org.update_user(session, username="t_ronggui", display_name="容桂 甲", role="handler", unit_code="daliang", actor="t_admin")
    assert moved.released == (ticket.number,)
    session.refresh(ticket)
    assert ticket.assignee_id is None
    event = session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="unassign").one()
    assert event.actor_role == "admin" and event.data["reason"] == "承办人已调离本单位"
    [update] = audit.entries_for(session, object_type="user", object_id="t_ronggui", actions=("user.update",))[-1:]
    assert update.data["released_orders"] == 1


def test_a_released_order_can_be_taken_by_a_colleague_and_its_timeline_says_why(web, session):
    ticket = assigned(session, "signed")
    org.disable_user(session, username="t_ronggui", actor="t_admin")
    session.commit()
    login(web, "t_ronggui2")
    unassigned = web.get("/staff/unit?tab=signed&who=none").text
    assert f'data-ticket="{ticket.number}"' in unassigned
    taken = web.post(f"/staff/tickets/{ticket.number}/act/assign", data={"csrf_token": token(unassigned), "version": ticket.version, "next": "/staff/unit?tab=signed"}, follow_redirects=True).text
    assert f"工单 {ticket.number} 已由您承办" in taken
    page = web.get(f"/staff/tickets/{ticket.number}").text
    assert re.search(r"退回未指派.*?原因：承办人账号已停用\s*原承办人：t_ronggui", page, re.S)


def test_the_admin_page_says_how_many_orders_went_back_when_disabling_or_moving(web, session):
    first, second = assigned(session, "dispatched"), assigned(session, "signed")
    session.commit()
    login(web, "t_admin")
    page = web.get("/staff/admin/users").text
    done = web.post("/staff/admin/users/t_ronggui/disable", data={"csrf_token": token(page)}, follow_redirects=True).text
    assert "已停用用户 t_ronggui，其登录会话立即失效；已将其 2 件工单退回本单位未指派" in done
    for ticket in (first, second):
        session.refresh(ticket)
        assert ticket.assignee_id is None

    third = assigned(session, "signed", "t_ronggui2")
    session.commit()
    opened = web.get("/staff/admin/users?edit=t_ronggui2").text
    state = opened.split('name="base_state" value="', 1)[1].split('"', 1)[0]
    moved = web.post(
        "/staff/admin/users/t_ronggui2",
        data={"csrf_token": token(opened), "base_state": state, "display_name": "t_ronggui2", "phone": "", "role": "handler", "unit": "daliang", "password": ""},
        follow_redirects=True,
    ).text
    assert "已保存用户 t_ronggui2；已将其 1 件工单退回原单位未指派" in moved
    session.refresh(third)
    assert third.assignee_id is None
    # Nothing to release: the message says nothing of orders.
    plain = web.post("/staff/admin/users/t_ronggui2/disable", data={"csrf_token": token(web.get("/staff/admin/users").text)}, follow_redirects=True).text
    assert "已停用用户 t_ronggui2，其登录会话立即失效" in plain and "退回" not in plain


def test_a_unit_admin_disabling_a_handler_is_told_how_many_orders_came_back(web, session):
    assigned(session, "signed")
    session.commit()
    login(web, "t_ronggui_admin")
    page = web.get("/staff/unit/users").text
    done = web.post("/staff/unit/users/t_ronggui/disable", data={"csrf_token": token(page)}, follow_redirects=True).text
    assert "已停用 t_ronggui，其登录会话立即失效；已将其 1 件工单退回本单位未指派" in done


def test_the_api_lists_the_released_orders(client, login, session):
    ticket = assigned(session, "signed")
    session.commit()
    response = client.post("/api/v1/users/t_ronggui/disable", headers=login("t_admin"))
    assert response.status_code == 200 and response.json()["released_orders"] == [ticket.number]
    assert client.get("/api/v1/users/t_ronggui", headers=login("t_admin")).json()["released_orders"] == []

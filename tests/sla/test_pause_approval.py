"""暂停计时须经同意: where the policy says so, a unit's 暂停计时 is a request the supervisor decides on 督办台;
the clock runs until it is granted. Off (the default), the unit stops its clock at once, as before."""

import re

import pytest
from sqlalchemy import select

from baishitong.errors import Conflict
from baishitong.notify.models import Message
from baishitong.sla import service as sla
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.sla.test_redispatch import sla_form
from tests.sla.test_service import LOCAL_TZ, at, local
from tests.tickets.factories import make_ticket
from tests.web.test_desk_priorities import _section
from tests.web.test_pages import login as sign_in, token


def require_consent(session, on: bool = True) -> None:
    policy = sla.current_policy(session)
    sla.save_policy(session, rules=policy.rules, working_hours=None, warning_share=None, pause_needs_approval=on, actor=actor(session, "t_admin"))


def ask_pause(session, ticket, reason="等待诉求人补充材料"):
    service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason=reason))


def decide(session, ticket, approve: bool):
    action, body = ("approve-pause", schemas.ActionIn(version=ticket.version)) if approve else ("reject-pause", schemas.ReasonIn(version=ticket.version, reason="诉求人材料已齐，请继续办理。"))
    service.act(session, number=ticket.number, action=action, actor=actor(session, "t_supervisor"), body=body)


def last_unit_text(session, ticket) -> str:
    return session.scalars(select(Message.body).where(Message.ticket_id == ticket.id, Message.audience == "unit").order_by(Message.id.desc())).first()


def test_the_clock_runs_until_the_supervisor_agrees(session, monkeypatch):
    require_consent(session)
    at(monkeypatch, "2026-12-07 09:00")  # Monday; a 咨询 is due Wednesday 09:00
    ticket = make_ticket(session, state="signed", type="咨询")
    ask_pause(session, ticket)
    assert ticket.pause_request == "等待诉求人补充材料" and not ticket.paused and not ticket.clock_stopped
    with pytest.raises(Conflict, match="已有待审批的暂停计时申请"):
        ask_pause(session, ticket, reason="再次申请")

    at(monkeypatch, "2026-12-08 09:00")  # a working day passed while the request waited: it counts
    decide(session, ticket, approve=True)
    assert ticket.paused and ticket.clock_stopped and ticket.pause_request is None
    assert "暂停计时申请已同意" in last_unit_text(session, ticket)
    at(monkeypatch, "2026-12-09 09:00")
    service.act(session, number=ticket.number, action="resume", actor=actor(session, "t_ronggui"), body=schemas.ActionIn(version=ticket.version))
    # One working day was used before the pause was granted, the paused day is given back: due Thursday.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-10 09:00")


def test_a_refused_pause_leaves_the_clock_as_it_was_and_tells_the_unit_why(session, monkeypatch):
    require_consent(session)
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="咨询")
    due = ticket.reply_due
    ask_pause(session, ticket)
    decide(session, ticket, approve=False)
    assert ticket.pause_request is None and not ticket.paused and ticket.reply_due == due
    text = last_unit_text(session, ticket)
    assert "暂停计时申请未获同意" in text and "诉求人材料已齐" in text and "12月9日 09:00前答复" in text
    assert "。。" not in text, "the reviewer's own full stop does not double the template's"
    with pytest.raises(Conflict, match="没有待审批的暂停计时申请"):
        decide(session, ticket, approve=True)
    ask_pause(session, ticket, reason="诉求人出差，下周补充材料")  # the unit may ask again
    assert ticket.pause_request == "诉求人出差，下周补充材料"


def test_without_the_policy_the_unit_pauses_at_once(session):
    ticket = make_ticket(session, state="signed")
    ask_pause(session, ticket)
    assert ticket.paused and ticket.pause_request is None
    with pytest.raises(Conflict, match="没有待审批的暂停计时申请"):
        decide(session, ticket, approve=True)


def test_a_units_requests_lapse_when_it_replies_or_the_order_leaves_it(session):
    require_consent(session)
    replied = make_ticket(session, state="signed")
    ask_pause(session, replied)
    service.act(session, number=replied.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=replied.version, content="已联系诉求人并处理完毕。"))
    assert replied.pause_request is None

    returned = make_ticket(session, state="signed")
    ask_pause(session, returned)
    service.act(session, number=returned.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=returned.version, days=3, reason="需多部门会商"))
    service.act(session, number=returned.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=returned.version, reason="不属于本单位职责"))
    service.act(session, number=returned.number, action="approve-return", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=returned.version))
    # The next unit must not find 延期待批 or 暂停待批 it never asked for.
    assert returned.pause_request is None and returned.extension_days is None


def test_only_supervision_decides(client, login, session):
    require_consent(session)
    ticket = make_ticket(session, state="signed")
    ask_pause(session, ticket)
    session.flush()
    seen = client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_ronggui")).json()
    assert seen["pending_pause"] == {"reason": "等待诉求人补充材料"} and seen["deadlines"]["paused"] is False
    refused = client.post(f"/api/v1/tickets/{ticket.number}/actions/approve-pause", json={"version": ticket.version}, headers=login("t_ronggui"))
    assert refused.status_code == 403
    blank = client.post(f"/api/v1/tickets/{ticket.number}/actions/reject-pause", json={"version": ticket.version}, headers=login("t_supervisor"))
    assert blank.status_code == 422, "the unit is told why: a reason is required"
    granted = client.post(f"/api/v1/tickets/{ticket.number}/actions/approve-pause", json={"version": ticket.version}, headers=login("t_supervisor"))
    assert granted.status_code == 200 and granted.json()["deadlines"]["paused"] is True and granted.json()["pending_pause"] is None


def test_the_admin_turns_it_on_and_the_desks_show_the_request(web, client, login, session):
    sign_in(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    assert not re.search(r'<input[^>]*name="pause_needs_approval"[^>]*checked', page), "off by default"
    web.post("/staff/admin/sla", data=sla_form(page) | {"restart_on_redispatch": "on", "pause_during_review": "on", "pause_needs_approval": "on", "note": "暂停须经督办员同意"}, follow_redirects=True)
    assert sla.current_policy(session).pause_needs_approval is True
    assert client.get("/api/v1/sla/policy", headers=login("t_admin")).json()["pause_needs_approval"] is True

    ticket = make_ticket(session, state="signed")
    session.flush()
    sign_in(web, "t_ronggui")
    order = web.get(f"/staff/tickets/{ticket.number}").text
    assert "<summary>申请暂停计时</summary>" in order and "督办员同意后才停止计时" in order
    order = web.post(f"/staff/tickets/{ticket.number}/act/pause", data={"csrf_token": token(order), "version": str(ticket.version), "reason": "等待诉求人补充产权证明"}, follow_redirects=True).text
    assert "已申请暂停计时，督办员同意后才停止计时" in order
    assert "暂停计时待审批" in order and "申请暂停计时" in order and "<summary>申请暂停计时</summary>" not in order
    assert "暂停待批" in web.get("/staff/unit?tab=signed").text

    sign_in(web, "t_supervisor")
    desk = web.get("/staff/supervise").text
    row = re.search(rf'<tr data-ticket="{ticket.number}">.*?</tr>', _section(desk, "paused"), re.S).group(0)
    assert "申请暂停计时：等待诉求人补充产权证明" in row and 'data-action="approve-pause"' in row and 'data-action="reject-pause"' in row
    form = {"csrf_token": token(desk), "version": str(ticket.version), "next": "/staff/supervise?at=paused#paused"}
    web.post(f"/staff/tickets/{ticket.number}/act/approve-pause", data=form, follow_redirects=True)
    assert ticket.paused
    row = re.search(rf'<tr data-ticket="{ticket.number}">.*?</tr>', _section(web.get("/staff/supervise").text, "paused"), re.S).group(0)
    assert 'data-action="resume"' in row and "等待诉求人补充产权证明" in row


def test_supervisors_also_decide_it_in_the_review_queue(web, session):
    require_consent(session)
    first, second = make_ticket(session, state="signed"), make_ticket(session, state="signed")
    for ticket in (first, second):
        ask_pause(session, ticket)
    session.flush()
    sign_in(web, "t_operator")
    assert 'id="pauses"' not in web.get("/staff/console/review").text, "the supervisors' decision, as extensions are"
    sign_in(web, "t_supervisor")
    queue = web.get("/staff/console/review").text
    assert "暂停计时审批（2）" in queue and "暂停计时申请" in queue
    form = {"csrf_token": token(queue), "version": str(first.version), "next": f"/staff/console/review?at=pauses&row={second.number}#pauses-{second.number}"}
    landed = web.post(f"/staff/tickets/{first.number}/act/approve-pause", data=form, follow_redirects=True).text
    assert first.paused and "暂停计时审批（1）" in landed
    row = re.search(rf'<tr data-ticket="{second.number}".*?</tr>', landed, re.S).group(0)
    assert f"工单 {first.number} 已同意暂停计时" in row, "the outcome is in the row landed on"
    form = {"csrf_token": token(landed), "version": str(second.version), "reason": "请先联系诉求人确认", "next": "/staff/console/review?at=pauses&row=list#pauses"}
    emptied = web.post(f"/staff/tickets/{second.number}/act/reject-pause", data=form, follow_redirects=True).text
    assert second.pause_request is None and "没有待审批的暂停计时申请" in emptied and f"工单 {second.number} 已驳回暂停计时" in emptied


def test_a_pause_ends_with_the_units_part(session, monkeypatch):
    """A unit that paused its clock and then returned the order, or answered it: the next unit (or a 重办)
    starts with a running clock, not the previous unit's pause."""
    at(monkeypatch, "2026-12-07 09:00")
    returned = make_ticket(session, state="signed")
    ask_pause(session, returned)
    service.act(session, number=returned.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=returned.version, reason="不属于本单位职责"))
    service.act(session, number=returned.number, action="approve-return", actor=actor(session, "t_operator"), body=schemas.ActionIn(version=returned.version))
    service.act(session, number=returned.number, action="dispatch", actor=actor(session, "t_operator"), body=schemas.DispatchIn(version=returned.version, lead_unit="daliang"))
    assert not returned.paused and not returned.clock_stopped

    answered = make_ticket(session, state="signed")
    ask_pause(session, answered)
    service.act(session, number=answered.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=answered.version, content="已联系诉求人并处理完毕。"))
    service.act(session, number=answered.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=answered.version, solved=False, satisfaction="不满意"))
    service.act(session, number=answered.number, action="redo", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=answered.version, reason="问题仍未解决"))
    assert answered.status == "signed" and not answered.paused and not answered.clock_stopped

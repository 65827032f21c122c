"""Fixes from a walk-through of the staff desk: what a 12345 centre expects to read on each page."""

import re

from sqlalchemy import select

from baishitong.notify import service as notify
from baishitong.org.models import Unit, User
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def test_timeline_names_the_community_a_ticket_was_sub_dispatched_to(web, session):
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="subdispatch", actor=actor(session, "t_ronggui"), body=schemas.UnitIn(version=ticket.version, unit="440606006023"))
    login(web, "t_ronggui")
    timeline = re.search(r'id="timeline".*?</section>', web.get(f"/staff/tickets/{ticket.number}").text, re.S).group(0)
    assert "下派至：高黎社区" in timeline


def test_supervise_desk_shows_the_return_reason_and_extension_in_working_days(web, session):
    returned = make_ticket(session, state="returned")
    signed = make_ticket(session, state="signed")
    service.act(session, number=signed.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=signed.version, days=5, reason="需协调供电部门施工"))
    login(web, "t_supervisor")
    page = web.get("/staff/supervise").text
    returns = re.search(rf'<tr data-ticket="{returned.number}">.*?</tr>', page, re.S).group(0)
    assert "退单原因：不属于本单位职责" in returns
    extension = re.search(r'id="extensions".*?</section>', page, re.S).group(0)
    assert "延期 5 个工作日：需协调供电部门施工" in extension and "5 天" not in extension


def test_a_reply_lets_a_pending_extension_request_lapse(web, session):
    ticket = make_ticket(session, state="signed")
    handler = actor(session, "t_ronggui")
    ticket = service.act(session, number=ticket.number, action="extend", actor=handler, body=schemas.ExtendIn(version=ticket.version, days=5, reason="需协调供电部门施工"))
    service.act(session, number=ticket.number, action="reply", actor=handler, body=schemas.ContentIn(version=ticket.version, content="已安排维修，路灯已恢复。"))
    assert ticket.extension_days is None and ticket.extension_reason is None
    login(web, "t_ronggui")
    card = re.search(rf'<section class="card" data-ticket="{ticket.number}">.*?</section>', web.get("/staff/unit?tab=replied").text, re.S).group(0)
    assert "延期待批" not in card


def test_outbox_names_the_unit_and_flags_one_without_an_account(web, session):
    staffed = session.scalar(select(Unit).where(Unit.code == "ronggui"))
    empty = session.scalar(select(Unit).where(Unit.code == "CGZF"))
    assert session.scalar(select(User).where(User.unit_id == empty.id)) is None
    context = {"number": "SD000", "title": "路灯不亮", "unit": "", "sign_due": "", "reply_due": ""}
    for unit in (staffed, empty):
        notify.to_unit(session, unit_id=unit.id, template_code="ticket_dispatched_unit", context=context)
    session.flush()
    login(web, "t_admin")
    page = web.get("/staff/admin/outbox").text
    assert f"unit:{empty.id}" not in page
    assert f"{empty.name} <span class=\"text-danger\">（该单位无在用账号）</span>" in page
    assert f"{staffed.name} · t_ronggui" in page


def test_time_limit_rules_name_their_scope_in_chinese(web, session):
    login(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    scopes = re.findall(r'<tr><td>[^<]+</td><td class="muted">([^<]+)</td>', page)
    assert "企业服务平台" in scopes and "紧急" in scopes
    assert not {"enterprise", "urgent"} & set(scopes)


def test_an_admin_can_enable_a_disabled_account_again(web, session):
    login(web, "t_admin")
    page = web.get("/staff/admin/users").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    web.post("/staff/admin/users/t_daliang/disable", data={"csrf_token": csrf})
    page = web.get("/staff/admin/users").text
    assert 'action="/staff/admin/users/t_daliang/enable"' in page
    done = web.post("/staff/admin/users/t_daliang/enable", data={"csrf_token": csrf})
    assert "已启用用户 t_daliang" in done.text
    assert session.scalar(select(User).where(User.username == "t_daliang")).active
    login(web, "t_daliang")
    assert web.get("/staff/unit").status_code == 200


def test_the_timeline_says_whether_an_extension_was_asked_granted_or_refused(web, session):
    signed = make_ticket(session, state="signed")
    service.act(session, number=signed.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=signed.version, days=5, reason="需协调供电部门施工"))
    service.act(session, number=signed.number, action="reject-extension", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=signed.version, reason="现有时限足够办理"))
    login(web, "t_supervisor")
    page = web.get(f"/staff/tickets/{signed.number}").text
    assert "申请延期 5 个工作日" in page and "未批准延期 5 个工作日" in page


def test_a_paused_order_shows_its_clock_stopped_not_counting_down(web, session):
    ticket = make_ticket(session, state="signed")
    service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="等待诉求人补充材料"))
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    deadlines = re.search(r'id="deadlines".*?</section>', page, re.S).group(0)
    assert "计时暂停" in deadlines and "联系时限" in deadlines
    card = re.search(rf'data-ticket="{ticket.number}".*?</section>', web.get("/staff/unit?tab=signed").text, re.S).group(0)
    assert "计时暂停" in card and "data-deadline" not in card.split("答复")[1]

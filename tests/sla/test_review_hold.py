"""审核期间暂停计时: while the centre reviews a unit's 延期 or 退单 request, the unit's clock stands still;
the time the review takes is the centre's. The policy can turn it off."""

import re

from sqlalchemy import select

from baishitong.notify.models import Message
from baishitong.sla import service as sla
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.sla.test_redispatch import sla_form
from tests.sla.test_service import LOCAL_TZ, at, local
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as sign_in


def ask_extension(session, ticket, days=3):
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=days, reason="需多部门会商"))


def decide_extension(session, ticket, approve: bool):
    action, body = ("approve-extension", schemas.ActionIn(version=ticket.version)) if approve else ("reject-extension", schemas.ReasonIn(version=ticket.version, reason="现有时限足够办理"))
    service.act(session, number=ticket.number, action=action, actor=actor(session, "t_supervisor"), body=body)


def last_unit_text(session, ticket) -> str:
    return session.scalars(select(Message.body).where(Message.ticket_id == ticket.id, Message.audience == "unit").order_by(Message.id.desc())).first()


def overdue(session) -> list:
    return service.list_tickets(session, actor=actor(session, "t_supervisor"), overdue=True)[0]


def signed_on_monday(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")  # Monday; a 咨询 is due Wednesday 09:00
    ticket = make_ticket(session, state="signed", type="咨询")
    service.act(session, number=ticket.number, action="contact", actor=actor(session, "t_ronggui"), body=schemas.ContactIn(version=ticket.version, outcome="已联系"))
    return ticket


def test_a_slow_review_of_an_extension_does_not_make_the_unit_late(session, monkeypatch):
    ticket = signed_on_monday(session, monkeypatch)
    at(monkeypatch, "2026-12-08 09:00")  # one working day left
    ask_extension(session, ticket)
    assert ticket.clock_stopped and not ticket.paused, "held for review, not the unit's own pause"
    at(monkeypatch, "2026-12-10 09:00")  # the original deadline passed while the centre had the request
    sla.refresh_paused(session)
    assert sla.check_deadlines(session, now=local("2026-12-10 09:00")) == {"warnings": 0, "urges": 0}, "no auto-urge while the centre decides"
    assert ticket not in overdue(session)
    decide_extension(session, ticket, approve=False)
    assert not ticket.clock_stopped
    # The day it had left, counted from the refusal: Friday 09:00, and the text says so.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-11 09:00")
    assert "12月11日 09:00前答复" in last_unit_text(session, ticket)


def test_an_approved_extension_adds_its_days_after_the_review(session, monkeypatch):
    ticket = signed_on_monday(session, monkeypatch)
    at(monkeypatch, "2026-12-08 09:00")
    ask_extension(session, ticket, days=3)
    at(monkeypatch, "2026-12-09 09:00")  # the review took a working day
    decide_extension(session, ticket, approve=True)
    # Due Wednesday 09:00, + the day of review = Thursday, + 3 working days granted = Tuesday the 15th.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-15 09:00") and not ticket.clock_stopped


def test_a_refused_return_gives_back_the_time_it_waited(session, monkeypatch):
    ticket = signed_on_monday(session, monkeypatch)
    at(monkeypatch, "2026-12-08 09:00")
    service.act(session, number=ticket.number, action="return", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"))
    at(monkeypatch, "2026-12-09 14:00")
    service.act(session, number=ticket.number, action="reject-return", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason="属于本单位职责"))
    assert ticket.status == "signed"
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-10 14:00")
    assert "已过" not in last_unit_text(session, ticket)


def test_with_the_policy_off_the_review_time_is_the_units(session, monkeypatch):
    policy = sla.current_policy(session)
    sla.save_policy(session, rules=policy.rules, working_hours=None, warning_share=None, pause_during_review=False, actor=actor(session, "t_admin"))
    ticket = signed_on_monday(session, monkeypatch)
    at(monkeypatch, "2026-12-08 09:00")
    ask_extension(session, ticket)
    assert not ticket.clock_stopped
    at(monkeypatch, "2026-12-10 09:00")
    assert ticket in overdue(session)
    decide_extension(session, ticket, approve=False)
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-09 09:00")
    assert "已过，请尽快答复" in last_unit_text(session, ticket)


def test_the_admin_switches_it_and_the_order_page_says_the_clock_is_held(web, client, login, session):
    sign_in(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    assert re.search(r'<input[^>]*name="pause_during_review"[^>]*checked', page), "on by default"
    ticket = make_ticket(session, state="signed", type="咨询")
    ask_extension(session, ticket)
    session.flush()
    sign_in(web, "t_ronggui")
    order = web.get(f"/staff/tickets/{ticket.number}").text
    assert "审核期间暂停计时" in order and "deadline-paused" in order
    assert client.get(f"/api/v1/tickets/{ticket.number}", headers=login("t_ronggui")).json()["deadlines"]["clock_stopped"] is True

    sign_in(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    web.post("/staff/admin/sla", data=sla_form(page) | {"restart_on_redispatch": "on", "note": "审核时间计入承办单位"}, follow_redirects=True)
    saved = sla.current_policy(session)
    assert saved.pause_during_review is False and saved.restart_on_redispatch is True, "an unticked box turns it off"
    assert client.get("/api/v1/sla/policy", headers=login("t_admin")).json()["pause_during_review"] is False
    sla.recompute_open(session)  # the worker's job after a policy change
    assert not ticket.clock_stopped


def test_an_extension_under_review_does_not_hold_the_first_contact(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="求助", channel="enterprise")
    assert ticket.contact_due.astimezone(LOCAL_TZ) == local("2026-12-07 10:00")
    ask_extension(session, ticket)
    at(monkeypatch, "2026-12-07 11:00")
    sla.refresh_paused(session)
    assert ticket.contact_due.astimezone(LOCAL_TZ) == local("2026-12-07 10:00"), "the requester is still owed a call within the hour"
    assert ticket.reply_due.astimezone(LOCAL_TZ) > local("2026-12-08 09:00"), "the 24 hours to answer stand still"
    assert sla.check_deadlines(session, now=local("2026-12-07 11:00"))["urges"] == 1

"""Deadlines as stored data on work orders, with a controllable clock."""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from baishitong.actors import SYSTEM
from baishitong.jobs.models import OutboxJob
from baishitong.sla import service as sla
from baishitong.sla.models import SlaAlert
from baishitong.tickets import schemas, service
from baishitong.tickets.service import LOCAL_TZ
from tests.conftest import actor
from tests.tickets.factories import make_ticket


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)


def at(monkeypatch, text: str) -> None:
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", local(text).isoformat())


def test_complaint_deadline_crosses_national_day(session, monkeypatch):
    at(monkeypatch, "2026-09-30 16:00")
    ticket = make_ticket(session, state="dispatched", type="投诉")
    # 15 working days from Sep 30 16:00: Oct 1-7 off, Oct 10 (Sat) is a make-up workday, so day 15 is Oct 27.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-10-27 16:00")
    assert ticket.sign_due.astimezone(LOCAL_TZ) == local("2026-10-08 09:00")
    assert ticket.deadline_provisional is False


def test_consultation_and_enterprise_limits(session, monkeypatch):
    at(monkeypatch, "2026-12-04 10:00")  # a Friday
    consult = make_ticket(session, type="咨询")
    assert consult.reply_due.astimezone(LOCAL_TZ) == local("2026-12-08 10:00")
    enterprise = make_ticket(session, type="求助", channel="enterprise")
    assert enterprise.contact_due.astimezone(LOCAL_TZ) == local("2026-12-04 11:00")
    assert enterprise.reply_due.astimezone(LOCAL_TZ) == local("2026-12-05 10:00")


def test_no_step_falls_due_after_the_reply(session, monkeypatch):
    at(monkeypatch, "2026-12-04 17:45")  # a Friday evening: the 24 clock hours end on Saturday
    enterprise = make_ticket(session, type="求助", channel="enterprise", state="dispatched")
    reply = local("2026-12-05 17:45")
    assert enterprise.reply_due.astimezone(LOCAL_TZ) == reply
    assert enterprise.sign_due.astimezone(LOCAL_TZ) == reply and enterprise.contact_due.astimezone(LOCAL_TZ) == reply, "not Monday morning, after the reply was due"


def test_deadline_into_a_year_without_calendar_is_provisional(session, monkeypatch):
    at(monkeypatch, "2026-12-28 10:00")
    ticket = make_ticket(session, type="投诉")
    assert ticket.deadline_provisional is True


def test_pause_shifts_deadline_by_the_paused_working_time(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")  # Monday
    ticket = make_ticket(session, state="signed", type="咨询")
    before = ticket.reply_due
    handler = actor(session, "t_ronggui")
    service.act(session, number=ticket.number, action="pause", actor=handler, body=schemas.ReasonIn(version=ticket.version, reason="等待诉求人补充材料"))
    assert ticket.paused
    at(monkeypatch, "2026-12-07 11:00")
    service.act(session, number=ticket.number, action="resume", actor=handler, body=schemas.ActionIn(version=ticket.version))
    assert ticket.reply_due - before == timedelta(hours=2)
    assert not ticket.paused


def test_policy_change_recomputes_open_deadlines(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="投诉")
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-28 09:00")
    policy = sla.current_policy(session)
    rules = [r for r in policy.rules if r["type"] != "投诉"] + [
        {"name": "投诉类（提速）", "type": "投诉", "stages": {"reply": {"amount": 5, "unit": "working_days"}, "close": {"amount": 5, "unit": "working_days"}}}
    ]
    new = sla.save_policy(session, rules=rules, working_hours=None, warning_share=None, actor=actor(session, "t_admin"))
    assert new.version == policy.version + 1
    assert session.scalar(select(OutboxJob).where(OutboxJob.name == "sla.recompute_open", OutboxJob.done_at.is_(None)))
    sla.recompute_open(session)
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-14 09:00")
    assert ticket.sla_policy_version == new.version


def test_admin_day_off_moves_the_deadline(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="咨询")
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-09 09:00")
    sla.set_calendar_day(session, day=date(2026, 12, 8), kind="off", name="台风停工", actor=actor(session, "t_admin"))
    sla.recompute_open(session)
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-10 09:00")


def test_approved_extension_adds_working_days(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="咨询")
    before = ticket.reply_due
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=3, reason="需多部门会商"))
    assert ticket.reply_due == before
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-14 09:00")


def test_unsatisfied_callback_redo_starts_a_new_clock(session, monkeypatch):
    at(monkeypatch, "2026-12-01 09:00")
    ticket = make_ticket(session, state="callback_unsatisfied", type="咨询")
    at(monkeypatch, "2026-12-07 09:00")
    service.act(session, number=ticket.number, action="redo", actor=actor(session, "t_operator"), body=schemas.ReasonIn(version=ticket.version, reason="路灯仍不亮"))
    assert ticket.status == "signed" and ticket.redo_count == 1
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-09 09:00")


def test_warning_then_one_urge_and_escalation_per_deadline(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="咨询")
    service.act(session, number=ticket.number, action="contact", actor=actor(session, "t_ronggui"), body=schemas.ContactIn(version=ticket.version, outcome="已联系"))
    assert sla.check_deadlines(session, now=local("2026-12-08 09:00")) == {"warnings": 0, "urges": 0}
    assert sla.check_deadlines(session, now=local("2026-12-08 17:00"))["warnings"] == 1
    assert sla.check_deadlines(session, now=local("2026-12-08 17:10"))["warnings"] == 0
    first = sla.check_deadlines(session, now=local("2026-12-09 10:00"))
    again = sla.check_deadlines(session, now=local("2026-12-09 11:00"))
    assert first["urges"] == 1 and again["urges"] == 0
    urges = [e for e in ticket.events if e.action == "urge"]
    assert len(urges) == 1 and urges[0].actor == SYSTEM.name
    kinds = session.scalars(select(SlaAlert.kind).where(SlaAlert.ticket_id == ticket.id)).all()
    assert sorted(kinds) == ["overdue", "warning"]


def test_enterprise_request_not_contacted_within_one_working_hour_is_urged(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="求助", channel="enterprise")
    assert sla.check_deadlines(session, now=local("2026-12-07 09:50"))["urges"] == 0
    assert sla.check_deadlines(session, now=local("2026-12-07 10:05"))["urges"] == 1
    urge = [e for e in ticket.events if e.action == "urge"][-1]
    assert urge.data["stage"] == "contact" and "首次联系已超时" in urge.note

    other = make_ticket(session, state="signed", type="求助", channel="enterprise")
    service.act(session, number=other.number, action="contact", actor=actor(session, "t_ronggui"), body=schemas.ContactIn(version=other.version, outcome="已联系", note="已电话联系企业负责人"))
    assert other.contacted_at is not None
    assert not [e for e in other.events if e.action == "urge"]
    sla.check_deadlines(session, now=local("2026-12-07 10:05"))
    assert not [e for e in other.events if e.action == "urge"]


def test_a_close_limit_shorter_than_the_reply_limit_is_refused(session):
    import pytest

    from baishitong.errors import InvalidInput

    policy = sla.current_policy(session)
    rules = [dict(r) for r in policy.rules]
    broken = next(r for r in rules if "reply" in r["stages"] and "close" in r["stages"] and r["stages"]["reply"]["unit"] == r["stages"]["close"]["unit"])
    broken["stages"] = {**broken["stages"], "close": {**broken["stages"]["reply"], "amount": broken["stages"]["reply"]["amount"] - 1}}
    with pytest.raises(InvalidInput, match="办结时限短于答复时限"):
        sla.save_policy(session, rules=rules, working_hours=None, warning_share=None, actor=actor(session, "t_admin"))


def test_a_limit_that_is_not_a_sane_number_is_refused_and_intake_keeps_working(session):
    import pytest

    from baishitong.errors import InvalidInput

    policy = sla.current_policy(session)
    for amount, message in ((float("nan"), "时限须为正数"), (float("inf"), "时限须为正数"), (1e9, "时限不能超过250个工作日")):
        rules = [dict(r) for r in policy.rules]
        rules[0] = {**rules[0], "stages": {**rules[0]["stages"], "close": {"amount": amount, "unit": "working_days"}}}
        with pytest.raises(InvalidInput, match=message):
            sla.save_policy(session, rules=rules, working_hours=None, warning_share=None, actor=actor(session, "t_admin"))
    assert sla.current_policy(session).version == policy.version
    assert make_ticket(session).close_due is not None


def test_a_statutory_holiday_of_an_unpublished_year_is_off_and_provisional(session, monkeypatch):
    sla.ensure_seeded(session)
    at(monkeypatch, "2026-12-31 09:00")  # Thursday; 2027's schedule is not in the calendar package
    ticket = make_ticket(session, type="咨询")  # two working days
    # 2027-01-01 (元旦, estimated) is off and 01-02/03 are a weekend, so the two days are Mon and Tue.
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2027-01-05 09:00")
    assert ticket.deadline_provisional is True


def test_estimates_are_left_alone_once_the_year_is_entered(session):
    sla.ensure_seeded(session)
    days = {d.day: d for d in sla.calendar_days(session, year=2027)}
    assert (days[date(2027, 2, 6)].kind, days[date(2027, 2, 6)].name, days[date(2027, 2, 6)].source) == ("off", "春节", "estimate")
    assert not sla.year_entered(session, year=2027)
    # The admin corrects the estimate as the published schedule says; re-seeding must not undo that.
    sla.set_calendar_day(session, day=date(2027, 2, 10), kind=None, name="", actor=actor(session, "t_admin"))
    assert sla.year_entered(session, year=2027) and sla.seed_estimates(session) == 0
    assert date(2027, 2, 10) not in {d.day for d in sla.calendar_days(session, year=2027)}


def test_a_paused_order_is_not_overdue_while_its_clock_stands_still(session, monkeypatch):
    """The stored deadline of a paused order is a lower bound taken at the last recompute; the worker's
    minute run keeps it ahead of now, so the order stays off overdue lists, the league and auto-urges."""
    at(monkeypatch, "2026-12-07 09:00")  # Monday; a 咨询 is due Wednesday 09:00
    ticket = make_ticket(session, state="signed", type="咨询")
    service.act(session, number=ticket.number, action="contact", actor=actor(session, "t_ronggui"), body=schemas.ContactIn(version=ticket.version, outcome="已联系"))
    at(monkeypatch, "2026-12-08 09:00")  # one working day used, one left
    service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="等待诉求人补充材料"))
    session.flush()  # as the pause's own transaction would
    last_change = ticket.updated_at
    at(monkeypatch, "2026-12-10 10:00")  # past the original deadline, still paused
    now = local("2026-12-10 10:00")
    assert sla.refresh_paused(session) == 1
    session.refresh(ticket)
    assert ticket.updated_at == last_change, "time passing is no change for Open311 pollers" 
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-11 10:00"), "the working day left, counted from now"
    assert sla.check_deadlines(session, now=now) == {"warnings": 0, "urges": 0}
    overdue, _total = service.list_tickets(session, actor=actor(session, "t_supervisor"), overdue=True)
    assert ticket not in overdue


def test_an_order_paused_after_its_deadline_stays_late(session, monkeypatch):
    at(monkeypatch, "2026-12-07 09:00")
    ticket = make_ticket(session, state="signed", type="咨询")
    at(monkeypatch, "2026-12-10 09:00")  # a day after the reply was due
    service.act(session, number=ticket.number, action="pause", actor=actor(session, "t_ronggui"), body=schemas.ReasonIn(version=ticket.version, reason="等待诉求人补充材料"))
    at(monkeypatch, "2026-12-11 09:00")
    sla.refresh_paused(session)
    assert ticket.reply_due.astimezone(LOCAL_TZ) == local("2026-12-09 09:00"), "pausing does not undo lateness"
    overdue, _total = service.list_tickets(session, actor=actor(session, "t_supervisor"), overdue=True)
    assert ticket in overdue

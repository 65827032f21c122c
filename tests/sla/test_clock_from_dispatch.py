"""时限自派单起算: where the policy says so, a unit's first contact and reply count from the order's first
dispatch, so the days it waited in 待派单 are the centre's — the unit is neither urged for them nor ranked
lower in the figures. 办结, the statutory total owed to the requester, still counts from registration."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import JSON, column, create_engine, select, table

from baishitong import migrate

from baishitong.analytics import report as reports
from baishitong.analytics import service as analytics
from baishitong.audit.models import AuditEntry
from baishitong.db import UTCDateTime
from baishitong.sla import service as sla
from baishitong.tickets import export, schemas, service
from tests.conftest import actor, create_fresh_database, drop_fresh_database
from tests.sla.test_redispatch import approve_return, redispatch, sla_form
from tests.sla.test_service import LOCAL_TZ, at, local
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login as sign_in


def set_policy(session, **flags) -> None:
    policy = sla.current_policy(session)
    sla.save_policy(session, rules=policy.rules, working_hours=None, warning_share=None, actor=actor(session, "t_admin"), **flags)


def act(session, ticket, action: str, who: str, body) -> None:
    service.act(session, number=ticket.number, action=action, actor=actor(session, who), body=body)


def dispatch(session, ticket, lead="daliang") -> None:
    act(session, ticket, "dispatch", "t_operator", schemas.DispatchIn(version=ticket.version, lead_unit=lead))


def waited_two_days(session, monkeypatch):
    """A 咨询 (contact 1, reply 2 working days) registered on Monday and dispatched on Wednesday."""
    at(monkeypatch, "2026-11-30 09:00")  # Monday
    ticket = make_ticket(session, type="咨询")
    at(monkeypatch, "2026-12-02 09:00")
    dispatch(session, ticket)
    return ticket


def due(value) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("from_dispatch", "contact_due", "reply_due", "urges", "rate"),
    [
        (False, "2026-12-01 09:00", "2026-12-02 09:00", 3, 0.0),  # late on arrival: signing, contact and reply urged at once
        (True, "2026-12-03 09:00", "2026-12-04 09:00", 0, 1.0),
    ],
)
def test_the_days_in_the_dispatch_queue_count_against_the_unit_only_without_the_policy(session, client, login, monkeypatch, from_dispatch, contact_due, reply_due, urges, rate):
    set_policy(session, clock_from_dispatch=from_dispatch)
    ticket = waited_two_days(session, monkeypatch)
    assert (due(ticket.contact_due), due(ticket.reply_due)) == (contact_due, reply_due)
    assert due(ticket.close_due) == "2026-12-02 09:00", "办结 is owed to the requester from registration either way"
    assert sla.check_deadlines(session, now=local("2026-12-02 09:01"))["urges"] == urges

    at(monkeypatch, "2026-12-02 10:00")
    act(session, ticket, "sign", "t_daliang", schemas.ActionIn(version=ticket.version))
    act(session, ticket, "contact", "t_daliang", schemas.ContactIn(outcome="已联系"))
    at(monkeypatch, "2026-12-03 15:00")
    act(session, ticket, "reply", "t_daliang", schemas.ContentIn(version=ticket.version, content="已按政策解答。"))

    [row] = analytics.unit_rates(session, since=local("2026-11-30 00:00"), until=local("2026-12-04 00:00"))
    assert (row["unit"], row["on_time_sign_rate"], row["on_time_contact_rate"], row["on_time_reply_rate"]) == ("daliang", rate, rate, rate)
    api = client.get("/api/v1/stats/units", params={"from": "2026-11-30", "to": "2026-12-04"}, headers=login("t_supervisor")).json()["units"]
    assert [(u["unit"], u["on_time_contact_rate"], u["on_time_reply_rate"]) for u in api] == [("daliang", rate, rate)]
    assert reports.period_report(session, start=date(2026, 11, 30), end=date(2026, 12, 3)).on_time_rate == rate
    header, line = export.rows(session, actor=actor(session, "t_supervisor"), filters={})
    assert line[header.index("是否超期")] == ("否" if from_dispatch else "是")


def test_an_order_sent_on_without_a_new_clock_keeps_the_first_dispatch_as_its_start(session, monkeypatch):
    set_policy(session, clock_from_dispatch=True, restart_on_redispatch=False, pause_during_review=False)
    ticket = waited_two_days(session, monkeypatch)
    act(session, ticket, "return", "t_daliang", schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责"))
    at(monkeypatch, "2026-12-03 09:00")
    approve_return(session, ticket)
    redispatch(session, ticket, lead="ronggui")
    # Neither registration (Monday) nor this dispatch (Thursday): the order first reached a unit on Wednesday.
    assert due(ticket.reply_due) == "2026-12-04 09:00"


def test_a_redo_counts_from_itself(session, monkeypatch):
    set_policy(session, clock_from_dispatch=True)
    ticket = waited_two_days(session, monkeypatch)
    act(session, ticket, "sign", "t_daliang", schemas.ActionIn(version=ticket.version))
    act(session, ticket, "reply", "t_daliang", schemas.ContentIn(version=ticket.version, content="已按政策解答。"))
    act(session, ticket, "callback", "t_operator", schemas.CallbackIn(version=ticket.version, solved=False, satisfaction="不满意"))
    at(monkeypatch, "2026-12-07 09:00")  # Monday
    act(session, ticket, "redo", "t_supervisor", schemas.ReasonIn(version=ticket.version, reason="未解答清楚"))
    assert (due(ticket.reply_due), due(ticket.close_due)) == ("2026-12-09 09:00", "2026-12-09 09:00")


def test_turning_it_on_moves_the_open_orders_a_unit_holds_but_not_those_still_waiting(session, monkeypatch):
    at(monkeypatch, "2026-11-30 09:00")
    waiting = make_ticket(session, type="咨询")
    ticket = waited_two_days(session, monkeypatch)
    assert due(ticket.reply_due) == "2026-12-02 09:00"
    set_policy(session, clock_from_dispatch=True)
    sla.recompute_open(session)  # the worker's job after a policy change
    assert due(ticket.reply_due) == "2026-12-04 09:00"
    assert due(waiting.contact_due) == "2026-12-01 09:00", "待派单 still shows the time owed to the requester"


def test_the_admin_ticks_it_on_the_sla_page_audited_and_the_api_reads_and_sets_it(web, client, login, session):
    sign_in(web, "t_admin")
    page = web.get("/staff/admin/sla").text
    assert "时限自派单起算" in page
    assert not re.search(r'<input[^>]*name="clock_from_dispatch"[^>]*checked', page), "off by default"
    assert client.get("/api/v1/sla/policy", headers=login("t_admin")).json()["clock_from_dispatch"] is False
    web.post("/staff/admin/sla", data=sla_form(page) | {"restart_on_redispatch": "on", "pause_during_review": "on", "clock_from_dispatch": "on", "note": "待派单时间不计入承办单位"}, follow_redirects=True)
    saved = sla.current_policy(session)
    assert saved.clock_from_dispatch is True and saved.restart_on_redispatch is True
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sla.policy.save").order_by(AuditEntry.id.desc())).first()
    assert (entry.actor, entry.object_id, entry.data["clock_from_dispatch"]) == ("t_admin", str(saved.version), True)
    assert client.get("/api/v1/sla/policy", headers=login("t_supervisor")).json()["clock_from_dispatch"] is True
    put = client.put("/api/v1/sla/policy", json={"rules": saved.rules, "clock_from_dispatch": False, "base_version": saved.version}, headers=login("t_admin"))
    assert put.status_code == 200 and put.json()["clock_from_dispatch"] is False
    kept = client.put("/api/v1/sla/policy", json={"rules": saved.rules, "note": "只改说明"}, headers=login("t_admin")).json()
    assert kept["clock_from_dispatch"] is False, "left out, the flag stays as it was"


def test_the_migration_finds_the_first_dispatch_of_the_orders_already_sent(tmp_path):
    """An order sent on has its first dispatch in its timeline; one sent once has it in dispatched_at, which its
    dispatch event follows by a moment."""
    url = create_fresh_database(tmp_path)
    engine = create_engine(url)
    config = migrate.alembic_config(url)
    flags = ("anonymous", "confidential", "supervised", "deadline_provisional")
    counters = ("urge_count", "redo_count", "version")
    times = ("created_at", "updated_at", "dispatched_at", "first_dispatched_at")
    tickets = table("tickets", *map(column, ("id", "number", "channel", "type", "title", "content", "status", "urgency", *flags, *counters)), *(column(t, UTCDateTime()) for t in times))
    events = table("ticket_events", *map(column, ("ticket_id", "action", "to_status", "actor", "actor_role")), column("data", JSON()), column("created_at", UTCDateTime()))

    def at(hour: int, ms: int = 0) -> datetime:
        return datetime(2026, 12, 1, hour, tzinfo=timezone.utc) + timedelta(milliseconds=ms)

    # (id, dispatched_at, its dispatch events): never sent; sent once; sent in the morning and on in the afternoon
    orders = ((1, None, ()), (2, at(9), (at(9, 3),)), (3, at(15), (at(10, 3), at(15, 3))))
    try:
        command.upgrade(config, "0029_ended_staff_sessions")
        with engine.begin() as conn:
            for number, dispatched, sent in orders:
                ticket = {"id": number, "number": f"SD{number}", "channel": "web", "type": "咨询", "title": "路灯", "content": "路灯不亮", "urgency": "normal"}
                ticket |= dict.fromkeys(flags, False) | dict.fromkeys(counters, 1) | {"created_at": at(8), "updated_at": at(8), "dispatched_at": dispatched}
                conn.execute(tickets.insert().values(status="dispatched" if sent else "registered", **ticket))
                for moment in sent:
                    conn.execute(events.insert().values(ticket_id=number, action="dispatch", to_status="dispatched", actor="t_operator", actor_role="operator", data={}, created_at=moment))
        command.upgrade(config, "heads")
        with engine.connect() as conn:
            first = dict(conn.execute(select(tickets.c.id, tickets.c.first_dispatched_at)).all())
        assert first == {1: None, 2: at(9), 3: at(10, 3)}
    finally:
        engine.dispose()
        drop_fresh_database(url)

"""Two people acting on one work order at once: of two changes one wins and the other gets 409; append-only flags both get through.

These tests commit for real, in separate sessions, so they run on a database of their own: the open orders
they leave would otherwise turn up in other tests (as duplicates, in queues and counts)."""

import threading

import pytest
from sqlalchemy import func, select

from baishitong.actors import REQUESTER, Actor
from baishitong.errors import Conflict
from baishitong.org import service as org
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from tests.conftest import actor
from tests.tickets.factories import intake


def _actor(db, username: str) -> Actor:
    with db.session(write=False) as session:
        return Actor.for_user(org.get_user(session, username=username))


def test_two_handlers_signing_and_returning_at_once_one_wins(own_database):
    with own_database.session() as session:
        ticket, _ = service.create_ticket(session, data=intake(), actor=REQUESTER)
        operator = Actor.for_user(org.get_user(session, username="t_operator"))
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=1, lead_unit="ronggui"))
        number, version = ticket.number, ticket.version

    first, second = _actor(own_database, "t_ronggui"), _actor(own_database, "t_ronggui2")
    attempts = [
        (first, "sign", schemas.ActionIn(version=version)),
        (second, "return", schemas.ReasonIn(version=version, reason="不属于本街道职责")),
    ]
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(who, action, body):
        barrier.wait()
        try:
            with own_database.session() as session:
                service.act(session, number=number, action=action, actor=who, body=body)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=run, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sorted(outcomes) == ["409", "ok"]
    with own_database.session(write=False) as session:
        final = service.get_ticket(session, number=number, actor=operator)
        assert final.version == version + 1
        assert final.status in ("signed", "returned")
        assert [e.action for e in final.events].count("sign") + [e.action for e in final.events].count("return") == 1


def test_many_concurrent_intakes_get_distinct_numbers(own_database):
    numbers: list[str] = []
    lock = threading.Lock()

    def run(i):
        with own_database.session() as session:
            ticket, _ = service.create_ticket(session, data=intake(content=f"并发受理测试第{i}件，小区门口垃圾无人清运。"), actor=REQUESTER)
            with lock:
                numbers.append(ticket.number)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(numbers) == 12 and len(set(numbers)) == 12


@pytest.fixture
def signed(own_database):
    """A signed order, committed so that threads see it."""
    with own_database.session() as session:
        ticket, _ = service.create_ticket(session, data=intake(), actor=REQUESTER)
        operator, handler = actor(session, "t_operator"), actor(session, "t_ronggui")
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        service.act(session, number=ticket.number, action="sign", actor=handler, body=schemas.ActionIn(version=ticket.version))
        return ticket.number, ticket.version


def _at_once(db, number: str, attempts: list) -> list[str]:
    """Runs the attempts in parallel; on PostgreSQL each has read the ticket before any of them writes
    (SQLite write transactions take the lock up front, so there they queue instead)."""
    start, loaded = threading.Barrier(len(attempts)), threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(who, action, body):
        start.wait()
        try:
            with db.session() as session:
                if not db.is_sqlite:
                    service.get_ticket(session, number=number, actor=who)
                    loaded.wait()
                service.act(session, number=number, action=action, actor=who, body=body)
            outcomes.append(f"{action} ok")
        except Conflict:
            outcomes.append(f"{action} 409")

    threads = [threading.Thread(target=run, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return sorted(outcomes)


def test_two_urges_at_once_are_both_counted(own_database, signed):
    number, version = signed
    operator, supervisor = _actor(own_database, "t_operator"), _actor(own_database, "t_supervisor")
    outcomes = _at_once(own_database, number, [(operator, "urge", schemas.ActionIn(version=version)), (supervisor, "urge", schemas.ActionIn(version=version))])
    assert outcomes == ["urge ok", "urge ok"]
    with own_database.session(write=False) as session:
        final = service.get_ticket(session, number=number, actor=operator)
        assert final.urge_count == 2 and final.version == version
        assert sorted(e.data["count"] for e in final.events if e.action == "urge") == [1, 2]


def test_an_urge_while_the_handler_replies_leaves_the_reply_valid(own_database, signed):
    number, version = signed
    supervisor, handler = _actor(own_database, "t_supervisor"), _actor(own_database, "t_ronggui")
    attempts = [(supervisor, "urge", schemas.ActionIn(version=version)), (handler, "reply", schemas.ContentIn(version=version, content="已安排维修，路灯已恢复。"))]
    outcomes = _at_once(own_database, number, attempts)
    # The urge may land before the reply (both succeed) or after it (a replied order is no longer urged).
    assert outcomes in (["reply ok", "urge ok"], ["reply ok", "urge 409"])
    with own_database.session(write=False) as session:
        final = service.get_ticket(session, number=number, actor=supervisor)
        assert final.status == "replied" and final.version == version + 1
        assert final.urge_count == outcomes.count("urge ok")


def test_two_handlers_taking_one_order_at_once_one_gets_it(own_database, signed):
    number, version = signed
    first, second = _actor(own_database, "t_ronggui"), _actor(own_database, "t_ronggui2")
    outcomes = _at_once(own_database, number, [(first, "assign", schemas.AssignIn(version=version)), (second, "assign", schemas.AssignIn(version=version))])
    assert outcomes == ["assign 409", "assign ok"]
    with own_database.session(write=False) as session:
        final = service.get_ticket(session, number=number, actor=first)
        (event,) = [e for e in final.events if e.action == "assign"]
        assert final.assignee.username == event.data["assignee"] == event.actor and final.version == version + 1


def test_nothing_committed_here_reaches_the_shared_database(database):
    with database.session(write=False) as session:
        assert session.scalar(select(func.count(Ticket.id))) == 0

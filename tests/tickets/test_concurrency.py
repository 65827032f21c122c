"""Two people acting on one work order at once: exactly one wins, the other gets 409."""

import threading

from baishitong.actors import REQUESTER, Actor
from baishitong.errors import Conflict
from baishitong.org import service as org
from baishitong.tickets import schemas, service
from tests.tickets.factories import intake


def _actor(db, username: str) -> Actor:
    with db.session(write=False) as session:
        return Actor.for_user(org.get_user(session, username=username))


def test_two_handlers_signing_and_returning_at_once_one_wins(database):
    with database.session() as session:
        ticket, _ = service.create_ticket(session, data=intake(), actor=REQUESTER)
        operator = Actor.for_user(org.get_user(session, username="t_operator"))
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=1, lead_unit="ronggui"))
        number, version = ticket.number, ticket.version

    first, second = _actor(database, "t_ronggui"), _actor(database, "t_ronggui2")
    attempts = [
        (first, "sign", schemas.ActionIn(version=version)),
        (second, "return", schemas.ReasonIn(version=version, reason="不属于本街道职责")),
    ]
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []

    def run(who, action, body):
        barrier.wait()
        try:
            with database.session() as session:
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
    with database.session(write=False) as session:
        final = service.get_ticket(session, number=number, actor=operator)
        assert final.version == version + 1
        assert final.status in ("signed", "returned")
        assert [e.action for e in final.events].count("sign") + [e.action for e in final.events].count("return") == 1


def test_many_concurrent_intakes_get_distinct_numbers(database):
    numbers: list[str] = []
    lock = threading.Lock()

    def run(i):
        with database.session() as session:
            ticket, _ = service.create_ticket(session, data=intake(content=f"并发受理测试第{i}件，小区门口垃圾无人清运。"), actor=REQUESTER)
            with lock:
                numbers.append(ticket.number)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(numbers) == 12 and len(set(numbers)) == 12

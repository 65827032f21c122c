"""An order's 承办人 taken away (退回未指派) is written like every action on it: one event row and one audit row of the
same shape, by tickets.service.record_event. Orders left with accounts disabled or moved before disabling released
them are repaired by `baishitong init` (tickets.service.release_stranded), once."""

from click.testing import CliRunner
from sqlalchemy import update

from baishitong.audit import service as audit
from baishitong.cli import main
from baishitong.db import Database
from baishitong.org import service as org
from baishitong.org.models import Unit, User
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket, TicketEvent
from tests.conftest import actor
from tests.tickets.factories import make_ticket


def given_to(session, username: str, state: str = "signed") -> Ticket:
    ticket = make_ticket(session, state=state)
    service.act(session, number=ticket.number, action="assign", actor=actor(session, "t_ronggui_admin"), body=schemas.AssignIn(version=ticket.version, assignee=username))
    return ticket


def only_unassign(session, ticket: Ticket):
    event = session.query(TicketEvent).filter_by(ticket_id=ticket.id, action="unassign").one()
    [entry] = audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.unassign",))
    return event, entry


def test_releasing_an_order_is_audited_as_every_action_is(session):
    ticket = given_to(session, "t_ronggui")
    version = ticket.version
    org.disable_user(session, username="t_ronggui", actor="t_ronggui_admin")

    event, entry = only_unassign(session, ticket)
    assert (event.actor, event.actor_role, event.from_status, event.to_status, event.version) == ("t_ronggui_admin", "unit_admin", "signed", "signed", None)
    assert event.unit_id == session.query(Unit.id).filter_by(code="ronggui").scalar()
    [assigned] = audit.entries_for(session, object_type="ticket", object_id=ticket.number, actions=("ticket.assign",))
    assert set(assigned.data) - {"assignee", "assignee_name"} == {"from", "to", "version", "note"}
    assert entry.data == {"from": "signed", "to": "signed", "version": version, "note": None, **event.data}, "the shape of an action's row"
    assert event.data == {"previous": "t_ronggui", "previous_name": "t_ronggui", "reason": "承办人账号已停用"}


def test_orders_of_accounts_disabled_or_moved_earlier_go_back_to_unassigned_once(session):
    stranded, moved_away = given_to(session, "t_ronggui", "dispatched"), given_to(session, "t_ronggui2")
    kept = given_to(session, "t_ronggui_admin")
    # As disabling and moving did before they released the account's orders: the accounts change, the orders stay.
    session.execute(update(User).where(User.username == "t_ronggui").values(active=False))
    daliang = session.query(Unit.id).filter_by(code="daliang").scalar()
    session.execute(update(User).where(User.username == "t_ronggui2").values(unit_id=daliang))
    session.expire_all()

    assert service.release_stranded(session) == [stranded.number, moved_away.number]
    for ticket, reason in ((stranded, "承办人账号已停用"), (moved_away, "承办人已调离本单位")):
        session.refresh(ticket)
        assert ticket.assignee_id is None
        event, entry = only_unassign(session, ticket)
        assert (event.actor, event.actor_role, event.data["reason"]) == ("system", "system", reason)
        assert entry.actor == "system" and entry.data["reason"] == reason
    assert session.get(Ticket, kept.id).assignee.username == "t_ronggui_admin"
    assert service.release_stranded(session) == [], "nothing twice"


def test_init_releases_them_after_migrating(tmp_path):
    url = f"sqlite:///{tmp_path / 'init.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--db", url]).exit_code == 0
    db = Database(url)
    try:
        with db.session() as session:
            for username, role, unit in (("t_operator", "operator", None), ("t_ronggui", "handler", "ronggui")):
                org.create_user(session, username=username, password="test-password-1", role=role, unit_code=unit)
            ticket = make_ticket(session, state="signed")
            ticket.assignee = session.query(User).filter_by(username="t_ronggui").one()
            number = ticket.number
        with db.session() as session:
            session.execute(update(User).where(User.username == "t_ronggui").values(active=False))
        first = runner.invoke(main, ["init", "--db", url])
        assert first.exit_code == 0 and "退回单位未指派：1 件" in first.output, first.output
        again = runner.invoke(main, ["init", "--db", url])
        assert again.exit_code == 0 and "未指派" not in again.output
        with db.session() as session:
            assert session.query(Ticket).filter_by(number=number).one().assignee_id is None
            assert audit.verify(session).ok
    finally:
        db.dispose()

from tests.tickets.factories import make_ticket


def test_ticket_walks_to_archive(session):
    ticket = make_ticket(session, state="archived")
    assert ticket.status == "archived"
    assert [e.action for e in ticket.events] == ["register", "dispatch", "sign", "reply", "callback", "close", "archive"]

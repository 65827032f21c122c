"""Fixes from a walk-through of the staff desk: what a 12345 centre expects to read on each page."""

import re

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

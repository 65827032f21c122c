"""延期 is granted a limited number of times per order (settings.max_extensions, 2 by default; 0 is no limit):
a further request is refused with the reason, and the unit's desk stops offering it and says why."""

import re

import pytest

from baishitong.config import get_settings
from baishitong.errors import Conflict
from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def grant(session, ticket, *, days: int = 3) -> None:
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=days, reason="需协调供电部门现场勘查"))
    service.act(session, number=ticket.number, action="approve-extension", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))


@pytest.fixture
def max_extensions(monkeypatch):
    def use(value: int) -> None:
        monkeypatch.setenv("BAISHITONG_MAX_EXTENSIONS", str(value))
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_a_third_extension_is_refused_over_the_api_with_the_reason(client, login, session):
    ticket = make_ticket(session, state="signed")
    grant(session, ticket)
    grant(session, ticket)
    refused = client.post(f"/api/v1/tickets/{ticket.number}/actions/extend", json={"version": ticket.version, "days": 5, "reason": "还需等待检测报告"}, headers=login("t_ronggui"))
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "extension_limit_reached"
    assert "已获准延期 2 次" in error["message"] and "上限（2 次）" in error["message"]
    assert ticket.extension_days is None and [e.action for e in ticket.events].count("extend") == 2


def test_a_refused_request_does_not_count_against_the_limit(session):
    ticket = make_ticket(session, state="signed")
    grant(session, ticket)
    handler, supervisor = actor(session, "t_ronggui"), actor(session, "t_supervisor")
    service.act(session, number=ticket.number, action="extend", actor=handler, body=schemas.ExtendIn(version=ticket.version, days=5, reason="等待检测报告"))
    service.act(session, number=ticket.number, action="reject-extension", actor=supervisor, body=schemas.ReasonIn(version=ticket.version, reason="时限足够"))
    service.act(session, number=ticket.number, action="extend", actor=handler, body=schemas.ExtendIn(version=ticket.version, days=2, reason="诉求人出差，约定下周上门"))
    assert ticket.extension_days == 2


def test_the_limit_follows_the_setting_and_zero_lifts_it(session, max_extensions):
    max_extensions(1)
    ticket = make_ticket(session, state="signed")
    grant(session, ticket)
    with pytest.raises(Conflict) as refused:
        grant(session, ticket)
    assert refused.value.code == "extension_limit_reached" and "上限（1 次）" in refused.value.message

    max_extensions(0)
    for _ in range(2):
        grant(session, ticket)
    assert service.granted_extensions(session, ticket_ids=[ticket.id]) == {ticket.id: 3}


def test_the_desk_stops_offering_an_extension_at_the_limit_and_says_why(web, session):
    ticket = make_ticket(session, state="signed")
    grant(session, ticket)
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    assert f'action="/staff/tickets/{ticket.number}/act/extend"' in desk
    grant(session, ticket)
    desk = web.get("/staff/unit?tab=signed").text
    card = re.search(rf'<section class="card" data-ticket="{ticket.number}">.*?</section>', desk, re.S).group(0)
    assert "/act/extend" not in card
    assert re.search(r"<p class=\"muted\" data-extension-limit>该工单已获准延期 2 次，已达每张工单的延期次数上限（2 次）", card)
    assert "/act/reply" in card  # the rest of the card's work goes on
    order = web.get(f"/staff/tickets/{ticket.number}").text
    assert "/act/extend" not in order and "data-extension-limit" in order


def test_supervisors_see_how_often_an_order_was_extended(web, session):
    ticket = make_ticket(session, state="signed")
    grant(session, ticket)
    service.act(session, number=ticket.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=ticket.version, days=4, reason="等待检测报告"))
    login(web, "t_supervisor")
    assert re.search(r'<span class="tag" data-extensions="1">已延期 1 次</span>', web.get(f"/staff/tickets/{ticket.number}").text)
    # Deciding the next request, they see the ones before it.
    for desk in ("/staff/supervise", "/staff/console/review"):
        row = re.search(rf'data-ticket="{ticket.number}".*?</tr>', web.get(desk).text, re.S)
        assert row and "（此前已延期 1 次）" in row.group(0), desk
    login(web, "t_ronggui")
    assert "已延期 1 次" not in web.get(f"/staff/tickets/{ticket.number}").text

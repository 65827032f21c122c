"""待审核's badge in the staff nav counts what the page lists for the one looking: 退单, the routing proposals a person
must confirm, and for supervisors the extensions awaiting a decision — it used to count 退单 only."""

import re

from baishitong.tickets import schemas, service
from tests.conftest import actor
from tests.routing.test_service import register
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login


def badge(page: str) -> str | None:
    found = re.search(r'<span>待审核</span>(?:<span class="nav-badge"[^>]*>(\d+)</span>)?</a>', page)
    assert found, "待审核 is in the nav"
    return found.group(1)


def test_the_badge_counts_routing_confirmations_and_for_supervisors_extensions(web, session, model):
    login(web, "t_operator")
    assert badge(web.get("/staff/console").text) is None, "nothing to review, no badge"
    make_ticket(session, state="returned")
    register(session, content="你好，我想问一下这个事情怎么办。", address="容桂街道")  # the router is unsure: a person confirms
    signed = make_ticket(session, state="signed")
    service.act(session, number=signed.number, action="extend", actor=actor(session, "t_ronggui"), body=schemas.ExtendIn(version=signed.version, days=5, reason="需协调供电部门施工"))
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    assert "退单审核（1）" in page and "智能分拨待确认（1）" in page
    assert badge(page) == "2", "an operator's page lists the return and the proposal to confirm"
    login(web, "t_supervisor")
    page = web.get("/staff/console/review").text
    assert badge(page) == "3", "a supervisor's lists the extension as well"

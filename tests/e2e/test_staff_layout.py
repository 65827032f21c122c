"""Staff desk layout in headless Chromium: a row of stat cards is one height, hint line or not; ticket
tables stay inside their card."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

LONG_ADDRESS = "佛山市顺德区容桂街道高黎社区桂洲大道东路段与容奇大道交界处东南角的老旧小区三号楼二单元楼下"


def seed_server(session) -> None:
    """Orders with a long address, dispatched to 容桂街道; one returned with a long reason."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service

    operator = Actor.for_user(org.get_user(session, username="operator1"))
    handler = Actor.for_user(org.get_user(session, username="ronggui"))
    for n in range(3):
        data = schemas.TicketCreate.model_validate(
            {"type": "投诉", "content": f"路灯连续一周不亮，晚上行人很不安全（{n}）。", "address": LONG_ADDRESS, "channel": "web", "requester": {"phone": "13812340000"}}
        )
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        if n == 0:
            reason = "经核实，该事项不属于我单位职责范围，涉及供电线路改造，建议转供电部门或区住建局办理。"
            service.act(session, number=ticket.number, action="return", actor=handler, body=schemas.ReasonIn(version=ticket.version, reason=reason))


def test_stat_cards_in_a_row_share_one_height(server, browser, shot):
    page = staff_page(browser, server, "ronggui", shot)
    page.goto(server + "/staff/unit")
    heights = page.eval_on_selector_all(".stats .stat", "cards => cards.map(c => c.getBoundingClientRect().height)")
    tops = page.eval_on_selector_all(".stats .stat", "cards => cards.map(c => Math.round(c.getBoundingClientRect().top))")
    assert len(heights) >= 4 and len(set(tops)) == 1
    assert max(heights) - min(heights) < 1, heights



def test_ticket_list_keeps_status_and_deadline_in_view_at_1024(server, browser, shot):
    """A long address is cut under the title instead of widening the table past the card."""
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(server + "/staff/tickets")
    assert page.eval_on_selector(".table-wrap", "t => t.scrollWidth - t.clientWidth") <= 1


def test_supervise_returns_show_the_reason_and_fit_at_1440(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(server + "/staff/supervise")
    assert "退单原因：经核实" in page.inner_text("#returns")
    assert page.eval_on_selector("#returns .table-wrap", "t => t.scrollWidth - t.clientWidth") <= 1

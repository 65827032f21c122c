"""Staff desk layout in headless Chromium: a row of stat cards is one height, hint line or not; ticket
tables stay inside their card; a long unbroken link wraps instead of widening the page."""

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

LONG_ADDRESS = "佛山市顺德区容桂街道高黎社区桂洲大道东路段与容奇大道交界处东南角的老旧小区三号楼二单元楼下"
# A link pasted into a web submission: past its "?" nothing lets the line break.
LINK = (
    "https://mp.weixin.qq.com/s?__biz=MzI1NjA0MDg2Mw==&mid=2650698473&idx=1&sn=0c2d6a7b8e9f0a1b2c3d4e5f6a7b8c9d"
    "&chksm=f1e2d3c4b5a6978877665544332211ffeeddccbbaa99887766554433221100aabbccddeeff00112233445566778899#rd"
)


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
    data = schemas.TicketCreate.model_validate(
        {"type": "投诉", "content": f"井盖缺失，有人掉进去了。网上的帖子：{LINK}", "address": "容桂街道高黎社区", "channel": "web", "requester": {"phone": "13812340001"}}
    )
    ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
    service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))


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


def test_a_long_link_wraps_inside_its_card(server, browser, shot):
    """The unit desk and the order page used to grow a page-wide sideways scroll for one such order."""
    page = staff_page(browser, server, "ronggui", shot)
    page.goto(server + "/staff/unit")
    card = page.locator("section", has_text="井盖缺失")
    assert LINK in card.inner_text()
    overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert page.evaluate(overflow) <= 1
    with page.expect_navigation():
        card.locator("a.ticket-no").click()
    assert LINK in page.inner_text("#ticket-content")
    assert page.evaluate(overflow) <= 1


def test_a_short_page_on_a_tablet_starts_right_under_the_navigation(server, browser, shot):
    """Below 960 px the navigation is a strip above the page: on a page shorter than the screen the strip
    grew to take up the slack, a blank band of a third of the screen above the title."""
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 768, "height": 1600})
    page.goto(server + "/staff/kb/unanswered")
    links = page.eval_on_selector(".staff-sidebar ul", "n => n.getBoundingClientRect().bottom")
    title = page.eval_on_selector(".staff-page-header h1", "h => h.getBoundingClientRect().top")
    assert title - links < 40, (links, title)

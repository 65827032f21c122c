"""单位工作台 on a phone in headless Chromium: an action on a card far down the list comes back there, with its
outcome above the card and the focus on it, not at the top of the page three screens up; the top bar and the
cards' order numbers stay on one line."""

import pytest

from tests.e2e.desk_orders import FOCUSED, IN_VIEW
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def seed_server(session) -> None:
    """Four orders dispatched to 容桂街道, waiting to be signed."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service

    operator = Actor.for_user(org.get_user(session, username="operator1"))
    for n in range(4):
        data = schemas.TicketCreate.model_validate(
            {"type": "投诉", "content": f"容桂街道文华路路灯不亮已经一周，晚上出行很不安全（{n}）。", "address": "容桂街道细滘社区", "channel": "web", "requester": {"phone": "13812340000"}}
        )
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))


def cards(page) -> list[str]:
    return page.eval_on_selector_all("section.card[data-ticket]", "cards => cards.map(c => c.dataset.ticket)")


def landed_above(page, number: str) -> str:
    """The outcome's box has the focus, is on screen, and stands right above the card of `number`; its text."""
    page.wait_for_function(f"() => ({FOCUSED})() && ({FOCUSED})().startsWith('t-')", timeout=5_000)
    landing = page.evaluate(FOCUSED)
    assert page.evaluate(IN_VIEW, landing)
    assert page.evaluate("(id) => document.getElementById(id).nextElementSibling.dataset.ticket", landing) == number
    return page.inner_text(f"#{landing}")


def test_an_action_far_down_the_desk_comes_back_to_its_card_on_a_phone(server, browser, shot):
    page = staff_page(browser, server, "ronggui", shot)
    page.set_viewport_size(PHONE)
    page.goto(server + "/staff/unit")
    first, second, third, last = cards(page)

    # 办理进展 on the last card: the order stays on 待签收, so the page comes back to it.
    card = page.locator(f"section[data-ticket='{last}']")
    card.locator("summary", has_text="办理进展").click()
    card.locator("textarea[name=note]").fill("已联系细滘社区核实路灯位置")
    with page.expect_navigation():
        card.locator("button[data-action=note]").click()
    assert f"工单 {last} 已记录办理进展" in landed_above(page, last)
    assert page.evaluate("scrollY") > 844, "not at the top of the page"
    assert page.locator("#flash").count() == 1
    shot(page, "unit-desk-landed-on-card")

    # 签收 on the second: it leaves 待签收, and the page comes back to the card that followed it.
    with page.expect_navigation():
        page.click(f"section[data-ticket='{second}'] button[data-action=sign]")
    assert f"工单 {second} 已签收" in landed_above(page, third)
    assert cards(page) == [first, third, last]


def test_the_top_bar_and_the_order_numbers_keep_to_one_line_on_a_phone(server, browser, shot):
    page = staff_page(browser, server, "ronggui", shot)
    page.set_viewport_size(PHONE)
    page.goto(server + "/staff/unit")
    line = "el => parseFloat(getComputedStyle(el).lineHeight) * 1.5 > el.getBoundingClientRect().height"
    assert page.eval_on_selector(".btn-logout", "b => b.getClientRects().length === 1 && b.getBoundingClientRect().height < 40"), "退出 is not stacked 退 / 出"
    assert all(page.eval_on_selector_all(".card-title .ticket-no", f"links => links.map({line})")), "an order number broken over two lines"
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1

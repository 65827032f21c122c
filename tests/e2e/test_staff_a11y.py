"""Staff pages with only a keyboard or a screen reader: an action's outcome is read out, a refused sign-in is read
with the field the cursor returns to, and every field shows where the focus is."""

import pytest

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e


def seed_server(session) -> None:
    """One order dispatched to 容桂街道, waiting to be signed."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service

    operator = Actor.for_user(org.get_user(session, username="operator1"))
    data = schemas.TicketCreate.model_validate({"type": "投诉", "content": "小区门口路面塌陷，车辆经过很危险。", "address": "容桂街道高黎社区", "channel": "web", "requester": {"phone": "13812340000"}})
    ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
    service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))


# What a screen reader announces: text added to a live region once the page has loaded (what the region
# held when the page arrived is not read out).
RECORD_ANNOUNCEMENTS = """
document.addEventListener('DOMContentLoaded', () => {
  window.announced = [];
  new MutationObserver(records => { for (const r of records) {
    const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    if (!el || !el.closest('[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]')) continue;
    const added = r.type === 'characterData' ? [r.target] : [...r.addedNodes];
    for (const n of added) if (n.textContent.trim()) window.announced.push(n.textContent.trim());
  } }).observe(document.body, {childList: true, subtree: true, characterData: true});
});
"""


def announced(page, text: str) -> list:
    page.wait_for_timeout(1000)
    return [t for t in page.evaluate("window.announced") if text in t]


def test_the_outcome_of_registering_a_call_and_of_signing_is_read_out(server, browser, shot):
    """Both land on a new page with the message at the top, the cursor elsewhere (the next call's 诉求内容)."""
    operator = staff_page(browser, server, "operator1", shot)
    operator.add_init_script(RECORD_ANNOUNCEMENTS)
    operator.goto(server + "/staff/console")
    operator.fill("#f-content", "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮。")
    operator.fill("#f-phone", "13900006001")
    with operator.expect_navigation():
        operator.press("#f-phone", "Control+Enter")
    assert "已受理" in operator.inner_text("#flash") and operator.evaluate("document.activeElement.id") == "f-content"
    assert announced(operator, "已受理"), "the operator hears that the call was registered, and its number"

    handler = staff_page(browser, server, "ronggui", shot)
    handler.add_init_script(RECORD_ANNOUNCEMENTS)
    handler.goto(server + "/staff/unit")
    with handler.expect_navigation():
        handler.locator("main button:has-text('签收')").first.click()
    assert "已签收" in handler.inner_text("#flash")
    assert len(announced(handler, "已签收")) == 1


DESCRIPTION = "() => (document.activeElement.getAttribute('aria-describedby') || '').split(' ').map(id => document.getElementById(id)?.innerText || '').join(' ')"


def test_a_refused_sign_in_is_read_with_the_user_name_field(server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(server + "/staff/login")
    page.fill("#f-username", "operator1")
    page.fill("#f-password", PASSWORD + "x")
    with page.expect_navigation():
        page.press("#f-password", "Enter")
    assert page.evaluate("document.activeElement.id") == "f-username"
    assert "用户名或密码错误" in page.evaluate(DESCRIPTION)
    page.goto(server + "/staff/login")
    assert page.get_attribute("#f-username", "aria-describedby") is None
    context.close()


RING = "() => { const s = getComputedStyle(document.activeElement); return s.boxShadow !== 'none' || (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0); }"


def test_a_date_field_reached_with_tab_shows_the_focus(server, browser, shot):
    """Chromium focuses the year, month or day inside a date field, so :focus alone never marked it."""
    page = staff_page(browser, server, "supervisor", shot)
    page.goto(server + "/staff/stats")
    page.focus("#f-to")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "f-from"
    assert page.evaluate(RING)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-to" and page.evaluate(RING)

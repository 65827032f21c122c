"""类案参考 in headless Chromium: the card loads as the handler reaches it, and 引用此答复 fills the reply."""

import pytest

from tests.e2e.test_action_drafts import api, signed_ticket
from tests.e2e.test_story import open_action, staff_page

pytestmark = pytest.mark.e2e

PAST_REPLY = "经现场核查，桂洲大道东路灯因电缆被挖断熄灭，我街道已联系供电部门抢修，现已恢复照明。"


def test_a_past_reply_is_quoted_into_the_reply_form(server, browser, shot):
    past = signed_ticket(server)
    with api(server, "ronggui") as handler:
        ticket = handler.get(f"/tickets/{past}").json()
        handler.post(f"/tickets/{past}/actions/reply", json={"version": ticket["version"], "content": PAST_REPLY}).raise_for_status()
    number = signed_ticket(server)
    page = staff_page(browser, server, "ronggui", shot)
    page.goto(f"{server}/staff/tickets/{number}")
    page.locator("#cases").scroll_into_view_if_needed()
    page.wait_for_selector(f"#cases-body a[href='/staff/tickets/{past}']")
    quote = page.locator("#cases-body button[data-quote-into]").first
    assert quote.is_visible()
    shot(page, "cases-panel")
    reply = open_action(page, "reply")
    content = reply.locator("textarea[name=content]")
    content.fill("您好，")
    quote.click()
    assert content.input_value() == "您好，\n" + PAST_REPLY
    shot(page, "cases-quoted")

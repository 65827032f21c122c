"""常用答复语 in headless Chromium: a handler picks a phrase and it joins what they already typed."""

import pytest

from baishitong.demo.phrases import PHRASES
from baishitong.phrases import service as phrases
from tests.e2e.test_action_drafts import signed_ticket
from tests.e2e.test_story import open_action, staff_page

pytestmark = pytest.mark.e2e

TYPED = "您好，您反映的桂洲大道东路灯问题已收到。"
LAMP = next(p["body"] for p in PHRASES if p["title"] == "路灯已修复")
OPENING = next(p["body"] for p in PHRASES if p["title"] == "开头：已收到并高度重视")


def seed_server(session) -> None:
    phrases.load_demo(session)


def test_a_chosen_phrase_is_inserted_after_the_text_already_typed(server, browser, shot):
    number = signed_ticket(server)
    page = staff_page(browser, server, "ronggui", shot)
    page.goto(f"{server}/staff/tickets/{number}")
    reply = open_action(page, "reply")
    content = reply.locator("textarea[name=content]")
    picker = reply.locator("select[data-phrase-insert]")
    assert picker.is_visible()
    assert "大良" not in picker.inner_text()

    content.fill(TYPED)
    picker.select_option(label="路灯已修复")
    assert content.input_value() == TYPED + "\n" + LAMP
    assert picker.input_value() == ""
    shot(page, "reply-phrase-inserted")

    # With the caret put back at the start, the next phrase goes there, not at the end.
    content.evaluate("ta => { ta.focus(); ta.setSelectionRange(0, 0); }")
    picker.select_option(label="开头：已收到并高度重视")
    assert content.input_value() == OPENING + TYPED + "\n" + LAMP

    with page.expect_navigation():
        reply.locator("button[data-action=reply]").click()
    assert f"工单 {number} 已答复" in page.inner_text("#flash")
    assert LAMP in page.inner_text("main")

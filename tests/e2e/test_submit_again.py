"""我要反映 in Chromium: Back after 提交成功 and 提交反映 once more gives the order already registered, not a second."""

import re

import pytest

pytestmark = pytest.mark.e2e

CONTENT = "桂洲大道中段路灯坏了一个星期，晚上很黑"


def fill_if_empty(page, selector, value):
    """What the browser restored is left as it is; an emptied field is typed again, as autofill or the citizen would."""
    if not page.input_value(selector):
        page.fill(selector, value)


def test_back_and_send_again_shows_the_order_already_registered(server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server + "/submit")
    page.fill("#f-content", CONTENT)
    page.select_option("#f-town", index=1)
    page.fill("#f-phone", "13800138000")
    page.check("#f-consent")
    key = page.input_value("input[name=idempotency_key]")
    with page.expect_navigation():
        page.click("button:has-text('提交反映')")
    number = page.inner_text("#ticket-number").strip()
    assert re.fullmatch(r"SD\d{12}", number) and page.locator("#submitted-again").count() == 0
    page.go_back()
    page.wait_for_selector("#f-content")
    fill_if_empty(page, "#f-content", CONTENT)
    if not page.input_value("#f-town"):
        page.select_option("#f-town", index=1)
    fill_if_empty(page, "#f-phone", "13800138000")
    if not page.is_checked("#f-consent"):
        page.check("#f-consent")
    assert page.input_value("input[name=idempotency_key]") != key, "the form came back under a new key"
    with page.expect_navigation():
        page.click("button:has-text('提交反映')")
    assert page.inner_text("#ticket-number").strip() == number
    assert page.inner_text("#submitted-again") == f"您刚才已提交过相同的诉求，工单号 {number}，本次没有重复登记。"
    context.close()

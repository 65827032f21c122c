"""A repeat call in headless Chromium: the console shows the open ticket as a duplicate, and one click merges the new call into it."""

import httpx
import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

LAMP = "容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全，请尽快维修。"


def test_repeat_call_merged_from_the_duplicates_panel(server, browser, shot):
    first = httpx.post(
        server + "/api/v1/tickets",
        json={"type": "投诉", "content": LAMP, "address": "容桂街道高黎社区桂洲大道东 38 号", "requester": {"phone": "13800138000"}},
    )
    assert first.status_code == 201, first.text
    number = first.json()["number"]

    operator = staff_page(browser, server, "operator1", shot)
    operator.fill("#f-address", "容桂街道高黎社区桂洲大道东 38 号")
    operator.fill("#f-content", "容桂高黎社区桂洲大道东的路灯一周都不亮了，晚上行人很不安全，希望尽快维修。")
    operator.wait_for_selector("#sg-routing")
    shot(operator, "console-merge-panel")
    offer = operator.locator(f"#sg-duplicates button[data-fill-text='{number}']")
    offer.wait_for()
    offer.click()
    assert operator.input_value("#f-merge_into") == number
    assert operator.is_checked("input[name=after][value=merge]")
    operator.fill("#f-phone", "13900001234")
    shot(operator, "console-merge")
    with operator.expect_navigation():
        operator.click("button[data-action=intake]")
    assert f"并入工单 {number}" in operator.inner_text("#flash")

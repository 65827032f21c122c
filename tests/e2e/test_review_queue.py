"""待审核 in headless Chromium: after 同意/驳回退单 the page opens at the order that was after the one acted on,
with the focus there, so the operator goes on from the keyboard instead of from the top of the page; a refused
one opens at the order that failed."""

import pytest

from tests.e2e.desk_orders import landed_on, rows, seed_ronggui_desk
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

OUTCOME_IN_VIEW = "() => { const r = document.querySelector('#returns .alert').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"


def seed_server(session) -> None:
    """Four orders returned by 容桂街道."""
    seed_ronggui_desk(session, returned=4)


def test_a_refused_decision_lands_on_its_own_row_with_the_focus_and_the_error(server, browser, shot):
    """Runs first and changes nothing: the reason is blank once trimmed, so the server refuses it."""
    page = staff_page(browser, server, "operator1", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/console/review")
    second = rows(page, "returns")[1]
    page.fill(f"#returns-{second} input[name=reason]", "  ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    landed_on(page, f"returns-{second}")
    assert "“驳回退单”未完成" in page.inner_text(f"#returns-{second}")
    assert page.evaluate(OUTCOME_IN_VIEW), "the error is in sight beside the focused row"
    assert len(rows(page, "returns")) == 4
    shot(page, "review-queue-refused-row")


def test_review_queue_lands_on_the_next_order_with_the_focus_after_each_decision(server, browser, shot):
    page = staff_page(browser, server, "operator1", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/console/review")
    first, second, third, fourth = rows(page, "returns")

    with page.expect_navigation():
        page.click(f"#returns-{first} button[data-action=approve-return]")
    landed_on(page, f"returns-{second}")
    assert f"工单 {first} 已同意退单" in page.inner_text(f"#returns-{second}")
    shot(page, "review-queue-next-row")
    # The keyboard goes on from that order: Tab reaches its own links first.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == second

    # 驳回: type the reason and send it with Enter.
    page.fill(f"#returns-{second} input[name=reason]", "请补充辖区核实材料后再申请退单")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    landed_on(page, f"returns-{third}")
    assert page.evaluate(OUTCOME_IN_VIEW), "the outcome is in sight beside the focused row"

    # The last row has no order after it: the one before it takes the focus.
    with page.expect_navigation():
        page.click(f"#returns-{fourth} button[data-action=approve-return]")
    landed_on(page, f"returns-{third}")
    assert rows(page, "returns") == [third]
    # The last order of the section: the emptied list takes the focus.
    with page.expect_navigation():
        page.click(f"#returns-{third} button[data-action=approve-return]")
    landed_on(page, "returns-list")
    assert "没有待审核的退单" in page.inner_text("#returns")

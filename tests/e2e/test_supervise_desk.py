"""督办台 in headless Chromium: after 催办 or 督办 the page comes back at the order acted on, with its outcome in
the row and the focus on that outcome, so a screen reader hears it and the keyboard goes on from there."""

import pytest

from tests.e2e.desk_orders import IN_VIEW, landed_on, rows, seed_ronggui_desk
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

# Whether an element is on screen and not under the sticky bar: what is at its centre is itself (or inside it).
SEEN = "(sel) => { const e = document.querySelector(sel), r = e.getBoundingClientRect(); return e.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)); }"


def seed_server(session) -> None:
    """Three orders signed by 容桂街道 and past their reply deadline, and two it asks to return."""
    seed_ronggui_desk(session, overdue=3, returned=2)


def test_urge_and_supervise_land_the_focus_on_the_outcome_in_the_row_acted_on(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/supervise")
    first, second, third = rows(page, "overdue")

    page.fill(f"#u-{second}", "请今天内答复诉求人")
    with page.expect_navigation():
        page.click(f"tr[data-ticket='{second}'] button[data-action=supervise]")
    landed_on(page, f"overdue-{second}")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == second
    assert f"工单 {second} 已督办" in page.inner_text(f"#overdue-{second}")
    assert rows(page, "overdue") == [first, second, third], "the order stays listed"
    shot(page, "supervise-landed-on-row")

    # 催办 with Enter in the note: the same.
    page.fill(f"#u-{third}", "请尽快处理")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    landed_on(page, f"overdue-{third}")
    assert f"工单 {third} 已催办" in page.inner_text(f"#overdue-{third}")
    assert page.locator("#overdue .alert").count() == 1


def test_on_a_phone_the_outcome_of_urge_sits_under_the_form_in_the_row_not_beside_it(server, browser, shot):
    """The stacked rows' action cell laid the outcome out beside the form, wider than the phone: the list was
    scrolled sideways to show it, and the orders' numbers and titles went off the left edge."""
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/staff/supervise")
    _first, second, _third = rows(page, "overdue")
    with page.expect_navigation():
        page.click(f"tr[data-ticket='{second}'] button[data-action=urge]")
    landed_on(page, f"overdue-{second}")
    # The row is shown from its number and title down to the outcome, not scrolled up under the sticky bar.
    page.wait_for_function(SEEN, arg=f"tr[data-ticket='{second}'] td[data-label=工单号]", timeout=5_000)
    assert page.evaluate(IN_VIEW, f"overdue-{second}")
    outcome = page.locator(f"#overdue-{second}").bounding_box()
    form = page.locator(f"tr[data-ticket='{second}'] form").bounding_box()
    assert outcome["y"] >= form["y"] + form["height"] and outcome["x"] + outcome["width"] <= 390
    assert page.evaluate("() => document.querySelector('#overdue .table-wrap').scrollLeft") == 0
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    shot(page, "supervise-phone-outcome-under-form")


def test_a_decision_lands_the_focus_on_the_outcome_in_the_next_order(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/supervise")
    acted, following = rows(page, "returns")

    with page.expect_navigation():
        page.click(f"tr[data-ticket='{acted}'] button[data-action=approve-return]")
    landed_on(page, f"returns-{following}")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == following
    assert f"工单 {acted} 已同意退单" in page.inner_text(f"#returns-{following}")
    shot(page, "supervise-decision-landed-on-next")

    # The last one: its outcome takes its place at the top of the emptied section, with the focus.
    page.fill(f"#r-{following}-reject-return", "属于本单位职责，请继续办理")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    landed_on(page, f"returns-{following}")
    assert f"工单 {following} 已驳回退单" in page.inner_text(f"#returns-{following}")
    assert page.locator("#returns tr[data-ticket]").count() == 0


def test_a_units_dispatch_count_in_the_league_opens_the_list_of_those_orders(server, browser, shot):
    """The league comes after the desk (htmx); its 派单数 for 容桂街道 opens 工单查询 by 派单日期 on as many orders."""
    page = staff_page(browser, server, "supervisor", shot)
    page.goto(server + "/staff/supervise")
    link = page.locator("#league tr[data-unit=ronggui] td[data-label=派单数] a")
    link.wait_for(timeout=10_000)
    count = link.inner_text().split()[-2] if " " in link.inner_text() else link.inner_text()
    shot(page, "supervise-league-links")
    with page.expect_navigation():
        link.click()
    assert "dispatched_from=" in page.url and "unit=ronggui" in page.url
    assert page.input_value("#f-dispatched_from") and page.input_value("#f-unit") == "ronggui"
    assert f"共 {count} 件" in page.inner_text(".lead")

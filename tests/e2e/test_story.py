"""The whole story in headless Chromium: submit, dispatch, sign, reply, rate, league table; a return; an extension."""

import re

import pytest

from tests.e2e.conftest import PASSWORD

pytestmark = pytest.mark.e2e

PHONE = "13800138000"


def staff_page(browser, base: str, username: str, shot=None, *, screenshot: bool = False, viewport: dict | None = None):
    context = browser.new_context(locale="zh-CN", viewport=viewport or {"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(base + "/staff/login")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    if screenshot:
        shot(page, "staff-login")
    with page.expect_navigation():
        page.click("button:has-text('登录')")
    return page


def citizen_submits(page, base: str, shot, *, content: str, name: str) -> str:
    page.goto(base + "/submit")
    page.check("input[name=type][value=投诉]")
    page.fill("#f-content", content)
    page.select_option("#f-town", "440606006")
    page.wait_for_function("document.querySelector('#f-community optgroup') === null")
    page.select_option("#f-community", index=1)
    page.fill("#f-address", "桂洲大道东 38 号")
    page.fill("#f-name", "陈先生")
    page.fill("#f-phone", PHONE)
    page.check("#f-consent")
    shot(page, f"submit-{name}")
    page.click("button:has-text('提交反映')")
    page.wait_for_selector("#ticket-number")
    shot(page, f"submitted-{name}")
    return page.inner_text("#ticket-number").strip()


def dispatch_from_queue(page, base: str, number: str, unit: str, shot, name: str) -> None:
    page.goto(base + "/staff/console/dispatch")
    row = page.locator(f"tr[data-ticket={number}]")
    row.locator("select[name=lead_unit]").select_option(unit)
    shot(page, name)
    with page.expect_navigation():
        row.locator("button[data-action=dispatch]").click()
    assert f"工单 {number} 已派单" in page.inner_text("#flash")


def open_action(page, action: str):
    form = page.locator(f"form[data-action-form={action}]")
    details = page.locator("details", has=form)
    if not details.evaluate("d => d.open"):
        details.locator("summary").click()
    return form


def test_story(server, browser, shot):
    base = server
    citizen = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    citizen.goto(base + "/")
    shot(citizen, "home")
    number = citizen_submits(citizen, base, shot, content="容桂街道高黎社区桂洲大道东路段路灯连续一周不亮，晚上行人很不安全，请尽快维修。", name="lamp")
    assert re.fullmatch(r"SD\d{12}", number)

    operator = staff_page(browser, base, "operator1", shot, screenshot=True)
    operator.fill("#f-content", "大良街道金榜社区有餐馆油烟直排，影响居民生活")
    operator.wait_for_selector("#sg-routing")
    shot(operator, "console-suggest")
    dispatch_from_queue(operator, base, number, "ronggui", shot, "dispatch-queue")

    supervisor = staff_page(browser, base, "supervisor", shot)
    supervisor.goto(base + "/staff/supervise")
    supervisor.wait_for_selector("#league table, #league .empty")  # the league comes after the page
    before = supervisor.locator("tr[data-unit=ronggui] td[data-rate=satisfaction_rate]")
    assert before.count() == 0 or before.inner_text() == "—"

    handler = staff_page(browser, base, "ronggui", shot)
    assert "/staff/unit" in handler.url
    card = handler.locator(f"section[data-ticket={number}]")
    shot(handler, "unit-inbox")
    with handler.expect_navigation():
        card.locator("button[data-action=sign]").click()
    handler.goto(f"{base}/staff/tickets/{number}")
    reply = open_action(handler, "reply")
    reply.locator("textarea[name=content]").fill("您好，已安排维修人员更换路灯控制器，路灯已于今晚恢复照明。感谢您的监督。")
    shot(handler, "ticket-reply")
    with handler.expect_navigation():
        reply.locator("button[data-action=reply]").click()
    assert "已答复" in handler.inner_text(".staff-page-header")
    shot(handler, "ticket-replied")

    citizen.goto(base + "/track")
    citizen.fill("#f-number", number)
    citizen.fill("#f-phone", PHONE)
    citizen.click("button:has-text('查询')")
    citizen.wait_for_selector("#callback")
    assert "路灯已于今晚恢复照明" in citizen.inner_text("#reply")
    shot(citizen, "track")
    citizen.locator("label.choice", has_text="已解决").click()
    citizen.locator("label.choice", has_text=re.compile("^满意$")).click()
    with citizen.expect_navigation():
        citizen.click("button:has-text('提交评价')")
    assert "感谢您的评价" in citizen.inner_text("#flash")
    shot(citizen, "track-rated")

    supervisor.goto(base + "/staff/supervise")
    supervisor.wait_for_selector("#league table")
    assert supervisor.locator("tr[data-unit=ronggui] td[data-rate=satisfaction_rate]").inner_text() == "100.0%"
    shot(supervisor, "supervise-league")

    # A return: the unit returns, the operator approves it and dispatches to the right unit.
    second = citizen_submits(citizen, base, shot, content="大良街道附近工地夜间施工噪音很大，凌晨还在打桩，严重影响休息。", name="noise")
    dispatch_from_queue(operator, base, second, "ronggui", shot, "dispatch-queue-2")
    handler.goto(f"{base}/staff/tickets/{second}")
    back = open_action(handler, "return")
    back.locator("textarea[name=reason]").fill("事发地位于大良街道辖区，不属于容桂街道职责，建议改派大良街道。")
    shot(handler, "ticket-return")
    with handler.expect_navigation():
        back.locator("button[data-action=return]").click()
    operator.goto(base + "/staff/console/review")
    shot(operator, "review-queue")
    with operator.expect_navigation():
        operator.locator(f"#returns tr[data-ticket={second}] button[data-action=approve-return]").click()
    dispatch_from_queue(operator, base, second, "daliang", shot, "redispatch")
    operator.goto(f"{base}/staff/tickets/{second}")
    assert "大良街道" in operator.locator("#info").inner_text()
    shot(operator, "ticket-redispatched")

    # An extension: the unit asks for five more working days, the supervisor approves.
    third = citizen_submits(citizen, base, shot, content="容桂街道高黎社区小区内下水道堵塞反复冒水，物业多次处理未果。", name="drain")
    dispatch_from_queue(operator, base, third, "ronggui", shot, "dispatch-queue-3")
    handler.goto(base + "/staff/unit")
    with handler.expect_navigation():
        handler.locator(f"section[data-ticket={third}] button[data-action=sign]").click()
    handler.goto(f"{base}/staff/tickets/{third}")
    due_before = handler.locator("#deadlines tr", has_text="答复时限").locator("[data-deadline]").get_attribute("data-deadline")
    extend = open_action(handler, "extend")
    extend.locator("input[name=days]").fill("5")
    extend.locator("textarea[name=reason]").fill("需协调物业和水务公司联合开挖检修管道。")
    with handler.expect_navigation():
        extend.locator("button[data-action=extend]").click()
    assert f"工单 {third} 已申请延期" in handler.inner_text("#flash")
    # While the centre reviews the request the unit's time to answer stands still (审核期间暂停计时).
    assert "计时暂停" in handler.locator("#deadlines tr", has_text="答复时限").inner_text()
    supervisor.goto(base + "/staff/supervise")
    shot(supervisor, "supervise-extension")
    with supervisor.expect_navigation():
        supervisor.locator(f"#extensions tr[data-ticket={third}] button[data-action=approve-extension]").click()
    assert f"工单 {third} 已同意延期" in supervisor.inner_text("#flash")
    supervisor.goto(f"{base}/staff/tickets/{third}")
    due_after = supervisor.locator("#deadlines tr", has_text="答复时限").locator("[data-deadline]").get_attribute("data-deadline")
    assert due_after > due_before
    shot(supervisor, "ticket-extended")
    supervisor.goto(base + "/staff/tickets")
    shot(supervisor, "ticket-list")

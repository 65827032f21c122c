"""督办台 in headless Chromium: after 催办 or 督办 the page comes back at the order acted on, with its outcome in
the row and the focus on that outcome, so a screen reader hears it and the keyboard goes on from there."""

from datetime import timedelta

import pytest

from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

FOCUSED = "() => document.activeElement && document.activeElement.id"
IN_VIEW = "(id) => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"


def seed_server(session) -> None:
    """Three orders signed by 容桂街道 and past their reply deadline, and two it asks to return."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.db import utcnow
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service

    operator = Actor.for_user(org.get_user(session, username="operator1"))
    handler = Actor.for_user(org.get_user(session, username="ronggui"))
    for n in range(3):
        data = schemas.TicketCreate.model_validate({"type": "投诉", "content": f"小区门口路面塌陷，车辆经过很危险（{n}）。", "address": "容桂街道高黎社区", "channel": "web", "requester": {"phone": "13812340000"}})
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        service.act(session, number=ticket.number, action="sign", actor=handler, body=schemas.ActionIn(version=ticket.version))
        ticket.reply_due = utcnow() - timedelta(hours=n + 1)
    for n in range(2):
        data = schemas.TicketCreate.model_validate({"type": "咨询", "content": f"区属学校插班生报名需要哪些材料（{n}）？", "channel": "web", "requester": {"phone": "13812340001"}})
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        service.act(session, number=ticket.number, action="return", actor=handler, body=schemas.ReasonIn(version=ticket.version, reason="属区教育局职责"))
    session.commit()


def _rows(page) -> list[str]:
    return page.eval_on_selector_all("#overdue tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")


def _landed_on(page, element_id: str) -> None:
    # The browser scrolls to and focuses the #fragment a moment after the page has loaded.
    page.wait_for_function(f"(id) => ({FOCUSED})() === id", arg=element_id, timeout=5_000)
    assert page.evaluate(IN_VIEW, element_id)


def test_urge_and_supervise_land_the_focus_on_the_outcome_in_the_row_acted_on(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/supervise")
    first, second, third = _rows(page)

    page.fill(f"#u-{second}", "请今天内答复诉求人")
    with page.expect_navigation():
        page.click(f"tr[data-ticket='{second}'] button[data-action=supervise]")
    _landed_on(page, f"overdue-{second}")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == second
    assert f"工单 {second} 已督办" in page.inner_text(f"#overdue-{second}")
    assert _rows(page) == [first, second, third], "the order stays listed"
    shot(page, "supervise-landed-on-row")

    # 催办 with Enter in the note: the same.
    page.fill(f"#u-{third}", "请尽快处理")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _landed_on(page, f"overdue-{third}")
    assert f"工单 {third} 已催办" in page.inner_text(f"#overdue-{third}")
    assert page.locator("#overdue .alert").count() == 1


def test_a_decision_lands_the_focus_on_the_outcome_in_the_next_order(server, browser, shot):
    page = staff_page(browser, server, "supervisor", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/supervise")
    acted, following = page.eval_on_selector_all("#returns tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")

    with page.expect_navigation():
        page.click(f"tr[data-ticket='{acted}'] button[data-action=approve-return]")
    _landed_on(page, f"returns-{following}")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == following
    assert f"工单 {acted} 已同意退单" in page.inner_text(f"#returns-{following}")
    shot(page, "supervise-decision-landed-on-next")

    # The last one: its outcome takes its place at the top of the emptied section, with the focus.
    page.fill(f"#r-{following}-reject-return", "属于本单位职责，请继续办理")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _landed_on(page, f"returns-{following}")
    assert f"工单 {following} 已驳回退单" in page.inner_text(f"#returns-{following}")
    assert page.locator("#returns tr[data-ticket]").count() == 0

"""待派单 and 待回访 in headless Chromium: an action comes back to the order after the one done (记录未接通 to its own
row, which stays), with the outcome there and the focus on it, instead of at the top of a page of twenty orders; a
colleague's order sent first is refused with a 409 said on top."""

import pytest

from tests.e2e.desk_orders import landed_on
from tests.e2e.test_story import staff_page

pytestmark = pytest.mark.e2e

WAITING, REPLIED = 4, 3


def seed_server(session) -> None:
    """Four web orders waiting in 待派单 and three that 容桂街道 answered, waiting in 待回访; a second operator."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service
    from tests.e2e.conftest import PASSWORD

    org.create_user(session, username="operator2", password=PASSWORD, role="operator", display_name="话务员 李明")
    operator = Actor.for_user(org.get_user(session, username="operator1"))
    handler = Actor.for_user(org.get_user(session, username="ronggui"))
    for n in range(WAITING + REPLIED):
        content = f"小区门口路灯不亮，晚上出行不便（{n}）。"
        data = schemas.TicketCreate.model_validate({"type": "投诉", "content": content, "address": "容桂街道高黎社区", "channel": "web", "requester": {"phone": "13812340000"}})
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        if n < WAITING:
            continue
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        service.act(session, number=ticket.number, action="sign", actor=handler, body=schemas.ActionIn(version=ticket.version))
        service.act(session, number=ticket.number, action="reply", actor=handler, body=schemas.ContentIn(version=ticket.version, content="已更换灯具，恢复照明。"))


def listed(page) -> list[str]:
    return page.eval_on_selector_all("tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")


def test_dispatch_lands_on_the_next_order_and_a_colleague_sending_the_same_one_is_refused(server, browser, shot):
    page = staff_page(browser, server, "operator1", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    colleague = staff_page(browser, server, "operator2", shot)
    page.goto(server + "/staff/console/dispatch")
    colleague.goto(server + "/staff/console/dispatch")
    first, second, third, fourth = listed(page)

    page.select_option(f"#lead-{second}", "ronggui")
    with page.expect_navigation():
        page.click(f"#row-{second} button[data-action=dispatch]")
    landed_on(page, f"row-{third}")
    assert f"工单 {second} 已派单" in page.inner_text(f"#row-{third}")
    # The keyboard goes on from that order: its unit, then 派单.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.ticket") == third
    shot(page, "dispatch-queue-next-row")

    # The last row has no order after it: the one before it takes the focus.
    page.select_option(f"#lead-{fourth}", "ronggui")
    with page.expect_navigation():
        page.click(f"#row-{fourth} button[data-action=dispatch]")
    landed_on(page, f"row-{third}")
    assert listed(page) == [first, third]

    # The colleague's page still lists the order sent: their 派单 is refused, said on top, not sent twice.
    colleague.select_option(f"#lead-{second}", "daliang")
    with colleague.expect_navigation():
        colleague.click(f"#row-{second} button[data-action=dispatch]")
    assert "“派单”未完成" in colleague.inner_text("#flash") and "刚刚已被处理或更新" in colleague.inner_text("#flash")
    assert listed(colleague) == [first, third]
    colleague.context.close()
    page.context.close()


def test_callback_queue_lands_on_the_row_for_a_missed_call_and_on_the_next_after_a_callback(server, browser, shot):
    page = staff_page(browser, server, "operator1", shot)
    page.set_viewport_size({"width": 1366, "height": 500})
    page.goto(server + "/staff/console/callback")
    first, second, third = listed(page)

    page.select_option(f"#cm-{second}", "无人接听")
    with page.expect_navigation():
        page.click(f"#row-{second} button[data-action=callback-missed]")
    landed_on(page, f"row-{second}")
    assert f"工单 {second} 已记录回访未接通" in page.inner_text(f"#row-{second}") and "已未接通 1 次" in page.inner_text(f"#row-{second}")

    page.select_option(f"#cs-{first}", "yes")
    page.select_option(f"#cf-{first}", "满意")
    with page.expect_navigation():
        page.click(f"#row-{first} button[data-action=callback]")
    landed_on(page, f"row-{second}")
    assert f"工单 {first} 已回访" in page.inner_text(f"#row-{second}") and listed(page) == [second, third]
    shot(page, "callback-queue-next-row")
    page.context.close()

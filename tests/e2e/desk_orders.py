"""Shared by the browser tests of 督办台 and 待审核: orders on 容桂街道's desk, and where a decision's page lands."""

from datetime import timedelta

FOCUSED = "() => document.activeElement && document.activeElement.id"
IN_VIEW = "(id) => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"


def seed_ronggui_desk(session, *, overdue: int = 0, returned: int = 0) -> None:
    """`overdue` orders 容桂街道 signed that are past their reply deadline (the first by an hour, the next by
    two, …), then `returned` orders it asks to return; each list in the order created."""
    from baishitong.actors import REQUESTER, Actor
    from baishitong.db import utcnow
    from baishitong.org import service as org
    from baishitong.tickets import schemas, service

    operator = Actor.for_user(org.get_user(session, username="operator1"))
    handler = Actor.for_user(org.get_user(session, username="ronggui"))

    def dispatched(n: int):
        content = f"小区门口路面塌陷，车辆经过很危险（{n}）。"
        data = schemas.TicketCreate.model_validate({"type": "投诉", "content": content, "address": "容桂街道高黎社区", "channel": "web", "requester": {"phone": "13812340000"}})
        ticket, _ = service.create_ticket(session, data=data, actor=REQUESTER)
        service.act(session, number=ticket.number, action="dispatch", actor=operator, body=schemas.DispatchIn(version=ticket.version, lead_unit="ronggui"))
        return ticket

    for n in range(overdue):
        ticket = dispatched(n)
        service.act(session, number=ticket.number, action="sign", actor=handler, body=schemas.ActionIn(version=ticket.version))
        ticket.reply_due = utcnow() - timedelta(hours=n + 1)
    for n in range(overdue, overdue + returned):
        ticket = dispatched(n)
        service.act(session, number=ticket.number, action="return", actor=handler, body=schemas.ReasonIn(version=ticket.version, reason="不属于本单位职责，建议改派区住建局。"))


def rows(page, section: str) -> list[str]:
    """The order numbers listed in a section (#overdue, #returns…), top to bottom."""
    return page.eval_on_selector_all(f"#{section} tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")


def landed_on(page, element_id: str) -> None:
    # The browser scrolls to and focuses the #fragment a moment after the page has loaded.
    page.wait_for_function(f"(id) => ({FOCUSED})() === id", arg=element_id, timeout=5_000)
    assert page.evaluate(IN_VIEW, element_id)

"""待审核 pages each section on its own (like 督办台), and a refused decision lands on the row that failed."""

import re

from sqlalchemy import select

from baishitong.org import service as org
from baishitong.actors import REQUESTER
from baishitong.routing.models import RoutingDecision
from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from baishitong.web import operator
from tests.conftest import actor
from tests.routing.test_service import register
from tests.tickets.factories import intake, make_ticket
from tests.web.test_desk_priorities import _section
from tests.web.test_pages import login, token


def _rows(page: str, section: str) -> list[str]:
    return re.findall(r'<tr data-ticket="([^"]+)"', _section(page, section))


def _next(page: str, number: str, action: str, field: str = "next") -> str:
    form = re.search(rf'<form[^>]*action="/staff/tickets/{number}/act/{action}".*?</form>', page, re.S).group(0)
    return re.search(rf'name="{field}" value="([^"]+)"', form).group(1).replace("&amp;", "&")


def test_a_long_section_pages_and_an_action_on_a_later_page_returns_there(web, session, monkeypatch):
    monkeypatch.setattr(operator, "REVIEW_ROWS", 2)
    for _ in range(4):  # two pages of two: the order acted on has one after it
        make_ticket(session, state="returned")
    session.commit()
    waiting = set(session.scalars(select(Ticket.number).where(Ticket.status == "returned")))
    login(web, "t_operator")
    first = web.get("/staff/console/review").text
    returns = _section(first, "returns")
    assert f"退单审核（{len(waiting)}）" in returns and f"第 1–2 条，共 {len(waiting)} 条" in returns
    assert 'href="/staff/console/review?at=returns&amp;page=2#returns"' in returns
    last = -(-len(waiting) // 2)
    listed = [n for p in range(1, last + 1) for n in _rows(web.get(f"/staff/console/review?at=returns&page={p}").text, "returns")]
    assert len(listed) == len(waiting) and set(listed) == waiting

    second = web.get("/staff/console/review?at=returns&page=2").text
    number = _rows(second, "returns")[0]
    back = _next(second, number, "approve-return")
    landed = re.fullmatch(r"/staff/console/review\?at=returns&page=2&row=(\w+)#returns-(\w+)", back)
    assert landed and landed.group(1) == landed.group(2) != number
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    done = web.post(f"/staff/tickets/{number}/act/approve-return", data={"csrf_token": token(second), "version": str(ticket.version), "next": back}, follow_redirects=False)
    assert done.headers["location"] == back
    row = re.search(rf'<tr data-ticket="{landed.group(1)}".*?</tr>', web.get(back).text, re.S).group(0)
    assert f"工单 {number} 已同意退单" in row, "the outcome is in the row landed on, where the focus is"


def test_a_refused_decision_lands_on_its_own_row_with_the_error_there(web, session):
    ticket = make_ticket(session, state="returned")
    make_ticket(session, state="returned")  # the row after it, where the focus would go had it succeeded
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    form = {"csrf_token": token(page), "version": str(ticket.version), "next": _next(page, ticket.number, "reject-return"), "next_failed": _next(page, ticket.number, "reject-return", "next_failed")}
    assert form["next"].endswith(f"#returns-{_rows(page, 'returns')[_rows(page, 'returns').index(ticket.number) + 1]}")
    refused = web.post(f"/staff/tickets/{ticket.number}/act/reject-return", data={**form, "reason": " "}, follow_redirects=False)
    assert refused.headers["location"] == f"/staff/console/review?at=returns&failed={ticket.number}#returns-{ticket.number}"
    landed = web.get(refused.headers["location"]).text
    assert landed.count(f'id="returns-{ticket.number}"') == 1, "the row itself is the anchor while it is listed"
    row = re.search(rf'<tr data-ticket="{ticket.number}".*?</tr>', landed, re.S).group(0)
    assert "“驳回退单”未完成" in row, "the error is in the focused row, not at the top of the card out of sight"
    assert _section(landed, "returns").count("“驳回退单”未完成") == 1


def test_an_order_someone_else_decided_first_lands_on_the_error_in_its_place(web, session):
    ticket = make_ticket(session, state="returned")
    make_ticket(session, state="returned")
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    seen = ticket.version
    service.act(session, number=ticket.number, action="approve-return", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=seen))
    session.commit()
    form = {"csrf_token": token(page), "version": str(seen), "next": _next(page, ticket.number, "approve-return"), "next_failed": _next(page, ticket.number, "approve-return", "next_failed")}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/approve-return", data=form, follow_redirects=False)
    assert refused.headers["location"].endswith(f"#returns-{ticket.number}")
    landed = _section(web.get(refused.headers["location"]).text, "returns")
    assert ticket.number not in _rows(landed, "returns")
    anchor = re.search(rf'<div id="returns-{ticket.number}" tabindex="-1">.*?</div>\s*</div>', landed, re.S)
    assert anchor and f"工单 {ticket.number} 刚刚已被处理或更新（可能是您在其他窗口的操作或他人的操作）" in anchor.group(0)


def test_a_routing_dispatch_someone_else_sent_first_lands_on_its_row(web, session, model):
    ticket = register(session, content="你好，我想问一下这个事情怎么办。", address="容桂街道")
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    seen = ticket.version
    service.act(session, number=ticket.number, action="dispatch", actor=actor(session, "t_supervisor"), body=schemas.DispatchIn(version=seen, lead_unit="ronggui"))
    session.commit()
    form = {"csrf_token": token(page), "version": str(seen), "lead_unit": "daliang", "next": _next(page, ticket.number, "dispatch"), "next_failed": _next(page, ticket.number, "dispatch", "next_failed")}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/dispatch", data=form, follow_redirects=False)
    assert refused.headers["location"] == f"/staff/console/review?at=routing-review&failed={ticket.number}#routing-review-{ticket.number}"
    landed = _section(web.get(refused.headers["location"]).text, "routing-review")
    assert re.search(rf'<div id="routing-review-{ticket.number}" tabindex="-1">.*?刚刚已被处理或更新', landed, re.S)
    assert ticket.lead_unit.code == "ronggui"


def test_a_routing_review_row_refiles_the_order_under_another_category_with_its_dispatch(web, session, model):
    """智能分拨待确认's row has the order's 问题分类 preselected; changing it there re-files the order as the order page's 派单 does."""
    ticket, _ = service.create_ticket(session, data=intake(content="路灯不亮，井盖缺失，道路破损，希望尽快处理。", address="容桂街道"), actor=REQUESTER, auto_dispatch=False)
    session.commit()
    login(web, "t_operator")
    page = web.get("/staff/console/review").text
    form = re.search(rf'<form[^>]*action="/staff/tickets/{ticket.number}/act/dispatch".*?</form>', _section(page, "routing-review"), re.S).group(0)
    assert f'<label class="sr-only" for="rv-{ticket.number}-category">问题分类</label>' in form
    chosen = re.search(r'<select name="category_code"[^>]*>.*?</select>', form, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)" selected>', chosen) == ["01"], "the order's category, and only it, is preselected"
    offered = set(re.findall(r'<option value="(\w+)"', chosen))
    level1 = {c.code for c in org.list_categories(session) if c.parent_id is None}
    assert level1 <= offered and "0101" in offered, "every level-1 category, and the sub-categories of the order's own"
    assert "020101" not in offered, "not the whole catalogue in every row: a category further afield is chosen on the order page"
    assert re.search(r'<option value="0101">[^<（]+（城乡建设）</option>', chosen), "a sub-category reads name first: a narrow select cuts the end"

    fields = {"csrf_token": token(page), "version": str(ticket.version), "lead_unit": "RSJ", "category_code": "02", "next": _next(page, ticket.number, "dispatch")}
    done = web.post(f"/staff/tickets/{ticket.number}/act/dispatch", data=fields, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/staff/console/review?at=routing-review")
    session.expire_all()
    assert (ticket.status, ticket.lead_unit.code, ticket.category.code) == ("dispatched", "RSJ", "02")
    decision = session.scalars(select(RoutingDecision).where(RoutingDecision.ticket_id == ticket.id)).one()
    assert decision.corrected_category == "02" and decision.evidence["corrections"][-1]["source"] == "operator"

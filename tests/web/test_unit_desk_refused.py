"""Without JavaScript a refused action typed on 单位工作台 keeps what was typed, as on the order page: the answer is the
desk itself, 422, the order's card first with the reason above it and the form open as typed (a redirect would lose
the text). A plain HTTP client is a browser without JavaScript."""

import html
import re

from sqlalchemy import select

from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from tests.attachments.files import png
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token

REPLY = "经现场核查，桂洲大道东路段路灯控制器故障，已于 12 月 3 日更换；<维修记录> 见附件 & 答复函。\n请您再次确认。"


def _next(page: str, number: str, action: str) -> str:
    form = re.search(rf'<form[^>]*action="/staff/tickets/{number}/act/{action}".*?</form>', page, re.S).group(0)
    return html.unescape(re.search(r'name="next" value="([^"]*)"', form).group(1))


def _cards(page: str) -> list[str]:
    return re.findall(r'<section class="card" data-ticket="([^"]+)"', page)


def _form(page: str, number: str, action: str) -> str:
    return re.search(rf'<details[^>]*><summary>[^<]*</summary><form[^>]*action="/staff/tickets/{number}/act/{action}".*?</form>', page, re.S).group(0)


def test_a_refused_reply_on_the_desk_comes_back_on_its_card_with_the_reason(web, session):
    first, second = make_ticket(session, state="signed"), make_ticket(session, state="signed")
    session.commit()
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    assert _cards(desk)[:2] == [first.number, second.number]
    data = {"csrf_token": token(desk), "version": str(second.version), "content": REPLY, "next": _next(desk, second.number, "reply")}
    refused = web.post(f"/staff/tickets/{second.number}/act/reply", data=data, files=[("files", ("a.png", png(), "image/png"))] * 4, follow_redirects=False)

    assert refused.status_code == 422
    # The card acted on comes first, under the reason: the answer has no anchor to scroll down to it.
    assert _cards(refused.text)[:2] == [second.number, first.number]
    landing = re.search(rf'<div id="t-{second.number}" class="desk-landing".*?</div>\s*</div>', refused.text, re.S).group(0)
    assert "“答复”未完成：最多上传 3 个附件" in landing
    form = _form(refused.text, second.number, "reply")
    assert form.startswith("<details open>")
    assert html.unescape(re.search(r'<textarea name="content"[^>]*>(.*?)</textarea>', form, re.S).group(1)) == REPLY
    # Said on this page, not flashed again on the next one.
    assert "最多上传 3 个附件" not in web.get("/staff/unit?tab=signed").text
    session.refresh(second)
    assert second.status == "signed"

    # Sent again from the page it came back as, it goes through.
    again = web.post(f"/staff/tickets/{second.number}/act/reply", data=data | {"csrf_token": token(refused.text)}, follow_redirects=False)
    assert again.status_code == 303
    session.refresh(second)
    assert second.status == "replied" and second.reply_content == REPLY


def test_a_refused_return_reason_comes_back_typed(web, session):
    ticket = make_ticket(session, state="dispatched")
    session.commit()
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=dispatched").text
    data = {"csrf_token": token(desk), "version": str(ticket.version), "reason": "不", "next": _next(desk, ticket.number, "return")}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/return", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "“退单”未完成：原因至少 2 个字" in html.unescape(refused.text)
    form = _form(refused.text, ticket.number, "return")
    assert form.startswith("<details open>") and re.search(r'<textarea name="reason"[^>]*>不</textarea>', form)


def test_a_reply_beaten_by_a_colleague_shows_what_was_typed_at_the_top(web, session):
    ticket = make_ticket(session, state="signed")
    session.commit()
    login(web, "t_ronggui")
    desk = web.get("/staff/unit?tab=signed").text
    service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=ticket.version, content="已安排维修，路灯已恢复。"))
    session.commit()

    data = {"csrf_token": token(desk), "version": str(ticket.version - 1), "content": REPLY, "next": _next(desk, ticket.number, "reply")}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/reply", data=data, follow_redirects=False)
    assert refused.status_code == 422
    # The order has left 办理中: the reason and the text stand at the top of the desk.
    assert ticket.number not in _cards(refused.text)
    top = refused.text.split('<div class="stats">')[0]
    assert f"“答复”未完成：工单 {ticket.number} 刚刚已被处理或更新" in top
    box = re.search(r'data-kept="reply">.*?</p></div>', top, re.S).group(0)
    assert "您刚才填写的“答复”内容（未提交）" in box and html.unescape(re.search(r'<p class="pre-line">(.*?)</p>', box, re.S).group(1)) == REPLY
    assert session.scalar(select(Ticket.reply_content).where(Ticket.id == ticket.id)) == "已安排维修，路灯已恢复。"

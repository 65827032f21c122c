"""Without JavaScript a refused action typed on the order page keeps what was typed: the answer is the page itself,
422, with the reason at the top and the form open and filled in (a redirect would lose a 10,000-character reply,
which no message cookie holds). A plain HTTP client is a browser without JavaScript."""

import html
import re

from sqlalchemy import select

from baishitong.tickets import schemas, service
from baishitong.tickets.models import Ticket
from tests.attachments.files import png
from tests.conftest import actor
from tests.tickets.factories import make_ticket
from tests.web.test_pages import login, token

# A long reply, with the characters a page must escape, and a line break.
LONG_REPLY = ("经现场核查，桂洲大道东路段路灯控制器故障，已于 12 月 3 日更换；<维修记录> 见附件 & 答复函。\n" * 170)[:9990] + "请您再次确认。"


def _form(page: str, action: str) -> str:
    return re.search(rf'<details[^>]*><summary>[^<]*</summary><form[^>]*data-action-form="{action}".*?</form>', page, re.S).group(0)


def _textarea(form: str, name: str) -> str:
    return html.unescape(re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', form, re.S).group(1))


def test_a_refused_long_reply_comes_back_in_the_form_with_the_reason(web, session):
    ticket = make_ticket(session, state="signed")
    session.commit()
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    data = {"csrf_token": token(page), "version": str(ticket.version), "content": LONG_REPLY, "next": f"/staff/tickets/{ticket.number}"}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/reply", data=data, files=[("files", ("a.png", png(), "image/png"))] * 4, follow_redirects=False)

    assert refused.status_code == 422
    assert "“答复”未完成：最多上传 3 个附件" in refused.text
    form = _form(refused.text, "reply")
    assert form.startswith("<details open>")
    assert _textarea(form, "content") == LONG_REPLY
    # Shown on this page, not flashed again on the next one.
    assert "最多上传 3 个附件" not in web.get(f"/staff/tickets/{ticket.number}").text
    session.refresh(ticket)
    assert ticket.status == "signed"

    # Sent again from the page it came back as, it goes through.
    again = web.post(f"/staff/tickets/{ticket.number}/act/reply", data=data | {"csrf_token": token(refused.text)}, follow_redirects=False)
    assert again.status_code == 303
    session.refresh(ticket)
    assert ticket.status == "replied" and ticket.reply_content == LONG_REPLY


def test_a_refused_reason_comes_back_typed(web, session):
    ticket = make_ticket(session, state="signed")
    session.commit()
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    data = {"csrf_token": token(page), "version": str(ticket.version), "days": "70", "reason": "需协调供电部门现场勘查，等待检测报告", "next": f"/staff/tickets/{ticket.number}"}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/extend", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "“申请延期”未完成" in refused.text
    form = _form(refused.text, "extend")
    assert _textarea(form, "reason") == "需协调供电部门现场勘查，等待检测报告" and 'value="70"' in form


def test_a_refused_dispatch_comes_back_with_the_unit_and_category_chosen(web, session):
    ticket = make_ticket(session)
    session.commit()
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    data = {"csrf_token": token(page), "version": str(ticket.version), "lead_unit": "RSJ", "category_code": "020101", "note": "请核实" * 700, "next": f"/staff/tickets/{ticket.number}"}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/dispatch", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "“派单”未完成" in refused.text
    form = _form(refused.text, "dispatch")
    assert re.search(r'<select name="lead_unit"[^>]*>.*?<option value="RSJ" selected>', form, re.S), "the unit chosen, not the suggestion"
    assert re.findall(r'<option value="(\w+)" selected>', re.search(r'<select name="category_code".*?</select>', form, re.S).group(0)) == ["020101"]


def test_a_reply_beaten_by_a_colleague_shows_what_was_typed_to_copy(web, session):
    ticket = make_ticket(session, state="signed")
    session.commit()
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    stale = ticket.version
    service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=ticket.version, content="已安排维修，路灯已恢复。"))
    session.commit()

    data = {"csrf_token": token(page), "version": str(stale), "content": LONG_REPLY, "next": f"/staff/tickets/{ticket.number}"}
    refused = web.post(f"/staff/tickets/{ticket.number}/act/reply", data=data, follow_redirects=False)
    assert refused.status_code == 422 and "“答复”未完成：工单刚刚已被更新（可能是您在其他窗口的操作或他人的操作）" in refused.text
    assert 'data-action-form="reply"' not in refused.text
    box = re.search(r'data-kept="reply">.*?</p></div>', refused.text, re.S).group(0)
    assert "您刚才填写的“答复”内容（未提交）" in box and html.unescape(re.search(r'<p class="pre-line">(.*?)</p>', box, re.S).group(1)) == LONG_REPLY
    assert session.scalar(select(Ticket.reply_content).where(Ticket.id == ticket.id)) == "已安排维修，路灯已恢复。"


def test_a_refused_plain_button_and_a_refusal_on_a_queue_still_redirect(web, session):
    ticket = make_ticket(session, state="returned")
    session.commit()
    login(web, "t_operator")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    stale = {"csrf_token": token(page), "version": str(ticket.version - 1), "next": f"/staff/tickets/{ticket.number}"}
    assert web.post(f"/staff/tickets/{ticket.number}/act/approve-return", data=stale, follow_redirects=False).status_code == 303
    queue = stale | {"next": "/staff/console/review?at=returns", "reason": "x"}
    assert web.post(f"/staff/tickets/{ticket.number}/act/reject-return", data=queue, follow_redirects=False).headers["location"] == "/staff/console/review?at=returns"

"""话务受理台's 直接答复办结 takes 答复附件 as the order page's 直接答复 does: up to 3 photos or PDF letters, checked the same
way, stored and audited with the answer, and seen by the caller on 进度查询. A file refused is said on the form before
the call is registered, so nothing is closed and the call is still in the form."""

import re

from sqlalchemy import func, select

from baishitong.attachments.models import Attachment
from baishitong.audit.models import AuditEntry
from baishitong.tickets.models import Ticket
from tests.attachments.files import PDF, png
from tests.attachments.test_reply_files import links, track_page
from tests.web.test_console_after import ticket_of
from tests.web.test_pages import login, token

QUESTION = "请问在容桂街道办理居住证需要带什么材料，到哪里办理？"
ANSWER = "您好，办理居住证需携带身份证和租房合同到所在社区服务站申请，详见附件办事指南。"


def answer_call(web, phone: str, files: list, **fields):
    page = web.get("/staff/console").text
    form = re.search(r'<form[^>]*id="intake-form".*?</form>', page, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'hx-params="not files"' in form
    assert re.search(r'<input type="file" name="files" id="f-files"[^>]*data-max-files="3"', form)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token(page), "idempotency_key": key, "type": "咨询", "content": QUESTION, "address": "容桂街道", "phone": phone, "after": "answer", "answer": ANSWER}
    return web.post("/staff/console", data=data | fields, files=[("files", f) for f in files])


def test_a_direct_answer_on_the_console_takes_files_which_the_caller_sees(web, client, session):
    login(web, "t_operator")
    response = answer_call(web, "13800004001", [("窗口.png", png(with_metadata=True), "image/png"), ("办事指南.pdf", PDF, "application/pdf")])
    assert response.status_code == 200
    ticket = ticket_of(session, "13800004001")
    assert f"工单 {ticket.number} 已受理并直接答复办结（答复附件 2 个）" in response.text
    assert ticket.status == "closed" and ticket.reply_content == ANSWER
    rows = session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)).all()
    assert [(r.original_name, r.uploaded_by) for r in rows] == [("窗口.png", "t_operator"), ("办事指南.pdf", "t_operator")]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.answer-attachments", AuditEntry.object_id == ticket.number))
    assert entry.actor == "t_operator" and [f["name"] for f in entry.data["files"]] == ["窗口.png", "办事指南.pdf"]
    # The caller, on 进度查询 and through the API.
    page = track_page(web, ticket, phone="13800004001")
    assert ANSWER in page
    photo, letter = links(page, "/track/files/")
    assert web.get(letter).content == PDF and web.get(photo).content.startswith(b"\x89PNG")
    tracked = client.post("/api/v1/track", json={"number": ticket.number, "phone": "13800004001"}).json()
    assert [f["name"] for f in tracked["reply_files"]] == ["窗口.png", "办事指南.pdf"]


def test_a_bad_file_is_refused_on_the_form_and_nothing_is_registered_or_closed(web, session):
    login(web, "t_operator")
    response = answer_call(web, "13800004002", [("指南.pdf", b"just some text, not a letter", "application/pdf")])
    assert response.status_code == 200
    assert "“指南.pdf”不是 JPEG、PNG、WebP 图片或 PDF 文件" in response.text
    assert ticket_of(session, "13800004002") is None
    assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "closed")) == 0
    # The call is still in the form, the cursor at the files to choose again.
    form = re.search(r'<form[^>]*id="intake-form".*?</form>', response.text, re.S).group(0)
    assert QUESTION in form and ANSWER in form
    assert re.search(r'<input type="file" name="files" id="f-files"[^>]*aria-invalid="true"[^>]*autofocus', form)

    too_many = answer_call(web, "13800004002", [("a.png", png(), "image/png")] * 4)
    assert "最多上传 3 个附件" in too_many.text and ticket_of(session, "13800004002") is None


def test_files_with_another_choice_than_a_direct_answer_are_refused_not_dropped(web, session):
    login(web, "t_operator")
    response = answer_call(web, "13800004003", [("a.png", png(), "image/png")], after="none")
    assert "答复附件只随直接答复办结发给来电人" in response.text
    assert ticket_of(session, "13800004003") is None

"""The upload folder cannot be written (read-only, full, gone): whoever sent files is told so in Chinese, and nothing
of what came with them is kept, neither the citizen's order (nor its messages) nor the unit's answer; once the folder
is writable again the same form goes through."""

import pytest
from sqlalchemy import func, select

from baishitong.attachments import service as attachments
from baishitong.attachments.models import Attachment
from baishitong.jobs.models import OutboxJob
from baishitong.tickets.models import Ticket, TicketEvent
from tests.attachments.files import png
from tests.attachments.test_answer_and_contribution_files import OPINION, act_on_page, consultation
from tests.attachments.test_orphans import _stored
from tests.attachments.test_reply_files import api_reply
from tests.tickets.factories import make_ticket
from tests.web.test_pages import submit_form

CONTENT = "乐从镇水藤社区河涌漂浮大量垃圾，气味很重，附现场照片。"


@pytest.fixture
def unwritable(tmp_path, monkeypatch):
    """The var dir's uploads folder cannot be created or written: a file stands where its parent should be."""
    (tmp_path / "var").write_text("not a directory")
    monkeypatch.setattr(attachments, "upload_dir", lambda _var_dir: tmp_path / "var" / "uploads")


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_citizens_request_with_photos_the_server_cannot_store_comes_back_as_typed_and_registers_nothing(web, session, unwritable, monkeypatch):
    jobs = count(session, OutboxJob)
    form = submit_form(web, content=CONTENT)
    refused = web.post("/submit", data=form, files=[("photos", ("现场.png", png(), "image/png"))], follow_redirects=False)
    assert refused.status_code == 503
    assert attachments.STORAGE_FAILED in refused.text and "提交未成功，照片未保存" in refused.text and CONTENT in refused.text
    assert count(session, Ticket, Ticket.content == CONTENT) == 0
    assert count(session, OutboxJob) == jobs  # no 已受理 message for an order that is not there

    monkeypatch.undo()  # the folder is writable again: the same form, sent again, is registered with its photo
    again = web.post("/submit", data=form, files=[("photos", ("现场.png", png(), "image/png"))], follow_redirects=False)
    assert again.status_code == 303, again.text
    ticket = session.scalar(select(Ticket).where(Ticket.content == CONTENT))
    assert count(session, Attachment, Attachment.ticket_id == ticket.id) == 1


def test_api_files_the_disk_cannot_take_are_refused_with_503_and_none_is_kept(client, login, session, monkeypatch):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    real_write = type(client.app.state.settings.var_dir).write_bytes

    def disk_full(path, data):
        real_write(path, data[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(client.app.state.settings.var_dir), "write_bytes", disk_full)
    before = _stored(client.app.state.settings.var_dir)
    response = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", ("a.png", png(), "image/png"))], headers=login("t_ronggui"))
    assert response.status_code == 503
    assert response.json() == {"error": {"code": "storage_unavailable", "message": attachments.STORAGE_FAILED}}
    assert count(session, Attachment, Attachment.ticket_id == ticket.id) == 0
    assert _stored(client.app.state.settings.var_dir) == before


def test_an_answer_on_the_order_page_whose_files_cannot_be_stored_is_not_given_and_says_why(web, session, unwritable):
    ticket = consultation(session)
    response = act_on_page(web, ticket, "answer", [("a.png", png(), "image/png")], username="t_operator", content=OPINION)
    assert f"“直接办结”未完成：{attachments.STORAGE_FAILED}" in response.text
    assert count(session, TicketEvent, TicketEvent.ticket_id == ticket.id, TicketEvent.action == "answer") == 0
    assert count(session, Attachment, Attachment.ticket_id == ticket.id) == 0

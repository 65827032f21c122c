"""直接答复 and 协办意见 take files as a 答复 does: up to 3 photos (stored without their EXIF/GPS) or PDF letters, on the
order page and through the API's second call, audited. A 直接答复's files reach the requester with the answer; a
协办意见's stay with the lead unit and the centre."""

import re

import pytest
from sqlalchemy import select

from baishitong.attachments.models import Attachment
from baishitong.audit.models import AuditEntry
from baishitong.tickets import schemas, service
from baishitong.tickets.models import TicketEvent
from tests.attachments.files import GPS_MARK, PDF, jpeg_with_gps, png
from tests.attachments.test_reply_files import links, track_page
from tests.conftest import actor
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import login, token

ANSWER = "您好，办理居住证需携带身份证和租房合同到所在社区服务站申请，详见附件办事指南。"
OPINION = "经核查，该路段无违规占道经营，现场照片见附件。"


def act_on_page(web, ticket, action, files, *, username, content):
    login(web, username)
    page = web.get(f"/staff/tickets/{ticket.number}").text
    form = re.search(rf'<form[^>]*data-action-form="{action}".*?</form>', page, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'name="files"' in form and 'data-max-files="3"' in form
    data = {"csrf_token": token(page), "version": ticket.version, "content": content}
    return web.post(f"/staff/tickets/{ticket.number}/act/{action}", data=data, files=[("files", f) for f in files])


def event_files(session, ticket, action):
    event = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action).order_by(TicketEvent.id.desc()))
    return event, session.scalars(select(Attachment).where(Attachment.event_id == event.id).order_by(Attachment.id)).all()


def consultation(session):
    return make_ticket(session, type="咨询", content="请问在容桂街道办理居住证需要带什么材料，到哪里办理？")


def test_a_direct_answer_on_the_page_takes_files_which_the_requester_sees_with_it(web, client, session):
    ticket = consultation(session)
    response = act_on_page(web, ticket, "answer", [("办事指南.pdf", PDF, "application/pdf"), ("窗口.jpg", jpeg_with_gps(), "image/jpeg")], username="t_operator", content=ANSWER)
    assert "已直接办结（附件 2 个）" in response.text
    session.refresh(ticket)
    assert ticket.status == "closed" and ticket.reply_content == ANSWER
    event, rows = event_files(session, ticket, "answer")
    assert [(r.original_name, r.uploaded_by) for r in rows] == [("办事指南.pdf", "t_operator"), ("窗口.jpg", "t_operator")]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.answer-attachments", AuditEntry.object_id == ticket.number))
    assert entry.actor == "t_operator" and entry.data["event"] == event.id and [f["name"] for f in entry.data["files"]] == ["办事指南.pdf", "窗口.jpg"]
    # Staff open them beside the answer in the timeline; the photo has lost its position.
    page = web.get(f"/staff/tickets/{ticket.number}").text
    letter, photo = links(page, "/staff/attachments/")
    assert web.get(letter).content == PDF and GPS_MARK not in web.get(photo).content
    # The requester, on 进度查询 and through the API, as a reply's.
    letter, photo = links(track_page(web, ticket), "/track/files/")
    assert web.get(letter).content == PDF
    tracked = client.post("/api/v1/track", json={"number": ticket.number, "phone": PHONE}).json()
    assert [f["name"] for f in tracked["reply_files"]] == ["办事指南.pdf", "窗口.jpg"]


def test_a_contribution_on_the_page_takes_files_for_the_lead_unit_not_for_the_requester(web, session):
    ticket = make_ticket(session, state="signed")  # lead 容桂, co-handled by 市监局 (t_sjj)
    response = act_on_page(web, ticket, "contribute", [("现场.jpg", jpeg_with_gps(), "image/jpeg")], username="t_sjj", content=OPINION)
    assert "已提交协办意见（附件 1 个）" in response.text
    event, rows = event_files(session, ticket, "contribute")
    assert [(r.original_name, r.uploaded_by) for r in rows] == [("现场.jpg", "t_sjj")]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.contribution-attachments", AuditEntry.object_id == ticket.number))
    assert entry.data["event"] == event.id and [f["name"] for f in entry.data["files"]] == ["现场.jpg"]
    # The lead unit reads the opinion with its photo in the timeline.
    login(web, "t_ronggui")
    page = web.get(f"/staff/tickets/{ticket.number}").text
    item = re.search(r'<li class="timeline-item[^"]*">(?:(?!</li>).)*?协办意见(?:(?!<li class="timeline-item).)*', page, re.S).group(0)
    assert OPINION in item and 'alt="协办意见附件：现场.jpg"' in item and 'aria-label="协办意见附件"' in item
    (photo,) = links(item, "/staff/attachments/")
    assert GPS_MARK not in web.get(photo).content
    # Once the lead unit replies, the requester sees the reply, not the co-unit's files.
    service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=ticket.version, content="路灯已修复。"))
    session.commit()
    assert "/track/files/" not in track_page(web, ticket)


@pytest.mark.parametrize(("action", "username", "label"), [("answer", "t_operator", "直接办结"), ("contribute", "t_sjj", "协办意见")])
def test_a_refused_file_refuses_the_answer_or_contribution_and_nothing_is_stored(web, session, action, username, label):
    ticket = consultation(session) if action == "answer" else make_ticket(session, state="dispatched")
    response = act_on_page(web, ticket, action, [("a.png", png(), "image/png")] * 4, username=username, content=OPINION)
    assert f"“{label}”未完成：最多上传 3 个附件" in response.text
    session.refresh(ticket)
    assert session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)) is None
    assert session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id)) is None


# --- the API ----------------------------------------------------------------


def api_act(client, login, ticket, action, username):
    response = client.post(f"/api/v1/tickets/{ticket.number}/actions/{action}", json={"version": ticket.version, "content": ANSWER if action == "answer" else OPINION}, headers=login(username))
    assert response.status_code == 200, response.text


def test_api_a_direct_answer_then_its_files_by_the_centre_until_the_order_is_archived(client, login, session):
    ticket = consultation(session)
    photo = [("files", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
    early = client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_operator"))
    assert (early.status_code, early.json()["error"]["code"]) == (409, "reply_closed")
    api_act(client, login, ticket, "answer", "t_operator")
    sent = client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_operator"))
    assert sent.status_code == 201 and [(f["name"], f["kind"]) for f in sent.json()] == [("a.jpg", "reply")]
    assert GPS_MARK not in client.get(sent.json()[0]["url"], headers=login("t_operator")).content
    # Another of the centre's staff may add to it; a unit does not see the order, an admin does not answer.
    assert client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_supervisor")).status_code == 201
    assert client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_ronggui")).status_code == 404
    assert client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_admin")).json()["error"]["code"] == "not_reply_unit"
    more = client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo * 2, headers=login("t_operator"))
    assert (more.status_code, more.json()["error"]["message"]) == (422, "每条直接答复最多 3 个附件，已有 2 个")
    tracked = client.post("/api/v1/track", json={"number": ticket.number, "phone": PHONE}).json()
    assert [f["name"] for f in tracked["reply_files"]] == ["a.jpg", "a.jpg"]
    session.refresh(ticket)
    service.act(session, number=ticket.number, action="archive", actor=actor(session, "t_supervisor"), body=schemas.ActionIn(version=ticket.version))
    session.commit()
    late = client.post(f"/api/v1/tickets/{ticket.number}/answer/attachments", files=photo, headers=login("t_operator"))
    assert (late.status_code, late.json()["error"]["message"]) == (409, "只能为直接答复办结、尚未归档的工单补充答复附件")


def test_api_a_contribution_then_its_files_by_that_co_unit_until_the_lead_replies(client, login, session):
    ticket = make_ticket(session, state="signed")
    letter = [("files", ("说明.pdf", PDF, "application/pdf"))]
    early = client.post(f"/api/v1/tickets/{ticket.number}/contribution/attachments", files=letter, headers=login("t_sjj"))
    assert (early.status_code, early.json()["error"]["code"]) == (403, "not_reply_unit")
    api_act(client, login, ticket, "contribute", "t_sjj")
    sent = client.post(f"/api/v1/tickets/{ticket.number}/contribution/attachments", files=letter, headers=login("t_sjj"))
    assert sent.status_code == 201 and [(f["name"], f["kind"]) for f in sent.json()] == [("说明.pdf", "contribution")]
    # The lead unit sees it listed as the co-unit's, but cannot add to another unit's opinion.
    listed = client.get(f"/api/v1/tickets/{ticket.number}/attachments", headers=login("t_ronggui")).json()
    assert [(f["name"], f["kind"]) for f in listed] == [("说明.pdf", "contribution")]
    refused = client.post(f"/api/v1/tickets/{ticket.number}/contribution/attachments", files=letter, headers=login("t_ronggui"))
    assert (refused.status_code, refused.json()["error"]["message"]) == (403, "只有提交协办意见的协办单位可以补充协办意见附件")
    assert client.post(f"/api/v1/tickets/{ticket.number}/contribution/attachments", files=letter * 3, headers=login("t_sjj")).json()["error"]["message"] == "每条协办意见最多 3 个附件，已有 1 个"
    session.refresh(ticket)
    service.act(session, number=ticket.number, action="reply", actor=actor(session, "t_ronggui"), body=schemas.ContentIn(version=ticket.version, content="路灯已修复。"))
    session.commit()
    late = client.post(f"/api/v1/tickets/{ticket.number}/contribution/attachments", files=letter, headers=login("t_sjj"))
    assert (late.status_code, late.json()["error"]["code"]) == (409, "reply_closed")
    assert client.post("/api/v1/track", json={"number": ticket.number, "phone": PHONE}).json()["reply_files"] == []
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.contribution-attachments", AuditEntry.object_id == ticket.number))
    assert entry.actor == "t_sjj" and [f["name"] for f in entry.data["files"]] == ["说明.pdf"]


def test_the_lead_units_reply_form_quotes_each_opinion_with_its_files_on_the_order_page_and_the_desk(web, session):
    ticket = make_ticket(session, state="signed")
    act_on_page(web, ticket, "contribute", [("旧照.png", png(), "image/png")], username="t_sjj", content="初步意见")
    session.refresh(ticket)
    act_on_page(web, ticket, "contribute", [("说明.pdf", PDF, "application/pdf")], username="t_sjj", content=OPINION)
    login(web, "t_ronggui")
    for page in (web.get(f"/staff/tickets/{ticket.number}").text, web.get("/staff/unit?tab=signed").text):
        form = re.search(rf'<form[^>]*/tickets/{ticket.number}/act/reply".*?</form>', page, re.S).group(0)
        quoted = re.search(r"协办单位意见.*?</ul>\s*</div>", form, re.S).group(0)
        # The opinion as revised, with the files sent with it (the first version's stay in the timeline).
        assert OPINION in quoted and "说明.pdf（PDF，1 KB）" in quoted and "旧照.png" not in quoted and 'aria-label="协办意见附件"' in quoted
        (link,) = links(quoted, "/staff/attachments/")
        assert web.get(link).content == PDF

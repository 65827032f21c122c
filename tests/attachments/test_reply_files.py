"""答复附件: a unit's photos and PDF letters sent with its reply, on the form and through the API; who may open them
(the order's staff, supervisors on 回访, the requester after proving the phone; not another unit, not anyone else)."""

import io
import re
import struct

import pytest
from sqlalchemy import delete, func, select
from fastapi.testclient import TestClient
from starlette.datastructures import UploadFile

from baishitong.attachments import service as attachments
from baishitong.attachments.models import Attachment
from baishitong.audit.models import AuditEntry
from baishitong.tickets import schemas, service
from baishitong.org.models import Unit
from baishitong.tickets.models import Ticket, TicketCoUnit, TicketEvent
from tests.attachments.files import GPS_MARK, PDF, jpeg_with_gps, png
from tests.conftest import actor
from tests.tickets.factories import PHONE, make_ticket
from tests.web.test_pages import login, submit_form, token

REPLY = "路灯已于今日修复，现场照片和答复函见附件。"


def reply_on_page(web, ticket, files, *, content=REPLY, username="t_ronggui"):
    """The unit's reply form on the order page, as the browser posts it (multipart with the chosen files)."""
    login(web, username)
    page = web.get(f"/staff/tickets/{ticket.number}").text
    form = re.search(r'<form[^>]*data-action-form="reply".*?</form>', page, re.S).group(0)
    assert 'enctype="multipart/form-data"' in form and 'name="files"' in form
    data = {"csrf_token": token(page), "version": ticket.version, "content": content}
    return web.post(f"/staff/tickets/{ticket.number}/act/reply", data=data, files=[("files", f) for f in files])


def track_page(web, ticket, phone=PHONE):
    web.cookies.clear()
    form = web.get("/track").text
    return web.post("/track", data={"csrf_token": token(form), "number": ticket.number, "phone": phone}).text


def links(page: str, prefix: str) -> list[str]:
    return list(dict.fromkeys(re.findall(rf'href="({re.escape(prefix)}[^"]+)"', page)))


@pytest.fixture
def replied(web, session):
    """A 容桂 order answered on the page with a photo from a phone (EXIF with GPS) and a scanned letter."""
    ticket = make_ticket(session, state="signed")
    response = reply_on_page(web, ticket, [("现场.jpg", jpeg_with_gps(), "image/jpeg"), ("答复函.pdf", PDF, "application/pdf")])
    assert "已答复（附件 2 个）" in response.text
    session.refresh(ticket)
    return ticket


def test_the_reply_form_sends_photos_and_a_pdf_with_the_reply_and_the_audit_trail_names_them(replied, session):
    assert replied.status == "replied" and replied.reply_content == REPLY
    reply = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == replied.id, TicketEvent.action == "reply"))
    rows = session.scalars(select(Attachment).where(Attachment.ticket_id == replied.id).order_by(Attachment.id)).all()
    assert [(r.original_name, r.content_type, r.event_id, r.uploaded_by) for r in rows] == [("现场.jpg", "image/jpeg", reply.id, "t_ronggui"), ("答复函.pdf", "application/pdf", reply.id, "t_ronggui")]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ticket.reply-attachments", AuditEntry.object_id == replied.number))
    assert [f["name"] for f in entry.data["files"]] == ["现场.jpg", "答复函.pdf"] and entry.data["event"] == reply.id


def test_the_photo_is_stored_without_its_gps_and_the_pdf_as_sent(replied, web):
    page = web.get(f"/staff/tickets/{replied.number}").text
    photo, letter = links(page, "/staff/attachments/")
    assert GPS_MARK not in web.get(photo).content and web.get(photo).content.startswith(b"\xff\xd8")
    assert web.get(letter).content == PDF and web.get(letter).headers["content-type"] == "application/pdf"


def test_the_timeline_shows_the_files_beside_the_reply(replied, web):
    page = web.get(f"/staff/tickets/{replied.number}").text
    reply_item = re.search(r'<li class="timeline-item[^"]*">(?:(?!</li>).)*?答复(?:(?!<li class="timeline-item).)*', page, re.S).group(0)
    assert REPLY in reply_item and 'alt="答复附件：现场.jpg"' in reply_item and "答复函.pdf（PDF，1 KB）" in reply_item


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("a.png", png(), "image/png")] * 4, "最多上传 3 个附件"),
        # Past what the form parser stores (5), as a browser without JavaScript sends a whole folder chosen.
        ([("a.png", png(), "image/png")] * 12, "最多上传 3 个附件"),
        ([("说明.docx", b"PK\x03\x04 a word file", "application/pdf")], "“说明.docx”不是 JPEG、PNG、WebP 图片或 PDF 文件"),
        ([("坏图.jpg", b"\xff\xd8\xff\xe0 cut short", "image/jpeg")], "图片“坏图.jpg”已损坏或不完整"),
    ],
)
def test_a_refused_file_refuses_the_reply_with_its_reason_and_nothing_is_stored(web, session, files, message):
    ticket = make_ticket(session, state="signed")
    response = reply_on_page(web, ticket, files)
    assert f"“答复”未完成：{message}" in response.text
    # The form is there again for the typed text, which app.js puts back after a refusal (test_action_drafts).
    assert 'data-action-form="reply"' in response.text
    session.refresh(ticket)
    assert ticket.status == "signed" and session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id)) is None


def test_a_file_over_the_size_limit_is_named(web, session, app):
    app.state.settings.upload_max_bytes = 1024 * 1024
    ticket = make_ticket(session, state="signed")
    response = reply_on_page(web, ticket, [("扫描件.pdf", PDF + b"\0" * (1024 * 1024), "application/pdf")])
    assert "“答复”未完成：附件“扫描件.pdf”超过 1 MB，请压缩后再上传" in response.text


def test_the_order_staff_and_supervisors_open_the_files_another_unit_and_strangers_do_not(replied, web):
    photo = links(web.get(f"/staff/tickets/{replied.number}").text, "/staff/attachments/")[0]
    for username in ("t_ronggui2", "t_supervisor", "t_operator"):
        login(web, username)
        assert web.get(photo).status_code == 200, username
    login(web, "t_daliang")
    assert web.get(photo).status_code == 404
    web.cookies.clear()
    assert web.get(photo, follow_redirects=False).headers["location"].startswith("/staff/login")


def test_supervisors_judge_the_reply_with_its_files_on_the_callback_queue_and_the_review_of_unhappy_callbacks(replied, web, session):
    login(web, "t_supervisor")
    queue = web.get("/staff/console/callback").text
    row = re.search(rf'<tr data-ticket="{replied.number}"[^>]*>.*?</tr>', queue, re.S).group(0)
    assert len(links(row, "/staff/attachments/")) == 2
    service.act(session, number=replied.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=replied.version, solved=False, satisfaction="不满意"))
    session.commit()
    desk = web.get("/staff/supervise").text
    unhappy = desk[desk.index('id="unhappy"') :]
    row = re.search(rf'<tr data-ticket="{replied.number}"[^>]*>.*?</tr>', unhappy, re.S).group(0)
    assert "data-reply" in row and len(links(row, "/staff/attachments/")) == 2


def altered(link: str) -> str:
    """The link with one character of its signature changed; not the last, whose low bits are base64 padding
    that decodes to the same bytes whatever they are."""
    at = len(link) - 10
    return link[:at] + ("A" if link[at] != "A" else "B") + link[at + 1 :]


def test_the_requester_sees_the_reply_files_after_proving_the_phone_but_never_the_photos_of_the_request(replied, web, session):
    assert "/track/files/" not in track_page(web, replied, phone="13900000000")
    page = track_page(web, replied)
    photo, letter = links(page, "/track/files/")
    assert 'alt="答复附件：现场.jpg"' in page and "答复函.pdf" in page
    assert GPS_MARK not in web.get(photo).content and web.get(letter).content == PDF
    assert PHONE not in photo and PHONE not in letter
    # A link altered by one character, or made up, opens nothing.
    forged = altered(photo)
    assert web.get(forged).status_code == 404 and web.get("/track/files/1").status_code == 404


def test_a_requester_link_stops_working_when_it_expires_and_when_the_reply_is_redone(replied, web, session, monkeypatch):
    photo = links(track_page(web, replied), "/track/files/")[0]
    monkeypatch.setattr(attachments, "LINK_MINUTES", -1)
    assert "附件链接已失效" in web.get(photo).text
    monkeypatch.undo()
    assert web.get(photo).status_code == 200
    service.act(session, number=replied.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=replied.version, solved=False, satisfaction="不满意"))
    service.act(session, number=replied.number, action="redo", actor=actor(session, "t_supervisor"), body=schemas.ReasonIn(version=replied.version, reason="路灯仍不亮"))
    session.commit()
    assert web.get(photo).status_code == 404
    assert "/track/files/" not in track_page(web, replied)


def test_the_photos_sent_with_the_request_stay_off_the_requesters_page(web, session):
    ticket = make_ticket(session, state="replied")
    photos, error = attachments.check_images([UploadFile(io.BytesIO(png()), filename="现场.png")], max_bytes=1024 * 1024)
    assert error is None
    attachments.store(session, ticket=ticket, files=photos, var_dir=web.app.state.settings.var_dir, uploaded_by="requester")
    session.commit()
    assert "/track/files/" not in track_page(web, ticket)


# --- the API ----------------------------------------------------------------


def api_reply(client, login, ticket, *, username="t_ronggui"):
    response = client.post(f"/api/v1/tickets/{ticket.number}/actions/reply", json={"version": ticket.version, "content": REPLY}, headers=login(username))
    assert response.status_code == 200, response.text


def test_api_reply_then_its_files_and_staff_list_and_open_them(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    sent = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", ("现场.jpg", jpeg_with_gps(), "image/jpeg")), ("files", ("函.pdf", PDF, "application/pdf"))], headers=login("t_ronggui2"))
    assert sent.status_code == 201, sent.text
    assert [(f["kind"], f["name"], f["content_type"]) for f in sent.json()] == [("reply", "现场.jpg", "image/jpeg"), ("reply", "函.pdf", "application/pdf")]
    listed = client.get(f"/api/v1/tickets/{ticket.number}/attachments", headers=login("t_supervisor")).json()
    assert [f["id"] for f in listed] == [f["id"] for f in sent.json()]
    photo = client.get(listed[0]["url"], headers=login("t_supervisor"))
    assert photo.status_code == 200 and GPS_MARK not in photo.content
    assert client.get(listed[0]["url"], headers=login("t_daliang")).status_code == 404
    assert client.get(listed[0]["url"]).status_code == 401
    # The requester's progress, through the API too, with links that open for them.
    tracked = client.post("/api/v1/track", json={"number": ticket.number, "phone": PHONE}).json()
    assert [f["name"] for f in tracked["reply_files"]] == ["现场.jpg", "函.pdf"]
    assert client.get(tracked["reply_files"][1]["url"]).content == PDF


@pytest.mark.parametrize(
    ("username", "status", "code"),
    [("t_daliang", 404, "ticket_not_found"), ("t_operator", 403, "not_reply_unit"), ("t_sjj", 403, "not_reply_unit")],
)
def test_api_only_the_unit_that_replied_adds_files(client, login, session, username, status, code):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    response = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", ("a.png", png(), "image/png"))], headers=login(username))
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_api_files_are_refused_before_a_reply_after_the_callback_and_past_three(client, login, session):
    ticket = make_ticket(session, state="signed")
    photo = [("files", ("a.png", png(), "image/png"))]
    early = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=photo, headers=login("t_ronggui"))
    assert (early.status_code, early.json()["error"]["code"]) == (409, "reply_closed")
    api_reply(client, login, ticket)
    assert client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=photo * 2, headers=login("t_ronggui")).status_code == 201
    more = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=photo * 2, headers=login("t_ronggui"))
    assert more.status_code == 422 and more.json()["error"]["message"] == "每条答复最多 3 个附件，已有 2 个"
    wrong = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", ("a.txt", b"plain text", "image/png"))], headers=login("t_ronggui"))
    assert (wrong.status_code, wrong.json()["error"]["message"]) == (422, "“a.txt”不是 JPEG、PNG、WebP 图片或 PDF 文件")
    session.refresh(ticket)
    service.act(session, number=ticket.number, action="callback", actor=actor(session, "t_operator"), body=schemas.CallbackIn(version=ticket.version, solved=True, satisfaction="满意"))
    session.commit()
    late = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=photo, headers=login("t_ronggui"))
    assert (late.status_code, late.json()["error"]["code"]) == (409, "reply_closed")


def test_a_merged_callers_progress_shows_the_masters_reply_files(web, session):
    duplicate = make_ticket(session, state="registered", requester={"name": "李女士", "phone": "13900001111"})
    master = make_ticket(session, state="signed")
    service.act(session, number=duplicate.number, action="merge", actor=actor(session, "t_operator"), body=schemas.MergeIn(version=duplicate.version, into=master.number))
    session.commit()
    reply_on_page(web, master, [("修复后.png", png(), "image/png")])
    page = track_page(web, duplicate, phone="13900001111")
    (photo,) = links(page, "/track/files/")
    assert web.get(photo).content == png()


def test_api_a_retried_upload_with_the_same_key_adds_nothing(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    url, photo = f"/api/v1/tickets/{ticket.number}/reply/attachments", [("files", ("a.png", png(), "image/png"))]
    headers = login("t_ronggui") | {"Idempotency-Key": "photo-1"}
    first = client.post(url, files=photo, headers=headers)
    again = client.post(url, files=photo, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    assert len(client.get(f"/api/v1/tickets/{ticket.number}/attachments", headers=login("t_ronggui")).json()) == 1
    other = client.post(url, files=[("files", ("b.png", png(rgb=(1, 2, 3)), "image/png"))], headers=headers)
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")


def test_api_a_retried_upload_shows_nothing_to_a_caller_who_can_no_longer_see_the_order(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    url, photo = f"/api/v1/tickets/{ticket.number}/reply/attachments", [("files", ("a.png", png(), "image/png"))]
    headers = login("t_ronggui") | {"Idempotency-Key": "photo-moved"}
    assert client.post(url, files=photo, headers=headers).status_code == 201
    session.refresh(ticket)
    ticket.lead_unit_id, ticket.sub_unit_id = session.scalar(select(Unit.id).where(Unit.code == "daliang")), None  # gone to 大良
    session.execute(delete(TicketCoUnit).where(TicketCoUnit.ticket_id == ticket.id))
    session.commit()
    again = client.post(url, files=photo, headers=headers)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "ticket_not_found"), "no file names or links of an order gone elsewhere"


def _huge_png(width: int, height: int) -> bytes:
    """A PNG's header declaring a size its few bytes of data never fill: what a browser would try to allocate."""
    clean = png()
    return clean[:16] + struct.pack(">II", width, height) + clean[24:]


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (("空.jpg", b"", "image/jpeg"), "“空.jpg”是空文件（0 字节），请重新选择"),
        (("巨图.png", _huge_png(30000, 30000), "image/png"), "图片“巨图.png”尺寸过大（30000×30000 像素），请缩小后再上传"),
        (("函.pdf", PDF[:-8], "application/pdf"), "PDF 文件“函.pdf”不完整，请重新导出后再上传"),
        (("无图.jpg", b"\xff\xd8" + jpeg_with_gps()[2:].split(b"\xff\xda")[0] + b"\xff\xd9", "image/jpeg"), "图片“无图.jpg”已损坏或不完整，请重新导出后再上传"),
    ],
)
def test_api_an_empty_a_huge_or_a_cut_short_file_is_refused_naming_it(client, login, session, file, message):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    response = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", file)], headers=login("t_ronggui"))
    assert (response.status_code, response.json()["error"]["message"]) == (422, message)


def test_a_requests_photo_declaring_a_huge_size_is_refused_too():
    photos, error = attachments.check_images([UploadFile(io.BytesIO(_huge_png(20000, 20000)), filename="a.png")], max_bytes=1024 * 1024)
    assert (photos, error) == ([], "图片“a.png”尺寸过大（20000×20000 像素），请缩小后再上传")


def test_api_a_file_is_listed_under_its_own_name_with_the_suffix_of_what_it_holds(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    files = [("files", ("现场.pdf", png(), "application/pdf")), ("files", ("C:\\fakepath\\答复函", PDF, "application/pdf")), ("files", ("IMG_1.JPEG", jpeg_with_gps(), "image/jpeg"))]
    sent = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=files, headers=login("t_ronggui"))
    assert [f["name"] for f in sent.json()] == ["现场.png", "答复函.pdf", "IMG_1.JPEG"]
    photo = client.get(sent.json()[0]["url"], headers=login("t_ronggui"))
    assert photo.headers["content-type"] == "image/png" and "%E7%8E%B0%E5%9C%BA.png" in photo.headers["content-disposition"]


def test_api_an_order_number_typed_in_lower_case_is_the_same_idempotency_target(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    headers, photo = login("t_ronggui") | {"Idempotency-Key": "photo-case"}, [("files", ("a.png", png(), "image/png"))]
    first = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=photo, headers=headers)
    again = client.post(f"/api/v1/tickets/{ticket.number.lower()}/reply/attachments", files=photo, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(client.get(f"/api/v1/tickets/{ticket.number}/attachments", headers=headers).json()) == 1


def test_a_file_missing_from_the_disk_is_a_404_not_a_server_error(replied, web, session):
    photo = links(web.get(f"/staff/tickets/{replied.number}").text, "/staff/attachments/")[0]
    row = session.scalar(select(Attachment).where(Attachment.ticket_id == replied.id).order_by(Attachment.id))
    (attachments.upload_dir(web.app.state.settings.var_dir) / row.stored_name).unlink()
    response = web.get(photo)
    assert response.status_code == 404 and "附件文件已丢失" in response.text


def _downloads(session, ticket):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.reply-file-download", AuditEntry.object_id == ticket.number).order_by(AuditEntry.id)).all()


def test_each_requester_download_is_in_the_audit_trail_and_staff_views_are_not(replied, web, session):
    staff_photo = links(web.get(f"/staff/tickets/{replied.number}").text, "/staff/attachments/")[0]
    assert web.get(staff_photo).status_code == 200
    assert _downloads(session, replied) == []
    photo, letter = links(track_page(web, replied), "/track/files/")
    for link in (photo, letter, photo):
        assert web.get(link).status_code == 200
    rows = _downloads(session, replied)
    names = {a.id: a.original_name for a in attachments.reply_files(session, ticket=replied)}
    assert [(r.actor, names[r.data["file"]], r.data["name"]) for r in rows] == [("requester", "现场.jpg", "现场.jpg"), ("requester", "答复函.pdf", "答复函.pdf"), ("requester", "现场.jpg", "现场.jpg")]
    # The address is comparable between downloads, but not there in clear; the link's age says when it was used.
    assert len({r.data["client"] for r in rows}) == 1 and all(r.data["client"] != "testclient" and re.fullmatch(r"[0-9a-f]{16}", r.data["client"]) for r in rows)
    assert all(r.data["link_age_minutes"] == 0 for r in rows) and all(PHONE not in str(r.data) for r in rows)


def _views(session, ticket):
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.reply-files-view", AuditEntry.object_id == ticket.number).order_by(AuditEntry.id)).all()


def images(page: str) -> list[str]:
    return re.findall(r'<img src="(/track/files/[^"]+)"', page)


def test_a_view_of_the_progress_page_is_one_audit_row_naming_the_photos_drawn_however_many_the_browser_fetches(replied, web, session):
    page = track_page(web, replied)
    drawn = images(page)
    # The browser fetches each photo the page draws, and again on a reload (they are never cached).
    for src in drawn * 2:
        assert web.get(src).status_code == 200
    (view,) = _views(session, replied)
    assert view.actor == "requester" and [f["name"] for f in view.data["files"]] == ["现场.jpg"]
    assert re.fullmatch(r"[0-9a-f]{16}", view.data["client"]) and PHONE not in str(view.data)
    assert _downloads(session, replied) == []
    # Opening the photo or the letter through its link is a download, audited each time as before.
    photo, letter = links(page, "/track/files/")
    assert photo not in drawn and web.get(photo).status_code == 200 and web.get(letter).status_code == 200
    assert [r.data["name"] for r in _downloads(session, replied)] == ["现场.jpg", "答复函.pdf"]
    track_page(web, replied)
    assert len(_views(session, replied)) == 2


def test_a_photo_drawn_on_the_page_but_opened_from_another_address_is_audited_as_a_download(replied, web, session, app):
    (src,) = images(track_page(web, replied))
    with TestClient(app, client=("203.0.113.9", 50000)) as elsewhere:
        assert elsewhere.get(src).status_code == 200
    (row,) = _downloads(session, replied)
    assert row.data["name"] == "现场.jpg" and row.data["client"] != _views(session, replied)[0].data["client"]


def test_a_link_that_opens_nothing_writes_nothing(replied, web, session, monkeypatch):
    photo = links(track_page(web, replied), "/track/files/")[0]
    monkeypatch.setattr(attachments, "LINK_MINUTES", -1)
    assert web.get(photo).status_code == 404 and web.get(altered(photo)).status_code == 404
    assert _downloads(session, replied) == []


def test_the_request_form_refuses_too_many_photos_beside_the_field_keeping_what_was_typed(web, session):
    data = submit_form(web)
    page = web.post("/submit", data=data, files=[("photos", (f"{i}.png", png(), "image/png")) for i in range(8)])
    assert page.status_code == 200 and "最多上传 3 张照片" in page.text
    assert data["content"] in page.text and data["address"] in page.text
    assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.content == data["content"])) == 0


def test_a_file_far_over_the_limit_is_refused_without_being_stored_in_full(web, session, app, monkeypatch):
    app.state.settings.upload_max_bytes = 1024 * 1024
    received = []
    real = attachments.check_images

    def spy(photos, *, max_bytes):
        received.extend(p.size for p in photos)
        return real(photos, max_bytes=max_bytes)

    monkeypatch.setattr(attachments, "check_images", spy)
    data = submit_form(web)
    page = web.post("/submit", data=data, files={"photos": ("大图.png", png() + b"\0" * (8 * 1024 * 1024), "image/png")})
    assert "照片“大图.png”超过 1 MB，请压缩后再上传" in page.text and data["content"] in page.text
    assert received == [1024 * 1024 + 1]


def test_a_refusal_names_the_file_without_the_folder_a_browser_sent(client, login, session):
    ticket = make_ticket(session, state="signed")
    api_reply(client, login, ticket)
    response = client.post(f"/api/v1/tickets/{ticket.number}/reply/attachments", files=[("files", ("C:\\fakepath\\说明.docx", b"PK\x03\x04", "application/pdf"))], headers=login("t_ronggui"))
    assert response.json()["error"]["message"] == "“说明.docx”不是 JPEG、PNG、WebP 图片或 PDF 文件"

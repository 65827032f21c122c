"""Attachments of a work order through the API: a unit's files for the 答复 it just sent (the centre's for its 直接答复,
a co-unit's for its 协办意见), and the order's files for staff.

A 答复 with files is two calls: `POST .../actions/reply` (JSON, as every action) and then
`POST .../reply/attachments` (multipart, `files`), which adds them to that reply until the callback. So are
`actions/answer` then `answer/attachments`, and `actions/contribute` then `contribution/attachments`.
"""

import hashlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.attachments import service
from baishitong.attachments.models import Attachment
from baishitong.attachments.schemas import AttachmentOut
from baishitong.config import Settings
from baishitong.deps import current_actor, get_db_session, get_settings
from baishitong.errors import NotFound
from baishitong.tickets import service as tickets
from baishitong.tickets.models import TicketEvent

router = APIRouter(prefix="/api/v1", tags=["工单"])


def file_response(var_dir: Path, row: Attachment) -> FileResponse:
    """The stored file under its own name, shown in the browser (an image, a PDF), never cached on the way."""
    path = service.upload_dir(var_dir) / row.stored_name
    if not path.is_file():  # FileResponse would only find out while sending it, as a 500
        raise NotFound("attachment_file_missing", "附件文件已丢失，请联系系统管理员")
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.original_name,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


def _out(number: str, row: Attachment, action: str | None) -> AttachmentOut:
    """`action`: the event's the file came with (None for the request's photos)."""
    kind = "intake" if action is None else "contribution" if action == "contribute" else "reply"
    return AttachmentOut(
        id=row.id, kind=kind, event_id=row.event_id, name=row.original_name, content_type=row.content_type, size=row.size,
        created_at=row.created_at, url=f"/api/v1/tickets/{number}/attachments/{row.id}",
    )


class ReplyFilesIn(BaseModel):
    """The multipart body, named so clients generated from the OpenAPI document get a type of their own."""

    files: list[UploadFile] = Field(description=f"JPEG, PNG, WebP or PDF; at most {service.MAX_REPLY_FILES} a reply, each within BAISHITONG_UPLOAD_MAX_BYTES")


def _add_files(session: Session, settings: Settings, response: Response, *, number: str, action: str, upload: ReplyFilesIn, actor: Actor, idempotency_key: str | None) -> list[AttachmentOut]:
    checked = service.check_reply_files(upload.files, max_bytes=settings.upload_max_bytes)
    scope = idempotency.scope(f"attachments.{action}", target=number.strip().upper(), actor=actor)  # as get_ticket reads it
    body = {"files": [[f.name, hashlib.sha256(f.data).hexdigest()] for f in checked]}
    if (stored := idempotency.replayed(session, scope=scope, key=idempotency_key, body=body)) is not None:
        ticket = tickets.get_ticket(session, number=number, actor=actor)
        ids = [int(i) for i in stored.split(",")]
        response.status_code = 200
        rows = session.scalars(select(Attachment).where(Attachment.id.in_(ids), Attachment.ticket_id == ticket.id).order_by(Attachment.id))
        return [_out(ticket.number, row, action) for row in rows]
    rows = service.add_to_event(session, number=number, action=action, actor=actor, files=checked, var_dir=settings.var_dir)
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=",".join(str(r.id) for r in rows))
    return [_out(number, row, action) for row in rows]


@router.post("/tickets/{number}/reply/attachments", status_code=201, response_model=list[AttachmentOut], responses=idempotency.replayed_response(list[AttachmentOut]))
def add_reply_files(
    number: str,
    upload: Annotated[ReplyFilesIn, File()],
    response: Response,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
    idempotency_key: idempotency.Key = None,
):
    """Files for the order's 答复: by the unit that replied, while it awaits the callback. Images are stored without
    their EXIF (GPS). The requester sees them with the reply on 进度查询; staff who may see the order, in its events.
    A retry with the same Idempotency-Key and files answers 200 with the files the first one stored, adding none,
    to a caller who can still see the order (it may have gone to another unit since)."""
    return _add_files(session, settings, response, number=number, action="reply", upload=upload, actor=actor, idempotency_key=idempotency_key)


@router.post("/tickets/{number}/answer/attachments", status_code=201, response_model=list[AttachmentOut], responses=idempotency.replayed_response(list[AttachmentOut]))
def add_answer_files(
    number: str,
    upload: Annotated[ReplyFilesIn, File()],
    response: Response,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
    idempotency_key: idempotency.Key = None,
):
    """Files for the order's 直接答复 (`actions/answer`): by the centre's staff, until the order is archived; at most
    3 with it, as a 答复. Images are stored without their EXIF (GPS). The requester sees them with the answer on
    进度查询; staff who may see the order, in its events.
    A retry with the same Idempotency-Key and files answers 200 with the files the first one stored, adding none,
    to a caller who can still see the order (it may have gone to another unit since)."""
    return _add_files(session, settings, response, number=number, action="answer", upload=upload, actor=actor, idempotency_key=idempotency_key)


@router.post("/tickets/{number}/contribution/attachments", status_code=201, response_model=list[AttachmentOut], responses=idempotency.replayed_response(list[AttachmentOut]))
def add_contribution_files(
    number: str,
    upload: Annotated[ReplyFilesIn, File()],
    response: Response,
    actor: Actor = Depends(current_actor),
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
    idempotency_key: idempotency.Key = None,
):
    """Files for the caller's unit's latest 协办意见 (`actions/contribute`): by that co-unit, until the lead unit
    replies; at most 3 with it. Images are stored without their EXIF (GPS). Staff who may see the order see them in
    its events (`kind` contribution); the requester does not.
    A retry with the same Idempotency-Key and files answers 200 with the files the first one stored, adding none,
    to a caller who can still see the order (it may have gone to another unit since)."""
    return _add_files(session, settings, response, number=number, action="contribute", upload=upload, actor=actor, idempotency_key=idempotency_key)


@router.get("/tickets/{number}/attachments", response_model=list[AttachmentOut])
def list_files(number: str, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session)):
    """The requester's photos (`intake`), every 答复's and 直接答复's files (`reply`) and every 协办意见's
    (`contribution`), each with the event it came with."""
    ticket = tickets.get_ticket(session, number=number, actor=actor)
    rows = session.execute(select(Attachment, TicketEvent.action).outerjoin(TicketEvent, TicketEvent.id == Attachment.event_id).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id))
    return [_out(ticket.number, row, action) for row, action in rows]


@router.get("/tickets/{number}/attachments/{attachment_id}", response_class=FileResponse)
def download(number: str, attachment_id: int, actor: Actor = Depends(current_actor), session: Session = Depends(get_db_session), settings: Settings = Depends(get_settings)):
    ticket = tickets.get_ticket(session, number=number, actor=actor)
    row = session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        raise NotFound("attachment_not_found", "附件不存在")
    return file_response(settings.var_dir, row)

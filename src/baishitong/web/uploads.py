"""Photos attached to requests: checked by content, stored under random names, served only to staff who may see the ticket."""

import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from baishitong.deps import get_db_session
from baishitong.errors import NotFound
from baishitong.tickets import service as tickets
from baishitong.tickets.models import Ticket
from baishitong.web.auth import Staff, current_staff
from baishitong.web.models import Attachment

router = APIRouter(include_in_schema=False)

MAX_PHOTOS = 3
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


@dataclass
class CheckedImage:
    name: str
    content_type: str
    suffix: str
    data: bytes


def sniff(head: bytes) -> tuple[str, str] | None:
    """The image type by magic bytes; the browser's claimed type is not trusted."""
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def check_images(files: list[UploadFile], *, max_bytes: int) -> tuple[list[CheckedImage], str | None]:
    if len(files) > MAX_PHOTOS:
        return [], f"最多上传 {MAX_PHOTOS} 张照片"
    checked = []
    for upload in files:
        data = upload.file.read(max_bytes + 1)
        if len(data) > max_bytes:
            return [], f"照片“{upload.filename}”超过 {max_bytes // (1024 * 1024)} MB，请压缩后再上传"
        kind = sniff(data[:16])
        if kind is None:
            return [], f"“{upload.filename}”不是 JPEG、PNG 或 WebP 图片"
        checked.append(CheckedImage(name=(upload.filename or "photo")[:200], content_type=kind[0], suffix=kind[1], data=data))
    return checked, None


def upload_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "uploads"


def store(session: Session, *, ticket: Ticket, images: list[CheckedImage], var_dir: Path, uploaded_by: str) -> list[Attachment]:
    folder = upload_dir(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for image in images:
        stored = secrets.token_hex(16) + image.suffix
        (folder / stored).write_bytes(image.data)
        row = Attachment(ticket_id=ticket.id, stored_name=stored, original_name=image.name, content_type=image.content_type, size=len(image.data), uploaded_by=uploaded_by)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def for_ticket(session: Session, *, ticket: Ticket) -> list[Attachment]:
    return list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)))


@router.get("/staff/attachments/{attachment_id}")
def download(attachment_id: int, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("attachment_not_found", "附件不存在")
    ticket = session.get(Ticket, row.ticket_id)
    tickets.get_ticket(session, number=ticket.number, actor=staff.actor)
    return FileResponse(upload_dir(request.app.state.settings.var_dir) / row.stored_name, media_type=row.content_type, headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

"""Files of a work order: the requester's photos sent with the request, and a unit's photos and letters (PDF)
sent with its 答复. Checked by content (the browser's claimed type is not trusted), stored under random
names in the var dir; every image is stored without its metadata (attachments.metadata): a citizen's phone
photo would otherwise keep where and when it was taken and the camera's serial number."""

import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.event import listens_for
from sqlalchemy.orm import Session, SessionTransaction
from starlette.datastructures import UploadFile

from baishitong.audit import service as audit
from baishitong.actors import REQUESTER, Actor
from baishitong.attachments import metadata
from baishitong.attachments.models import Attachment
from baishitong.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from baishitong.security import keyed_tag
from baishitong.tickets import service as tickets
from baishitong.tickets.models import Ticket, TicketEvent
from baishitong.tickets.states import TRANSITIONS, Status

log = logging.getLogger(__name__)

MAX_PHOTOS = 3  # with a request
MAX_REPLY_FILES = 3  # with one 答复 (直接答复, 协办意见)
# The events whose form takes files, each with the audit action that names them. The requester reads those of the
# order's 答复 (a unit's reply or the centre's 直接答复); a co-unit's 协办意见 is for the lead unit and the centre.
FILE_ACTIONS = {"reply": "ticket.reply-attachments", "answer": "ticket.answer-attachments", "contribute": "ticket.contribution-attachments"}
REPLY_ACTIONS = ("reply", "answer")
_NOUNS = {"reply": "答复", "answer": "直接答复", "contribute": "协办意见"}
PDF = "application/pdf"
# How long a link on the requester's progress page opens its file: a page left open longer is queried again.
LINK_MINUTES = 30
# What a browser is asked to draw: a photo from a 108-megapixel phone passes, a PNG of a few hundred KB declaring
# 30,000 × 30,000 pixels (gigabytes once decoded, on the requester's phone too) does not.
MAX_PIXELS = 120_000_000
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
# The suffixes a file of each type may go by.
_SUFFIXES = {"image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"}, "image/png": {".png"}, "image/webp": {".webp"}, PDF: {".pdf"}}


@dataclass
class CheckedFile:
    name: str
    content_type: str
    suffix: str
    data: bytes


def sniff(head: bytes, *, pdf: bool = False) -> tuple[str, str] | None:
    """The type by magic bytes: JPEG, PNG or WebP, and PDF where `pdf` allows it."""
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if pdf and head.startswith(b"%PDF-"):
        return PDF, ".pdf"
    return None


def _display_name(filename: str | None, *, noun: str, content_type: str, suffix: str) -> str:
    """The name the file is listed and saved under: without a client's folder (C:\\fakepath\\…), and ending in its
    type's suffix, so that what a reader saves opens as what it is (现场.pdf holding a JPEG becomes 现场.jpg)."""
    path = PureWindowsPath(PureWindowsPath(filename or "").name.strip() or noun)  # either slash separates folders
    stem = path.stem if path.suffix else path.name
    ext = path.suffix if path.suffix.lower() in _SUFFIXES[content_type] else suffix
    return stem[: 200 - len(ext)] + ext


def _read(files: list[UploadFile], *, max_bytes: int, max_count: int, reply: bool) -> list[CheckedFile]:
    count, noun = ("个附件", "附件") if reply else ("张照片", "照片")
    if len(files) > max_count:
        raise InvalidInput("too_many_files", f"最多上传 {max_count} {count}")
    checked = []
    for upload in files:
        name = (PureWindowsPath(upload.filename or "").name or noun)[:200]  # without the folder some browsers send
        data = upload.file.read(max_bytes + 1)
        if not data:
            raise InvalidInput("file_empty", f"“{name}”是空文件（0 字节），请重新选择")
        if len(data) > max_bytes:
            raise InvalidInput("file_too_large", f"{noun}“{name}”超过 {max_bytes // (1024 * 1024)} MB，请压缩后再上传")
        kind = sniff(data[:16], pdf=reply)
        if kind is None:
            raise InvalidInput("file_type_not_allowed", f"“{name}”不是 JPEG、PNG、WebP 图片或 PDF 文件" if reply else f"“{name}”不是 JPEG、PNG 或 WebP 图片")
        if kind[0] == PDF:
            # A PDF ends with %%EOF (readers allow some bytes after it); without one the upload was cut short.
            if b"%%EOF" not in data[-1024:]:
                raise InvalidInput("file_unreadable", f"PDF 文件“{name}”不完整，请重新导出后再上传")
        else:
            # Every image is stored without its metadata, so one that does not parse cannot be stored at all.
            unreadable = f"图片“{name}”已损坏或不完整，请重新导出后再上传" if reply else f"照片“{name}”已损坏或不完整，请重新拍摄或选择"
            size = metadata.dimensions(data, kind[0])
            if size is None or 0 in size:
                raise InvalidInput("file_unreadable", unreadable)
            if size[0] * size[1] > MAX_PIXELS:
                raise InvalidInput("image_too_large", f"图片“{name}”尺寸过大（{size[0]}×{size[1]} 像素），请缩小后再上传")
            try:
                data = metadata.strip(data, kind[0])
            except metadata.Unreadable:
                raise InvalidInput("file_unreadable", unreadable) from None
        checked.append(CheckedFile(name=_display_name(upload.filename, noun=noun, content_type=kind[0], suffix=kind[1]), content_type=kind[0], suffix=kind[1], data=data))
    return checked


def check_images(files: list[UploadFile], *, max_bytes: int) -> tuple[list[CheckedFile], str | None]:
    """The photos of a request (without their EXIF/GPS), or the reason they are refused (the submit form shows it
    beside the field)."""
    try:
        return _read(files, max_bytes=max_bytes, max_count=MAX_PHOTOS, reply=False), None
    except InvalidInput as exc:
        return [], exc.message


def check_reply_files(files: list[UploadFile], *, max_bytes: int) -> list[CheckedFile]:
    """The images (without their EXIF/GPS) and PDFs of a 答复; raises InvalidInput naming the file refused."""
    return _read(files, max_bytes=max_bytes, max_count=MAX_REPLY_FILES, reply=True)


STORAGE_FAILED = "附件暂时无法保存（服务器存储故障），本次提交未完成，请稍后再试；如一直如此，请拨打 12345 热线"


class StorageFailed(DomainError):
    """The upload folder cannot be written (read-only, full, gone): 503, nothing of the request is kept."""

    status_code = 503


def upload_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "uploads"


def store(session: Session, *, ticket: Ticket, files: list[CheckedFile], var_dir: Path, uploaded_by: str, event: TicketEvent | None = None) -> list[Attachment]:
    """Writes the files now and adds their rows; if the transaction (or the savepoint) they were added in rolls
    back, the files go with the rows (_forget_file)."""
    folder = upload_dir(var_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _storage_failed(folder, exc) from exc
    rows = []
    for file in files:
        stored = secrets.token_hex(16) + file.suffix
        row = Attachment(
            ticket_id=ticket.id, event_id=event.id if event else None, stored_name=stored, original_name=file.name, content_type=file.content_type, size=len(file.data), uploaded_by=uploaded_by
        )
        # Added before it is written: a write that fails halfway is rolled back, and removed, like the rest.
        row.written_to = folder / stored
        session.add(row)
        # The session holds its rows weakly, and a rollback only sees those still alive: kept until it ends.
        session.info.setdefault(_WRITTEN, []).append(row)
        try:
            row.written_to.write_bytes(file.data)
        except OSError as exc:
            # Raised, so the request's transaction (or the action's savepoint) rolls back: the order or the step
            # the files came with is not kept either, and what was written of this file is removed with its row.
            raise _storage_failed(folder, exc) from exc
        rows.append(row)
    session.flush()
    return rows


_WRITTEN = "attachments.written"


def _storage_failed(folder: Path, exc: OSError) -> StorageFailed:
    log.error("cannot write an attachment under %s: %s", folder, exc)
    return StorageFailed("storage_unavailable", STORAGE_FAILED)


@dataclass
class Restripped:
    stripped: int = 0  # rewritten without metadata
    clean: int = 0  # had none
    missing: list[int] = field(default_factory=list)  # attachment ids whose file is gone
    unreadable: list[int] = field(default_factory=list)  # kept as they are: nothing can be said of what they carry


def strip_stored(session: Session, *, var_dir: Path, actor: str) -> Restripped:
    """Removes the metadata from every image already stored: the requests' photos kept as sent before intake stripped
    them too. Each file is replaced whole (a new file renamed over it), its row's size updated; one audit row says
    how many. Run again, it finds them clean."""
    result = Restripped()
    folder = upload_dir(var_dir)
    for row in session.scalars(select(Attachment).where(Attachment.content_type.in_(("image/jpeg", "image/png", "image/webp"))).order_by(Attachment.id)):
        path = folder / row.stored_name
        if not path.is_file():
            result.missing.append(row.id)
            continue
        data = path.read_bytes()
        try:
            clean = metadata.strip(data, row.content_type)
        except metadata.Unreadable:
            result.unreadable.append(row.id)
            continue
        if clean == data:
            result.clean += 1
            continue
        part = path.with_name(path.name + ".part")
        part.write_bytes(clean)
        part.replace(path)
        row.size = len(clean)
        result.stripped += 1
    if result.stripped:
        audit.record(
            session, actor=actor, action="attachments.metadata-stripped", object_type="attachments", object_id="stored",
            data={"stripped": result.stripped, "clean": result.clean, "missing": result.missing, "unreadable": result.unreadable},
        )
    return result


@listens_for(Session, "pending_to_transient")
@listens_for(Session, "persistent_to_transient")
def _forget_file(_session: Session, instance: object) -> None:
    """A rollback turns the rows added in its transaction back into plain objects: an attachment's file, written
    before the commit, would stay on disk with nothing naming it."""
    path = getattr(instance, "written_to", None) if isinstance(instance, Attachment) else None
    if path is not None:
        path.unlink(missing_ok=True)


@listens_for(Session, "after_transaction_end")
def _release_written(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


def intake_photos(session: Session, *, ticket: Ticket) -> list[Attachment]:
    """The photos the requester sent with the request: staff only."""
    return list(session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.event_id.is_(None)).order_by(Attachment.id)))


def by_event(session: Session, *, ticket: Ticket) -> dict[int, list[Attachment]]:
    """Each 答复's (直接答复's, 协办意见's) files, by event id, for the order's timeline."""
    result: dict[int, list[Attachment]] = {}
    for row in session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.event_id.is_not(None)).order_by(Attachment.id)):
        result.setdefault(row.event_id, []).append(row)
    return result


def contribution_files(session: Session, *, ticket: Ticket) -> dict[int, list[Attachment]]:
    """The files of each co-unit's latest 协办意见 (the one the lead unit's reply form quotes), by unit id."""
    latest = select(func.max(TicketEvent.id)).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "contribute").group_by(TicketEvent.unit_id)
    result: dict[int, list[Attachment]] = {}
    for row, unit_id in session.execute(select(Attachment, TicketEvent.unit_id).join(TicketEvent, TicketEvent.id == Attachment.event_id).where(Attachment.event_id.in_(latest)).order_by(Attachment.id)):
        result.setdefault(unit_id, []).append(row)
    return result


def _reply_source(ticket: Ticket) -> Ticket:
    """Whose 答复 the order carries: a merged order's is its master's (并单)."""
    return ticket.master if ticket.status == Status.MERGED and ticket.master_id else ticket


def current_reply_files(session: Session, *, tickets: list[Ticket]) -> dict[int, list[Attachment]]:
    """The files of the 答复 each order carries now (what its requester reads and its callback judges), by ticket
    id: the latest 答复's (or the 直接答复's), while there is one (a 重办 clears it), a merged order's from its master."""
    sources = {t.id: _reply_source(t).id for t in tickets if t.reply_content is not None}
    if not sources:
        return {}
    latest = (
        select(func.max(TicketEvent.id).label("event_id"))
        .where(TicketEvent.ticket_id.in_(set(sources.values())), TicketEvent.action.in_(REPLY_ACTIONS))
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    by_source: dict[int, list[Attachment]] = {}
    for row in session.scalars(select(Attachment).where(Attachment.event_id.in_(select(latest.c.event_id))).order_by(Attachment.id)):
        by_source.setdefault(row.ticket_id, []).append(row)
    return {ticket_id: by_source[source] for ticket_id, source in sources.items() if source in by_source}


def reply_files(session: Session, *, ticket: Ticket) -> list[Attachment]:
    return current_reply_files(session, tickets=[ticket]).get(ticket.id, [])


def _latest_event(session: Session, *, ticket: Ticket, action: str, actor: Actor) -> TicketEvent | None:
    """The order's latest event of `action`; of a 协办意见, the actor's unit's own (each co-unit gives its own)."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == action)
    if action == "contribute":
        query = query.where(TicketEvent.unit_id == actor.unit_id)
    return session.scalar(query.order_by(TicketEvent.id.desc()).limit(1))


def attach_to_event(session: Session, *, ticket: Ticket, action: str, files: list[CheckedFile], var_dir: Path, actor: Actor) -> list[Attachment]:
    """Stores files with the order's latest event of `action` (one of FILE_ACTIONS; a 协办意见: the actor's unit's)
    and writes them to the audit trail."""
    if not files:
        return []
    event = _latest_event(session, ticket=ticket, action=action, actor=actor)
    rows = store(session, ticket=ticket, files=files, var_dir=var_dir, uploaded_by=actor.name, event=event)
    audit.record(
        session,
        actor=actor.name,
        action=FILE_ACTIONS[action],
        object_type="ticket",
        object_id=ticket.number,
        data={"event": event.id, "files": [{"id": r.id, "name": r.original_name, "type": r.content_type, "size": r.size} for r in rows]},
    )
    return rows


@dataclass(frozen=True)
class _Later:
    """When, and by whom, files may be added to an event already sent (the API's second step)."""

    statuses: tuple[Status, ...]
    closed: str  # the order is past that
    not_yours: str  # the caller did not send the event


_LATER = {
    # Before the callback judges the reply: by the unit that replied.
    "reply": _Later((Status.REPLIED,), "只能为已答复、尚未回访的工单补充答复附件", "只有作出答复的单位可以补充答复附件"),
    # A 直接答复 closes the order at once: by the centre's staff (who may answer), until it is archived.
    "answer": _Later((Status.CLOSED,), "只能为直接答复办结、尚未归档的工单补充答复附件", "只有受理中心的工作人员可以补充直接答复的附件"),
    # While the lead unit has yet to reply, as the opinion itself may still be revised: by the unit that gave it.
    "contribute": _Later((Status.DISPATCHED, Status.SIGNED), "主办单位已答复，不能再补充协办意见附件", "只有提交协办意见的协办单位可以补充协办意见附件"),
}


def add_to_event(session: Session, *, number: str, action: str, actor: Actor, files: list[CheckedFile], var_dir: Path) -> list[Attachment]:
    """More files for the 答复, 直接答复 or 协办意见 just sent (the API's second step), at most MAX_REPLY_FILES with it."""
    later = _LATER[action]
    ticket = tickets.get_ticket(session, number=number, actor=actor)
    # Two uploads at once would each count the files held before the other's, and a callback (a reply) recorded
    # meanwhile would judge the answer without the files: the order's row is held until this one commits, its
    # status read afresh.
    status = session.scalar(select(Ticket.status).where(Ticket.id == ticket.id).with_for_update())
    if status not in later.statuses:
        raise Conflict("reply_closed", later.closed)
    event = _latest_event(session, ticket=ticket, action=action, actor=actor)
    if action == "answer":
        mine = event is not None and actor.role in TRANSITIONS["answer"].roles
    else:
        mine = event is not None and actor.unit_id is not None and event.unit_id == actor.unit_id
    if not mine:
        raise Forbidden("not_reply_unit", later.not_yours)
    held = session.scalar(select(func.count()).select_from(Attachment).where(Attachment.event_id == event.id)) or 0
    if held + len(files) > MAX_REPLY_FILES:
        raise InvalidInput("too_many_files", f"每条{_NOUNS[action]}最多 {MAX_REPLY_FILES} 个附件，已有 {held} 个")
    return attach_to_event(session, ticket=ticket, action=action, files=files, var_dir=var_dir, actor=actor)


def add_to_reply(session: Session, *, number: str, actor: Actor, files: list[CheckedFile], var_dir: Path) -> list[Attachment]:
    """More files for the 答复 just sent (the API's second step): by the unit that replied, before the callback."""
    return add_to_event(session, number=number, action="reply", actor=actor, files=files, var_dir=var_dir)


def _signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="baishitong.reply-file")


def requester_link(secret_key: str, *, ticket: Ticket, attachment: Attachment) -> str:
    """Where the requester, having proved the phone, opens a file of the 答复: signed for this order and file, for
    LINK_MINUTES. It carries neither the phone nor anything to guess another file's address from."""
    return "/track/files/" + _signer(secret_key).dumps([ticket.id, attachment.id])


def inline_link(secret_key: str, *, ticket: Ticket, attachment: Attachment, client: str) -> str:
    """Where 进度查询 draws a photo of the 答复 for the browser that queried it (`client`): its drawing there is
    covered by the page's one audit row (shown_on_track); opened from any other address it is audited as a download."""
    return "/track/files/" + _signer(secret_key).dumps([ticket.id, attachment.id, keyed_tag(secret_key, client)])


def shown_on_track(session: Session, *, secret_key: str, ticket: Ticket, client: str) -> list[tuple[Attachment, str, str | None]]:
    """The files of the 答复 on the requester's progress page: each with its link and, for a photo drawn on the page,
    the address it is drawn from. One audit row names the photos drawn, per view of the page, instead of one per
    photo as the browser fetches each; an opening through the link stays audited on its own."""
    rows = reply_files(session, ticket=ticket)
    shown = [a for a in rows if a.is_image]
    if shown:
        audit.record(
            session,
            actor=REQUESTER.name,
            action="ticket.reply-files-view",
            object_type="ticket",
            object_id=ticket.number,
            data={"files": [{"id": a.id, "name": a.original_name} for a in shown], "client": keyed_tag(secret_key, client)},
        )
    return [
        (a, requester_link(secret_key, ticket=ticket, attachment=a), inline_link(secret_key, ticket=ticket, attachment=a, client=client) if a.is_image else None)
        for a in rows
    ]


def requester_file(session: Session, *, secret_key: str, token: str, client: str) -> Attachment:
    """The file a requester's link names, while it is one of the 答复 the order carries now: not one of an older
    reply (before a 重办), nor a photo of the request.

    Each opening is written to the audit trail under the requester, the link's subject: the requester opening
    their own reply is no privacy event, a forwarded link opened elsewhere is, and only the trail can show it
    (how old the link was, and from which address: kept as a keyed hash, comparable but not the address).
    A photo drawn on the progress page for the browser that queried it is the exception: that page view's row
    (shown_on_track) names it already; drawn for any other address, it is audited like any opening."""
    tag = keyed_tag(secret_key, client)
    try:
        (ticket_id, attachment_id, *drawn_for), issued = _signer(secret_key).loads(token, max_age=LINK_MINUTES * 60, return_timestamp=True)
        ticket = session.get(Ticket, int(ticket_id))
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        ticket = attachment_id = None
        drawn_for = []
    row = next((a for a in reply_files(session, ticket=ticket) if a.id == attachment_id), None) if ticket else None
    if row is None:
        raise NotFound("attachment_link_expired", "附件链接已失效，请重新查询进度后再打开")
    if drawn_for == [tag]:
        return row
    audit.record(
        session,
        actor=REQUESTER.name,
        action="ticket.reply-file-download",
        object_type="ticket",
        object_id=ticket.number,
        data={
            "file": row.id,
            "name": row.original_name,
            "link_age_minutes": int(time.time() - issued.timestamp()) // 60,  # by the clock the link expires by
            "client": tag,
        },
    )
    return row

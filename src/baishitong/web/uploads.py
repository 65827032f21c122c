"""Attachments on the pages: staff open an order's files if they may see the order; the requester opens the files of
the 答复 through links made for them on 进度查询, after proving the phone, never at a guessable address."""

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from baishitong.attachments import service as attachments
from baishitong.attachments.api import file_response
from baishitong.attachments.models import Attachment
from baishitong.deps import client_id, get_db_session, writes
from baishitong.errors import NotFound
from baishitong.tickets import service as tickets
from baishitong.tickets.models import Ticket
from baishitong.web.auth import Staff, current_staff

router = APIRouter(include_in_schema=False)


def staff_link(attachment: Attachment) -> str:
    return f"/staff/attachments/{attachment.id}"


def staff_reply_files(session: Session, *, tickets: list[Ticket]) -> dict[int, list[tuple[Attachment, str]]]:
    """The files of each order's current 答复 with the address staff open them at, by ticket id (回访, 督办台)."""
    return {ticket_id: [(a, staff_link(a)) for a in rows] for ticket_id, rows in attachments.current_reply_files(session, tickets=tickets).items()}


@router.get("/track/files/{token}", dependencies=[writes])
def requester_download(token: str, request: Request, session: Session = Depends(get_db_session)):
    """Audited (see attachments.requester_file); staff opening files inline on the order page are not, or every
    view of the page would be a row."""
    settings = request.app.state.settings
    return file_response(settings.var_dir, attachments.requester_file(session, secret_key=settings.secret_key, token=token, client=client_id(request)))


@router.get("/staff/attachments/{attachment_id}")
def download(attachment_id: int, request: Request, staff: Staff = Depends(current_staff), session: Session = Depends(get_db_session)):
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("attachment_not_found", "附件不存在")
    ticket = session.get(Ticket, row.ticket_id)
    tickets.get_ticket(session, number=ticket.number, actor=staff.actor)
    return file_response(request.app.state.settings.var_dir, row)

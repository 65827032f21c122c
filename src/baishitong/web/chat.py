"""在线咨询: the operators' queue of 政务君 conversations handed over to a person, with reply, ticket draft and close."""

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.assistant import core
from baishitong.assistant import service as assistant
from baishitong.assistant.models import AssistantSession
from baishitong.deps import get_db_session
from baishitong.errors import Conflict
from baishitong.web.auth import Staff, require
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, fragment, redirect, render

router = APIRouter(include_in_schema=False)

OPERATORS = ("operator", "supervisor", "admin")
INTAKE = ("operator", "admin")  # who may open the console (web/operator.py)
MAX_REPLY = 2000


def waiting_count(session: Session) -> int:
    """Conversations no operator has picked up yet: the nav badge."""
    return session.scalar(select(func.count()).select_from(AssistantSession).where(AssistantSession.status == "waiting")) or 0


def _queue_context(session: Session) -> dict:
    return {"conversations": assistant.queue(session)}


def _log_context(conversation: AssistantSession, notice: str | None = None) -> dict:
    return {"conversation": conversation, "live": conversation.status != "bot", "notice": notice}


def _ticket_draft(conversation: AssistantSession) -> dict:
    """智能填单 from what the citizen wrote, for the operator to copy into the console."""
    draft = assistant.ticket_prefill([core.Turn("user", t.text) for t in conversation.turns if t.role == "user"])
    prefill = draft["prefill"]
    return {
        "type": prefill["type"],
        "content": prefill["content"],
        "address": prefill["address"] or "",
        "phone": prefill["requester"]["phone"] or "",
        "region_name": draft["region_name"] or "",
    }


@router.get("/staff/chat")
def queue_page(request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    return render(request, "staff/chat.html", {**_queue_context(session), "nav": "/staff/chat"})


@router.get("/staff/chat/queue")
def queue_fragment(request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    """htmx: the queue, polled every 5 s."""
    return fragment(request, "staff/chat_queue.html", _queue_context(session))


@router.get("/staff/chat/{session_id}")
def conversation_page(session_id: str, request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    conversation = assistant.get_session(session, session_id=session_id)
    return render(
        request,
        "staff/chat_session.html",
        {**_log_context(conversation), "draft": _ticket_draft(conversation), "can_intake": staff.role in INTAKE, "nav": "/staff/chat"},
    )


@router.get("/staff/chat/{session_id}/log")
def log_fragment(session_id: str, request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    """htmx: the transcript, polled every 5 s for the citizen's new messages."""
    return fragment(request, "staff/chat_log.html", _log_context(assistant.get_session(session, session_id=session_id)))


@router.post("/staff/chat/{session_id}/reply")
def reply(session_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    text = str(form.get("text", "")).strip()[:MAX_REPLY]
    htmx = bool(request.headers.get("hx-request"))
    notice = None
    if not text:
        notice = "请输入回复内容"
    else:
        try:
            assistant.operator_reply(session, session_id=session_id, text=text, operator=staff.actor.name)
        except Conflict as exc:
            notice = exc.message
    conversation = assistant.get_session(session, session_id=session_id)
    if htmx:
        return fragment(request, "staff/chat_log.html", _log_context(conversation, notice))
    if notice:
        flash(request, "warning", notice)
    return redirect(f"/staff/chat/{session_id}")


@router.post("/staff/chat/{session_id}/close")
def close(session_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    assistant.close(session, session_id=session_id, operator=staff.actor.name)
    flash(request, "success", "会话已结束，市民的后续提问将由政务君继续回答")
    return redirect("/staff/chat")

"""在线咨询: the operators' queue of 政务君 conversations handed over to a person, with reply, ticket draft and close."""

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong.assistant import core
from baishitong.assistant import service as assistant
from baishitong.assistant.api import CLOSES_ANY
from baishitong.assistant.models import AssistantSession
from baishitong.deps import get_db_session
from baishitong.errors import Conflict
from baishitong.security import mask_numbers_in_text, mask_phone
from baishitong.tickets import service as tickets
from baishitong.web.assistant import last_shown_turn
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


def _queue_context(session: Session, staff: Staff) -> dict:
    """The queue's previews show the phone and ID numbers only in the viewer's own conversations: anyone
    watching the queue sees everyone's, and a number is read once the conversation is opened to take it."""
    conversations = assistant.queue(session)
    revealed = {c.id for c in conversations if c.operator == staff.actor.name}
    left = {c.id for c in conversations if assistant.left_at(c)}
    return {"conversations": conversations, "names": assistant.operator_names(session, conversations=conversations), "revealed": revealed, "left": left}


def reveals_numbers(conversation: AssistantSession, staff: Staff) -> bool:
    """The citizen's phone (and ID) number is for the operator serving them, or about to (it is waiting for
    whoever opens it); a colleague looking on at another's conversation sees 138****5678."""
    return conversation.status == "waiting" or conversation.operator == staff.actor.name


def presence(conversation: AssistantSession) -> str:
    """What the note over the log says, as the poll sends it back (at most 12 characters): the status, and
    whether the citizen has left, so the note is redrawn when either changes."""
    return conversation.status + ("-left" if conversation.status != "bot" and assistant.left_at(conversation) else "")


def can_reply(conversation: AssistantSession, staff: Staff) -> bool:
    """The reply box is for the operator serving the conversation, or anyone while it waits to be taken; the
    server refuses the others' replies (assistant.operator_reply) whatever the page showed."""
    return conversation.status == "waiting" or (conversation.status == "open" and conversation.operator == staff.actor.name)


def _log_context(session: Session, conversation: AssistantSession, staff: Staff, notice: str | None = None) -> dict:
    names = assistant.operator_names(session, conversations=[conversation])
    revealed = {conversation.id} if reveals_numbers(conversation, staff) else set()
    last = next((t for t in reversed(conversation.turns) if t.role != "user"), None)
    return {
        "conversation": conversation,
        "live": conversation.status != "bot",
        "notice": notice,
        "names": names,
        "revealed": revealed,
        "presence": presence(conversation),
        "left_at": assistant.left_at(conversation) if conversation.status != "bot" else None,
        "ended_by_citizen": conversation.status == "bot" and last is not None and last.text == assistant.ENDED_TEXT,
        "can_reply": can_reply(conversation, staff),
        # 结束会话 is offered to whoever may end it: not to a colleague while another operator is serving the citizen.
        "can_close": conversation.status != "open" or conversation.operator == staff.actor.name or staff.role in CLOSES_ANY,
    }


def ticket_draft(conversation: AssistantSession) -> dict:
    """智能填单 from what the citizen wrote: shown beside the conversation, and filled into the console it opens.
    `phatic`: what was left out as mere waiting or greeting (有人吗？), for the card to say so."""
    said = assistant.citizen_turns(conversation)
    draft = assistant.ticket_prefill(said)
    prefill = draft["prefill"]
    return {
        "phatic": [t.text for t in said if t.to_person and core.is_phatic(t.text)],
        "type": prefill["type"],
        "content": prefill["content"],
        "address": prefill["address"] or "",
        "phone": prefill["requester"]["phone"] or "",
        "region_name": draft["region_name"] or "",
    }


@router.get("/staff/chat")
def queue_page(request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    return render(request, "staff/chat.html", {**_queue_context(session, staff), "nav": "/staff/chat"})


@router.get("/staff/chat/queue")
def queue_fragment(request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    """htmx: the queue, polled every 5 s."""
    return fragment(request, "staff/chat_queue.html", _queue_context(session, staff))


@router.get("/staff/chat/{session_id}")
def conversation_page(session_id: str, request: Request, staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    return _conversation_page(request, session, staff, assistant.get_session(session, session_id=session_id))


def _conversation_page(request: Request, session: Session, staff: Staff, conversation: AssistantSession, *, notice: str | None = None, text: str = "", status_code: int = 200) -> Response:
    draft = ticket_draft(conversation)
    if not reveals_numbers(conversation, staff):
        draft = {**draft, "phone": mask_phone(draft["phone"]) or "", "content": mask_numbers_in_text(draft["content"]) or ""}
    context = {
        **_log_context(session, conversation, staff, notice),
        "draft": draft,
        "orders": tickets.made_from_conversation(session, conversation_id=conversation.id),
        "can_intake": staff.role in INTAKE,
        "text": text,
        "nav": "/staff/chat",
    }
    return render(request, "staff/chat_session.html", context, status_code=status_code)


def _appended(request: Request, session: Session, staff: Staff, conversation: AssistantSession, *, after: object, restatus: bool, reply: bool = False, notice: str | None = None) -> Response:
    """The messages after the last one the page shows, to append to its log (the live region then reads out
    just them), with the note over the log when it changed. A page that shows none gets the whole transcript."""
    seen = last_shown_turn(after)
    if seen is None:
        response = fragment(request, "staff/chat_log.html", _log_context(session, conversation, staff, notice))
        response.headers.update({"HX-Retarget": "#chat-live", "HX-Reswap": "outerHTML"})
        return response
    turns = [t for t in conversation.turns if t.id > seen]
    if not turns and not restatus and not reply:
        return Response(status_code=204)
    return fragment(request, "staff/chat_turns.html", {**_log_context(session, conversation, staff, notice), "turns": turns, "restatus": restatus, "renotice": reply})


@router.get("/staff/chat/{session_id}/log")
def log_fragment(
    session_id: str,
    request: Request,
    after: str = Query(default="", max_length=20),
    status: str = Query(default="", max_length=12),
    staff: Staff = Depends(require(*OPERATORS)),
    session: Session = Depends(get_db_session),
):
    """htmx: polled every 5 s for the citizen's new messages; the note is redrawn when the status changed."""
    conversation = assistant.get_session(session, session_id=session_id)
    return _appended(request, session, staff, conversation, after=after, restatus=presence(conversation) != status)


@router.post("/staff/chat/{session_id}/reply")
def reply(session_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    """A refused reply (a colleague took the conversation, or nothing typed) is a 409/422 that says why, and the
    typed text stays in the box: by htmx the form is left as it was, without JavaScript the page comes back with it."""
    text = str(form.get("text", "")).replace("\r\n", "\n").strip()
    htmx = bool(request.headers.get("hx-request"))
    status_before = presence(assistant.get_session(session, session_id=session_id))
    notice, status_code = None, 200
    if not text:
        notice, status_code = "请输入回复内容", 422
    elif len(text) > MAX_REPLY:
        # Refused rather than cut short, so the citizen never gets half a reply.
        notice, status_code = f"回复最多 {MAX_REPLY} 字，请分几条发送", 422
    else:
        try:
            assistant.operator_reply(session, session_id=session_id, text=text, operator=staff.actor.name)
        except Conflict as exc:
            notice, status_code = exc.message, exc.status_code
    conversation = assistant.get_session(session, session_id=session_id)
    if htmx:
        response = _appended(request, session, staff, conversation, after=form.get("after"), restatus=presence(conversation) != status_before, reply=True, notice=notice)
        if notice:
            response.status_code = status_code
        return response
    if notice:
        return _conversation_page(request, session, staff, conversation, notice=notice, text=text, status_code=status_code)
    return redirect(f"/staff/chat/{session_id}")


@router.post("/staff/chat/{session_id}/close")
def close(session_id: str, request: Request, form: FormData = Depends(checked_form), staff: Staff = Depends(require(*OPERATORS)), session: Session = Depends(get_db_session)):
    try:
        assistant.close(session, session_id=session_id, operator=staff.actor.name, override=staff.role in CLOSES_ANY)
    except Conflict as exc:
        conversation = assistant.get_session(session, session_id=session_id)
        return _conversation_page(request, session, staff, conversation, notice=exc.message, status_code=exc.status_code)
    flash(request, "success", "会话已结束，市民的后续提问将由政务君继续回答")
    return redirect("/staff/chat")

"""问政务君: the chat page and the floating widget, both over assistant.service (no HTTP round trip).

The conversation id lives in an HttpOnly cookie, so a refresh (or a page without
JavaScript) shows the same transcript; htmx only appends the new turns.
"""

import secrets

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from baishitong import idempotency
from baishitong.assistant import core
from baishitong.assistant import service as assistant
from baishitong.assistant.models import AssistantSession
from baishitong.deps import get_db_session, writes
from baishitong.errors import Conflict, NotFound
from baishitong.web.cookies import queue_cookie
from baishitong.web.csrf import checked_form
from baishitong.web.views import flash, fragment, redirect, render

router = APIRouter(include_in_schema=False)

SESSION_COOKIE = "bst_assistant"
STARTERS = ("社保卡丢了怎么补办？", "新生儿怎么入户？", "公积金租房提取需要什么材料？", "身份证到期怎么换？")
MAX_QUESTION = 500
# Refused rather than cut short: the citizen would not know the end of the message never reached anyone.
TOO_LONG = f"消息最多 {MAX_QUESTION} 字，请分几条发送"
WEB_ASK_SCOPE = "assistant.ask.web"
# What the question box asks for: a question for 政务君, or, once a person has the chat, words for them.
PLACEHOLDERS = {False: "请输入您的问题，如：社保卡丢了怎么补办？", True: "请输入您要对人工客服说的话…"}


def _log_id(value: object) -> str:
    """Which transcript an htmx request updates: the widget's or the page's (never a caller-chosen id)."""
    return "chat-panel-log" if value == "chat-panel-log" else "chat-log"


def _limit(request: Request) -> None:
    """Asking, handing over and rating are public and share the intake limit per client, like the API."""
    limit = request.app.state.settings.intake_rate_limit_per_minute
    request.app.state.rate_limiter.hit("assistant", request.client.host if request.client else "unknown", limit=limit)


def _conversation(request: Request, session: Session) -> AssistantSession | None:
    try:
        return assistant.get_session(session, session_id=request.cookies.get(SESSION_COOKIE, ""))
    except NotFound:
        return None


def _own_conversation(request: Request, session: Session) -> AssistantSession:
    """The visitor's conversation, for what only makes sense within one (转人工, 结束对话); none is a 404."""
    conversation = _conversation(request, session)
    if conversation is None:
        raise NotFound("assistant_session_not_found", "会话不存在或已过期，请重新提问")
    return conversation


# 转为工单: /submit fills itself in from the visitor's own conversation (its id is in their HttpOnly cookie),
# so the phone number and the complaint never travel in a URL, where access logs, history and Referer keep them.
TICKET_URL = "/submit?from=assistant"


def conversation_prefill(request: Request, session: Session) -> dict | None:
    """智能填单 from the visitor's conversation, for them to check and send themselves; None without one."""
    conversation = _conversation(request, session)
    history = assistant.citizen_turns(conversation) if conversation else []
    return assistant.ticket_prefill(history)["prefill"] if history else None


def own_conversation_id(request: Request, session: Session) -> str | None:
    """The visitor's conversation, by their cookie, for the order 转为工单 makes from it to name (来源会话)."""
    conversation = _conversation(request, session)
    return conversation.id if conversation else None


def _messages(conversation: AssistantSession | None) -> list[dict]:
    """Transcript rows; the handover offer and the work-order link only under the last reply, when it handed
    over, was asked for a work order, or is only 仅供参考 (the citizen may well need a person then too)."""
    if conversation is None:
        return []
    last_bot = next((t for t in reversed(conversation.turns) if t.role == "assistant"), None)
    rows = []
    for turn in conversation.turns:
        if turn.role == "system" and turn.text != assistant.ENDED_TEXT:
            continue  # for the operator: the citizen knows they closed the chat and came back
        sure = turn.confidence is not None and turn.confidence >= core.SURE_CONFIDENCE
        row = {"turn": turn, "handover": False, "ticket_url": None, "sure": sure}
        if turn.role == "assistant" and turn is last_bot:
            # While waiting for a person the work order stays on offer: no operator may be free.
            if turn.text in (*core.HANDOVER_TEXTS, core.TRANSFER_TEXT, core.TICKET_TEXT, assistant.WAITING_TEXT):
                row["handover"] = turn.text in core.HANDOVER_TEXTS and conversation.status == "bot"
                row["ticket_url"] = TICKET_URL
            elif not turn.handover and not sure:
                row["handover"] = conversation.status == "bot"
                row["ticket_url"] = TICKET_URL
        rows.append(row)
    return rows


def _context(conversation: AssistantSession | None, *, follow_ups: list[str] | None = None) -> dict:
    live = conversation is not None and conversation.status != "bot"
    return {
        "conversation": conversation,
        "rows": _messages(conversation),
        "follow_ups": follow_ups or [],
        "live": live,
        "placeholder": PLACEHOLDERS[live],
        "starters": STARTERS,
        "nav": "/assistant",
        # The question box and each chip post an Idempotency-Key, fresh with every render: a resent form is answered once.
        "ask_key": secrets.token_urlsafe(18),
    }


def _shown(request: Request, session: Session) -> dict:
    """The caller's conversation as a page or the widget shows it, with the latest answer's next questions."""
    conversation = _conversation(request, session)
    threshold = request.app.state.settings.assistant_threshold
    follow_ups = assistant.suggestions(session, conversation=conversation, threshold=threshold) if conversation else []
    return _context(conversation, follow_ups=follow_ups)


@router.get("/assistant")
def page(request: Request, session: Session = Depends(get_db_session)):
    """Never kept by the browser: htmx adds the turns in place, so Back from a cited article or 转为工单 would
    otherwise show the page as first loaded — no conversation, and a question key already spent."""
    response = render(request, "public/assistant.html", {**_shown(request, session), "log_id": "chat-log"})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/assistant/panel")
def panel(request: Request, session: Session = Depends(get_db_session)):
    """The floating widget's body (htmx), with the same conversation as the page."""
    return fragment(request, "public/assistant_panel.html", {**_shown(request, session), "log_id": "chat-panel-log"})


def last_shown_turn(value: object) -> int | None:
    """The last turn the page shows (app.js sends it with each htmx request to the log); None without one."""
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def page_view(value: object) -> str | None:
    """The token app.js gives each view of the chat (see `assistant.come_back`); None for a page without one."""
    text = str(value or "")
    return text if 8 <= len(text) <= 40 and text.isascii() and text.replace("-", "").replace("_", "").isalnum() else None


def _newer(rows: list[dict], after: int) -> list[dict]:
    return [r for r in rows if r["turn"].id > after]


# It writes when a citizen who left comes back: on SQLite a read that then writes would fail if another writer
# committed in between, so the poll takes the write lock up front (a few ms every 5 s, only while an operator serves).
@router.get("/assistant/live", dependencies=[writes])
def live(
    request: Request,
    log_id: str = "chat-log",
    after: str = Query(default="", max_length=20),
    status: str = Query(default="", max_length=12),
    view: str = Query(default="", max_length=40),
    session: Session = Depends(get_db_session),
):
    """Polled every 5 s while an operator has the conversation. Only the messages after `after` come back, to
    be appended, so the log's live region reads out just the operator's reply; the note under the log is
    redrawn only when the status changed, and emptied (polling stops) once the conversation is handed back."""
    conversation, log_id = _conversation(request, session), _log_id(log_id)
    if conversation is not None:
        assistant.come_back(session, conversation=conversation, view=page_view(view))
    ctx = {**_context(conversation), "log_id": log_id}
    seen = last_shown_turn(after)
    if seen is None:
        # A page from before the log was appended to: the whole transcript, in place.
        response = fragment(request, "public/assistant_live.html", ctx)
        response.headers.update({"HX-Retarget": f"#{log_id}-live", "HX-Reswap": "outerHTML"})
        return response
    rows = _newer(ctx["rows"], seen)
    changed = conversation is None or conversation.status != status
    if not rows and not changed:
        return Response(status_code=204)
    return fragment(request, "public/assistant_turns.html", {**ctx, "rows": rows, "restatus": changed})


@router.post("/assistant/ask")
def ask(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    settings = request.app.state.settings
    _limit(request)
    # Counted as the box counts it (a line break is one character; the browser sends it as two).
    question = str(form.get("question", "")).replace("\r\n", "\n").strip()
    log_id = _log_id(form.get("log_id"))
    if len(question) > MAX_QUESTION:
        # The question stays in the box: by htmx the form is left as it was (app.js shows this note in the
        # log), without JavaScript the page comes back with it typed in.
        if request.headers.get("hx-request"):
            response = fragment(request, "public/assistant_turns.html", {"rows": [], "notice": TOO_LONG, "log_id": log_id})
            response.status_code = 422
            return response
        context = {**_shown(request, session), "log_id": "chat-log", "question": question, "messages": [("warning", TOO_LONG)]}
        response = render(request, "public/assistant.html", context, status_code=422)
        response.headers["Cache-Control"] = "no-store"
        return response
    conversation = _conversation(request, session)
    was_live = conversation is not None and conversation.status != "bot"
    if not question:
        if request.headers.get("hx-request"):
            return fragment(request, "public/assistant_turns.html", {"rows": [], "notice": "请输入您要咨询的问题", "log_id": log_id})
        flash(request, "warning", "请输入您要咨询的问题")
        return redirect("/assistant")
    # The key is the page's own random one, so the scope needs no conversation: a retry that went out before
    # the first answer's cookie came back is still the same question.
    key, body = form.get("idempotency_key"), {"question": question}
    key = f"web:{key}" if key else None
    try:
        first = idempotency.replayed(session, scope=WEB_ASK_SCOPE, key=key, body=body)
    except Conflict:
        # Another question under a spent key comes from a page older than its last answer (kept by the
        # browser): it is a new question, answered as one, not refused with nothing shown.
        first, key = None, None
    if first is not None:
        reply = assistant.replay(session, turn_id=int(first), threshold=settings.assistant_threshold)
    else:
        reply = assistant.ask(
            session,
            question=question,
            session_id=conversation.id if conversation else None,
            threshold=settings.assistant_threshold,
            llm_base_url=settings.llm_base_url,
            llm_api_key=settings.llm_api_key,
            llm_model=settings.llm_model,
            view=page_view(form.get("view")),
        )
        idempotency.remember(session, scope=WEB_ASK_SCOPE, key=key, body=body, resource_id=reply.turn.id)
    queue_cookie(request, SESSION_COOKIE, reply.session.id, max_age=7 * 24 * 3600)
    if not request.headers.get("hx-request"):
        # Post/redirect/get: a refresh shows the transcript instead of sending the question again.
        return redirect(f"/assistant#chat-log-turn-{reply.turn.id}")
    follow_ups = [] if reply.answer.handover else reply.answer.follow_ups
    ctx = {**_context(reply.session, follow_ups=follow_ups), "log_id": log_id, "first": conversation is None, "rekey": True}
    if ctx["live"] and not was_live:
        # Just handed over (转人工): the transcript is redrawn without the 转人工 offers, with the note that polls.
        response = fragment(request, "public/assistant_live.html", ctx)
        response.headers.update({"HX-Retarget": f"#{log_id}-live", "HX-Reswap": "outerHTML"})
        return response
    # The question and its answer (and any operator message the page has not shown yet) are appended; the
    # earlier answer's next questions give way to this one's.
    after = last_shown_turn(form.get("after"))
    rows = ctx["rows"][-2:] if after is None else _newer(ctx["rows"], after)
    return fragment(request, "public/assistant_turns.html", {**ctx, "rows": rows, "replace_follow_ups": True})


@router.post("/assistant/handover")
def handover(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    _limit(request)
    conversation = assistant.handover(session, session_id=_own_conversation(request, session).id)
    if request.headers.get("hx-request"):
        return fragment(request, "public/assistant_live.html", {**_context(conversation), "log_id": _log_id(form.get("log_id")), "handed_over": True})
    return redirect("/assistant")


@router.post("/assistant/leave")
def leave(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    """app.js's beacon when the citizen closes the widget or the page while a person has the chat: the operator
    reads 市民已离开对话 and stops waiting. Nothing to show, so no body; without a conversation, nothing to record."""
    _limit(request)
    conversation = _conversation(request, session)
    if conversation is not None:
        assistant.leave(session, session_id=conversation.id, view=page_view(form.get("view")))
    return Response(status_code=204)


@router.post("/assistant/end")
def end(request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    """结束对话 under the note while a person has the chat: the operator reads so, and the next question is 政务君's."""
    _limit(request)
    conversation = assistant.end(session, session_id=_own_conversation(request, session).id)
    if request.headers.get("hx-request"):
        return fragment(request, "public/assistant_live.html", {**_context(conversation), "log_id": _log_id(form.get("log_id"))})
    flash(request, "success", "已结束人工服务，您可以继续向政务君提问")
    return redirect("/assistant")


@router.post("/assistant/rate/{turn_id}")
def rate(turn_id: int, request: Request, form: FormData = Depends(checked_form), session: Session = Depends(get_db_session)):
    """Only answers in the caller's own conversation can be rated."""
    _limit(request)
    conversation = _conversation(request, session)
    if conversation is None or turn_id not in {t.id for t in conversation.turns}:
        raise NotFound("assistant_turn_not_found", "要评价的回答不存在")
    turn = assistant.rate(session, turn_id=turn_id, helpful=form.get("helpful") == "1")
    if request.headers.get("hx-request"):
        return fragment(request, "public/assistant_rated.html", {"turn": turn, "swapped": True})
    flash(request, "success", "感谢您的评价！")
    # Back at the answer just rated, not at the top of a long conversation.
    return redirect(f"/assistant#chat-log-turn-{turn.id}")

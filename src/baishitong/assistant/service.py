"""政务君 conversations: answers from the KB and the service catalogue, handover to operators, ratings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from baishitong import clock
from baishitong.assistant import core
from baishitong.assistant.models import AssistantSession, AssistantTurn, UnansweredQuestion
from baishitong.audit import service as audit
from baishitong.audit.models import AuditEntry
from baishitong.errors import Conflict, NotFound
from baishitong.knowledge import service as kb
from baishitong.org.models import User
from baishitong.routing.locate import locate
from baishitong.security import mask_numbers_in_text

DEFAULT_THRESHOLD = 0.35
HISTORY_TURNS = 10
# Idempotency-Key scope of a question; the API adds the conversation, the chat page keys its own form.
ASK_SCOPE = "assistant.ask"
WAITING_TEXT = "您的消息已转给人工客服，请稍候，客服人员会在这里回复您。"
# System lines (role "system") the operator reads in the transcript: the citizen closed the chat, came back to
# it (a reload or another page closes it for a moment) or ended it.
LEFT_TEXT = "市民已离开对话"
BACK_TEXT = "市民已回到对话"
ENDED_TEXT = "市民已结束对话，会话已交还政务君"
# The audit actor of what the citizen does: an anonymous chat has no account, and its phone is no actor name.
CITIZEN = "citizen"


@dataclass
class Reply:
    session: AssistantSession
    turn: AssistantTurn
    answer: core.Answer
    citations: list[dict]
    actions: list[dict] = field(default_factory=list)


def get_session(session: Session, *, session_id: str) -> AssistantSession:
    row = session.get(AssistantSession, session_id) if session_id else None
    if row is None:
        raise NotFound("assistant_session_not_found", "会话不存在或已过期，请重新提问")
    return row


def _history(conversation: AssistantSession) -> list[core.Turn]:
    turns = [t for t in conversation.turns if t.role != "system"][-HISTORY_TURNS:]
    return [core.Turn("user" if t.role == "user" else "assistant", t.text) for t in turns]


def _add_turn(session: Session, conversation: AssistantSession, *, role: str, text: str, **extra) -> AssistantTurn:
    turn = AssistantTurn(session=conversation, role=role, text=text, created_at=clock.now(), **extra)
    session.add(turn)
    conversation.updated_at = turn.created_at
    session.flush()
    return turn


def _audit(session: Session, conversation: AssistantSession, *, actor: str, action: str, before: str, **data) -> None:
    """One audit row per change of who holds the conversation (not per message); it names states and staff,
    never what the citizen wrote, which may hold their phone or ID number."""
    audit.record(
        session, actor=actor, action=f"assistant_session.{action}", object_type="assistant_session", object_id=conversation.id,
        data={"from": before, "to": conversation.status, **data},
    )


def _citation(c: core.Citation) -> dict:
    if c.id.startswith(kb.ITEM_PREFIX):
        code = c.id.removeprefix(kb.ITEM_PREFIX)
        return {"id": code, "kind": "item", "title": c.title, "score": c.score, "url": f"/items/{code}"}
    return {"id": c.id, "kind": "article", "title": c.title, "score": c.score, "url": f"/kb/{c.id}"}


def citizen_turns(conversation: AssistantSession) -> list[core.Turn]:
    """What the citizen wrote, each marked whether it was passed on to a person: 政务君 answers a question in
    the turn right after it, while a message to a person is followed by an operator's turn, the note that it
    was passed on, the citizen's next message or nothing."""
    turns = [t for t in conversation.turns if t.role != "system"]
    said = []
    for at, turn in enumerate(turns):
        if turn.role == "user":
            after = turns[at + 1] if at + 1 < len(turns) else None
            answered = after is not None and after.role == "assistant" and after.text != WAITING_TEXT
            said.append(core.Turn("user", turn.text, to_person=not answered))
    return said


def ticket_prefill(history: list[core.Turn]) -> dict:
    """A work order in the shape `POST /api/v1/tickets` accepts, with the region resolved from the address."""
    draft = core.prefill_ticket(history)
    place = locate(draft["address"] or draft["content"])
    region_code = (place.community_code or place.town_code) if place else None
    region_name = "".join(n for n in (place.town_name, place.community_name) if n) if place else None
    return {
        "prefill": {
            "type": draft["type"],
            "content": draft["content"],
            "address": draft["address"],
            "region_code": region_code,
            "channel": "web",
            "requester": {"phone": draft["phone"]},
        },
        "region_name": region_name,
    }


def _log(session: Session, *, question: str, reason: str, conversation: AssistantSession, turn: AssistantTurn | None) -> None:
    """One log line per question and conversation, however many ways it went unanswered. The log is for
    the knowledge-base owners, who never need the phone or ID number a citizen typed into the question."""
    question = mask_numbers_in_text(question)
    logged = session.scalar(
        select(UnansweredQuestion.id).where(UnansweredQuestion.session_id == conversation.id, UnansweredQuestion.question == question)
    )
    if logged is None:
        session.add(UnansweredQuestion(question=question, reason=reason, session_id=conversation.id, turn_id=turn.id if turn else None, created_at=clock.now()))
        session.flush()


def ask(
    session: Session,
    *,
    question: str,
    session_id: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    llm_base_url: str = "",
    llm_api_key: str = "",
    llm_model: str = "",
    view: str | None = None,
) -> Reply:
    """Answers within the conversation; below `threshold` it says so and offers handover or a work order.
    `view`: the asking page view's token (see `come_back`)."""
    question = question.strip()
    if session_id:
        conversation = get_session(session, session_id=session_id)
        come_back(session, conversation=conversation, view=view)
    else:
        now = clock.now()
        conversation = AssistantSession(id=uuid.uuid4().hex, status="bot", created_at=now, updated_at=now)
        session.add(conversation)
    history = _history(conversation)
    asked = _add_turn(session, conversation, role="user", text=question)
    if conversation.status != "bot":
        # The message is passed on to a person instead of being answered. While one is chatting there is
        # nothing to add; while the citizen waits for one, they hear once that it was passed on, not after
        # every message, nor again after a 市民已离开对话 / 已回到对话 line. Without a turn of its own the reply is
        # the message itself, with no answer text.
        previous = next((t for t in reversed(conversation.turns) if t.role not in ("user", "system")), None)
        if conversation.status == "open" or (previous is not None and previous.text == WAITING_TEXT):
            return Reply(conversation, asked, core.Answer("", [], 0.0, [], True, question), [])
        result = core.Answer(WAITING_TEXT, [], 0.0, [], True, question)
        turn = _add_turn(session, conversation, role="assistant", text=WAITING_TEXT, question=question, confidence=0.0, handover=True)
        return Reply(conversation, turn, result, [])
    reply = core.small_talk(question)
    if reply is not None:
        result = core.Answer(reply, [], 1.0, [], False, question)
        turn = _add_turn(session, conversation, role="assistant", text=reply, question=question, confidence=1.0)
        return Reply(conversation, turn, result, [])
    if core.asks_for_person(question):
        # No article answers 转人工: queue the conversation at once and still offer the work order.
        result = core.Answer(core.TRANSFER_TEXT, [], 0.0, [], True, question)
        turn = _add_turn(session, conversation, role="assistant", text=core.TRANSFER_TEXT, question=question, confidence=0.0, handover=True)
        handover(session, session_id=conversation.id)
        return Reply(conversation, turn, result, [], _actions(turn, [*history, core.Turn("user", question)]))
    if core.asks_for_ticket(question):
        # 帮我转工单: the pre-filled form is the answer, whatever an article might say about the matter.
        result = core.Answer(core.TICKET_TEXT, [], 0.0, [], True, question)
        turn = _add_turn(session, conversation, role="assistant", text=core.TICKET_TEXT, question=question, confidence=0.0, handover=True)
        return Reply(conversation, turn, result, [], _actions(turn, [*history, core.Turn("user", question)]))
    index = kb.combined_index(session)
    result = core.answer(question, history, index, threshold=threshold)
    text = result.text
    if not result.handover and llm_base_url and llm_model:
        documents = [index.get(c.id) for c in result.citations]
        # The model answers from the articles: the phone or ID number a citizen typed is no business of its provider.
        text = core.phrase_with_llm(mask_numbers_in_text(result.query), [d for d in documents if d], base_url=llm_base_url, api_key=llm_api_key, model=llm_model) or text
    citations = [_citation(c) for c in result.citations]
    turn = _add_turn(
        session, conversation, role="assistant", text=text, question=question, confidence=result.confidence, citations=citations, handover=result.handover
    )
    if result.handover and result.text != core.ASK_MATTER_TEXT:  # a bare 138… or ？？ is no gap in the KB
        _log(session, question=question, reason="no_answer", conversation=conversation, turn=turn)
    return Reply(conversation, turn, result, citations, _actions(turn, [*history, core.Turn("user", question)]))


def _actions(turn: AssistantTurn, said: list[core.Turn]) -> list[dict]:
    """What the citizen may do next, read off the answer's text so a replayed answer offers the same."""
    if turn.text in core.HANDOVER_TEXTS:
        return [{"type": "handover", "label": "转人工"}, _ticket_action(turn, said)]
    if turn.text in (core.TRANSFER_TEXT, core.TICKET_TEXT):
        return [_ticket_action(turn, said)]
    return []


def _ticket_action(turn: AssistantTurn, said: list[core.Turn]) -> dict:
    """转为工单 with its draft, which names the conversation: an app posting the draft as it is to `POST /api/v1/tickets`
    links the order to it (来源会话), as the web's 转为工单 does."""
    draft = ticket_prefill(said)
    draft["prefill"]["assistant_session_id"] = turn.session_id
    return {"type": "ticket", "label": "转为工单", **draft}


def replay(session: Session, *, turn_id: int, threshold: float = DEFAULT_THRESHOLD) -> Reply:
    """The reply a retried question (same Idempotency-Key) gets: the stored answer, nothing asked twice."""
    turn = session.get(AssistantTurn, turn_id)
    if turn is None:
        raise NotFound("assistant_turn_not_found", "要重放的回答不存在")
    conversation = turn.session
    if turn.role == "user":  # a message passed on to a person: no answer of its own (see `ask`)
        return Reply(conversation, turn, core.Answer("", [], 0.0, [], True, turn.text), [])
    said = [core.Turn("user" if t.role == "user" else "assistant", t.text) for t in conversation.turns if t.id < turn.id and t.role != "system"]
    if turn.text in core.HANDOVER_TEXTS:
        follow_ups = list(core.HANDOVER_ACTIONS)
    else:
        follow_ups = suggestions(session, conversation=conversation, threshold=threshold, turn=turn) if turn.citations else []
    result = core.Answer(turn.text, [], turn.confidence or 0.0, follow_ups, turn.handover, turn.question or "")
    return Reply(conversation, turn, result, turn.citations, _actions(turn, said[-HISTORY_TURNS - 1 :]))


def last_question(conversation: AssistantSession) -> str | None:
    """What the citizen last asked about; 转人工 itself only when they said nothing else."""
    said = [t.text for t in conversation.turns if t.role == "user"]
    return next((q for q in reversed(said) if not core.asks_for_person(q)), said[-1] if said else None)


def suggestions(
    session: Session, *, conversation: AssistantSession, threshold: float = DEFAULT_THRESHOLD, turn: AssistantTurn | None = None
) -> list[str]:
    """The next questions under an answer (the latest by default), worked out again so a reload, the no-JS
    redirect or a retried question shows them."""
    turns = conversation.turns
    turn = turn if turn is not None else (turns[-1] if turns else None)
    at = turns.index(turn) if turn in turns else -1
    if conversation.status != "bot" or at < 1 or turn.role != "assistant" or turn.handover or not turn.question:
        return []
    history = [core.Turn("user" if t.role == "user" else "assistant", t.text) for t in turns[: at - 1][-HISTORY_TURNS:]]
    result = core.answer(turn.question, history, kb.combined_index(session), threshold=threshold)
    return [] if result.handover else result.follow_ups


def handover(session: Session, *, session_id: str) -> AssistantSession:
    """Queues the conversation for an operator; asking twice keeps its place in the queue."""
    conversation = get_session(session, session_id=session_id)
    if conversation.status != "bot":
        return conversation
    conversation.status = "waiting"
    conversation.handover_at = clock.now()
    _audit(session, conversation, actor=CITIZEN, action="handover", before="bot")
    question = last_question(conversation)
    if question:
        _log(session, question=question, reason="handover", conversation=conversation, turn=None)
    session.flush()
    return conversation


def queue(session: Session) -> list[AssistantSession]:
    """Conversations waiting for, or being handled by, an operator; the longest-waiting first."""
    return list(
        session.scalars(select(AssistantSession).where(AssistantSession.status.in_(("waiting", "open"))).order_by(AssistantSession.handover_at, AssistantSession.id))
    )


def operator_names(session: Session, *, conversations: list[AssistantSession]) -> dict[str, str]:
    """Staff pages name the operators of `conversations` as people (黄小燕), not by login name; an account no
    longer there keeps the name it signed with."""
    usernames = {c.operator for c in conversations if c.operator} | {t.author for c in conversations for t in c.turns if t.author}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(usernames))).all() if usernames else []
    return {**{name: name for name in usernames}, **{username: display or username for username, display in rows}}


def _refuse_handed_back(conversation: AssistantSession) -> None:
    last = next((t for t in reversed(conversation.turns) if t.role != "user"), None)
    if last is not None and last.text == ENDED_TEXT:
        raise Conflict("not_handed_over", "市民已结束对话，您的回复未发送")
    raise Conflict("not_handed_over", "该会话未转人工，无需人工回复")


def operator_reply(session: Session, *, session_id: str, text: str, operator: str) -> AssistantTurn:
    """The first reply to a waiting conversation takes it; another operator's reply to it then is refused (409)."""
    conversation = get_session(session, session_id=session_id)
    if conversation.status == "bot":
        _refuse_handed_back(conversation)
    before = conversation.status
    # Several operators watch one queue and may open the same waiting conversation: a conditional UPDATE, so
    # that of two first replies at once only one takes it, instead of both answering the citizen in turn.
    mine = or_(AssistantSession.status == "waiting", and_(AssistantSession.status == "open", AssistantSession.operator == operator))
    taken = session.execute(update(AssistantSession).where(AssistantSession.id == conversation.id, mine).values(status="open", operator=operator))
    if taken.rowcount != 1:
        session.refresh(conversation)
        if conversation.status == "bot":
            _refuse_handed_back(conversation)
        name = operator_names(session, conversations=[conversation]).get(conversation.operator, conversation.operator)
        raise Conflict("conversation_taken", f"该会话已由 {name} 接入，您的回复未发送")
    session.refresh(conversation)  # the UPDATE bypassed the loaded object, which pages later in this transaction read
    if before == "waiting":
        _audit(session, conversation, actor=operator, action="take", before=before)
    return _add_turn(session, conversation, role="operator", text=text.strip(), author=operator)


def close(session: Session, *, session_id: str, operator: str, override: bool = False) -> AssistantSession:
    """Hands the conversation back to 政务君 once the operator is done. A colleague's conversation is theirs to
    end (409), or a supervisor's (`override`, for one left open): the citizen is mid-chat with them."""
    conversation = get_session(session, session_id=session_id)
    if conversation.status == "open" and conversation.operator != operator and not override:
        name = operator_names(session, conversations=[conversation]).get(conversation.operator, conversation.operator)
        raise Conflict("conversation_taken", f"该会话由 {name} 服务中，只有 {name} 可以结束")
    if conversation.status != "bot":
        before, held_by = conversation.status, conversation.operator
        conversation.status = "bot"
        _add_turn(session, conversation, role="operator", text="人工客服已结束本次服务，如有其他问题可继续向政务君提问。", author=operator)
        # A supervisor ending a colleague's conversation says whose it was.
        _audit(session, conversation, actor=operator, action="close", before=before, **({"operator": held_by} if held_by and held_by != operator else {}))
    return conversation


def left_at(conversation: AssistantSession) -> datetime | None:
    """When the citizen closed the chat, if they have not written since: the operator need not wait for an answer."""
    last = next((t for t in reversed(conversation.turns) if t.role in ("user", "system")), None)
    return last.created_at if last is not None and last.text == LEFT_TEXT else None


def leave(session: Session, *, session_id: str, view: str | None = None) -> AssistantSession:
    """The citizen closed the chat (the widget, or the page) while waiting for or talking with an operator: a
    system line tells the operator, once until the citizen comes back (`come_back`). The conversation stays with
    the operator, so a citizen who comes back writes on where they left off and reads any reply sent meanwhile.
    `view`, the token of the page view that closed, goes into the audit row, for `come_back` to know it again;
    so does that of a second view (the chat open in two tabs, both closed), without a second line."""
    conversation = get_session(session, session_id=session_id)
    if conversation.status == "bot":
        return conversation
    if left_at(conversation) is None:
        _add_turn(session, conversation, role="system", text=LEFT_TEXT)
        _audit(session, conversation, actor=CITIZEN, action="leave", before=conversation.status, **({"view": view} if view else {}))
    elif view and view not in _left_views(session, conversation):
        _audit(session, conversation, actor=CITIZEN, action="leave", before=conversation.status, view=view)
    return conversation


def _left_views(session: Session, conversation: AssistantSession) -> set[str]:
    """The page views that sent a leave since the citizen was last back (those that said which they were)."""
    same = (AuditEntry.object_type == "assistant_session", AuditEntry.object_id == conversation.id)
    last_back = select(func.max(AuditEntry.id)).where(*same, AuditEntry.action == "assistant_session.return").scalar_subquery()
    rows = session.scalars(select(AuditEntry.data).where(*same, AuditEntry.action == "assistant_session.leave", AuditEntry.id > func.coalesce(last_back, 0)))
    return {view for data in rows if (view := (data or {}).get("view"))}


def come_back(session: Session, *, conversation: AssistantSession, view: str | None = None) -> None:
    """The citizen's page polls or they write after a leave (a reload or the next page sends the leave beacon
    too): the operator reads 市民已回到对话 and no longer that they left. Not when the request comes from a page
    view that has left (`view`, its token): a poll already on its way when the chat closed reaches us after the
    leave, and the citizen is no more back than before."""
    if conversation.status != "bot" and left_at(conversation) is not None:
        if view and view in _left_views(session, conversation):
            return
        _add_turn(session, conversation, role="system", text=BACK_TEXT)
        _audit(session, conversation, actor=CITIZEN, action="return", before=conversation.status)


def end(session: Session, *, session_id: str) -> AssistantSession:
    """The citizen's 结束对话: the operator reads so, and the citizen's next message is 政务君's again."""
    conversation = get_session(session, session_id=session_id)
    if conversation.status != "bot":
        before = conversation.status
        conversation.status = "bot"
        _add_turn(session, conversation, role="system", text=ENDED_TEXT)
        _audit(session, conversation, actor=CITIZEN, action="end", before=before)
    return conversation


def rate(session: Session, *, turn_id: int, helpful: bool) -> AssistantTurn:
    """Records the citizen's rating; an unhelpful answer is logged once for the KB editors."""
    turn = session.get(AssistantTurn, turn_id)
    if turn is None or turn.role != "assistant":
        raise NotFound("assistant_turn_not_found", "要评价的回答不存在")
    first_unhelpful = not helpful and turn.helpful is not False
    turn.helpful = helpful
    if first_unhelpful and turn.question:
        _log(session, question=turn.question, reason="unhelpful", conversation=turn.session, turn=turn)
    session.flush()
    return turn


def unanswered(session: Session, *, days: int = 30, limit: int = 2000) -> list[core.Group]:
    """Recent unanswered, handed-over and unhelpful questions, grouped so the KB gap shows as one line."""
    since = clock.now() - timedelta(days=days)
    questions = session.scalars(
        select(UnansweredQuestion.question).where(UnansweredQuestion.created_at >= since).order_by(UnansweredQuestion.id.desc()).limit(limit)
    )
    return core.group_questions(list(questions))

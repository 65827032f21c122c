from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from baishitong import idempotency
from baishitong.actors import Actor
from baishitong.assistant import schemas, service
from baishitong.config import Settings
from baishitong.deps import client_id, get_db_session, get_settings, optional_actor, rate_limit
from baishitong.org.api import require_roles

router = APIRouter(prefix="/api/v1/assistant", tags=["政务君"])

OPERATOR_ROLES = ("operator", "supervisor", "admin")
# Who may end a conversation a colleague is serving (one left open when they went off shift).
CLOSES_ANY = ("supervisor", "admin")
# Asking is public, like intake, and shares its per-client limit.
public_limit = rate_limit("assistant", "intake_rate_limit_per_minute")


def session_out(conversation, *, public: bool = False) -> schemas.SessionOut:
    """`public`: for whoever holds the session id, without the operators' account names, which are half of a
    staff sign-in (the citizen's page says 人工客服)."""
    return schemas.SessionOut(
        session_id=conversation.id,
        status=conversation.status,
        operator=None if public else conversation.operator,
        handover_at=conversation.handover_at,
        updated_at=conversation.updated_at,
        turns=[
            schemas.TurnOut(id=t.id, role=t.role, text=t.text, author=None if public else t.author, citations=t.citations, helpful=t.helpful, created_at=t.created_at)
            for t in conversation.turns
        ],
    )


@router.post("/ask", response_model=schemas.AskOut, dependencies=[public_limit])
def ask(
    data: schemas.AskIn,
    request: Request,
    session: Session = Depends(get_db_session),
    settings: Settings = Depends(get_settings),
    idempotency_key: idempotency.Key = None,
):
    """A retry with the same Idempotency-Key gets the first answer again; the question is not asked twice.
    Once the conversation is handed over the message goes to a person: `answer` says so the first time
    while the citizen waits, and is empty after that and while an operator is chatting.
    A first question's key is the asking client's own: a replay hands out the new conversation's id, the
    only key to its transcript, so another client sending the same key and question starts its own."""
    threshold = getattr(settings, "assistant_threshold", service.DEFAULT_THRESHOLD)
    target = data.session_id or f"new@{client_id(request)}"
    scope, body = idempotency.scope(service.ASK_SCOPE, target=target), data.model_dump(mode="json")
    first = idempotency.replayed(session, scope=scope, key=idempotency_key, body=body)
    if first is not None:
        reply = service.replay(session, turn_id=int(first), threshold=threshold)
    else:
        reply = service.ask(
            session,
            question=data.question,
            session_id=data.session_id,
            threshold=threshold,
            llm_base_url=settings.llm_base_url,
            llm_api_key=settings.llm_api_key,
            llm_model=settings.llm_model,
        )
        idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=reply.turn.id)
    return schemas.AskOut(
        session_id=reply.session.id,
        turn_id=reply.turn.id,
        answer="" if reply.turn.role == "user" else reply.turn.text,
        citations=reply.citations,
        confidence=reply.answer.confidence,
        follow_ups=reply.answer.follow_ups,
        handover=reply.answer.handover,
        actions=reply.actions,
    )


@router.get("/sessions/{session_id}", response_model=schemas.SessionOut, dependencies=[public_limit])
def get_session(session_id: str, actor: Actor | None = Depends(optional_actor), session: Session = Depends(get_db_session)):
    """The transcript, for the citizen holding the session id and, with their token, for operators."""
    public = actor is None or actor.role not in OPERATOR_ROLES
    return session_out(service.get_session(session, session_id=session_id), public=public)


@router.post("/sessions/{session_id}/handover", response_model=schemas.SessionOut, dependencies=[public_limit])
def handover(session_id: str, session: Session = Depends(get_db_session)):
    return session_out(service.handover(session, session_id=session_id), public=True)


@router.post("/sessions/{session_id}/leave", response_model=schemas.SessionOut, dependencies=[public_limit])
def leave(session_id: str, session: Session = Depends(get_db_session)):
    """The citizen closed the chat: the operator reads 市民已离开对话; the citizen may still write on."""
    return session_out(service.leave(session, session_id=session_id), public=True)


@router.post("/sessions/{session_id}/end", response_model=schemas.SessionOut, dependencies=[public_limit])
def end(session_id: str, session: Session = Depends(get_db_session)):
    """The citizen's 结束对话: the operator reads so, and the next question is 政务君's."""
    return session_out(service.end(session, session_id=session_id), public=True)


@router.get("/queue", response_model=list[schemas.QueueEntryOut])
def queue(actor: Actor = Depends(require_roles(*OPERATOR_ROLES)), session: Session = Depends(get_db_session)):
    return [
        schemas.QueueEntryOut(session_id=c.id, status=c.status, operator=c.operator, handover_at=c.handover_at, last_question=service.last_question(c))
        for c in service.queue(session)
    ]


@router.post("/sessions/{session_id}/reply", response_model=schemas.SessionOut)
def reply(
    session_id: str, data: schemas.ReplyIn, actor: Actor = Depends(require_roles(*OPERATOR_ROLES)), session: Session = Depends(get_db_session), idempotency_key: idempotency.Key = None
):
    """A retry with the same Idempotency-Key does not send the message twice: it answers with the conversation as it is now."""
    scope, body = idempotency.scope("assistant.reply", target=session_id, actor=actor), data.model_dump(mode="json")
    if idempotency.replayed(session, scope=scope, key=idempotency_key, body=body) is not None:
        return session_out(service.get_session(session, session_id=session_id))
    turn = service.operator_reply(session, session_id=session_id, text=data.text, operator=actor.name)
    idempotency.remember(session, scope=scope, key=idempotency_key, body=body, resource_id=turn.id)
    return session_out(turn.session)


@router.post("/sessions/{session_id}/close", response_model=schemas.SessionOut)
def close(session_id: str, actor: Actor = Depends(require_roles(*OPERATOR_ROLES)), session: Session = Depends(get_db_session)):
    return session_out(service.close(session, session_id=session_id, operator=actor.name, override=actor.role in CLOSES_ANY))


@router.post("/turns/{turn_id}/rate", response_model=schemas.RateOut, dependencies=[public_limit])
def rate(turn_id: int, data: schemas.RateIn, session: Session = Depends(get_db_session)):
    turn = service.rate(session, turn_id=turn_id, helpful=data.helpful)
    return schemas.RateOut(turn_id=turn.id, helpful=bool(turn.helpful))


@router.get("/unanswered", response_model=list[schemas.GroupOut])
def unanswered(
    days: int = Query(default=30, ge=1, le=365),
    actor: Actor = Depends(require_roles("admin", "supervisor")),
    session: Session = Depends(get_db_session),
):
    return [schemas.GroupOut(label=g.label, size=g.size, questions=g.questions) for g in service.unanswered(session, days=days)]

"""类案参考: past orders about the same matter and how they were answered, for whoever drafts a reply.

The pool is the newest answered orders the user may see (a unit only its own) under the same
level-1 category when the order has one, scored by the IDF-weighted character-bigram cosine of
duplicate detection (about 0.1 s per 1,000 past orders). A past order is described by its
opening *and its official reply*: replies restate the matter in the government's words, and with
them the right past answer is among the top 5 for 0.377 of tipdm2020c's new messages that have
one, against 0.290 without them and 0.326 for BM25 over the messages (bench/assistant.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.org.models import Category, Unit
from baishitong.routing.duplicates import similarities
from baishitong.security import mask_numbers_in_text
from baishitong.tickets.models import Ticket
from baishitong.tickets.states import Status

POOL = 1500
MESSAGE_CHARS = 200
REPLY_CHARS = 600
# Below this the "case" shares little more than boilerplate with the order.
MIN_SIMILARITY = 0.1
ANSWERED = (Status.REPLIED, Status.CALLBACK, Status.CLOSED, Status.ARCHIVED)


@dataclass(frozen=True)
class Case:
    number: str
    title: str
    unit: str | None
    replied_at: datetime | None
    satisfaction: str | None
    reply: str
    similarity: float


def case_text(title: str | None, content: str, reply: str = "") -> str:
    return f"{title or ''}。{content[:MESSAGE_CHARS]}。{reply[:REPLY_CHARS]}"


def similar_cases(session: Session, *, ticket: Ticket, actor: Actor, limit: int = 5) -> list[Case]:
    """Up to `limit` answered orders most like this one, best first; a unit sees only its own."""
    query = (
        select(Ticket.number, Ticket.title, func.substr(Ticket.content, 1, MESSAGE_CHARS), func.substr(Ticket.reply_content, 1, REPLY_CHARS), Ticket.replied_at, Ticket.callback_satisfaction, Unit.name)
        .outerjoin(Unit, Unit.id == Ticket.lead_unit_id)
        .where(Ticket.status.in_([s.value for s in ANSWERED]), Ticket.reply_content.is_not(None), Ticket.id != ticket.id, Ticket.master_id.is_(None))
        .order_by(Ticket.created_at.desc())
        .limit(POOL)
    )
    if actor.is_unit_staff:
        query = query.where(Ticket.lead_unit_id == actor.unit_id)
    if ticket.category is not None:
        # Category codes nest (01 ⊃ 0101 ⊃ 010101, enforced by org.save_category): one prefix is the whole branch.
        query = query.join(Category, Category.id == Ticket.category_id).where(Category.code.startswith(ticket.category.root.code, autoescape=True))
    rows = session.execute(query).all()
    if not rows:
        return []
    scores = similarities(case_text(ticket.title, ticket.content), [case_text(r[1], r[2], r[3]) for r in rows])
    best = [(score, r) for score, r in sorted(zip(scores, rows), key=lambda pair: -pair[0])[:limit] if score >= MIN_SIMILARITY]
    replies = dict(session.execute(select(Ticket.number, Ticket.reply_content).where(Ticket.number.in_([r[0] for _, r in best]))).all()) if best else {}
    return [
        Case(number=r[0], title=r[1], unit=r[6], replied_at=r[4], satisfaction=r[5], reply=mask_numbers_in_text(replies.get(r[0]) or r[3]), similarity=round(score, 3))
        for score, r in best
    ]

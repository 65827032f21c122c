"""来电历史: a caller's earlier work orders, shown to the hotline operator as soon as the number is typed.

A repeat caller is often asking about a matter already open ("我上周反映的还没人来"), so the operator
can answer from the existing order or merge the new call into it instead of filing a duplicate.
Linking a number to its orders is a view of personal data: each lookup that shows something is
audited, once per operator and number within AUDIT_EVERY (the console refreshes as the operator types).
The audit keeps the number masked plus a keyed hash, so an investigator holding a number can still
find every lookup of it.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.audit import service as audit
from baishitong.audit.models import AuditEntry
from baishitong.config import get_settings
from baishitong.db import utcnow
from baishitong.errors import Forbidden
from baishitong.security import keyed_tag, mask_phone
from baishitong.tickets.models import Ticket
from baishitong.tickets.states import CENTRE, OPEN_STATUSES
from baishitong.tickets.validation import normalise_phone

SHOWN = 5
AUDIT_EVERY = timedelta(minutes=30)


@dataclass(frozen=True)
class CallerHistory:
    total: int
    open: int
    recent: list[Ticket]

    def is_open(self, ticket: Ticket) -> bool:
        """Still being handled, so a repeat call about it can be merged into it."""
        return ticket.status in OPEN_STATUSES


def audit_key(digits: str) -> str:
    """'138****5678#<16 hex>': readable enough for the trail, and findable with the secret key."""
    return f"{mask_phone(digits)}#{keyed_tag(get_settings().secret_key, digits)}"


def caller_history(session: Session, *, phone: str, actor: Actor, shown: int = SHOWN) -> CallerHistory | None:
    """None until the number is a complete phone number; otherwise the totals and the newest orders."""
    if actor.role not in CENTRE:
        raise Forbidden("role_not_allowed", "只有12345中心人员可以查看来电历史")
    try:
        digits = normalise_phone(phone)
    except ValueError:
        return None
    by_caller = Ticket.requester_phone == digits
    total = session.scalar(select(func.count()).select_from(Ticket).where(by_caller)) or 0
    if not total:
        return CallerHistory(total=0, open=0, recent=[])
    open_count = session.scalar(select(func.count()).select_from(Ticket).where(by_caller, Ticket.status.in_(OPEN_STATUSES))) or 0
    # Open orders first: they are what a repeat caller is most likely ringing about.
    recent = list(session.scalars(select(Ticket).where(by_caller).order_by(Ticket.status.in_(OPEN_STATUSES).desc(), Ticket.created_at.desc()).limit(shown)))
    _audit_once(session, actor=actor, key=audit_key(digits), numbers=[t.number for t in recent], total=total)
    return CallerHistory(total=total, open=open_count, recent=recent)


def _audit_once(session: Session, *, actor: Actor, key: str, numbers: list[str], total: int) -> None:
    since = utcnow() - AUDIT_EVERY
    seen = session.scalar(
        select(AuditEntry.id).where(AuditEntry.object_id == key, AuditEntry.action == "personal_data.view", AuditEntry.actor == actor.name, AuditEntry.at >= since).limit(1)
    )
    if seen is None:
        audit.record(session, actor=actor.name, action="personal_data.view", object_type="caller", object_id=key, data={"role": actor.role, "purpose": "来电历史", "total": total, "tickets": numbers})

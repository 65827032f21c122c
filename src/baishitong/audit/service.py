"""Append-only audit trail with a hash chain.

record() inserts an entry unsealed and takes no lock, so a rolled-back
savepoint drops its entries and later reads in the transaction see them. Just
before the transaction commits, seal() links the surviving entries onto the
chain head. Sealers are serialised from reading the head to commit: SQLite
write transactions begin IMMEDIATE (see db.py); PostgreSQL takes an advisory
lock only here, so concurrent writers queue for the sealing, not the whole
transaction.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from baishitong.audit.models import AuditEntry
from baishitong.db import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 7_300_012_345
_UNSEALED = "audit_unsealed"


def _digest(entry: AuditEntry) -> str:
    payload = json.dumps(
        [entry.prev_hash, entry.at.isoformat(), entry.actor, entry.action, entry.object_type, entry.object_id, entry.data],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str, data: dict | None = None) -> AuditEntry:
    """Writes the entry unsealed; it joins the chain when the transaction commits."""
    # Microsecond precision is kept by both databases, so the hash can be recomputed.
    entry = AuditEntry(at=utcnow(), actor=actor, action=action, object_type=object_type, object_id=str(object_id), data=data or {})
    session.add(entry)
    session.flush()
    session.info[_UNSEALED] = True
    return entry


def seal(session: Session) -> None:
    """Chains this transaction's unsealed entries after the head, in the order they were written."""
    session.info.pop(_UNSEALED, None)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    # Other transactions' unsealed rows are uncommitted, hence invisible: these are ours.
    unsealed = session.scalars(select(AuditEntry).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id)).all()
    if not unsealed:
        return
    head = session.execute(select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = head or (0, GENESIS)
    for entry in unsealed:
        seq += 1
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = _digest(entry)
    session.flush()


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    """Both commit paths (request and worker) go through Session.commit; a savepoint release is not a commit."""
    if session.info.get(_UNSEALED) and not session.in_nested_transaction():
        seal(session)


@dataclass
class VerifyResult:
    checked: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walks the chain in seq order; unsealed rows belong to transactions still open and are not in it yet."""
    prev, checked, last_seq = GENESIS, 0, 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            return VerifyResult(checked, None, None)
        for entry in rows:
            if entry.prev_hash != prev:
                return VerifyResult(checked, entry.id, "上一条记录的哈希不符（记录被删除或插入）")
            if _digest(entry) != entry.hash:
                return VerifyResult(checked, entry.id, "记录内容与哈希不符（记录被篡改）")
            prev = entry.hash
            checked += 1
            last_seq = entry.seq
        session.expunge_all()


def entries_for(session: Session, *, object_type: str, object_id: str, actions: tuple[str, ...] | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(session.scalars(query.order_by(AuditEntry.id)))

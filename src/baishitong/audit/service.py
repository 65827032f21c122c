"""Append-only audit trail with a hash chain.

Writers are serialised while they read the chain head: SQLite write
transactions begin IMMEDIATE (see db.py), PostgreSQL takes an advisory lock.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from baishitong.audit.models import AuditEntry
from baishitong.db import utcnow

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 7_300_012_345


def _digest(entry: AuditEntry) -> str:
    payload = json.dumps(
        [entry.prev_hash, entry.at.isoformat(), entry.actor, entry.action, entry.object_type, entry.object_id, entry.data],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str, data: dict | None = None) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    head = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    # Microsecond precision is kept by both databases, so the hash can be recomputed.
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
        prev_hash=head or GENESIS,
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    checked: int
    broken_at: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    prev, checked, last_id = GENESIS, 0, 0
    while True:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return VerifyResult(checked, None, None)
        for entry in rows:
            if entry.prev_hash != prev:
                return VerifyResult(checked, entry.id, "上一条记录的哈希不符（记录被删除或插入）")
            if _digest(entry) != entry.hash:
                return VerifyResult(checked, entry.id, "记录内容与哈希不符（记录被篡改）")
            prev = entry.hash
            checked += 1
            last_id = entry.id
        session.expunge_all()


def entries_for(session: Session, *, object_type: str, object_id: str, actions: tuple[str, ...] | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id))
    if actions:
        query = query.where(AuditEntry.action.in_(actions))
    return list(session.scalars(query.order_by(AuditEntry.id)))

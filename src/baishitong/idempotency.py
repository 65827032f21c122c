"""Idempotency-Key: a retried POST answers as the first one did instead of creating or acting again.

The first request with a key stores what it produced (a ticket number, an article id …) next to a hash of
its body; a retry with the same key and body gets that resource back, the same key with another body is a
409. A key is unique within a scope: the endpoint, what it acts on and the staff member acting, so one
handler's "note-1" on one order never answers for another order, action or colleague.

Keys are kept for BAISHITONG_IDEMPOTENCY_RETENTION_HOURS (a client retries within minutes, not days);
the worker deletes older ones every hour so the table does not grow forever.
"""

import hashlib
import json
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from baishitong.actors import Actor
from baishitong.db import Database
from baishitong.errors import Conflict, InvalidInput
from baishitong.tickets.models import IdempotencyKey


def _key(
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=128, description="重试同一请求时带上相同的值：不会重复创建或重复操作，返回首次的结果；带上时不能为空"),
    ] = None,
) -> str | None:
    """A header sent blank (a template's unfilled variable) is refused, not taken as no key: the client meant its
    retries to be answered once, and without a key each would create or act again."""
    if idempotency_key is not None and not idempotency_key.strip():
        raise InvalidInput("invalid_idempotency_key", "Idempotency-Key 不能为空")
    return idempotency_key


Key = Annotated[str | None, Depends(_key)]


def replayed_response(model: type) -> dict[int | str, dict]:
    """The OpenAPI entry for a create's retry: 200 with what the first request created, beside its own 201."""
    return {200: {"model": model, "description": "同一 Idempotency-Key 和内容的重试：返回首次创建的结果，不再新建"}}


def fingerprint(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def scope(endpoint: str, *, target: str | int | None = None, actor: Actor | None = None) -> str:
    parts = [endpoint]
    if target is not None:
        parts.append(str(target))
    if actor is not None and actor.user_id is not None:
        parts.append(f"user{actor.user_id}")
    return ":".join(parts)


def replayed(session: Session, *, scope: str, key: str | None, body: dict) -> str | None:
    """The resource the first request with this key produced; None without a key or for a new one."""
    if not key:
        return None
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_hash != fingerprint(body):
        raise Conflict("idempotency_key_reused", "该幂等键已用于内容不同的请求，请更换 Idempotency-Key")
    return row.resource_id


def remember(session: Session, *, scope: str, key: str | None, body: dict, resource_id: str | int) -> None:
    """Called in the request's transaction once the work is done, so the key and the work commit together."""
    if not key:
        return
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(scope=scope, key=key, request_hash=fingerprint(body), resource_id=str(resource_id)))
    except IntegrityError:
        # A concurrent request with the same key won: this one must not do the work a second time.
        raise Conflict("idempotency_in_progress", "相同 Idempotency-Key 的请求正在处理，请稍后重试") from None


PURGE_BATCH = 1000


def purge_batch(session: Session, *, before: datetime, limit: int = PURGE_BATCH) -> int:
    """Deletes at most `limit` keys created before `before`; returns how many went."""
    ids = select(IdempotencyKey.id).where(IdempotencyKey.created_at < before).limit(limit)
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)).execution_options(synchronize_session=False))
    return result.rowcount


def purge_expired(db: Database, *, now: datetime, retention_hours: int, batch: int = PURGE_BATCH) -> int:
    """Deletes keys older than the retention, one short transaction per batch so writers are never held
    up for long; running it again finds nothing more to delete."""
    before, total = now - timedelta(hours=retention_hours), 0
    while True:
        with db.session() as session:
            deleted = purge_batch(session, before=before, limit=batch)
        total += deleted
        if deleted < batch:
            return total

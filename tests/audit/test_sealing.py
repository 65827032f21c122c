"""Audit entries are written unsealed and chained at commit, so concurrent writers only queue to seal."""

import threading

import pytest
from alembic import command
from sqlalchemy import insert

from baishitong import migrate
from baishitong.audit import service as audit
from baishitong.audit.models import AuditEntry
from baishitong.db import Database, utcnow
from tests.conftest import create_fresh_database, drop_fresh_database


def _record(session, object_id: str, action: str = "test.note") -> AuditEntry:
    return audit.record(session, actor="tester", action=action, object_type="test", object_id=object_id)


def _actions(session, object_id: str) -> list[str]:
    return [e.action for e in audit.entries_for(session, object_type="test", object_id=object_id)]


@pytest.fixture
def fresh_database(tmp_path):
    url = create_fresh_database(tmp_path)
    try:
        migrate.upgrade(url)
        db = Database(url)
        yield db
        db.dispose()
    finally:
        drop_fresh_database(url)


def test_entries_are_readable_in_their_transaction_and_sealed_at_commit(session):
    entry = _record(session, "read-own")
    assert entry.hash is None
    assert _actions(session, "read-own") == ["test.note"]
    session.commit()
    assert entry.seq is not None and entry.hash is not None
    assert audit.verify(session).ok


def test_rolled_back_savepoint_drops_its_entries(session):
    before = _record(session, "sp-rollback", "test.before")
    savepoint = session.begin_nested()
    _record(session, "sp-rollback", "test.inside")
    savepoint.rollback()
    after = _record(session, "sp-rollback", "test.after")
    session.commit()
    assert _actions(session, "sp-rollback") == ["test.before", "test.after"]
    assert after.prev_hash == before.hash and after.seq == before.seq + 1
    assert audit.verify(session).ok


def test_released_savepoint_keeps_its_entries(session):
    before = _record(session, "sp-release", "test.before")
    with session.begin_nested():
        inside = _record(session, "sp-release", "test.inside")
    assert inside.hash is None, "a savepoint release is not a commit"
    session.commit()
    assert _actions(session, "sp-release") == ["test.before", "test.inside"]
    assert inside.prev_hash == before.hash
    assert audit.verify(session).ok


def test_commit_with_a_savepoint_still_open_seals_its_entries(session):
    session.begin_nested()
    entry = _record(session, "sp-open")
    session.commit()
    assert entry.hash is not None
    assert audit.verify(session).ok


def test_chain_follows_commit_order_not_insert_order(fresh_database):
    if fresh_database.is_sqlite:
        pytest.skip("SQLite write transactions begin IMMEDIATE: two cannot interleave")
    first, second = fresh_database.write_sessions(), fresh_database.write_sessions()
    try:
        early = _record(first, "interleave", "test.first")
        _record(second, "interleave", "test.second")
        late = _record(first, "interleave", "test.first-again")
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert late.prev_hash == early.hash
    with fresh_database.session(write=False) as session:
        rows = audit.entries_for(session, object_type="test", object_id="interleave")
        assert [e.action for e in rows] == ["test.first", "test.second", "test.first-again"]
        assert [e.action for e in sorted(rows, key=lambda e: e.seq)] == ["test.second", "test.first", "test.first-again"]
        assert audit.verify(session).ok


def test_concurrent_writers_leave_a_verifiable_chain(fresh_database):
    if fresh_database.is_sqlite:
        pytest.skip("SQLite write transactions begin IMMEDIATE: writers never overlap")
    threads, commits = 6, 15
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for _ in range(commits):
                with fresh_database.session() as session:
                    _record(session, f"w{n}", "test.one")
                    _record(session, f"w{n}", "test.two")
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures
    with fresh_database.session(write=False) as session:
        result = audit.verify(session)
        assert result.ok, result
        assert result.checked == threads * commits * 2


def test_migration_keeps_a_chain_written_in_id_order(tmp_path):
    url = create_fresh_database(tmp_path)
    try:
        command.upgrade(migrate.alembic_config(url), "0009_hot_topics")
        db = Database(url)
        prev, rows = audit.GENESIS, []
        for i in range(3):
            entry = AuditEntry(at=utcnow(), actor="old", action="test.old", object_type="test", object_id=str(i), data={"i": i}, prev_hash=prev)
            entry.hash = prev = audit._digest(entry)
            rows.append({c: getattr(entry, c) for c in ("at", "actor", "action", "object_type", "object_id", "data", "prev_hash", "hash")})
        with db.engine.begin() as conn:
            conn.execute(insert(AuditEntry.__table__), rows)
        migrate.upgrade(url)
        with db.session() as session:
            _record(session, "after-migration")
        with db.session(write=False) as session:
            result = audit.verify(session)
            assert result.ok and result.checked == 4
        db.dispose()
    finally:
        drop_fresh_database(url)

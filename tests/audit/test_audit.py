"""The audit trail is append-only and hash-chained; `baishitong audit verify` finds tampering."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from baishitong import migrate
from baishitong.audit import service as audit
from baishitong.audit.models import AuditEntry
from baishitong.cli import main
from baishitong.db import Database
from tests.conftest import create_fresh_database, drop_fresh_database, seed_test_database
from tests.tickets.factories import make_ticket


def test_every_state_change_is_chained_in_the_audit_trail(session):
    ticket = make_ticket(session, state="closed")
    session.commit()
    entries = audit.entries_for(session, object_type="ticket", object_id=ticket.number)
    assert [e.action for e in entries] == ["ticket.register", "ticket.dispatch", "ticket.sign", "ticket.reply", "ticket.callback", "ticket.close"]
    for earlier, later in zip(entries, entries[1:]):
        assert later.prev_hash == earlier.hash or later.seq > earlier.seq + 1
    assert audit.verify(session).ok


def test_audit_rows_cannot_be_updated_or_deleted(session):
    make_ticket(session)
    session.commit()
    make_ticket(session)
    statements = (
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        # Sealed rows cannot be unsealed (to be sealed again elsewhere in the chain) ...
        "UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq IS NOT NULL",
        # ... and sealing an unsealed row may not change what it says.
        "UPDATE audit_log SET seq = -id, prev_hash = 'x', hash = 'x' || id, actor = 'mallory' WHERE seq IS NULL",
    )
    for statement in statements:
        savepoint = session.begin_nested()
        with pytest.raises(DBAPIError):
            session.execute(text(statement))
            session.flush()
        savepoint.rollback()


def test_verify_reports_the_tampered_row(tmp_path):
    url = create_fresh_database(tmp_path)
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
            make_ticket(session, state="signed")
        runner = CliRunner()
        clean = runner.invoke(main, ["audit", "verify", "--db", url])
        assert clean.exit_code == 0, clean.output
        assert "审计链完整" in clean.output

        with db.engine.begin() as conn:
            victim = conn.execute(select(AuditEntry.id).order_by(AuditEntry.id).limit(1).offset(2)).scalar_one()
            if db.is_sqlite:
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            else:
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
            conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE id = :id"), {"id": victim})
        tampered = runner.invoke(main, ["audit", "verify", "--db", url])
        assert tampered.exit_code == 1
        assert f"第 {victim} 条" in tampered.output and "篡改" in tampered.output
        db.dispose()
    finally:
        drop_fresh_database(url)

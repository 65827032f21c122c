"""audit chain sealed at commit: seq column, unsealed rows, sealing-only updates

Revision ID: 0010_audit_seal_at_commit
Revises: 0009_hot_topics
Create Date: 2026-12-04 18:30:00

Rows are inserted unsealed (no prev_hash, hash or seq) and sealed just before
their transaction commits, so the chain follows `seq` (sealing order), not `id`
(insertion order). Existing rows were chained in id order: seq = id. The
append-only triggers now let exactly one update through per row, the one that
seals it without touching anything else.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_audit_seal_at_commit"
down_revision = "0009_hot_topics"
branch_labels = None
depends_on = None

_SEALING_ONLY = """OLD.seq IS NULL AND OLD.hash IS NULL AND OLD.prev_hash IS NULL
    AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
    AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id AND NEW.data IS OLD.data"""

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN NOT ({_SEALING_ONLY})
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]
PG_FUNCTION = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL AND OLD.prev_hash IS NULL
           AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
           AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.object_type, NEW.object_id, NEW.data::text)
               IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.object_type, OLD.object_id, OLD.data::text)
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only';
    END $$"""
PG_OLD_FUNCTION = """CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"""
PG_TRIGGER = "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
SQLITE_OLD_TRIGGERS = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    SQLITE_TRIGGERS[1],
]


def _drop_triggers(is_pg: bool) -> None:
    if is_pg:
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    _drop_triggers(is_pg)
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint("uq_audit_log_seq", ["seq"])
    op.execute("UPDATE audit_log SET seq = id")
    if is_pg:
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    # Rows sealed out of id order (concurrent writers) will then fail the old, id-ordered verify().
    is_pg = op.get_bind().dialect.name == "postgresql"
    _drop_triggers(is_pg)
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_constraint("uq_audit_log_seq", type_="unique")
        batch_op.drop_column("seq")
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    if is_pg:
        op.execute(PG_OLD_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_OLD_TRIGGERS:
            op.execute(statement)

"""Engine, sessions and the transaction boundary.

Services never commit: the request dependency (or a worker job) owns the
transaction, and callbacks registered with `after_commit` (e.g. sending queued
jobs) run only once the data they refer to is durable.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from baishitong.errors import InvalidInput

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, so SQLite and PostgreSQL agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, dict: JSON, list: JSON}


def utcnow() -> datetime:
    from baishitong import clock

    return clock.now()


DATABASE_UNAVAILABLE = "系统暂时无法访问数据库，本次操作未完成、未保存，请稍后再试"
# Seconds a client is asked to wait (Retry-After) before trying again.
DATABASE_RETRY_AFTER = 30


def database_unavailable(exc: BaseException) -> bool:
    """The database could not be reached (down, restarting, connection dropped, pool exhausted, SQLite locked past
    its busy timeout): the request did nothing, and the same request later may well succeed. Answered 503."""
    if isinstance(exc, OperationalError) and "no such table" in str(exc.orig):
        return False  # SQLite's word for a schema never migrated: the database is there, trying again won't help
    if isinstance(exc, OperationalError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def unavailable_reason(exc: BaseException) -> str:
    """The driver's own line on why (connection refused, server closed the connection, pool exhausted), without
    SQLAlchemy's statement and link: what one log line per refused request needs to say."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = lines[0] if lines else type(exc).__name__
    return reason.split(" (Background on this error at:", 1)[0]


NUL_REFUSED = "请求中含有空字符（\\u0000），无法保存或查询，请删除后重试"


def make_engine(url: str, **kwargs) -> Engine:
    # A database error's text (logged, kept as a job's last error) would otherwise list the statement's
    # values: a requester's phone, ID number and words.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)
    _refuse_nul_characters(engine)
    return engine


def _refuse_nul_characters(engine: Engine) -> None:
    """PostgreSQL cannot hold a NUL character in text, nor look one up: psycopg refuses the statement, a
    500 on Open311 and a misleading out-of-range answer on the API. Any text a request hands the database
    (an order's content, a number looked up, an Open311 token) is refused with a 422 saying why instead,
    on SQLite too, so an integration behaves the same on either and a stored order never carries one."""

    @event.listens_for(engine, "before_cursor_execute")
    def _check(_conn, _cursor, _statement, parameters, _context, _executemany):
        if any("\x00" in value for value in _texts(parameters)):
            raise InvalidInput("nul_character", NUL_REFUSED)


def _texts(parameters) -> Iterator[str]:
    """The strings among a statement's parameters: one row or many, as a mapping or a sequence (a batch of
    inserts comes as one flat sequence)."""
    if isinstance(parameters, str):
        yield parameters
    elif isinstance(parameters, dict):
        for value in parameters.values():
            yield from _texts(value)
    elif isinstance(parameters, list | tuple):
        for value in parameters:
            yield from _texts(value)


def _configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers; our own BEGIN so writers can take the lock up front.

    A deferred transaction that reads and then writes fails outright when another
    writer committed in between (no busy wait applies), so write transactions
    begin IMMEDIATE and queue on busy_timeout instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One per process: the engine and two session factories (read, write)."""

    def __init__(self, url: str):
        # Every domain's tables, whatever else this process imported: a flush resolves each foreign key's target, and
        # the worker, which imports no assistant code, writes orders that point to a conversation.
        import baishitong.models  # noqa: F401

        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        write_bind = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        self.read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(write_bind, expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on error, then after-commit hooks."""
        session = (self.write_sessions if write else self.read_sessions)()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop("after_commit", None)
            raise
        finally:
            session.close()
        run_after_commit(session)

    def dispose(self) -> None:
        self.engine.dispose()


def claim_version(session: Session, row, expected: int | None, *, message: str) -> None:
    """Compare-and-set on `row.version` before an edit: of two people saving what they both opened,
    one wins and the other gets 409 with `message`, instead of silently overwriting the first.
    `expected` is the version the editor started from (None: whatever is current, for callers that
    have no form to compare, yet two such saves at once still conflict)."""
    from baishitong.errors import Conflict

    current = row.version
    if expected is not None and expected != current:
        raise Conflict("version_conflict", message, details={"current_version": current})
    model = type(row)
    result = session.execute(update(model).where(model.id == row.id, model.version == current).values(version=current + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict("version_conflict", message)
    set_committed_value(row, "version", current + 1)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Runs callback after the unit of work commits; dropped if it rolls back."""
    session.info.setdefault("after_commit", []).append(callback)


def run_after_commit(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        callback()

"""Test database: built by running the migrations, each test in a rolled-back transaction.

BAISHITONG_TEST_DATABASE_URL selects PostgreSQL (CI runs the suite on both);
otherwise a SQLite file in a temporary directory.
"""

import os
import tempfile
import uuid
from pathlib import Path

# Jobs run in-process right after commit, against the test database (set below).
os.environ.setdefault("BAISHITONG_QUEUE_BACKEND", "immediate")
os.environ.setdefault("BAISHITONG_VAR_DIR", tempfile.mkdtemp(prefix="baishitong-test-"))

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from baishitong import migrate, seed
from baishitong.actors import Actor
from baishitong.app import create_app
from baishitong.config import Settings
from baishitong.db import Database
from baishitong.deps import get_db_session
from baishitong.jobs import queue
from baishitong.org import service as org
from tests.routing.factories import train_router

TEST_PASSWORD = "test-password-1"
_shared: dict[str, Database | None] = {"database": None}


def _is_pg(url: str) -> bool:
    return url.startswith("postgresql")


def _reset_pg(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def create_fresh_database(tmp_path: Path) -> str:
    """A brand-new empty database of the kind under test, for multi-process tests."""
    base = os.environ.get("BAISHITONG_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    name = f"bst_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_fresh_database(url: str) -> None:
    if not _is_pg(url):
        return
    name = make_url(url).database
    admin = create_engine(os.environ["BAISHITONG_TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def insert_ticket_row(conn, *, status: str = "registered", title: str = "排水沟堵了", version: int = 1, **columns: str) -> None:
    """Order 1 (SD1) written in SQL, for a migration test: the models describe the newest schema, not the one
    the test has migrated to. `columns` adds values of the schema's newer columns."""
    names = "".join(f", {name}" for name in columns)
    values = "".join(f", :{name}" for name in columns)
    conn.execute(
        text(
            "INSERT INTO tickets (id, number, channel, type, title, content, status, urgency, anonymous, confidential, supervised,"
            f" deadline_provisional, paused, clock_stopped, urge_count, redo_count, extension_granted_days, version, created_at, updated_at{names})"
            " VALUES (1, 'SD1', 'web', '投诉', :title, :content, :status, 'normal', false, false, false, false, false, false, 0, 0, 0, :version,"
            f" CURRENT_TIMESTAMP, CURRENT_TIMESTAMP{values})"
        ),
        {"title": title, "content": title, "status": status, "version": version, **columns},
    )


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("BAISHITONG_TEST_DATABASE_URL")
    if url:
        _reset_pg(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database(database_url) -> Database:
    db = Database(database_url)
    queue.use_database(db)
    _shared["database"] = db
    with db.session() as session:
        seed_test_database(session)
    yield db
    db.dispose()


TEST_USERS = [
    ("t_operator", "operator", None),
    ("t_supervisor", "supervisor", None),
    ("t_admin", "admin", None),
    ("t_ronggui", "handler", "ronggui"),
    ("t_ronggui2", "handler", "ronggui"),
    ("t_ronggui_admin", "unit_admin", "ronggui"),
    ("t_daliang", "handler", "daliang"),
    ("t_sjj", "handler", "SJJ"),
    ("t_gaoli", "handler", "440606006023"),
]


def seed_test_database(session: Session) -> None:
    seed.load_reference(session)
    for username, role, unit in TEST_USERS:
        org.create_user(session, username=username, password=TEST_PASSWORD, role=role, unit_code=unit)


@pytest.fixture
def session(database: Database):
    """A session whose every commit is a savepoint inside one transaction rolled back at the end."""
    connection = database.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture(scope="module")
def _module_database(tmp_path_factory) -> Database:
    url = create_fresh_database(tmp_path_factory.mktemp("own"))
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            seed_test_database(session)
        yield db
        db.dispose()
    finally:
        drop_fresh_database(url)


@pytest.fixture
def own_database(database, _module_database) -> Database:
    """A database shared only by the tests of one module, seeded like `database`, with the jobs pointed at
    it: for tests that must really commit (threads, separate sessions), since the append-only audit
    trail cannot be cleaned up and what stays committed would show up in other modules' tests."""
    queue.use_database(_module_database)
    return _module_database


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, queue_backend="immediate", intake_rate_limit_per_minute=10_000, track_rate_limit_per_minute=10_000, warm_up=False)


@pytest.fixture
def app(settings, database, session):
    application = create_app(settings, database=database)

    def override():
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    application.dependency_overrides[get_db_session] = override
    return application


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def web(app) -> TestClient:
    """A browser for the pages: its own cookie jar (staff session, CSRF), apart from `client`."""
    with TestClient(app) as browser:
        yield browser


def actor(session: Session, username: str) -> Actor:
    return Actor.for_user(org.get_user(session, username=username))


@pytest.fixture
def login(client):
    tokens: dict[str, str] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in tokens:
            response = client.post("/api/v1/auth/token", json={"username": username, "password": TEST_PASSWORD})
            assert response.status_code == 200, response.text
            tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {tokens[username]}"}

    return headers


@pytest.fixture
def model(session):
    """An active router trained on clear topics."""
    return train_router(session)


@pytest.fixture(autouse=True)
def _routing_reference_forgotten():
    """A test's router model and catalogue are rolled back with it; so is the process's cached copy."""
    yield
    from baishitong.routing import service as routing

    routing._bump()


@pytest.fixture(autouse=True)
def _jobs_run_against_the_test_database():
    """Commands under test may point the job queue at their own database; point it back."""
    yield
    if _shared["database"] is not None:
        queue.use_database(_shared["database"])

"""The database down or restarting while the app runs: every request is answered 503 with a Chinese error (JSON on the
API, the spec's list on Open311, a page on the site) and Retry-After, nothing of it is stored, and the same request
sent once the database is back is registered as usual."""

import logging
import re
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from baishitong.app import create_app
from baishitong.db import DATABASE_UNAVAILABLE
from baishitong.tickets.models import Ticket
from tests.tickets.factories import PHONE
from tests.web.test_pages import submit_form

TICKET = {"type": "投诉", "content": "大良街道新桂路路灯连续三天不亮，晚上行人很不安全。", "requester": {"name": "陈先生", "phone": PHONE}}


@pytest.fixture
def app(settings, own_database):
    """Sessions of its own, committed for real, as in production (not the test's rolled-back one)."""
    return create_app(settings, database=own_database)


# raise_server_exceptions=False in the tests of what is answered, so that a regression shows as a wrong answer rather than an error.


@contextmanager
def database_down(db):
    """New connections are refused, as while the server restarts; those in the pool are gone with it."""
    db.engine.dispose()

    def refuse(*_args, **_kwargs):
        raise db.engine.dialect.loaded_dbapi.OperationalError("connection refused: the database system is starting up")

    event.listen(db.engine, "do_connect", refuse)
    try:
        yield
    finally:
        event.remove(db.engine, "do_connect", refuse)


def tickets(db) -> int:
    with db.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(Ticket))


def assert_unavailable(response):
    assert response.status_code == 503, response.text
    assert response.json() == {"error": {"code": "database_unavailable", "message": DATABASE_UNAVAILABLE}}
    assert response.headers["Retry-After"] == "30"


def test_an_api_read_and_a_submission_while_the_database_is_down_get_503_and_the_retry_afterwards_is_registered(app, own_database):
    before = tickets(own_database)
    with TestClient(app, raise_server_exceptions=False) as client:
        with database_down(own_database):
            assert_unavailable(client.get("/api/v1/categories"))
            assert_unavailable(client.post("/api/v1/tickets", json=TICKET, headers={"Idempotency-Key": "down-1"}))
        assert tickets(own_database) == before
        again = client.post("/api/v1/tickets", json=TICKET, headers={"Idempotency-Key": "down-1"})
        assert again.status_code == 201, again.text
    assert tickets(own_database) == before + 1


def test_a_commit_that_fails_as_the_database_goes_away_is_503_and_stores_nothing(app, own_database):
    before = tickets(own_database)

    def lost(_connection):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(own_database.engine, "commit", lost)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.post("/api/v1/tickets", json=TICKET | {"content": "容桂街道桂洲大道东路段井盖缺失，存在安全隐患。"})
    finally:
        event.remove(own_database.engine, "commit", lost)
    assert_unavailable(response)
    assert tickets(own_database) == before


def test_a_page_and_a_citizen_form_while_the_database_is_down_get_a_chinese_503_page_and_the_form_is_sent_later(app, own_database):
    with TestClient(app, raise_server_exceptions=False) as web:
        form = submit_form(web, content="伦教街道三洲路段积水严重，车辆无法通行，请尽快处理。")
        with database_down(own_database):
            page = web.get("/submit")
            sent = web.post("/submit", data=form, follow_redirects=False)
        for response in (page, sent):
            assert response.status_code == 503 and response.headers["content-type"].startswith("text/html")
            assert "系统暂时无法使用" in response.text and "没有保存" in response.text and "Traceback" not in response.text
        assert 'href="/submit"' in sent.text  # the way back to the form, to send it again
        again = web.post("/submit", data=form, follow_redirects=False)
        assert again.status_code == 303 and re.search(r"/submit/done/SD\d+$", again.headers["location"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_while_the_database_is_down_answers_503_in_the_specs_format(app, own_database, fmt):
    with TestClient(app, raise_server_exceptions=False) as client, database_down(own_database):
        response = client.get(f"/open311/v2/services.{fmt}")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "503" in response.text and DATABASE_UNAVAILABLE in response.text


def test_after_a_postgresql_restart_the_next_request_succeeds_on_a_fresh_connection(app, own_database):
    """The pooled connections die with the server; each is checked before use (pool_pre_ping) and replaced."""
    if own_database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no server to restart")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/v1/categories").status_code == 200
        admin = create_engine(own_database.url, poolclass=NullPool)
        with admin.connect() as conn:
            killed = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        assert killed >= 1
        assert client.get("/api/v1/categories").status_code == 200


def test_the_api_documentation_names_the_503_and_that_the_request_may_be_sent_again(app):
    description = app.openapi()["paths"]["/api/v1/tickets"]["post"]["responses"]["5XX"]["description"]
    assert "503" in description and "database_unavailable" in description and "Retry-After" in description


def test_while_the_database_is_down_each_refused_request_logs_one_warning_line_without_a_traceback(app, own_database, caplog):
    """A small server's log would otherwise take a whole traceback per request for as long as the database is away."""
    # raise_server_exceptions left on: an error raised on to the server (which logs its traceback) fails the request here.
    with TestClient(app) as client, database_down(own_database):
        caplog.clear()
        assert_unavailable(client.get("/api/v1/categories"))
        assert client.get("/submit").status_code == 503
        assert client.get("/open311/v2/services.json").status_code == 503
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in lines] == [
        f"database unavailable on GET {path}: connection refused: the database system is starting up"
        for path in ("/api/v1/categories", "/submit", "/open311/v2/services.json")
    ]
    assert all(r.levelno == logging.WARNING and not r.exc_info and not r.exc_text for r in lines)


def test_a_commit_lost_with_the_database_logs_one_line_and_a_real_fault_keeps_its_traceback(app, own_database, caplog):
    def lost(_connection):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly\n\tThis probably means..."))

    @app.get("/api/v1/test-fault")
    def fault():
        raise RuntimeError("a bug")

    event.listen(own_database.engine, "commit", lost)
    try:
        with TestClient(app) as client:
            caplog.clear()
            assert_unavailable(client.post("/api/v1/tickets", json=TICKET))
    finally:
        event.remove(own_database.engine, "commit", lost)
    assert [(r.levelno, r.getMessage(), r.exc_text) for r in caplog.records if r.levelno >= logging.WARNING] == [
        (logging.WARNING, "database unavailable on POST /api/v1/tickets: server closed the connection unexpectedly", None)
    ]
    with TestClient(app, raise_server_exceptions=False) as client:
        caplog.clear()
        assert client.get("/api/v1/test-fault").status_code == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "RuntimeError: a bug" in (errors[0].exc_text or "") and "Traceback" in errors[0].exc_text

"""A bug answered 500 (JSON on the API, a page on the site) leaves one traceback in the log, on a line naming the
request: not a second one from the server as well, doubling a small server's log for every fault."""

import logging

import pytest


@pytest.fixture
def faulty(app):
    @app.get("/api/v1/test-fault")
    def api_fault():
        raise RuntimeError("a bug in the API")

    @app.get("/test-fault")
    def page_fault():
        raise RuntimeError("a bug behind a page")

    return app


def test_a_real_fault_is_answered_500_and_logged_once_with_its_request(faulty, client, caplog):
    # The test client raises an error that reaches the server (which would log its traceback a second time).
    caplog.clear()
    api = client.get("/api/v1/test-fault")
    page = client.get("/test-fault")

    assert api.status_code == 500
    assert api.json() == {"error": {"code": "internal_error", "message": "系统繁忙，请稍后再试"}}
    assert page.status_code == 500 and "系统繁忙" in page.text and page.headers["content-type"].startswith("text/html")
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in errors] == ["unhandled error on GET /api/v1/test-fault", "unhandled error on GET /test-fault"]
    assert "RuntimeError: a bug in the API" in errors[0].exc_text and "RuntimeError: a bug behind a page" in errors[1].exc_text

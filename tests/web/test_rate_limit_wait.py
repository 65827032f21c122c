"""A refusal for asking too often says how long to wait, in words and as Retry-After, on pages and in the API."""

import re
from types import SimpleNamespace

import pytest

from baishitong import deps
from tests.conftest import TEST_PASSWORD

TRACK = {"number": "SD000000000", "phone": "13900000000"}


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(deps, "time", SimpleNamespace(monotonic=lambda: now[0]))
    return now


def _csrf(browser, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path).text).group(1)


def test_the_api_says_in_how_many_seconds_a_refused_call_would_be_let_through(client, app, clock):
    """"请稍后再试" left a citizen's app, or an integration, guessing; the wait is the oldest call's minute running out."""
    app.state.settings.track_rate_limit_per_minute = 2
    for _ in range(2):
        assert client.post("/api/v1/track", json=TRACK).status_code == 404
        clock[0] += 10
    clock[0] += 5  # the first call is 25 s old: free in 35 s
    refused = client.post("/api/v1/track", json=TRACK)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "35"
    assert refused.json()["error"] == {"code": "rate_limited", "message": "请求过于频繁，请 35 秒后再试"}
    clock[0] += 34.5
    assert client.post("/api/v1/track", json=TRACK).headers["retry-after"] == "1"
    clock[0] += 0.5
    assert client.post("/api/v1/track", json=TRACK).status_code == 404


def test_a_refused_page_says_how_long_to_wait(web, app, clock):
    app.state.settings.track_rate_limit_per_minute = 1
    csrf = _csrf(web, "/track")
    assert web.post("/track", data={"csrf_token": csrf, **TRACK}).status_code == 200
    clock[0] += 0.2  # within the same second: the whole minute
    refused = web.post("/track", data={"csrf_token": csrf, **TRACK})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert "请求过于频繁，请 1 分钟后再试" in refused.text and "请稍后再试" not in refused.text


def test_a_refused_sign_in_says_how_long_to_wait(app, clock):
    from fastapi.testclient import TestClient

    app.state.settings.login_attempts_per_minute = 1
    with TestClient(app, client=("10.0.7.7", 5000)) as browser:
        csrf = _csrf(browser, "/staff/login")
        form = {"csrf_token": csrf, "username": "t_operator", "password": "guess-guess-1"}
        assert browser.post("/staff/login", data=form).status_code == 200
        clock[0] += 48
        refused = browser.post("/staff/login", data={**form, "password": TEST_PASSWORD}, follow_redirects=False)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "12"
        assert "登录尝试过于频繁，请 12 秒后再试" in refused.text


def test_an_open311_client_refused_gets_the_wait_in_the_specs_error_and_as_retry_after(client, app, clock):
    app.state.settings.open311_read_rate_limit_per_minute = 1
    assert client.get("/open311/v2/services.json").status_code == 200
    clock[0] += 20
    refused = client.get("/open311/v2/services.json")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "40"
    assert refused.json() == [{"code": 429, "description": "请求过于频繁，请 40 秒后再试"}]

"""What a district's information-security review checks on sign-in and on every page."""

import re

import pytest
from fastapi.testclient import TestClient

from baishitong import security
from tests.conftest import TEST_PASSWORD


def test_a_wrong_username_takes_as_long_as_a_wrong_password(client, monkeypatch):
    """Without a password check for unknown names the answer came 35 ms sooner, telling which accounts exist."""
    checks = []
    real = security.verify_password
    monkeypatch.setattr(security, "verify_password", lambda password_hash, password: checks.append(password) or real(password_hash, password))
    for username in ("t_operator", "no_such_user"):
        response = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password-1"})
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "用户名或密码错误"
    assert checks == ["wrong-password-1", "wrong-password-1"]


def test_pages_run_only_the_sites_script_files_and_cannot_be_framed(web):
    for path in ("/", "/staff/login", "/points", "/assistant"):
        response = web.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        # What the policy would block: inline scripts and handlers (htmx's hx-on runs as script too).
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", response.text), path
        assert not re.search(r"\s(on[a-z]+|hx-on[:\w-]*)=", response.text), path


def test_the_api_docs_page_may_start_swagger_inline_but_not_be_framed(client):
    response = client.get("/docs")
    assert "'unsafe-inline'" in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"


def test_guessing_one_password_from_many_addresses_or_many_names_from_one_is_slowed(app):
    """Counted only per address and account, a botnet had 10 guesses a minute per address on the admin's
    password, and one address 10 per name it tried."""
    app.state.settings.login_attempts_per_minute = 2

    def attempt(address: str, username: str) -> int:
        with TestClient(app, client=(address, 5000)) as from_there:
            return from_there.post("/api/v1/auth/token", json={"username": username, "password": "guess-guess-1"}).status_code

    assert [attempt(f"10.0.0.{i}", "t_admin") for i in range(7)] == [401] * 6 + [429]
    assert [attempt("10.0.1.1", f"name{i}") for i in range(21)] == [401] * 20 + [429]
    # Another account still signs in.
    with TestClient(app, client=("10.0.0.99", 5000)) as colleague:
        assert colleague.post("/api/v1/auth/token", json={"username": "t_operator", "password": TEST_PASSWORD}).status_code == 200


def _sign_in(web, username: str) -> None:
    page = web.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert web.post("/staff/login", data={"csrf_token": token, "username": username, "password": TEST_PASSWORD}, follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_for_a_copied_cookie_too(web, app):
    """The cookie alone was the session: a copy taken before 退出 (a shared PC's browser profile, a proxy log)
    kept working for the idle timeout, and for ever while used."""
    _sign_in(web, "t_supervisor")
    copied = web.cookies.get("bst_staff")
    page = web.get("/staff/supervise")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert web.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    with TestClient(app, cookies={"bst_staff": copied}) as thief:
        response = thief.get("/staff/supervise", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")
    # Another session of the same account goes on.
    with TestClient(app) as other_desk:
        _sign_in(other_desk, "t_supervisor")
        assert other_desk.get("/staff/supervise", follow_redirects=False).status_code == 200


def test_the_rate_limiter_forgets_clients_once_their_minute_is_over(monkeypatch):
    """Made-up usernames, one attempt each, must not grow the sign-in limiter for ever."""
    from baishitong import deps

    now = [1000.0]
    monkeypatch.setattr(deps.time, "monotonic", lambda: now[0])
    limiter = deps.RateLimiter()
    for i in range(500):
        limiter.hit("login-account", f"nobody{i}", limit=5)
    assert len(limiter) == 500
    now[0] += 61
    limiter.hit("login-account", "someone", limit=5)
    assert len(limiter) == 1
    for _ in range(4):
        limiter.hit("login-account", "someone", limit=5)
    with pytest.raises(deps.RateLimited):
        limiter.hit("login-account", "someone", limit=5)



def test_a_sign_in_refused_by_the_accounts_or_the_networks_ceiling_does_not_prolong_the_wait(app, monkeypatch):
    """An attempt the account's (or the address's) ceiling refused was still counted for its address and account:
    a user who met the ceiling and tried again was kept out for a minute after the ceiling had passed."""
    from types import SimpleNamespace

    from baishitong import deps

    now = [1000.0]
    monkeypatch.setattr(deps, "time", SimpleNamespace(monotonic=lambda: now[0]))
    app.state.settings.login_attempts_per_minute = 2
    # Someone guesses the supervisor's password from three addresses: the account's ceiling (3 × 2) is met.
    assert [_sign_in_from(app, f"10.0.{i}.1", "t_supervisor", "guess-guess-1")[0] for i in (1, 1, 2, 2, 3, 3)] == [200] * 6
    now[0] += 30
    # Half a minute on, the supervisor at a new desk is refused twice, by the account's ceiling.
    for _ in range(2):
        status, page, _ = _sign_in_from(app, "10.0.9.9", "t_supervisor", TEST_PASSWORD)
        assert status == 429 and "该账号 1 分钟内登录尝试过多" in page
    # Once the guesses are a minute old the supervisor signs in there, the two refusals counting for nothing.
    now[0] += 31
    assert _sign_in_from(app, "10.0.9.9", "t_supervisor", TEST_PASSWORD)[0] == 303
    # The same with the network's ceiling (10 × 2): twenty names tried from one address, then the operator there.
    now[0] += 61
    assert {_sign_in_from(app, "10.0.5.5", f"name{i}", "guess-guess-1")[0] for i in range(20)} == {200}
    now[0] += 30
    for _ in range(2):
        status, page, _ = _sign_in_from(app, "10.0.5.5", "t_operator", TEST_PASSWORD)
        assert status == 429 and "本网络 1 分钟内登录尝试过多" in page
    now[0] += 31
    assert _sign_in_from(app, "10.0.5.5", "t_operator", TEST_PASSWORD)[0] == 303


def test_a_phone_or_id_number_typed_as_the_username_is_audited_masked(web, client, session):
    """People type their mobile where the username goes; a failed sign-in kept it in full in the audit trail
    (as actor and object), read by every administrator. Account names stay readable, even all-digit ones."""
    from sqlalchemy import select

    from baishitong.audit.models import AuditEntry
    from baishitong.org import service as org

    org.create_user(session, username="13900001111", password=TEST_PASSWORD, role="operator")
    page = web.get("/staff/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    for typed in ("138 1234 5678", "t_operator", "13900001111"):
        assert "用户名或密码错误" in web.post("/staff/login", data={"csrf_token": csrf, "username": typed, "password": "wrong-password-1"}).text
    for typed in ("44060619900101123X", "no_such_user"):
        response = client.post("/api/v1/auth/token", json={"username": typed, "password": "wrong-password-1"})
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"
    failed = session.execute(select(AuditEntry.actor, AuditEntry.object_id, AuditEntry.data).where(AuditEntry.action == "auth.login_failed").order_by(AuditEntry.id)).all()
    assert [(actor, object_id, data["via"]) for actor, object_id, data in failed] == [
        ("138****5678", "138****5678", "web"),
        ("t_operator", "t_operator", "web"),
        ("13900001111", "13900001111", "web"),
        ("440606********123X", "440606********123X", "api"),
        ("no_such_user", "no_such_user", "api"),
    ]
    assert "1234 5678" not in str(failed) and "199001011" not in str(failed)


def _sign_in_from(app, address: str, username: str, password: str, *, cookies=None) -> tuple[int, str, dict]:
    """One sign-in on the page from `address`, with a browser's cookies; the status, page text and cookies after."""
    with TestClient(app, client=(address, 5000), cookies=cookies or {}) as browser:
        page = browser.get("/staff/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = browser.post("/staff/login", data={"csrf_token": csrf, "username": username, "password": password}, follow_redirects=False)
        return response.status_code, response.text, {c.name: c.value for c in browser.cookies.jar if c.name != "bst_staff"}


def test_wrong_passwords_typed_for_an_account_do_not_lock_its_owner_out_of_a_browser_they_signed_in_on(app):
    """Anyone could lock an operator out for a minute at the hotline's peak by typing wrong passwords for the
    account from a few addresses, or from the call centre's own NAT address. A browser the account signed in on
    before keeps its own count; a browser it never used meets the per-account ceiling, with a Chinese message."""
    app.state.settings.login_attempts_per_minute = 2
    status, _, owners_browser = _sign_in_from(app, "10.0.0.50", "t_supervisor", TEST_PASSWORD)
    assert status == 303 and "bst_device" in owners_browser
    # A colleague behind the same NAT address (which the owner's sign-in counted on), then a few addresses
    # more: the account's ceiling (3 × 2 attempts) is reached.
    tries = [_sign_in_from(app, address, "t_supervisor", "guess-guess-1")[0] for address in ("10.0.0.50", "10.0.0.50", "10.0.1.1", "10.0.1.1", "10.0.2.1", "10.0.2.1", "10.0.3.1")]
    assert tries == [200, 429, 200, 200, 200, 200, 429]
    status, page, _ = _sign_in_from(app, "10.0.0.60", "t_supervisor", TEST_PASSWORD)
    assert status == 429 and "该账号 1 分钟内登录尝试过多" in page
    # The owner, at the NAT address, in the browser they signed in with.
    assert _sign_in_from(app, "10.0.0.50", "t_supervisor", TEST_PASSWORD, cookies=owners_browser)[0] == 303
    # That browser is trusted for that account only, and guessing there is limited on its own count.
    assert _sign_in_from(app, "10.0.0.50", "t_admin", "guess-guess-1", cookies=owners_browser)[0] == 200
    assert [_sign_in_from(app, "10.0.9.9", "t_supervisor", "guess-guess-1", cookies=owners_browser)[0] for _ in range(2)] == [200, 429]
    # A device cookie signed with another key is no one's.
    forged = {"bst_device": owners_browser["bst_device"][:-4] + "AAAA"}
    assert _sign_in_from(app, "10.0.0.50", "t_supervisor", TEST_PASSWORD, cookies=forged)[0] == 429

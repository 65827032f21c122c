"""A real server on a fresh database, and headless Chromium, for the browser story."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from baishitong import migrate, seed
from baishitong.db import Database
from baishitong.jobs import queue
from baishitong.org import service as org
from tests.conftest import _shared, create_fresh_database, drop_fresh_database
from tests.server import free_port

PASSWORD = "demo12345"
USERS = [
    ("operator1", "operator", None, "话务员 黄小燕"),
    ("ronggui", "handler", "ronggui", "容桂街道 何敏"),
    ("daliang", "handler", "daliang", "大良街道 陈伟"),
    ("supervisor", "supervisor", None, "督办员 罗建华"),
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
SERVER = """
import sys, uvicorn
from baishitong.app import create_app
uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


@pytest.fixture(scope="module")
def server_database_url(tmp_path_factory, request):
    """The server's database: a module may define seed_server(session) to load more data (e.g. the demo KB)
    before the server starts, and read what no page shows (the text of an SMS) from it.

    The jobs the seed enqueues run in this process (the immediate queue) as it commits: against this database,
    not the queue's (no database, or the main test one, whose job_outbox lacks them or holds others)."""
    url = create_fresh_database(tmp_path_factory.mktemp("e2e-db"))
    migrate.upgrade(url)
    db = Database(url)
    queue.use_database(db)
    try:
        with db.session() as session:
            seed.load_reference(session)
            for username, role, unit, display in USERS:
                org.create_user(session, username=username, password=PASSWORD, role=role, unit_code=unit, display_name=display)
            extra = getattr(request.module, "seed_server", None)
            if extra is not None:
                extra(session)
    finally:
        queue.use_database(_shared["database"])
        db.dispose()
    yield url
    drop_fresh_database(url)


@pytest.fixture(scope="module")
def server(tmp_path_factory, server_database_url):
    tmp, url = tmp_path_factory.mktemp("e2e"), server_database_url
    port = free_port()
    env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_QUEUE_BACKEND": "immediate", "BAISHITONG_VAR_DIR": str(tmp / "var")}
    env.pop("BAISHITONG_FAKE_NOW", None)
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.3)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        # A request still open holds uvicorn's graceful shutdown; the server must be gone before its database is.
        process.kill()
        process.wait()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        # CI must run the browser tests (.ci/run installs Chromium); a bare developer machine may not have it.
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is required in CI: apt-get install chromium fonts-noto-cjk")
        pytest.skip("Debian chromium 未安装：apt-get install chromium fonts-noto-cjk")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # wait_for_function evaluates its string in the page, which the pages' Content-Security-Policy forbids;
        # tests/e2e/test_content_policy.py runs the pages under the policy.
        plain = instance.new_context
        instance.new_context = lambda **options: plain(**{"bypass_csp": True, **options})
        yield instance
        instance.close()


def open_chat_widget(page) -> None:
    """Tap 问政务君 where a citizen always finds it: at the end of the page (mid-page app.js may have tucked it away)."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.click(".chat-fab:not(.is-tucked)")


class Shots:
    """Numbered full-page screenshots: var/screenshots/NN-name.png."""

    def __init__(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(SCREENSHOTS / f"{self.count:02d}-{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def shot() -> Shots:
    return Shots()

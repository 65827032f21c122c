"""The SMS gateway down, slow, answering 500 or garbage: messages stay visible as retrying or failed with a
Chinese reason, nobody's request waits on the gateway, and a retry sends nothing twice."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import update

from baishitong import clock
from baishitong.config import get_settings
from baishitong.jobs import service as jobs
from baishitong.jobs.periodic import run_periodic
from baishitong.notify import senders
from baishitong.notify import service as notify
from baishitong.notify.models import Message
from baishitong.org.models import User


class Gateway:
    """A local SMS gateway: each request takes the next planned answer (status, body, delay in seconds)."""

    def __init__(self):
        self.plan: list[tuple[int, bytes, float]] = []
        self.received: list[tuple[str, dict]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append((self.headers.get("Idempotency-Key"), body))
                status, answer, delay = gateway.plan.pop(0) if gateway.plan else (200, b'{"ok": true}', 0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def gateway(monkeypatch):
    stub = Gateway()
    monkeypatch.setenv("BAISHITONG_SMS_ENDPOINT", stub.url)
    get_settings.cache_clear()
    yield stub
    stub.server.shutdown()
    get_settings.cache_clear()


def _message(db, *, queued: bool = False) -> int:
    with db.session() as session:
        message = Message(channel="sms", audience="requester", recipient="13800001234", template_code="ticket_registered", body="【顺德12345】您的诉求已受理")
        session.add(message)
        session.flush()
        if queued:  # as the app does it: the job is sent after commit and runs at once (immediate queue)
            jobs.enqueue(session, "notify.send", message_id=message.id)
        return message.id


def _get(db, message_id) -> Message:
    with db.session(write=False) as session:
        return session.get(Message, message_id)


def test_a_slow_gateway_holds_no_lock_that_requests_wait_on(own_database, gateway):
    db = own_database
    message_id = _message(db)
    gateway.plan = [(200, b"ok", 2.0)]
    sender = threading.Thread(target=notify.deliver, args=(db,), kwargs={"message_id": message_id})
    sender.start()
    time.sleep(0.3)
    assert _get(db, message_id).status == "sending"
    # Meanwhile an operator saves something: it must not queue behind the gateway.
    started = time.monotonic()
    with db.session() as session:
        session.execute(update(User).where(User.username == "t_operator").values(display_name="话务员甲"))
    assert time.monotonic() - started < 1.0
    sender.join(10)
    assert _get(db, message_id).status == "sent"


@pytest.mark.parametrize(
    "answer, reason",
    [
        ((500, b"<html>Internal Server Error</html>", 0), "网关返回 500"),
        ((200, b"ok", 1.5), "网关响应超时"),
        ((502, bytes(range(256)), 0), "网关返回 502"),
    ],
)
def test_a_failing_gateway_leaves_the_message_retrying_with_a_chinese_reason(own_database, gateway, monkeypatch, answer, reason):
    monkeypatch.setattr(senders, "TIMEOUT", httpx.Timeout(0.5))
    gateway.plan = [answer]
    message_id = _message(own_database, queued=True)
    message = _get(own_database, message_id)
    assert message.status == "retrying" and message.attempts == 1 and message.last_error.startswith(reason)
    assert message.next_attempt_at > clock.now()


def test_a_gateway_down_retries_then_fails_visibly(own_database, monkeypatch):
    monkeypatch.setenv("BAISHITONG_SMS_ENDPOINT", "http://127.0.0.1:9/down")
    get_settings.cache_clear()
    try:
        message_id = _message(own_database, queued=True)
        now = clock.now()
        for _ in range(notify.MAX_ATTEMPTS + 3):
            message = _get(own_database, message_id)
            now = (message.next_attempt_at or now) + timedelta(seconds=1)
            monkeypatch.setenv("BAISHITONG_FAKE_NOW", now.isoformat())
            run_periodic(own_database)
        message = _get(own_database, message_id)
        assert message.status == "failed" and message.attempts == notify.MAX_ATTEMPTS and "网关连接失败" in message.last_error
    finally:
        get_settings.cache_clear()


def test_a_retry_after_a_500_sends_once_more_with_the_same_key_and_never_again(own_database, gateway, monkeypatch):
    gateway.plan = [(500, b"busy", 0)]
    message_id = _message(own_database, queued=True)
    retry_at = _get(own_database, message_id).next_attempt_at + timedelta(seconds=1)
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", retry_at.isoformat())
    for _ in range(2):  # two workers' minute runs
        run_periodic(own_database)
        jobs.relay(own_database)
    notify.deliver(own_database, message_id=message_id)  # a late duplicate delivery
    assert _get(own_database, message_id).status == "sent"
    keys = [key for key, _ in gateway.received]
    assert keys == [f"message-{message_id}"] * 2


def test_a_worker_killed_mid_send_leaves_the_message_to_be_sent_after_its_lease(own_database, gateway, monkeypatch):
    message_id = _message(own_database)
    with own_database.session() as session:  # the worker took the message and died before recording the answer
        notify.claim(session, message_id=message_id, now=clock.now())
    notify.deliver(own_database, message_id=message_id)  # another worker: the lease still holds
    assert gateway.received == [] and _get(own_database, message_id).status == "sending"
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (clock.now() + notify.SEND_LEASE + timedelta(seconds=1)).isoformat())
    run_periodic(own_database)
    assert len(gateway.received) == 1 and _get(own_database, message_id).status == "sent"


def test_a_gateway_naming_the_refused_number_leaves_it_masked_in_the_outbox(own_database, gateway):
    """The outbox shows the error beside the recipient it masks (消息发件箱 and GET /notifications/outbox)."""
    gateway.plan = [(400, '{"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号 13800001234（+8613800001234）"}'.encode(), 0)]
    message_id = _message(own_database, queued=True)
    assert _get(own_database, message_id).last_error == '网关返回 400：{"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号 138****1234（+86138****1234）"}'

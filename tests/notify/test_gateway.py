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


def _message(db, *, queued: bool = False, template_code: str = "ticket_registered", body: str = "【顺德12345】您的诉求已受理") -> int:
    with db.session() as session:
        message = Message(channel="sms", audience="requester", recipient="13800001234", template_code=template_code, body=body)
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
    gateway.plan = [(200, b'{"ok": true}', 2.0)]
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
        ((200, b"ok", 1.5), "网关响应超时（连接 0.5 秒或读写 0.5 秒内无响应）"),
        ((502, bytes(range(256)), 0), "网关返回 502"),
    ],
)
def test_a_failing_gateway_leaves_the_message_retrying_with_a_chinese_reason(own_database, gateway, monkeypatch, answer, reason):
    monkeypatch.setenv("BAISHITONG_GATEWAY_CONNECT_TIMEOUT", "0.5")
    monkeypatch.setenv("BAISHITONG_GATEWAY_READ_TIMEOUT", "0.5")
    get_settings.cache_clear()
    gateway.plan = [answer]
    message_id = _message(own_database, queued=True)
    message = _get(own_database, message_id)
    assert message.status == "retrying" and message.attempts == 1 and message.last_error.startswith(reason)
    assert message.next_attempt_at > clock.now()


def test_a_send_waits_3_s_to_connect_and_5_s_for_an_answer_unless_configured_otherwise(monkeypatch):
    """A slow gateway would otherwise hold a notification thread about 10 s per message through a backlog."""
    waited: list[httpx.Timeout] = []

    def post(_url, **kwargs):
        waited.append(kwargs["timeout"])
        raise httpx.ReadTimeout("timed out")

    monkeypatch.setattr(httpx, "post", post)
    monkeypatch.setenv("BAISHITONG_SMS_ENDPOINT", "http://gateway.invalid/sms")
    get_settings.cache_clear()
    try:
        with pytest.raises(senders.SendError, match="连接 3 秒或读写 5 秒"):
            senders.send("sms", recipient="13800001234", body="【顺德12345】您的诉求已受理", template_code="ticket_registered", key="message-1")
        monkeypatch.setenv("BAISHITONG_GATEWAY_CONNECT_TIMEOUT", "2")
        monkeypatch.setenv("BAISHITONG_GATEWAY_READ_TIMEOUT", "8")
        get_settings.cache_clear()
        with pytest.raises(senders.SendError, match="连接 2 秒或读写 8 秒"):
            senders.send("sms", recipient="13800001234", body="【顺德12345】您的诉求已受理", template_code="ticket_registered", key="message-1")
    finally:
        get_settings.cache_clear()
    assert [(t.connect, t.read, t.write) for t in waited] == [(3, 5, 5), (2, 8, 8)]


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


@pytest.mark.parametrize(
    ("template_code", "body", "secret"),
    [
        ("phone_code", "【顺德12345】您的验证码 482913，10 分钟内有效", "482913"),
        ("policy_alert_confirm", "【顺德12345】确认订阅请打开 https://12345.example/enterprise/alerts/Zx9_kQ-3abc", "Zx9_kQ-3abc"),
    ],
)
def test_a_gateway_echoing_a_code_or_link_back_stores_its_error_with_them_hidden(own_database, gateway, template_code, body, secret):
    """Whoever reads the stored error (a database dump, an audit of a retried job) cannot sign in or confirm as the citizen."""
    gateway.plan = [(400, json.dumps({"Message": f"内容含敏感词：{body}"}, ensure_ascii=False).encode(), 0)]
    error = _get(own_database, _message(own_database, queued=True, template_code=template_code, body=body)).last_error
    assert secret not in error and "******" in error and error.startswith("网关返回 400：")


@pytest.mark.parametrize("answer", [b"<html><body>\xe7\xbd\x91\xe7\xbb\x9c\xe8\xae\xa4\xe8\xaf\x81</body></html>", b"", b"\x00\xff garbage", b"OK"])
def test_a_200_whose_body_is_not_json_is_not_sent_but_retried_and_then_sent_once(own_database, gateway, monkeypatch, answer):
    """A proxy's login page or a half-written answer with status 200 used to mark the message sent and the citizen never got it."""
    gateway.plan = [(200, answer, 0)]
    message_id = _message(own_database, queued=True)
    message = _get(own_database, message_id)
    assert message.status == "retrying" and message.sent_at is None and "内容无法识别" in message.last_error
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (message.next_attempt_at + timedelta(seconds=1)).isoformat())
    run_periodic(own_database)  # the existing backoff retry, answered {"ok": true} this time
    assert _get(own_database, message_id).status == "sent"
    assert [key for key, _ in gateway.received].count(f"message-{message_id}") == 2


@pytest.fixture
def success_flag(monkeypatch):
    def configure(field: str, value: str) -> None:
        monkeypatch.setenv("BAISHITONG_SMS_SUCCESS_FIELD", field)
        monkeypatch.setenv("BAISHITONG_SMS_SUCCESS_VALUE", value)
        get_settings.cache_clear()

    return configure


def test_a_gateway_answering_200_with_its_own_error_code_is_retried_when_its_success_field_is_configured(own_database, gateway, success_flag):
    """Aliyun-style gateways answer 200 with {"Code": "isv.BUSINESS_LIMIT_CONTROL"} when they did not send."""
    success_flag("Code", "OK")
    gateway.plan = [(200, '{"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码 13800001234 天级流控"}'.encode(), 0)]
    limited = _get(own_database, _message(own_database, queued=True))
    assert limited.status == "retrying" and limited.sent_at is None
    assert limited.last_error.startswith("网关返回 200，但 Code 不是 OK，未确认发送")
    assert "138****1234" in limited.last_error and "13800001234" not in limited.last_error
    gateway.plan = [(200, b'{"ok": true}', 0)]
    assert "没有成功标志 Code" in _get(own_database, _message(own_database, queued=True)).last_error
    gateway.plan = [(200, b'{"Code": "OK", "BizId": "900619746936498440"}', 0)]
    assert _get(own_database, _message(own_database, queued=True)).status == "sent"


@pytest.mark.parametrize(
    "field, value, answer, sent",
    [
        ("ok", "true", b'{"ok": true}', True),
        ("ok", "true", b'{"ok": false}', False),
        ("ok", "true", b'{"ok": "true"}', True),
        ("result.code", "0", b'{"result": {"code": 0}}', True),
        ("result.code", "0", b'{"result": {"code": "0"}}', True),
        ("result.code", "0", b'{"result": {"code": 1017}}', False),
        ("Response.SendStatusSet.0.Code", "Ok", b'{"Response": {"SendStatusSet": [{"Code": "Ok"}]}}', True),
        ("Response.SendStatusSet.0.Code", "Ok", b'{"Response": {"SendStatusSet": []}}', False),
        ("result", "0", b'{"result": {"code": 0}}', False),
        ("ok", "true", b'[true]', False),
    ],
)
def test_the_configured_success_field_decides_whether_a_message_was_taken(gateway, success_flag, field, value, answer, sent):
    success_flag(field, value)
    gateway.plan = [(200, answer, 0)]
    outgoing = notify.Outgoing(1, 1, "sms", "13800001234", "【顺德12345】您的诉求已受理", "ticket_registered")
    error = notify.attempt(outgoing)
    assert (error is None) == sent, error
    if not sent:
        assert error.startswith("网关返回 200，但") and "未确认发送" in error


def test_a_success_field_without_its_value_is_refused_at_start():
    from pydantic import ValidationError

    from baishitong.config import Settings

    with pytest.raises(ValidationError, match="SMS_SUCCESS_VALUE"):
        Settings(sms_success_field="Code")


@pytest.mark.parametrize("answer, sent", [(b'{"errcode": 0, "errmsg": "ok"}', True), (b"<html>portal</html>", False), (b"", False)])
def test_a_wechat_gateway_answering_200_counts_as_sent_only_with_a_json_answer(monkeypatch, gateway, answer, sent):
    monkeypatch.setenv("BAISHITONG_WECHAT_ENDPOINT", gateway.url)
    get_settings.cache_clear()
    gateway.plan = [(200, answer, 0)]
    outgoing = notify.Outgoing(1, 1, "wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "【顺德12345】您的诉求已受理", "ticket_registered")
    error = notify.attempt(outgoing)
    assert (error is None) == sent, error
    if not sent:
        assert "不是 JSON" in error and "未确认发送" in error

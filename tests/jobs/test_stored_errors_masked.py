"""Error texts stored for others to read later (失败的后台任务 and 消息发件箱) hold no citizen's number, code or link:
masked when stored, and those stored before that masked by migration 0034."""

import sqlalchemy as sa
from alembic import command

from baishitong import clock, migrate
from baishitong.db import Database, UTCDateTime
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import job
from baishitong.notify.models import Message
from tests.conftest import create_fresh_database, drop_fresh_database

ALERT = "https://12345.example/enterprise/alerts/Zx9_kQ-3abc"


@job("test.fails_quoting_a_link")
def fails_quoting_a_link(session, *, marker: str) -> None:
    raise ValueError(f"发送失败：{ALERT} 网关 https://sms.example/send?api_key=k3y-s3cret&to=1 令牌 bst_AbCdEf123456")


def test_a_failed_jobs_error_is_kept_without_the_links_and_keys_it_quotes(own_database):
    with own_database.session() as session:
        job_id = jobs.enqueue(session, "test.fails_quoting_a_link", marker="l").id
    with own_database.session(write=False) as session:
        error = session.get(OutboxJob, job_id).last_error
    assert error == "ValueError: 发送失败：https://12345.example/enterprise/alerts/****** 网关 https://sms.example/send?api_key=******&to=1 令牌 bst_******"


_jobs = sa.table(
    "job_outbox",
    sa.column("id"),
    sa.column("name"),
    sa.column("payload", sa.JSON),
    sa.column("created_at", UTCDateTime()),
    sa.column("attempts"),
    sa.column("failed_at", UTCDateTime()),
    sa.column("last_error"),
)
_messages = sa.table(
    "messages",
    sa.column("id"),
    sa.column("channel"),
    sa.column("audience"),
    sa.column("recipient"),
    sa.column("template_code"),
    sa.column("body"),
    sa.column("status"),
    sa.column("attempts"),
    sa.column("created_at", UTCDateTime()),
    sa.column("last_error"),
)

OLD_JOB_ERRORS = {
    1: ("ValueError: 号码 13912345678 未开通短信，身份证 440681199001015671", "ValueError: 号码 139****5678 未开通短信，身份证 440681********5671"),
    2: (f"SendError: 网关返回 400：内容含敏感词 {ALERT}", "SendError: 网关返回 400：内容含敏感词 https://12345.example/enterprise/alerts/******"),
    3: ("RuntimeError: 训练数据为空", "RuntimeError: 训练数据为空"),
}
OLD_MESSAGE_ERRORS = {
    # (template, stored error, after the migration)
    1: ("phone_code", '网关返回 400：{"Message": "内容含敏感词：【顺德12345】验证码 482913，5分钟内有效"}', '网关返回 400：{"Message": "内容含敏感词：【顺德12345】验证码 ******，5分钟内有效"}'),
    2: ("policy_alert_confirm", f"网关返回 400：请打开 {ALERT} 确认", "网关返回 400：请打开 https://12345.example/enterprise/alerts/****** 确认"),
    3: ("ticket_registered", "网关返回 400：非法手机号 +8613800001234，工单 20261205000123", "网关返回 400：非法手机号 +86138****1234，工单 20261205000123"),
}


def test_the_migration_masks_the_job_and_message_errors_stored_before_it(tmp_path):
    url = create_fresh_database(tmp_path)
    try:
        command.upgrade(migrate.alembic_config(url), "0033_ticket_media_url")
        db = Database(url)
        now = clock.now()
        with db.engine.begin() as conn:
            for job_id, (error, _) in OLD_JOB_ERRORS.items():
                conn.execute(_jobs.insert().values(id=job_id, name="notify.send", payload={}, created_at=now, attempts=5, failed_at=now, last_error=error))
            for message_id, (template, error, _) in OLD_MESSAGE_ERRORS.items():
                conn.execute(
                    _messages.insert().values(
                        id=message_id, channel="sms", audience="requester", recipient="13800001234", template_code=template, body="（正文）", status="failed", attempts=5, created_at=now, last_error=error
                    )
                )
        migrate.upgrade(url)
        with db.session(write=False) as session:
            assert {j.id: j.last_error for j in session.query(OutboxJob)} == {job_id: after for job_id, (_, after) in OLD_JOB_ERRORS.items()}
            assert {m.id: m.last_error for m in session.query(Message)} == {message_id: after for message_id, (_, _, after) in OLD_MESSAGE_ERRORS.items()}
        db.dispose()
    finally:
        drop_fresh_database(url)

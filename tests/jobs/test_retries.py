"""A failing job backs off, is given up after its last attempt and shown to the admin; two workers handed
the same job run it once."""

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from baishitong import clock
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.jobs.registry import job
from tests.web.test_pages import login

RUNS: list[str] = []


@job("test.always_fails")
def always_fails(session, *, marker: str) -> None:
    RUNS.append(marker)
    raise RuntimeError("短信网关配置有误")


@job("test.slow_once")
def slow_once(session, *, marker: str) -> None:
    RUNS.append(marker)
    time.sleep(0.5)


@job("test.fails_naming_a_number")
def fails_naming_a_number(session, *, marker: str) -> None:
    raise ValueError("号码 13912345678 未开通短信，身份证 440681199001015671")


def _row(db, job_id) -> OutboxJob:
    with db.session(write=False) as session:
        return session.get(OutboxJob, job_id)


def test_a_failing_job_backs_off_then_is_given_up_and_not_retried_for_ever(own_database, monkeypatch):
    db = own_database
    RUNS.clear()
    start = clock.now()
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", start.isoformat())
    with db.session() as session:
        job_id = jobs.enqueue(session, "test.always_fails", marker="f").id
    row = _row(db, job_id)
    assert RUNS == ["f"] and row.attempts == 1 and "短信网关配置有误" in row.last_error and row.failed_at is None
    # Waiting out its backoff, the job is neither relayed nor run again by a duplicate delivery.
    assert jobs.relay(db) == 0 and jobs.execute(db, job_id) is False and RUNS == ["f"]
    gaps = []
    now = start
    for _ in range(20):  # far more relay rounds than attempts
        row = _row(db, job_id)
        if row.next_attempt_at is not None:
            gaps.append(row.next_attempt_at - now)
        now = (row.next_attempt_at or now) + timedelta(seconds=1)
        monkeypatch.setenv("BAISHITONG_FAKE_NOW", now.isoformat())
        jobs.relay(db)
    row = _row(db, job_id)
    assert len(RUNS) == row.attempts == jobs.MAX_ATTEMPTS
    assert row.failed_at is not None and row.next_attempt_at is None and row.done_at is None
    assert all(later > earlier for earlier, later in zip(gaps, gaps[1:]))
    monkeypatch.setenv("BAISHITONG_FAKE_NOW", (now + timedelta(days=30)).isoformat())
    with db.session(write=False) as session:
        assert job_id not in jobs.pending(session)
        assert job_id in [j.id for j in jobs.failed(session)]


def test_two_workers_handed_the_same_job_run_it_once(own_database):
    db = own_database
    RUNS.clear()
    with db.session() as session:  # written without the after-commit send: the two workers below get it
        row = OutboxJob(name="test.slow_once", payload={"marker": "once"})
        session.add(row)
        session.flush()
        job_id = row.id
    workers = [threading.Thread(target=jobs.execute, args=(db, job_id)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert RUNS == ["once"]
    assert _row(db, job_id).attempts == 1


def test_the_outbox_page_lists_jobs_given_up(web, session):
    session.add(OutboxJob(name="routing.retrain", payload={"label": "unit"}, attempts=5, last_error="RuntimeError: 训练数据为空", failed_at=clock.now()))
    session.flush()
    login(web, "t_admin")
    page = web.get("/staff/admin/outbox").text
    assert "失败的后台任务" in page and "routing.retrain" in page and "训练数据为空" in page


def test_two_workers_minute_runs_at_once_queue_one_retry_and_both_finish(own_database):
    from baishitong.jobs.periodic import run_periodic
    from baishitong.notify.models import Message

    db = own_database
    with db.session() as session:
        message = Message(channel="outbox", audience="unit", recipient="t_ronggui", template_code="deadline_warning", body="工单即将到期", status="retrying", attempts=1, next_attempt_at=clock.now() - timedelta(seconds=1))
        session.add(message)
        session.flush()
        message_id = message.id
    errors: list[Exception] = []

    def tick():
        try:
            run_periodic(db)
        except Exception as exc:
            errors.append(exc)

    workers = [threading.Thread(target=tick) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with db.session(write=False) as session:
        retries = session.scalars(select(OutboxJob).where(OutboxJob.dedupe_key == f"notify:{message_id}:1")).all()
        assert len(retries) == 1 and session.get(Message, message_id).status == "sent"


def test_the_admin_runs_a_job_given_up_once_more(web, session):
    from baishitong.audit.models import AuditEntry
    from tests.web.test_pages import token

    row = OutboxJob(name="routing.retrain", payload={"label": "unit"}, attempts=5, last_error="RuntimeError: 训练数据为空", failed_at=clock.now())
    session.add(row)
    session.flush()
    login(web, "t_operator")
    assert web.post(f"/staff/admin/jobs/{row.id}/retry", data={"csrf_token": token(web.get("/staff/console").text)}).status_code == 403
    login(web, "t_admin")
    page = web.get("/staff/admin/outbox").text
    assert f'action="/staff/admin/jobs/{row.id}/retry"' in page
    done = web.post(f"/staff/admin/jobs/{row.id}/retry", data={"csrf_token": token(page)}, follow_redirects=True).text
    assert f"后台任务 #{row.id} 已重新排队执行" in done and f'action="/staff/admin/jobs/{row.id}/retry"' not in done
    assert row.failed_at is None and row.attempts == 0 and row.done_at is None
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "job.retry", AuditEntry.object_id == str(row.id))).data["last_error"] == "RuntimeError: 训练数据为空"
    again = web.post(f"/staff/admin/jobs/{row.id}/retry", data={"csrf_token": token(page)}, follow_redirects=True).text
    assert "该后台任务不在失败列表中" in again


def test_retrying_a_job_failed_before_errors_were_masked_leaves_no_number_in_the_audit_trail(session):
    from baishitong.audit.models import AuditEntry

    row = OutboxJob(name="test.fails_naming_a_number", payload={}, attempts=5, last_error="SendError: 网关返回 400：手机号 +8613912345678 验证码短信", failed_at=clock.now())
    session.add(row)
    session.flush()
    jobs.retry(session, job_id=row.id, actor="t_admin")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "job.retry", AuditEntry.object_id == str(row.id)))
    assert entry.data["last_error"] == "SendError: 网关返回 400：手机号 +86139****5678 验证码短信"


def test_a_failed_jobs_error_is_kept_with_phone_and_id_numbers_masked(own_database):
    with own_database.session() as session:
        job_id = jobs.enqueue(session, "test.fails_naming_a_number", marker="n").id
    assert _row(own_database, job_id).last_error == "ValueError: 号码 139****5678 未开通短信，身份证 440681********5671"

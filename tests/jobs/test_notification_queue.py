"""Messages to the SMS and WeChat gateways wait on a queue of their own, consumed by threads of their own: a slow
gateway holds each send up to its timeout, and a backlog of alerts no longer keeps dispatch and deadline jobs waiting."""

from sqlalchemy import select

from baishitong.config import get_settings
from baishitong.jobs import queue
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob


def test_a_message_job_goes_to_the_notification_queue_and_other_jobs_to_the_main_one_when_queued_and_when_relayed(own_database, monkeypatch):
    handed: list[tuple[str, int]] = []
    monkeypatch.setattr(queue, "run_notification_job", lambda job_id: handed.append(("notify", job_id)))
    monkeypatch.setattr(queue, "run_outbox_job", lambda job_id: handed.append(("main", job_id)))
    with own_database.session() as session:
        message = jobs.enqueue(session, "notify.send", message_id=0).id
        recompute = jobs.enqueue(session, "sla.recompute_open").id
    assert handed == [("notify", message), ("main", recompute)]

    handed.clear()  # never run (the tasks were replaced): the relay hands them over again, each to its queue
    jobs.relay(own_database)
    assert ("notify", message) in handed and ("main", recompute) in handed
    assert ("main", message) not in handed and ("notify", recompute) not in handed
    with own_database.session() as session:
        for row in session.scalars(select(OutboxJob).where(OutboxJob.id.in_([message, recompute]))):
            row.done_at = row.created_at  # nothing left for other tests' relays


def test_the_main_queues_workers_never_take_a_message_off_the_notification_queue(tmp_path, monkeypatch):
    """Both queues live in the one SQLite file (or Redis database), kept apart by name."""
    monkeypatch.setenv("BAISHITONG_QUEUE_BACKEND", "sqlite")
    monkeypatch.setenv("BAISHITONG_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        main, messages = queue.get_huey.__wrapped__(queue.MAIN), queue.get_huey.__wrapped__(queue.NOTIFY)
    finally:
        get_settings.cache_clear()
    messages.storage.enqueue(b"message job 7")
    assert (main.pending_count(), messages.pending_count()) == (0, 1)
    assert main.storage.dequeue() is None
    assert messages.storage.dequeue() == b"message job 7"

"""Messages to the SMS and WeChat gateways wait on a queue of their own, consumed by threads of their own: a slow
gateway holds each send up to its timeout, and a backlog of alerts no longer keeps dispatch and deadline jobs waiting."""

import signal
import time

import pytest
from huey import MemoryHuey
from sqlalchemy import select

from baishitong.config import get_settings
from baishitong.jobs import queue
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.notify import service as notify
from baishitong.notify.models import Message


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


@pytest.fixture
def consumers(own_database, monkeypatch):
    """The worker's two consumers on threads, as `baishitong worker` has them, the notification queue a real one."""
    monkeypatch.setattr(queue.notify_huey, "immediate", False)
    messages = queue.notify_huey.create_consumer(workers=2, periodic=False, worker_type="thread")
    main = queue.MainConsumer(MemoryHuey("main-queue-under-test"), messages=messages, workers=1, periodic=False, worker_type="thread")
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    messages.start()
    for signum, handler in handlers.items():  # start() took over the signals, which are pytest's here
        signal.signal(signum, handler)
    yield main, messages
    messages.stop(graceful=True)
    main.stop()


def _status(db, message_id: int) -> str:
    with db.session(write=False) as session:
        return session.get(Message, message_id).status


def test_a_notification_thread_that_died_is_restarted_by_the_main_consumers_health_check_and_messages_go_out_again(consumers, own_database, monkeypatch, caplog):
    main, messages = consumers

    def die(now=None):
        raise RuntimeError("worker thread killed")

    for worker, _ in messages.worker_threads:
        monkeypatch.setattr(worker, "loop", die)
    for _, thread in messages.worker_threads:
        thread.join(5)
    assert not any(thread.is_alive() for _, thread in messages.worker_threads)

    with own_database.session() as session:
        message_id = notify.to_requester(session, phone="13500135000", template_code="ticket_registered", context={"number": "BST-1"}).id
    time.sleep(0.5)
    assert _status(own_database, message_id) == "pending"  # no thread left to send it

    main.check_worker_health()
    deadline = time.monotonic() + 10
    while _status(own_database, message_id) != "sent" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _status(own_database, message_id) == "sent"
    assert "notification worker thread died and was restarted" in caplog.text

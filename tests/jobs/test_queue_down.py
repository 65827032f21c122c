"""The queue cannot be reached when a request commits (Redis down, the worker's queue file locked): the citizen's
submission and an operator's dispatch are still acknowledged and stored, their jobs wait in the outbox, and the worker's
relay, once the queue is back, hands them over and they run: the messages they send go out."""

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from baishitong.app import create_app
from baishitong.jobs import queue
from baishitong.jobs import service as jobs
from baishitong.jobs.models import OutboxJob
from baishitong.notify.models import Message
from baishitong.tickets.models import Ticket
from tests.conftest import TEST_PASSWORD
from tests.tickets.factories import PHONE

TICKET = {"type": "投诉", "content": "均安镇星槎村路口红绿灯坏了两天，车辆乱行很危险。", "requester": {"name": "梁女士", "phone": PHONE}}


@pytest.fixture
def app(settings, own_database):
    return create_app(settings, database=own_database)


def test_requests_committed_while_the_queue_is_down_are_stored_and_their_jobs_run_once_it_is_back(app, own_database, monkeypatch):
    def queue_down(_job_id):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(queue, "run_outbox_job", queue_down)
    monkeypatch.setattr(queue, "run_notification_job", queue_down)
    with TestClient(app) as client:
        created = client.post("/api/v1/tickets", json=TICKET)
        assert created.status_code == 201, created.text
        number = created.json()["number"]
        token = client.post("/api/v1/auth/token", json={"username": "t_operator", "password": TEST_PASSWORD}).json()["access_token"]
        body = {"version": created.json()["version"], "lead_unit": "ronggui"}
        dispatched = client.post(f"/api/v1/tickets/{number}/actions/dispatch", json=body, headers={"Authorization": f"Bearer {token}"})
        assert dispatched.status_code == 200, dispatched.text

    with own_database.session(write=False) as session:
        ticket_id = session.scalar(select(Ticket.id).where(Ticket.number == number))
        messages = session.scalars(select(Message).where(Message.ticket_id == ticket_id)).all()
        waiting = session.scalars(select(OutboxJob).where(OutboxJob.done_at.is_(None), OutboxJob.sent_at.is_(None))).all()
    assert {m.template_code for m in messages} >= {"ticket_registered", "ticket_dispatched_unit"}
    assert all(m.status == "pending" for m in messages)
    assert {j.payload.get("message_id") for j in waiting} >= {m.id for m in messages}

    monkeypatch.undo()  # the queue is back: the worker's once-a-minute relay sends what waited
    assert jobs.relay(own_database) >= len(messages)
    with own_database.session(write=False) as session:
        assert {m.status for m in session.scalars(select(Message).where(Message.ticket_id == ticket_id))} == {"sent"}
        assert session.scalars(select(OutboxJob.id).where(OutboxJob.id.in_([j.id for j in waiting]), OutboxJob.done_at.is_(None))).all() == []


def test_a_request_whose_jobs_were_queued_but_not_marked_sent_is_still_acknowledged(app, own_database, monkeypatch, caplog):
    """The database goes away between the commit and marking the jobs sent (a real queue backend marks them): the
    submission is stored, so it is acknowledged, and the relay hands the unmarked jobs over again."""
    queued: list[int] = []

    def gone(_db, _job_ids):
        raise OperationalError("UPDATE outbox_jobs", {}, Exception("connection failed: server closed the connection unexpectedly"))

    monkeypatch.setattr(queue, "get_settings", lambda: SimpleNamespace(queue_backend="redis"))
    monkeypatch.setattr(queue, "run_outbox_job", queued.append)
    monkeypatch.setattr(queue, "run_notification_job", queued.append)
    monkeypatch.setattr(jobs, "mark_sent", gone)
    # Another matter than the test above's: the same one sent again within minutes is answered with the first (200).
    report = {**TICKET, "content": "容桂街道高黎社区幸福路的路灯坏了一个星期，晚上很黑。"}
    with TestClient(app) as client:
        created = client.post("/api/v1/tickets", json=report)
    assert created.status_code == 201, created.text
    assert queued and "sent but not marked as sent" in caplog.text
    with own_database.session(write=False) as session:
        assert session.scalar(select(Ticket.id).where(Ticket.number == created.json()["number"])) is not None
        unmarked = session.scalars(select(OutboxJob.id).where(OutboxJob.id.in_(queued), OutboxJob.sent_at.is_(None))).all()
    assert sorted(unmarked) == sorted(queued)

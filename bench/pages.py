"""Busiest staff pages over 100,000 work orders: p50/p95 of 100 loads each (goal: p95 ≤ 300 ms),
then one export of each kind with the server's RSS after it.

    .venv/bin/python bench/pages.py [--tickets 100000] [--loads 100] [--only 派单日期 --only 有回访评价] [--db URL]

--only keeps the pages and exports whose label contains one of the given texts (the database is built either way).
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baishitong import migrate, seed  # noqa: E402
from baishitong.db import Database  # noqa: E402
from baishitong.org import service as org  # noqa: E402
from baishitong.org.models import Region, Unit  # noqa: E402
from baishitong.tickets.models import Ticket  # noqa: E402
from baishitong.tickets.service import local_today  # noqa: E402
from common import free_port  # noqa: E402
from tests.e2e.conftest import SERVER  # noqa: E402

PASSWORD = "bench-password"
# Share of orders per status, roughly a busy hotline's open/closed mix.
STATUS_MIX = [("archived", 40), ("closed", 25), ("callback", 6), ("replied", 6), ("signed", 10), ("dispatched", 5), ("registered", 4), ("returned", 2), ("voided", 2)]
TYPES = ["投诉", "求助", "咨询", "建议", "举报", "表扬"]
TITLES = ["路灯不亮", "占道经营", "噪音扰民", "垃圾清运不及时", "下水道堵塞", "违章停车", "油烟扰民", "社保咨询", "施工扰民", "道路破损"]


def build(url: str, count: int) -> None:
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        seed.load_reference(session)
        org.create_user(session, username="bench_handler", password=PASSWORD, role="handler", unit_code="ronggui")
        org.create_user(session, username="bench_operator", password=PASSWORD, role="operator")
        org.create_user(session, username="bench_supervisor", password=PASSWORD, role="supervisor")
        units = [u.id for u in session.scalars(select(Unit).where(Unit.kind.in_(["town", "department", "utility"])))]
        ronggui = session.scalar(select(Unit.id).where(Unit.code == "ronggui"))
        regions = list(session.scalars(select(Region.id).where(Region.kind == "community")))
    rng = random.Random(7)
    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    now = datetime.now(timezone.utc)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        batch = []
        for i in range(count):
            created = now - timedelta(minutes=rng.randint(0, 180 * 24 * 60))
            status = rng.choice(statuses)
            lead = None if status in ("registered", "voided") else (ronggui if rng.random() < 0.15 else rng.choice(units))
            reply_due = created + timedelta(days=rng.choice([2, 10, 15]))
            row = {
                "number": f"SB{created:%Y%m%d}{i:06d}",
                "channel": rng.choice(["hotline", "hotline", "web", "wechat", "app"]),
                "type": rng.choice(TYPES),
                "title": rng.choice(TITLES),
                "content": f"{rng.choice(TITLES)}，请尽快处理。编号{i}",
                "requester_phone": f"138{rng.randint(0, 99999999):08d}",
                "requester_name": "陈先生",
                "region_id": rng.choice(regions),
                "status": status,
                "lead_unit_id": lead,
                "created_at": created,
                "updated_at": created,
                "dispatched_at": created + timedelta(hours=1) if lead else None,
                "signed_at": created + timedelta(hours=3) if status in ("signed", "replied", "callback", "closed", "archived") else None,
                "replied_at": created + timedelta(days=3) if status in ("replied", "callback", "closed", "archived") else None,
                "sign_due": created + timedelta(hours=4) if lead else None,
                "reply_due": reply_due,
                "reply_warn_at": reply_due - timedelta(days=1),
                "close_due": reply_due,
                "clock_started_at": created,
                "callback_at": None,
                "callback_solved": None,
                "callback_satisfaction": None,
            }
            if status in ("callback", "closed", "archived"):
                row.update(callback_at=created + timedelta(days=4), callback_solved=rng.random() < 0.9, callback_satisfaction=rng.choice(["满意", "满意", "基本满意", "不满意"]))
            batch.append(row)
            if len(batch) == 5000:
                conn.execute(insert(Ticket.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Ticket.__table__), batch)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))  # the planner's statistics, as a database in use has them
    print(f"{count} 件工单已写入，用时 {time.perf_counter() - started:.1f} 秒")
    db.dispose()


def login(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/staff/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/staff/login", data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert response.status_code in (200, 303), response.text[:200]
    return client


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def measure(client: httpx.Client, path: str, loads: int) -> tuple[float, float]:
    client.get(path)
    times = []
    for _ in range(loads):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--db", default="", metavar="URL", help="an empty database to build in (e.g. your own PostgreSQL one); a new SQLite file by default")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT", help="measure only the pages and exports whose label contains TEXT (repeatable)")
    args = parser.parse_args()

    def wanted(label: str) -> bool:
        return not args.only or any(text in label for text in args.only)

    tmp = Path(tempfile.mkdtemp(prefix="bst-bench-pages-"))
    url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    build(url, args.tickets)
    port = free_port()
    env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_QUEUE_BACKEND": "immediate", "BAISHITONG_VAR_DIR": str(tmp)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        handler, operator, supervisor = login(base, "bench_handler"), login(base, "bench_operator"), login(base, "bench_supervisor")
        league_days = f"dispatched_from={(local_today() - timedelta(days=89)).isoformat()}&dispatched_to={local_today().isoformat()}"
        print(f"{'页面':<34}{'p50 ms':>10}{'p95 ms':>10}")
        worst = 0.0
        for label, client, path in [
            ("单位工作台 待签收（容桂街道）", handler, "/staff/unit"),
            ("单位工作台 办理中（容桂街道）", handler, "/staff/unit?tab=signed"),
            # The 承办人 filter: 未指派 (all of the bench's orders), and 我的 for a handler with none, the longest search.
            ("单位工作台 办理中·未指派", handler, "/staff/unit?tab=signed&who=none"),
            ("单位工作台 办理中·我的（名下无单）", handler, "/staff/unit?tab=signed&who=mine"),
            ("单位工作台 已答复（容桂街道）", handler, "/staff/unit?tab=replied"),
            ("单位工作台 退单待审·未指派", handler, "/staff/unit?tab=returned&who=none"),
            ("待派单队列（话务员）", operator, "/staff/console/dispatch"),
            ("待回访队列（话务员）", operator, "/staff/console/callback"),
            ("待审核队列（话务员）", operator, "/staff/console/review"),
            ("督办台（督办员）", supervisor, "/staff/supervise"),
            ("督办台 单位排名（页面之后加载）", supervisor, "/staff/supervise/league"),
            ("工单查询（全部）", operator, "/staff/tickets"),
            ("工单查询（办理中·投诉）", operator, "/staff/tickets?status=signed&type=投诉"),
            ("工单查询（承办人）", handler, "/staff/tickets"),
            # The 督办台 league's links: a unit's 派单数 (90 whole days by 派单日期) and its 回访数.
            ("工单查询（单位·派单日期 90 天）", supervisor, f"/staff/tickets?unit=ronggui&{league_days}&matters=1"),
            ("工单查询（同上·有回访评价）", supervisor, f"/staff/tickets?unit=ronggui&{league_days}&matters=1&callback=yes"),
            # 统计分析's 未派单 link (the bench's orders have no category, so 未分类 would be all of them).
            ("工单查询（近 30 天·未派单）", supervisor, f"/staff/tickets?from={(local_today() - timedelta(days=29)).isoformat()}&to={local_today().isoformat()}&unit=none&matters=1"),
            ("统计分析（近 30 天）", supervisor, "/staff/stats"),
            ("统计分析（近 180 天）", supervisor, f"/staff/stats?from={(datetime.now() - timedelta(days=179)):%Y-%m-%d}"),
        ]:
            if not wanted(label):
                continue
            p50, p95 = measure(client, path, args.loads)
            worst = max(worst, p95)
            print(f"{label:<30}{p50:>10.1f}{p95:>10.1f}")
        print(f"最差 p95：{worst:.1f} ms（目标 ≤ 300 ms）")
        print(f"服务进程 RSS：{rss_mb(server.pid):.0f} MB")
        for label, client, path in [
            ("导出 Excel（承办人，本单位办理中）", handler, "/staff/exports/tickets.xlsx?status=signed"),
            ("导出 Excel（督办员，已派单约 5,000 件）", supervisor, "/staff/exports/tickets.xlsx?status=dispatched"),
            ("导出 CSV（督办员，已派单约 5,000 件）", supervisor, "/staff/exports/tickets.csv?status=dispatched"),
        ]:
            if not wanted(label):
                continue
            started = time.perf_counter()
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            print(f"{label}：{(time.perf_counter() - started) * 1000:.0f} ms，{len(response.content) / 1024:.0f} KB，之后服务进程 RSS {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

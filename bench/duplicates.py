"""Duplicate detection figures: precision/recall of the text similarity, latency with 100k tickets.

Run from the project root:  .venv/bin/python bench/duplicates.py [--data DIR] [--tickets 100000]

The TIPDM hot messages carry no gold clusters, so positives are made: a message
against a paraphrase-like copy (its detail's sentences shuffled and a part
dropped, the subject kept or not), as a second caller would word it. Negatives
are other messages from the same 30 days, scored in the same pool, as the
candidates of a community-month would be. Hot messages are themselves about
recurring matters, so a few "negatives" are real duplicates: precision here is
a lower bound.
"""

from __future__ import annotations

import argparse
import math
import csv
import random
import shlex
import statistics
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from baishitong import migrate, seed
from baishitong.db import Database
from baishitong.knowledge.search import sentences
from baishitong.org.models import Region
from baishitong.routing import duplicates
from baishitong.tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[1]
OPEN = ("registered", "dispatched", "signed", "returned")


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            try:
                r["at"] = datetime.fromisoformat(r["time"].strip())
            except ValueError:
                continue
            if r["detail"].strip():
                rows.append(r)
    rows.sort(key=lambda r: r["at"])
    return rows


def paraphrase(rng: random.Random, row: dict) -> tuple[str | None, str]:
    """A second caller about the same matter: some sentences, reordered, the subject only sometimes."""
    parts = sentences(row["detail"]) or [row["detail"]]
    keep = max(1, round(len(parts) * rng.uniform(0.4, 0.8)))
    picked = rng.sample(parts, keep)
    return (row["subject"] if rng.random() < 0.5 else None), "".join(picked)


def evaluate(rows: list[dict], *, queries: int, pool: int, seed_: int) -> list[tuple[float, bool]]:
    rng = random.Random(seed_)
    times = [r["at"] for r in rows]
    scored: list[tuple[float, bool]] = []
    for i in rng.sample(range(len(rows)), min(queries, len(rows))):
        row = rows[i]
        lo, hi = bisect_left(times, row["at"] - timedelta(days=30)), bisect_right(times, row["at"] + timedelta(days=30))
        others = [j for j in range(lo, hi) if j != i]
        negatives = rng.sample(others, min(pool, len(others)))
        title, content = paraphrase(rng, row)
        docs = [duplicates.ticket_text(title, content)] + [duplicates.ticket_text(rows[j]["subject"], rows[j]["detail"]) for j in negatives]
        sims = duplicates.similarities(duplicates.ticket_text(row["subject"], row["detail"]), docs)
        scored.append((sims[0], True))
        scored.extend((s, False) for s in sims[1:])
    return scored


def report_quality(scored: list[tuple[float, bool]]) -> None:
    positives = sum(1 for _, y in scored if y)
    print(f"pairs: {positives} positives, {len(scored) - positives} negatives")
    print("threshold  precision  recall   f1")
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        tp = sum(1 for s, y in scored if y and s >= t)
        fp = sum(1 for s, y in scored if not y and s >= t)
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / positives
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        mark = "  <- THRESHOLD" if abs(t - duplicates.THRESHOLD) < 1e-9 else ""
        print(f"  {t:5.2f}     {p:6.3f}   {r:6.3f}  {f1:6.3f}{mark}")
    neg = sorted(s for s, y in scored if not y)
    print(f"negative similarity p99 {neg[int(len(neg) * 0.99)]:.3f}, max {neg[-1]:.3f}")


def build_db(url: str, rows: list[dict], n: int, rng: random.Random) -> tuple[list[Region], list[float]]:
    migrate.upgrade(url)
    db = Database(url)
    with db.session() as session:
        seed.load_reference(session)
    with db.session() as session:
        communities = list(session.scalars(select(Region).where(Region.kind != "town")))
        session.expunge_all()
    # Requests crowd in busy communities: weight 1/sqrt(rank), the busiest gets about 4% of them.
    weights = [1 / math.sqrt(k + 1) for k in range(len(communities))]
    now = datetime.now(timezone.utc)
    batch = []
    started = time.perf_counter()
    with db.engine.begin() as conn:
        for k in range(n):
            src = rows[rng.randrange(len(rows))]
            region = rng.choices(communities, weights)[0]
            age = rng.uniform(0, 365)
            status = rng.choice(OPEN) if rng.random() < (0.6 if age < 30 else 0.03) else "closed"
            point = rng.random() < 0.5
            batch.append(
                {
                    "number": f"BN{k:010d}",
                    "channel": "web",
                    "type": "投诉",
                    "title": src["subject"][:200],
                    "content": f"{region.short_name}{src['detail']}",
                    "status": status,
                    "region_id": region.id,
                    "lat": region.lat + rng.uniform(-0.008, 0.008) if point else None,
                    "lon": region.lon + rng.uniform(-0.008, 0.008) if point else None,
                    "created_at": now - timedelta(days=age),
                    "updated_at": now,
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Ticket.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(Ticket.__table__), batch)
    print(f"inserted {n} tickets in {time.perf_counter() - started:.1f} s")
    db.dispose()
    return communities, weights


def latency(url: str, rows: list[dict], communities: list[Region], weights: list[float], queries: int, rng: random.Random) -> None:
    db = Database(url)
    times, pools, found = [], [], []
    with db.session() as session:
        duplicates.find_duplicates(session, text="路灯不亮", region_code=communities[0].code)
        for _ in range(queries):
            src = rows[rng.randrange(len(rows))]
            region = rng.choices(communities, weights)[0]
            lat, lon = (region.lat + rng.uniform(-0.005, 0.005), region.lon + rng.uniform(-0.005, 0.005)) if rng.random() < 0.5 else (None, None)
            args = dict(text=src["detail"], title=src["subject"], region_code=region.code, lat=lat, lon=lon)
            started = time.perf_counter()
            hits = duplicates.find_duplicates(session, **args)
            times.append((time.perf_counter() - started) * 1000)
            found.append(len(hits))
            pools.append(len(duplicates.find_duplicates(session, **args, threshold=0.0, limit=10**6)))
    db.dispose()
    times.sort()
    p95 = times[int(len(times) * 0.95)]
    print(f"find_duplicates over {queries} queries: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")
    print(f"candidate pool: median {statistics.median(pools):.0f}, p95 {sorted(pools)[int(len(pools) * 0.95)]}, max {max(pools)}; returned per query: mean {statistics.mean(found):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/tipdm2020c")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=50, help="negatives scored with each positive")
    args = parser.parse_args()
    print("$", shlex.join([".venv/bin/python", "bench/duplicates.py", *sys.argv[1:]]))
    rows = load(args.data / "hot_messages.csv")
    print(f"{len(rows)} hot messages, {rows[0]['at']:%Y-%m-%d} .. {rows[-1]['at']:%Y-%m-%d}")
    report_quality(evaluate(rows, queries=args.queries, pool=args.pool, seed_=7))
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        communities, weights = build_db(url, rows, args.tickets, rng)
        latency(url, rows, communities, weights, 300, rng)


if __name__ == "__main__":
    main()

"""Latency of PointIndex.nearest on 10,000 random points around Shunde (target: p95 ≤ 1 ms).

Run: .venv/bin/python bench/points_core.py [n_points] [n_queries]
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from baishitong.points.geo import PointIndex, brute_nearest


def _percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    p50 = statistics.median(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"p50 {p50:.3f} ms  p95 {p95:.3f} ms  max {ms[-1]:.3f} ms"


def main(n_points: int = 10_000, n_queries: int = 2_000) -> None:
    rng = random.Random(7)
    items = [(i, rng.uniform(22.69, 23.0), rng.uniform(113.03, 113.32)) for i in range(n_points)]
    t0 = time.perf_counter()
    index: PointIndex[int] = PointIndex(items)
    print(f"build {n_points} points: {(time.perf_counter() - t0) * 1000:.1f} ms")
    queries = [(rng.uniform(22.65, 23.05), rng.uniform(113.0, 113.36)) for _ in range(n_queries)]
    cases = {
        "nearest limit=10": {"limit": 10},
        "nearest limit=1": {"limit": 1},
        "radius 2 km, limit=None": {"radius_m": 2000.0, "limit": None},
        "limit=10, predicate key%7==0": {"limit": 10, "predicate": lambda k: k % 7 == 0},
    }
    for label, kwargs in cases.items():
        samples = []
        for lat, lon in queries:
            t = time.perf_counter()
            index.nearest(lat, lon, **kwargs)
            samples.append(time.perf_counter() - t)
        print(f"{label:32s} {_percentiles(samples)}")
    for lat, lon in queries[:50]:
        got = [k for k, _ in index.nearest(lat, lon, limit=10)]
        assert got == [k for k, _ in brute_nearest(items, lat, lon, limit=10)], (lat, lon)
    print("spot check against brute force: ok")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

"""Latency of GET /api/v1/points/nearest over 10,000 points, through a real server.

Run: .venv/bin/python bench/points_api.py   (goal: p95 ≤ 20 ms, one request at a time, keep-alive)
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from common import free_port

COMMAND = ".venv/bin/python bench/points_api.py"
POINTS = 10_000
CALLS = 500
# Shunde's extent, roughly.
LAT, LON = (22.68, 22.98), (113.00, 113.38)
KINDS = ("bank_branch", "town_centre", "self_service")
HOURS = ("周一至周五 09:00-17:00", "周一至周五 09:00-17:00; 周六 09:00-12:00", "24小时")
SERVER = """
import sys, uvicorn
from baishitong.app import create_app
from baishitong.points.api import router
app = create_app()
if not any(getattr(r, "path", "") == "/api/v1/points" for r in app.routes):
    app.include_router(router)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def main() -> None:
    print(f"$ {COMMAND}")
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="bst-points-bench-"))
    url = f"sqlite:///{work / 'bench.db'}"
    env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_VAR_DIR": str(work), "BAISHITONG_TRACK_RATE_LIMIT_PER_MINUTE": "1000000"}
    subprocess.run([sys.executable, "-m", "baishitong", "init", "--db", url], check=True, env=env, stdout=subprocess.DEVNULL)
    rows = ["code,name,kind,address,lat,lon,hours,services,staff"]
    for i in range(POINTS):
        kind = KINDS[i % len(KINDS)]
        rows.append(f"B{i:05d},基准网点{i},{kind},顺德区测试路{i}号,{rng.uniform(*LAT):.6f},{rng.uniform(*LON):.6f},{HOURS[i % 3]},GA00{i % 5 + 1}:窗口,{i % 4}")
    source = work / "points.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    started = time.perf_counter()
    from baishitong.db import Database
    from baishitong.points import service

    db = Database(url)
    with db.session() as session:
        result = service.import_file(session, filename=source.name, content=source.read_bytes(), actor="bench")
    db.dispose()
    print(f"imported {result.created} points in {time.perf_counter() - started:.1f} s")

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(100):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            queries = [
                {"lat": round(rng.uniform(*LAT), 6), "lon": round(rng.uniform(*LON), 6), "limit": 10, **({"radius": 3000} if n % 2 else {}), **({"service": "GA001"} if n % 5 == 0 else {})}
                for n in range(CALLS)
            ]
            client.get("/api/v1/points/nearest", params=queries[0]).raise_for_status()  # builds the index
            timings = []
            for params in queries:
                t0 = time.perf_counter()
                response = client.get("/api/v1/points/nearest", params=params)
                timings.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        print(f"GET /api/v1/points/nearest over {POINTS} points, {CALLS} calls: p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {timings[-1]:.2f} ms (goal p95 ≤ 20 ms)")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()

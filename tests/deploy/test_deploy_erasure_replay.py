"""A restore replays recorded erasures: a real backup.sh and restore.sh round trip.

A person talks to the service (a crisis case is opened), a nightly backup is taken, then
they send DELETE and the code. Restoring that backup brings them back, so restore.sh runs
`flask --app bot erasure replay`: the person, their messages and the link to their case are
gone again, the other people are untouched, nobody is texted, and a second replay changes
nothing. The sweeper then finishes Twilio's side.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from bot import create_app, migrate
from bot.services import Services
from core.tables import Contact, ErasureRequest, Escalation, InboundMessage
from tests.conftest import TEST_SECRETS, drain, inbound_form, make_config, post_signed
from tests.deploy.deploy_support import ROOT, require_tool, run_script
from workers import runtime
from workers.sweeper import sweep

PERSON = "+254700000321"
OTHER = "+254700000654"
ONCALL = "+254711000111"


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _snapshot(url: str) -> dict[str, list[tuple]]:
    engine = _engine(url)
    try:
        tables = sorted(inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}
    finally:
        engine.dispose()


class Live:
    """The running service: the web app and a worker's services on one database."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, standin):
        self.config = replace(make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                                          TWILIO_API_BASE=standin.url), ONCALL_NUMBERS=(ONCALL,))
        self.standin = standin
        self.app = create_app(self.config)
        self.client = self.app.test_client()
        self.services = Services(self.config)
        runtime.install(self.services)

    def close(self) -> None:
        self.services.close()
        self.app.extensions["tumaini.services"].close()

    def say(self, phone: str, body: str) -> None:
        assert post_signed(self.client, inbound_form(body, phone=phone)).status_code == 200
        drain(self.services)

    def delete(self, phone: str) -> None:
        self.say(phone, "DELETE")
        asked = [b for b in self.standin.bodies_to(phone) if "DELETE" in b][-1]
        code = re.search(r"DELETE (\d{6})", asked).group(1)
        self.say(phone, f"DELETE {code}")

    def key_of(self, phone: str) -> str:
        return self.services.pseudonymise(phone)


def _env_file(tmp_path: Path, config) -> Path:
    """The service's settings as install.sh writes them: the restore finds the ledger through them."""
    lines = [f"ENV={config.ENV}", f"DATABASE_URL={config.DATABASE_URL}", f"INSTANCE_DIR={config.INSTANCE_DIR}",
             f"PUBLIC_BASE_URL={config.PUBLIC_BASE_URL}", f"CONTENT_DIR={config.CONTENT_DIR}",
             f"MODELS_DIR={tmp_path / 'models'}", f"HMAC_KEY={TEST_SECRETS['HMAC_KEY']}",
             f"SECRET_KEY={TEST_SECRETS['SECRET_KEY']}", f"ENCRYPTION_KEYS={','.join(TEST_SECRETS['ENCRYPTION_KEYS'])}",
             f"TWILIO_AUTH_TOKEN={config.TWILIO_AUTH_TOKEN}", f"TWILIO_SMS_FROM={config.TWILIO_SMS_FROM}"]
    path = tmp_path / "env"
    path.write_text("\n".join(lines) + "\n")
    return path


def _backup(tmp_path: Path, env_file: Path) -> tuple[Path, Path]:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    result = run_script("backup.sh", "--env-file", str(env_file), "--out", str(tmp_path / "backups"),
                        "--passphrase-file", str(passphrase))
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1]), passphrase


def _replay_cli(env_file: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """`flask --app bot erasure replay` as an operator runs it: the env file's settings, the restored database."""
    script = 'set -a && . "$1" && set +a && export DATABASE_URL="$2" && exec "$3" -m flask --app bot erasure replay'
    return subprocess.run(["bash", "-c", script, "_", str(env_file), database_url, sys.executable],
                          capture_output=True, text=True, cwd=str(ROOT), timeout=120)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    """(the live database's URL, a function giving a fresh restore target and restore.sh's extra arguments)."""
    if request.param == "sqlite":
        live = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
        migrate.upgrade(live)
        return live, lambda: (f"sqlite:///{tmp_path / 'restored' / 'tumaini.db'}", [])
    require_tool("pg_dump")
    make = request.getfixturevalue("make_postgres_database")
    return make(), lambda: (make(migrated=False, create=False), ["--create-database"])


def test_a_restore_erases_again_whoever_asked_after_the_backup(tmp_path, backend, private_redis, twilio_standin):
    live_url, restore_target = backend
    live = Live(tmp_path, live_url, private_redis.url, twilio_standin)
    try:
        for text_ in ("hello", "YES", "I want to kill myself tonight"):
            live.say(PERSON, text_)
        live.say(OTHER, "hello")
        person_key, other_key = live.key_of(PERSON), live.key_of(OTHER)
        with live.services.db.session() as session:
            case_id = session.scalars(select(Escalation.id)).one()
        env_file = _env_file(tmp_path, live.config)
        archive, passphrase = _backup(tmp_path, env_file)  # last night's backup: the person is in it

        live.delete(PERSON)
        with live.services.db.session() as session:
            assert session.scalars(select(Contact.phone_hash)).all() == [other_key]
        ledger = Path(live.config.INSTANCE_DIR) / "erasure-ledger.jsonl"
        recorded = ledger.read_text()
        assert len(recorded.splitlines()) == 1 and person_key in recorded
        assert PERSON not in recorded and PERSON.lstrip("+") not in recorded, "the ledger holds no number"
        texts_before = len(twilio_standin.store.all())
    finally:
        live.close()

    target, extra = restore_target()
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", target,
                        "--env-file", str(env_file), *extra)
    assert result.returncode == 0, result.stderr
    assert "1 erased again" in result.stdout, result.stdout
    assert PERSON not in result.stdout + result.stderr and person_key not in result.stdout + result.stderr

    restored = Services(make_config(tmp_path, DATABASE_URL=target, REDIS_URL=private_redis.url,
                                    TWILIO_API_BASE=twilio_standin.url))
    try:
        with restored.db.session() as session:
            assert session.scalars(select(Contact.phone_hash)).all() == [other_key], "the person is gone again"
            assert not session.scalars(select(InboundMessage).where(InboundMessage.from_hash == person_key)).all()
            assert session.scalars(select(InboundMessage).where(InboundMessage.from_hash == other_key)).all()
            case = session.get(Escalation, case_id)
            assert case.contact_id is None and case.inbound_id is None
            assert case.status == "closed" and case.outcome == "erased"
        assert len(twilio_standin.store.all()) == texts_before, "a replay texts nobody"

        # A second replay is a no-op.
        before = _snapshot(target)
        again = _replay_cli(env_file, target)
        assert again.returncode == 0, again.stderr
        assert "0 erased again, 1 already gone" in again.stdout
        assert _snapshot(target) == before

        # Once workers run, the sweeper makes sure Twilio's copies are gone too.
        sweep(restored)
        with restored.db.session() as session:
            requests = session.scalars(select(ErasureRequest)).all()
        assert requests and all(r.done_at is not None and r.twilio_done_at is not None for r in requests)
    finally:
        restored.close()
    with open(ledger) as handle:
        assert handle.read() == recorded, "replaying adds nothing to the ledger"


def test_someone_who_came_back_after_their_erasure_is_kept(tmp_path, private_redis, twilio_standin):
    """Erased, then wrote again: the backup taken after that holds a new contact, which a restore keeps."""
    live_url = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(live_url)
    live = Live(tmp_path, live_url, private_redis.url, twilio_standin)
    try:
        live.say(PERSON, "hello")
        live.say(PERSON, "YES")
        live.delete(PERSON)
        live.say(PERSON, "hello")  # back, of their own accord
        env_file = _env_file(tmp_path, live.config)
        archive, passphrase = _backup(tmp_path, env_file)
    finally:
        live.close()
    target = f"sqlite:///{tmp_path / 'restored' / 'tumaini.db'}"
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", target,
                        "--env-file", str(env_file))
    assert result.returncode == 0, result.stderr
    assert "0 erased again, 0 already gone, 1 kept" in result.stdout, result.stdout
    engine = _engine(target)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM contacts")) == 1
    engine.dispose()


def test_restore_without_the_ledger_settings_says_so(tmp_path):
    """--no-replay is said loudly; an absent ledger is said, not taken as 'nothing to do' in silence."""
    live_url = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(live_url)
    config = make_config(tmp_path, DATABASE_URL=live_url)
    env_file = _env_file(tmp_path, config)
    archive, passphrase = _backup(tmp_path, env_file)
    skipped = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url",
                         f"sqlite:///{tmp_path / 'a' / 'tumaini.db'}", "--env-file", str(env_file), "--no-replay")
    assert skipped.returncode == 0 and "NOT replayed" in skipped.stdout
    absent = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url",
                        f"sqlite:///{tmp_path / 'b' / 'tumaini.db'}", "--env-file", str(env_file))
    assert absent.returncode == 0, absent.stderr
    assert f"no erasure ledger at {tmp_path / 'instance' / 'erasure-ledger.jsonl'}" in absent.stderr
    named = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url",
                       f"sqlite:///{tmp_path / 'c' / 'tumaini.db'}", "--env-file", str(env_file),
                       "--ledger", str(tmp_path / "elsewhere.jsonl"))
    assert named.returncode != 0 and "no erasure ledger at" in named.stderr


def test_a_database_restored_without_the_replay_is_caught_by_the_release_step(tmp_path, private_redis,
                                                                              twilio_standin):
    """restore.sh --no-replay (or a restore by hand): the release step, which runs before web and
    workers start, replays the ledger."""
    live_url = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(live_url)
    live = Live(tmp_path, live_url, private_redis.url, twilio_standin)
    try:
        live.say(PERSON, "hello")
        live.say(PERSON, "YES")
        env_file = _env_file(tmp_path, live.config)
        archive, passphrase = _backup(tmp_path, env_file)
        live.delete(PERSON)
    finally:
        live.close()
    target = f"sqlite:///{tmp_path / 'restored' / 'tumaini.db'}"
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", target,
                        "--env-file", str(env_file), "--no-replay")
    assert result.returncode == 0, result.stderr
    engine = _engine(target)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM contacts")) == 1, "back, until the replay"
    script = 'set -a && . "$1" && set +a && export DATABASE_URL="$2" && exec "$3" -m flask --app bot release'
    release = subprocess.run(["bash", "-c", script, "_", str(env_file), target, sys.executable],
                             capture_output=True, text=True, cwd=str(ROOT), timeout=300)
    assert release.returncode == 0, release.stderr
    assert "1 erased again" in release.stdout
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM contacts")) == 0
    engine.dispose()

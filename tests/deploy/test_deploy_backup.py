"""Backups: a real round trip through deploy/backup.sh and deploy/restore.sh.

Data goes in the way it does in production (signed webhooks, then a worker's
jobs), comes out as one encrypted file, and is restored into a fresh database
where every table matches and the service can still read the messages.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from bot import create_app, migrate
from bot.services import Services
from core.tables import InboundMessage, OutboxMessage
from tests.conftest import drain, inbound_form, make_config, post_signed
from tests.deploy.deploy_support import ROOT, require_tool, run_script

MESSAGES = [("+254711000001", "Hi"), ("+254711000002", "HELP"), ("+254711000001", "HELP"),
            ("+254711000003", "Habari")]


def _engine(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = _engine(url)
    try:
        tables = sorted(inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {t: [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))] for t in tables}
    finally:
        engine.dispose()


def _fill(tmp_path: Path, database_url: str, redis_url: str, standin_url: str) -> None:
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=standin_url)
    client = create_app(config).test_client()
    for phone, body in MESSAGES:
        assert post_signed(client, inbound_form(body, phone=phone)).status_code == 200
    from workers import runtime

    services = Services(config)
    runtime.install(services)
    try:
        drain(services)
    finally:
        services.close()


def _settings(tmp_path: Path, database_url: str) -> tuple[Path, Path, Path]:
    """An env file like /etc/tumaini/env, a content library, a models dir with one manifest."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content" / "library" / "en", content / "en")
    shutil.copy(ROOT / "content" / "library" / "library.yaml", content / "library.yaml")
    models = tmp_path / "models"
    (models / "opus-mt-en-sw").mkdir(parents=True)
    (models / "opus-mt-en-sw" / "manifest.json").write_text(json.dumps({"name": "opus-mt-en-sw", "version": "3"}))
    (models / "opus-mt-en-sw" / "model.bin").write_bytes(b"\0" * 1024)  # weights are not backed up
    env_file = tmp_path / "env"
    env_file.write_text(f"ENV=test\nDATABASE_URL={database_url}\nCONTENT_DIR={content}\nMODELS_DIR={models}\n"
                        f"INSTANCE_DIR={tmp_path / 'instance'}\n")
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("correct horse battery staple\n")
    passphrase.chmod(0o600)
    return env_file, passphrase, content


def _backup(tmp_path: Path, env_file: Path, passphrase: Path, *extra: str) -> Path:
    result = run_script("backup.sh", "--env-file", str(env_file), "--out", str(tmp_path / "backups"),
                        "--passphrase-file", str(passphrase), *extra)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.mark.postgres
def test_postgres_backup_restores_every_row_into_a_fresh_database(tmp_path, make_postgres_database,
                                                                  private_redis, twilio_standin):
    require_tool("pg_dump")
    source = make_postgres_database()
    _fill(tmp_path, source, private_redis.url, twilio_standin.url)
    env_file, passphrase, content = _settings(tmp_path, source)

    archive = _backup(tmp_path, env_file, passphrase)
    raw = archive.read_bytes()
    assert b"inbound_messages" not in raw and b"PGDMP" not in raw, "the backup must be encrypted"

    target = make_postgres_database(migrated=False, create=False)
    restored_content = tmp_path / "restored-content"
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", target,
                        "--create-database", "--content-dir", str(restored_content),
                        "--models-dir", str(tmp_path / "no-models"))
    assert result.returncode == 0, result.stderr
    assert "model opus-mt-en-sw: not installed here" in result.stdout

    before, after = _snapshot(source), _snapshot(target)
    assert set(after) == set(before)
    assert {t: len(rows) for t, rows in before.items()}["inbound_messages"] == len(MESSAGES)
    assert len(before["outbox"]) >= len(MESSAGES) and before["contacts"]
    for table, rows in before.items():
        assert after[table] == rows, f"{table} differs after restore"
    for path in content.rglob("*.yaml"):
        assert (restored_content / path.relative_to(content)).read_bytes() == path.read_bytes()

    # The restored service reads the same messages (same keys, same ciphertext).
    services = Services(make_config(tmp_path, DATABASE_URL=target, REDIS_URL=private_redis.url))
    try:
        with services.db.session() as session:
            bodies = [services.cipher.decrypt(m.body_enc, b"body")
                      for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
            sent = session.scalars(select(OutboxMessage.status)).all()
        assert bodies == [body for _, body in MESSAGES]
        assert set(sent) == {"sent"}
    finally:
        services.close()
    # A later migration applies on top of the restored database as on the original.
    migrate.upgrade(target)


@pytest.mark.postgres
def test_a_wrong_passphrase_fails_clearly_and_creates_nothing(tmp_path, make_postgres_database, private_redis,
                                                              twilio_standin):
    require_tool("pg_dump")
    source = make_postgres_database()
    env_file, passphrase, _ = _settings(tmp_path, source)
    archive = _backup(tmp_path, env_file, passphrase)
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase\n")
    target = make_postgres_database(migrated=False, create=False)
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(wrong), "--database-url", target,
                        "--create-database")
    assert result.returncode != 0
    assert "wrong passphrase" in result.stderr
    engine = _engine(source.rsplit("/", 1)[0] + "/postgres")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": target.rsplit("/", 1)[1]})
    engine.dispose()
    assert exists == 0


@pytest.mark.postgres
def test_restore_refuses_a_database_that_already_has_data(tmp_path, make_postgres_database):
    require_tool("pg_dump")
    source = make_postgres_database()
    env_file, passphrase, _ = _settings(tmp_path, source)
    archive = _backup(tmp_path, env_file, passphrase)
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", source)
    assert result.returncode != 0
    assert "not empty" in result.stderr


def test_sqlite_backup_round_trip_and_damage_is_detected(tmp_path, private_redis, twilio_standin):
    source = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(source)
    config = make_config(tmp_path, DATABASE_URL=source, REDIS_URL=private_redis.url,
                         TWILIO_API_BASE=twilio_standin.url)
    client = create_app(config).test_client()
    for phone, body in MESSAGES:
        assert post_signed(client, inbound_form(body, phone=phone)).status_code == 200
    env_file, passphrase, _ = _settings(tmp_path, source)
    archive = _backup(tmp_path, env_file, passphrase, "--with-keys")

    target = f"sqlite:///{tmp_path / 'restored' / 'tumaini.db'}"
    env_out = tmp_path / "restored-env"
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url", target,
                        "--env-out", str(env_out))
    assert result.returncode == 0, result.stderr
    assert _snapshot(target) == _snapshot(source)
    assert env_out.read_text() == env_file.read_text() and env_out.stat().st_mode & 0o077 == 0

    damaged = tmp_path / "damaged.tar.enc"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    result = run_script("restore.sh", str(damaged), "--passphrase-file", str(passphrase), "--database-url",
                        f"sqlite:///{tmp_path / 'again' / 'tumaini.db'}")
    assert result.returncode != 0
    assert "damaged" in result.stderr or "wrong passphrase" in result.stderr
    assert not (tmp_path / "again" / "tumaini.db").exists()


def test_backups_beyond_keep_are_removed_oldest_first(tmp_path):
    source = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(source)
    env_file, passphrase, _ = _settings(tmp_path, source)
    out = tmp_path / "backups"
    out.mkdir()
    for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
        (out / f"tumaini-{stamp}.tar.enc").write_bytes(b"old")
        (out / f"tumaini-{stamp}.tar.enc.sha256").write_text("old")
    newest = _backup(tmp_path, env_file, passphrase, "--keep", "2")
    kept = sorted(p.name for p in out.glob("tumaini-*.tar.enc"))
    assert kept == ["tumaini-20250103T000000Z.tar.enc", newest.name]


def test_backup_refuses_to_write_without_a_passphrase(tmp_path):
    result = run_script("backup.sh", "--out", str(tmp_path / "b"))
    assert result.returncode != 0 and "--passphrase-file is required" in result.stderr
    assert not (tmp_path / "b").exists()


def _logging_wrappers(tmp_path: Path, *tools: str) -> tuple[dict[str, str], Path]:
    """Each tool on PATH replaced by a wrapper that logs its arguments (and the PGPASSFILE it was
    given, with that file's content) before running the real one."""
    import os

    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        real = require_tool(tool)
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\necho "{tool} $*" >>"{log}"\n'
                           f'if [ -n "$PGPASSFILE" ] && [ -f "$PGPASSFILE" ]; then '
                           f'echo "{tool} PGPASSFILE: $(cat "$PGPASSFILE")" >>"{log}"; fi\n'
                           f'exec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    log.touch()
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}, log


def _sqlite_backup(tmp_path: Path) -> tuple[Path, Path]:
    source = f"sqlite:///{tmp_path / 'live' / 'tumaini.db'}"
    migrate.upgrade(source)
    env_file, passphrase, _ = _settings(tmp_path, source)
    return _backup(tmp_path, env_file, passphrase), passphrase


def test_an_altered_backup_is_refused_before_anything_is_decrypted(tmp_path):
    """Someone alters the ciphertext and writes a matching .sha256: the HMAC tag catches it, and
    openssl is never asked to decrypt the altered file."""
    import hashlib

    archive, passphrase = _sqlite_backup(tmp_path)
    assert archive.read_bytes().startswith(b"TUMAINI-BACKUP/2 ")
    data = bytearray(archive.read_bytes())
    data[-100] ^= 0x01  # one bit near the end of the ciphertext
    archive.write_bytes(bytes(data))
    archive.with_name(archive.name + ".sha256").write_text(f"{hashlib.sha256(data).hexdigest()}  {archive.name}\n")
    env, log = _logging_wrappers(tmp_path, "openssl")
    target = tmp_path / "again" / "tumaini.db"
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url",
                        f"sqlite:///{target}", env=env)
    assert result.returncode != 0 and "failed authentication" in result.stderr
    assert "enc -d" not in log.read_text(), "nothing is decrypted before the tag matches"
    assert not target.exists()


def test_a_backup_without_authentication_needs_an_explicit_flag(tmp_path):
    """A backup in the old format (openssl enc alone) is refused, then restored when asked."""
    import subprocess

    archive, passphrase = _sqlite_backup(tmp_path)
    stage = tmp_path / "stage"
    stage.mkdir()
    opened = subprocess.run(["python3", str(ROOT / "deploy" / "backup_seal.py"), "open", "--passphrase-file",
                             str(passphrase), str(archive)], capture_output=True, check=True)
    old = tmp_path / "tumaini-old.tar.enc"
    old.write_bytes(opened.stdout)  # the ciphertext alone: what format 1 wrote
    target = tmp_path / "old" / "tumaini.db"
    refused = run_script("restore.sh", str(old), "--passphrase-file", str(passphrase), "--database-url",
                         f"sqlite:///{target}")
    assert refused.returncode != 0 and "--allow-unauthenticated" in refused.stderr and not target.exists()
    allowed = run_script("restore.sh", str(old), "--passphrase-file", str(passphrase), "--database-url",
                         f"sqlite:///{target}", "--allow-unauthenticated")
    assert allowed.returncode == 0, allowed.stderr
    assert "without authentication" in allowed.stdout and target.exists()


@pytest.mark.postgres
def test_the_database_password_never_reaches_a_command_line(tmp_path, make_postgres_database):
    """pg_dump, psql and pg_restore get the password from a PGPASSFILE, never in their arguments
    (any local user can read those in ps)."""
    password = "pw-in-the-url-4c2e9"
    with_password = lambda url: url.replace("://postgres@", f"://postgres:{password}@", 1)  # noqa: E731
    source = make_postgres_database()
    assert "://postgres@" in source, "the test server's URL names the postgres user"
    env_file, passphrase, _ = _settings(tmp_path, with_password(source))
    env, log = _logging_wrappers(tmp_path, "pg_dump", "psql", "pg_restore")
    result = run_script("backup.sh", "--env-file", str(env_file), "--out", str(tmp_path / "backups"),
                        "--passphrase-file", str(passphrase), env=env)
    assert result.returncode == 0, result.stderr
    archive = Path(result.stdout.strip().splitlines()[-1])
    target = make_postgres_database(migrated=False, create=False)
    # The documented restore: the URL without its password, which comes from the env file.
    result = run_script("restore.sh", str(archive), "--passphrase-file", str(passphrase), "--database-url",
                        target, "--env-file", str(env_file), "--create-database", env=env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    argv = [line for line in calls if "PGPASSFILE:" not in line]
    assert {line.split()[0] for line in argv} == {"pg_dump", "psql", "pg_restore"}
    assert not [line for line in argv if password in line], "a password on a command line"
    assert all(f"PGPASSFILE: *:*:*:*:{password}" in line for line in calls if "PGPASSFILE:" in line)
    assert len([line for line in calls if "PGPASSFILE:" in line]) == len(argv)

"""deploy/install.sh, step by step, in a throwaway root.

A full install needs a fresh Debian/Ubuntu with systemd as PID 1, which a test
cannot have; every step that only writes files runs here for real under
``--root``, and the files are checked with the tools that will read them
(shellcheck, ``nginx -t``, ``systemd-analyze verify``, the app's own Config).
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from core.config import Config
from core.crypto import Cipher
from tests.deploy.deploy_support import DEPLOY, ROOT, nginx_wrapper, os_release, render_nginx, require_tool, run_script

SUPPORTED = [("debian", "12"), ("debian", "13"), ("ubuntu", "22.04"), ("ubuntu", "24.04")]
UNSUPPORTED = [("debian", "11"), ("ubuntu", "20.04"), ("centos", "9"), ("alpine", "3.20")]


def _install(tmp_path: Path, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    release_file = os_release(tmp_path, "debian", "12")
    return run_script("install.sh", "--root", str(root), "--os-release", str(release_file), *args)


def _env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def test_every_script_passes_shellcheck():
    shellcheck = require_tool("shellcheck")
    scripts = sorted(DEPLOY.glob("*.sh")) + [ROOT / ".ci" / "run"]
    result = subprocess.run([shellcheck, "-x", "--severity=warning", *map(str, scripts)], capture_output=True,
                            text=True, cwd=str(ROOT))
    assert result.returncode == 0, result.stdout
    ours = [DEPLOY / name for name in ("install.sh", "lib.sh", "backup.sh", "restore.sh", "wheelhouse.sh")]
    strict = subprocess.run([shellcheck, "-x", *map(str, ours)], capture_output=True, text=True, cwd=str(ROOT))
    assert strict.returncode == 0, strict.stdout


@pytest.mark.parametrize(("os_id", "version"), UNSUPPORTED)
def test_an_unsupported_system_is_refused_before_anything_is_written(tmp_path, os_id, version):
    root = tmp_path / "root"
    result = run_script("install.sh", "--root", str(root), "--os-release", str(os_release(tmp_path, os_id, version)))
    assert result.returncode != 0
    assert f"unsupported system '{os_id} {version}'" in result.stderr
    assert "Debian 12/13, Ubuntu 22.04/24.04" in result.stderr
    assert not any(root.rglob("*"))


def test_a_missing_os_release_is_refused(tmp_path):
    result = run_script("install.sh", "--root", str(tmp_path / "r"), "--os-release", str(tmp_path / "nope"))
    assert result.returncode != 0 and "cannot read" in result.stderr


@pytest.mark.parametrize(("os_id", "version"), SUPPORTED)
def test_supported_systems_pass_the_check(tmp_path, os_id, version):
    result = run_script("install.sh", "--root", str(tmp_path / "r"), "--only", "os",
                        "--os-release", str(os_release(tmp_path, os_id, version)))
    assert result.returncode == 0, result.stderr
    assert f"system: {os_id} {version}" in result.stdout


def test_env_file_gets_strong_distinct_secrets_the_service_accepts(tmp_path):
    envs = []
    for name in ("a", "b"):
        root = tmp_path / name
        result = _install(tmp_path, root, "--only", "env", "--domain", "sms.example.org")
        assert result.returncode == 0, result.stderr
        env_path = root / "etc" / "tumaini" / "env"
        assert env_path.stat().st_mode & 0o077 == 0, "the settings file holds secrets: owner only"
        envs.append(_env(env_path))
        passphrase = (root / "etc" / "tumaini" / "backup.passphrase")
        assert len(passphrase.read_text().strip()) >= 32 and passphrase.stat().st_mode & 0o077 == 0
    first, second = envs
    for key in ("SECRET_KEY", "HMAC_KEY", "ENCRYPTION_KEYS", "DATABASE_URL"):
        assert first[key] != second[key], f"{key} must be generated per install"
    assert len(first["SECRET_KEY"]) >= 64 and len(first["HMAC_KEY"]) >= 64
    assert len(base64.b64decode(first["ENCRYPTION_KEYS"], validate=True)) == 32
    assert first["PUBLIC_BASE_URL"] == "https://sms.example.org"
    # nginx is the one proxy in front, so client addresses (login throttling) are the real ones.
    assert first["PROXY_HOPS"] == "1"
    # Redis asks for a password, generated per install, and REDIS_URL carries it.
    assert first["REDIS_URL"].startswith("redis://:") and first["REDIS_URL"] != second["REDIS_URL"]
    # The production checks pass once the operator adds the Twilio account.
    settings = {k: v for k, v in first.items() if v}
    config = Config.from_env(settings, TWILIO_AUTH_TOKEN="x" * 32, TWILIO_SMS_FROM="+15550001000")
    assert config.production
    cipher = Cipher(config.ENCRYPTION_KEYS)
    assert cipher.decrypt(cipher.encrypt("habari", b"body"), b"body") == "habari"


def test_an_existing_env_file_is_never_overwritten(tmp_path):
    root = tmp_path / "root"
    env_path = root / "etc" / "tumaini" / "env"
    env_path.parent.mkdir(parents=True)
    env_path.write_text("SECRET_KEY=the-operators-own\nTWILIO_AUTH_TOKEN=set-by-hand\n")
    env_path.chmod(0o600)
    result = _install(tmp_path, root, "--only", "env")
    assert result.returncode == 0, result.stderr
    assert "left as it is" in result.stdout
    assert env_path.read_text() == "SECRET_KEY=the-operators-own\nTWILIO_AUTH_TOKEN=set-by-hand\n"


def test_redis_is_configured_with_the_password_in_redis_url(tmp_path):
    root = tmp_path / "root"
    assert _install(tmp_path, root, "--only", "env,redis").returncode == 0
    url = _env(root / "etc" / "tumaini" / "env")["REDIS_URL"]
    password = url.removeprefix("redis://:").split("@", 1)[0]
    conf = root / "etc" / "redis" / "tumaini.conf"
    assert len(password) >= 32 and f"requirepass {password}\n" in conf.read_text()
    assert conf.stat().st_mode & 0o077 == 0


def test_rendering_twice_changes_nothing(tmp_path):
    root = tmp_path / "root"
    args = ("--domain", "sms.example.org", "--workers", "3", "--only", "code,env,redis,units,nginx,logs")
    assert _install(tmp_path, root, *args).returncode == 0
    first = _tree(root)
    second_run = _install(tmp_path, root, *args)
    assert second_run.returncode == 0, second_run.stderr
    assert "already unpacked" in second_run.stdout and "left as it is" in second_run.stdout
    assert _tree(root) == first, "a rerun must leave every file (and its mtime) as it was"
    releases = list((root / "opt" / "tumaini" / "releases").iterdir())
    assert len(releases) == 1 and (releases[0] / "bot" / "__init__.py").is_file()
    assert not any(p.name == ".venv" for p in releases[0].iterdir())


def test_a_template_placeholder_left_unfilled_is_an_error(tmp_path):
    template = tmp_path / "t.conf"
    template.write_text("listen @PORT@;\nserver_name @NAME@;\n")
    out = tmp_path / "out.conf"
    script = f'. "{DEPLOY / "lib.sh"}"; PORT=8080; render "{template}" "{out}" PORT'
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode != 0 and "@NAME@" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [template]


def test_rendered_values_are_inserted_literally(tmp_path):
    template = tmp_path / "t.conf"
    template.write_text("a=@VALUE@;\n")
    out = tmp_path / "out.conf"
    script = f'. "{DEPLOY / "lib.sh"}"; VALUE=\'x|y&z\\\\w/$HOME\'; render "{template}" "{out}" VALUE'
    assert subprocess.run(["bash", "-c", script]).returncode == 0
    assert out.read_text() == "a=x|y&z\\\\w/$HOME;\n"


def test_systemd_units_verify(tmp_path):
    analyze = require_tool("systemd-analyze")
    prefix = tmp_path / "opt"
    prefix.mkdir()
    (prefix / "current").symlink_to(ROOT)  # ExecStart must name real executables
    if not (ROOT / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("needs the project's .venv (bash deploy/setup.sh)")
    root = tmp_path / "root"
    result = _install(tmp_path, root, "--only", "units", "--prefix", str(prefix), "--workers", "2")
    assert result.returncode == 0, result.stderr
    units = root / "etc" / "systemd" / "system"
    (units / "tumaini-worker@1.service").write_text((units / "tumaini-worker@.service").read_text())
    target = (units / "tumaini.target").read_text()
    assert "Wants=tumaini-release.service tumaini-web.service tumaini-worker@1.service tumaini-worker@2.service" in target
    names = ["tumaini.target", "tumaini-release.service", "tumaini-web.service", "tumaini-worker@1.service",
             "tumaini-backup.service", "tumaini-backup.timer"]
    check = subprocess.run([analyze, "verify", "--man=no", *(f"./{n}" for n in names)], capture_output=True,
                           text=True, cwd=str(units), env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"))
    assert check.returncode == 0, check.stderr
    web = (units / "tumaini-web.service").read_text()
    assert "Restart=always" in web and "MemoryMax=" in web and "Requires=tumaini-release.service" in web
    worker = (units / "tumaini-worker@.service").read_text()
    assert "Restart=always" in worker and "MemoryMax=" in worker and "-m workers" in worker


def test_a_worker_only_machine_gets_no_web_unit_and_no_nginx(tmp_path):
    root = tmp_path / "root"
    result = _install(tmp_path, root, "--only", "units,nginx,logs", "--no-web", "--workers", "2")
    assert result.returncode == 0, result.stderr
    units = root / "etc" / "systemd" / "system"
    assert not (units / "tumaini-web.service").exists()
    assert "tumaini-web" not in (units / "tumaini.target").read_text()
    assert not (root / "etc" / "nginx").exists()


def test_nginx_accepts_the_rendered_config_for_one_or_many_backends(tmp_path, self_signed):
    nginx = require_tool("nginx")
    site = render_nginx(tmp_path, *self_signed, "--domain", "sms.example.org",
                        "--upstream", "10.0.0.5:8000,10.0.0.6:8000", "--metrics-allow", "10.0.0.0/24")
    text = site.read_text()
    assert "server 10.0.0.5:8000" in text and "server 10.0.0.6:8000" in text and "allow 10.0.0.0/24;" in text
    check = subprocess.run([nginx, "-t", "-c", str(nginx_wrapper(tmp_path, site)), "-p", str(tmp_path)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert (tmp_path / "root" / "etc" / "nginx" / "sites-enabled" / "tumaini.conf").is_symlink()


def test_logrotate_and_journald_configs_are_valid(tmp_path):
    logrotate = require_tool("logrotate")
    root = tmp_path / "root"
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "tumaini.access.log").write_text("x\n")
    result = run_script("install.sh", "--root", str(root), "--os-release", str(os_release(tmp_path, "debian", "13")),
                        "--only", "logs", env={"TUMAINI_NGINX_LOG_DIR": str(logs)})
    assert result.returncode == 0, result.stderr
    check = subprocess.run([logrotate, "--debug", "--state", str(tmp_path / "state"),
                            str(root / "etc" / "logrotate.d" / "tumaini")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "rotating pattern" in check.stderr
    journald = (root / "etc" / "systemd" / "journald.conf.d" / "tumaini.conf").read_text()
    assert "MaxRetentionSec=30day" in journald


def test_the_release_id_follows_the_code(tmp_path):
    """Same code, same release directory; so a rerun does not unpack again."""
    digests = set()
    for name in ("a", "b"):
        result = _install(tmp_path, tmp_path / name, "--only", "code")
        assert result.returncode == 0, result.stderr
        (release,) = (tmp_path / name / "opt" / "tumaini" / "releases").iterdir()
        digests.add(release.name)
        on_disk = hashlib.sha256((release / "core" / "config.py").read_bytes()).hexdigest()
        assert on_disk == hashlib.sha256((ROOT / "core" / "config.py").read_bytes()).hexdigest()
    assert len(digests) == 1

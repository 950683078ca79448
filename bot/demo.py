"""``flask --app bot demo``: the whole service on one machine, with a phone simulator.

Web (gunicorn), a worker, an embedded Redis and SQLite, and the local Twilio
stand-in, with no accounts or servers to configure. Demo secrets are generated
once into the instance directory and handed to the processes through their
environment, the same way a deployment passes its own.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from bot import embedded_redis
from core.config import Config
from core.crypto import new_key


def _demo_secrets(instance: Path) -> dict[str, str]:
    path = instance / "demo-secrets.env"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        values = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ENCRYPTION_KEYS": new_key(),
            "HMAC_KEY": secrets.token_urlsafe(48),
            "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        }
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def demo_environment(port: int, base: Config) -> dict[str, str]:
    instance = Path(base.INSTANCE_DIR)
    env = dict(os.environ)
    env.update(_demo_secrets(instance))
    origin = f"http://127.0.0.1:{port}"
    env.update({
        "ENV": "development",
        "SIMULATOR_ENABLED": "true",
        "PUBLIC_BASE_URL": origin,
        "TWILIO_API_BASE": f"{origin}/simulator/twilio",
        "TWILIO_SMS_FROM": env.get("TWILIO_SMS_FROM") or "+15550001000",
        "TWILIO_WHATSAPP_FROM": env.get("TWILIO_WHATSAPP_FROM") or "whatsapp:+15550001000",
        "INSTANCE_DIR": str(instance),
        "SWEEP_GRACE_S": "10",
    })
    env["REDIS_URL"] = base.REDIS_URL or embedded_redis.start(str(instance))
    if base.DATABASE_URL:
        env["DATABASE_URL"] = base.DATABASE_URL
    return env


def _demo_admin(python: str, env: dict[str, str], instance: Path) -> tuple[str, Path]:
    """A portal admin for the demo, created once; its password stays in the instance directory."""
    email, path = "admin@demo.local", instance / "demo-admin-password.txt"
    if not path.exists():
        password = secrets.token_urlsafe(12)
        subprocess.run([python, "-m", "flask", "--app", "bot", "users", "create", "--email", email, "--role", "admin",
                        "--password-stdin"], env=env, input=password + "\n", text=True, check=True,
                       stdout=subprocess.DEVNULL)
        path.write_text(password + "\n")
        path.chmod(0o600)
    return email, path


@click.command("demo")
@click.option("--port", default=5000, show_default=True)
@click.option("--web-workers", default=2, show_default=True)
def demo(port: int, web_workers: int) -> None:
    """Run web + worker + embedded Redis/SQLite + Twilio stand-in; open /simulator/."""
    base = Config.from_env()
    env = demo_environment(port, base)
    python = sys.executable
    subprocess.run([python, "-m", "flask", "--app", "bot", "release"], env=env, check=True)
    admin = _demo_admin(python, env, Path(base.INSTANCE_DIR))
    gunicorn = [python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(web_workers),
                "--threads", "4", "--access-logfile", "-", "--access-logformat", '%(m)s %(U)s %(s)s %(M)sms',
                "bot:create_app()"]
    procs = [
        subprocess.Popen(gunicorn, env=env),
        subprocess.Popen([python, "-m", "workers"], env=env),
    ]
    click.echo(f"\n  Tumaini demo running. Open http://127.0.0.1:{port}/simulator/ and text \"Hi\".\n"
               f"  Health workers' portal: http://127.0.0.1:{port}/portal/ (sign in as {admin[0]},"
               f" password in {admin[1]})\n"
               f"  Health: http://127.0.0.1:{port}/healthz   Stop: Ctrl-C\n")
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a person stops the demo
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if not base.REDIS_URL:
            embedded_redis.stop(str(Path(base.INSTANCE_DIR)))
    failed = [p.args[2] for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
    if failed and not stopping:
        raise click.ClickException(f"a demo process exited early: {failed}")

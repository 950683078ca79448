"""Configuration: checked once at start-up, failing with the variable's name."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from core.config import Config
from core.crypto import new_key
from core.exceptions import ConfigError

GOOD_PRODUCTION = {
    "ENV": "production", "SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": new_key(), "HMAC_KEY": "h" * 40,
    "TWILIO_AUTH_TOKEN": "token", "TWILIO_SMS_FROM": "+15550001000", "PUBLIC_BASE_URL": "https://t.example.org",
    "REDIS_URL": "redis://:secret@127.0.0.1:6379/0",
}


def test_production_config_with_real_secrets_loads():
    config = Config.from_env(GOOD_PRODUCTION)
    assert config.production and not config.SIMULATOR_ENABLED


@pytest.mark.parametrize("name, value", [
    ("SECRET_KEY", ""), ("SECRET_KEY", "dev-secret-key-not-for-production"), ("HMAC_KEY", "short"),
    ("ENCRYPTION_KEYS", "ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1mb3ItcHJvZCE="), ("TWILIO_AUTH_TOKEN", ""),
])
def test_production_refuses_default_or_missing_secrets_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({**GOOD_PRODUCTION, name: value})


@pytest.mark.parametrize("name, value", [
    ("SMS_SEGMENT_BUDGET", "three"), ("SIMULATOR_ENABLED", "perhaps"), ("TWILIO_API_BASE", "ftp://x"),
    ("PUBLIC_BASE_URL", "tumaini.org"), ("SEND_BACKOFF_S", "1,soon"), ("ENV", "staging"),
])
def test_malformed_values_fail_fast_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_every_setting_is_documented_in_the_env_template():
    template = (Path(__file__).resolve().parents[2] / "deploy" / "env.example").read_text()
    missing = [f.name for f in fields(Config) if f.name != "extra" and f.name not in template]
    assert missing == []

"""The NGO's switches: generation on or off per deployment and per language."""

from __future__ import annotations

import pytest
from flask import Flask

from bot.dialogue import DialogueSettings, generation_allowed
from core.config import Config


@pytest.mark.parametrize(("enabled", "languages", "lang", "allowed"), [
    (True, (), "en", True),
    (True, (), "sw", True),
    (True, (), None, True),
    (False, (), "en", False),
    (False, ("en",), "en", False),
    (True, ("en", "sw"), "sw", True),
    (True, ("en", "sw"), "sw-KE", True),
    (True, ("en", "sw"), "SW", True),
    (True, ("en", "sw"), "fr", False),
    (True, ("en", "sw"), None, False),
    (True, ("pt-br",), "pt-BR", True),
    (True, ("pt-br",), "pt", False),
])
def test_generation_allowed(enabled: bool, languages: tuple[str, ...], lang: str | None, allowed: bool) -> None:
    config = Config(DIALOGUE_ENABLED=enabled, DIALOGUE_LANGUAGES=languages)
    assert generation_allowed(config, lang) is allowed


def test_the_environment_switches_reach_the_decision() -> None:
    config = Config.from_env({"DIALOGUE_ENABLED": "false"})
    assert not generation_allowed(config, "en")
    config = Config.from_env({"DIALOGUE_ENABLED": "true", "DIALOGUE_LANGUAGES": "en, sw"})
    assert generation_allowed(config, "sw") and not generation_allowed(config, "am")


def test_flask_app_config_is_read_the_same_way() -> None:
    app = Flask(__name__)
    app.config.update(Config(DIALOGUE_ENABLED=True, DIALOGUE_LANGUAGES=("sw",), DIALOGUE_MAX_NEW_TOKENS=40).as_flask())
    assert generation_allowed(app.config, "sw") and not generation_allowed(app.config, "en")
    settings = DialogueSettings.from_config(app.config)
    assert (settings.model, settings.max_new_tokens, settings.timeout_s, settings.threads) == (
        "smollm2-135m-instruct", 40, 3.0, 1)


def test_a_comma_separated_string_is_a_list_of_languages() -> None:
    assert generation_allowed({"DIALOGUE_ENABLED": True, "DIALOGUE_LANGUAGES": "en,sw"}, "sw")
    assert not generation_allowed({"DIALOGUE_LANGUAGES": "en,sw"}, "fr")

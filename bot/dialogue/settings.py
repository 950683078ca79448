"""Dialogue settings and the NGO's switches for generated replies.

A deployment can turn generation off entirely (``DIALOGUE_ENABLED=false``) or allow it only in
some languages (``DIALOGUE_LANGUAGES=en,sw``; empty means every language), for instance while
a language's translation has not yet passed review. Settings are read from the service Config
or from Flask's ``app.config`` alike, so the worker and the CLI share one reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULTS: dict[str, Any] = {
    "DIALOGUE_ENABLED": False,
    "DIALOGUE_MODEL": "smollm2-135m-instruct",
    "DIALOGUE_LANGUAGES": (),
    "DIALOGUE_THREADS": 1,
    "DIALOGUE_MAX_NEW_TOKENS": 60,
    "DIALOGUE_TIMEOUT_S": 3.0,
    "DIALOGUE_MAX_SENTENCES": 2,
}


def _setting(config: Any, key: str) -> Any:
    if isinstance(config, Mapping):
        return config.get(key, DEFAULTS[key])
    return getattr(config, key, DEFAULTS[key])


def _languages(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = raw.split(",")
    return tuple(tag.strip().lower() for tag in raw if tag and tag.strip())


@dataclass(frozen=True)
class DialogueSettings:
    """The DIALOGUE_* keys, typed. ``max_sentences`` keeps SMS replies short and latency low."""

    enabled: bool = True
    model: str = "smollm2-135m-instruct"
    languages: tuple[str, ...] = ()
    threads: int = 1
    max_new_tokens: int = 60
    timeout_s: float = 3.0
    max_sentences: int = 2

    @classmethod
    def from_config(cls, config: Any) -> DialogueSettings:
        return cls(
            enabled=bool(_setting(config, "DIALOGUE_ENABLED")),
            model=str(_setting(config, "DIALOGUE_MODEL")),
            languages=_languages(_setting(config, "DIALOGUE_LANGUAGES")),
            threads=int(_setting(config, "DIALOGUE_THREADS")),
            max_new_tokens=int(_setting(config, "DIALOGUE_MAX_NEW_TOKENS")),
            timeout_s=float(_setting(config, "DIALOGUE_TIMEOUT_S")),
            max_sentences=int(_setting(config, "DIALOGUE_MAX_SENTENCES")),
        )

    def allows(self, lang: str | None) -> bool:
        if not self.enabled:
            return False
        if not self.languages:
            return True
        if not lang:
            return False
        tag = lang.strip().lower()
        return tag in self.languages or tag.split("-")[0] in self.languages


def generation_allowed(config: Any, lang: str | None) -> bool:
    """May this deployment send a generated reply to someone writing in ``lang``?

    ``lang`` is a BCP-47 tag; "sw-KE" is allowed when "sw" is listed. Non-English languages
    also need a translation model that passed its quality gate; callers check that separately.
    """
    return DialogueSettings.from_config(config).allows(lang)

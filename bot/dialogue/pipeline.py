"""One guarded generated reply: translate in -> prompt -> generate -> trim -> guard -> translate out.

``respond`` is a pure composition of injected collaborators (generator, guard, translators), so
tests and the conversation engine can hand in their own. Whatever goes wrong (generation
switched off, model missing, deadline passed, a guard rule fired, translation failed), the
result says "fallback" with the reason, and the caller sends an approved message instead. A
generated reply is labelled ``generated=True`` with the model's name and version for the audit
trail. Nothing here logs message text.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.dialogue.chat import Message
from bot.dialogue.errors import ChatTemplateError, DialogueUnavailable
from bot.dialogue.generator import Ct2ChatGenerator, TextGenerator
from bot.dialogue.guard import OutputGuard
from bot.dialogue.prompt import build_messages
from bot.dialogue.settings import DialogueSettings

log = logging.getLogger(__name__)

Translate = Callable[[str], str]
_LAST_SENTENCE_END = re.compile(r"^(.*[.!?…][\"')\]]*)(?:\s|$)", re.DOTALL)

# Reasons for a fallback that are not guard rules.
DISABLED, UNAVAILABLE, TIMEOUT, INCOMPLETE, TRANSLATION = "disabled", "unavailable", "timeout", "incomplete", \
    "translation"


@dataclass(frozen=True)
class DialogueResult:
    """The outcome of one attempt. ``text`` is set only for a generated reply that passed the guard."""

    generated: bool
    text: str | None = None
    rule: str | None = None  # why we fell back: a guard rule, or disabled/unavailable/timeout/...
    model_name: str | None = None
    model_version: str | None = None
    stop_reason: str | None = None
    tokens: int = 0
    elapsed_s: float = 0.0

    @property
    def fallback(self) -> bool:
        return not self.generated


def trim_to_sentence(text: str) -> str:
    """Cut a reply that hit the token budget back to its last complete sentence ('' if none)."""
    match = _LAST_SENTENCE_END.match(text.strip())
    return match.group(1).strip() if match else ""


def _fallback(rule: str, started: float, generator: TextGenerator | None = None, **extra: Any) -> DialogueResult:
    return DialogueResult(generated=False, rule=rule, model_name=getattr(generator, "name", None),
                          model_version=getattr(generator, "version", None) or None,
                          elapsed_s=time.monotonic() - started, **extra)


def respond(text: str, *, generator: TextGenerator, guard: OutputGuard, max_new_tokens: int = 60,
            timeout_s: float = 3.0, max_sentences: int = 2, translate_in: Translate | None = None,
            translate_out: Translate | None = None, history: Sequence[Message] = (),
            menu_keyword: str = "MENU") -> DialogueResult:
    """Generate a reply to ``text`` within ``timeout_s`` seconds, or say why not.

    The deadline covers translating in and generating; the guard runs on the English reply and
    again on its translation (a translation can introduce a number or a link).
    """
    from translation.errors import TranslationError

    started = time.monotonic()
    deadline = started + timeout_s
    try:
        english = translate_in(text) if translate_in else text
    except TranslationError as exc:
        log.warning("dialogue.translation_failed", extra={"direction": "in", "error": type(exc).__name__})
        return _fallback(TRANSLATION, started, generator)
    messages = build_messages(english, history, menu_keyword)
    try:
        generation = generator.generate(messages, max_new_tokens=max_new_tokens, deadline=deadline,
                                        max_sentences=max_sentences)
    except (DialogueUnavailable, ChatTemplateError, RuntimeError) as exc:
        detail = "" if isinstance(exc, RuntimeError) else str(exc)[:200]  # ours name models, never text
        log.error("dialogue.generation_failed", extra={"error": type(exc).__name__, "detail": detail})
        return _fallback(UNAVAILABLE, started, generator)
    stats: dict[str, Any] = {"stop_reason": generation.stop_reason, "tokens": generation.tokens}
    if generation.stop_reason == TIMEOUT:
        return _fallback(TIMEOUT, started, generator, **stats)
    reply = generation.text.strip()
    if generation.stop_reason == "max_tokens":
        reply = trim_to_sentence(reply)
        if not reply:
            return _fallback(INCOMPLETE, started, generator, **stats)
    verdict = guard.check(reply, context=english)
    if not verdict.allowed:
        return _fallback(verdict.rule or "guard", started, generator, **stats)
    if translate_out is not None:
        try:
            reply = translate_out(reply)
        except TranslationError as exc:
            log.warning("dialogue.translation_failed", extra={"direction": "out", "error": type(exc).__name__})
            return _fallback(TRANSLATION, started, generator, **stats)
        verdict = guard.check(reply, context=english)
        if not verdict.allowed:
            return _fallback(verdict.rule or "guard", started, generator, **stats)
    return DialogueResult(generated=True, text=reply, model_name=generator.name, model_version=generator.version,
                          elapsed_s=time.monotonic() - started, **stats)


class DialogueService:
    """What a worker holds: settings, one lazily loaded generator, and ``reply`` for the engine."""

    def __init__(self, settings: DialogueSettings, models_dir: Path | None = None,
                 generator: TextGenerator | None = None):
        if generator is None and models_dir is None:
            raise ValueError("DialogueService needs a models_dir or a generator")
        self.settings = settings
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self._generator = generator

    @classmethod
    def from_config(cls, config: Any) -> DialogueService:
        """Built from Config or Flask config; loads nothing until the first reply (or ``warm_up``)."""
        models_dir = config["MODELS_DIR"] if isinstance(config, Mapping) else config.MODELS_DIR
        return cls(DialogueSettings.from_config(config), Path(models_dir))

    @property
    def generator(self) -> TextGenerator:
        if self._generator is None:
            assert self.models_dir is not None
            self._generator = Ct2ChatGenerator(self.models_dir / self.settings.model, threads=self.settings.threads)
        return self._generator

    def warm_up(self) -> None:
        """Load the model now (in the worker, after any fork) so the first person does not wait."""
        if self.settings.enabled and isinstance(self.generator, Ct2ChatGenerator):
            self.generator.load()

    def reply(self, text: str, lang: str | None, *, allowlist: Iterable[str] = (),
              safety_flag: Callable[[str], bool] | None = None, translate_in: Translate | None = None,
              translate_out: Translate | None = None, history: Sequence[Message] = (),
              menu_keyword: str = "MENU") -> DialogueResult:
        """A guarded reply for someone writing in ``lang``; ``allowlist`` is their region's helplines."""
        started = time.monotonic()
        if not self.settings.allows(lang):
            result = _fallback(DISABLED, started)
        else:
            result = respond(text, generator=self.generator, guard=OutputGuard(allowlist, safety_flag),
                             max_new_tokens=self.settings.max_new_tokens, timeout_s=self.settings.timeout_s,
                             max_sentences=self.settings.max_sentences, translate_in=translate_in,
                             translate_out=translate_out, history=history, menu_keyword=menu_keyword)
        log.info("dialogue.reply", extra={"outcome": "generated" if result.generated else "fallback",
                                          "rule": result.rule, "model": result.model_name,
                                          "model_version": result.model_version, "tokens": result.tokens,
                                          "elapsed_ms": round(result.elapsed_s * 1000)})
        return result

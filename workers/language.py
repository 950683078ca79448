"""The language of one inbound message: what the engine is told, and what translation may read.

Detection first asks which of every language the detectors know the text is in. When that is
confidently one nobody here serves (Yoruba, Hausa, Portuguese where only English and Swahili
are served), the text maps to nothing: it is never taken for the served language it is
closest to, so a Yoruba speaker gets the language menu, not a Swahili welcome, and no model
reads it as Swahili. The audit keeps which language it was, so a deployment can see which
languages people write in. Otherwise detection is restricted to the locales the deployment
serves (plus the person's own). A stored choice always beats it. Detection only does two
things:

- it greets a person with no stored language in the language they wrote in
  (``Turn.detected_locale``, used by the engine's first-contact flow); a message that is
  only a greeting of one served language ("Habari", "Hola", "नमस्ते") counts as confident
  (translation.greetings), since the detectors cannot be sure of one short word;
- it decides what machine translation may read the text as (``Turn.text_lang``). A model is
  only given text written in the script it was trained on: romanised Hindi ("mujhe neend nahi
  aati") from a person whose stored language is Hindi never reaches the Devanagari hi->en
  model. The safety gate still reads the original text with every lexicon (they include
  Latin-script Hindi), and the dialogue falls back to approved content. A text confidently in
  another served language is read as that language when a model for it is installed.

What was detected and whether translation was skipped go to the audit trail, never the text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from translation.greetings import greeting_language
from translation.langid import UNDETERMINED, Detection, choose, detect, read
from translation.languages import base_language
from translation.scripts import written_in

ENGLISH = "en"
LANGUAGE_DETECTED = "language.detected"  # the audit action

# What happened to machine translation for the safety gate's English reading of the text.
MT_USED = "used"  # a model read the text as ``text_lang``
MT_NOT_NEEDED = "not_needed"  # English already, or nothing to read (digits, emoji)
MT_UNAVAILABLE = "unavailable"  # no installed model reads ``text_lang``
MT_SKIPPED = "skipped"  # the text fits no language a model could read it as


@dataclass(frozen=True)
class MessageLanguage:
    """Detection of one message and what follows from it (see the module docstring)."""

    detection: Detection
    detected_locale: str | None  # confident, and a locale the deployment serves
    text_lang: str  # the language translation may read the text as; "und": none
    mt: str  # one of the MT_* outcomes

    @property
    def mt_source(self) -> str | None:
        """The language to translate the text from for the safety gate, or None for no translation."""
        return self.text_lang if self.mt == MT_USED else None

    def audit_detail(self, inbound_id: int) -> dict[str, Any]:
        """What the audit trail keeps: codes and a confidence, never the text."""
        return {
            "inbound_id": inbound_id,
            "lang": self.detection.lang,
            "script": self.detection.script,
            "confidence": self.detection.confidence,
            "detected_locale": self.detected_locale,
            "text_lang": self.text_lang,
            "mt": self.mt,
        }


def identify(text: str, stored: str | None, served: Sequence[str], threshold: float,
             readable: Callable[[str], bool]) -> MessageLanguage:
    """Detect the language of ``text`` and decide what the engine and translation are told.

    ``stored`` is the person's chosen locale (None before they chose), ``served`` the locales
    the deployment serves, ``threshold`` the confidence below which detection is not acted on
    (LANGID_MIN_CONFIDENCE), and ``readable(lang)`` whether an installed model translates
    ``lang`` into English.
    """
    languages = list(dict.fromkeys([*served, *([stored] if stored else [])]))
    reading = read(text)  # the detectors run once for both questions below
    wider = choose(reading)
    if _sure(wider, threshold) and base_language(wider.lang) not in {base_language(x) for x in languages}:
        # Confidently a language nobody here serves: Yoruba is not the Swahili it is closest to
        # among the served ones. No welcome in a wrong language, and no model reads it.
        return MessageLanguage(wider, None, UNDETERMINED, MT_SKIPPED if wider.script else MT_NOT_NEEDED)
    detection = choose(reading, languages)
    confident = _sure(detection, threshold)
    detected_locale = _served_locale(detection.lang, served) if confident else None
    # A message that is only a greeting ("Habari", "Hola") names its language, however short.
    greeted = greeting_language(text, served)
    if greeted is not None:
        detected_locale = _served_locale(greeted, served)
    text_lang = _text_lang(detection, confident, stored)
    return MessageLanguage(detection, detected_locale, text_lang, _mt(detection, text_lang, readable))


def _sure(detection: Detection, threshold: float) -> bool:
    return detection.reliable and detection.confidence >= threshold and detection.lang != UNDETERMINED


def warm() -> None:
    """Load the detectors' model now (most of a second) rather than on the first person's message."""
    detect("Tumaini worker starting")


def _served_locale(lang: str, served: Sequence[str]) -> str | None:
    """The served locale a detected language names: itself, else the first of the same language."""
    if lang in served:
        return lang
    return next((locale for locale in served if base_language(locale) == base_language(lang)), None)


def _text_lang(detection: Detection, confident: bool, stored: str | None) -> str:
    if detection.script is None:
        return stored or UNDETERMINED  # no letters: nothing that could be misread
    if confident and (stored is None or base_language(detection.lang) != base_language(stored)):
        # Confidently another language than the stored one: never read it as the stored one.
        return detection.lang if written_in(detection.lang, detection.script) else UNDETERMINED
    if stored and written_in(stored, detection.script):
        return stored
    return UNDETERMINED


def _mt(detection: Detection, text_lang: str, readable: Callable[[str], bool]) -> str:
    if detection.script is None or base_language(text_lang) == ENGLISH:
        return MT_NOT_NEEDED
    if text_lang == UNDETERMINED:
        return MT_SKIPPED
    return MT_USED if readable(text_lang) else MT_UNAVAILABLE

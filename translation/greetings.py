"""First words that name their language: "Habari", "Hola", "नमस्ते", "Sawubona".

A person's first message is very often a greeting of one or two words, which is too short
for the statistical detectors (``translation.langid`` caps single short words below its
reliability line, rightly: "ok" or "no" could be anything). A greeting is different: the
words below are each used by one language's speakers and, within the languages Tumaini
serves, mean nothing else. So a message that is only a greeting is as clear a sign of the
language as a long sentence, and the person can be welcomed in it.

Words shared between languages ("salaam" in Arabic, Somali, Hausa and Swahili; "salut" in
French and Romanian; "oi" in Portuguese and English slang) are left out on purpose: they
get the language menu instead, which is never wrong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from translation.languages import base_language

GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("hi", "hello", "hey", "hi there", "hello there", "good morning", "good afternoon", "good evening",
           "hey there", "hiya"),
    "sw": ("habari", "habari yako", "habari gani", "hujambo", "jambo", "shikamoo", "mambo", "mambo vipi",
           "niaje", "hamjambo", "habari za asubuhi", "habari za leo"),
    "es": ("hola", "buenos dias", "buenas tardes", "buenas noches", "buenas", "que tal", "hola que tal"),
    "fr": ("bonjour", "bonsoir", "coucou", "bonjour a vous", "salut ca va"),
    "hi": ("namaste", "namaskar", "namastey", "नमस्ते", "नमस्कार", "राम राम", "ram ram", "pranam", "प्रणाम"),
    "ar": ("مرحبا", "مرحباً", "اهلا", "أهلا", "أهلاً", "اهلا وسهلا", "أهلا وسهلا", "السلام عليكم", "صباح الخير",
           "مساء الخير", "marhaba", "ahlan"),
    "am": ("ሰላም", "ጤና ይስጥልኝ", "እንደምን ነህ", "እንደምን ነሽ", "selam", "tena yistilign"),
    "ha": ("sannu", "sannu da zuwa", "ina kwana", "barka da safe", "barka da yamma", "yaya kake", "yaya kike"),
    "yo": ("bawo", "bawo ni", "e kaaro", "ẹ kaaro", "ẹ káàrọ̀", "e kaasan", "e kaale", "pele", "ẹ n lẹ", "e nle"),
    "zu": ("sawubona", "sanibonani", "unjani", "yebo sawubona", "ninjani"),
    "so": ("iska warran", "see tahay", "nabad", "maalin wanaagsan", "subax wanaagsan", "is ka warran"),
    "pt": ("ola", "olá", "bom dia", "boa tarde", "boa noite", "tudo bem", "ola tudo bem"),
}

_PUNCTUATION = re.compile(r"[\s.,!?¡¿;:،؟।…'\"()\-]+")


def _fold(text: str) -> str:
    """Lower case, no accents on Latin letters, one space between words, no punctuation.

    Only the combining accents of Latin letters (U+0300-U+036F) are dropped; the vowel
    signs of Devanagari or the harakat of Arabic are part of the word and stay.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f")
    return _PUNCTUATION.sub(" ", unicodedata.normalize("NFC", kept)).strip()


_INDEX: dict[str, str] = {}
for _lang, _words in GREETINGS.items():
    for _word in _words:
        _INDEX.setdefault(_fold(_word), _lang)


def greeting_language(text: str, languages: Iterable[str] | None = None) -> str | None:
    """The language a message that is only a greeting is written in, else None.

    ``languages`` limits the answer to the languages a deployment serves (a greeting in a
    language it does not serve says nothing about which served one to use).
    """
    folded = _fold(text)
    if not folded or len(folded) > 40:
        return None
    lang = _INDEX.get(folded)
    if lang is None:
        return None
    if languages is not None and lang not in {base_language(x) for x in languages}:
        return None
    return lang

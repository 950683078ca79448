"""Offline language identification for short, unpunctuated SMS and WhatsApp messages.

Three kinds of evidence are combined, because none is enough alone on "nimechoka sana":

- the Unicode script (Ethiopic can only be Amharic or Tigrinya, Tamil only Tamil);
- two statistical detectors, pycld2 and py3langid, each with its own blind spots;
- short word lists for languages the detectors handle badly in few words (Swahili, Hausa,
  Yoruba, Zulu, Somali, and Hindi typed in Latin letters).

A detection carries a confidence. Very short or ambiguous texts ("ok", "1", "help", emoji)
come back unreliable, and then the person's stored language stands: see ``choose_language``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import pycld2

from translation.errors import UnknownLanguage
from translation.langid_words import (
    MARKER_LETTERS,
    PREFIX_MIN_LENGTH,
    PREFIXES,
    WORDS,
)
from translation.languages import FLORES, base_language, normalize
from translation.scripts import SCRIPT_LANGUAGES, ScriptProfile, profile

UNDETERMINED = "und"

# Weights of the evidence; chosen on translation/data/langid_eval.csv (see docs/translation.md).
W_PY3LANGID = 1.0
W_CLD2 = 0.8
W_WORDS = 2.0
# Below this confidence a detection is not used to change a person's language.
RELIABLE_CONFIDENCE = 0.5
# Texts with fewer letters than this get proportionally less confidence.
FULL_CONFIDENCE_LETTERS = 12
# Languages outside the FLORES table (which is also what our models can serve) are unlikely
# among our users; the detectors still propose them (Bikol, Klingon), so they are discounted.
RARE_LANGUAGE_PRIOR = 0.3

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)*", re.UNICODE)

# Codes the detectors use that differ from ours.
_ALIASES = {
    "iw": "he", "jw": "jv", "mo": "ro", "ary": "ar", "arz": "ar", "fuv": "ff", "gug": "gn",
    "uzs": "uz", "sdh": "ku", "hbo": "he", "no": "nb", "tl": "fil", "zh-Hant": "zh-Hant",
}  # fmt: skip
_IGNORED = {"un", "xx", "xxx", "zxx", "und", "tlh", "xx-Qaai"}


@dataclass(frozen=True)
class Detection:
    """The language of a text, how sure we are, and whether that is enough to act on.

    ``lang`` is BCP-47 ("sw", "hi"); ``script`` says how it was written ("Latn" for Hinglish),
    because a Devanagari model input and a Latin-letter message are not the same thing.
    """

    lang: str
    confidence: float
    reliable: bool
    script: str | None = None


def choose_language(detection: Detection, stored: str | None, threshold: float) -> str | None:
    """The language to answer in: a stored choice always beats detection.

    A person who picked Kiswahili and texts "ok" or a word of English still gets Kiswahili.
    Detection only fills the gap for a person with no stored language, and only when it is
    reliable and at least ``threshold`` confident; otherwise None tells the caller to ask.
    """
    if stored:
        return normalize(stored)
    if detection.reliable and detection.confidence >= threshold and detection.lang != UNDETERMINED:
        return detection.lang
    return None


@lru_cache(maxsize=1)
def _py3langid() -> Any:
    # Loading the model takes ~0.3 s and 40 MB, so it happens on first use, once per process.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _canonical(code: str) -> str | None:
    if code in _IGNORED:
        return None
    code = _ALIASES.get(code, code)
    try:
        return normalize(code)
    except UnknownLanguage:
        return None


def _clean(text: str) -> str:
    return _URL_RE.sub(" ", unicodedata.normalize("NFC", text))


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def _cld2_votes(text: str) -> dict[str, float]:
    try:
        reliable, _, details = pycld2.detect(text, bestEffort=True)
    except pycld2.error:
        # cld2 rejects some invalid UTF-8 sequences; the other evidence still applies.
        return {}
    votes: dict[str, float] = {}
    for _name, code, percent, _score in details:
        lang = _canonical(code)
        if lang and percent:
            votes[lang] = votes.get(lang, 0.0) + (percent / 100.0) * (1.0 if reliable else 0.5)
    return votes


def _py3_votes(text: str) -> dict[str, float]:
    votes: dict[str, float] = {}
    for code, prob in _py3langid().rank(text)[:10]:
        lang = _canonical(code)
        if lang and prob > 0.01:
            votes[lang] = votes.get(lang, 0.0) + float(prob)
    return votes


def word_votes(tokens: list[str]) -> dict[str, float]:
    """Share of tokens found in each language's word list, shared words counted fractionally."""
    if not tokens:
        return {}
    votes: dict[str, float] = defaultdict(float)
    for token in tokens:
        owners = [lang for lang, words in WORDS.items() if token in words]
        if not owners and len(token) >= PREFIX_MIN_LENGTH:
            owners = [lang for lang, pre in PREFIXES.items() if token.startswith(pre)]
        for lang in owners:
            votes[lang] += 1.0 / len(owners)
        for lang, letters in MARKER_LETTERS.items():
            if any(ch in letters for ch in token):
                votes[lang] += 0.5
    return {lang: min(1.0, v / len(tokens)) for lang, v in votes.items()}


def _allowed(lang: str, script: ScriptProfile, languages: frozenset[str] | None) -> bool:
    base = base_language(lang)
    if languages is not None and base not in languages:
        return False
    allowed = script.languages
    if allowed is not None and script.share >= 0.6:
        return base in allowed
    if script.dominant == "Latn" and lang.endswith("-Latn"):
        return True
    if script.dominant == "Latn":
        return base not in _NON_LATIN
    return True


# Languages that are (practically) never written in Latin letters by our users, except the
# romanised ones that have their own "-Latn" word list.
_NON_LATIN = frozenset(lang for langs in SCRIPT_LANGUAGES.values() for lang in langs)


class Reading:
    """One message as the detectors see it, before any restriction to languages; the
    detectors' votes are worked out on first use, once, whatever ``choose`` is asked."""

    def __init__(self, text: str):
        self.cleaned = _clean(text)
        self.script: ScriptProfile = profile(self.cleaned)
        self.tokens = _tokens(self.cleaned)

    @cached_property
    def scores(self) -> dict[str, float]:
        scores: dict[str, float] = defaultdict(float)
        for lang, vote in _py3_votes(self.cleaned).items():
            scores[lang] += W_PY3LANGID * vote
        for lang, vote in _cld2_votes(self.cleaned).items():
            scores[lang] += W_CLD2 * vote
        if self.script.dominant == "Latn":
            for lang, vote in word_votes(self.tokens).items():
                scores[lang] += W_WORDS * vote
        return scores


def read(text: str) -> Reading:
    """Read a message once; ``choose`` then picks among every language or the served ones."""
    return Reading(text)


def detect(text: str, languages: Iterable[str] | None = None) -> Detection:
    """Detect the language of one message.

    ``languages`` restricts the answer to the languages a deployment serves; with None every
    language the detectors know is possible (rare ones discounted).
    """
    return choose(read(text), languages)


def choose(reading: Reading, languages: Iterable[str] | None = None) -> Detection:
    """The language of a message already read, among ``languages`` (None: every language)."""
    script = reading.script
    allow = frozenset(base_language(x) for x in languages) if languages is not None else None
    if script.letters == 0:
        return Detection(UNDETERMINED, 0.0, False, None)

    allowed_by_script = script.languages
    if allowed_by_script is not None and len(allowed_by_script) == 1 and script.share >= 0.9:
        lang = allowed_by_script[0]
        if allow is None or lang in allow:
            confidence = round(script.share * _length_factor(script.letters), 4)
            return Detection(lang, confidence, confidence >= RELIABLE_CONFIDENCE, script.dominant)

    candidates: dict[str, float] = {}
    for lang, score in reading.scores.items():
        if not _allowed(lang, script, allow):
            continue
        prior = 1.0 if base_language(lang) in FLORES or lang in FLORES else RARE_LANGUAGE_PRIOR
        key = lang.split("-")[0] if lang.endswith("-Latn") else lang
        candidates[key] = candidates.get(key, 0.0) + score * prior

    if not candidates:
        return Detection(UNDETERMINED, 0.0, False, script.dominant)
    best = max(candidates, key=lambda k: candidates[k])
    total = sum(candidates.values())
    share = candidates[best] / total if total > 0 else 0.0
    confidence = share * _length_factor(script.letters) * min(1.0, script.share + 0.1)
    if len(reading.tokens) < 2 and script.letters < 8:
        confidence = min(confidence, RELIABLE_CONFIDENCE - 0.01)
    return Detection(best, round(confidence, 4), confidence >= RELIABLE_CONFIDENCE, script.dominant)


def _length_factor(letters: int) -> float:
    return min(1.0, (letters / FULL_CONFIDENCE_LETTERS) ** 0.5)

"""What a free-text message is about: lexical cues in every served locale, embeddings on top.

Cues live beside the content, one file per locale (``content/library/<locale>/intents.yaml``,
``kind: intents``), written as people text: "sina usingizi", "mawazo mengi", "tension",
"nervios", "cant sleep". Every locale's cues are read for every message, because people
switch languages mid-sentence. A cue is one or more words that must appear in order (one
other word may sit between two of them); a word ending in ``*`` matches any word it starts;
words of six letters or more also match one typo away (a letter missing, extra, changed or
two swapped), so "lonley" and "slep" still count.

The lexical layer needs nothing installed and answers in well under a millisecond; when the
multilingual embeddings are installed (bot.intents.IntentMatcher), they place the messages
the cues miss. Neither ever sees a crisis: the safety gate runs first.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.conversation.types import Understanding
from core.exceptions import TumainiError

log = logging.getLogger(__name__)

FILENAME = "intents.yaml"
THEMES = ("grief", "lonely", "failure", "money", "family", "general")  # ties go to the first
# Conversation rather than content: thanks, and asking what there is ("what can you do", "ok").
SOCIAL = ("thanks", "menu")
# Topics a supportive reply offers for each theme, after any module the message itself named.
THEME_TARGETS: Mapping[str, tuple[str, ...]] = {
    "lonely": ("module:support", "module:activity", "screening:phq2"),
    "failure": ("module:activity", "module:problem_solving", "screening:phq2"),
    "grief": ("module:support", "module:sleep", "module:get_help"),
    "money": ("module:problem_solving", "module:stress", "module:sleep"),
    "family": ("module:problem_solving", "module:support", "module:stress"),
    "general": ("module:stress", "module:activity", "screening:phq2"),
}
FUZZY_MIN = 6  # cue words this long match one typo away (shorter ones collide across languages)
FUZZY_WEIGHT = 0.8
CLEAR_MARGIN = 2.0  # the best module is "clearly" it when it scores this many times the next
# Words are runs of anything but spaces and punctuation (not \w: Devanagari vowel signs are not \w).
# Digits stay in words: Arabizi writes letters with them ("7azeen", "2al2"). Arabic question
# and comma marks are punctuation.
_TOKEN = re.compile(r"[^\s.,!?;:()\[\]{}\"“”«»¿¡/\\\-–—…*+=#@&%|<>~^_،؟؛]+")
_RUN = re.compile(r"(.)\1{2,}")


class IntentsError(TumainiError):
    """An intents file that cannot be read."""


def fold(text: str) -> str:
    """Lower case, accents and apostrophes away, letter runs shortened ("sooo" -> "soo")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.replace("'", "").replace("’", "").replace("`", "")
    return _RUN.sub(r"\1\1", plain)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


@dataclass(frozen=True)
class Cue:
    words: tuple[str, ...]  # a trailing "*" marks a prefix
    label: str  # "talk", "module:<id>" or "theme:<name>"
    locale: str

    @property
    def weight(self) -> float:
        return float(len(self.words))


@dataclass
class Lexicon:
    """Every locale's cues, indexed for one pass over a message's words."""

    cues: list[Cue] = field(default_factory=list)
    locales: list[str] = field(default_factory=list)
    clitics: tuple[str, ...] = ()  # prefixes a word may carry ("و", "ال"): read with and without them

    def __post_init__(self) -> None:
        self._exact: dict[str, set[str]] = {}
        self._prefixes: list[str] = []
        self._typos: dict[str, set[str]] = {}
        for cue in self.cues:
            for word in cue.words:
                if word.endswith("*"):
                    self._prefixes.append(word[:-1])
                    continue
                self._exact.setdefault(word, set()).add(word)
                if len(word) >= FUZZY_MIN:
                    for variant in _deletions(word) | {word}:
                        self._typos.setdefault(variant, set()).add(word)
        self._prefixes = sorted(set(self._prefixes))

    @classmethod
    def load(cls, content_dir: str | Path) -> Lexicon:
        cues: list[Cue] = []
        locales = []
        clitics: list[str] = []
        for path in sorted(Path(content_dir).glob(f"*/{FILENAME}")):
            locale = path.parent.name
            found, prefixes = read(path, locale)
            cues.extend(found)
            clitics.extend(prefixes)
            locales.append(locale)
        if not cues:
            log.warning("intents.no_cues", extra={"content_dir": str(content_dir)})
        return cls(cues, locales, tuple(sorted(set(clitics), key=len, reverse=True)))

    def bare(self, token: str) -> list[str]:
        """The word, and the word without the clitics it starts with (at most two, 3+ letters left)."""
        forms = [token]
        for _ in range(2):
            stripped = next((forms[-1][len(c):] for c in self.clitics
                             if forms[-1].startswith(c) and len(forms[-1]) - len(c) >= 3), None)
            if stripped is None:
                break
            forms.append(stripped)
        return forms

    def matches(self, token: str) -> dict[str, float]:
        """Cue words this message word counts as, with how sure (1 exact or prefix, less for a typo)."""
        found = {w: 1.0 for w in self._exact.get(token, ())}
        for prefix in self._prefixes:
            if token.startswith(prefix):
                found[prefix + "*"] = 1.0
        if len(token) >= FUZZY_MIN - 1:
            near: set[str] = set(self._typos.get(token, ()))
            for variant in _deletions(token):
                near |= self._typos.get(variant, set())
            for word in near:
                if word not in found and _one_edit(token, word):
                    found[word] = FUZZY_WEIGHT
        return found

    def scores(self, text: str) -> dict[str, float]:
        """Label -> summed weight of the cues the message carries (each cue counted once)."""
        words = tokens(text)
        seen = []
        for token in words:
            found: dict[str, float] = {}
            for form in self.bare(token) if self.clitics else (token,):
                for word, sure in self.matches(form).items():
                    found[word] = max(sure, found.get(word, 0.0))
            seen.append(found)
        totals: dict[str, float] = {}
        counted: set[tuple[str, tuple[str, ...]]] = set()
        for cue in self.cues:
            if (cue.label, cue.words) in counted:
                continue  # the same words listed in two locales count once
            sure = _find(cue.words, seen)
            if sure:
                counted.add((cue.label, cue.words))
                totals[cue.label] = totals.get(cue.label, 0.0) + cue.weight * sure
        return totals


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b differ by one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _find(words: tuple[str, ...], seen: list[dict[str, float]]) -> float:
    """How surely the cue's words appear in order (one other word allowed between two); 0 if not."""
    best = 0.0
    for start, first in enumerate(seen):
        if words[0] not in first:
            continue
        sure, position = first[words[0]], start
        for word in words[1:]:
            for step in (1, 2):
                at = position + step
                if at < len(seen) and word in seen[at]:
                    sure, position = min(sure, seen[at][word]), at
                    break
            else:
                sure = 0.0
                break
        best = max(best, sure)
    return best


def read(path: Path, locale: str) -> tuple[list[Cue], list[str]]:
    """One locale's cues and clitics; a file that cannot be read fails loudly (routing would
    silently worsen)."""
    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise IntentsError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != "intents":
        raise IntentsError(f"{where}: needs 'kind: intents'")
    cues: list[Cue] = []

    def add(label: str, phrases: Any) -> None:
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise IntentsError(f"{where}: {label} must be a list of phrases")
        for phrase in phrases:
            words = tuple(w + ("*" if raw.endswith("*") else "")
                          for raw in phrase.split() for w in tokens(raw)[:1])
            if not words:
                raise IntentsError(f"{where}: {label}: {phrase!r} has no letters")
            cues.append(Cue(words, label, locale))

    add("talk", data.get("talk") or [])
    for module_id, phrases in (data.get("modules") or {}).items():
        add(f"module:{module_id}", phrases)
    for theme, phrases in (data.get("themes") or {}).items():
        if theme not in THEMES:
            raise IntentsError(f"{where}: theme {theme!r} is not one of {', '.join(THEMES)}")
        add(f"theme:{theme}", phrases)
    social = data.get("social") or {}
    if not isinstance(social, dict):
        raise IntentsError(f"{where}: social must map {' and '.join(SOCIAL)} to phrases")
    for name, phrases in social.items():
        if name not in SOCIAL:
            raise IntentsError(f"{where}: social {name!r} is not one of {', '.join(SOCIAL)}")
        add(f"social:{name}", phrases)
    clitics = data.get("clitics") or []
    if not isinstance(clitics, list) or not all(isinstance(c, str) and c.strip() for c in clitics):
        raise IntentsError(f"{where}: clitics must be a list of prefixes")
    return cues, [fold(c.strip()) for c in clitics]


class Understander:
    """Cues first; the embedding matcher (optional) for what the cues miss."""

    def __init__(self, lexicon: Lexicon, embeddings: Any = None, near_threshold: float = 0.32):
        self.lexicon = lexicon
        self.embeddings = embeddings
        self.near_threshold = near_threshold

    @classmethod
    def from_content_dir(cls, content_dir: str | Path, embeddings: Any = None) -> Understander:
        return cls(Lexicon.load(content_dir), embeddings)

    def wants_person(self, text: str) -> bool:
        """Whether the words ask for a person ("talk to someone"): the cues alone, never the
        embeddings, so asking costs nothing on a turn that needs no more (before consent)."""
        return bool(self.lexicon.scores(text).get("talk"))

    def understand(self, text: str, locale: str) -> Understanding:
        scores = self.lexicon.scores(text)
        if scores.get("talk"):
            return Understanding(talk=True)
        modules = _ranked(scores, "module:")
        theme = _theme(scores, has_module=bool(modules))
        social = _ranked(scores, "social:")
        if not modules and theme is None and social:  # "thank you", "what can you do": nothing more to place
            return Understanding(social=social[0][0].split(":", 1)[1])
        if not modules and theme is None and self.embeddings is not None:  # only what the cues left unplaced
            module_id, score = self.embeddings.score(text)
            if module_id is not None and score >= self.embeddings.threshold:
                modules = [(f"module:{module_id}", 1.0)]
            elif module_id is not None and score >= self.near_threshold:
                modules = [(f"module:{module_id}", 0.5)]
        targets = tuple(label for label, _ in modules)
        if theme is not None:
            targets = tuple(dict.fromkeys((*targets, *THEME_TARGETS[theme])))
            return Understanding(targets=targets, theme=theme, nearest=targets)
        confident = bool(modules) and modules[0][1] >= FUZZY_WEIGHT and (
            len(modules) == 1 or modules[0][1] >= CLEAR_MARGIN * modules[1][1])
        if not confident and len(modules) == 1:
            # one weak embedding guess: not enough to open a module or ask about it alone
            return Understanding(nearest=targets)
        return Understanding(targets=targets, confident=confident, nearest=targets)


def _theme(scores: Mapping[str, float], has_module: bool) -> str | None:
    """The most specific theme: a named one (the heavier, then in THEMES order) before distress in
    general, which only counts when no module was named ("I feel stressed" is the stress module)."""
    named = [(scores[f"theme:{t}"], -i, t) for i, t in enumerate(THEMES) if t != "general" and f"theme:{t}" in scores]
    if named:
        return max(named)[2]
    return "general" if "theme:general" in scores and not has_module else None


def _ranked(scores: Mapping[str, float], prefix: str) -> list[tuple[str, float]]:
    found = [(label, score) for label, score in scores.items() if label.startswith(prefix)]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))


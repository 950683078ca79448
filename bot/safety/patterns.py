"""The small pattern language curators write in crisis lexicons.

Curators are health workers and community members, not programmers, so a
pattern is a phrase in the language itself, with four helpers:

- ``*`` inside a word matches any letters: ``suicid*``, ``*نتحر*``.
- ``(a|b|c)`` offers alternatives, each a word or a phrase: ``(to|2) die``.
- a ``?`` after a word or group makes it optional: ``(really|so)? tired of life``.
- ``~`` (or ``~2``) allows up to three (or two) words in between:
  ``want ~ die`` matches "want to just die".
- a ``+`` after a word matches its English inflections too: ``kill+``
  matches kills, killed, killing and "killin"; ``take+`` matches took and
  taken (``inflect.py``).

A pattern starting with ``re:`` is a sequence of regular expressions, one per
word, separated by spaces; each must match a whole word of the normalised
text (``re:ራሴን (?!አል)\\S*ጥፋ\\S*``). It is for the rare word the phrase form
cannot say.

Everything else goes through the same normaliser as messages, so accents,
case and repeated letters never need spelling out.

A pattern means the set of word sequences it can be written out as: every
choice of alternatives and optional words, with neighbouring gaps added up
and a gap at either end dropped (``expand_patterns`` writes them out). Those
sets are large: the twelve lexicons spell about 746,000 sequences, one
pattern up to 20,000. So loading a lexicon does not write them out. It parses
each pattern into a ``Pattern``, a tree of parts (a word, a choice of
alternatives, a gap), checks it, and counts its sequences from the tree; the
matcher (``automaton.py``) builds one shared automaton from the trees, with
each choice made once and joined up again after it rather than copied into
every sequence. Only a pattern whose count comes out over ``MAX_SEQUENCES``
is written out, to tell a real excess from alternatives that repeat one
another.

The automaton reads a message in one pass, in time linear in its length.
For all twelve lexicons (and English alone, for translated text) it has
13,704 nodes, and building the gate takes about 1 CPU second and keeps 33 MB;
the word trie of written-out sequences it replaced had 1.49 million nodes,
took 5.5 s and kept 385 MB (``python -m bench.safety_build``, docs/safety.md).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from bot.safety.exceptions import LexiconError
from bot.safety.inflect import IRREGULAR_BASES, MIN_BASE, base_form
from bot.safety.normalize import normalise

_GAP = re.compile(r"^~(\d*)$")
DEFAULT_GAP = 3
MAX_SEQUENCES = 20_000  # word sequences one pattern may expand into


@dataclass(frozen=True)
class Glob:
    """A word with ``*`` wildcards: literal pieces in order."""

    pieces: tuple[str, ...]  # first piece "" when it starts with *, last "" when it ends with *

    @property
    def prefix(self) -> str:
        return self.pieces[0]

    @property
    def suffix(self) -> str:
        return self.pieces[-1]

    def matches(self, word: str) -> bool:
        prefix, suffix, middle = self.pieces[0], self.pieces[-1], self.pieces[1:-1]
        if len(word) < sum(map(len, self.pieces)) or not word.startswith(prefix) or not word.endswith(suffix):
            return False
        pos, end = len(prefix), len(word) - len(suffix)
        for piece in middle:
            found = word.find(piece, pos, end)
            if found < 0:
                return False
            pos = found + len(piece)
        return True


@dataclass(frozen=True)
class WordRegex:
    """One ``re:`` word: a regular expression that must match a whole word."""

    source: str
    regex: re.Pattern[str] = field(compare=False, hash=False)

    def matches(self, word: str) -> bool:
        return self.regex.fullmatch(word) is not None


@dataclass(frozen=True)
class Inflected:
    """``kill+``: the base form ``kil`` (normalised) in any English inflection."""

    base: str


ANY = ("*",)  # a bare "*" word: matches any one word


@dataclass(frozen=True)
class Gap:
    """``~n``: up to ``size`` words of anything."""

    size: int


Symbol = Hashable  # a literal word (str), a Glob, a WordRegex, an Inflected, ANY or a Gap
Sequence_ = tuple[Symbol, ...]


@dataclass(frozen=True)
class Choice:
    """One position of a phrase: a word (its tokens in order) or alternatives, maybe optional.

    Each option is a tuple of symbols read in a row, or a nested ``Pattern``
    (an alternative written as a phrase: ``(end it all|kill myself)``).
    """

    options: tuple[tuple[Symbol, ...] | Pattern, ...]
    optional: bool = False


@dataclass(frozen=True)
class Pattern:
    """One parsed pattern (or one alternative inside a group): its parts in order."""

    parts: tuple[Choice | Gap, ...]

    @property
    def has_words(self) -> bool:
        return any(isinstance(part, Choice) for part in self.parts)

    def has_letters(self) -> bool:
        """Whether some sequence of it has a word other than a bare ``*``."""
        return any(
            any(opt.has_letters() if isinstance(opt, Pattern) else any(sym != ANY for sym in opt) for opt in part.options)
            for part in self.parts
            if isinstance(part, Choice)
        )


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    if "(" not in text and ")" not in text:
        return text.split(sep)
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise LexiconError(f"unbalanced ')' in pattern {text!r}")
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise LexiconError(f"unbalanced '(' in pattern {text!r}")
    parts.append("".join(current))
    return parts


@lru_cache(maxsize=1 << 16)
def _word(word: str) -> tuple[Sequence_, ...]:
    """The sequences of one word: literal tokens, one wildcard word or one inflected word.

    Kept per word written: the same words recur across alternatives and patterns.
    """
    if word.endswith("+") and len(word) > 1:
        if "*" in word:
            raise LexiconError(f"a word cannot have both a wildcard and '+': {word!r}")
        base = base_form(word[:-1])
        if not base or " " in base or (len(base) < MIN_BASE and base not in IRREGULAR_BASES):
            raise LexiconError(f"'+' needs one word of at least {MIN_BASE} letters before it: {word!r}")
        return ((Inflected(base),),)
    if "*" not in word:
        toks = normalise(word).split()
        return (tuple(toks),) if toks else ()
    pieces = tuple(normalise(piece).strip() for piece in word.split("*"))
    if any(" " in piece for piece in pieces):
        raise LexiconError(f"a wildcard word cannot contain spaces or punctuation: {word!r}")
    if not "".join(pieces):
        return ((ANY,),)  # a bare "*" is any one word
    return ((Glob(pieces),),)


def _concat(parts: list[list[Sequence_]], where: str) -> list[Sequence_]:
    total = 1
    for options in parts:
        total *= max(len(options), 1)
        if total > MAX_SEQUENCES:
            raise LexiconError(f"{where}: pattern has too many combinations (over {MAX_SEQUENCES}); split it")
    return [tuple(sym for seq in combo for sym in seq) for combo in product(*parts)]


def _expand(phrase: str, where: str) -> list[Sequence_]:
    """Every word sequence a phrase matches, written out."""
    parts: list[list[Sequence_]] = []
    for token in (t for t in _split_top(phrase.strip(), " ") if t):
        gap = _GAP.match(token)
        if gap:
            limit = int(gap.group(1) or DEFAULT_GAP)
            if limit:
                parts.append([(Gap(limit),)])
            continue
        optional = token.endswith("?")
        body = token[:-1] if optional else token
        if body.startswith("(") and body.endswith(")"):
            options: list[Sequence_] = []
            for alt in _split_top(body[1:-1], "|"):
                expanded = _expand(alt, where)
                if not expanded or not any(expanded):
                    raise LexiconError(f"empty alternative in {token!r}")
                options.extend(expanded)
        else:
            if "(" in body or ")" in body or "|" in body:
                raise LexiconError(f"misplaced parenthesis or '|' in {token!r}")
            options = list(_word(body))
            if not options:
                continue  # punctuation only: it normalises away, like in messages
        if optional:
            options = [(), *options]
        parts.append(list(dict.fromkeys(options)))
    return [seq for seq in dict.fromkeys(_trim(seq) for seq in _concat(parts, where)) if seq]


def _trim(seq: Sequence_) -> Sequence_:
    """Merge neighbouring gaps; a gap at either end adds nothing to a match."""
    out: list[Symbol] = []
    for sym in seq:
        if isinstance(sym, Gap) and out and isinstance(out[-1], Gap):
            out[-1] = Gap(out[-1].size + sym.size)
        else:
            out.append(sym)
    while out and isinstance(out[0], Gap):
        out.pop(0)
    while out and isinstance(out[-1], Gap):
        out.pop()
    return tuple(out)


def _regex_words(source: str, where: str) -> list[Sequence_]:
    words = source.split()
    if not words:
        raise LexiconError(f"{where}: empty re: pattern")
    out: list[Symbol] = []
    for word in words:
        try:
            out.append(WordRegex(word, re.compile(word)))
        except re.error as exc:
            raise LexiconError(f"{where}: pattern does not compile: {exc}") from None
    return [tuple(out)]


def _parse(phrase: str, where: str) -> tuple[Pattern, int]:
    """A phrase as a tree, and how many sequences it expands into.

    The count multiplies and adds up the choices, so alternatives that repeat
    one another are counted twice; when that reaches ``MAX_SEQUENCES`` the
    phrase is written out (``_expand``) to count exactly, which also raises
    the same error, in the same place, for a phrase that is really too big.
    """
    parts: list[Choice | Gap] = []
    total = 1
    for token in (t for t in _split_top(phrase.strip(), " ") if t):
        gap = _GAP.match(token)
        if gap:
            limit = int(gap.group(1) or DEFAULT_GAP)
            if limit:
                parts.append(Gap(limit))
            continue
        optional = token.endswith("?")
        body = token[:-1] if optional else token
        if body.startswith("(") and body.endswith(")"):
            options: list[tuple[Symbol, ...] | Pattern] = []
            count = 0
            for alt in _split_top(body[1:-1], "|"):
                nested, n = _parse(alt, where)
                if not nested.has_words:
                    raise LexiconError(f"empty alternative in {token!r}")
                alone = nested.parts[0] if len(nested.parts) == 1 else None
                if isinstance(alone, Choice) and not alone.optional:  # one word or group: its options are ours
                    options.extend(alone.options)
                else:
                    options.append(nested)
                count += n
        else:
            if "(" in body or ")" in body or "|" in body:
                raise LexiconError(f"misplaced parenthesis or '|' in {token!r}")
            options = list(_word(body))
            if not options:
                continue  # punctuation only: it normalises away, like in messages
            count = 1
        parts.append(Choice(tuple(options), optional))
        total *= count + optional
    if total > MAX_SEQUENCES:
        total = len(_expand(phrase, where))
    return Pattern(tuple(parts)), total


def _regex_pattern(source: str, where: str) -> Pattern:
    (words,) = _regex_words(source, where)
    return Pattern((Choice((words,)),))


def parse_patterns(patterns: Sequence[str], where: str) -> tuple[Pattern, ...]:
    """An entry's patterns, parsed and checked; ``where`` names file and entry in errors."""
    parsed: list[Pattern] = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise LexiconError(f"{where}: every pattern must be non-empty text")
        if pattern.startswith("re:"):
            parsed.append(_regex_pattern(pattern[3:], where))
            continue
        try:
            tree, _ = _parse(pattern, where)
        except LexiconError as exc:
            raise _named(exc, pattern, where) from None
        if not tree.has_letters():
            raise LexiconError(f"{where}: pattern {pattern!r} has no letters left after normalisation")
        parsed.append(tree)
    return tuple(parsed)


def _named(exc: LexiconError, pattern: str, where: str) -> LexiconError:
    message = str(exc)
    if "too many combinations" in message:
        message = f"{message}: {pattern[:60]!r}..."
    return LexiconError(message if message.startswith(where) else f"{where}: {message}")


def expand_patterns(patterns: Sequence[str], where: str) -> list[Sequence_]:
    """All word sequences of an entry's patterns, written out: what the automaton must match."""
    sequences: list[Sequence_] = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise LexiconError(f"{where}: every pattern must be non-empty text")
        if pattern.startswith("re:"):
            sequences.extend(_regex_words(pattern[3:], where))
            continue
        try:
            expanded = _expand(pattern, where)
        except LexiconError as exc:
            raise _named(exc, pattern, where) from None
        if not expanded or all(all(sym == ANY or isinstance(sym, Gap) for sym in seq) for seq in expanded):
            raise LexiconError(f"{where}: pattern {pattern!r} has no letters left after normalisation")
        sequences.extend(expanded)
    return list(dict.fromkeys(sequences))

"""The small pattern language curators write in crisis lexicons, and its matcher.

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

Matching runs in time linear in the message: every pattern is expanded into
word sequences once, when the lexicon loads (alternatives, optional words
and gaps give a bounded number of them), and all sequences of all lexicons
go into one word trie. A message is read word by word, once, carrying the
set of trie nodes still alive; how many can be alive at once depends on the
lexicons, not on the message. What a word matches (itself, the wildcards and
word expressions it fits) is worked out once per distinct word, and words
longer than ``MAX_WORD`` letters only ever match literally, so neither a
16 KB message of repeated crisis words nor one 16 KB "word" can slow it down.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product

from bot.safety.exceptions import LexiconError
from bot.safety.inflect import IRREGULAR_BASES, MIN_BASE, base_form, bases
from bot.safety.normalize import normalise

_GAP = re.compile(r"^~(\d*)$")
DEFAULT_GAP = 3
MAX_SEQUENCES = 20_000  # word sequences one pattern may expand into
MAX_WORD = 64  # longer words are matched literally only (no wildcard or regex)
MIN_STEM = 3  # a clitic prefix is only taken off a word that keeps this many letters


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


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
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


def _word(word: str) -> list[Sequence_]:
    """The sequences of one word: literal tokens, one wildcard word or one inflected word."""
    if word.endswith("+") and len(word) > 1:
        if "*" in word:
            raise LexiconError(f"a word cannot have both a wildcard and '+': {word!r}")
        base = base_form(word[:-1])
        if not base or " " in base or (len(base) < MIN_BASE and base not in IRREGULAR_BASES):
            raise LexiconError(f"'+' needs one word of at least {MIN_BASE} letters before it: {word!r}")
        return [(Inflected(base),)]
    if "*" not in word:
        toks = normalise(word).split()
        return [tuple(toks)] if toks else []
    pieces = tuple(normalise(piece).strip() for piece in word.split("*"))
    if any(" " in piece for piece in pieces):
        raise LexiconError(f"a wildcard word cannot contain spaces or punctuation: {word!r}")
    if not "".join(pieces):
        return [(ANY,)]  # a bare "*" is any one word
    return [(Glob(pieces),)]


def _concat(parts: list[list[Sequence_]], where: str) -> list[Sequence_]:
    total = 1
    for options in parts:
        total *= max(len(options), 1)
        if total > MAX_SEQUENCES:
            raise LexiconError(f"{where}: pattern has too many combinations (over {MAX_SEQUENCES}); split it")
    return [tuple(sym for seq in combo for sym in seq) for combo in product(*parts)]


def _phrase(phrase: str, where: str) -> list[Sequence_]:
    """Every word sequence a phrase matches."""
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
                expanded = _phrase(alt, where)
                if not expanded or not any(expanded):
                    raise LexiconError(f"empty alternative in {token!r}")
                options.extend(expanded)
        else:
            if "(" in body or ")" in body or "|" in body:
                raise LexiconError(f"misplaced parenthesis or '|' in {token!r}")
            options = _word(body)
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


def expand_patterns(patterns: Sequence[str], where: str) -> list[Sequence_]:
    """All word sequences of an entry's patterns; ``where`` names file and entry in errors."""
    sequences: list[Sequence_] = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise LexiconError(f"{where}: every pattern must be non-empty text")
        if pattern.startswith("re:"):
            sequences.extend(_regex_words(pattern[3:], where))
            continue
        try:
            expanded = _phrase(pattern, where)
        except LexiconError as exc:
            message = str(exc)
            if "too many combinations" in message:
                message = f"{message}: {pattern[:60]!r}..."
            raise LexiconError(message if message.startswith(where) else f"{where}: {message}") from None
        if not expanded or all(all(sym == ANY or isinstance(sym, Gap) for sym in seq) for seq in expanded):
            raise LexiconError(f"{where}: pattern {pattern!r} has no letters left after normalisation")
        sequences.extend(expanded)
    return list(dict.fromkeys(sequences))


class Automaton:
    """A word trie over expanded patterns, read left to right in one pass.

    ``add`` files a sequence under an integer label (the caller's index into
    its own table); ``scan`` returns every (label, start, end) found, all
    overlapping matches included. A node with no children is never kept
    alive, so only sequences that can still grow are carried to the next word.
    """

    def __init__(self) -> None:
        self._children: list[dict[Symbol, int]] = [{}]
        self._labels: list[tuple[int, ...]] = [()]
        self._gaps: list[tuple[tuple[int, int], ...]] = [()]  # gap children: (node, size)
        self._prefix_globs: dict[str, list[Glob]] = {}
        self._suffix_globs: dict[str, list[Glob]] = {}
        self._inner_globs: list[Glob] = []
        self._regexes: list[WordRegex] = []
        self._inflected: set[str] = set()
        self._known: set[Symbol] = set()
        self._aliases: dict[str, tuple[str, ...]] = {}
        self._clitics: tuple[str, ...] = ()
        self._max_prefix = 0
        self._max_suffix = 0

    @property
    def size(self) -> int:
        return len(self._children)

    def _register(self, sym: Symbol) -> None:
        if sym in self._known or sym == ANY or isinstance(sym, (str, Gap)):
            return
        self._known.add(sym)
        if isinstance(sym, WordRegex):
            self._regexes.append(sym)
        elif isinstance(sym, Inflected):
            self._inflected.add(sym.base)
        elif isinstance(sym, Glob):
            if sym.prefix:
                self._prefix_globs.setdefault(sym.prefix, []).append(sym)
                self._max_prefix = max(self._max_prefix, len(sym.prefix))
            elif sym.suffix:
                self._suffix_globs.setdefault(sym.suffix, []).append(sym)
                self._max_suffix = max(self._max_suffix, len(sym.suffix))
            else:
                self._inner_globs.append(sym)

    def add(self, sequence: Sequence_, label: int) -> None:
        node = 0
        for sym in sequence:
            self._register(sym)
            child = self._children[node].get(sym)
            if child is None:
                child = len(self._children)
                self._children.append({})
                self._labels.append(())
                self._gaps.append(())
                self._children[node][sym] = child
                if isinstance(sym, Gap):
                    self._gaps[node] = (*self._gaps[node], (child, sym.size))
            node = child
        if label not in self._labels[node]:
            self._labels[node] = (*self._labels[node], label)

    def alias(self, variant: str, canonical: str) -> None:
        """Read the word ``variant`` as ``canonical`` too (a common misspelling: "sucide")."""
        if variant != canonical and canonical not in self._aliases.get(variant, ()):
            self._aliases[variant] = (*self._aliases.get(variant, ()), canonical)

    def clitic(self, prefix: str) -> None:
        """Also read a word without ``prefix`` when it starts with it (Arabic "و" and: "وخالي")."""
        if prefix and prefix not in self._clitics:
            self._clitics = (*self._clitics, prefix)

    def _forms(self, word: str) -> list[str]:
        forms = [word]
        for prefix in self._clitics:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
                forms.append(word[len(prefix) :])
        return [alias for form in forms for alias in (form, *self._aliases.get(form, ()))]

    def symbols(self, word: str) -> tuple[Symbol, ...]:
        """The trie symbols one word of a message matches (always itself and ANY).

        A word with known spellings matches what each of them matches, as well
        as what it matches itself; a word that starts with a clitic prefix also
        matches what it matches without it; an inflected word matches the
        ``base+`` patterns of the base forms it could inflect. All add
        readings, never take one away.
        """
        found: list[Symbol] = [ANY]
        inflected = self._inflected
        for form in self._forms(word):
            found.append(form)
            if inflected:
                found.extend(Inflected(base) for base in bases(form) if base in inflected)
            if len(form) > MAX_WORD:
                continue
            for k in range(1, min(len(form), self._max_prefix) + 1):
                found.extend(g for g in self._prefix_globs.get(form[:k], ()) if g.matches(form))
            for k in range(1, min(len(form), self._max_suffix) + 1):
                found.extend(g for g in self._suffix_globs.get(form[-k:], ()) if g.matches(form))
            found.extend(g for g in self._inner_globs if g.matches(form))
            found.extend(r for r in self._regexes if r.matches(form))
        return tuple(dict.fromkeys(found))

    def scan(self, words: Sequence[str]) -> set[tuple[int, int, int]]:
        """Every labelled sequence in ``words`` as (label, start, end), in one left-to-right pass.

        A state is (node, start) with the number of words a gap may still
        skip; a node reached just before a gap also stands at the gap's node
        with its full budget, so the gap can skip nothing.
        """
        children, labels, gaps = self._children, self._labels, self._gaps
        memo: dict[str, tuple[Symbol, ...]] = {}
        found: set[tuple[int, int, int]] = set()
        active: dict[tuple[int, int], int] = {}
        for i, word in enumerate(words):
            syms = memo.get(word)
            if syms is None:
                syms = memo[word] = self.symbols(word)
            active[(0, i)] = -1
            nxt: dict[tuple[int, int], int] = {}
            for (node, start), budget in active.items():
                if budget > 0:  # inside a gap: skip this word
                    key = (node, start)
                    if nxt.get(key, -1) < budget - 1:
                        nxt[key] = budget - 1
                edges = children[node]
                for sym in syms:
                    child = edges.get(sym)
                    if child is None:
                        continue
                    for label in labels[child]:
                        found.add((label, start, i + 1))
                    if children[child] and (child, start) not in nxt:
                        nxt[(child, start)] = -1
                    for gap_node, size in gaps[child]:
                        key = (gap_node, start)
                        if nxt.get(key, -1) < size:
                            nxt[key] = size
            active = nxt
        return found


class PatternSet:
    """One entry's patterns on their own: ``search`` tells whether a normalised text matches."""

    def __init__(self, sequences: Iterable[Sequence_]) -> None:
        self.sequences = tuple(sequences)
        self._automaton = Automaton()
        for seq in self.sequences:
            self._automaton.add(seq, 0)

    def search(self, normalised: str) -> bool:
        return bool(self._automaton.scan(normalised.split()))

    def spans(self, normalised: str) -> list[tuple[int, int]]:
        return sorted((start, end) for _, start, end in self._automaton.scan(normalised.split()))


def compile_patterns(patterns: list[str], where: str) -> PatternSet:
    """An entry's patterns, expanded and checked; ``where`` names file and entry in errors."""
    return PatternSet(expand_patterns(patterns, where))

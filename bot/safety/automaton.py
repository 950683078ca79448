"""One word automaton for every pattern of every lexicon, read left to right in one pass.

The automaton accepts exactly the word sequences the patterns stand for
(``patterns.expand_patterns``), each under its entry's label, but it is built
from the parsed patterns without writing those sequences out, and it is the
smallest deterministic automaton that does so:

- a pattern is built from its last part to its first, onto what follows it:
  a choice becomes one edge per alternative, all leading to the one node for
  the rest of the phrase, so ``(a|b) (c|d) e`` has five edges, not four
  sequences of three words. Gaps are added up and dropped at either end of
  a phrase, as in the written-out sequences;
- nodes are shared by content (hash-consed): two nodes with the same labels
  and the same edges to the same nodes are one node, so all the phrases that
  end the same way share that ending;
- all patterns are merged into one root by a union that goes down edge by
  edge (memoised, so each set of nodes is merged once). Each node keeps at
  most one edge per symbol, as in a trie, so reading a word moves each live
  node to at most one node.

A message is read word by word, once, carrying the set of nodes still alive
with where their match started; how many can be alive at once depends on the
lexicons, not on the message. What a word matches (itself, the wildcards and
word expressions it fits) is worked out once per distinct word, and words
longer than ``MAX_WORD`` letters only ever match literally, so neither a
16 KB message of repeated crisis words nor one 16 KB "word" can slow it down.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.safety.inflect import bases
from bot.safety.patterns import ANY, Choice, Gap, Glob, Inflected, Pattern, Symbol, WordRegex, parse_patterns

MAX_WORD = 64  # longer words are matched literally only (no wildcard or regex)
MIN_STEM = 3  # a clitic prefix is only taken off a word that keeps this many letters
# An elision (a clitic written "t'", "l'" in a lexicon) is glued on when the apostrophe is
# dropped (t'as, l'envie) and only stands before a vowel or h. Read off any other word,
# French "t" would turn English "trapped" into "raped".
ELIDED_BEFORE = frozenset("aeiouyh")

_Key = tuple[frozenset[int], frozenset[tuple[Symbol, int]] | tuple[tuple[Symbol, int], ...]]


class _Builder:
    """Hash-consed nodes while the automaton is built; dropped once it is."""

    def __init__(self) -> None:
        self.labels: list[frozenset[int]] = []
        self.edges: list[dict[Symbol, int]] = []
        self._ids: dict[_Key, int] = {}
        self._unions: dict[frozenset[int], int] = {}

    def node(self, labels: frozenset[int], edges: dict[Symbol, int]) -> int:
        key = (labels, frozenset(edges.items()) if len(edges) > 1 else tuple(edges.items()))
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.labels)
            self.labels.append(labels)
            self.edges.append(edges)
        return found

    def union(self, nodes: Iterable[int]) -> int:
        """The node that accepts what any of ``nodes`` accepts."""
        group = frozenset(nodes)
        if len(group) == 1:
            return next(iter(group))
        if not group:
            return self.node(frozenset(), {})
        found = self._unions.get(group)
        if found is None:
            labels: frozenset[int] = frozenset().union(*(self.labels[n] for n in group))
            targets: dict[Symbol, set[int]] = {}
            for n in group:
                for sym, child in self.edges[n].items():
                    targets.setdefault(sym, set()).add(child)
            edges = {sym: self.union(children) for sym, children in targets.items()}
            found = self._unions[group] = self.node(labels, edges)
        return found

    def phrase(self, pattern: Pattern, tail: int) -> int | None:
        """The node for ``pattern`` followed by ``tail``; None when it has no words.

        Read from the right, each pending continuation is keyed by the gap
        written just before it (0 for none) and by whether the phrase has put
        a word in front of ``tail`` yet: a gap with nothing after it inside
        the phrase is dropped, neighbouring gaps add up, and the gaps left
        at the front are dropped at the end.
        """
        pending: dict[tuple[int, bool], set[int]] = {(0, False): {tail}}
        for part in reversed(pattern.parts):
            if isinstance(part, Gap):
                moved: dict[tuple[int, bool], set[int]] = {}
                for (gap, started), nodes in pending.items():
                    moved.setdefault((gap + part.size, True) if started else (0, False), set()).update(nodes)
                pending = moved
                continue
            conts = [self._after_gap(gap, self.union(nodes)) for (gap, _), nodes in pending.items()]
            made = {self.option(option, cont) for option in part.options for cont in conts}
            if part.optional:
                pending.setdefault((0, True), set()).update(made)
            else:
                pending = {(0, True): made}
        starts = {node for (_, started), nodes in pending.items() if started for node in nodes}
        return self.union(starts) if starts else None

    def _after_gap(self, gap: int, node: int) -> int:
        return self.node(frozenset(), {Gap(gap): node}) if gap else node

    def option(self, option: tuple[Symbol, ...] | Pattern, tail: int) -> int:
        if isinstance(option, Pattern):
            node = self.phrase(option, tail)
            assert node is not None  # an alternative without words fails parsing
            return node
        node = tail
        for sym in reversed(option):
            node = self.node(frozenset(), {sym: node})
        return node


class Automaton:
    """The patterns of many entries in one automaton, read left to right in one pass.

    ``add`` files a pattern under an integer label (the caller's index into
    its own table); ``scan`` returns every (label, start, end) found, all
    overlapping matches included. The automaton is built on the first
    ``scan`` (or ``size``) after the last ``add``. A node with no edges is
    never kept alive, so only matches that can still grow are carried to the
    next word.
    """

    def __init__(self) -> None:
        self._patterns: list[tuple[Pattern, int]] = []
        self._built = True
        self._children: list[dict[Symbol, int]] = [{}]
        self._labels: list[tuple[int, ...]] = [()]
        self._gaps: list[tuple[tuple[int, int], ...]] = [()]  # gap edges: (node, size)
        self._longest = 0
        self._prefix_globs: dict[str, list[Glob]] = {}
        self._suffix_globs: dict[str, list[Glob]] = {}
        self._inner_globs: list[Glob] = []
        self._regexes: list[WordRegex] = []
        self._inflected: set[str] = set()
        self._known: set[Symbol] = set()
        self._aliases: dict[str, tuple[str, ...]] = {}
        self._clitics: tuple[tuple[str, bool], ...] = ()  # (prefix, an elision)
        self._max_prefix = 0
        self._max_suffix = 0

    @property
    def size(self) -> int:
        """Nodes in the automaton, the root included."""
        self._build()
        return len(self._children)

    @property
    def longest(self) -> int:
        """The most words (a gap counting as one) of any sequence the patterns stand for."""
        self._build()
        return self._longest

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

    def _register_all(self, pattern: Pattern) -> None:
        for part in pattern.parts:
            if isinstance(part, Choice):
                for option in part.options:
                    if isinstance(option, Pattern):
                        self._register_all(option)
                    else:
                        for sym in option:
                            self._register(sym)

    def add(self, pattern: Pattern, label: int) -> None:
        """File ``pattern`` under ``label``."""
        self._register_all(pattern)
        self._patterns.append((pattern, label))
        self._built = False

    def _build(self) -> None:
        """Build every pattern added so far, merge them into one root and lay the nodes out for scanning.

        The builder's tables (every node by content, every union made) are
        dropped afterwards: only the nodes reachable from the root stay.
        """
        if self._built:
            return
        builder = _Builder()
        starts = [builder.phrase(pattern, builder.node(frozenset((label,)), {})) for pattern, label in self._patterns]
        root = builder.union(start for start in starts if start is not None)
        order = {root: 0}  # builder node -> scanning node, in breadth-first order
        queue = [root]
        for node in queue:
            for child in builder.edges[node].values():
                if child not in order:
                    order[child] = len(queue)
                    queue.append(child)
        children: list[dict[Symbol, int]] = []
        labels: list[tuple[int, ...]] = []
        gaps: list[tuple[tuple[int, int], ...]] = []
        for node in queue:
            edges = builder.edges[node]
            children.append({sym: order[c] for sym, c in edges.items() if not isinstance(sym, Gap)})
            gaps.append(tuple((order[c], sym.size) for sym, c in edges.items() if isinstance(sym, Gap)))
            labels.append(tuple(sorted(builder.labels[node])))
        self._children, self._labels, self._gaps = children, labels, gaps
        self._longest = _longest_path(children, gaps)
        self._built = True

    def alias(self, variant: str, canonical: str) -> None:
        """Read the word ``variant`` as ``canonical`` too (a common misspelling: "sucide")."""
        if variant != canonical and canonical not in self._aliases.get(variant, ()):
            self._aliases[variant] = (*self._aliases.get(variant, ()), canonical)

    def clitic(self, prefix: str) -> None:
        """Also read a word without ``prefix`` when it starts with it (Arabic "و" and: "وخالي");
        a prefix ending in an apostrophe is an elision, read off only before a vowel or h."""
        parsed = (prefix.rstrip("'"), prefix.endswith("'"))
        if parsed[0] and parsed not in self._clitics:
            self._clitics = (*self._clitics, parsed)

    def _forms(self, word: str) -> list[str]:
        forms = [word]
        for prefix, elision in self._clitics:
            if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
                stem = word[len(prefix) :]
                if elision and stem[0] not in ELIDED_BEFORE:
                    continue
                forms.append(stem)
        return [alias for form in forms for alias in (form, *self._aliases.get(form, ()))]

    def symbols(self, word: str) -> tuple[Symbol, ...]:
        """The symbols one word of a message matches (always itself and ANY).

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
        with its full budget, so the gap can skip nothing. One node may be
        reached both ways at once (a shared ending); it then keeps the larger
        budget, which allows everything the smaller one does.
        """
        self._build()
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


def _longest_path(children: list[dict[Symbol, int]], gaps: list[tuple[tuple[int, int], ...]]) -> int:
    """The most edges on a path from the root (node 0) of an acyclic automaton."""
    depth: dict[int, int] = {}
    stack: list[tuple[int, bool]] = [(0, False)]
    while stack:
        node, done = stack.pop()
        if node in depth:
            continue
        below = [*children[node].values(), *(g for g, _ in gaps[node])]
        if done:
            depth[node] = max((depth[c] + 1 for c in below), default=0)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in below if c not in depth)
    return depth[0]


class PatternSet:
    """One entry's patterns on their own: ``search`` tells whether a normalised text matches."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = tuple(patterns)
        self._automaton = Automaton()
        for pattern in self.patterns:
            self._automaton.add(pattern, 0)

    def search(self, normalised: str) -> bool:
        return bool(self._automaton.scan(normalised.split()))

    def spans(self, normalised: str) -> list[tuple[int, int]]:
        return sorted((start, end) for _, start, end in self._automaton.scan(normalised.split()))


def compile_patterns(patterns: list[str], where: str) -> PatternSet:
    """An entry's patterns, parsed and checked; ``where`` names file and entry in errors."""
    return PatternSet(parse_patterns(patterns, where))

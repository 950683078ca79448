"""Finding lexicon hits in one normalised message: idioms, negation and person.

All entries, benign idioms, negation cues and person words of every applied
lexicon live in one word automaton (``automaton.Automaton``), so a message is
read once, in time linear in its length. Then, in this order:

1. hits that overlap a benign idiom ("nataka kufa na kicheko", "dying to see
   you", "I'm fine now") are dropped: the idiom is the better reading;
2. each remaining hit is checked for negation and past-time scope in its own
   language's rules ("would never", "used to", "years ago", "has passed");
3. a suicide, self-harm or command-hallucination hit whose subject is someone
   else ("my sister texted me she wants to end it") becomes ``third_party``;
4. a suicide or self-harm hit in someone else's reported words ("my friend
   texted 'i want to die'", "alisema nataka kujiua") becomes ``third_party``
   too, though its words say "I".

Each step looks at most a fixed number of words around a hit, so the whole
pass stays linear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.safety.automaton import Automaton
from bot.safety.lexicon import Entry, Lexicon
from bot.safety.normalize import clause_marks, normalise
from bot.safety.patterns import Pattern

PERSONAL = frozenset({"suicide", "self_harm", "command_hallucination"})
REPORTABLE = frozenset({"suicide", "self_harm"})  # never command voices: the voices' words are the listener's risk
COMMAND = "command_hallucination"
THIRD_PARTY = "third_party"

_ENTRY, _BENIGN, _BEFORE, _AFTER, _PSEUDO, _FIRST, _THIRD, _REPORTED = range(8)


@dataclass(frozen=True)
class Hit:
    """One entry matched at words [start, end).

    ``category`` is the entry's category, or ``third_party`` when the words
    are about someone else.
    """

    entry: Entry
    start: int
    end: int
    negated: bool = False
    category: str | None = None

    @property
    def in_progress(self) -> bool:
        return self.entry.in_progress


@dataclass
class _Cues:
    """The cue positions of one language in one message."""

    before_ends: set[int]
    after_starts: dict[int, int]  # start -> longest end
    first_ends: set[int]
    third_ends: set[int]
    first_spans: dict[int, int]  # start -> shortest end
    reported: dict[int, set[int]] = field(default_factory=dict)  # end -> starts of verbs of saying
    needs_quotes: bool = False  # reported words need quotation marks in this language


def _order(hit: tuple[Entry, int, int]) -> tuple[int, int, str]:
    return hit[1], hit[2], hit[0].id


class Matcher:
    """Every applied lexicon compiled into one automaton."""

    def __init__(self, lexicons: Iterable[Lexicon]) -> None:
        self.lexicons = {lx.locale: lx for lx in lexicons}
        self._labels: list[tuple[int, str, Entry | None]] = []
        self.automaton = Automaton()
        for lexicon in self.lexicons.values():
            for entry in lexicon.entries:
                self._add(_ENTRY, lexicon.locale, entry, entry.patterns)
            for idiom in lexicon.benign:
                self._add(_BENIGN, lexicon.locale, idiom, idiom.patterns)
            neg, persons = lexicon.negation, lexicon.persons
            for kind, patterns in (
                (_BEFORE, neg.before),
                (_AFTER, neg.after),
                (_PSEUDO, neg.pseudo),
                (_FIRST, persons.first),
                (_THIRD, persons.third),
                (_REPORTED, persons.reported),
            ):
                self._add(kind, lexicon.locale, None, patterns)
            for variant, canonical in lexicon.spellings:
                self.automaton.alias(variant, canonical)
            for prefix in lexicon.clitics:
                self.automaton.clitic(prefix)
            for stem in lexicon.clitic_stems:  # short words the clitic rule leaves whole
                for prefix in lexicon.clitics:
                    self.automaton.alias(prefix.rstrip("'") + stem, stem)
        self._longest = max(self.automaton.longest, 1)
        # How far the reading of one hit can look: its negation and person
        # windows, the cues in them, the pseudo-cues around those and hits of
        # other languages on the same words. Two hits of one entry with the
        # same words this far around them are read the same way.
        windows = [w for lx in self.lexicons.values() for w in (lx.negation.window, lx.persons.window)]
        self._reach = max(windows, default=0) + 3 * self._longest + 1

    def _add(self, kind: int, locale: str, entry: Entry | None, patterns: Iterable[Pattern]) -> None:
        label = len(self._labels)
        self._labels.append((kind, locale, entry))
        for pattern in patterns:
            self.automaton.add(pattern, label)

    def find(self, text: str, primary: str | None = None, source: str | None = None) -> tuple[list[Hit], list[Entry]]:
        """Hits in one normalised text, and the benign idioms that masked some.

        Negation and person belong to the language of the text, not to the
        lexicon that happened to know the word: "suicid*" is in the French
        lexicon too, yet "I'm not suicidal" is negated by English rules. So a
        hit is read with its own lexicon's rules, the message language's
        (``primary``) and those of every lexicon with a hit on the same words.

        ``source`` is the message as written, before normalisation: its quotation marks and
        clause punctuation tell reported words from the speaker's own (``_reported``).
        """
        words = text.split()
        n = len(words)
        found = self.automaton.scan(words)
        raw: list[tuple[Entry, int, int]] = []
        idioms_at: dict[int, list[Entry]] = {}
        pseudo: dict[str, dict[int, int]] = {}
        cue_spans: list[tuple[int, str, int, int]] = []
        for label, start, end in found:
            kind, locale, entry = self._labels[label]
            if kind == _ENTRY and entry is not None:
                raw.append((entry, start, end))
            elif kind == _BENIGN and entry is not None:
                for pos in range(start, end):
                    idioms_at.setdefault(pos, []).append(entry)
            elif kind == _PSEUDO:
                spans = pseudo.setdefault(locale, {})
                spans[start] = max(spans.get(start, 0), end)
            else:
                cue_spans.append((kind, locale, start, end))
        cues = self._cues(cue_spans, pseudo)

        used: dict[str, Entry] = {}
        kept: list[tuple[Entry, int, int]] = []
        for entry, start, end in raw:
            covering = [idiom for pos in range(start, end) for idiom in idioms_at.get(pos, ())] if idioms_at else []
            if covering:
                used.update((idiom.id, idiom) for idiom in covering)
            else:
                kept.append((entry, start, end))
        kept.sort(key=_order)

        hit_locales = {entry.locale for entry, _, _ in kept}
        locales_at: dict[int, set[str]] = {}
        if len(hit_locales) > 1:  # only then can another language's rules apply to a hit
            for entry, start, end in kept:
                for pos in range(start, end):
                    locales_at.setdefault(pos, set()).add(entry.locale)
        extra = {primary} if primary in self.lexicons else set()

        hits = []
        reach = self._reach
        read: dict[tuple[object, ...], tuple[bool, str | None]] = {}
        for entry, start, end in kept:
            first = max(0, start - reach)
            key = (entry.id, start - first, end - start, tuple(words[first : end + reach]))
            known = read.get(key)
            if known is not None:
                hits.append(Hit(entry, start, end, known[0], known[1]))
                continue
            locales = {entry.locale} | extra
            if locales_at:
                locales = locales.union(*(locales_at[pos] for pos in range(start, end)))
            ordered = sorted(locales) if len(locales) > 1 else list(locales)
            negated = entry.negated or any(self._negated(start, end, words, n, loc, cues.get(loc)) for loc in ordered)
            category = entry.category
            if category in PERSONAL and not negated and self._about_someone_else(start, end, ordered, cues):
                category = THIRD_PARTY
            read[key] = (negated, category)
            hits.append(Hit(entry, start, end, negated, category))
        readers = {hit.entry.locale for hit in hits} | extra
        applied = [cues[loc] for loc in sorted(readers) if loc in cues]
        window = max((self.lexicons[loc].persons.window for loc in readers if loc in self.lexicons), default=0)
        hits = _reported(hits, applied, window, words, source)
        return _one_subject(hits, applied), list(used.values())

    def _cues(self, spans: list[tuple[int, str, int, int]], pseudo: dict[str, dict[int, int]]) -> dict[str, _Cues]:
        out: dict[str, _Cues] = {}
        longest = max((end - start for spans_ in pseudo.values() for start, end in spans_.items()), default=0)
        for kind, locale, start, end in spans:
            cues = out.get(locale)
            if cues is None:
                cues = out[locale] = _Cues(set(), {}, set(), set(), {},
                                           needs_quotes=self.lexicons[locale].persons.reported_needs_quotes)
            if kind == _REPORTED:
                cues.reported.setdefault(end, set()).add(start)
                continue
            if kind in (_BEFORE, _AFTER):
                own = pseudo.get(locale, {})
                inside = any(own.get(s, -1) >= end for s in range(max(0, start - longest), start + 1))
                if inside:
                    continue  # "don't know" is not a negation
                if kind == _BEFORE:
                    cues.before_ends.add(end)
                else:
                    cues.after_starts[start] = max(cues.after_starts.get(start, end), end)
            elif kind == _FIRST:
                cues.first_ends.add(end)
                cues.first_spans[start] = min(cues.first_spans.get(start, end), end)
            elif kind == _THIRD:
                cues.third_ends.add(end)
        return out

    def _negated(self, start: int, end: int, words: list[str], n: int, locale: str, cues: _Cues | None) -> bool:
        """A cue scopes over the hit with at most ``window`` filler words between.

        An ``after`` cue of two words or more may also start on the hit's last word and run on
        past it: "... marne ka man tha, par ab nahi" when the hit already took "tha". A cue of
        one word there is the hit's own word, not a negation of it ("jeena nahi").
        """
        if cues is None:
            return False
        if cues.after_starts.get(end - 1, end) > end:
            return True
        negation = self.lexicons[locale].negation
        pos, gap = start, 0
        while True:
            if pos in cues.before_ends:
                return True
            if gap == negation.window or pos == 0 or words[pos - 1] not in negation.fillers:
                break
            pos, gap = pos - 1, gap + 1
        pos, gap = end, 0
        while True:
            if pos in cues.after_starts:
                return True
            if gap == negation.window or pos >= n or words[pos] not in negation.fillers:
                return False
            pos, gap = pos + 1, gap + 1

    def _about_someone_else(self, start: int, end: int, locales: list[str], cues: dict[str, _Cues]) -> bool:
        """The nearest person word before the hit names someone else, and none inside names the speaker."""
        applied = [(cues[loc], self.lexicons[loc].persons.window) for loc in locales if loc in cues]
        if not applied:
            return False
        for own, _ in applied:
            if any(own.first_spans.get(pos, end + 1) <= end for pos in range(start, end)):
                return False
        window = max(w for _, w in applied)
        # from the hit's first word back: a person word inside the hit is its
        # own subject ("the voices tell me...") or object, not who is at risk
        for pos in range(start, max(0, start - window) - 1, -1):
            if any(pos in own.first_ends for own, _ in applied):
                return False
            if any(pos in own.third_ends for own, _ in applied):
                return True
        return False


def _one_subject(hits: list[Hit], cues: list[_Cues]) -> list[Hit]:
    """A message about someone else, with no word for the speaker, is about them throughout.

    "My brother said he can't take living any more and will end it all": the
    second clause has no subject of its own, so it stays with the brother.
    One first-person word anywhere ("... and I want to die too"), in the
    languages of the hits and of the message, keeps every hit that is not
    clearly someone else's as the speaker's own.
    """
    if not any(h.category == THIRD_PARTY and not h.negated for h in hits):
        return hits
    if any(c.first_ends for c in cues):
        return hits
    return [replace(h, category=THIRD_PARTY) if h.category in PERSONAL and not h.negated else h for h in hits]


def _reported(hits: list[Hit], cues: list[_Cues], window: int, words: list[str], source: str | None) -> list[Hit]:
    """Someone else's words, quoted or reported, are about them: ``third_party``.

    A suicide or self-harm hit is reported when a verb of saying (``persons.reported``) whose
    subject is not the speaker stands before it and either a quotation opens right after the
    verb with no clause break before the hit ("my friend texted 'i want to die'", "she said:
    I'm going to end it"), or the hit follows the verb at once ("alisema nataka kujiua",
    "قال بدي اموت"), or with only first-person words between ("wuxuu yiri waan is dilayaa"),
    in a language that quotes without marks (``persons.reported_needs_quotes``): English
    shifts the pronoun when it reports, so an unquoted "my mum said I cut myself" is the
    speaker's. "My boyfriend said he'd leave
    me, I want to die" stays the speaker's: his words end at the comma. A message with command
    voices is never read this way: what the voices say is the listener's risk.
    """
    if not any(c.reported for c in cues) or not any(h.category in REPORTABLE and not h.negated for h in hits):
        return hits
    if any(h.entry.category == COMMAND and not h.negated for h in hits):
        return hits
    opens: frozenset[int] = frozenset()
    breaks: frozenset[int] = frozenset()
    if source is not None and normalise(source).split() == words:  # the plain reading, not leet-decoded
        opens, breaks = clause_marks(source)
    out = []
    for hit in hits:
        if hit.category in REPORTABLE and not hit.negated and _in_reported_words(hit.start, cues, window, opens, breaks):
            hit = replace(hit, category=THIRD_PARTY)
        out.append(hit)
    return out


def _in_reported_words(start: int, cues: list[_Cues], window: int, opens: frozenset[int],
                       breaks: frozenset[int]) -> bool:
    """A verb of saying by someone else ends within ``window`` words before the hit, in its clause."""
    for end in range(start, max(0, start - window) - 1, -1):
        if end + 1 <= start and end + 1 in breaks:
            return False  # punctuation between the verb and the hit: another clause
        for own in cues:
            for verb in own.reported.get(end, ()):
                if not _someone_else_speaks(verb, cues, window):
                    continue
                if end in opens or (not own.needs_quotes and _only_first_person(end, start, cues)):
                    return True
    return False


def _someone_else_speaks(verb: int, cues: list[_Cues], window: int) -> bool:
    """No first-person word is the nearest person word before the verb of saying."""
    for pos in range(verb, max(0, verb - window) - 1, -1):
        if any(pos in c.first_ends for c in cues):
            return False
        if any(pos in c.third_ends for c in cues):
            return True
    return True


def _only_first_person(begin: int, end: int, cues: list[_Cues]) -> bool:
    """Whether words [begin, end) are all first-person words (none at all also counts)."""
    pos = begin
    while pos < end:
        step = min((c.first_spans[pos] for c in cues if pos in c.first_spans), default=None)
        if step is None:
            return False
        pos = step
    return True

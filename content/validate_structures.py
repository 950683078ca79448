"""Checks on structures: modules, courses, screening instruments, keyword sets, glossaries."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator

from content.problems import Problem
from content.problems import error as _error
from content.problems import warning as _warning
from content.schema import (
    CHOICE_ACTIONS,
    KEYWORD_ACTIONS,
    OPTIONAL_KEYWORD_ACTIONS,
    Course,
    Library,
    Message,
    Module,
    Screening,
    Status,
    screening_message_ids,
)

# Carriers and Twilio honour these opt-out words in English; they must always work.
CARRIER_STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
CARRIER_START_WORDS = ("START", "UNSTOP", "YES")
CARRIER_HELP_WORDS = ("HELP", "INFO")
# Words that may legitimately belong to two actions in one set (carriers treat YES as opt-in).
ALLOWED_OVERLAPS = frozenset({frozenset({"start", "yes"})})
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# Marks people leave out when they type: Latin accents, Arabic short vowels and tatweel, the
# Devanagari nukta. Other scripts' vowel signs are letters of the word ("रोको" is not "रुको").
_OPTIONAL_MARKS = re.compile("[\u0300-\u036f\u064b-\u065f\u0670\u0640\u093c]")
_SAME_LETTER = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "\u0901": "\u0902"})


def normalise_keyword(text: str) -> str:
    """Case, accents and punctuation folded away, so "¡Ayuda!" matches AYUDA, "हाँ" matches
    "हां" and "نَعَم" matches "نعم"; the vowel signs of Devanagari and other scripts stay."""
    decomposed = _OPTIONAL_MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))
    bare = unicodedata.normalize("NFC", decomposed).translate(_SAME_LETTER)
    kept = "".join(ch if ch.isalnum() or unicodedata.category(ch)[0] == "M" else " " for ch in bare)
    return " ".join(kept.split())


def check_structures(library: Library) -> Iterator[Problem]:
    """Every structure check, in a stable order."""
    messages = {m.id: m for m in library.messages}
    yield from _check_modules(library, messages)
    for course in library.courses:
        yield from _check_course(course, messages)
    screening_ids = {s.id for s in library.screenings}
    for screening in library.screenings:
        yield from _check_screening(screening, messages, screening_ids)
    yield from _check_keywords(library)
    for glossary in library.glossaries:
        for term, translation in glossary.terms:
            if not term.strip() or not translation.strip():
                yield _error(
                    "glossary",
                    f"glossary ({glossary.locale}) has an empty term or translation near '{term}'; fill both in",
                    origin=glossary.origin,
                )


def _references(
    what: str, structure: Module | Course | Screening, ids: list[str], messages: dict[str, Message]
) -> Iterator[Problem]:
    for message_id in ids:
        message = messages.get(message_id)
        if message is None:
            yield _error(
                "reference",
                f"{what} '{structure.id}' refers to '{message_id}', which does not exist",
                origin=structure.origin,
            )
        elif structure.status == Status.APPROVED and message.text(message.source_locale) is None:
            yield _error(
                "unapproved-step",
                f"{what} '{structure.id}' is approved but its text '{message_id}' has no "
                f"approved {message.source_locale} version; approve the text or set the {what} to draft",
                item_id=message_id,
                origin=structure.origin,
            )


def _check_modules(library: Library, messages: dict[str, Message]) -> Iterator[Problem]:
    menu_numbers: dict[int, str] = {}
    modules = {m.id for m in library.modules}
    targets = {
        "module": modules,
        "screening": {s.id for s in library.screenings},
        "course": {c.id for c in library.courses},
    }
    for module in library.modules:
        where = {"origin": module.origin}
        if not module.steps:
            yield _error("module", f"module '{module.id}' has no steps", **where)
        yield from _references("module", module, [module.title_id, *module.steps], messages)
        if module.menu_number is not None and module.status == Status.APPROVED:
            if module.menu_number in menu_numbers:
                yield _error(
                    "menu",
                    f"modules '{menu_numbers[module.menu_number]}' and '{module.id}' both use menu "
                    f"number {module.menu_number}; give each its own",
                    **where,
                )
            menu_numbers[module.menu_number] = module.id
        for choice in module.choices:
            if choice.action not in CHOICE_ACTIONS:
                yield _error(
                    "choice",
                    f"module '{module.id}': choice action '{choice.action}' is not one of {', '.join(CHOICE_ACTIONS)}",
                    **where,
                )
            elif choice.action in targets and choice.target not in targets[choice.action]:
                yield _error(
                    "choice",
                    f"module '{module.id}': choice points to {choice.action} '{choice.target}', which does not exist",
                    **where,
                )


def _check_course(course: Course, messages: dict[str, Message]) -> Iterator[Problem]:
    where = {"origin": course.origin}
    yield from _references("course", course, [course.title_id, *(s.message_id for s in course.steps)], messages)
    days = [s.day for s in course.steps]
    if not days:
        yield _error("course", f"course '{course.id}' has no steps", **where)
    if any(d < 0 for d in days) or days != sorted(days):
        yield _error("course", f"course '{course.id}': days must be 0 or more and in order, found {days}", **where)
    if not _TIME.match(course.send_time):
        yield _error("course", f"course '{course.id}': send_time '{course.send_time}' should be HH:MM (24 h)", **where)
    if course.repeat_every_days is not None and course.repeat_every_days < 1:
        yield _error("course", f"course '{course.id}': repeat_every_days must be 1 or more", **where)


def _check_screening(screening: Screening, messages: dict[str, Message], screening_ids: set[str]) -> Iterator[Problem]:
    where = {"origin": screening.origin}
    yield from _references("screening", screening, screening_message_ids(screening), messages)
    values = sorted(o.value for o in screening.scale)
    if not values or values != list(range(values[0], values[0] + len(values))) or values[0] != 0:
        yield _error(
            "screening",
            f"screening '{screening.id}': answer scale must be 0, 1, 2... without gaps, found {values}",
            **where,
        )
        return
    if not screening.questions:
        yield _error("screening", f"screening '{screening.id}' has no questions", **where)
        return
    for number, question in enumerate(screening.questions, 1):
        if question.crisis_if_above is not None and not 0 <= question.crisis_if_above < values[-1]:
            yield _error(
                "screening",
                f"screening '{screening.id}' item {number}: crisis_if_above "
                f"{question.crisis_if_above} is outside the scale {values[0]}-{values[-1]}",
                **where,
            )
    expected, top = 0, screening.max_score
    for band in sorted(screening.bands, key=lambda b: b.min):
        if band.min > band.max:
            yield _error(
                "bands",
                f"screening '{screening.id}': band '{band.severity}' runs from {band.min} down "
                f"to {band.max}; swap them",
                **where,
            )
        elif band.min > expected:
            yield _error(
                "bands",
                f"screening '{screening.id}': scores {expected}-{band.min - 1} fall in no band; "
                "extend a band to cover them",
                **where,
            )
        elif band.min < expected:
            yield _error(
                "bands",
                f"screening '{screening.id}': band '{band.severity}' overlaps the band before "
                f"it at {band.min}-{expected - 1}; make them meet without overlapping",
                **where,
            )
        expected = max(expected, band.max + 1)
        if band.follow_up is not None and band.follow_up not in screening_ids:
            yield _error(
                "bands",
                f"screening '{screening.id}': band '{band.severity}' follows up with unknown "
                f"screening '{band.follow_up}'",
                **where,
            )
    if expected <= top:
        yield _error(
            "bands",
            f"screening '{screening.id}': scores {expected}-{top} fall in no band (the maximum "
            f"score is {top}); extend the last band",
            **where,
        )
    elif expected > top + 1:
        yield _error(
            "bands",
            f"screening '{screening.id}': bands go up to {expected - 1}, above the maximum score {top}",
            **where,
        )


def _check_keywords(library: Library) -> Iterator[Problem]:
    approved_locales = set()
    for keyword_set in library.keyword_sets:
        where = {"origin": keyword_set.origin, "locale": keyword_set.locale, "item_id": "keywords"}
        owner: dict[str, set[str]] = defaultdict(set)
        for action, words in keyword_set.actions:
            if action not in KEYWORD_ACTIONS:
                yield _error(
                    "keywords", f"unknown action '{action}' (use one of {', '.join(KEYWORD_ACTIONS)})", **where
                )
            for word in words:
                normal = normalise_keyword(word)
                if not normal:
                    yield _error("keywords", f"'{word}' under {action} has no letters or digits", **where)
                owner[normal].add(action)
        for word, actions in owner.items():
            if len(actions) > 1 and frozenset(actions) not in ALLOWED_OVERLAPS:
                yield _error(
                    "keywords",
                    f"'{word.upper()}' is listed under {' and '.join(sorted(actions))}; "
                    "a reply can only mean one thing",
                    **where,
                )
        if keyword_set.status == Status.APPROVED:
            approved_locales.add(keyword_set.locale)
            if not keyword_set.words("stop"):
                yield _error("keywords", "no 'stop' words: people must be able to opt out in every language", **where)
            missing = [a for a in KEYWORD_ACTIONS if not keyword_set.words(a) and a not in OPTIONAL_KEYWORD_ACTIONS]
            if missing:
                yield _warning(
                    "keywords",
                    f"no words for {', '.join(missing)}; people writing in {keyword_set.locale} cannot use those",
                    **where,
                )
        if keyword_set.locale == "en":
            for action, required in (
                ("stop", CARRIER_STOP_WORDS),
                ("start", CARRIER_START_WORDS),
                ("help", CARRIER_HELP_WORDS),
            ):
                absent = [
                    w
                    for w in required
                    if normalise_keyword(w) not in {normalise_keyword(x) for x in keyword_set.words(action)}
                ]
                if absent:
                    yield _error("keywords", f"carrier-standard {action} words missing: {', '.join(absent)}", **where)
    for region in library.regions:
        for locale in region.locales:
            if locale not in approved_locales:
                yield _error(
                    "keywords",
                    f"region '{region.id}' enables {locale} but {locale} has no approved keyword "
                    "set; opt-out words must work in every enabled language",
                    origin=region.origin,
                )

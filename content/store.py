"""The in-memory content store the conversation engine reads from.

Built once per process from a validated library (or, later, from database rows) and
then only read, so it is safe to share between threads. Sending goes through
:meth:`ContentStore.render`, which only ever returns approved text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from content.errors import ContentInvalid, ContentMissing, ContentNotApproved
from content.loader import load_library
from content.render import MenuEntry, Rendered, fill
from content.schema import (
    CHANNELS,
    Course,
    Glossary,
    Helpline,
    KeywordSet,
    Library,
    Message,
    Module,
    Pathway,
    Region,
    Screening,
    Settings,
    Status,
    Text,
)
from content.validate import validate
from content.validate_structures import normalise_keyword

log = logging.getLogger(__name__)

# When one reply matches several actions (YES is both "yes" and carrier opt-in "start"),
# the first in this order wins; keyword_actions() gives them all.
ACTION_PRIORITY = (
    "stop",
    "yes",
    "no",
    "unsure",
    "start",
    "help",
    "talk",
    "bot",
    "data",
    "delete",
    "menu",
    "language",
    "region",
    "next",
    "back",
    "pause",
    "resume",
    "time",
)

Item = Message | Module | Course | Screening | KeywordSet | Glossary | Region


class ContentStore:
    """Read access to approved content, in a person's language, for a channel."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._messages = {m.id: m for m in library.messages}
        self._modules = {m.id: m for m in library.modules}
        self._courses = {c.id: c for c in library.courses}
        self._screenings = {s.id: s for s in library.screenings}
        self._regions = {r.id: r for r in library.regions}
        self._keywords = _keyword_index(library.keyword_sets)

    @classmethod
    def from_library(cls, path: Path) -> ContentStore:
        """Load and validate a content directory; raise ContentInvalid listing every error."""
        library = load_library(path)
        report = validate(library)
        if not report.ok:
            raise ContentInvalid(f"content in {path} has {report.summary()}", [str(p) for p in report.errors])
        log.info("content loaded", extra={"messages": len(library.messages), "warnings": len(report.warnings)})
        return cls(library)

    @classmethod
    def from_items(cls, items: Iterable[Item], settings: Settings | None = None) -> ContentStore:
        """A store from loose items (tests, database rows); not validated."""
        groups: dict[type, list[Item]] = {
            t: [] for t in (Message, Module, Course, Screening, KeywordSet, Glossary, Region)
        }
        for item in items:
            groups[type(item)].append(item)
        library = Library(settings or Settings(), *(tuple(groups[t]) for t in groups))  # type: ignore[arg-type]
        return cls(library.canonical())

    @property
    def default_locale(self) -> str:
        """The locale used when nothing is known about a person."""
        return self.library.settings.default_locale

    def locales(self) -> list[str]:
        """Every locale that has content."""
        return self.library.locales()

    def message(self, item_id: str) -> Message:
        """The message with all its texts (for the portal and previews)."""
        try:
            return self._messages[item_id]
        except KeyError:
            raise ContentMissing(f"no content item '{item_id}'") from None

    def render(
        self,
        item_id: str,
        locale: str,
        channel: str,
        values: Mapping[str, str] | None = None,
        fallbacks: Sequence[str] = (),
    ) -> Rendered:
        """Approved text for a channel in the first locale that has it: ``locale``, then
        ``fallbacks``, then the item's source locale. Raises ContentNotApproved when text
        exists but none is approved, ContentMissing when there is none at all."""
        message = self.message(item_id)
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        tried = list(dict.fromkeys([locale, *fallbacks, message.source_locale]))
        for candidate in tried:
            text = message.text(candidate, approved_only=True)
            if text is not None:
                return _rendered(message, text, channel, values)
        if any(message.text(candidate, approved_only=False) for candidate in tried):
            raise ContentNotApproved(f"'{item_id}' has no approved text in {', '.join(tried)}")
        raise ContentMissing(f"'{item_id}' has no text in {', '.join(tried)}")

    def preview(self, item_id: str, locale: str, channel: str, values: Mapping[str, str] | None = None) -> Rendered:
        """The newest text in a locale whatever its status, for editors and reviewers; never send it."""
        message = self.message(item_id)
        text = message.text(locale, approved_only=False) or message.source
        if text is None:
            raise ContentMissing(f"'{item_id}' has no text to preview")
        return _rendered(message, text, channel, values)

    def keyword_actions(self, text: str, locales: Sequence[str]) -> list[str]:
        """Every action a whole-message reply matches, most important first.

        Keyword sets of the given locales are consulted when approved. Opt-out is
        consulted in every non-retired set of every locale: a STOP must never be missed.
        """
        normal = normalise_keyword(text)
        if not normal:
            return []
        forms = {normal, normal.replace(" ", "")}
        found: set[str] = set()
        for locale in locales:
            index = self._keywords["approved"].get(locale, {})
            for form in forms:
                found |= index.get(form, set())
        if any(form in self._keywords["stop"] for form in forms):
            found.add("stop")
        return [action for action in ACTION_PRIORITY if action in found]

    def keyword_locales(self, text: str, locales: Sequence[str]) -> list[str]:
        """The locales among ``locales`` whose approved keyword set has this whole-message reply.

        "MSAADA" is Swahili only; "MENU" is English, Swahili and French alike. The engine uses
        it to answer a first message that is a keyword in the language it was written in.
        """
        normal = normalise_keyword(text)
        if not normal:
            return []
        forms = {normal, normal.replace(" ", "")}
        return [locale for locale in locales
                if any(form in self._keywords["approved"].get(locale, {}) for form in forms)]

    def keyword_action(self, text: str, locales: Sequence[str]) -> str | None:
        """The action a whole-message reply asks for, or None (then it is conversation)."""
        actions = self.keyword_actions(text, locales)
        return actions[0] if actions else None

    def menu(self, locale: str, fallbacks: Sequence[str] = ()) -> list[MenuEntry]:
        """Approved modules that are on the main menu, by number, with titles in ``locale``
        (or the first of ``fallbacks``, then the default locale, that has an approved title)."""
        entries = []
        modules = sorted(
            (m for m in self._modules.values() if m.status == Status.APPROVED and m.menu_number is not None),
            key=lambda m: m.menu_number or 0,
        )
        for module in modules:
            title = self.render(module.title_id, locale, "sms", fallbacks=(*fallbacks, self.default_locale))
            entries.append(MenuEntry(module.menu_number or 0, module.id, title.text))
        return entries

    def module(self, module_id: str) -> Module:
        """An approved module."""
        return _approved(self._modules, module_id, "module")

    def screening(self, instrument_id: str) -> Screening:
        """An approved screening instrument."""
        return _approved(self._screenings, instrument_id, "screening instrument")

    def course(self, course_id: str) -> Course:
        """An approved course."""
        return _approved(self._courses, course_id, "course")

    def region(self, region_id: str) -> Region:
        """A region's settings."""
        try:
            return self._regions[region_id]
        except KeyError:
            raise ContentMissing(f"no region '{region_id}'") from None

    def regions(self) -> list[Region]:
        """Every region the deployment serves, in the library's order."""
        return list(self.library.regions)

    def pathway(self, category: str | None) -> Pathway | None:
        """The crisis pathway of a risk category (library.yaml), or None when there is none."""
        return self.library.settings.pathway(category)

    def helplines(self, region_id: str) -> list[Helpline]:
        """The region's helplines, in the order to show them."""
        return list(self.region(region_id).helplines)

    def glossary(self, locale: str, include_drafts: bool = False) -> dict[str, str]:
        """Preferred terms in ``locale``, keyed by source term (empty when none).

        Approved terms only, unless ``include_drafts`` (say, for machine translation
        while a community reviewer has not yet approved the term list).
        """
        usable = [
            g
            for g in self.library.glossaries
            if g.locale == locale and (g.status == Status.APPROVED or (include_drafts and g.status != Status.RETIRED))
        ]
        return dict(max(usable, key=lambda g: (g.status == Status.APPROVED, g.version)).terms) if usable else {}


def _rendered(message: Message, text: Text, channel: str, values: Mapping[str, str] | None) -> Rendered:
    body = fill(text.body(channel), values, message.id)
    return Rendered(body, f"{message.id}@{text.version}", text.locale, message.id, text.version, text.status.value)


def _approved(table: Mapping[str, Module | Course | Screening], key: str, what: str) -> Module | Course | Screening:
    if key not in table:
        raise ContentMissing(f"no {what} '{key}'")
    item = table[key]
    if item.status != Status.APPROVED:
        raise ContentNotApproved(f"{what} '{key}' is {item.status.value}, not approved")
    return item


def _keyword_index(keyword_sets: Iterable[KeywordSet]) -> dict[str, dict]:
    """Normalised word -> actions: per locale for approved sets, and all opt-out words."""
    approved: dict[str, dict[str, set[str]]] = {}
    newest: dict[str, KeywordSet] = {}
    stop: set[str] = set()
    for keyword_set in keyword_sets:
        if keyword_set.status == Status.RETIRED:
            continue
        stop |= {normalise_keyword(w) for w in keyword_set.words("stop")}
        if keyword_set.status == Status.APPROVED:
            current = newest.get(keyword_set.locale)
            if current is None or keyword_set.version > current.version:
                newest[keyword_set.locale] = keyword_set
    for locale, keyword_set in newest.items():
        index: dict[str, set[str]] = {}
        for action, words in keyword_set.actions:
            for word in words:
                normal = normalise_keyword(word)
                index.setdefault(normal, set()).add(action)
                index.setdefault(normal.replace(" ", ""), set()).add(action)
        approved[locale] = index
    return {"approved": approved, "stop": stop | {s.replace(" ", "") for s in stop}}

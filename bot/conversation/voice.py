"""How the conversation says things: what every flow shares.

A ``Voice`` holds the content and the deployment's settings that decide wording (the served
locales, the default region, the consent item), never per-person data. It renders approved
content in the person's language with their region's values (helplines, the emergency number,
an honest response time), falling back through the languages they read, and it says the
replies more than one flow gives: the main menu. Flows take a Voice; none of them knows the
engine that runs them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from bot.conversation import response_time
from bot.conversation.locales import fallback_chain
from bot.conversation.types import MENU, OFFER, Content, Outcome, Reply, Turn
from content.errors import ContentMissing
from content.pathways import general
from content.render import format_emergency, format_helplines
from content.schema import placeholders

SCREENINGS_ON_MENU = ("phq2", "phq9", "gad7")  # PHQ-2 first: the quick mood check
COURSES_ON_MENU = ("doing_what_matters", "weekly_checkin")
# State a flow keeps while it runs; the main menu clears it.
FLOW_KEYS = ("module", "step", "instrument", "answers", OFFER, "safety_asked_from")


class Voice:
    """Content plus the settings that decide wording; renders and says replies for every flow."""

    def __init__(self, content: Content, default_region: str = "demo", consent_item: str = "onboarding.consent",
                 served: Collection[str] | None = None):
        self.content = content
        # The locales this deployment may serve (production: those signed off); None: no limit.
        self.served = frozenset(served) if served is not None else None
        self.default_region = default_region
        self.consent_item = consent_item

    # -- languages and regions -----------------------------------------------------
    def enabled_locales(self) -> list[str]:
        """Locales a person may choose: those whose consent wording is approved (and, when the
        deployment limits them, that it serves), in the order the default region lists them."""
        enabled = []
        for locale in self._locale_order():
            if self.served is not None and locale not in self.served:
                continue
            try:
                rendered = self.content.render(self.consent_item, locale, "sms")
            except ContentMissing:
                continue
            if rendered.locale == locale:
                enabled.append(locale)
        return enabled or [self.content.default_locale]

    def _locale_order(self) -> list[str]:
        try:
            listed = list(self.content.region(self.default_region).locales)
        except ContentMissing:
            listed = []
        return [*[x for x in listed if x in self.content.locales()],
                *[x for x in self.content.locales() if x not in listed]]

    def detected_locale(self, turn: Turn) -> str | None:
        """The language a person with no stored choice wrote in, if it is confidently one we serve.

        Only first contact uses it: the welcome and the language menu come in that language
        (the person still picks). Detection never overrides or changes a stored choice.
        """
        if turn.detected_locale and turn.detected_locale in self.enabled_locales():
            return turn.detected_locale
        return None

    def regions(self) -> list[Any]:
        """The deployment's regions, in the order the region question lists them."""
        return list(self.content.regions())

    def region_id(self, stored: str | None) -> str:
        """The person's region if the content still has it, else the deployment's default."""
        return stored if stored and stored in {r.id for r in self.regions()} else self.default_region

    # -- saying things -------------------------------------------------------------
    def helplines_text(self, region: str) -> str:
        return format_helplines(general(self.content.helplines(region)))

    def emergency_text(self, region: str) -> str:
        """The number to call in danger now: the region's emergency number, else its first helpline."""
        try:
            found = self.content.region(region)
        except ContentMissing:
            return ""
        if getattr(found, "emergency", None) is not None:
            return format_emergency(found.emergency)
        lines = self.content.helplines(region)
        return f"{lines[0].name}: {lines[0].number}" if lines else ""

    def fallbacks(self, out: Outcome) -> tuple[str, ...]:
        """After the locale asked for: the person's accepted locales, their region's, the library's."""
        try:
            region_locale = self.content.region(out.region or self.default_region).default_locale
        except ContentMissing:
            region_locale = None
        chain = fallback_chain(out.accepted_locales, region_locale, self.content.default_locale)
        if self.served is not None:
            chain = tuple(x for x in chain if x in self.served)
        return chain

    def render(self, out: Outcome, item_id: str, locale: str, channel: str,
               values: Mapping[str, str] | None = None) -> Any:
        region = out.region or self.default_region
        if self.served is not None and locale not in self.served:
            locale = next(iter(self.fallbacks(out)), self.enabled_locales()[0])
        merged: dict[str, object] = {"helplines": self.helplines_text(region),
                  "emergency": self.emergency_text(region),
                  "response_time": response_time.text(self.content, out.availability, locale, channel,
                                                      self.fallbacks(out), self.emergency_text(region),
                                                      gives_emergency=self._names_emergency(item_id)),
                  **(values or {})}
        return self.content.render(item_id, locale, channel, merged, fallbacks=self.fallbacks(out))

    def _names_emergency(self, item_id: str) -> bool:
        """Whether the item's own words give the emergency number ({emergency}). Every text of
        an item has the source's placeholders (content.validate), so the source decides."""
        try:
            source = self.content.message(item_id).source
        except ContentMissing:
            return False
        return source is not None and "emergency" in placeholders(source.sms)

    def say(self, out: Outcome, item_id: str, locale: str, channel: str, kind: str = "reply",
            values: Mapping[str, str] | None = None) -> None:
        rendered = self.render(out, item_id, locale, channel, values)
        out.replies.append(Reply(item_id, rendered.text, rendered.ref, rendered.locale, kind))

    # -- the main menu -------------------------------------------------------------
    def menu_entries(self, locale: str, fallbacks: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
        """(number, target, title): the modules, then the screening checks, then the courses."""
        fallbacks = fallbacks or (self.content.default_locale,)
        entries = [(e.number, f"module:{e.module_id}", e.title) for e in self.content.menu(locale, fallbacks)]
        number = max((n for n, _, _ in entries), default=0)
        for instrument in SCREENINGS_ON_MENU:
            try:
                self.content.screening(instrument)
                title = self.content.render(f"menu.screening.{instrument}", locale, "sms", fallbacks=fallbacks).text
            except ContentMissing:
                continue
            number += 1
            entries.append((number, f"screening:{instrument}", title))
        for course_id in COURSES_ON_MENU:
            try:
                course = self.content.course(course_id)
                title = self.content.render(course.title_id, locale, "sms", fallbacks=fallbacks).text
            except ContentMissing:
                continue
            number += 1
            entries.append((number, f"course:{course_id}", title))
        return entries

    def main_menu(self, out: Outcome, locale: str, channel: str) -> None:
        listing = "\n".join(f"{n}. {title}" for n, _, title in self.menu_entries(locale, self.fallbacks(out)))
        self.say(out, "menu.main", locale, channel, values={"menu": listing})
        for key in FLOW_KEYS:
            out.state.pop(key, None)
        out.state["flow"] = MENU

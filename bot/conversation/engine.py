"""The conversation engine: (state, message, content, services) -> (new state, replies).

Pure: no I/O, no clock, no randomness. The safety gate's verdict arrives with
the turn, and the free-text helpers (intent matching, the guarded dialogue
model) are handed in, so every flow is tested table by table and a health
worker can replay why a reply was sent. Everything said is approved content,
referenced by ``item@version`` in the person's locale, or a generated reply
labelled as such.

Order of precedence in a turn:
1. an opted-out person gets silence until a start keyword (a crisis still opens a case);
2. a crisis (HIGH or IMMINENT) gets the crisis reply first, whatever the flow;
3. while a health worker is in the conversation, everything else is for them (bot.conversation.handoff);
4. global keywords (STOP, HELP, TALK, BOT, DATA, LANGUAGE, REGION, DELETE) in every enabled language;
5. the current flow: onboarding, menu, module, screening, safety plan, free text.
   Once a person has consented, PAUSE, RESUME and TIME (reminders) work from any flow.

Onboarding happens in the person's language from the first reply. When the
worker is confident which served language the first message is in (a sentence,
or a greeting such as "Habari"), the welcome (with the AI disclosure) and the
consent question come in it. Otherwise the first reply is only the language menu,
the served languages by their own names, and the welcome and consent follow in
the language picked. Then, when the deployment has several regions and the
number did not settle it, where the person is.

Every served locale stands equal: a locale is offered when its consent wording is
approved and, in production, when the deployment has signed it off (``served``,
see content.serving); English has no other path.

Joining a course and the reminder keywords leave requests in ``Outcome.audit``
("schedule.*"); the worker turns them into enrolments and settings
(workers.scheduling), so the engine stays free of clocks and time zones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.conversation import crisis, freetext, handoff, region, response_time, screening
from bot.conversation.locales import fallback_chain
from bot.conversation.types import (
    CONSENT,
    DELETE_CONFIRM,
    LANGUAGE,
    MENU,
    MODULE,
    NEW,
    RATING,
    REGION,
    RISK_CONCERN,
    SAFETY_PLAN,
    SCREENING,
    Content,
    Dialogue,
    IntentMatcher,
    Outcome,
    Profile,
    Reply,
    Turn,
    Understander,
)
from core.timezones import InvalidTimeOfDay, QuietHours, format_clock, parse_time_request
from translation.greetings import greeting_language

# The first reply when the language is not known: the served languages by their own names.
LANGUAGE_MENU = "onboarding.languages"
# Keywords that mean the same from anywhere in a conversation, most important first.
GLOBAL_ACTIONS = ("stop", "help", "talk", "bot", "data", "language", "region", "delete")
SCREENINGS_ON_MENU = ("phq2", "phq9", "gad7")  # PHQ-2 first: the quick mood check
COURSES_ON_MENU = ("doing_what_matters", "weekly_checkin")
SCHEDULE_ACTIONS = ("pause", "resume")
# Field feedback: after a module, one number on this scale (asked once per person and module).
RATING_ITEM, RATING_THANKS = "feedback.rate", "feedback.thanks"
RATING_SCALE = range(1, 6)
MODULE_RATED = "module_rated"
DELETE_ASK = "keywords.delete_code"  # "Reply DELETE {code} to erase": the code ties the answer to the request


def native_name(code: str) -> str:
    """A language's name in that language ("Kiswahili", "Español"), for menus."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def english_name(code: str) -> str:
    """A language's English name ("Swahili"), which people also type to pick it."""
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (ValueError, UnknownLocaleError):
        return code


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!?,;:")


def carries_code(text: str, code: str) -> bool:
    """True when a number in the text, in any script's digits, is the code ("DELETE 482193", "٤٨٢١٩٣")."""
    return any(int(run) == int(code) for run in re.findall(r"\d+", text) if len(run) <= 8)


def number(folded: str) -> int | None:
    """A whole number typed in any script's decimal digits ("3", "٣", "३"), else None.

    str.isdigit() also accepts characters int() cannot read (superscripts, Kharoshthi "𐩀"),
    so a reply to a numbered question is read with this, never with isdigit() and int().
    """
    return int(folded) if folded.isdecimal() and len(folded) <= 6 else None


def same_reply(expected: str, text: str) -> bool:
    """A reply matches a choice by its words or, for a number, in any script's digits."""
    wanted, got = fold(expected), fold(text)
    return wanted == got or (number(wanted) is not None and number(wanted) == number(got))


class Engine:
    """Runs one turn. Holds only content, settings and stateless helpers, never per-person data."""

    def __init__(self, content: Content, default_region: str = "demo", intents: Understander | IntentMatcher | None = None,
                 dialogue: Dialogue | None = None, consent_item: str = "onboarding.consent",
                 quiet_hours: QuietHours | None = None, served: Collection[str] | None = None,
                 data_days: int = 90):
        self.content = content
        # The locales this deployment may serve (production: those signed off); None: no limit.
        self.served = frozenset(served) if served is not None else None
        self.data_days = data_days  # the DATA reply's promise: messages and health data go after this
        self.default_region = default_region
        self.intents = intents
        self.dialogue = dialogue
        self.consent_item = consent_item
        self.quiet_hours = quiet_hours or QuietHours()

    # -- saying things -----------------------------------------------------------
    def enabled_locales(self) -> list[str]:
        """Locales a person may choose: those whose consent wording is approved (and, when the
        deployment limits them, that it serves), in the order the default region lists them."""
        from content.store import ContentMissing

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
        from content.store import ContentMissing

        try:
            listed = list(self.content.region(self.default_region).locales)
        except ContentMissing:
            listed = []
        return [*[x for x in listed if x in self.content.locales()],
                *[x for x in self.content.locales() if x not in listed]]

    def first_contact_locale(self, turn: Turn, state: Mapping[str, Any]) -> str | None:
        """The language to answer a person who has not chosen one yet, or None (then: the menu).

        In order: a confident detection of this message (or a greeting that names its language:
        "Habari", "Hola"); the language their welcome went out
        in; for a crisis, the language of the crisis words that were found; for a keyword
        ("MSAADA", "AYUDA"), the one served language it belongs to.
        """
        enabled = self.enabled_locales()
        found = self.detected_locale(turn) or greeting_language(turn.text, enabled) or state.get("consent_locale")
        if found in enabled:
            return found
        if turn.risk >= crisis.CRISIS:
            for rule in turn.risk_rules:
                lang = rule.split(".", 1)[0]
                if lang in enabled:
                    return lang
        keyword_locales = getattr(self.content, "keyword_locales", None)
        if keyword_locales is not None and turn.text.strip():
            owners = keyword_locales(turn.text, enabled)
            if len(owners) == 1:
                return str(owners[0])
        return None

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

    def helplines_text(self, region: str) -> str:
        from content.pathways import general
        from content.render import format_helplines

        return format_helplines(general(self.content.helplines(region)))

    def emergency_text(self, region: str) -> str:
        """The number to call in danger now: the region's emergency number, else its first helpline."""
        from content.render import format_emergency
        from content.store import ContentMissing

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
        from content.store import ContentMissing

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
                                                      self.fallbacks(out), self.emergency_text(region)),
                  **(values or {})}
        return self.content.render(item_id, locale, channel, merged, fallbacks=self.fallbacks(out))

    def say(self, out: Outcome, item_id: str, locale: str, channel: str, kind: str = "reply",
            values: Mapping[str, str] | None = None) -> None:
        rendered = self.render(out, item_id, locale, channel, values)
        out.replies.append(Reply(item_id, rendered.text, rendered.ref, rendered.locale, kind))

    def menu_entries(self, locale: str, fallbacks: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
        """(number, target, title): the modules, then the screening checks, then the courses."""
        from content.store import ContentMissing

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
        for key in ("module", "step", "instrument", "answers", screening.OFFER):
            out.state.pop(key, None)
        out.state["flow"] = MENU

    def language_menu(self, out: Outcome, locale: str | None, channel: str) -> None:
        """The served languages by their own names; with no ``locale`` (first contact) nothing
        else, so a person who reads none of the other languages still finds theirs."""
        options = "\n".join(f"{i}. {native_name(code)}" for i, code in enumerate(self.enabled_locales(), 1))
        if locale is None:
            rendered = self.content.render(LANGUAGE_MENU, self.content.default_locale, channel,
                                           {"languages": options})
            out.replies.append(Reply(LANGUAGE_MENU, rendered.text, rendered.ref, "mul"))
            out.state["welcome_due"] = True
        else:
            self.say(out, "onboarding.choose_language", locale, channel, values={"languages": options})
        out.state["flow"] = LANGUAGE

    def throttled(self, state: Mapping[str, Any], turn: Turn, profile: Profile, answer: bool) -> Outcome | None:
        """The turn of a sender past their per-minute limit with no risk found: no work beyond a
        one-time "slow down" (``answer``), or None when the text is a keyword (STOP, DELETE, TALK,
        HELP...), which always gets a full turn."""
        locale = profile.locale or self.content.default_locale
        locales = [locale] + [c for c in self.content.locales() if c != locale]
        if turn.text.strip() and self.content.keyword_actions(turn.text, locales):
            return None
        out = Outcome(state=dict(state), region=self.region_id(profile.region),
                      accepted_locales=profile.accepted_locales, availability=turn.availability)
        out.audit.append(("inbound.throttled", {}))
        if answer and not profile.opted_out:
            self.say(out, "fallback.slow_down", locale, turn.channel)
        return out

    # -- the turn ----------------------------------------------------------------
    def step(self, state: Mapping[str, Any], turn: Turn, profile: Profile) -> Outcome:
        out = Outcome(state=dict(state), region=self.region_id(profile.region),
                      accepted_locales=profile.accepted_locales, availability=turn.availability, case=turn.case)
        known = profile.locale or self.first_contact_locale(turn, state)
        locale = known or self.content.default_locale
        channel = turn.channel
        locales = [locale] + [c for c in self.content.locales() if c != locale]
        actions = self.content.keyword_actions(turn.text, locales) if turn.text.strip() else []
        action = next((a for a in actions if a in GLOBAL_ACTIONS), None)
        reply_action = next((a for a in actions if a not in GLOBAL_ACTIONS and a != "start"), None)

        if profile.opted_out:
            if turn.risk >= crisis.CRISIS:
                crisis.escalate_silently(self, out, turn)
            if "start" in actions:
                out.opt_in = True
                out.events.append("opt_in")
                self.say(out, "keywords.start_confirmation", locale, channel)
                if profile.consented:
                    self.main_menu(out, locale, channel)
            return out
        if action == "stop":
            out.opt_out = True
            out.events.append("opt_out")
            self.say(out, "keywords.stop_confirmation", locale, channel, kind="optout_confirmation")
            return out
        if turn.risk >= crisis.CRISIS:
            if not profile.locale and known:
                out.state["consent_locale"] = known  # first contact: the crisis flow goes on in this language
            crisis.open_crisis(self, out, turn, locale, channel)
            return out
        if turn.risk == RISK_CONCERN:
            out.audit.append(("safety.concern", {"rules": list(turn.risk_rules)}))
        if out.state.get("flow") != DELETE_CONFIRM:
            staffed = handoff.with_staff(self, out, actions[0] if actions else None, locale, channel)
            if staffed is not None:
                return staffed
        if action in {"help", "bot", "data"}:
            self.say(out, f"keywords.{action}", locale, channel, values={"days": str(self.data_days)})
            return out
        if action == "language":
            self.language_menu(out, known, channel)
            return out
        if action == "region" and profile.consented and len(self.regions()) > 1:
            region.ask(self, out, locale, channel)
            return out

        flow = out.state.get("flow", NEW)
        if action == "delete":
            # Each DELETE asks again, with a new code; the flow to go back to stays the first one.
            resume = out.state.get("resume", MENU) if flow == DELETE_CONFIRM else flow
            out.state.update(flow=DELETE_CONFIRM, resume=resume, delete_code=turn.delete_code)
            self.say(out, DELETE_ASK, locale, channel, values={"code": turn.delete_code})
            return out
        if flow == DELETE_CONFIRM:
            return self._delete_confirm(out, turn.text, reply_action, locale, channel)
        if not turn.text.strip() and turn.num_media > 0:
            self.say(out, "fallback.media_only", locale, channel)
            return out
        if flow == SAFETY_PLAN and not profile.consented:
            # First contact in crisis: the plan goes on (YES is not consent); consent comes after.
            return crisis.follow(self, out, turn, profile, reply_action, locale, channel)
        if flow == NEW:
            self.onboard(out, known, channel)
            return out
        if flow == LANGUAGE:
            return self._language(out, turn, profile, known, channel)
        if flow == CONSENT:
            return self._consent(out, reply_action, profile, out.state.get("consent_locale", locale), channel)
        if not profile.consented:
            self._ask_consent(out, locale, channel)
            return out
        if action == "talk":
            return handoff.request(self, out, locale, channel)
        if flow == REGION:
            return region.choose(self, out, turn.text, reply_action, locale, channel)
        if reply_action in SCHEDULE_ACTIONS:
            out.audit.append((f"schedule.{reply_action}", {}))
            self.say(out, f"keywords.{reply_action}_confirmation", locale, channel)
            return out
        if self._time(out, turn.text, locales, locale, channel):
            return out
        if reply_action == "menu":
            self.main_menu(out, locale, channel)
            return out
        if screening.offered(out) is not None:
            followed = screening.follow_up(self, out, reply_action, locale, channel)
            if followed is not None:
                return followed
        if flow == SAFETY_PLAN:
            return crisis.follow(self, out, turn, profile, reply_action, locale, channel)
        if flow == SCREENING:
            return screening.answer(self, out, turn.text, locale, channel, turn.now)
        if flow == MODULE:
            return self._module(out, reply_action, turn.text, locale, channel, turn.text_lang)
        if flow == RATING:
            return self._rating(out, turn.text, locale, channel, turn.text_lang)
        return self._menu_choice(out, turn.text, locale, channel, turn.text_lang)

    # -- flows -------------------------------------------------------------------
    def _language(self, out: Outcome, turn: Turn, profile: Profile, known: str | None, channel: str) -> Outcome:
        """A number or a language's name picks it; a message confidently in a served language
        ("Habari yako", "मुझे नींद नहीं आती") picks that one."""
        choices = self.enabled_locales()
        folded = fold(turn.text)
        chosen = None
        picked = number(folded)
        if picked is not None and 1 <= picked <= len(choices):
            chosen = choices[picked - 1]
        for code in choices:
            if folded in {fold(code), fold(native_name(code)), fold(english_name(code))}:
                chosen = code
        if chosen is None and self.detected_locale(turn) in choices:
            chosen = self.detected_locale(turn)
        if chosen is None:
            again = None if out.state.get("welcome_due") else (profile.locale or known or self.content.default_locale)
            self.language_menu(out, again, channel)
            return out
        out.locale = chosen
        out.events.append("language_set")
        if out.state.pop("welcome_due", False):
            self.say(out, "onboarding.welcome", chosen, channel)
        if profile.consented:
            self.main_menu(out, chosen, channel)
        else:
            self._ask_consent(out, chosen, channel)
        return out

    def onboard(self, out: Outcome, locale: str | None, channel: str) -> None:
        """The welcome (with the AI disclosure) and the consent question in the person's language,
        or, when it is not known (``locale`` None or not served), only the language menu."""
        enabled = self.enabled_locales()
        first = locale if locale in enabled else (enabled[0] if len(enabled) == 1 else None)
        if first is None:
            self.language_menu(out, None, channel)
            return
        self.say(out, "onboarding.welcome", first, channel)
        self._ask_consent(out, first, channel)

    def _ask_consent(self, out: Outcome, locale: str, channel: str) -> None:
        self.say(out, self.consent_item, locale, channel)
        out.state.update(flow=CONSENT, consent_locale=locale)

    def _consent(self, out: Outcome, action: str | None, profile: Profile, locale: str, channel: str) -> Outcome:
        if action not in {"yes", "no"}:
            self.say(out, self.consent_item, locale, channel)
            return out
        wording = self.render(out, self.consent_item, locale, channel)
        if action == "yes":
            out.consent = ("given", wording.ref, wording.locale)
            out.locale = out.locale or locale
            out.events.append("consent_given")
            out.state.pop("consent_locale", None)
            if region.needs_asking(self, profile):
                region.ask(self, out, locale, channel)
            else:
                self.main_menu(out, locale, channel)
        else:
            out.consent = ("declined", wording.ref, wording.locale)
            out.events.append("consent_declined")
            self.say(out, "onboarding.consent_declined", locale, channel)
        return out

    def _delete_confirm(self, out: Outcome, text: str, action: str | None, locale: str, channel: str) -> Outcome:
        """Erase only on the code quoted in the request. A bare YES asks again with the same code;
        anything else, a wrong code included, cancels (a new DELETE draws a new code), so a
        spoofed sender gets one guess per request, each of which the real person is told about."""
        code = str(out.state.get("delete_code") or "")
        if code and carries_code(text, code):
            out.erase = True
            out.opt_out = True  # nothing more is sent while the erasure runs
            out.events.append("erasure_requested")
            self.say(out, "keywords.delete_done", locale, channel, kind="optout_confirmation")
            out.state = {}
        elif action == "yes" and code:
            out.events.append("erasure_code_missing")
            self.say(out, DELETE_ASK, locale, channel, values={"code": code})
        else:
            out.state["flow"] = out.state.pop("resume", MENU)
            out.state.pop("delete_code", None)
            self.say(out, "keywords.delete_cancelled", locale, channel)
        return out

    def _menu_choice(self, out: Outcome, text: str, locale: str, channel: str,
                     text_lang: str | None = None) -> Outcome:
        picked = number(fold(text))  # "2", "२" or "٢"
        chosen = next((target for n, target, _ in self.menu_entries(locale) if n == picked), None)
        if chosen is None:
            return self._free_text(out, text, locale, channel, text_lang)
        return self._go(out, chosen, locale, channel)

    def _go(self, out: Outcome, chosen: str, locale: str, channel: str) -> Outcome:
        """Start what a menu number or a module's reply points to: "module:x", "screening:x", "course:x"."""
        kind, target = chosen.split(":", 1)
        if kind == "screening":
            return screening.start(self, out, target, locale, channel)
        if kind == "course":
            return self._enrol(out, target, locale, channel)
        out.state.update(flow=MODULE, module=target, step=0)
        out.audit.append((f"module_started:{target}", {"locale": locale}))
        self.say(out, self.content.module(target).steps[0], locale, channel)
        return out

    def _enrol(self, out: Outcome, course_id: str, locale: str, channel: str) -> Outcome:
        """Ask the worker to enrol the person; confirm with the course's own wording if it has one."""
        from content.store import ContentMissing

        out.audit.append(("schedule.enrol", {"course": course_id}))
        for key in ("module", "step"):
            out.state.pop(key, None)
        out.state["flow"] = MENU
        try:
            self.say(out, f"course.{course_id}.enrolled", locale, channel)
        except ContentMissing:
            self.say(out, "course.enrolled", locale, channel)
        return out

    def _time(self, out: Outcome, text: str, locales: list[str], locale: str, channel: str) -> bool:
        """TIME 7, TIME 18:30, TIME 7 UTC+3: when reminders come. False when it is not a TIME message."""
        words = text.split()
        for size in (1, 2):
            if len(words) < size or "time" not in self.content.keyword_actions(" ".join(words[:size]), locales):
                continue
            argument = " ".join(words[size:])
            try:
                minute, zone = parse_time_request(argument)
            except InvalidTimeOfDay:
                if argument and not argument[:1].isdigit():
                    return False  # "time" was an ordinary word in a sentence
                self.say(out, "keywords.time_help", locale, channel)
                return True
            minute = self.quiet_hours.clamp(minute)
            out.audit.append(("schedule.time", {"minute": minute, "zone": zone}))
            self.say(out, "keywords.time_confirmation", locale, channel, values={"time": format_clock(minute)})
            return True
        return False

    def _module(self, out: Outcome, action: str | None, text: str, locale: str, channel: str,
                text_lang: str | None = None) -> Outcome:
        module = self.content.module(out.state["module"])
        current = int(out.state.get("step", 0))
        if action == "back":
            if current == 0:
                self.main_menu(out, locale, channel)
                return out
            out.state["step"] = current - 1
            self.say(out, module.steps[current - 1], locale, channel)
            return out
        choice = next((c for c in module.choices if c.reply is not None and c.target
                       and same_reply(c.reply, text)), None)
        if choice is not None and choice.action in {"module", "screening", "course"}:
            return self._go(out, f"{choice.action}:{choice.target}", locale, channel)
        if action not in {"next", "yes"}:
            return self._menu_choice(out, text, locale, channel, text_lang)
        step = current + 1
        if step >= len(module.steps):
            out.audit.append((f"module_completed:{module.id}", {"locale": locale}))
            if not self._ask_rating(out, module.id, locale, channel):
                self.main_menu(out, locale, channel)
            return out
        out.state["step"] = step
        self.say(out, module.steps[step], locale, channel)
        return out

    def _ask_rating(self, out: Outcome, module_id: str, locale: str, channel: str) -> bool:
        """Ask for a one-number rating of a finished module, once per person and module.

        Only when the question is approved in the person's own locale: a rating is never
        worth a message in a language they did not choose.
        """
        from content.store import ContentMissing

        asked = list(out.state.get("rated", []))
        if module_id in asked:
            return False
        try:
            rendered = self.content.render(RATING_ITEM, locale, channel)
        except ContentMissing:
            return False
        if rendered.locale != locale:
            return False
        out.replies.append(Reply(RATING_ITEM, rendered.text, rendered.ref, rendered.locale))
        out.state.pop("step", None)
        out.state.update(flow=RATING, module=module_id, rated=[*asked, module_id])
        return True

    def _rating(self, out: Outcome, text: str, locale: str, channel: str, text_lang: str | None = None) -> Outcome:
        """A bare digit on the scale is recorded (the number only); anything else is an ordinary message."""
        from content.store import ContentMissing

        module_id = out.state.pop("module", None)
        out.state["flow"] = MENU
        answer = fold(text)
        if module_id and len(answer) == 1 and answer.isdecimal() and int(answer) in RATING_SCALE:
            out.audit.append((MODULE_RATED, {"module": module_id, "locale": locale, "rating": int(answer)}))
            try:
                self.say(out, RATING_THANKS, locale, channel)
            except ContentMissing:
                pass  # the menu alone still answers the person
            self.main_menu(out, locale, channel)
            return out
        return self._menu_choice(out, text, locale, channel, text_lang)

    def _free_text(self, out: Outcome, text: str, locale: str, channel: str,
                   text_lang: str | None = None) -> Outcome:
        """Something that is neither a keyword nor a menu number (written in ``text_lang``, see Turn)."""
        return freetext.answer(self, out, text, locale, channel, text_lang)

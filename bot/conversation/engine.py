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

from collections.abc import Collection, Mapping
from typing import Any

from bot.conversation import crisis, freetext, handoff, onboarding, region, screening, topics
from bot.conversation.text import carries_code, fold, number, same_reply
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
from bot.conversation.voice import Voice
from content.errors import ContentMissing
from core.timezones import InvalidTimeOfDay, QuietHours, format_clock, parse_time_request
from translation.greetings import greeting_language

# Keywords that mean the same from anywhere in a conversation, most important first.
GLOBAL_ACTIONS = ("stop", "help", "talk", "bot", "data", "language", "region", "delete")
SCHEDULE_ACTIONS = ("pause", "resume")
# Field feedback: after a module, one number on this scale (asked once per person and module).
RATING_ITEM, RATING_THANKS = "feedback.rate", "feedback.thanks"
RATING_SCALE = range(1, 6)
MODULE_RATED = "module_rated"
DELETE_ASK = "keywords.delete_code"  # "Reply DELETE {code} to erase": the code ties the answer to the request


class Engine:
    """Runs one turn. Holds only content, settings and stateless helpers, never per-person data."""

    def __init__(self, content: Content, default_region: str = "demo", intents: Understander | IntentMatcher | None = None,
                 dialogue: Dialogue | None = None, consent_item: str = "onboarding.consent",
                 quiet_hours: QuietHours | None = None, served: Collection[str] | None = None,
                 data_days: int = 90):
        self.voice = Voice(content, default_region=default_region, consent_item=consent_item, served=served)
        self.data_days = data_days  # the DATA reply's promise: messages and health data go after this
        self.intents = intents
        self.dialogue = dialogue
        self.quiet_hours = quiet_hours or QuietHours()

    # -- what the worker reads ---------------------------------------------------
    @property
    def content(self) -> Content:
        return self.voice.content

    @property
    def served(self) -> frozenset[str] | None:
        return self.voice.served

    def enabled_locales(self) -> list[str]:
        return self.voice.enabled_locales()

    def regions(self) -> list[Any]:
        return self.voice.regions()

    def region_id(self, stored: str | None) -> str:
        return self.voice.region_id(stored)

    def menu_entries(self, locale: str, fallbacks: tuple[str, ...] = ()) -> list[tuple[int, str, str]]:
        return self.voice.menu_entries(locale, fallbacks)

    def first_contact_locale(self, turn: Turn, state: Mapping[str, Any]) -> str | None:
        """The language to answer a person who has not chosen one yet, or None (then: the menu).

        In order: a confident detection of this message (or a greeting that names its language:
        "Habari", "Hola"); the language their welcome went out
        in; for a crisis, the language of the crisis words that were found; for a keyword
        ("MSAADA", "AYUDA"), the one served language it belongs to.
        """
        enabled = self.voice.enabled_locales()
        found = self.voice.detected_locale(turn) or greeting_language(turn.text, enabled) or state.get("consent_locale")
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
            self.voice.say(out, "fallback.slow_down", locale, turn.channel)
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
                crisis.escalate_silently(self.voice, out, turn)
            if "start" in actions:
                out.opt_in = True
                out.events.append("opt_in")
                self.voice.say(out, "keywords.start_confirmation", locale, channel)
                if profile.consented:
                    self.voice.main_menu(out, locale, channel)
            return out
        if action == "stop":
            out.opt_out = True
            out.events.append("opt_out")
            self.voice.say(out, "keywords.stop_confirmation", locale, channel, kind="optout_confirmation")
            return out
        if turn.risk >= crisis.CRISIS:
            if not profile.locale and known:
                out.state["consent_locale"] = known  # first contact: the crisis flow goes on in this language
            crisis.open_crisis(self.voice, out, turn, locale, channel)
            return out
        if turn.risk == RISK_CONCERN:
            out.distress = True
            out.audit.append(("safety.concern", {"rules": list(turn.risk_rules)}))
        if out.state.get("flow") != DELETE_CONFIRM:
            staffed = handoff.with_staff(self.voice, out, actions[0] if actions else None, locale, channel)
            if staffed is not None:
                return staffed
        if action in {"help", "bot", "data"}:
            self.voice.say(out, f"keywords.{action}", locale, channel, values={"days": str(self.data_days)})
            return out
        if action == "language":
            onboarding.language_menu(self.voice, out, known, channel)
            return out
        if action == "region" and profile.consented and len(self.regions()) > 1:
            region.ask(self.voice, out, locale, channel)
            return out

        flow = out.state.get("flow", NEW)
        if action == "delete":
            # Each DELETE asks again, with a new code; the flow to go back to stays the first one.
            resume = out.state.get("resume", MENU) if flow == DELETE_CONFIRM else flow
            out.state.update(flow=DELETE_CONFIRM, resume=resume, delete_code=turn.delete_code)
            self.voice.say(out, DELETE_ASK, locale, channel, values={"code": turn.delete_code})
            return out
        if flow == DELETE_CONFIRM:
            return self._delete_confirm(out, turn.text, reply_action, locale, channel)
        if not turn.text.strip() and turn.num_media > 0:
            self.voice.say(out, "fallback.media_only", locale, channel)
            return out
        if flow == SAFETY_PLAN and not profile.consented:
            # First contact in crisis: the plan goes on (YES is not consent); consent comes after.
            return crisis.follow(self.voice, out, turn, profile, reply_action, locale, channel)
        if flow == NEW:
            onboarding.onboard(self.voice, out, known, channel)
            return out
        if flow == LANGUAGE:
            return onboarding.choose_language(self.voice, out, turn, profile, known, channel)
        if flow == CONSENT:
            return onboarding.consent(self.voice, out, reply_action, profile, out.state.get("consent_locale", locale), channel)
        if not profile.consented:
            onboarding.ask_consent(self.voice, out, locale, channel)
            return out
        if action == "talk":
            return handoff.request(self.voice, out, locale, channel)
        if flow == REGION:
            return region.choose(self.voice, out, turn.text, reply_action, locale, channel)
        if reply_action in SCHEDULE_ACTIONS:
            out.audit.append((f"schedule.{reply_action}", {}))
            self.voice.say(out, f"keywords.{reply_action}_confirmation", locale, channel)
            return out
        if self._time(out, turn.text, locales, locale, channel):
            return out
        if reply_action == "menu":
            self.voice.main_menu(out, locale, channel)
            return out
        if screening.offered(out) is not None:
            followed = screening.follow_up(self.voice, out, reply_action, locale, channel)
            if followed is not None:
                return followed
        if flow == SAFETY_PLAN:
            return crisis.follow(self.voice, out, turn, profile, reply_action, locale, channel)
        if flow == SCREENING:
            return screening.answer(self.voice, out, turn.text, locale, channel, turn.now)
        if flow == MODULE:
            return self._module(out, reply_action, turn.text, locale, channel, turn.text_lang)
        if flow == RATING:
            return self._rating(out, turn.text, locale, channel, turn.text_lang)
        return self._menu_choice(out, turn.text, locale, channel, turn.text_lang)

    # -- flows -------------------------------------------------------------------
    def _delete_confirm(self, out: Outcome, text: str, action: str | None, locale: str, channel: str) -> Outcome:
        """Erase only on the code quoted in the request. A bare YES asks again with the same code;
        anything else, a wrong code included, cancels (a new DELETE draws a new code), so a
        spoofed sender gets one guess per request, each of which the real person is told about."""
        code = str(out.state.get("delete_code") or "")
        if code and carries_code(text, code):
            out.erase = True
            out.opt_out = True  # nothing more is sent while the erasure runs
            out.events.append("erasure_requested")
            self.voice.say(out, "keywords.delete_done", locale, channel, kind="optout_confirmation")
            out.state = {}
        elif action == "yes" and code:
            out.events.append("erasure_code_missing")
            self.voice.say(out, DELETE_ASK, locale, channel, values={"code": code})
        else:
            out.state["flow"] = out.state.pop("resume", MENU)
            out.state.pop("delete_code", None)
            self.voice.say(out, "keywords.delete_cancelled", locale, channel)
        return out

    def _menu_choice(self, out: Outcome, text: str, locale: str, channel: str,
                     text_lang: str | None = None) -> Outcome:
        picked = number(fold(text))  # "2", "२" or "٢"
        chosen = next((target for n, target, _ in self.menu_entries(locale) if n == picked), None)
        if chosen is None:
            return self._free_text(out, text, locale, channel, text_lang)
        return topics.go(self.voice, out, chosen, locale, channel)

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
                self.voice.say(out, "keywords.time_help", locale, channel)
                return True
            minute = self.quiet_hours.clamp(minute)
            out.audit.append(("schedule.time", {"minute": minute, "zone": zone}))
            self.voice.say(out, "keywords.time_confirmation", locale, channel, values={"time": format_clock(minute)})
            return True
        return False

    def _module(self, out: Outcome, action: str | None, text: str, locale: str, channel: str,
                text_lang: str | None = None) -> Outcome:
        module = self.content.module(out.state["module"])
        current = int(out.state.get("step", 0))
        if action == "back":
            if current == 0:
                self.voice.main_menu(out, locale, channel)
                return out
            out.state["step"] = current - 1
            self.voice.say(out, module.steps[current - 1], locale, channel)
            return out
        choice = next((c for c in module.choices if c.reply is not None and c.target
                       and same_reply(c.reply, text)), None)
        if choice is not None and choice.action in {"module", "screening", "course"}:
            return topics.go(self.voice, out, f"{choice.action}:{choice.target}", locale, channel)
        if action not in {"next", "yes"}:
            return self._menu_choice(out, text, locale, channel, text_lang)
        step = current + 1
        if step >= len(module.steps):
            out.audit.append((f"module_completed:{module.id}", {"locale": locale}))
            if not self._ask_rating(out, module.id, locale, channel):
                self.voice.main_menu(out, locale, channel)
            return out
        out.state["step"] = step
        self.voice.say(out, module.steps[step], locale, channel)
        return out

    def _ask_rating(self, out: Outcome, module_id: str, locale: str, channel: str) -> bool:
        """Ask for a one-number rating of a finished module, once per person and module.

        Only when the question is approved in the person's own locale: a rating is never
        worth a message in a language they did not choose.
        """
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
        module_id = out.state.pop("module", None)
        out.state["flow"] = MENU
        answer = fold(text)
        if module_id and len(answer) == 1 and answer.isdecimal() and int(answer) in RATING_SCALE:
            out.audit.append((MODULE_RATED, {"module": module_id, "locale": locale, "rating": int(answer)}))
            try:
                self.voice.say(out, RATING_THANKS, locale, channel)
            except ContentMissing:
                pass  # the menu alone still answers the person
            self.voice.main_menu(out, locale, channel)
            return out
        return self._menu_choice(out, text, locale, channel, text_lang)

    def _free_text(self, out: Outcome, text: str, locale: str, channel: str,
                   text_lang: str | None = None) -> Outcome:
        """Something that is neither a keyword nor a menu number (written in ``text_lang``, see Turn)."""
        return freetext.answer(self.voice, self.intents, self.dialogue, out, text, locale, channel, text_lang)

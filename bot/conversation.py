"""The conversation engine: (state, message, content) -> (new state, replies).

Pure: no I/O, no clock, no randomness, so every flow is tested table by table
and a health worker can replay why a reply was sent. Everything said comes from
approved content, referenced by ``item@version`` in the person's locale.

Keywords are whole-message matches from content (every enabled language), and
they are checked before any flow. An opted-out person gets silence until they
send a start keyword: at most one confirmation of the opt-out, never more.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence

from babel import Locale, UnknownLocaleError

NEW, LANGUAGE, CONSENT, MENU, MODULE, DELETE_CONFIRM = "new", "language", "consent", "menu", "module", "delete"
# Keywords that mean the same from anywhere in a conversation, most important first.
GLOBAL_ACTIONS = ("stop", "help", "bot", "data", "language", "delete")


@dataclass(frozen=True)
class Turn:
    text: str
    channel: str
    num_media: int = 0


@dataclass(frozen=True)
class Profile:
    locale: str | None = None
    opted_out: bool = False
    consented: bool = False
    region: str | None = None


@dataclass(frozen=True)
class Reply:
    item_id: str
    text: str
    ref: str
    locale: str
    kind: str = "reply"


@dataclass
class Outcome:
    state: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    opt_out: bool = False
    opt_in: bool = False
    locale: str | None = None
    consent: tuple[str, str, str] | None = None  # (decision, wording ref, locale)
    erase: bool = False
    events: list[str] = field(default_factory=list)
    region: str = ""  # the region whose helplines this turn quotes


class Content(Protocol):
    default_locale: str

    def locales(self) -> list[str]: ...
    def render(self, item_id: str, locale: str, channel: str, values: Mapping[str, str] | None = None,
               fallbacks: Sequence[str] = ()) -> Any: ...
    def keyword_actions(self, text: str, locales: Sequence[str]) -> list[str]: ...
    def helplines(self, region_id: str) -> list[Any]: ...
    def menu(self, locale: str) -> list[Any]: ...
    def module(self, module_id: str) -> Any: ...


def native_name(code: str) -> str:
    """A language's name in that language ("Kiswahili", "Español"), for menus."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!?,;:")


class Engine:
    """Runs one turn. Holds only the content and settings, never per-person data."""

    def __init__(self, content: Content, default_region: str = "demo", consent_item: str = "onboarding.consent"):
        self.content = content
        self.default_region = default_region
        self.consent_item = consent_item

    # -- helpers -----------------------------------------------------------------
    def enabled_locales(self) -> list[str]:
        """Locales a person may choose: those whose consent wording is approved."""
        enabled = []
        for locale in self.content.locales():
            rendered = self._try_render(self.consent_item, locale, "sms")
            if rendered is not None and rendered.locale == locale:
                enabled.append(locale)
        return enabled or [self.content.default_locale]

    def _try_render(self, item_id: str, locale: str, channel: str, values: Mapping[str, str] | None = None):
        from content.store import ContentMissing

        try:
            return self.content.render(item_id, locale, channel, values, fallbacks=(self.content.default_locale,))
        except ContentMissing:
            return None

    def helplines_text(self, region: str) -> str:
        return "\n".join(
            f"{h.name}: {h.number}" + (f" ({h.hours})" if h.hours else "") for h in self.content.helplines(region)
        )

    def _say(self, out: Outcome, item_id: str, locale: str, channel: str, kind: str = "reply",
             values: Mapping[str, str] | None = None) -> None:
        merged = {"helplines": self.helplines_text(out.region or self.default_region), **(values or {})}
        rendered = self.content.render(item_id, locale, channel, merged, fallbacks=(self.content.default_locale,))
        out.replies.append(Reply(item_id, rendered.text, rendered.ref, rendered.locale, kind))

    def _language_menu(self, out: Outcome, locale: str, channel: str) -> None:
        options = "\n".join(f"{i}. {native_name(code)}" for i, code in enumerate(self.enabled_locales(), 1))
        self._say(out, "onboarding.choose_language", locale, channel, values={"languages": options})
        out.state.update(flow=LANGUAGE)

    def _main_menu(self, out: Outcome, locale: str, channel: str) -> None:
        entries = self.content.menu(locale)
        listing = "\n".join(f"{e.number}. {e.title}" for e in entries)
        self._say(out, "menu.main", locale, channel, values={"menu": listing})
        out.state.update(flow=MENU)
        out.state.pop("module", None)
        out.state.pop("step", None)

    def _pick_language(self, text: str) -> str | None:
        choices = self.enabled_locales()
        folded = _fold(text)
        if folded.isdigit() and 1 <= int(folded) <= len(choices):
            return choices[int(folded) - 1]
        for code in choices:
            if folded in {_fold(code), _fold(native_name(code))}:
                return code
        return None

    # -- the turn ----------------------------------------------------------------
    def step(self, state: Mapping[str, Any], turn: Turn, profile: Profile) -> Outcome:
        out = Outcome(state=dict(state), region=profile.region or self.default_region)
        locale = profile.locale or self.content.default_locale
        channel = turn.channel
        locales = [locale] + [c for c in self.content.locales() if c != locale]
        actions = self.content.keyword_actions(turn.text, locales) if turn.text.strip() else []
        action = next((a for a in actions if a in GLOBAL_ACTIONS), None)
        reply_action = next((a for a in actions if a not in GLOBAL_ACTIONS and a != "start"), None)

        if profile.opted_out:
            if "start" in actions:
                out.opt_in = True
                out.events.append("opt_in")
                self._say(out, "keywords.start_confirmation", locale, channel)
                if profile.consented:
                    self._main_menu(out, locale, channel)
            return out
        if action == "stop":
            out.opt_out = True
            out.events.append("opt_out")
            self._say(out, "keywords.stop_confirmation", locale, channel, kind="optout_confirmation")
            return out
        if action in {"help", "bot", "data"}:
            self._say(out, f"keywords.{action}", locale, channel)
            return out
        if action == "language":
            self._language_menu(out, locale, channel)
            return out

        flow = out.state.get("flow", NEW)
        if flow == DELETE_CONFIRM:
            return self._delete_confirm(out, reply_action, locale, channel)
        if action == "delete":
            out.state.update(flow=DELETE_CONFIRM, resume=flow)
            self._say(out, "keywords.delete_confirm", locale, channel)
            return out
        if not turn.text.strip() and turn.num_media > 0:
            self._say(out, "fallback.media_only", locale, channel)
            return out

        if flow == NEW:
            self._say(out, "onboarding.welcome", locale, channel)
            if len(self.enabled_locales()) > 1:
                self._language_menu(out, locale, channel)
            else:
                self._ask_consent(out, self.enabled_locales()[0], channel)
            return out
        if flow == LANGUAGE:
            chosen = self._pick_language(turn.text)
            if chosen is None:
                self._language_menu(out, locale, channel)
                return out
            out.locale = chosen
            out.events.append("language_set")
            if profile.consented:
                self._main_menu(out, chosen, channel)
            else:
                self._ask_consent(out, chosen, channel)
            return out
        if flow == CONSENT:
            return self._consent(out, reply_action, out.state.get("consent_locale", locale), channel)
        if not profile.consented:
            self._ask_consent(out, locale, channel)
            return out
        if reply_action == "menu":
            self._main_menu(out, locale, channel)
            return out
        if flow == MODULE:
            return self._module(out, reply_action, turn.text, locale, channel)
        return self._menu_choice(out, turn.text, locale, channel)

    def _ask_consent(self, out: Outcome, locale: str, channel: str) -> None:
        self._say(out, self.consent_item, locale, channel)
        out.state.update(flow=CONSENT, consent_locale=locale)

    def _consent(self, out: Outcome, action: str | None, locale: str, channel: str) -> Outcome:
        if action == "yes":
            wording = self.content.render(self.consent_item, locale, channel, fallbacks=(self.content.default_locale,))
            out.consent = ("given", wording.ref, wording.locale)
            out.locale = out.locale or locale
            out.events.append("consent_given")
            out.state.pop("consent_locale", None)
            self._main_menu(out, locale, channel)
        elif action == "no":
            wording = self.content.render(self.consent_item, locale, channel, fallbacks=(self.content.default_locale,))
            out.consent = ("declined", wording.ref, wording.locale)
            out.events.append("consent_declined")
            self._say(out, "onboarding.consent_declined", locale, channel)
        else:
            self._say(out, self.consent_item, locale, channel)
        return out

    def _delete_confirm(self, out: Outcome, action: str | None, locale: str, channel: str) -> Outcome:
        resume = out.state.pop("resume", MENU)
        if action == "yes":
            out.erase = True
            out.events.append("erasure_requested")
            self._say(out, "keywords.delete_done", locale, channel)
            out.state = {}
        else:
            out.state["flow"] = resume
            self._say(out, "keywords.delete_cancelled", locale, channel)
        return out

    def _menu_choice(self, out: Outcome, text: str, locale: str, channel: str) -> Outcome:
        entries = self.content.menu(locale)
        folded = _fold(text)
        chosen = next((e for e in entries if str(e.number) == folded), None)
        if chosen is None:
            self._say(out, "menu.invalid", locale, channel)
            self._main_menu(out, locale, channel)
            return out
        out.state.update(flow=MODULE, module=chosen.module_id, step=0)
        out.events.append(f"module_started:{chosen.module_id}")
        module = self.content.module(chosen.module_id)
        self._say(out, module.steps[0], locale, channel)
        return out

    def _module(self, out: Outcome, action: str | None, text: str, locale: str, channel: str) -> Outcome:
        module = self.content.module(out.state["module"])
        current = int(out.state.get("step", 0))
        if action == "back":
            if current == 0:
                self._main_menu(out, locale, channel)
                return out
            out.state["step"] = current - 1
            self._say(out, module.steps[current - 1], locale, channel)
            return out
        if action not in {"next", "yes"}:
            # Anything else from inside a module: a menu number starts that module.
            return self._menu_choice(out, text, locale, channel)
        step = current + 1
        if step >= len(module.steps):
            out.events.append(f"module_completed:{module.id}")
            self._main_menu(out, locale, channel)
            return out
        out.state["step"] = step
        self._say(out, module.steps[step], locale, channel)
        return out

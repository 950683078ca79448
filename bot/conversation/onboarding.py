"""Onboarding: the language, the welcome with its AI disclosure, and consent.

Onboarding happens in the person's language from the first reply. When the worker is confident
which served language the first message is in (a sentence, or a greeting such as "Habari"), the
welcome and the consent question come in it. Otherwise the first reply is only the language
menu, the served languages by their own names, and the welcome and consent follow in the
language picked. After consent, when the deployment has several regions and the number did not
settle it, the person is asked where they are (bot.conversation.region).

Every served locale stands equal: a locale is offered when its consent wording is approved and,
in production, when the deployment has signed it off (``served``, see content.serving).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation import handoff, region
from bot.conversation.flow import Context
from bot.conversation.text import english_name, fold, native_name, number
from bot.conversation.types import CONSENT, LANGUAGE, MENU, NEW, Outcome, Profile, Reply, Turn
from bot.conversation.voice import Voice

# The first reply when the language is not known: the served languages by their own names.
LANGUAGE_MENU = "onboarding.languages"
CHOOSE_LANGUAGE = "onboarding.choose_language"
WELCOME = "onboarding.welcome"
DECLINED = "onboarding.consent_declined"
# State: the person asked for a person before consenting ("I need to talk to someone", TALK);
# consent then goes straight to a health worker instead of the menu.
TALK_DUE = "talk_due"


def language_menu(voice: Voice, out: Outcome, locale: str | None, channel: str) -> None:
    """The served languages by their own names; with no ``locale`` (first contact) nothing
    else, so a person who reads none of the other languages still finds theirs."""
    options = "\n".join(f"{i}. {native_name(code)}" for i, code in enumerate(voice.enabled_locales(), 1))
    if locale is None:
        rendered = voice.content.render(LANGUAGE_MENU, voice.content.default_locale, channel,
                                        {"languages": options})
        out.replies.append(Reply(LANGUAGE_MENU, rendered.text, rendered.ref, "mul"))
        out.state["welcome_due"] = True
    else:
        voice.say(out, CHOOSE_LANGUAGE, locale, channel, values={"languages": options})
    out.state["flow"] = LANGUAGE


def onboard(voice: Voice, out: Outcome, locale: str | None, channel: str) -> None:
    """The welcome (with the AI disclosure) and the consent question in the person's language,
    or, when it is not known (``locale`` None or not served), only the language menu."""
    enabled = voice.enabled_locales()
    first = locale if locale in enabled else (enabled[0] if len(enabled) == 1 else None)
    if first is None:
        language_menu(voice, out, None, channel)
        return
    voice.say(out, WELCOME, first, channel)
    ask_consent(voice, out, first, channel)


def ask_consent(voice: Voice, out: Outcome, locale: str, channel: str) -> None:
    voice.say(out, voice.consent_item, locale, channel)
    out.state.update(flow=CONSENT, consent_locale=locale)


def choose_language(voice: Voice, out: Outcome, turn: Turn, profile: Profile, known: str | None,
                    channel: str) -> Outcome:
    """A number or a language's name picks it; a message confidently in a served language
    ("Habari yako", "मुझे नींद नहीं आती") picks that one."""
    choices = voice.enabled_locales()
    folded = fold(turn.text)
    chosen = None
    picked = number(folded)
    if picked is not None and 1 <= picked <= len(choices):
        chosen = choices[picked - 1]
    for code in choices:
        if folded in {fold(code), fold(native_name(code)), fold(english_name(code))}:
            chosen = code
    if chosen is None and voice.detected_locale(turn) in choices:
        chosen = voice.detected_locale(turn)
    if chosen is None:
        again = None if out.state.get("welcome_due") else (profile.locale or known or voice.content.default_locale)
        language_menu(voice, out, again, channel)
        return out
    out.locale = chosen
    out.events.append("language_set")
    if out.state.pop("welcome_due", False):
        voice.say(out, WELCOME, chosen, channel)
    if profile.consented:
        voice.main_menu(out, chosen, channel)
    else:
        ask_consent(voice, out, chosen, channel)
    return out


def consent(voice: Voice, out: Outcome, action: str | None, profile: Profile, locale: str, channel: str) -> Outcome:
    """YES records consent with the wording's version and goes on: to a person, when they asked
    for one before consenting (``TALK_DUE``), else the region question or the menu; NO records
    the refusal; anything else asks again."""
    if action not in {"yes", "no"}:
        voice.say(out, voice.consent_item, locale, channel)
        return out
    wording = voice.render(out, voice.consent_item, locale, channel)
    if action == "yes":
        out.consent = ("given", wording.ref, wording.locale)
        out.locale = out.locale or locale
        out.events.append("consent_given")
        out.state.pop("consent_locale", None)
        if out.state.pop(TALK_DUE, False):
            out.state["flow"] = MENU
            handoff.request(voice, out, locale, channel)
            if region.needs_asking(voice, profile):
                region.ask(voice, out, locale, channel)
        elif region.needs_asking(voice, profile):
            region.ask(voice, out, locale, channel)
        else:
            voice.main_menu(out, locale, channel)
    else:
        out.consent = ("declined", wording.ref, wording.locale)
        out.events.append("consent_declined")
        voice.say(out, DECLINED, locale, channel)
    return out


class LanguageKeyword:
    """LANGUAGE from anywhere: the language menu (in the person's language when it is known)."""

    name = "language_keyword"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword == "language"

    def step(self, ctx: Context) -> Outcome:
        language_menu(self.voice, ctx.out, ctx.known, ctx.channel)
        return ctx.out


class Onboarding:
    """Everything before consent: the welcome, the language, the consent question and its answer.
    Nothing else is done for a person who has not consented, but a request for a person
    (``wants_person``: TALK, or the words) is remembered and acted on once they consent."""

    name = "onboarding"

    def __init__(self, voice: Voice, wants_person: Callable[[Context], bool] | None = None):
        self.voice = voice
        self.wants_person = wants_person or (lambda ctx: ctx.keyword == "talk")

    def handles(self, ctx: Context) -> bool:
        return ctx.flow in (NEW, LANGUAGE, CONSENT) or not ctx.profile.consented

    def step(self, ctx: Context) -> Outcome:
        out = ctx.out
        if ctx.flow != CONSENT or ctx.reply not in ("yes", "no"):
            if self.wants_person(ctx):
                out.state[TALK_DUE] = True
        if ctx.flow == NEW:
            onboard(self.voice, out, ctx.known, ctx.channel)
            return out
        if ctx.flow == LANGUAGE:
            return choose_language(self.voice, out, ctx.turn, ctx.profile, ctx.known, ctx.channel)
        if ctx.flow == CONSENT:
            return consent(self.voice, out, ctx.reply, ctx.profile, out.state.get("consent_locale", ctx.locale),
                           ctx.channel)
        ask_consent(self.voice, out, ctx.locale, ctx.channel)
        return out

"""Free text that is neither a keyword nor a menu number.

The understander (bot.understanding: lexical cues in every served locale, embeddings when
installed) says what the message seems to be about; this decides what the person hears, from
approved content only:

- "talk to someone" in any words: a handoff, as the TALK keyword;
- one clear module: that module;
- emotional content (loneliness, failure, grief, money, family, or distress in general): a
  supportive reply that reflects it back and offers the closest topics as a numbered choice,
  with the TALK keyword;
- two or three close modules: a short numbered question rather than a guess;
- distress the safety gate heard (CONCERN: "i dont see the point anymore") that nothing above
  places: the general supportive reply, never "Sorry, I didn't understand";
- thanks ("thank you", "asante", "merci"): a short welcome with MENU and TALK; asking what
  there is ("what can you do", "ok", "hello" after consent): the main menu;
- otherwise the dialogue model when it is on (its reply ends with the closest topics and
  TALK), and only then "Sorry, I didn't understand".

Numbers in a choice are the main menu's own, so "2" means Sleep wherever the person is.
"""

from __future__ import annotations

from typing import Any

from bot.conversation import handoff, topics
from bot.conversation.flow import Context
from bot.conversation.types import Dialogue, Outcome, Reply, Understanding
from bot.conversation.voice import Voice
from content.errors import ContentMissing

MAX_OPTIONS = 3
SUPPORT = "support.{theme}"
SUPPORT_GENERAL = "support.general"
WHICH = "intent.which"
GENERATED_OPTIONS = "dialogue.options"
NOT_UNDERSTOOD = "fallback.not_understood"
THANKS = "fallback.thanks"
GENERAL_TARGETS = ("module:stress", "module:activity", "screening:phq2")


def understand(intents: Any, text: str, locale: str) -> Understanding:
    if intents is None or not text.strip():
        return Understanding()
    if hasattr(intents, "understand"):
        understood: Understanding = intents.understand(text, locale)
        return understood
    module_id = intents(text, locale)  # the older, module-only form
    return Understanding(targets=(f"module:{module_id}",), confident=True) if module_id else Understanding()


def options(voice: Voice, out: Outcome, locale: str, targets: tuple[str, ...]) -> tuple[list[str], str]:
    """(the targets offered, the numbered lines), using the main menu's numbers."""
    entries = {target: (n, title) for n, target, title in voice.menu_entries(locale, voice.fallbacks(out))}
    chosen = [t for t in dict.fromkeys(targets) if t in entries][:MAX_OPTIONS]
    return chosen, "\n".join(f"{entries[t][0]}. {entries[t][1]}" for t in chosen)


def support(voice: Voice, out: Outcome, locale: str, channel: str) -> Outcome:
    """The general supportive reply: the closest general topics, numbered, and TALK."""
    offered, listing = options(voice, out, locale, GENERAL_TARGETS)
    out.audit.append(("intent.supported", {"theme": "distress", "offered": offered}))
    voice.say(out, SUPPORT_GENERAL, locale, channel, values={"options": listing})
    return out


def answer(voice: Voice, intents: Any, dialogue: Dialogue | None, out: Outcome, text: str, locale: str,
           channel: str, text_lang: str | None) -> Outcome:
    """What the person hears (see the module's docstring); ``intents`` is the Understander or
    the older module-only matcher, ``dialogue`` the guarded dialogue model (None: off)."""
    understood = understand(intents, text, locale)
    if understood.talk:
        out.audit.append(("intent.talk", {}))
        return handoff.request(voice, out, locale, channel)
    if understood.theme is None and understood.targets and (understood.confident or len(understood.targets) == 1):
        target = understood.targets[0]
        if any(t == target for _, t, _ in voice.menu_entries(locale, voice.fallbacks(out))):
            out.audit.append(("intent.matched", {"target": target}))
            return topics.go(voice, out, target, locale, channel)
    if understood.theme is not None:
        offered, listing = options(voice, out, locale, (*understood.targets, *GENERAL_TARGETS))
        out.audit.append(("intent.supported", {"theme": understood.theme, "offered": offered}))
        try:
            voice.say(out, SUPPORT.format(theme=understood.theme), locale, channel, values={"options": listing})
        except ContentMissing:
            voice.say(out, SUPPORT_GENERAL, locale, channel, values={"options": listing})
        return out
    if len(understood.targets) >= 2:
        offered, listing = options(voice, out, locale, understood.targets)
        out.audit.append(("intent.asked", {"offered": offered}))
        voice.say(out, WHICH, locale, channel, values={"options": listing})
        return out
    if out.distress:
        # The gate heard distress the understander could not place: never "didn't understand".
        return support(voice, out, locale, channel)
    if understood.social == "menu":
        out.audit.append(("intent.menu", {}))
        voice.main_menu(out, locale, channel)
        return out
    if understood.social == "thanks":
        out.audit.append(("intent.thanks", {}))
        voice.say(out, THANKS, locale, channel)
        return out
    if dialogue is not None and text.strip():
        generated = dialogue(text, locale, text_lang or locale, out.region or voice.default_region)
        if generated is not None and generated.text:
            out.replies.append(Reply("generated", generated.text, generated.ref, locale, kind="generated"))
            out.audit.append(("reply.generated", {"model": generated.ref}))
            _, listing = options(voice, out, locale, (*understood.nearest, *GENERAL_TARGETS))
            voice.say(out, GENERATED_OPTIONS, locale, channel, values={"options": listing})
            return out
        if generated is not None:
            out.audit.append(("generation.blocked", {"rule": generated.blocked_rule, "model": generated.ref}))
            voice.say(out, "fallback.generation_blocked", locale, channel)
            return out
    out.audit.append(("intent.not_understood", {}))
    voice.say(out, NOT_UNDERSTOOD, locale, channel)
    return out


class FreeText:
    """Words that are neither a keyword nor a menu number (see the module's docstring)."""

    name = "free_text"

    def __init__(self, voice: Voice, intents: Any = None, dialogue: Dialogue | None = None):
        self.voice = voice
        self.intents = intents  # an Understander, or the older module-only matcher; None: off
        self.dialogue = dialogue  # the guarded dialogue model; None: off

    def handles(self, ctx: Context) -> bool:
        return True

    def step(self, ctx: Context) -> Outcome:
        return answer(self.voice, self.intents, self.dialogue, ctx.out, ctx.text, ctx.locale, ctx.channel,
                      ctx.turn.text_lang)


class MediaOnly:
    """A picture, voice note or file with no words: say that only text is read."""

    name = "media_only"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return not ctx.text.strip() and ctx.turn.num_media > 0

    def step(self, ctx: Context) -> Outcome:
        self.voice.say(ctx.out, "fallback.media_only", ctx.locale, ctx.channel)
        return ctx.out

"""Where a person is: asked once after consent, when the number did not settle it.

The region decides which helplines crisis replies and HELP quote, and which
language replies fall back to. The worker first tries the number's country
(bot.regions); the engine asks only when the deployment has more than one
region and the person's is still unknown, and only after consent. A person
may answer with the number or the name of a region, skip with MENU (the
deployment's default region then applies), or change it later with the
REGION keyword.
"""

from __future__ import annotations

from typing import Any

from bot.conversation.flow import Context
from bot.conversation.text import fold, number
from bot.conversation.types import REGION, Outcome, Profile
from bot.conversation.voice import Voice

ASK_ITEM = "onboarding.choose_region"
SKIP_ACTIONS = ("menu",)


def needs_asking(voice: Voice, profile: Profile) -> bool:
    """Several regions, and none of them is the person's yet."""
    regions = voice.regions()
    return len(regions) > 1 and profile.region not in {r.id for r in regions}


def ask(voice: Voice, out: Outcome, locale: str, channel: str) -> None:
    listing = "\n".join(f"{n}. {r.name}" for n, r in enumerate(voice.regions(), 1))
    voice.say(out, ASK_ITEM, locale, channel, values={"regions": listing})
    out.state["flow"] = REGION


def match(voice: Voice, text: str) -> Any:
    """The region a reply names: its number in the list, its name or its id; None otherwise."""
    regions = voice.regions()
    folded = fold(text)
    picked = number(folded)
    if picked is not None and 1 <= picked <= len(regions):
        return regions[picked - 1]
    return next((r for r in regions if folded and folded in {fold(r.id), fold(r.name)}), None)


def choose(voice: Voice, out: Outcome, text: str, action: str | None, locale: str, channel: str) -> Outcome:
    """A reply to the question (the person has consented): record the region, then the menu."""
    chosen = match(voice, text)
    if chosen is None and action not in SKIP_ACTIONS:
        ask(voice, out, locale, channel)
        return out
    if chosen is not None:
        out.region = out.region_chosen = chosen.id
        out.audit.append(("region_set", {"region": chosen.id, "source": "chosen"}))
    voice.main_menu(out, locale, channel)
    return out


class RegionKeyword:
    """REGION, once consented and where there is a choice: ask again where the person is."""

    name = "region_keyword"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword == "region" and ctx.profile.consented and len(self.voice.regions()) > 1

    def step(self, ctx: Context) -> Outcome:
        ask(self.voice, ctx.out, ctx.locale, ctx.channel)
        return ctx.out


class RegionChoice:
    """The answer to the region question."""

    name = "region"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.flow == REGION

    def step(self, ctx: Context) -> Outcome:
        return choose(self.voice, ctx.out, ctx.text, ctx.reply, ctx.locale, ctx.channel)

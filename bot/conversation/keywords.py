"""The keywords that work from anywhere in a conversation, each a flow of its own.

STOP, START, HELP, BOT and DATA are the carrier keywords: STOP silences everything but a crisis
case until START, and HELP, BOT and DATA say what the service is, that it is automated, and how
long it keeps messages. Once a person has consented, PAUSE, RESUME and TIME set their reminders:
the engine only leaves a request in ``Outcome.audit`` ("schedule.*") and the worker turns it
into settings (workers.scheduling), so the engine stays free of clocks and time zones.

Each keyword is matched in every enabled language (content keyword sets), the person's first.
Where each stands in a turn is the engine's order of precedence (bot.conversation.engine).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation import crisis
from bot.conversation.flow import Context
from bot.conversation.types import Content, Outcome
from bot.conversation.voice import Voice
from core.timezones import InvalidTimeOfDay, QuietHours, format_clock, parse_time_request

INFO_ACTIONS = ("help", "bot", "data")
SCHEDULE_ACTIONS = ("pause", "resume")


class OptedOut:
    """A person who sent STOP hears nothing until START; a crisis still opens a case, silently."""

    name = "opted_out"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.profile.opted_out

    def step(self, ctx: Context) -> Outcome:
        out = ctx.out
        if ctx.turn.risk >= crisis.CRISIS:
            crisis.escalate_silently(self.voice, out, ctx.turn)
        if "start" in ctx.actions:
            out.opt_in = True
            out.events.append("opt_in")
            self.voice.say(out, "keywords.start_confirmation", ctx.locale, ctx.channel)
            if ctx.profile.consented:
                self.voice.main_menu(out, ctx.locale, ctx.channel)
        return out


class Stop:
    """STOP: opt out at once, whatever the flow, and say so once."""

    name = "stop"

    def __init__(self, voice: Voice):
        self.voice = voice

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword == "stop"

    def step(self, ctx: Context) -> Outcome:
        ctx.out.opt_out = True
        ctx.out.events.append("opt_out")
        self.voice.say(ctx.out, "keywords.stop_confirmation", ctx.locale, ctx.channel, kind="optout_confirmation")
        return ctx.out


class Info:
    """HELP, BOT and DATA: what the service is, that replies are automated, what is kept and how long.
    The person stays where they were."""

    name = "info"

    def __init__(self, voice: Voice, data_days: int):
        self.voice = voice
        self.data_days = data_days  # the DATA reply's promise: messages and health data go after this

    def handles(self, ctx: Context) -> bool:
        return ctx.keyword in INFO_ACTIONS

    def step(self, ctx: Context) -> Outcome:
        self.voice.say(ctx.out, f"keywords.{ctx.keyword}", ctx.locale, ctx.channel,
                       values={"days": str(self.data_days)})
        return ctx.out


@dataclass(frozen=True)
class TimeRequest:
    """A TIME message: the minute of the day asked for and its zone; ``minute`` None when the
    time could not be read (the person is told how to write it)."""

    minute: int | None
    zone: str | None = None


def read_time(content: Content, text: str, locales: list[str]) -> TimeRequest | None:
    """TIME 7, TIME 18:30, TIME 7 UTC+3 (the keyword may be two words); None when the message is
    not a TIME request, as when "time" is an ordinary word in a sentence."""
    words = text.split()
    for size in (1, 2):
        if len(words) < size or "time" not in content.keyword_actions(" ".join(words[:size]), locales):
            continue
        argument = " ".join(words[size:])
        try:
            minute, zone = parse_time_request(argument)
        except InvalidTimeOfDay:
            if argument and not argument[:1].isdigit():
                return None
            return TimeRequest(None)
        return TimeRequest(minute, zone)
    return None


class Schedule:
    """PAUSE, RESUME and TIME: when reminders come, asked of the worker; TIME is kept out of
    the quiet hours."""

    name = "schedule"

    def __init__(self, voice: Voice, quiet_hours: QuietHours):
        self.voice = voice
        self.quiet_hours = quiet_hours

    def handles(self, ctx: Context) -> bool:
        return ctx.reply in SCHEDULE_ACTIONS or read_time(self.voice.content, ctx.text, ctx.locales) is not None

    def step(self, ctx: Context) -> Outcome:
        out = ctx.out
        if ctx.reply in SCHEDULE_ACTIONS:
            out.audit.append((f"schedule.{ctx.reply}", {}))
            self.voice.say(out, f"keywords.{ctx.reply}_confirmation", ctx.locale, ctx.channel)
            return out
        request = read_time(self.voice.content, ctx.text, ctx.locales)
        if request is None or request.minute is None:
            self.voice.say(out, "keywords.time_help", ctx.locale, ctx.channel)
            return out
        minute = self.quiet_hours.clamp(request.minute)
        out.audit.append(("schedule.time", {"minute": minute, "zone": request.zone}))
        self.voice.say(out, "keywords.time_confirmation", ctx.locale, ctx.channel,
                       values={"time": format_clock(minute)})
        return out

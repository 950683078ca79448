"""Crisis pathways: the message ids every library needs and the services a pathway names.

A pathway (library.yaml) gives each risk category its first reply, follow-up and steps,
and the kinds of service its ``{helplines}`` names. These ids are shared by every locale:
translations reuse them with the same ``{placeholders}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from content.schema import Helpline, Pathway

# Sent whatever the category: harm already under way (the emergency number first, the same
# again to anything but YES, and what to tell the people helping once YES says help is there),
# and the wording of a closed service. A pathway may have its own ``crisis.<category>.in_progress``
# wording of the first three.
IN_PROGRESS = "crisis.in_progress"
IN_PROGRESS_FOLLOWUP = "crisis.in_progress.followup"
IN_PROGRESS_HELP = "crisis.in_progress.help"
OPENS_TODAY = "crisis.service_opens.today"
OPENS_LATER = "crisis.service_opens.later"
PATHWAY_MESSAGE_IDS = (IN_PROGRESS, IN_PROGRESS_FOLLOWUP, IN_PROGRESS_HELP, OPENS_TODAY, OPENS_LATER)

SAFETY_PLAN_STEPS = tuple(f"crisis.safety_plan.{n}" for n in range(1, 6))
# A crisis with no category (a screening answer, an older gate) or one the library has no
# pathway for: the general reply and the safety plan, crisis lines first.
GENERAL = Pathway(
    category="",
    severity="high",
    services=("crisis", "emergency"),
    reply="crisis.immediate",
    followup="crisis.followup",
    steps=SAFETY_PLAN_STEPS,
)
# What ``{helplines}`` lists outside a crisis pathway (HELP, the get-help module, screening
# results): the region's lines for mental-health support, not its specialised services.
GENERAL_SERVICES = ("crisis", "mental_health", "health")


def serving(helplines: Iterable[Helpline], services: Sequence[str]) -> list[Helpline]:
    """The helplines that serve any of ``services``, in the order of ``services``."""
    every = list(helplines)
    picked: list[Helpline] = []
    for service in services:
        picked += [h for h in every if service in h.serves and h not in picked]
    return picked


def general(helplines: Iterable[Helpline]) -> list[Helpline]:
    """The lines ``{helplines}`` names outside a pathway (every line when none is general)."""
    every = list(helplines)
    return [h for h in every if set(h.serves) & set(GENERAL_SERVICES)] or every

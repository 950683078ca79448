"""Checks on crisis pathways and the services they point to.

Every risk category the safety gate can raise needs a pathway with its own first reply and
follow-up; every region needs an emergency number and services whose opening hours can be
read, so a crisis reply never names a closed service as open.
"""

from __future__ import annotations

from collections.abc import Iterator

from content.hours import InvalidHours, OpeningHours
from content.pathways import GENERAL, serving
from content.problems import Problem, error, warning
from content.render import format_emergency, format_helpline
from content.schema import CASE_SEVERITIES, RISK_CATEGORIES, SERVICES, Library, Region

# How a closed service reads in a reply, for sizing ("... (opens Wednesday at 08:00)").
_CLOSED_EXAMPLE = " (opens Wednesday at 08:00)"


def helplines_examples(library: Library, region: Region) -> dict[str, str]:
    """Message id -> the longest ``{helplines}`` its pathways can render in ``region``, for sizing."""
    found: dict[str, str] = {}
    for pathway in (GENERAL, *library.settings.pathways):
        lines = []
        for helpline in serving(region.helplines, pathway.services):
            try:
                always = OpeningHours.parse(helpline.opening_hours).always
            except InvalidHours:
                always = False
            lines.append(format_helpline(helpline) + ("" if always else _CLOSED_EXAMPLE))
        if region.emergency is not None:
            lines.append(format_emergency(region.emergency))
        text = "\n".join(lines)
        for message_id in (pathway.reply, pathway.followup, *pathway.steps):
            if len(text) > len(found.get(message_id, "")):
                found[message_id] = text
    return found


def check_pathways(library: Library) -> Iterator[Problem]:
    """Pathways (library.yaml) and region services, in a stable order."""
    yield from _check_definitions(library)
    yield from _check_services(library)


def _check_definitions(library: Library) -> Iterator[Problem]:
    pathways = library.settings.pathways
    messages = {m.id: m for m in library.messages}
    seen: set[str] = set()
    for pathway in pathways:
        where = {"item_id": f"pathway:{pathway.category}", "origin": "library.yaml"}
        if pathway.category not in RISK_CATEGORIES:
            yield error(
                "pathway",
                f"'{pathway.category}' is not a risk category (use one of {', '.join(RISK_CATEGORIES)})",
                **where,
            )
        if pathway.category in seen:
            yield error("pathway", "this category has two pathways; keep one", **where)
        seen.add(pathway.category)
        if pathway.severity not in CASE_SEVERITIES:
            yield error(
                "pathway",
                f"severity '{pathway.severity}' is not one of {', '.join(CASE_SEVERITIES)}",
                **where,
            )
        unknown = [s for s in pathway.services if s not in SERVICES]
        if unknown:
            yield error(
                "pathway",
                f"unknown service(s) {', '.join(unknown)} (use {', '.join(SERVICES)})",
                **where,
            )
        if not pathway.services:
            yield error("pathway", "names no services; a person in crisis must be pointed to help", **where)
        for message_id in (pathway.reply, pathway.followup, *pathway.steps):
            message = messages.get(message_id)
            if message is None:
                yield error("pathway", f"refers to '{message_id}', which does not exist", **where)
            elif message.kind != "crisis":
                yield error(
                    "pathway",
                    f"'{message_id}' is not crisis text; keep pathway messages in crisis.yaml",
                    **where,
                )
    if pathways:
        for category in RISK_CATEGORIES:
            if category not in seen:
                yield error(
                    "pathway",
                    f"no pathway for '{category}'; the safety gate raises it, so add its reply and follow-up",
                    origin="library.yaml",
                )


def _check_services(library: Library) -> Iterator[Problem]:
    for region in library.regions:
        where = {"origin": region.origin}
        if region.emergency is None:
            yield warning(
                "emergency",
                f"region '{region.id}' has no emergency number; add 'emergency: {{number: ...}}' so replies "
                "about harm under way can give it",
                **where,
            )
        elif region.emergency.placeholder:
            yield warning(
                "placeholder-helpline",
                f"region '{region.id}': the emergency number is a placeholder; replace it before going live",
                **where,
            )
        offered: set[str] = set()
        for helpline in region.helplines:
            unknown = [s for s in helpline.serves if s not in SERVICES]
            if unknown or not helpline.serves:
                yield error(
                    "region",
                    f"region '{region.id}': helpline '{helpline.name}' serves "
                    f"'{', '.join(unknown) or 'nothing'}'; use one or more of {', '.join(SERVICES)}",
                    **where,
                )
            offered |= set(helpline.serves)
            try:
                hours = OpeningHours.parse(helpline.opening_hours)
            except InvalidHours as exc:
                yield error("region", f"region '{region.id}': helpline '{helpline.name}' opening_hours: {exc}", **where)
                continue
            if not hours.known:
                yield warning(
                    "opening-hours",
                    f"region '{region.id}': helpline '{helpline.name}' has no opening_hours (e.g. '24/7' or "
                    "'mon-fri 08:00-17:00'); until it does, crisis replies cannot say whether it is open",
                    **where,
                )
        for pathway in library.settings.pathways:
            wanted = [s for s in pathway.services if s != "emergency"]
            if wanted and not offered & set(wanted):
                yield warning(
                    "pathway-services",
                    f"region '{region.id}' has no service for {', '.join(wanted)}; '{pathway.category}' "
                    "replies will give only the emergency number",
                    **where,
                )

"""Turning stored text into what a person reads: placeholders, menus, helpline lists."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from content.errors import MissingValue
from content.schema import PLACEHOLDER, Emergency, Helpline


@dataclass(frozen=True)
class Rendered:
    """Text ready for composing, with the reference logged alongside the reply.

    ``ref`` is ``item_id@version``; together with ``locale`` it names the exact wording sent.
    """

    text: str
    ref: str
    locale: str
    item_id: str
    version: int
    status: str = "approved"


@dataclass(frozen=True)
class MenuEntry:
    """One numbered line of the main menu."""

    number: int
    module_id: str
    title: str


def fill(body: str, values: Mapping[str, str] | None, item_id: str = "") -> str:
    """Replace ``{name}`` placeholders in one pass; a missing value is an error, not a blank."""
    values = values or {}

    def replace(match: object) -> str:
        name = match.group(1)  # type: ignore[attr-defined]
        if name not in values:
            raise MissingValue(f"'{item_id}' needs a value for {{{name}}}")
        return str(values[name])

    return PLACEHOLDER.sub(replace, body)


def fill_examples(body: str, values: Mapping[str, str]) -> str:
    """Like :func:`fill`, but unknown placeholders stay as written (for length estimates)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def format_menu(entries: Iterable[MenuEntry]) -> str:
    """The ``{menu}`` value: one "number title" line per entry, short enough for SMS."""
    return "\n".join(f"{entry.number} {entry.title}" for entry in entries)


def format_helplines(helplines: Iterable[Helpline]) -> str:
    """The ``{helplines}`` value: name, number and hours, one per line."""
    lines = []
    for helpline in helplines:
        shown = helpline.hours or helpline.opening_hours
        hours = f" ({shown})" if shown else ""
        lines.append(f"{helpline.name}: {helpline.number}{hours}")
    return "\n".join(lines)


def format_helpline(helpline: Helpline) -> str:
    """One service as a person reads it: "Name: number"."""
    return f"{helpline.name}: {helpline.number}"


def format_emergency(emergency: Emergency) -> str:
    """The ``{emergency}`` value: the number, after its name when it has one."""
    return f"{emergency.name}: {emergency.number}" if emergency.name else emergency.number

"""Imports go through review: a spreadsheet or YAML folder cannot approve its own content.

A file can say ``status: approved`` for anything, so by default an import keeps the review
workflow the portal enforces for edits:

- wording that is new or changed and claims approval is held ``in_review``. A change to an
  approved text becomes a new version beside it, so what people are sent today stays approved
  until a reviewer approves the change (a crisis message never drops out of service);
- an unchanged text keeps the status the library already gives it: an import neither approves
  nor retires anything;
- keyword sets and glossaries follow the same rules;
- structures (modules, courses, screenings, regions with their helplines, library settings)
  have no review in the portal, so any change to them is refused.

An admin can import statuses as written with ``--approved-by EMAIL``; the account is checked
and the import audited by the web app (``tumaini.import_approver``; see bot.portal.imports).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from content.errors import ImportRejected
from content.schema import Glossary, KeywordSet, Library, Status, Text
from content.tables import Update


@dataclass
class Held:
    """What an import holds for review, as "item/locale@version" (texts) or "keywords/locale@version"."""

    items: list[str] = field(default_factory=list)


def _next_version(taken: Iterable[int]) -> int:
    return max(taken, default=0) + 1


def _gate(before: Any, after: Any, versions: set[int], name: str, held: Held) -> Any:
    """The imported item as it may enter the library without a reviewer."""
    if before is not None and replace(after, status=before.status) == before:
        return before  # unchanged wording: the library's own status stands
    if after.status != Status.APPROVED:
        return after
    if before is not None and before.status == Status.APPROVED:
        version = _next_version(versions)
        versions.add(version)
        after = replace(after, version=version)
    held.items.append(f"{name}@{after.version}")
    return replace(after, status=Status.IN_REVIEW)


def _texts(base: Library, update: Update, held: Held) -> dict[str, list[Text]]:
    current = {m.id: m for m in base.messages}
    gated: dict[str, list[Text]] = {}
    for message_id, texts in update.texts.items():
        existing = current[message_id].texts if message_id in current else ()
        by_key = {(t.locale, t.version): t for t in existing}
        versions: dict[str, set[int]] = {}
        for t in (*existing, *texts):
            versions.setdefault(t.locale, set()).add(t.version)
        gated[message_id] = [
            _gate(by_key.get((t.locale, t.version)), t, versions[t.locale], f"{message_id}/{t.locale}", held)
            for t in texts
        ]
    return gated


def _sets(existing: Iterable[Any], new: list[Any], kind: str, held: Held) -> list[Any]:
    by_key = {(s.locale, s.version): s for s in existing}
    versions: dict[str, set[int]] = {}
    for s in (*by_key.values(), *new):
        versions.setdefault(s.locale, set()).add(s.version)
    return [_gate(by_key.get((s.locale, s.version)), s, versions[s.locale], f"{kind}/{s.locale}", held) for s in new]


def _structures(base: Library, update: Update) -> None:
    current: dict[tuple[str, str], Any] = {("library", "library"): base.settings}
    for kind, items in (("module", base.modules), ("course", base.courses), ("screening", base.screenings),
                        ("region", base.regions)):
        current.update({(kind, item.id): item for item in items})
    changed = sorted(f"{kind} '{item_id}'" for (kind, item_id), item in update.structures.items()
                     if current.get((kind, item_id)) != item)
    if changed:
        raise ImportRejected(
            f"the import changes {', '.join(changed)}: structures (modules, courses, screenings, regions "
            "and their helplines, library settings) have no review step, so only an admin may import "
            "them, with --approved-by; nothing was imported"
        )


def hold_for_review(base: Library, update: Update) -> tuple[Update, Held]:
    """The update as it may enter ``base`` without a reviewer, and what it holds for review."""
    _structures(base, update)
    held = Held()
    gated = Update(
        texts=_texts(base, update, held),
        message_fields=update.message_fields,
        structures=update.structures,
        keyword_sets=[s for s in _sets(base.keyword_sets, update.keyword_sets, "keywords", held)
                      if isinstance(s, KeywordSet)],
        glossaries=[g for g in _sets(base.glossaries, update.glossaries, "glossary", held) if isinstance(g, Glossary)],
    )
    return gated, held

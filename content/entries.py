"""Text entries in content files: one locale's wording of a message, with its defaults.

Every file kind that carries text (messages, crisis, module, course, screening) reads its
entries through :class:`TextEntries`, which also assembles the entries of all files and
locales into :class:`~content.schema.Message` objects and reports inconsistencies.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, fields

from content.schema import Message, Provenance, Status, Text
from content.yamlnodes import Node

PROVENANCE_FIELDS = frozenset(f.name for f in fields(Provenance))
TEXT_FIELDS = frozenset(
    {"sms", "whatsapp", "version", "status", "provenance", "source_version", "source_locale", "budget"}
)
VALID_ID = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclass(frozen=True)
class Defaults:
    """What entries inherit from their file or structure when they do not say."""

    locale: str
    source_locale: str
    version: int = 1
    status: Status | None = None
    provenance: tuple[tuple[str, object], ...] = ()
    source_version: int | None = None


@dataclass(frozen=True)
class Entry:
    """One version of one text as read, before messages are assembled."""

    message_id: str
    text: Text
    source_locale: str
    kind: str
    budget: int | None


class TextEntries:
    """Collects text entries from every file, then assembles them into messages."""

    def __init__(self, source_locale: str) -> None:
        self.source_locale = source_locale
        self.entries: dict[str, list[Entry]] = defaultdict(list)

    def defaults(self, top: dict[str, Node], locale: str, source_locale: str | None = None) -> Defaults:
        """Defaults from a file's ``defaults`` block or a structure's top level."""
        status = read_status(top["status"]) if "status" in top else None
        return Defaults(
            locale=locale,
            source_locale=source_locale
            or (top["source_locale"].text() if "source_locale" in top else self.source_locale),
            version=top["version"].integer() if "version" in top else 1,
            status=status,
            provenance=tuple(provenance_fields(top["provenance"]).items()) if "provenance" in top else (),
            source_version=top["source_version"].optional_integer() if "source_version" in top else None,
        )

    def read(
        self,
        message_id: str,
        node: Node,
        defaults: Defaults,
        kind: str = "message",
        extra: frozenset[str] = frozenset(),
        source_locale: str | None = None,
    ) -> dict[str, Node]:
        """Read one text entry and return its extra (structure) fields.

        An entry is a string (the SMS body), a block (sms, whatsapp, version, status...),
        or a list of blocks when several versions of the text are kept (say an approved
        one and the draft replacing it); structure fields go on the first block.
        """
        if not VALID_ID.match(message_id):
            node.fail(f"'{message_id}' is not a valid id (lowercase letters, digits, _ and dots)")
        if node.is_sequence():
            versions = node.items()
            if not versions:
                node.fail(f"'{message_id}': the list of versions is empty")
            extras = self._version(message_id, versions[0], defaults, kind, extra, source_locale)
            for later in versions[1:]:
                if self._version(message_id, later, defaults, kind, extra, source_locale):
                    later.fail(f"'{message_id}': put fields like {', '.join(sorted(extra))} on the first version only")
            return extras
        return self._version(message_id, node, defaults, kind, extra, source_locale)

    def _version(
        self,
        message_id: str,
        node: Node,
        defaults: Defaults,
        kind: str,
        extra: frozenset[str],
        source_locale: str | None,
    ) -> dict[str, Node]:
        fields_ = {} if not node.is_mapping() else node.mapping(TEXT_FIELDS | extra, ("sms",))
        sms = (fields_["sms"] if fields_ else node).text().strip()
        if not sms:
            node.fail(f"'{message_id}': the SMS body is empty")
        status_node = fields_.get("status")
        status = read_status(status_node) if status_node else defaults.status
        if status is None:
            node.fail(f"'{message_id}': no status; set 'status' on the entry or in the file")
        provenance = dict(defaults.provenance)
        if "provenance" in fields_:
            provenance.update(provenance_fields(fields_["provenance"]))
        whatsapp = fields_["whatsapp"].optional_text() if "whatsapp" in fields_ else None
        text = Text(
            locale=defaults.locale,
            version=fields_["version"].integer() if "version" in fields_ else defaults.version,
            status=status,
            sms=sms,
            provenance=make_provenance(provenance, node),
            whatsapp=whatsapp.strip() if whatsapp and whatsapp.strip() else None,
            source_version=fields_["source_version"].optional_integer()
            if "source_version" in fields_
            else defaults.source_version,
            origin=node.entry_origin,
        )
        entry_source = (
            fields_["source_locale"].text() if "source_locale" in fields_ else (source_locale or defaults.source_locale)
        )
        budget = fields_["budget"].integer() if "budget" in fields_ else None
        self.entries[message_id].append(Entry(message_id, text, entry_source, kind, budget))
        return {k: v for k, v in fields_.items() if k in extra}

    def messages(self, problems: list[str], require_sources: bool = True) -> list[Message]:
        """Every message, appending inconsistencies across files to ``problems``.

        ``require_sources=False`` accepts translations whose source text is elsewhere
        (a translation pack to be merged into a library).
        """
        return [
            self._message(message_id, entries, problems, require_sources)
            for message_id, entries in self.entries.items()
        ]

    def _message(self, message_id: str, entries: list[Entry], problems: list[str], require_sources: bool) -> Message:
        sources = {e.source_locale for e in entries}
        first = entries[0].text.origin
        if len(sources) > 1:
            problems.append(
                f"{first}: '{message_id}' is given different source locales ({', '.join(sorted(sources))}); keep one"
            )
        source_locale = sorted(sources)[0]
        definitions = [e for e in entries if e.text.locale == source_locale]
        if not definitions and require_sources:
            problems.append(
                f"{first}: '{message_id}' has no {source_locale} text; translations need the source text "
                f"in the {source_locale} files (or fix the id if it is misspelt)"
            )
        seen: dict[tuple[str, int], str] = {}
        for entry in entries:
            key = (entry.text.locale, entry.text.version)
            if key in seen:
                problems.append(
                    f"{entry.text.origin}: '{message_id}' {key[0]} version {key[1]} is also at {seen[key]}; "
                    "give the newer one a higher version"
                )
            seen[key] = entry.text.origin
        kinds = {e.kind for e in definitions} or {"message"}
        budgets = {e.budget for e in definitions if e.budget is not None}
        if len(kinds) > 1 or len(budgets) > 1:
            problems.append(f"{first}: versions of '{message_id}' disagree on crisis kind or SMS budget")
        budget = budgets.pop() if len(budgets) == 1 else None
        return Message(message_id, source_locale, tuple(e.text for e in entries), sorted(kinds)[0], budget, first)


def read_status(node: Node) -> Status:
    """A review status, rejecting typos rather than guessing."""
    value = node.text()
    try:
        return Status(value)
    except ValueError:
        node.fail(f"status '{value}' is not one of: {', '.join(s.value for s in Status)}")


def required_status(defaults: Defaults, node: Node) -> Status:
    """Structures and sets must say their status; there is no safe default."""
    if defaults.status is None:
        node.fail("missing 'status' (draft, in_review, approved or retired)")
    return defaults.status


def provenance_fields(node: Node) -> dict[str, object]:
    """Provenance fields as given; merged over defaults so entries only say what differs."""
    result: dict[str, object] = {}
    for name, value in node.mapping(set(PROVENANCE_FIELDS)).items():
        result[name] = value.texts() if name == "evidence_sources" else value.text().strip()
    return result


def make_provenance(values: dict[str, object], node: Node) -> Provenance:
    """Provenance with an author: every text must say who wrote it."""
    if not values.get("author"):
        node.fail("provenance needs an 'author' (who wrote this text)")
    return Provenance(**values)  # type: ignore[arg-type]

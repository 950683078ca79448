"""A library as tables (what content teams edit in a spreadsheet) and back.

Four tables:

* ``texts``: one row per message x locale x version, with the SMS and WhatsApp bodies
  side by side, review status and provenance. ``sms_segments``, ``owner`` and
  ``source_sms`` are computed for the editor's benefit and ignored on import.
* ``keywords``: one row per locale x version x action, words separated by commas.
* ``glossary``: one row per locale x version x term.
* ``structure``: one row per module, course, screening instrument, region and the
  library settings, the definition as JSON (changed rarely, by the content lead).

Import merges rows into an existing library: a row replaces the text with the same
id, locale and version, or adds it. Nothing is deleted by import; retire instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from content.errors import ImportRejected
from content.plain import PlainDataError, from_plain, to_plain
from content.schema import (
    KEYWORD_ACTIONS,
    MESSAGE_KINDS,
    Course,
    Glossary,
    KeywordSet,
    Library,
    Message,
    Module,
    Provenance,
    Region,
    Screening,
    Settings,
    Status,
    Text,
)
from core.sms import gsm_safe, segment_info

PROVENANCE_COLUMNS = [f.name for f in fields(Provenance)]
COLUMNS = {
    "texts": [
        "id",
        "locale",
        "version",
        "status",
        "sms",
        "whatsapp",
        "sms_segments",
        "owner",
        "source_sms",
        "kind",
        "source_locale",
        "source_version",
        "sms_budget",
        *PROVENANCE_COLUMNS,
    ],
    "keywords": ["locale", "version", "status", "action", "words", *PROVENANCE_COLUMNS],
    "glossary": ["locale", "version", "status", "term", "translation", *PROVENANCE_COLUMNS],
    "structure": ["kind", "id", "version", "status", "definition", *PROVENANCE_COLUMNS],
}
READ_ONLY = frozenset({"sms_segments", "owner", "source_sms"})
REQUIRED = {
    "texts": ("id", "locale", "version", "status", "sms", "author"),
    "keywords": ("locale", "version", "status", "action", "words", "author"),
    "glossary": ("locale", "version", "status", "term", "translation", "author"),
    "structure": ("kind", "id", "definition"),
}
STRUCTURE_KINDS = {"module": Module, "course": Course, "screening": Screening, "region": Region, "library": Settings}
_STRUCTURE_SHARED = frozenset({"id", "version", "status", "provenance", "origin"})

Row = dict[str, Any]


@dataclass
class Update:
    """What a set of tables adds to or replaces in a library."""

    texts: dict[str, list[Text]] = field(default_factory=dict)
    message_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    structures: dict[tuple[str, str], Any] = field(default_factory=dict)
    keyword_sets: list[KeywordSet] = field(default_factory=list)
    glossaries: list[Glossary] = field(default_factory=list)


# -- export ------------------------------------------------------------------------------


def library_to_tables(library: Library, locales: Iterable[str] | None = None) -> dict[str, list[Row]]:
    """Every table for a library; ``locales`` limits the texts table (for translators)."""
    wanted = set(locales) if locales else None
    owners = library.message_owners()
    texts = []
    for message in library.messages:
        source = message.source
        ordered = sorted(message.texts, key=lambda t: (t.locale != message.source_locale, t.locale, t.version))
        for text in ordered:
            if wanted is not None and text.locale not in wanted:
                continue
            info = segment_info(gsm_safe(text.sms))
            texts.append(
                {
                    "id": message.id,
                    "locale": text.locale,
                    "version": text.version,
                    "status": text.status.value,
                    "sms": text.sms,
                    "whatsapp": text.whatsapp or "",
                    "sms_segments": f"{info.segments} ({info.encoding})",
                    "owner": owners.get(message.id, message.kind),
                    "source_sms": source.sms if source else "",
                    "kind": message.kind,
                    "source_locale": message.source_locale,
                    "source_version": "" if text.source_version is None else text.source_version,
                    "sms_budget": "" if message.segment_budget is None else message.segment_budget,
                    **_provenance_row(text.provenance),
                }
            )
    keywords = [
        {
            "locale": k.locale,
            "version": k.version,
            "status": k.status.value,
            "action": action,
            "words": ", ".join(words),
            **_provenance_row(k.provenance),
        }
        for k in library.keyword_sets
        for action, words in k.actions
    ]
    glossary = [
        {
            "locale": g.locale,
            "version": g.version,
            "status": g.status.value,
            "term": term,
            "translation": translation,
            **_provenance_row(g.provenance),
        }
        for g in library.glossaries
        for term, translation in g.terms
    ]
    structure = [_structure_row("library", library.settings)]
    for kind, items in (
        ("module", library.modules),
        ("course", library.courses),
        ("screening", library.screenings),
        ("region", library.regions),
    ):
        structure += [_structure_row(kind, item) for item in items]
    return {"texts": texts, "keywords": keywords, "glossary": glossary, "structure": structure}


def _provenance_row(provenance: Provenance) -> Row:
    row = {name: getattr(provenance, name) for name in PROVENANCE_COLUMNS}
    row["evidence_sources"] = "\n".join(provenance.evidence_sources)
    return row


def _structure_row(kind: str, item: Any) -> Row:
    definition = to_plain(item, exclude=_STRUCTURE_SHARED)
    row: Row = {
        "kind": kind,
        "id": getattr(item, "id", "library"),
        "version": getattr(item, "version", ""),
        "status": item.status.value if hasattr(item, "status") else "",
        "definition": json.dumps(definition, ensure_ascii=False, indent=1),
    }
    provenance = getattr(item, "provenance", None)
    row.update(_provenance_row(provenance) if provenance else {name: "" for name in PROVENANCE_COLUMNS})
    return row


# -- import ------------------------------------------------------------------------------


class _RowError(Exception):
    pass


def tables_to_update(tables: dict[str, list[tuple[str, int, Row]]]) -> Update:
    """Parse every row; raise ImportRejected listing each bad row (label, row number, reason)."""
    update, problems = Update(), []
    seen: dict[tuple[Any, ...], str] = {}
    sets: dict[tuple[str, str, int], dict[str, Any]] = {}
    for sheet, rows in tables.items():
        for label, number, row in rows:
            where = f"{label} row {number}"
            try:
                _check_required(sheet, row)
                key = getattr(_Parsers, sheet)(update, row, where, sets)
                if key in seen:
                    raise _RowError(f"repeats {seen[key]}; keep one row per {_describe(sheet)}")
                seen[key] = where
            except (_RowError, PlainDataError, json.JSONDecodeError) as exc:
                problems.append(f"{where}: {exc}")
    for (sheet, locale, version), collected in sets.items():
        maker = KeywordSet if sheet == "keywords" else Glossary
        update_list = update.keyword_sets if sheet == "keywords" else update.glossaries
        update_list.append(
            maker(
                locale,
                version,
                collected["status"],
                tuple(collected["entries"]),
                collected["provenance"],
                collected["origin"],
            )
        )
    if problems:
        raise ImportRejected(f"{len(problems)} bad row(s); nothing was imported", problems)
    return update


def _describe(sheet: str) -> str:
    return {
        "texts": "id, locale and version",
        "keywords": "locale, version and action",
        "glossary": "locale, version and term",
        "structure": "kind and id",
    }[sheet]


def _check_required(sheet: str, row: Row) -> None:
    missing = [c for c in REQUIRED[sheet] if not str(row.get(c, "")).strip()]
    if missing:
        raise _RowError(f"empty {', '.join(missing)}; fill {'it' if len(missing) == 1 else 'them'} in")


def _text_cell(row: Row, name: str) -> str:
    value = row.get(name, "")
    return "" if value is None else str(value).strip()


def _integer(row: Row, name: str) -> int | None:
    value = _text_cell(row, name)
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise _RowError(f"{name} '{value}' is not a whole number") from None
    if number != int(number):
        raise _RowError(f"{name} '{value}' is not a whole number")
    return int(number)


def _status(row: Row) -> Status:
    value = _text_cell(row, "status")
    try:
        return Status(value)
    except ValueError:
        raise _RowError(f"status '{value}' is not one of {', '.join(s.value for s in Status)}") from None


def _provenance(row: Row) -> Provenance:
    values: dict[str, Any] = {name: _text_cell(row, name) for name in PROVENANCE_COLUMNS}
    values["evidence_sources"] = tuple(s.strip() for s in values["evidence_sources"].splitlines() if s.strip())
    return Provenance(**values)


class _Parsers:
    """One parser per table; each returns the row's identity for duplicate detection."""

    @staticmethod
    def texts(update: Update, row: Row, where: str, sets: dict) -> tuple[Any, ...]:
        message_id, locale = _text_cell(row, "id"), _text_cell(row, "locale")
        version = _integer(row, "version")
        assert version is not None
        kind = _text_cell(row, "kind")
        if kind and kind not in MESSAGE_KINDS:
            raise _RowError(f"kind '{kind}' is not one of {', '.join(MESSAGE_KINDS)}")
        whatsapp = _text_cell(row, "whatsapp")
        text = Text(
            locale,
            version,
            _status(row),
            _text_cell(row, "sms"),
            _provenance(row),
            whatsapp or None,
            _integer(row, "source_version"),
            where,
        )
        attributes: dict[str, Any] = {}
        if "kind" in row:
            attributes["kind"] = kind or None
        if "source_locale" in row:
            attributes["source_locale"] = _text_cell(row, "source_locale") or None
        if "sms_budget" in row:
            attributes["segment_budget"] = _integer(row, "sms_budget")
        known = update.message_fields.setdefault(message_id, {})
        for name, value in attributes.items():
            if name in known and known[name] != value:
                raise _RowError(f"{name} '{value}' differs from an earlier row of '{message_id}' ('{known[name]}')")
            known[name] = value
        update.texts.setdefault(message_id, []).append(text)
        return ("texts", message_id, locale, version)

    @staticmethod
    def keywords(update: Update, row: Row, where: str, sets: dict) -> tuple[Any, ...]:
        action = _text_cell(row, "action")
        if action not in KEYWORD_ACTIONS:
            raise _RowError(f"action '{action}' is not one of {', '.join(KEYWORD_ACTIONS)}")
        words = tuple(w.strip() for w in _text_cell(row, "words").split(",") if w.strip())
        return _collect(sets, "keywords", row, where, (action, words), action)

    @staticmethod
    def glossary(update: Update, row: Row, where: str, sets: dict) -> tuple[Any, ...]:
        term = _text_cell(row, "term")
        return _collect(sets, "glossary", row, where, (term, _text_cell(row, "translation")), term)

    @staticmethod
    def structure(update: Update, row: Row, where: str, sets: dict) -> tuple[Any, ...]:
        kind, item_id = _text_cell(row, "kind"), _text_cell(row, "id")
        if kind not in STRUCTURE_KINDS:
            raise _RowError(f"kind '{kind}' is not one of {', '.join(STRUCTURE_KINDS)}")
        data = json.loads(_text_cell(row, "definition"))
        if not isinstance(data, dict):
            raise _RowError("definition must be a JSON object")
        if kind in ("module", "course", "screening"):
            if not _text_cell(row, "author"):
                raise _RowError("empty author; fill it in")
            data.update(
                id=item_id,
                version=_integer(row, "version") or 1,
                status=_status(row).value,
                provenance=to_plain(_provenance(row)),
            )
        elif kind == "region":
            data["id"] = item_id
        item = from_plain(STRUCTURE_KINDS[kind], data, f"{kind} '{item_id}'")
        if hasattr(item, "origin"):
            item = replace(item, origin=where)
        update.structures[(kind, item_id)] = item
        return ("structure", kind, item_id)


def _collect(sets: dict, sheet: str, row: Row, where: str, entry: tuple[str, Any], name: str) -> tuple[Any, ...]:
    locale, version, status, provenance = (
        _text_cell(row, "locale"),
        _integer(row, "version"),
        _status(row),
        _provenance(row),
    )
    collected = sets.setdefault(
        (sheet, locale, version),
        {
            "status": status,
            "provenance": provenance,
            "entries": [],
            "origin": where,
        },
    )
    if collected["status"] != status or collected["provenance"] != provenance:
        raise _RowError(
            f"status or provenance differs from {collected['origin']}; rows of one {locale} "
            f"{sheet} set (version {version}) must agree"
        )
    collected["entries"].append(entry)
    return (sheet, locale, version, name)


def apply_update(base: Library, update: Update) -> Library:
    """The base library with the update's rows added or replacing their counterparts."""
    settings = update.structures.get(("library", "library"), base.settings)
    messages = {m.id: m for m in base.messages}
    for message_id, texts in update.texts.items():
        current = messages.get(message_id)
        by_key = {(t.locale, t.version): t for t in (current.texts if current else ())}
        by_key.update({(t.locale, t.version): t for t in texts})
        given = update.message_fields.get(message_id, {})
        messages[message_id] = Message(
            id=message_id,
            source_locale=given.get("source_locale") or (current.source_locale if current else settings.source_locale),
            texts=tuple(by_key.values()),
            kind=given.get("kind") or (current.kind if current else "message"),
            segment_budget=given["segment_budget"]
            if "segment_budget" in given
            else (current.segment_budget if current else None),
            origin=texts[0].origin,
        )

    def merged(kind: str, existing: Iterable[Any]) -> tuple[Any, ...]:
        table = {item.id: item for item in existing}
        table.update({key[1]: item for key, item in update.structures.items() if key[0] == kind})
        return tuple(table.values())

    def merged_sets(existing: Iterable[Any], new: list[Any]) -> tuple[Any, ...]:
        table = {(s.locale, s.version): s for s in existing}
        table.update({(s.locale, s.version): s for s in new})
        return tuple(table.values())

    return Library(
        settings,
        tuple(messages.values()),
        merged("module", base.modules),
        merged("course", base.courses),
        merged("screening", base.screenings),
        merged_sets(base.keyword_sets, update.keyword_sets),
        merged_sets(base.glossaries, update.glossaries),
        merged("region", base.regions),
    ).canonical()

"""Write a :class:`~content.schema.Library` as a content directory (the canonical layout).

The layout is the one the loader reads and the starter library uses, so an import from a
spreadsheet rewrites the files with small diffs:

* ``library.yaml``, ``regions/<id>.yaml``
* in a structure's source locale: ``module_<id>.yaml``, ``course_<id>.yaml``,
  ``screening_<id>.yaml`` with the texts inline
* in other locales: the same file names holding their translations as ``messages``
* ``messages.yaml`` and ``crisis.yaml`` for texts that belong to no structure
* ``keywords.yaml`` and ``glossary.yaml``

Values shared by most entries of a file (status, version, provenance) are written once
as file defaults; entries only say how they differ.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import yaml

from content.schema import (
    Course,
    Glossary,
    Helpline,
    KeywordSet,
    Library,
    Message,
    Module,
    Pathway,
    Provenance,
    Region,
    Screening,
    Settings,
    Text,
)


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line bodies, so files read like the messages they hold."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    short = all(isinstance(x, str) and "\n" not in x for x in data) and len(", ".join(data)) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=short)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML text in the project's house style (UTF-8, keys in order, wide lines)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write_library(library: Library, root: Path) -> list[Path]:
    """Write every file of the library under ``root``; return the paths written."""
    files = library_files(library)
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_yaml(data), encoding="utf-8")
    return [root / relative for relative in files]


def library_files(library: Library) -> dict[str, dict[str, Any]]:
    """Relative path -> YAML data for the whole library."""
    settings = library.settings
    files: dict[str, dict[str, Any]] = {"library.yaml": _settings(settings)}
    for region in library.regions:
        files[f"regions/{region.id}.yaml"] = _region(region)
    messages = {m.id: m for m in library.messages}
    owners = library.message_owners()
    structures: list[tuple[str, Module | Course | Screening]] = [
        *(("module", m) for m in library.modules),
        *(("course", c) for c in library.courses),
        *(("screening", s) for s in library.screenings),
    ]
    for locale in library.locales():
        for kind, structure in structures:
            ids = [mid for mid, owner in owners.items() if owner == f"{kind}:{structure.id}"]
            name = f"{locale}/{kind}_{structure.id}.yaml"
            if locale == structure.source_locale:
                files[name] = _structure(kind, structure, messages, locale)
            elif any(_texts(messages[mid], locale) for mid in ids if mid in messages):
                files[name] = _messages_file(
                    "messages", [messages[mid] for mid in ids if mid in messages], locale, settings
                )
        for kind, file_kind in (("message", "messages"), ("crisis", "crisis")):
            loose = [m for m in library.messages if m.id not in owners and m.kind == kind and _texts(m, locale)]
            if loose:
                files[f"{locale}/{file_kind}.yaml"] = _messages_file(file_kind, loose, locale, settings)
        for keyword_set in (k for k in library.keyword_sets if k.locale == locale):
            files[f"{locale}/{_versioned('keywords', keyword_set, library.keyword_sets)}.yaml"] = _keywords(keyword_set)
        for glossary in (g for g in library.glossaries if g.locale == locale):
            files[f"{locale}/{_versioned('glossary', glossary, library.glossaries)}.yaml"] = _glossary(glossary)
    return files


def _versioned(stem: str, item: KeywordSet | Glossary, all_items: tuple[Any, ...]) -> str:
    same_locale = [x for x in all_items if x.locale == item.locale]
    return stem if len(same_locale) == 1 else f"{stem}_v{item.version}"


def _texts(message: Message, locale: str) -> list[Text]:
    return sorted((t for t in message.texts if t.locale == locale), key=lambda t: t.version)


def _provenance_data(provenance: Provenance, base: Provenance | None = None) -> dict[str, Any]:
    data = asdict(provenance)
    data["evidence_sources"] = list(provenance.evidence_sources)
    if base is None:
        return {k: v for k, v in data.items() if v or k == "author"}
    base_data = asdict(base)
    base_data["evidence_sources"] = list(base.evidence_sources)
    return {k: v for k, v in data.items() if v != base_data[k]}


def _common(values: list[Any]) -> Any:
    return Counter(values).most_common(1)[0][0] if values else None


def _entry(text: Text, defaults: dict[str, Any], extras: dict[str, Any] | None = None) -> Any:
    """One version of a text, as a plain string when it only differs in its body."""
    data: dict[str, Any] = dict(extras or {})
    data["sms"] = text.sms
    if text.whatsapp:
        data["whatsapp"] = text.whatsapp
    for name in ("version", "status", "source_version"):
        value = getattr(text, name)
        if value != defaults.get(name):
            data[name] = value.value if name == "status" else value
    provenance = _provenance_data(text.provenance, defaults["provenance"])
    if provenance:
        data["provenance"] = provenance
    return text.sms if list(data) == ["sms"] else data


def _message_entry(
    message: Message, locale: str, defaults: dict[str, Any], extras: dict[str, Any] | None = None
) -> Any:
    texts = _texts(message, locale)
    entry_extras = dict(extras or {})
    if message.source_locale != defaults["source_locale"]:
        entry_extras["source_locale"] = message.source_locale
    if message.segment_budget is not None and locale == message.source_locale:
        entry_extras["budget"] = message.segment_budget
    entries = [_entry(t, defaults, entry_extras if i == 0 else None) for i, t in enumerate(texts)]
    return entries[0] if len(entries) == 1 else [e if isinstance(e, dict) else {"sms": e} for e in entries]


def _defaults_for(texts: list[Text], source_locale: str) -> dict[str, Any]:
    return {
        "version": _common([t.version for t in texts]),
        "status": _common([t.status for t in texts]),
        "source_version": _common([t.source_version for t in texts]),
        "provenance": _common([t.provenance for t in texts]),
        "source_locale": source_locale,
    }


def _messages_file(kind: str, messages: list[Message], locale: str, settings: Settings) -> dict[str, Any]:
    texts = [t for m in messages for t in _texts(m, locale)]
    source_locale = _common([m.source_locale for m in messages])
    defaults = _defaults_for(texts, source_locale)
    header: dict[str, Any] = {"version": defaults["version"], "status": defaults["status"].value}
    if defaults["source_version"] is not None:
        header["source_version"] = defaults["source_version"]
    if source_locale != settings.source_locale:
        header["source_locale"] = source_locale
    header["provenance"] = _provenance_data(defaults["provenance"])
    body = {m.id: _message_entry(m, locale, defaults) for m in messages if _texts(m, locale)}
    return {"kind": kind, "defaults": header, "messages": body}


def _structure(
    kind: str, structure: Module | Course | Screening, messages: dict[str, Message], locale: str
) -> dict[str, Any]:
    defaults = {
        "version": structure.version,
        "status": structure.status,
        "source_version": None,
        "provenance": structure.provenance,
        "source_locale": locale,
    }

    def entry(message_id: str, extras: dict[str, Any] | None = None) -> Any:
        return _message_entry(messages[message_id], locale, defaults, extras)

    data: dict[str, Any] = {
        "kind": kind,
        "id": structure.id,
        "version": structure.version,
        "status": structure.status.value,
        "provenance": _provenance_data(structure.provenance),
    }
    if isinstance(structure, Module):
        if structure.menu_number is not None:
            data["menu"] = structure.menu_number
        if structure.choices:
            data["choices"] = [
                c.action
                if c.target is None and c.reply is None
                else {k: v for k, v in asdict(c).items() if v is not None}
                for c in structure.choices
            ]
        _title(data, structure.title_id, f"module.{structure.id}.title", entry)
        data["steps"] = {mid: entry(mid) for mid in structure.steps}
    elif isinstance(structure, Course):
        data["send_time"] = structure.send_time
        if structure.repeat_every_days is not None:
            data["repeat_every_days"] = structure.repeat_every_days
        _title(data, structure.title_id, f"course.{structure.id}.title", entry)
        data["steps"] = {s.message_id: entry(s.message_id, {"day": s.day}) for s in structure.steps}
    else:
        data["name"] = structure.name
        for field_name, suffix in (("intro", "intro"), ("scale_help", "scale"), ("help", "help")):
            _title(
                data, getattr(structure, f"{field_name}_id"), f"screening.{structure.id}.{suffix}", entry, field_name
            )
        data["scale"] = {}
        for option in structure.scale:
            extras = (
                {}
                if option.label_id == f"screening.{structure.id}.answer.{option.value}"
                else {"label_id": option.label_id}
            )
            data["scale"][str(option.value)] = entry(option.label_id, extras)
        data["questions"] = {
            q.message_id: entry(
                q.message_id, {"crisis_if_above": q.crisis_if_above} if q.crisis_if_above is not None else None
            )
            for q in structure.questions
        }
        data["bands"] = {}
        for band in structure.bands:
            extras = {"min": band.min, "max": band.max, "severity": band.severity}
            if band.follow_up:
                extras["follow_up"] = band.follow_up
            data["bands"][band.message_id] = entry(band.message_id, extras)
    return data


def _title(data: dict[str, Any], message_id: str, conventional: str, entry: Any, key: str = "title") -> None:
    if message_id != conventional:
        data[f"{key}_id"] = message_id
    data[key] = entry(message_id)


def _keywords(keyword_set: KeywordSet) -> dict[str, Any]:
    return {
        "kind": "keywords",
        "version": keyword_set.version,
        "status": keyword_set.status.value,
        "provenance": _provenance_data(keyword_set.provenance),
        "actions": {action: list(words) for action, words in keyword_set.actions},
    }


def _glossary(glossary: Glossary) -> dict[str, Any]:
    return {
        "kind": "glossary",
        "version": glossary.version,
        "status": glossary.status.value,
        "provenance": _provenance_data(glossary.provenance),
        "terms": dict(glossary.terms),
    }


def _settings(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "library"}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name == "placeholder_examples":
            data[f.name] = dict(value)
        elif f.name == "pathways":
            if value:
                data[f.name] = {p.category: _pathway(p) for p in value}
        else:
            data[f.name] = value
    return data


def _pathway(pathway: Pathway) -> dict[str, Any]:
    data: dict[str, Any] = {"severity": pathway.severity, "services": list(pathway.services)}
    if pathway.reply != f"crisis.{pathway.category}":
        data["reply"] = pathway.reply
    if pathway.followup != f"crisis.{pathway.category}.followup":
        data["followup"] = pathway.followup
    if pathway.steps:
        data["steps"] = list(pathway.steps)
    return data


def _helpline(helpline: Helpline) -> dict[str, Any]:
    data = {k: v for k, v in asdict(helpline).items() if v or k in ("name", "number")}
    data["serves"] = list(helpline.serves)
    return data


def _region(region: Region) -> dict[str, Any]:
    return {
        "kind": "region",
        "id": region.id,
        "name": region.name,
        "country_codes": list(region.country_codes),
        "time_zone": region.time_zone,
        "default_locale": region.default_locale,
        "locales": list(region.locales),
        "required_locales": list(region.required_locales),
        **(
            {"emergency": {k: v for k, v in asdict(region.emergency).items() if v or k == "number"}}
            if region.emergency
            else {}
        ),
        "helplines": [_helpline(h) for h in region.helplines],
        "allow": {"numbers": list(region.allowed_numbers), "domains": list(region.allowed_domains)},
    }

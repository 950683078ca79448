"""Checking one edited text the way ``content validate`` checks the library, at edit time.

The text is put in place in the whole library (database messages over the YAML
structures, with regions and menu), validated, and only the findings about this item
and locale are kept. So an editor sees exactly what would block the text later: SMS
segments with ``{helplines}`` and ``{menu}`` filled in, placeholders that must match
the source, numbers and links that must be on every region's allowlist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from content.db import ContentItem, ContentVersion, library_with_db_messages
from content.problems import Problem
from content.schema import Library, Message
from content.validate import validate
from core.sms import gsm_safe, non_gsm7_chars, segment_info


def problems_for(session: Session, base: Library, version: ContentVersion) -> list[Problem]:
    """Validation findings (errors and warnings) for this version's item and locale."""
    library = library_with_db_messages(session, base)
    item = session.get(ContentItem, version.item_id)
    text = version.as_text()
    messages = {m.id: m for m in library.messages}
    message = messages.get(version.item_id)
    if message is None:
        message = Message(
            id=version.item_id,
            source_locale=item.source_locale if item else text.locale,
            texts=(),
            kind=item.kind if item else "message",
            segment_budget=item.segment_budget if item else None,
        )
    others = tuple(t for t in message.texts if (t.locale, t.version) != (text.locale, text.version))
    messages[message.id] = replace(message, texts=(*others, text))
    report = validate(replace(library, messages=tuple(messages.values())))
    return [p for p in report.problems if p.item_id == version.item_id and p.locale in ("", version.locale)]


def blocking(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems if p.severity == "error"]


@dataclass(frozen=True)
class SmsPreview:
    """How a carrier will count a text as we send it (after GSM-7 clean-up)."""

    encoding: str
    segments: int
    units: int
    per_segment: int
    remaining: int
    characters: int
    normalised: bool  # look-alike characters were replaced to keep GSM-7
    forcing_ucs2: tuple[str, ...]  # the characters that make it UCS-2
    has_placeholders: bool

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "forcing_ucs2": list(self.forcing_ucs2)}


def sms_preview(text: str) -> SmsPreview:
    sent = gsm_safe(text)
    info = segment_info(sent)
    return SmsPreview(
        encoding=info.encoding,
        segments=info.segments,
        units=info.units,
        per_segment=info.per_segment,
        remaining=info.remaining_in_last,
        characters=len(text),
        normalised=sent != text,
        forcing_ucs2=tuple(non_gsm7_chars(sent)[:8]),
        has_placeholders="{" in text and "}" in text,
    )

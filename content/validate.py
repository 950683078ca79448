"""Check a library the way a careful editor would, before anything reaches a phone.

Every problem names the item, locale and channel and says what to do. Errors block a
load or an import; warnings are reported and do not block.

Rules that need a decision:

* Segment budgets and placeholder mismatches are errors at every status except
  retired: a draft that cannot be sent as written is caught while it is being edited.
* A required locale (per region) that has no text at all is an error for live items
  (approved source text) and a warning for others; a required locale whose text exists
  but is not yet approved is a warning, because sending falls back to the source locale.
* Numbers (5+ digits) and links must be on the allowlist of every region, because
  content is shared by all regions; region-specific numbers go through ``{helplines}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from content.pathways import PATHWAY_MESSAGE_IDS, general
from content.problems import Problem, Report, error, warning
from content.render import MenuEntry, fill_examples, format_emergency, format_helplines, format_menu
from content.schema import Library, Message, Region, Status, Text, placeholders
from content.validate_pathways import check_pathways, helplines_examples
from content.validate_structures import check_structures
from core.sms import (
    GSM7_MULTI,
    GSM7_SINGLE,
    UCS2_MULTI,
    UCS2_SINGLE,
    WHATSAPP_MAX_CHARS,
    gsm_safe,
    non_gsm7_chars,
    segment_info,
    utf16_length,
)

ENGINE_MESSAGE_IDS = (
    "onboarding.welcome",
    "onboarding.choose_language",
    "onboarding.languages",
    "onboarding.consent",
    "onboarding.consent_declined",
    "onboarding.region",
    "onboarding.choose_region",
    "menu.main",
    "menu.invalid",
    "keywords.stop_confirmation",
    "keywords.start_confirmation",
    "keywords.help",
    "keywords.bot",
    "keywords.data",
    "keywords.delete_code",
    "keywords.delete_done",
    "keywords.delete_cancelled",
    "fallback.not_understood",
    "fallback.thanks",
    "fallback.media_only",
    "fallback.generation_blocked",
    "handoff.requested",
    "handoff.already",
    "handoff.staff_with_you",
    "support.general",
    "intent.which",
    "crisis.immediate",
    "crisis.safety_plan.1",
    "crisis.followup",
    "safety.ask",
    *PATHWAY_MESSAGE_IDS,
)
_NUMBER = re.compile(r"(?<![\w+])\+?\d[\d \-().]{3,}\d(?!\w)")
_LINK = re.compile(
    r"(?i)\b(?:https?://[^\s]+|www\.[^\s]+|(?:[a-z0-9-]+\.)+(?:com|org|net|int|info|io|gov|edu|health|app"
    r"|ke|tz|ug|rw|et|ng|za|gh|in|fr|es|uk|us)\b(?:/[^\s]*)?)"
)


def validate(library: Library) -> Report:
    """Run every check and return the findings (errors first)."""
    problems = [*_check_settings(library), *_check_messages(library), *check_structures(library)]
    problems += [*_check_regions(library), *check_pathways(library), *_check_required_ids(library)]
    problems.sort(key=lambda p: (p.severity != "error", p.origin))
    return Report(tuple(problems))


def _check_settings(library: Library) -> Iterator[Problem]:
    settings = library.settings
    if library.messages and settings.default_locale not in library.locales():
        yield error(
            "settings", f"default_locale '{settings.default_locale}' has no content; add it or change library.yaml"
        )
    if settings.default_region and settings.default_region not in {r.id for r in library.regions}:
        yield error("settings", f"default_region '{settings.default_region}' has no file in regions/")
    if settings.sms_segment_budget < 1:
        yield error("settings", "sms_segment_budget must be at least 1")


def _check_required_ids(library: Library) -> Iterator[Problem]:
    present = {m.id for m in library.messages}
    for message_id in ENGINE_MESSAGE_IDS:
        if message_id not in present:
            yield error(
                "engine-id",
                "the conversation engine sends this message; add it (in the source locale)",
                item_id=message_id,
            )


def _examples(library: Library, locale: str) -> list[dict[str, str]]:
    """Placeholder values to size bodies with: one set per region (the longest wins)."""
    base = dict(library.settings.placeholder_examples)
    messages = {m.id: m for m in library.messages}
    entries = []
    for module in sorted((m for m in library.modules if m.menu_number is not None), key=lambda m: m.menu_number or 0):
        title = messages.get(module.title_id)
        text = title and (title.text(locale, False) or title.source)
        entries.append(MenuEntry(module.menu_number or 0, module.id, text.sms if text else module.id))
    base.setdefault("menu", format_menu(entries))
    base.setdefault("regions", "\n".join(f"{n}. {r.name}" for n, r in enumerate(library.regions, 1)))
    regions = library.regions or (None,)
    return [
        {
            **base,
            "helplines": format_helplines(general(r.helplines)) if r else "",
            **({"emergency": format_emergency(r.emergency)} if r and r.emergency else {}),
        }
        for r in regions
    ]


def _check_messages(library: Library) -> Iterator[Problem]:
    examples = {locale: _examples(library, locale) for locale in library.locales()}
    crisis_helplines = [helplines_examples(library, r) for r in library.regions]
    for message in library.messages:
        source = message.source
        budget = message.segment_budget or library.settings.sms_segment_budget
        if source is None:
            yield error(
                "no-source",
                f"there is no {message.source_locale} text for this id; fix the id if it is misspelt, "
                f"or add the {message.source_locale} text first",
                item_id=message.id,
                origin=message.origin,
            )
        for text in message.texts:
            if text.status == Status.RETIRED:
                continue
            where = {"item_id": message.id, "locale": text.locale, "origin": text.origin}
            sized = examples.get(text.locale, [{}])
            if any(message.id in by_id for by_id in crisis_helplines):
                sized = [
                    {**values, "helplines": by_id.get(message.id, values.get("helplines", ""))}
                    for values, by_id in zip(sized, crisis_helplines, strict=False)
                ]
            yield from _check_sms_budget(text, budget, sized, where)
            yield from _check_placeholders(message, text, source, where)
            yield from _check_numbers_and_links(text, library.regions, where)
            if (
                source
                and text.locale != message.source_locale
                and text.source_version is not None
                and source.status == Status.APPROVED
                and text.source_version < source.version
            ):
                yield warning(
                    "stale",
                    f"translates version {text.source_version} of the {message.source_locale} "
                    f"text, which is now version {source.version}; update the translation",
                    **where,
                )
            if (
                message.kind == "crisis"
                and text.status == Status.APPROVED
                and text.provenance.clinical_reviewer.lower() in ("", "pending")
            ):
                yield warning(
                    "clinical-review",
                    "approved crisis text has no clinical reviewer sign-off; "
                    "have a clinician review it before going live",
                    **where,
                )
        yield from _check_required_locales(library, message)


def _check_sms_budget(
    text: Text, budget: int, examples: list[dict[str, str]], where: dict[str, str]
) -> Iterator[Problem]:
    worst = max(
        (gsm_safe(fill_examples(text.sms, values)) for values in examples), key=lambda body: segment_info(body).segments
    )
    info = segment_info(worst)
    if info.segments > budget:
        single, multi = (GSM7_SINGLE, GSM7_MULTI) if info.encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
        capacity = single if budget == 1 else budget * multi
        hint = ""
        odd = non_gsm7_chars(worst)
        if info.encoding == "UCS-2" and len(odd) <= 3:
            hint = f"; it is sent as UCS-2 (70 per segment) because of {' '.join(repr(c) for c in odd)}"
        filled = " with placeholders filled in" if worst != gsm_safe(text.sms) else ""
        yield error(
            "sms-budget",
            f"SMS body{filled} is {info.segments} segments ({info.encoding}, {info.units} units); "
            f"the limit is {budget} - shorten by about {info.units - capacity} characters{hint}",
            channel="sms",
            **where,
        )
    if text.whatsapp and utf16_length(text.whatsapp) > WHATSAPP_MAX_CHARS:
        yield error(
            "whatsapp-length",
            f"WhatsApp body is {utf16_length(text.whatsapp)} characters; the limit is "
            f"{WHATSAPP_MAX_CHARS} - shorten it",
            channel="whatsapp",
            **where,
        )


def _check_placeholders(message: Message, text: Text, source: Text | None, where: dict[str, str]) -> Iterator[Problem]:
    expected = placeholders(source.sms) if source else placeholders(text.sms)
    for channel, body in (("sms", text.sms), ("whatsapp", text.whatsapp)):
        if body is None:
            continue
        found = placeholders(body)
        if found != expected:
            missing = ", ".join(f"{{{p}}}" for p in sorted(expected - found))
            extra = ", ".join(f"{{{p}}}" for p in sorted(found - expected))
            detail = "; ".join(
                x for x in (f"missing {missing}" if missing else "", f"unknown {extra}" if extra else "") if x
            )
            yield error(
                "placeholders",
                f"placeholders differ from the {message.source_locale} SMS text ({detail}); "
                "keep the same {names} in every language and channel",
                channel=channel,
                **where,
            )


def _check_numbers_and_links(text: Text, regions: tuple[Region, ...], where: dict[str, str]) -> Iterator[Problem]:
    for channel, body in (("sms", text.sms), ("whatsapp", text.whatsapp or "")):
        for match in _NUMBER.finditer(body):
            digits = re.sub(r"\D", "", match.group(0))
            if len(digits) < 5:
                continue
            refusing = [r.id for r in regions if digits not in _allowed_numbers(r)]
            if refusing or not regions:
                yield error(
                    "number",
                    f"the number '{match.group(0)}' is not on the allowlist of region(s) "
                    f"{', '.join(refusing) or '(none defined)'}; use {{helplines}} or add it to the region file",
                    channel=channel,
                    **where,
                )
        for match in _LINK.finditer(body):
            host = re.sub(r"(?i)^https?://", "", match.group(0)).split("/")[0].lower().rstrip(".,;:!?)")
            refusing = [
                r.id for r in regions if not any(host == d or host.endswith("." + d) for d in r.allowed_domains)
            ]
            if refusing or not regions:
                yield error(
                    "link",
                    f"the link '{host}' is not an allowed domain of region(s) "
                    f"{', '.join(refusing) or '(none defined)'}; remove it or add the domain to the region file",
                    channel=channel,
                    **where,
                )


def _allowed_numbers(region: Region) -> set[str]:
    emergency = (region.emergency.number,) if region.emergency else ()
    return {re.sub(r"\D", "", n) for n in (*region.allowed_numbers, *(h.number for h in region.helplines), *emergency)}


def _check_required_locales(library: Library, message: Message) -> Iterator[Problem]:
    source = message.source
    live = bool(source and message.text(message.source_locale) is not None)
    for region in library.regions:
        for locale in region.required_locales:
            if locale == message.source_locale:
                continue
            where = {"item_id": message.id, "locale": locale, "origin": message.origin}
            if not any(t.locale == locale and t.status != Status.RETIRED for t in message.texts):
                maker = error if live else warning
                yield maker(
                    "required-locale",
                    f"region '{region.id}' requires {locale} and there is no {locale} text; add a translation",
                    **where,
                )
            elif live and message.text(locale) is None:
                yield warning(
                    "required-locale",
                    f"region '{region.id}' requires {locale}, whose text is not approved "
                    f"yet; {message.source_locale} is sent until it is",
                    **where,
                )


def _check_regions(library: Library) -> Iterator[Problem]:
    locales = set(library.locales())
    for region in library.regions:
        where = {"origin": region.origin}
        try:
            ZoneInfo(region.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            yield error(
                "region",
                f"region '{region.id}': unknown time_zone '{region.time_zone}' (use e.g. Africa/Nairobi)",
                **where,
            )
        if region.default_locale not in region.locales:
            yield error(
                "region",
                f"region '{region.id}': default_locale '{region.default_locale}' is not in its locales",
                **where,
            )
        for locale in (*region.locales, *region.required_locales):
            if locale not in locales:
                yield error("region", f"region '{region.id}': locale '{locale}' has no content", **where)
        for locale in region.required_locales:
            if locale not in region.locales:
                yield error(
                    "region", f"region '{region.id}': required locale '{locale}' is not in its locales", **where
                )
        if not region.helplines:
            yield error("region", f"region '{region.id}' has no helplines; crisis messages need at least one", **where)
        for helpline in region.helplines:
            if len(re.sub(r"\D", "", helpline.number)) < 3:
                yield error(
                    "region",
                    f"region '{region.id}': helpline '{helpline.name}' number "
                    f"'{helpline.number}' does not look like a phone number",
                    **where,
                )
            if helpline.placeholder:
                yield warning(
                    "placeholder-helpline",
                    f"region '{region.id}': helpline '{helpline.name}' is a "
                    "placeholder; replace it with a real, verified service before going live",
                    **where,
                )

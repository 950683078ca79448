"""The shipped starter library: complete, valid, honest about review, walkable in the demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content.pathways import PATHWAY_MESSAGE_IDS, general
from content.render import fill_examples, format_helplines, format_menu
from content.schema import RISK_CATEGORIES, Library, Status
from content.store import ContentStore
from content.validate import ENGINE_MESSAGE_IDS, validate
from content.validate_pathways import helplines_examples
from core.sms import gsm_safe, segment_info

TRANSLATED = ("ar", "es", "fr", "hi", "sw")
LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


def test_starter_library_has_no_errors_and_only_expected_warnings(starter_library: Library) -> None:
    report = validate(starter_library)
    assert report.errors == []
    assert {p.code for p in report.warnings} == {"clinical-review", "placeholder-helpline"}


def test_english_source_is_approved_and_says_it_needs_re_review(starter_library: Library) -> None:
    for message in starter_library.messages:
        text = message.text("en")
        assert text is not None, message.id
        assert "re-review" in text.provenance.notes or "reviewed by a clinician" in text.provenance.notes
        assert text.provenance.evidence_sources, message.id
    assert set(ENGINE_MESSAGE_IDS) <= {m.id for m in starter_library.messages}


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_text_has_a_demonstration_translation_with_the_same_standing_as_english(
        starter_library: Library, locale: str) -> None:
    for message in starter_library.messages:
        text = message.text(locale, approved_only=False)
        assert text is not None, f"{message.id} has no {locale} text"
        assert text.status == Status.APPROVED == message.text("en").status
        assert text.provenance.notes.startswith("Approved for demonstration only")
        assert text.provenance.clinical_reviewer == message.text("en").provenance.clinical_reviewer == "pending"


def test_english_bodies_stay_within_two_segments(starter_library: Library, starter_store: ContentStore) -> None:
    """Crisis replies are sized with their own pathway's services, each shown closed (the longest)."""
    values = {
        "helplines": format_helplines(general(starter_store.helplines("demo"))),
        "menu": format_menu(starter_store.menu("en")),
        **dict(starter_library.settings.placeholder_examples),
    }
    pathway_lines = helplines_examples(starter_library, starter_store.region("demo"))
    for message in starter_library.messages:
        filled = {**values, "helplines": pathway_lines.get(message.id, values["helplines"])}
        body = gsm_safe(fill_examples(message.text("en").sms, filled))  # type: ignore[union-attr]
        assert segment_info(body).segments <= 2, message.id


def test_every_category_has_its_own_reply_and_followup_in_every_locale(starter_library: Library) -> None:
    messages = {m.id: m for m in starter_library.messages}
    pathways = {p.category: p for p in starter_library.settings.pathways}
    assert set(pathways) == set(RISK_CATEGORIES)
    replies = [p.reply for p in pathways.values()]
    assert len(set(replies)) == len(replies)  # no category borrows another's reply
    for category, pathway in pathways.items():
        assert (pathway.reply, pathway.followup) == (f"crisis.{category}", f"crisis.{category}.followup")
        for message_id in (pathway.reply, pathway.followup, *pathway.steps, *PATHWAY_MESSAGE_IDS):
            for locale in ("en", *TRANSLATED):
                assert messages[message_id].text(locale, approved_only=False) is not None, (message_id, locale)
    assert pathways["suicide"].steps == pathways["self_harm"].steps  # the safety plan stays
    assert not set(pathways["violence"].steps) & set(pathways["suicide"].steps)
    assert "gbv" in pathways["violence"].services and "crisis" not in pathways["violence"].services
    assert pathways["child_safeguarding"].services[0] == "child_protection"


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_no_crisis_text_promises_soon(starter_library: Library, locale: str) -> None:
    """When a person will hear back is {response_time}, worded from the rota, never a bare "soon"."""
    soon = {"en": r"\bsoon\b(?! as you can)", "sw": r"hivi karibuni", "fr": r"bient[oô]t|rapidement", "es": r"\bpronto\b",
            "hi": r"जल्द ही", "ar": r"قريبا|قريبًا"}[locale]
    for message in starter_library.messages:
        text = message.text(locale, approved_only=False)
        if message.kind == "crisis" and text is not None:
            assert not re.search(soon, text.sms, re.I), (message.id, locale)


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_every_module_can_be_walked_with_the_keywords_it_mentions(starter_store: ContentStore, locale: str) -> None:
    """Each step tells the reader which words to reply, and those words work in that language."""
    entries = starter_store.menu(locale)
    assert [e.module_id for e in entries] == [
        "stress",
        "sleep",
        "breathing",
        "problem_solving",
        "activity",
        "support",
        "understanding",
        "get_help",
    ]
    for entry in entries:
        module = starter_store.module(entry.module_id)
        for number, step_id in enumerate(module.steps, 1):
            body = starter_store.message(step_id).text(locale, approved_only=False).sms  # type: ignore[union-attr]
            words = set(re.findall(r"\b[A-ZÀ-Ý]{3,}\b", body))
            if locale in ("hi", "ar"):  # no capitals: every word may be a keyword
                words |= {w for w in re.split(r"[\s.,:;!?()\"।،]+", body) if w}
            actions = {starter_store.keyword_action(w, [locale]) for w in words}
            assert "menu" in actions, f"{step_id} ({locale}) does not say how to reach the menu"
            if number < len(module.steps):
                assert "next" in actions, f"{step_id} ({locale}) does not say how to continue"
            else:
                for choice in (c for c in module.choices if c.reply):
                    assert re.search(rf"\b{choice.reply}\b", body), (
                        f"{step_id} ({locale}) never offers '{choice.reply}'"
                    )


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_opt_out_and_help_work_in_every_language(starter_store: ContentStore, locale: str) -> None:
    stop_word = {"en": "STOP", "es": "BAJA", "fr": "ARRÊT", "sw": "ACHA", "hi": "रोको", "ar": "توقف"}[locale]
    help_word = {"en": "HELP", "es": "AYUDA", "fr": "AIDE", "sw": "MSAADA", "hi": "मदद", "ar": "مساعدة"}[locale]
    assert starter_store.keyword_action(stop_word, [locale]) == "stop"
    assert starter_store.keyword_action(stop_word.lower() + "!", ["en"]) == "stop"
    assert starter_store.keyword_action(help_word, [locale]) == "help"


def test_screening_instruments_use_standard_scoring(starter_store: ContentStore) -> None:
    def bands(instrument: str) -> list[tuple[int, int, str]]:
        return [(b.min, b.max, b.severity) for b in starter_store.screening(instrument).bands]

    assert bands("phq9") == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ]
    assert bands("gad7") == [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]
    assert bands("phq2") == bands("gad2") == [(0, 2, "negative"), (3, 6, "positive")]
    phq9 = starter_store.screening("phq9")
    assert [q.crisis_if_above for q in phq9.questions] == [None] * 8 + [0]
    assert [o.value for o in phq9.scale] == [0, 1, 2, 3]
    assert starter_store.render(phq9.scale[3].label_id, "en", "sms").text == "Nearly every day"
    assert len(starter_store.screening("gad7").questions) == 7


def test_courses(starter_store: ContentStore) -> None:
    dwm = starter_store.course("doing_what_matters")
    assert [s.day for s in dwm.steps] == [0, 1, 2, 3, 4, 5, 6]
    weekly = starter_store.course("weekly_checkin")
    assert weekly.repeat_every_days == 7
    assert weekly.steps[0].message_id == "checkin.weekly"


def test_demo_helplines_are_clearly_placeholders(starter_store: ContentStore) -> None:
    for helpline in starter_store.helplines("demo"):
        assert helpline.placeholder
        assert "REPLACE" in helpline.name
        assert re.search(r"555 01\d\d$", helpline.number)


def test_crisis_text_fits_its_budget_in_every_locale_even_when_every_service_keeps_office_hours(
    starter_library: Library,
) -> None:
    """Closed services are listed with when they open, which makes the lists longest; scripts
    sent as UCS-2 (Hindi, Arabic) must still fit."""
    from dataclasses import replace

    region = starter_library.regions[0]
    office = tuple(replace(h, opening_hours="mon-fri 08:00-17:00") for h in region.helplines)
    library = replace(starter_library, regions=(replace(region, helplines=office),))
    assert [p for p in validate(library).errors if p.code == "sms-budget"] == []


DRAFT_LOCALES = ("am", "ha", "pt", "so", "yo", "zu")


@pytest.mark.parametrize("locale", DRAFT_LOCALES)
def test_draft_languages_carry_the_safe_minimum_and_are_not_served(starter_library: Library, starter_store: ContentStore,
                                                                   locale: str) -> None:
    """Welcome, consent, menu, HELP, every crisis pathway's reply and follow-up, one module and the
    keywords, all marked draft: nothing here reaches a person until the community has reviewed it."""
    from bot.conversation import Engine

    messages = {m.id: m for m in starter_library.messages}
    crisis = [i for p in starter_library.settings.pathways for i in (p.reply, p.followup)]
    wanted = ["onboarding.welcome", "onboarding.consent", "menu.main", "keywords.help", "keywords.stop_confirmation",
              "crisis.immediate", "crisis.followup", "crisis.in_progress", "crisis.in_progress.help", *crisis,
              "module.stress.title", *starter_store.module("stress").steps]
    for item_id in wanted:
        text = messages[item_id].text(locale, approved_only=False)
        assert text is not None and text.status == Status.DRAFT, (item_id, locale)
        assert text.provenance.notes.startswith("Draft: the safe minimum"), (item_id, locale)
    keywords = next(k for k in starter_library.keyword_sets if k.locale == locale)
    assert keywords.status == Status.DRAFT and keywords.words("stop") and keywords.words("help")
    stop = next(w for w in keywords.words("stop") if w != "STOP")
    assert starter_store.keyword_action(stop, ["en"]) == "stop"  # opt-out words of every set always work
    assert locale not in Engine(starter_store).enabled_locales()


@pytest.mark.parametrize("locale", ["en", *TRANSLATED])
def test_each_result_message_says_whether_its_wording_is_validated(starter_library: Library, locale: str) -> None:
    """Each served language records, per instrument, whether its wording is a validated translation
    (<locale>/screening_wording.yaml); an unvalidated one says so in every result it sends."""
    import yaml

    record = yaml.safe_load((LIBRARY / locale / "screening_wording.yaml").read_text(encoding="utf-8"))
    assert record["kind"] == "screening_wording" and record["locale"] == locale
    assert set(record["instruments"]) == {s.id for s in starter_library.screenings}
    messages = {m.id: m for m in starter_library.messages}
    for screening in starter_library.screenings:
        wording = record["instruments"][screening.id]
        for band in screening.bands:
            body = messages[band.message_id].text(locale, approved_only=False).sms  # type: ignore[union-attr]
            if wording["validated"]:
                assert wording["source"], (screening.id, locale)
            else:
                assert body.endswith(wording["says"]), (band.message_id, locale)
                assert wording["use_instead"], (screening.id, locale)

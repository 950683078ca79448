"""Language ID in the worker: detection with the deployment's locales, a stored choice always first.

The table checks ``workers.language.identify`` alone; the rest goes through the whole pipeline
(signed webhook -> queue -> worker -> outbox -> Twilio stand-in) with English and Kiswahili
served. Romanised text and real translation models are in tests/dialogue/test_dialogue_language.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot import create_app
from bot.services import Services
from core.tables import AuditEvent, Contact, OutboxMessage
from tests.conftest import drain, inbound_form, make_config, post_signed
from workers import runtime
from workers.language import LANGUAGE_DETECTED, identify

PHONE = "+254700000321"
LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
EN_SW = ["en", "sw"]


def always(_lang: str) -> bool:
    return True


@pytest.mark.parametrize(
    ("text", "stored", "served", "detected", "text_lang", "mt"),
    [
        # Short or ambiguous: nothing detected, the stored language stands.
        ("ok", "sw", EN_SW, None, "sw", "used"),
        ("1", "sw", EN_SW, None, "sw", "not_needed"),
        # Romanised Hindi is Hindi, but not in the script a hi->en model reads.
        ("mujhe neend nahi aati", "hi", ["en", "hi"], "hi", "und", "skipped"),
        ("मुझे नींद नहीं आती", "hi", ["en", "hi"], "hi", "hi", "used"),
        # Confidently Hinglish from a Swahili speaker: the sw->en model must not read it either.
        ("mujhe neend nahi aati", "sw", ["en", "sw", "hi"], "hi", "und", "skipped"),
        # Confidently another served language: read as that language.
        ("I cannot sleep at night", "sw", EN_SW, "en", "en", "not_needed"),
        ("nahitaji msaada sana", "en", EN_SW, "sw", "sw", "used"),
        ("Habari yako, nimechoka sana", None, EN_SW, "sw", "sw", "used"),
        # Languages nobody here serves map to nothing, never to the served language they are
        # closest to: Yoruba is not Swahili, Hausa is not English.
        ("je suis très fatiguée ce soir", None, EN_SW, None, "und", "skipped"),
        ("mujhe neend nahi aati", None, EN_SW, None, "und", "skipped"),
        ("Bawo ni, mo nilo iranlowo", None, ["en", "sw", "es", "fr", "hi", "ar"], None, "und", "skipped"),
        ("Sannu, ina bukatar taimako", None, ["en", "sw", "es", "fr", "hi", "ar"], None, "und", "skipped"),
        ("Bawo ni, mo nilo iranlowo", "sw", EN_SW, None, "und", "skipped"),
        # ...while the served languages are still found in the same company.
        ("Habari yako, nimechoka sana", None, ["en", "sw", "es", "fr", "hi", "ar"], "sw", "sw", "used"),
        ("estoy muy cansada y no duermo", None, ["en", "sw", "es", "fr", "hi", "ar"], "es", "es", "used"),
    ],
)
def test_identify(text, stored, served, detected, text_lang, mt) -> None:
    found = identify(text, stored, served, 0.6, always)
    assert (found.detected_locale, found.text_lang, found.mt) == (detected, text_lang, mt)
    assert found.mt_source == (text_lang if mt == "used" else None)


def test_a_language_nobody_serves_is_named_for_the_audit_and_answered_by_none() -> None:
    unserved = identify("je suis très fatiguée ce soir", None, EN_SW, 0.6, always)
    assert unserved.detection.lang == "fr" and unserved.detected_locale is None
    french = identify("je suis très fatiguée ce soir", None, ["en", "sw", "fr"], 0.6, always)
    assert french.detected_locale == "fr" and french.detection.script == "Latn"


def test_a_served_regional_locale_is_named_by_its_language() -> None:
    assert identify("Habari yako, nimechoka sana", None, ["en", "sw-KE"], 0.6, always).detected_locale == "sw-KE"


def test_below_the_threshold_detection_is_not_acted_on() -> None:
    assert identify("asante sana", None, EN_SW, 0.6, always).detected_locale == "sw"
    unsure = identify("asante sana", None, EN_SW, 0.95, always)
    assert (unsure.detected_locale, unsure.text_lang) == (None, "und")


def test_without_a_model_for_the_language_translation_is_unavailable() -> None:
    found = identify("मुझे नींद नहीं आती", "hi", ["en", "hi"], 0.6, lambda lang: lang != "hi")
    assert (found.text_lang, found.mt, found.mt_source) == ("hi", "unavailable", None)


@pytest.fixture()
def bilingual_library(tmp_path: Path) -> Path:
    """The starter library with every other language taken back to drafts: English and Kiswahili are served."""
    target = tmp_path / "library"
    shutil.copytree(LIBRARY, target)
    for locale in ("fr", "es", "hi", "ar"):
        for path in (target / locale).glob("*.yaml"):
            if yaml.safe_load(path.read_text()).get("kind") not in {"crisis_lexicon", "keywords"}:
                path.write_text(path.read_text().replace("status: approved", "status: draft"))
    demo = target / "regions" / "demo.yaml"
    demo.write_text(re.sub(r"(?m)^required_locales: .*$", "required_locales: [en, sw]", demo.read_text()))
    return target


@pytest.fixture()
def pipeline(tmp_path, database_url, redis_url, twilio_standin, bilingual_library) -> Iterator[tuple[Services, object]]:
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url, CONTENT_DIR=str(bilingual_library),
                         MODELS_DIR=str(tmp_path / "no-models"))
    services = Services(config)
    runtime.install(services)
    yield services, create_app(config).test_client()
    services.close()


def say(pipeline, text: str) -> None:
    services, client = pipeline
    assert post_signed(client, inbound_form(text, phone=PHONE)).status_code == 200
    drain(services)


def replies(pipeline) -> list[tuple[str, str]]:
    """(item id, locale) of every reply so far."""
    with pipeline[0].db.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(r.content_ref.split("@")[0], r.locale) for r in rows]


def stored_locale(pipeline) -> str | None:
    with pipeline[0].db.session() as session:
        return session.scalars(select(Contact)).one().locale


def language_audit(pipeline) -> list[dict]:
    with pipeline[0].db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == LANGUAGE_DETECTED)
                                 .order_by(AuditEvent.id)).all()
        return [e.detail for e in events]


def choose(pipeline, twilio_standin, language: str) -> None:
    menu = twilio_standin.bodies_to(PHONE)[-1]
    say(pipeline, next(line for line in menu.splitlines() if language in line).split(".")[0])


@pytest.mark.parametrize("first", ["Habari yako, nimechoka sana", "Habari"])
def test_first_contact_in_swahili_is_welcomed_and_asked_for_consent_in_swahili(pipeline, twilio_standin, first):
    say(pipeline, first)
    assert replies(pipeline) == [("onboarding.welcome", "sw"), ("onboarding.consent", "sw")]
    assert stored_locale(pipeline) is None  # detection greets; consent in the language stores it
    say(pipeline, "NDIYO")
    assert replies(pipeline)[-1] == ("menu.main", "sw") and stored_locale(pipeline) == "sw"


def test_a_person_welcomed_in_the_wrong_language_can_still_pick_english(pipeline, twilio_standin):
    say(pipeline, "Habari yako, nimechoka sana")
    say(pipeline, "LANGUAGE")
    choose(pipeline, twilio_standin, "English")
    assert replies(pipeline)[-1] == ("onboarding.consent", "en")
    assert stored_locale(pipeline) == "en"


def test_a_stored_choice_beats_a_confident_detection(pipeline, twilio_standin):
    say(pipeline, "ok")
    choose(pipeline, twilio_standin, "English")
    say(pipeline, "YES")
    say(pipeline, "nahitaji msaada, nimechoka sana")
    assert language_audit(pipeline)[-1]["detected_locale"] == "sw"
    assert {locale for _, locale in replies(pipeline)[3:]} == {"en"}
    assert stored_locale(pipeline) == "en"


def test_short_texts_keep_the_stored_language(pipeline, twilio_standin):
    say(pipeline, "ok")
    choose(pipeline, twilio_standin, "Kiswahili")
    say(pipeline, "NDIYO")
    count = len(replies(pipeline))
    for text in ["ok", "1"]:
        say(pipeline, text)
    assert {locale for _, locale in replies(pipeline)[count:]} == {"sw"}
    assert stored_locale(pipeline) == "sw"
    assert [(a["detected_locale"], a["text_lang"]) for a in language_audit(pipeline)[-2:]] == [(None, "sw")] * 2


def test_a_language_nobody_serves_gets_the_language_menu_not_english_paragraphs(pipeline, twilio_standin):
    say(pipeline, "je suis très fatiguée ce soir")
    assert replies(pipeline) == [("onboarding.languages", "mul")]
    assert twilio_standin.bodies_to(PHONE)[-1].splitlines()[1:] == ["1. English", "2. Kiswahili"]
    (audit,) = language_audit(pipeline)
    # The deployment can see which language it was: French, which it does not serve.
    assert (audit["lang"], audit["detected_locale"], audit["mt"]) == ("fr", None, "skipped")


def test_the_audit_keeps_codes_and_a_confidence_never_the_text(pipeline, twilio_standin):
    say(pipeline, "Habari yako, nimechoka sana")
    (audit,) = language_audit(pipeline)
    assert set(audit) == {"inbound_id", "lang", "script", "confidence", "detected_locale", "text_lang", "mt"}
    assert (audit["lang"], audit["script"], audit["text_lang"]) == ("sw", "Latn", "sw")
    assert audit["mt"] == "unavailable"  # no translation model is installed here
    assert 0.6 <= audit["confidence"] <= 1.0
    assert not any(word in str(audit) for word in ("Habari", "nimechoka"))

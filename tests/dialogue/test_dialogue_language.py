"""Romanised Hindi never reaches a model trained on Devanagari, through the real worker pipeline.

The models directory holds a real (random-weight, int8) NLLB-style hi<->en CTranslate2 model,
built here, and the scripted "warm" dialogue generator. A model is loaded on first use, and the
pool logs each load: a turn that loads nothing translated nothing. The person's stored language
is Hindi; the starter library has no Hindi wording, so replies fall back to English.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import create_app
from bot.services import Services
from core.tables import AuditEvent, Contact, Escalation, OutboxMessage
from tests.conftest import drain, inbound_form, make_config, post_signed
from workers import runtime
from workers.language import LANGUAGE_DETECTED

PHONE = "+254700000919"
CORPUS = ["I cannot sleep at night", "मुझे रात को नींद नहीं आती", "मैं बहुत थका हुआ हूँ", "0123456789 ?!.,"]


@pytest.fixture(scope="module")
def language_models(tmp_path_factory: pytest.TempPathFactory, dialogue_models: Path) -> Path:
    """A MODELS_DIR with a hi<->en translation model and the "warm" generator."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from translation import synthetic

    build = tmp_path_factory.mktemp("hi-en")
    spm = synthetic.train_sentencepiece(CORPUS * 4, build / "spm" / "hi-en", vocab_size=120)
    synthetic.build_multilingual_model(build / "nllb-hi-en", name="nllb-hi-en", languages=["en", "hi"],
                                       spm_model=spm, seed=5)
    root = tmp_path_factory.mktemp("models")
    (root / "nllb-hi-en").symlink_to(build / "nllb-hi-en", target_is_directory=True)
    (root / "warm").symlink_to(dialogue_models / "warm", target_is_directory=True)
    return root


@dataclass
class Speaker:
    """The worker's services and a webhook client, for one person writing in."""

    services: Services
    client: Any

    def say(self, text: str) -> None:
        assert post_signed(self.client, inbound_form(text, phone=PHONE)).status_code == 200
        drain(self.services)


@pytest.fixture()
def hindi_speaker(tmp_path, database_url, redis_url, twilio_standin, language_models) -> Iterator[Speaker]:
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url, MODELS_DIR=str(language_models),
                         DIALOGUE_ENABLED=True, DIALOGUE_MODEL="warm")
    services = Services(config)
    runtime.install(services)
    speaker = Speaker(services, create_app(config).test_client())
    for text in ["Hi", "YES"]:
        speaker.say(text)
    with services.db.session() as session:
        session.scalars(select(Contact)).one().locale = "hi"  # the language they chose
    yield speaker
    services.close()


def model_loads(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if r.name == "translation.pool" and r.getMessage() == "translation model loaded")


def last_language_audit(services: Services) -> dict:
    with services.db.session() as session:
        return session.scalars(select(AuditEvent).where(AuditEvent.action == LANGUAGE_DETECTED)
                               .order_by(AuditEvent.id.desc())).first().detail


def generation_audits(services: Services) -> int:
    with services.db.session() as session:
        actions = ("reply.generated", "generation.blocked")
        return len(session.scalars(select(AuditEvent).where(AuditEvent.action.in_(actions))).all())


def last_reply(services: Services) -> str:
    with services.db.session() as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().content_ref


def test_romanised_hindi_is_not_machine_translated_and_gets_approved_content(hindi_speaker, caplog):
    caplog.set_level(logging.INFO, logger="translation.pool")
    hindi_speaker.say("mujhe raat ko neend nahi aati")
    audit = last_language_audit(hindi_speaker.services)
    assert (audit["lang"], audit["script"], audit["text_lang"], audit["mt"]) == ("hi", "Latn", "und", "skipped")
    assert model_loads(caplog) == 0  # neither the safety gate's English pass nor the dialogue translated it
    assert generation_audits(hindi_speaker.services) == 0
    # Understood from the Hindi cues (no model needed): the sleep module.
    assert last_reply(hindi_speaker.services).startswith("module.sleep.1@")


def test_devanagari_hindi_is_read_by_the_hindi_model(hindi_speaker, caplog):
    from translation.latency import TRANSLATION

    caplog.set_level(logging.INFO, logger="translation.pool")
    TRANSLATION.drain()
    hindi_speaker.say("मेरा पड़ोसी बहुत शोर करता है")  # no cue places it: the dialogue model reads it
    audit = last_language_audit(hindi_speaker.services)
    assert (audit["lang"], audit["script"], audit["text_lang"], audit["mt"]) == ("hi", "Deva", "hi", "used")
    assert model_loads(caplog) == 1
    # The dialogue read it too (random weights translate with low confidence: it then falls back).
    assert generation_audits(hindi_speaker.services) == 1
    # Translated once: the dialogue reuses the safety gate's English instead of asking the model again.
    assert sum(counts.count for counts in TRANSLATION.drain().values()) == 1


def test_a_romanised_hindi_crisis_still_opens_a_case_from_the_lexicons(hindi_speaker, caplog):
    caplog.set_level(logging.INFO, logger="translation.pool")
    hindi_speaker.say("main marna chahta hoon")
    with hindi_speaker.services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
    assert case.severity == "high" and "hi.suicide.marna_chahta" in case.reason
    assert last_language_audit(hindi_speaker.services)["mt"] == "skipped"
    assert model_loads(caplog) == 0

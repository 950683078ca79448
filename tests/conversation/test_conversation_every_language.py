"""The same journey in every served language, through the webhook and a real worker process.

A person greets the service in their language, consents, asks for a topic in their own words,
takes the PHQ-9, writes a crisis message, then STOP and START. Every reply must be in their
language: no English sentence may reach a person who does not speak English. Only keywords
(carrier STOP, START, HELP and the keywords that work in every language) and the region's own
service names (the NGO's data, here the demo's placeholders) may be in English.

Needs Redis, a database and the local Twilio stand-in (tests/conftest.py); the worker is the
real ``python -m workers`` process.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from bot import create_app
from core.tables import Escalation, InboundMessage, InboundStatus, OutboxMessage, OutboxStatus
from tests.conftest import inbound_form, make_config, post_signed, wait_for


@dataclass(frozen=True)
class Journey:
    locale: str
    hello: str  # a first message that names its language
    yes: str
    sleepless: str  # "I can't sleep", as people write it
    crisis: str
    stop: str
    start: str


JOURNEYS = [
    Journey("en", "Hello", "YES", "I can't sleep at night", "I want to kill myself", "STOP", "START"),
    Journey("sw", "Habari", "NDIYO", "sina usingizi", "nataka kujiua", "ACHA", "ANZA"),
    Journey("es", "Hola", "SÍ", "no puedo dormir", "quiero matarme", "BAJA", "ALTA"),
    Journey("fr", "Bonjour", "OUI", "je n'arrive pas à dormir", "je veux me suicider", "ARRÊT", "COMMENCER"),
    Journey("hi", "नमस्ते", "HAAN", "neend nahi aati", "main marna chahta hoon", "रोको", "SHURU"),
    Journey("ar", "مرحبا", "نعم", "لا أستطيع النوم", "أريد أن أقتل نفسي", "توقف", "ابدأ"),
]

# Words that only an English sentence would carry; a word in capitals is a keyword and may stay.
ENGLISH = frozenset("the you your reply please and is are we will with not this to for if of health worker "
                    "check sleep help thank sorry".split())


def english_words(body: str, service_lines: set[str]) -> list[str]:
    """English words of a body, leaving out the region's service lines (the NGO's own data)."""
    kept = "\n".join(line for line in body.splitlines() if not any(s in line for s in service_lines))
    return [w for w in re.findall(r"[A-Za-z']+", kept) if w.lower() in ENGLISH and not w.isupper()]


def test_the_english_check_finds_an_english_sentence_and_lets_keywords_through() -> None:
    assert english_words("Sorry, I didn't understand. Reply MENU to see topics.", set()) == ["Sorry", "Reply", "to"]
    assert english_words("Jibu MENYU au STOP. Asante!", set()) == []
    assert english_words("DEMO LINE - REPLACE: +1 202 555 0100 (24 hours)\nPiga simu.", {"DEMO LINE - REPLACE"}) == []


@pytest.fixture()
def pipeline(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    # The journey is about twenty messages in a minute or two, more than the flood limit allows.
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url,
                         INBOUND_PER_MINUTE=100)
    app = create_app(config)
    services = app.extensions["tumaini.services"]
    worker = spawn_worker(config)
    yield app.test_client(), services
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    services.close()


@pytest.mark.parametrize("journey", JOURNEYS, ids=[j.locale for j in JOURNEYS])
def test_the_whole_journey_stays_in_the_persons_language(pipeline, twilio_standin, starter_content,
                                                         journey: Journey) -> None:
    client, services = pipeline
    phone = f"+2547001{JOURNEYS.index(journey):05d}"

    def say(text: str) -> list[tuple[str, str]]:
        """Send one message as the person; (item id, locale) of each reply once all are sent."""
        form = inbound_form(text, phone=phone)
        assert post_signed(client, form).status_code == 200

        def answered() -> list[tuple[str, str]] | None:
            with services.db.session() as session:
                message = session.scalars(select(InboundMessage).where(
                    InboundMessage.message_sid == form["MessageSid"])).one()
                if message.status != InboundStatus.DONE:
                    return None
                rows = session.scalars(select(OutboxMessage).where(OutboxMessage.inbound_id == message.id)
                                       .order_by(OutboxMessage.id)).all()
                if any(r.status in OutboxStatus.OPEN for r in rows):
                    return None
                return list(dict.fromkeys((r.content_ref.split("@")[0], r.locale) for r in rows)) or [("", "")]

        return wait_for(answered, timeout=90)

    mine = journey.locale
    assert say(journey.hello) == [("onboarding.welcome", mine), ("onboarding.consent", mine)]
    assert say(journey.yes) == [("menu.main", mine)]
    assert say(journey.sleepless) == [("module.sleep.1", mine)]  # free text, in the person's words

    menu = twilio_standin.bodies_to(phone)
    listing = next(body for body in menu if "PHQ-9" in body)
    phq9 = next(line for line in listing.splitlines() if "PHQ-9" in line).split(".")[0].split()[0]
    assert say("MENU") == [("menu.main", mine)]
    assert [item for item, _ in say(phq9)] == ["screening.phq9.intro", "screening.phq9.scale", "screening.phq9.q1"]
    for n in range(2, 10):
        assert say("1") == [(f"screening.phq9.q{n}", mine)]
    assert say("0") == [("screening.phq9.band.mild", mine), ("screening.phq9.help", mine)]  # 8 of 27

    assert say(journey.crisis) == [("crisis.suicide", mine)]
    with services.db.session() as session:
        assert session.scalars(select(Escalation)).one().category == "suicide"

    assert say(journey.stop) == [("keywords.stop_confirmation", mine)]
    assert say(journey.start) == [("keywords.start_confirmation", mine), ("menu.main", mine)]

    if mine != "en":
        region = starter_content.region("demo")
        service_lines = {h.name for h in region.helplines} | ({region.emergency.name} if region.emergency else set())
        with services.db.session() as session:
            parts = session.scalar(select(func.count()).select_from(OutboxMessage))
        bodies = wait_for(lambda: len(twilio_standin.bodies_to(phone)) == parts and twilio_standin.bodies_to(phone))
        english = {body[:60]: words for body in bodies if (words := english_words(body, service_lines))}
        assert english == {}, english

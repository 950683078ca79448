"""Region and accepted locales through the whole pipeline (webhook, worker, database, Twilio stand-in).

Uses the real Redis and databases from tests/conftest.py, with a content
library that has three regions and three approved languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.tables import AuditEvent, Contact, OutboxMessage
from tests.conftest import drain, inbound_form, make_config, post_signed

KENYA = "+254700000771"  # only the demo region lists KE
TANZANIA = "+255712345678"  # demo and north both list TZ
SOUTH_AFRICA = "+27821234567"  # only south lists ZA


@pytest.fixture()
def regional(tmp_path: Path, database_url: str, redis_url: str, twilio_standin: Any,
             regional_library: Path) -> Iterator[tuple[Any, Any]]:
    from bot import create_app
    from bot.services import Services
    from workers import runtime

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url, CONTENT_DIR=str(regional_library))
    services = Services(config)
    runtime.install(services)
    app = create_app(config)
    yield app.test_client(), services
    app.extensions["tumaini.services"].close()
    services.close()


def say(regional: tuple[Any, Any], phone: str, text: str) -> None:
    client, services = regional
    assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200
    drain(services)


def option(message: str, name: str) -> str:
    """The number a menu gives the line that names ``name``."""
    return next(line for line in message.splitlines() if name in line).split(".")[0]


def contact(services: Any) -> Contact:
    with services.db.session() as session:
        found = session.scalars(select(Contact)).one()
        session.expunge(found)
        return found


def region_events(services: Any) -> list[dict[str, Any]]:
    with services.db.session() as session:
        return [e.detail for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "region_set")
                                                  .order_by(AuditEvent.id))]


def onboard(regional: tuple[Any, Any], standin: Any, phone: str, language: str = "English",
            yes: str = "YES") -> None:
    say(regional, phone, "ok")  # says nothing of a language: the language menu comes first
    say(regional, phone, option(standin.bodies_to(phone)[-1], language))
    say(regional, phone, yes)


def test_a_number_one_region_lists_settles_the_region_and_nobody_is_asked(regional, twilio_standin):
    _, services = regional
    say(regional, KENYA, "ok")
    assert contact(services).region == "demo"
    assert region_events(services) == [{"region": "demo", "source": "number"}]
    say(regional, KENYA, option(twilio_standin.bodies_to(KENYA)[-1], "English"))
    say(regional, KENYA, "YES")
    inbox = twilio_standin.bodies_to(KENYA)
    assert inbox[-1].startswith("What would you like help with?")
    assert not any(body.startswith("Where are you?") for body in inbox)


def test_an_ambiguous_number_is_asked_after_consent_and_the_choice_is_stored_and_quoted(regional,
                                                                                        twilio_standin):
    _, services = regional
    onboard(regional, twilio_standin, TANZANIA)
    question = twilio_standin.bodies_to(TANZANIA)[-1]
    assert question.startswith("Where are you?") and "2. North Coast" in question
    assert contact(services).region is None
    say(regional, TANZANIA, "2")
    assert contact(services).region == "north"
    assert twilio_standin.bodies_to(TANZANIA)[-1].startswith("What would you like help with?")
    say(regional, TANZANIA, "I want to kill myself tonight")
    crisis = next(b for b in twilio_standin.bodies_to(TANZANIA) if b.startswith("I'm really glad you told me"))
    assert "NORTH LINE" in crisis and "DEMO" not in crisis
    say(regional, TANZANIA, "REGION")
    say(regional, TANZANIA, "South Valley")
    assert contact(services).region == "south"
    events = region_events(services)
    assert events == [{"region": "north", "source": "chosen"}, {"region": "south", "source": "chosen"}]
    assert TANZANIA[1:] not in str(events)


def test_accepted_locales_are_stored_and_a_missing_item_comes_in_the_one_read_before(regional, twilio_standin):
    _, services = regional
    onboard(regional, twilio_standin, SOUTH_AFRICA, language="Kiswahili", yes="NDIYO")
    person = contact(services)
    assert (person.locale, person.accepted_locales, person.region) == ("sw", "sw", "south")
    say(regional, SOUTH_AFRICA, "LUGHA")
    say(regional, SOUTH_AFRICA, option(twilio_standin.bodies_to(SOUTH_AFRICA)[-1], "Français"))
    person = contact(services)
    assert (person.locale, person.accepted_locales) == ("fr", "fr,sw")
    # DATA has no French text in this library: Swahili (chosen before) beats English (the default).
    say(regional, SOUTH_AFRICA, "DONNEES")
    with services.db.session() as session:
        last = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert last.content_ref.startswith("keywords.data@") and last.locale == "sw"
    assert twilio_standin.bodies_to(SOUTH_AFRICA)[-1].startswith("Tunahifadhi namba yako")

"""One message all the way: signed webhook -> queue -> worker -> outbox -> Twilio client -> stand-in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from core.tables import AuditEvent, ConsentRecord, Contact, InboundMessage, OutboxMessage
from tests.conftest import drain, inbound_form, post_signed

PHONE = "+254700000123"
LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"


def say(client, services, text: str, phone: str = PHONE, channel: str = "sms", **extra: str) -> None:
    assert post_signed(client, inbound_form(text, phone=phone, channel=channel, **extra)).status_code == 200
    drain(services)


def inbox(standin, phone: str = PHONE, channel: str = "sms") -> list[str]:
    address = ("whatsapp:" if channel == "whatsapp" else "") + phone
    return standin.bodies_to(address)


def test_first_contact_greets_discloses_the_bot_and_asks_consent_before_anything_else(client, services, twilio_standin):
    say(client, services, "Hi")
    greeting, consent = inbox(twilio_standin)
    assert "automated" in greeting and "not a person, a therapist or an emergency service" in greeting
    assert "Do you agree? Reply YES or NO" in consent


def test_consent_is_recorded_with_the_wording_version_and_the_menu_follows(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "yes")
    assert "Reply with a number" in inbox(twilio_standin)[-1]
    with services.db.session() as session:
        record = session.scalars(select(ConsentRecord)).one()
        assert (record.decision, record.wording_ref, record.locale) == ("given", "onboarding.consent@1", "en")
        assert session.scalars(select(Contact)).one().consent_version == "onboarding.consent@1"


def test_declining_consent_sends_nothing_more_than_the_acknowledgement(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "no")
    assert "will not store" in inbox(twilio_standin)[-1]
    say(client, services, "2")
    assert "Do you agree?" in inbox(twilio_standin)[-1]  # still asks: nothing else before consent


def test_a_module_can_be_walked_through_from_the_menu(client, services, twilio_standin):
    for text in ["Hi", "YES", "2"]:
        say(client, services, text)
    assert inbox(twilio_standin)[-1].startswith("Stress and worry often disturb sleep")
    say(client, services, "next")
    assert "same times every day" in inbox(twilio_standin)[-1]
    with services.db.session() as session:
        refs = session.scalars(select(OutboxMessage.content_ref).order_by(OutboxMessage.id)).all()
    assert refs[-2:] == ["module.sleep.1@1", "module.sleep.2@1"]


def test_stop_confirms_once_then_silence_until_start(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "STOP")
    assert "no more messages" in inbox(twilio_standin)[-1]
    count = len(inbox(twilio_standin))
    for text in ["hello?", "STOP", "stopall", "menu"]:
        say(client, services, text)
    assert len(inbox(twilio_standin)) == count  # no second confirmation, no replies
    say(client, services, "START")
    assert "Welcome back" in inbox(twilio_standin)[-1 if len(inbox(twilio_standin)) == count + 1 else -2]


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "CANCEL", "end", "QUIT", "stopall"])
def test_every_opt_out_keyword_opts_out(client, services, twilio_standin, word):
    say(client, services, word)
    with services.db.session() as session:
        assert session.scalars(select(Contact)).one().opted_out


def test_help_explains_the_service_with_the_regions_helplines(client, services, twilio_standin):
    say(client, services, "HELP")
    [reply] = inbox(twilio_standin)
    assert "STOP to end" in reply
    assert "DEMO" in reply  # the demo region's placeholder helplines


def test_media_only_message_gets_a_gentle_text_only_reply(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "", NumMedia="1", MediaContentType0="image/jpeg", MediaUrl0="https://api.twilio.com/m/1")
    assert "only read text" in inbox(twilio_standin)[-1]


def test_whatsapp_and_sms_from_one_number_are_one_person_answered_on_their_channel(client, services, twilio_standin):
    say(client, services, "Hi", channel="whatsapp")
    say(client, services, "YES", channel="sms")
    assert len(inbox(twilio_standin, channel="whatsapp")) == 2
    assert "Reply with a number" in inbox(twilio_standin, channel="sms")[-1]
    with services.db.session() as session:
        assert len(session.scalars(select(Contact)).all()) == 1


def test_every_reply_records_the_content_version_it_came_from(client, services, twilio_standin):
    say(client, services, "Hi")
    with services.db.session() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "reply.composed")).all()
    assert [r.content_ref for r in rows] == ["onboarding.welcome@1", "onboarding.consent@1"]
    assert {a.detail["content"] for a in audit} == {"onboarding.welcome@1", "onboarding.consent@1"}


def test_a_duplicate_webhook_is_answered_once(client, services, twilio_standin):
    form = inbound_form("Hi", phone=PHONE)
    post_signed(client, form)
    post_signed(client, form)
    drain(services)
    post_signed(client, form)
    drain(services)
    assert len(inbox(twilio_standin)) == 2  # welcome + consent, once


def test_long_replies_are_split_within_the_sms_segment_budget(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "YES")
    with services.db.session() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    assert all(1 <= r.segments <= services.config.SMS_SEGMENT_BUDGET for r in rows)
    assert {r.encoding for r in rows} == {"GSM-7"}


@pytest.fixture()
def bilingual_library(tmp_path: Path) -> Path:
    """A copy of the starter library, where every language is served as demonstration content."""
    target = tmp_path / "library"
    shutil.copytree(LIBRARY, target)
    return target


def test_language_choice_is_offered_when_several_languages_are_approved(tmp_path, database_url, redis_url,
                                                                        twilio_standin, bilingual_library):
    from bot import create_app
    from bot.services import Services
    from tests.conftest import make_config
    from workers import runtime

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url, CONTENT_DIR=str(bilingual_library))
    services = Services(config)
    runtime.install(services)
    client = create_app(config).test_client()
    say(client, services, "sawa")  # says nothing of a language: the menu of languages, in their own names
    assert "Kiswahili" in inbox(twilio_standin)[-1] and "English" in inbox(twilio_standin)[-1]
    choice = next(line for line in inbox(twilio_standin)[-1].splitlines() if "Kiswahili" in line).split(".")[0]
    say(client, services, choice)
    with services.db.session() as session:
        assert session.scalars(select(Contact)).one().locale == "sw"
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.content_ref.split("@")[0], r.locale) for r in rows] == [
        ("onboarding.languages", "mul"), ("onboarding.welcome", "sw"), ("onboarding.consent", "sw")]
    services.close()


def test_inbound_bodies_stay_encrypted_after_processing(client, services, twilio_standin):
    say(client, services, "I cannot sleep at all")
    with services.db.session() as session:
        message = session.scalars(select(InboundMessage)).one()
        assert message.status == "done"
        assert b"sleep" not in message.body_enc
        assert all(b"Tumaini" not in (r.body_enc or b"") for r in session.scalars(select(OutboxMessage)))


def test_logs_of_a_whole_conversation_hold_no_phone_numbers_or_message_text(client, services, twilio_standin, caplog):
    import logging

    from bot.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)
    secret_words = ["Hi", "YES", "2", "next", "I feel hopeless and alone", "STOP"]
    for text in secret_words:
        say(client, services, text)
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "inbound.stored" in logged and "send.sent" in logged
    for needle in [PHONE, PHONE[1:], PHONE[-9:], "hopeless", "disturb sleep", "no more messages"]:
        assert needle not in logged

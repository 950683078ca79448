"""Crisis handling and erasure through the whole pipeline (webhook, worker, outbox, Twilio stand-in)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.tables import AuditEvent, ConsentRecord, Contact, Escalation, InboundMessage, OutboxMessage
from tests.conftest import drain, inbound_form, post_signed

PHONE = "+254700000555"


def say(client, services, text: str, phone: str = PHONE) -> None:
    assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200
    drain(services)


def test_a_crisis_message_is_answered_with_helplines_first_and_opens_a_case(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "I want to kill myself tonight")
    reply = twilio_standin.bodies_to(PHONE)[2]
    assert reply.startswith("I'm really glad you told me") and "DEMO HELPLINE" in reply
    with services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
        contact = session.scalars(select(Contact)).one()
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "crisis")).one()
    assert case.severity == "imminent" and case.status == "open" and case.category == "suicide"
    assert "combo:suicide+time" in case.reason and "kill" not in case.reason.replace("kill_myself", "")
    assert contact.paused
    assert row.content_ref == "crisis.suicide@1"


def test_a_second_crisis_message_updates_the_open_case_instead_of_opening_another(client, services, twilio_standin):
    say(client, services, "I want to die")
    say(client, services, "I have the pills ready tonight, I want to die")
    with services.db.session() as session:
        cases = session.scalars(select(Escalation)).all()
    assert len(cases) == 1 and cases[0].severity == "imminent"


def test_hyperbole_is_not_a_crisis(client, services, twilio_standin):
    say(client, services, "Hi")
    say(client, services, "YES")
    say(client, services, "this traffic is killing me")
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_delete_erases_everything_about_the_person_and_leaves_a_tombstone(client, services, twilio_standin):
    for text in ["Hi", "YES", "2", "I want to die", "DELETE"]:
        say(client, services, text)
    code = re.search(r"DELETE (\d{6})", twilio_standin.bodies_to(PHONE)[-1]).group(1)
    say(client, services, f"DELETE {code}")
    # The confirmation went out first; then Twilio's copies of every message were deleted too.
    assert "erased" in [m.body for m in twilio_standin.store.deleted if m.to == PHONE][-1]
    assert twilio_standin.bodies_to(PHONE) == []
    other = "+254700000999"
    say(client, services, "Hi", phone=other)
    with services.db.session() as session:
        contacts = session.scalars(select(Contact)).all()
        assert [c.phone_hash for c in contacts] == [services.pseudonymise(other)]
        mine = contacts[0].id
        for model in (InboundMessage, OutboxMessage):
            assert all(r.contact_id == mine for r in session.scalars(select(model)))
        # The crisis case stays for staff, closed and linked to no one.
        [case] = session.scalars(select(Escalation)).all()
        assert case.contact_id is None and case.status == "closed" and case.outcome == "erased"
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0
        tombstone = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.erased")).one()
    assert tombstone.contact_id is None
    assert tombstone.detail["removed"]["inbound"] == 6 and tombstone.detail["removed"]["cases_kept"] == 1
    assert PHONE[1:] not in str(tombstone.detail)

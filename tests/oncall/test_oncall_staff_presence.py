"""When the bot stays quiet for a case owner, and how screening data sits in a person's state.

Needs the database fixtures (SQLite and PostgreSQL); no Redis work beyond the services.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services import Services
from core import health
from core.crypto import Cipher, new_key
from core.tables import AuditEvent, CaseKind, Contact, Escalation, OutboxMessage, utcnow
from tests.conftest import make_config
from workers.handoff import case_for_turn


def _person_with_case(session) -> int:
    contact = Contact(phone_hash="h" * 64, phone_enc=b"x", channel="sms", state={})
    session.add(contact)
    session.flush()
    session.add(Escalation(contact_id=contact.id, severity="handoff", kind=CaseKind.HANDOFF, reason="handoff"))
    session.flush()
    return contact.id


def _staff_reply(session, contact_id: int, at) -> None:
    session.add(OutboxMessage(contact_id=contact_id, channel="sms", body_enc=b"x", body_sha256="0" * 64,
                              kind="staff_reply", content_ref="staff:1", created_at=at))


def test_the_owner_is_in_the_conversation_for_the_set_time_after_their_reply(tmp_path, database_url, redis_url):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, STAFF_PRESENCE_S=600)
    services = Services(config)
    now = utcnow()
    with services.db.session() as session:
        assert case_for_turn(session, config, None, now) is None
        contact_id = _person_with_case(session)
        assert case_for_turn(session, config, contact_id, now) == "open"  # nobody has written yet
        _staff_reply(session, contact_id, now - timedelta(seconds=700))
        session.flush()
        assert case_for_turn(session, config, contact_id, now) == "open"  # too long ago
        _staff_reply(session, contact_id, now - timedelta(seconds=60))
        session.flush()
        assert case_for_turn(session, config, contact_id, now) == "with_staff"
        session.add(AuditEvent(actor="1", action="case.handed_back", contact_id=contact_id, created_at=now))
        session.flush()
        assert case_for_turn(session, config, contact_id, now) == "open"
        case = session.scalars(select(Escalation).where(Escalation.contact_id == contact_id)).one()
        case.status = "closed"
        session.flush()
        assert case_for_turn(session, config, contact_id, now) is None
    services.close()


def test_screening_answers_and_offers_are_sealed_in_the_stored_state():
    cipher = Cipher([new_key()])
    state = {"flow": "screening", "instrument": "phq9", "answers": [3, 2, 1], "offer": "phq9"}
    contact = Contact(state={})
    health.store_state(cipher, contact, state)
    # The whole state is sealed (core.health): not even the flow or the instrument shows.
    assert contact.state == {} and b"phq9" not in contact.state_enc and b"3, 2" not in contact.state_enc
    assert health.open_state(cipher, contact) == state
    health.store_state(cipher, contact, {})
    assert contact.state_enc is None and health.open_state(cipher, contact) == {}


def test_a_seal_under_a_removed_key_is_dropped_not_fatal():
    contact = Contact(state={})
    health.store_state(Cipher([new_key()]), contact, {"flow": "screening", "instrument": "phq9", "answers": [1]})
    assert health.open_state(Cipher([new_key()]), contact) == {}


def test_a_state_stored_with_only_its_answers_sealed_still_opens():
    """States written before whole-state sealing kept their answers in a ``sealed`` field."""
    import base64
    import json

    cipher = Cipher([new_key()])
    blob = base64.b64encode(cipher.encrypt(json.dumps({"answers": [2]}), b"state")).decode()
    contact = Contact(state={"flow": "screening", "instrument": "phq9", "sealed": blob})
    assert health.open_state(cipher, contact) == {"flow": "screening", "instrument": "phq9", "answers": [2]}

"""Delivery status callbacks recorded on the outbox row."""

from __future__ import annotations

from sqlalchemy import select

from core.outbox import body_digest
from core.tables import Contact, OutboxMessage, OutboxStatus
from tests.conftest import post_signed


def _sent_row(app, sid: str = "SM" + "c" * 32) -> int:
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        contact = Contact(phone_hash="h" * 64, phone_enc=services.cipher.encrypt("+2547", b"phone"), channel="sms",
                          state={})
        session.add(contact)
        session.flush()
        row = OutboxMessage(contact_id=contact.id, channel="sms", body_enc=b"", body_sha256=body_digest(""),
                            status=OutboxStatus.SENT, provider_sid=sid)
        session.add(row)
        session.flush()
        return row.id


def _row(app, row_id: int) -> OutboxMessage:
    with app.extensions["tumaini.services"].db.session() as session:
        return session.get(OutboxMessage, row_id)


def _status(client, sid: str, status: str, **extra: str):
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "1" * 32, **extra}
    return post_signed(client, form, path="/twilio/status")


def test_delivered_status_is_recorded_and_never_moves_backwards(app, client):
    row_id = _sent_row(app)
    assert _status(client, "SM" + "c" * 32, "delivered").status_code == 200
    assert _row(app, row_id).status == OutboxStatus.DELIVERED
    assert _status(client, "SM" + "c" * 32, "sent").status_code == 200  # a late, out-of-order callback
    assert _row(app, row_id).status == OutboxStatus.DELIVERED


def test_undelivered_status_records_the_error_code(app, client):
    row_id = _sent_row(app)
    _status(client, "SM" + "c" * 32, "undelivered", ErrorCode="30003")
    row = _row(app, row_id)
    assert row.status == OutboxStatus.UNDELIVERED and row.error_code == 30003


def test_status_21610_marks_the_contact_opted_out(app, client):
    row_id = _sent_row(app)
    _status(client, "SM" + "c" * 32, "failed", ErrorCode="21610")
    with app.extensions["tumaini.services"].db.session() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.opted_out
    assert _row(app, row_id).status == OutboxStatus.FAILED


def test_unsigned_status_callback_is_refused(app, client):
    row_id = _sent_row(app)
    response = client.post("/twilio/status", data={"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"})
    assert response.status_code == 403
    assert _row(app, row_id).status == OutboxStatus.SENT


def test_status_callback_with_unknown_status_is_a_400(app, client):
    _sent_row(app)
    assert _status(client, "SM" + "c" * 32, "exploded").status_code == 400

"""Retention deletes old finished messages and keeps daily counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.tables import InboundMessage, MessageCount, OutboxMessage, utcnow
from tests.conftest import drain, inbound_form, post_signed
from workers.retention import purge_expired


def test_old_messages_are_deleted_in_batches_and_counted_by_day(client, services, twilio_standin):
    for i in range(5):
        post_signed(client, inbound_form("HELP", phone=f"+25470001000{i}"))
    post_signed(client, inbound_form("HELP", phone="+254700010009", channel="whatsapp"))
    drain(services)
    old = utcnow() - timedelta(days=120)
    with services.db.session() as session:
        for row in session.scalars(select(InboundMessage)).all()[:4]:
            row.received_at = old
        for row in session.scalars(select(OutboxMessage)).all()[:3]:
            row.created_at = old
    report = purge_expired(services, batch=2)
    assert (report.inbound_deleted, report.outbox_deleted) == (4, 3)
    assert report.batches == 4
    with services.db.session() as session:
        assert len(session.scalars(select(InboundMessage)).all()) == 2
        counts = {(c.day, c.channel, c.direction): c.count for c in session.scalars(select(MessageCount))}
    assert counts == {(old.date(), "sms", "in"): 4, (old.date(), "sms", "out"): 3}
    assert purge_expired(services).inbound_deleted == 0


def test_unanswered_messages_are_never_purged(client, services):
    post_signed(client, inbound_form("HELP"))
    with services.db.session() as session:
        session.scalars(select(InboundMessage)).one().received_at = utcnow() - timedelta(days=400)
    assert purge_expired(services).inbound_deleted == 0


def test_counts_add_to_earlier_ones_and_an_owed_message_does_not_stop_the_purge(client, services, twilio_standin):
    for i in range(3):
        post_signed(client, inbound_form("HELP", phone=f"+25470002000{i}"))
    drain(services)
    old = utcnow() - timedelta(days=200)
    with services.db.session() as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        for row in rows:
            row.received_at = old
        rows[0].status = "received"  # the oldest is still owed an answer: it stays, the later ones go
        owed = rows[0].id
        session.add(MessageCount(day=old.date(), channel="sms", direction="in", count=5))
    report = purge_expired(services, batch=1)
    assert (report.inbound_deleted, report.outbox_deleted, report.batches) == (2, 0, 2)
    with services.db.session() as session:
        assert session.scalars(select(InboundMessage.id)).all() == [owed]
        counts = {(c.day, c.channel, c.direction): c.count for c in session.scalars(select(MessageCount))}
    assert counts == {(old.date(), "sms", "in"): 7}

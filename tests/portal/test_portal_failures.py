"""The "Failed work" page: failures with their reasons, no text or numbers, and audited retries.

The failures are made the way production makes them: a Twilio stand-in that refuses one
send (400 21211), a delivery callback saying "undelivered", and a message whose processing
already crashed the maximum number of times, which the worker then sets aside. Retries go
through the real queue and worker (``drain``), and what the person receives is read back
from the stand-in.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from rq.registry import FailedJobRegistry
from sqlalchemy import select, update

from bot.portal.failures import describe, scrub
from bot.simulator.twilio_api import Scripted
from core.outbox import ErrorKind, body_digest
from core.tables import (
    AuditEvent,
    CourseEnrollment,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    OutboxStatus,
    utcnow,
)
from tests.conftest import ACCOUNT_SID, drain, inbound_form, post_signed
from tests.portal.conftest import sqlite_only
from workers.inbound import MAX_ATTEMPTS

ANNA = "+254711555001"  # her first reply is refused by Twilio
BARAKA = "+254711555002"  # his message crashed processing too often
SECRET = "Zawadi from Kibera"


@dataclass
class World:
    anna: int  # contact id
    inbound_id: int
    failed_id: int
    undelivered_id: int
    skipped_id: int
    failed_body: str
    bodies: list[str]  # every outbox body, to check none is shown


def _db(portal_app: Any) -> Any:
    return portal_app.extensions["tumaini.services"].db


def _outbox(portal_app: Any, row_id: int) -> OutboxMessage:
    with _db(portal_app).session() as session:
        row = session.get(OutboxMessage, row_id)
        session.expunge(row)
    return row


def _audit(portal_app: Any, action: str) -> list[AuditEvent]:
    with _db(portal_app).session() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for row in rows:
            session.expunge(row)
    return rows


@pytest.fixture()
def world(portal_app: Any, services: Any, twilio_standin: Any) -> World:
    client = portal_app.test_client()
    twilio_standin.store.script(Scripted(400, 21211, "Invalid 'To' Phone Number"))
    assert post_signed(client, inbound_form(f"Hello, {SECRET} told me about you", phone=ANNA)).status_code == 200
    assert post_signed(client, inbound_form(f"{SECRET} is my sister", phone=BARAKA)).status_code == 200
    with services.db.session() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.from_hash == services.pseudonymise(BARAKA))
            .values(attempts=MAX_ATTEMPTS)
        )
    drain(services)
    assert post_signed(client, inbound_form("HELP", phone=ANNA)).status_code == 200
    drain(services)

    with services.db.session() as session:
        inbound_id = session.scalar(select(InboundMessage.id).where(InboundMessage.status == InboundStatus.FAILED))
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        anna = rows[0].contact_id
        failed = [r for r in rows if r.status == OutboxStatus.FAILED]
        sent = [r for r in rows if r.status == OutboxStatus.SENT]
        assert inbound_id is not None and len(failed) == 1 and len(sent) >= 2, [r.status for r in rows]
        failed_id, last_sent_sid = failed[0].id, sent[-1].provider_sid
        failed_body = services.cipher.decrypt(failed[0].body_enc, b"body")
        bodies = [services.cipher.decrypt(r.body_enc, b"body") for r in rows]
        # A course message the scheduler set aside because its window had passed.
        enrollment = CourseEnrollment(
            contact_id=anna,
            course_id="sleep_better",
            course_version=1,
            anchor_date=date.today() - timedelta(days=2),
            step=1,
            version=1,
        )
        session.add(enrollment)
        session.flush()
        text = "Tonight, try the 4-7-8 breathing before bed."
        skipped = OutboxMessage(
            contact_id=anna,
            channel="sms",
            body_enc=services.cipher.encrypt(text, b"body"),
            body_sha256=body_digest(text),
            content_ref="course.sleep.1@1",
            kind="course",
            status=OutboxStatus.SKIPPED,
            error="missed its window",
            status_at=utcnow(),
            enrollment_id=enrollment.id,
            course_step=0,
        )
        session.add(skipped)
        session.flush()
        skipped_id = skipped.id
        bodies.append(text)
    callback = {
        "MessageSid": last_sent_sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": ACCOUNT_SID,
    }
    assert post_signed(client, callback, path="/twilio/status").status_code == 200
    with services.db.session() as session:
        undelivered_id = session.scalar(select(OutboxMessage.id).where(OutboxMessage.provider_sid == last_sent_sid))
    return World(anna, inbound_id, failed_id, undelivered_id, skipped_id, failed_body, bodies)


def test_the_page_lists_each_kind_with_its_reason_and_shows_no_text_or_numbers(sign_in, world):
    b, _admin = sign_in("admin")
    response = b.get("/portal/failures/")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert 'href="/portal/failures/"' in page  # in the navigation

    inbound = page.split(f'id="inbound-{world.inbound_id}"')[1].split("</li>")[0]
    assert "processing failed repeatedly" in inbound and f"{MAX_ATTEMPTS} attempts" in inbound
    failed = page.split(f'id="outbox-{world.failed_id}"')[1].split("</li>")[0]
    assert f"person #{world.anna}" in failed and "Twilio error 21211" in failed and "twilio 400 21211" in failed
    assert f"/portal/failures/outbox/{world.failed_id}/retry" in failed
    undelivered = page.split(f'id="outbox-{world.undelivered_id}"')[1].split("</li>")[0]
    assert "Twilio error 30003" in undelivered and "undelivered" in undelivered and "/retry" not in undelivered
    skipped = page.split(f'id="skipped-{world.skipped_id}"')[1].split("</li>")[0]
    assert "missed its window" in skipped and "sleep_better" in skipped and "/retry" not in skipped
    assert "never sent in the middle of the night" in page
    job = page.split(f'id="job-send-{world.failed_id}-0"')[1].split("</li>")[0]
    assert "workers.jobs.send_outbound" in job and "PermanentSendError" in job and "twilio 400 21211" in job

    assert not re.search(r"\sstyle=|<style|\son[a-z]+=|<script(?![^>]*\bsrc=)", page), "the CSP must hold"
    counts = page.split('<ul class="counts">')[1].split("</ul>")[0]
    assert [line.rsplit("<strong>", 1)[1].split("<")[0] for line in counts.split("<li>")[1:]] == ["1", "2", "1", "1"]
    for secret in (ANNA, ANNA[1:], BARAKA, BARAKA[1:], SECRET, *world.bodies):
        assert secret not in page, secret


@sqlite_only
def test_retrying_a_failed_message_gets_the_person_answered(portal_app, sign_in, world, services, twilio_standin):
    b, admin = sign_in("admin")
    b.get("/portal/failures/")
    assert twilio_standin.bodies_to(BARAKA) == []
    response = b.post(f"/portal/failures/inbound/{world.inbound_id}/retry")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/failures/#inbound")
    assert f"Message #{world.inbound_id} is back in line" in b.get("/portal/failures/").get_data(as_text=True)

    drain(services)
    assert twilio_standin.bodies_to(BARAKA), "the person was answered"
    with services.db.session() as session:
        row = session.get(InboundMessage, world.inbound_id)
        assert (row.status, row.attempts, row.error) == (InboundStatus.DONE, 1, None)
    [event] = _audit(portal_app, "inbound.retried")
    assert event.actor == str(admin.id) and event.detail["inbound_id"] == world.inbound_id
    assert event.detail["attempts"] == MAX_ATTEMPTS and SECRET not in str(event.detail)
    page = b.get("/portal/failures/").get_data(as_text=True)
    assert f'id="inbound-{world.inbound_id}"' not in page

    again = b.post(f"/portal/failures/inbound/{world.inbound_id}/retry")
    assert again.status_code == 302
    assert "Only a failed message can be retried" in b.get("/portal/failures/").get_data(as_text=True)
    assert len(_audit(portal_app, "inbound.retried")) == 1


def test_retrying_a_failed_send_delivers_it_exactly_once(portal_app, sign_in, world, services, twilio_standin):
    b, admin = sign_in("admin")
    b.get("/portal/failures/")
    body = world.failed_body
    assert _outbox(portal_app, world.failed_id).status == OutboxStatus.FAILED
    before = twilio_standin.bodies_to(ANNA).count(body)

    assert b.post(f"/portal/failures/outbox/{world.failed_id}/retry").status_code == 302
    assert FailedJobRegistry("send", connection=services.redis).count == 0, "the retry supersedes the failed job"
    drain(services)
    assert twilio_standin.bodies_to(ANNA).count(body) == before + 1
    row = _outbox(portal_app, world.failed_id)
    assert row.status == OutboxStatus.SENT and row.error_code is None and row.provider_sid

    assert b.post(f"/portal/failures/outbox/{world.failed_id}/retry").status_code == 302
    assert "certainly not delivered" in b.get("/portal/failures/").get_data(as_text=True)
    drain(services)
    assert twilio_standin.bodies_to(ANNA).count(body) == before + 1, "sent once, however often Retry is pressed"
    [event] = _audit(portal_app, "outbox.retried")
    assert event.actor == str(admin.id) and event.contact_id == world.anna
    assert event.detail == {
        "outbox_id": world.failed_id,
        "error_code": 21211,
        "error": "twilio 400 21211",
        "attempts": 1,
        "mode": "pending",
    }


@sqlite_only
def test_a_send_whose_outcome_is_unknown_is_looked_up_at_twilio_before_any_resend(
    portal_app, sign_in, world, services, twilio_standin
):
    """Twilio took the message, but the worker never learnt it: the retry finds it, sends nothing."""
    with services.db.session() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT).order_by(OutboxMessage.id)
        ).first()
        row_id, sid, body = row.id, row.provider_sid, services.cipher.decrypt(row.body_enc, b"body")
        row.status, row.provider_sid, row.error = OutboxStatus.FAILED, None, "gave up: twilio read timeout"
        row.error_kind = ErrorKind.OUTCOME_UNKNOWN  # as the worker records a send it could not confirm
        row.sending_at = utcnow() - timedelta(hours=1)
    before = twilio_standin.bodies_to(ANNA).count(body)
    b, _admin = sign_in("admin")
    page = b.get("/portal/failures/").get_data(as_text=True).split(f'id="outbox-{row_id}"')[1].split("</li>")[0]
    assert "Outcome unknown" in html.unescape(page)
    assert b.post(f"/portal/failures/outbox/{row_id}/retry").status_code == 302
    assert _outbox(portal_app, row_id).status == OutboxStatus.SENDING
    drain(services)
    row = _outbox(portal_app, row_id)
    assert row.status == OutboxStatus.SENT and row.provider_sid == sid
    assert twilio_standin.bodies_to(ANNA).count(body) == before
    assert _audit(portal_app, "outbox.retried")[0].detail["mode"] == "reconcile"


@sqlite_only
def test_undelivered_and_skipped_messages_are_not_resent(portal_app, sign_in, world, services, twilio_standin):
    b, _admin = sign_in("admin")
    b.get("/portal/failures/")
    sent_before = len(twilio_standin.store.all())
    for row_id, status in ((world.undelivered_id, OutboxStatus.UNDELIVERED), (world.skipped_id, OutboxStatus.SKIPPED)):
        assert b.post(f"/portal/failures/outbox/{row_id}/retry").status_code == 302
        assert _outbox(portal_app, row_id).status == status
    drain(services)
    assert len(twilio_standin.store.all()) == sent_before
    assert _audit(portal_app, "outbox.retried") == []


@sqlite_only
def test_a_failed_job_is_requeued_through_rq_and_sends_nothing_twice(
    portal_app, sign_in, world, services, twilio_standin
):
    registry = FailedJobRegistry("send", connection=services.redis)
    job_id = f"send-{world.failed_id}-0"
    assert job_id in registry
    b, admin = sign_in("admin")
    b.get("/portal/failures/")
    sent_before = len(twilio_standin.store.all())
    assert b.post(f"/portal/failures/jobs/send/{job_id}/retry").status_code == 302
    assert job_id not in registry
    drain(services)
    assert job_id not in registry, "the job ran again and finished"
    assert len(twilio_standin.store.all()) == sent_before, "the row had failed: the job sends nothing"
    [event] = _audit(portal_app, "job.requeued")
    assert event.actor == str(admin.id) and event.detail == {"queue": "send", "job_id": job_id}

    assert b.post(f"/portal/failures/jobs/send/{job_id}/retry").status_code == 302
    assert "no longer in the failed list" in b.get("/portal/failures/").get_data(as_text=True)
    assert b.post("/portal/failures/jobs/nowhere/x/retry").status_code == 302
    assert len(_audit(portal_app, "job.requeued")) == 1


@sqlite_only
@pytest.mark.parametrize("role", ["curator", "reviewer", "health_worker"])
def test_only_admins_see_failed_work_or_retry_it(portal_app, sign_in, world, services, role):
    b, _user = sign_in(role)
    home = b.get("/portal/").get_data(as_text=True)
    assert "/portal/failures/" not in home
    assert b.get("/portal/failures/").status_code == 403
    assert b.post(f"/portal/failures/inbound/{world.inbound_id}/retry").status_code == 403
    assert b.post(f"/portal/failures/outbox/{world.failed_id}/retry").status_code == 403
    assert b.post(f"/portal/failures/jobs/send/send-{world.failed_id}-0/retry").status_code == 403
    assert _outbox(portal_app, world.failed_id).status == OutboxStatus.FAILED
    with services.db.session() as session:
        assert session.get(InboundMessage, world.inbound_id).status == InboundStatus.FAILED
        retries = ("inbound.retried", "outbox.retried", "job.requeued")
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action.in_(retries))).all()
    assert f"send-{world.failed_id}-0" in FailedJobRegistry("send", connection=services.redis)


@sqlite_only
def test_a_retry_without_the_form_token_is_refused(portal_app, sign_in, world):
    b, _admin = sign_in("admin")
    response = b.client.post(f"/portal/failures/outbox/{world.failed_id}/retry")
    assert response.status_code == 400
    assert _outbox(portal_app, world.failed_id).status == OutboxStatus.FAILED


@pytest.mark.parametrize(
    ("exc_string", "expected"),
    [
        (
            'Traceback (most recent call last):\n  File "w.py", line 3, in send\n    raise classify(exc)\n'
            "core.exceptions.PermanentSendError: twilio 400 21211\n",
            ("PermanentSendError", "twilio 400 21211"),
        ),
        (
            'Traceback (most recent call last):\n  File "x.py", line 1\n'
            "sqlalchemy.exc.IntegrityError: (psycopg.errors.UniqueViolation) duplicate key value violates unique "
            'constraint "uq_contacts_phone_hash"\n[SQL: INSERT INTO contacts (phone_hash) VALUES (%(h)s)]\n'
            "[parameters: {'h': 'abc'}]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)\n",
            ("IntegrityError", "(psycopg.errors.UniqueViolation) duplicate key value violates unique constraint '…'"),
        ),
        ("ValueError: no route for +254 711 555 001 ('I feel alone')", ("ValueError", "no route for … ('…')")),
        (
            "rq.timeouts.JobTimeoutException: Task exceeded maximum timeout value (180 seconds)",
            ("JobTimeoutException", "Task exceeded maximum timeout value (180 seconds)"),
        ),
        ("due to AbandonedJobError", ("", "due to AbandonedJobError")),
        ("", ("", "")),
        (None, ("", "")),
    ],
)
def test_exceptions_are_shown_by_type_and_a_scrubbed_last_line(exc_string, expected):
    assert describe(exc_string) == expected


def test_scrubbing_removes_numbers_quotes_and_links_but_keeps_error_codes():
    assert scrub("twilio 400 21211") == "twilio 400 21211"
    assert scrub('to whatsapp:+254711555001 said "help me" see https://x.example/y') == "to whatsapp:… said '…' see …"
    assert len(scrub("x" * 500)) == 160

"""DELETE: the person's number and messages go, here and at Twilio; their crisis case and the
audit trail stay, de-identified; whoever answers for the case is told; a lost job loses nothing."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.services import Services
from core.tables import AuditEvent, Contact, ErasureRequest, Escalation, InboundMessage, OutboxMessage
from tests.conftest import drain, inbound_form, post_signed
from workers import runtime
from workers.sweeper import sweep

PHONE = "+254700000321"
ONCALL = "+254711000111"


@pytest.fixture()
def world(config, starter_content):
    """The app and a worker's services, with an on-call number to alert."""
    cfg = replace(config, ONCALL_NUMBERS=(ONCALL,))
    app = create_app(cfg)
    services = Services(cfg)
    services.__dict__["library"] = starter_content
    runtime.install(services)
    yield app, app.test_client(), services
    services.close()
    app.extensions["tumaini.services"].close()


def _say(client, services, text):
    assert post_signed(client, inbound_form(text, phone=PHONE)).status_code == 200
    drain(services)


def _delete_code(twilio_standin):
    """The code quoted in the last DELETE confirmation request the person was sent."""
    asked = [b for b in twilio_standin.bodies_to(PHONE) if "DELETE" in b][-1]
    return re.search(r"DELETE (\d{6})", asked).group(1)


def _erase(client, services, twilio_standin):
    _say(client, services, "DELETE")
    _say(client, services, f"DELETE {_delete_code(twilio_standin)}")


def _count(services, model, *where):
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _converse_into_a_crisis_case(client, services):
    _say(client, services, "hello")
    _say(client, services, "YES")
    _say(client, services, "I want to kill myself tonight")
    with services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
        assert case.status == "open" and case.contact_id is not None
        return case.id, case.contact_id


def test_delete_keeps_the_open_case_de_identified_tells_on_call_and_deletes_at_twilio(world, twilio_standin):
    app, client, services = world
    case_id, contact_id = _converse_into_a_crisis_case(client, services)
    audit_before = _count(services, AuditEvent, AuditEvent.contact_id == contact_id)
    sids_at_twilio = {m.sid for m in twilio_standin.store.all() if m.to == PHONE}
    assert audit_before > 3 and sids_at_twilio
    _erase(client, services, twilio_standin)
    drain(services)

    assert _count(services, Contact) == 0
    assert _count(services, InboundMessage) == 0
    assert _count(services, OutboxMessage, OutboxMessage.contact_id.is_not(None)) == 0
    with services.db.session() as session:
        case = session.get(Escalation, case_id)
        assert case is not None, "the crisis case is still there for staff"
        assert case.contact_id is None and case.inbound_id is None
        assert case.status == "closed" and case.outcome == "erased"
        events = session.scalars(select(AuditEvent)).all()
        request = session.scalars(select(ErasureRequest)).one()
    # Every event is kept, none is linked to anyone, and none names the person.
    kept = [e for e in events if e.action not in {"contact.erased", "case.closed_erased"}]
    assert len(kept) >= audit_before and all(e.contact_id is None for e in events)
    assert not any(PHONE in str(e.detail) or "kill" in str(e.detail) for e in events)
    assert request.done_at is not None and request.twilio_done_at is not None
    assert request.removed["twilio_deleted"] >= len(sids_at_twilio)
    # Twilio's copies are gone: every message to the person, and the DELETE confirmation too.
    assert sids_at_twilio <= {m.sid for m in twilio_standin.store.deleted}
    assert not [m for m in twilio_standin.store.all() if m.to == PHONE]
    # The on-call person is told, by SMS, without the person's number or words.
    notices = twilio_standin.bodies_to(ONCALL)
    assert any(f"case {case_id} is closed" in body and "erased" in body for body in notices)
    assert not any(PHONE in body for body in notices)


def test_the_case_page_shows_the_erased_case(world, twilio_standin):
    app, client, services = world
    case_id, _contact_id = _converse_into_a_crisis_case(client, services)
    _erase(client, services, twilio_standin)
    import bot.portal
    from tests.portal.conftest import FAST_HASH, Browser

    if "portal" not in app.blueprints:
        bot.portal.init_app(app)
    app.config["PORTAL_PASSWORD_HASH"] = FAST_HASH
    from bot.portal.accounts import create_user

    with app.app_context(), services.db.session() as session:
        create_user(session, "nurse@example.org", "correct horse battery", "health_worker")
    browser = Browser(app.test_client())
    browser.login("nurse@example.org")
    page = browser.get(f"/portal/cases/{case_id}")
    assert page.status_code == 200
    assert "erased at the person" in page.get_data(as_text=True)


def test_a_lost_erasure_job_is_finished_by_the_sweeper(world, twilio_standin):
    app, client, services = world
    _say(client, services, "hello")
    _say(client, services, "YES")
    _say(client, services, "DELETE")
    assert post_signed(client, inbound_form(f"DELETE {_delete_code(twilio_standin)}", phone=PHONE)).status_code == 200
    from rq import Queue

    from core.queue import INBOUND, SERIALIZER

    # The worker answers the YES, then Redis loses everything queued (a restart without persistence).
    from workers.guard import GuardedWorker

    GuardedWorker([INBOUND], connection=services.redis, serializer=SERIALIZER).work(burst=True)
    services.redis.flushdb()
    assert Queue(INBOUND, connection=services.redis).count == 0
    assert _count(services, Contact) == 1
    assert _count(services, ErasureRequest, ErasureRequest.done_at.is_(None)) == 1
    sweep(services)
    assert _count(services, Contact) == 0 and _count(services, InboundMessage) == 0
    assert _count(services, ErasureRequest, ErasureRequest.done_at.is_not(None)) == 1


def test_a_spoofed_yes_never_completes_a_delete(world, twilio_standin):
    """Someone faking the person's number sends DELETE then YES: nothing is erased, and the
    person sees a request with a code they did not ask for. Only the quoted code erases."""
    app, client, services = world
    _say(client, services, "hello")
    _say(client, services, "YES")
    _say(client, services, "DELETE")
    code = _delete_code(twilio_standin)
    assert len(code) == 6 and code[0] != "0", "six digits: one guess in 900,000 per request"
    _say(client, services, "YES")
    assert _count(services, ErasureRequest) == 0 and _count(services, Contact) == 1
    assert twilio_standin.bodies_to(PHONE)[-1].count(f"DELETE {code}") == 1, "asked again, same code"
    _say(client, services, "DELETE 100000" if code != "100000" else "DELETE 100001")
    assert _count(services, ErasureRequest) == 0, "a wrong code cancels"
    _say(client, services, f"DELETE {code}")
    assert _count(services, ErasureRequest) == 0, "a cancelled request's code is spent"
    _erase(client, services, twilio_standin)
    assert _count(services, ErasureRequest) == 1

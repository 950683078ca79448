"""Escalations: the queue, the conversation (decrypted and audited), replies, closing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from core.tables import AuditEvent, Contact, Escalation, OutboxMessage, utcnow
from tests.conftest import drain
from tests.portal.conftest import DictionaryTranslator, outbox_for, sqlite_only


def db_session(portal_app):
    return portal_app.extensions["tumaini.services"].db.session()


def opened(portal_app, case_id: int, hours_ago: float) -> None:
    with db_session(portal_app) as session:
        session.execute(
            update(Escalation).where(Escalation.id == case_id).values(opened_at=utcnow() - timedelta(hours=hours_ago))
        )


def test_the_queue_puts_imminent_first_then_high_then_concern_oldest_first(portal_app, sign_in, make_case):
    order = []
    for severity, hours in [("concern", 9), ("imminent", 1), ("high", 5), ("imminent", 3), ("high", 2)]:
        _person, case = make_case(severity=severity)
        opened(portal_app, case.id, hours)
        order.append((severity, hours, case.id))
    b, _ = sign_in("health_worker")
    page = b.get("/portal/cases/").get_data(as_text=True)
    positions = {case_id: page.index(f"<strong>#{case_id}</strong>") for *_rest, case_id in order}
    expected = [c for _s, _h, c in sorted(order, key=lambda o: ({"imminent": 0, "high": 1, "concern": 2}[o[0]], -o[1]))]
    assert sorted(positions, key=positions.get) == expected


@sqlite_only
def test_the_case_shows_the_conversation_decrypted_in_order_and_records_the_view(portal_app, sign_in, make_case):
    person, case = make_case(inbound="I cannot go on like this", outbound="You are not alone. Call {helplines}.")
    b, worker = sign_in("health_worker")
    page = b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert page.index("I cannot go on like this") < page.index("You are not alone.")
    assert "<code>crisis.immediate@1</code>" in page and 'dir="auto"' in page
    assert person.phone not in page  # the number stays hidden until asked for
    with db_session(portal_app) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.viewed")).all()
    assert [(e.actor, e.contact_id, e.detail) for e in events] == [
        (str(worker.id), person.contact_id, {"escalation_id": case.id})
    ]


@sqlite_only
def test_showing_the_phone_number_is_a_recorded_act(portal_app, sign_in, make_case):
    person, case = make_case()
    b, worker = sign_in("health_worker")
    b.get(f"/portal/cases/{case.id}")
    page = b.post(f"/portal/cases/{case.id}/phone").get_data(as_text=True)
    assert f'href="tel:{person.phone}"' in page
    with db_session(portal_app) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == str(worker.id))).all()
    assert "phone.revealed" in actions
    assert person.phone not in b.client.get_cookie("session").value  # never kept in the signed cookie


@sqlite_only
def test_messages_in_another_language_are_shown_with_a_translation_never_cached(
    portal_app, sign_in, make_case, install_translator
):
    _person, case = make_case(locale="sw", inbound="Nimechoka sana", outbound="Hauko peke yako.")
    b, _ = sign_in("health_worker")
    assert "No translation model installed" in b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    translator = DictionaryTranslator(
        {("sw", "en"): {"Nimechoka sana": "I am very tired", "Hauko peke yako.": "You are not alone."}}
    )
    install_translator(translator)
    page = b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert "Nimechoka sana" in page and "I am very tired" in page  # the original is kept beside it
    assert all(cacheable is False for *_rest, cacheable in translator.calls)


def test_a_health_worker_reply_is_confirmed_then_sent_through_the_outbox(
    portal_app, sign_in, make_case, services, twilio_standin
):
    person, case = make_case()
    b, worker = sign_in("health_worker", name="Wanjiru")
    b.get(f"/portal/cases/{case.id}")
    confirm = b.post(
        f"/portal/cases/{case.id}/reply", {"text": "Hi, this is Wanjiru from the clinic. I will call you at 3pm today."}
    )
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Send this reply" in page and "1 segment" in page
    assert [r.kind for r in outbox_for(portal_app, person.contact_id)] == ["crisis"]  # nothing stored yet
    sent = b.post(
        f"/portal/cases/{case.id}/reply/send",
        {"text": "Hi, this is Wanjiru from the clinic. I will call you at 3pm today."},
    )
    assert sent.status_code == 302
    row = outbox_for(portal_app, person.contact_id)[-1]
    assert (row.kind, row.content_ref, row.status) == ("staff_reply", f"staff:{worker.id}", "pending")
    drain(services)
    assert twilio_standin.bodies_to(person.phone)[-1] == (
        "Hi, this is Wanjiru from the clinic. I will call you at 3pm today."
    )
    page = b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert "staff reply" in page and "Wanjiru" in page


@sqlite_only
def test_nobody_messages_a_person_who_opted_out(portal_app, sign_in, make_case):
    person, case = make_case()
    with db_session(portal_app) as session:
        session.execute(update(Contact).where(Contact.id == person.contact_id).values(opted_out=True))
    b, _ = sign_in("health_worker")
    assert "Reply to this person" not in b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    refused = b.post(f"/portal/cases/{case.id}/reply/send", {"text": "Are you there?"})
    assert "opted out" in b.get(refused.location).get_data(as_text=True)
    assert [r.kind for r in outbox_for(portal_app, person.contact_id)] == ["crisis"]


@sqlite_only
def test_a_long_reply_is_split_for_sms_and_the_confirmation_says_so(portal_app, sign_in, make_case):
    _person, case = make_case()
    b, _ = sign_in("health_worker")
    text = "We hear you and we are here. " * 20
    page = b.post(f"/portal/cases/{case.id}/reply", {"text": text}).get_data(as_text=True)
    assert "2 messages" in page
    assert b.post(f"/portal/cases/{case.id}/reply", {"text": "   "}).status_code == 400


def test_closing_the_last_open_case_hands_the_person_back_to_automated_content(portal_app, sign_in, make_case):
    person, case = make_case(severity="high")
    with db_session(portal_app) as session:
        session.get(Contact, person.contact_id).paused = True  # as the crisis path leaves it
    b, _worker = sign_in("health_worker")
    b.post(f"/portal/cases/{case.id}/close", {"outcome": "referred"})
    with db_session(portal_app) as session:
        assert session.get(Contact, person.contact_id).paused is False


def test_closing_needs_an_outcome_and_is_recorded(portal_app, sign_in, make_case):
    person, case = make_case(severity="imminent")
    b, worker = sign_in("health_worker")
    no_outcome = b.post(f"/portal/cases/{case.id}/close", {"outcome": ""})
    assert "Choose an outcome." in b.get(no_outcome.location).get_data(as_text=True)
    closed = b.post(f"/portal/cases/{case.id}/close", {"outcome": "referred"})
    assert closed.location == "/portal/cases/"
    with db_session(portal_app) as session:
        row = session.get(Escalation, case.id)
        assert (row.status, row.outcome, row.closed_by) == ("closed", "referred", str(worker.id))
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "escalation.closed")).one()
        assert event.contact_id == person.contact_id and event.detail["outcome"] == "referred"
    assert f"#{case.id}" not in b.get("/portal/cases/").get_data(as_text=True)
    closed_list = b.get("/portal/cases/?status=closed").get_data(as_text=True)
    assert f"#{case.id}" in closed_list and "referred to a service" in closed_list
    again = b.post(f"/portal/cases/{case.id}/close", {"outcome": "other"})
    assert "already closed" in b.get(again.location).get_data(as_text=True)


@sqlite_only
def test_generated_replies_are_labelled_as_such(portal_app, sign_in, make_case):
    from core.outbox import body_digest

    person, case = make_case()
    services = portal_app.extensions["tumaini.services"]
    with db_session(portal_app) as session:
        session.add(
            OutboxMessage(
                contact_id=person.contact_id,
                channel="sms",
                kind="generated",
                body_enc=services.cipher.encrypt("That sounds hard.", b"body"),
                body_sha256=body_digest("That sounds hard."),
                content_ref="generated:smollm2",
                locale="en",
                status="sent",
            )
        )
    b, _ = sign_in("admin")
    page = b.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert "That sounds hard." in page and 'class="badge generated"' in page

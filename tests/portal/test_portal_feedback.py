"""Field feedback: a person rates a module with one number; reports show ratings and drop-offs.

The end-to-end test goes through the signed webhook, a real ``python -m workers`` process,
the outbox and the Twilio stand-in; the report tests read the audit events a worker writes.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select, update

from bot import create_app
from bot.portal import reports
from bot.services import Services
from core.tables import AuditEvent, Contact, OutboxMessage, utcnow
from tests.conftest import inbound_form, make_config, post_signed, wait_for
from tests.portal.conftest import sqlite_only

RATER = "+254700000411"
QUITTER = "+254700000412"


def _seed(services: Services, phone: str, locale: str = "en") -> int:
    """Someone who consented earlier and is at the menu."""
    with services.db.session() as session:
        contact = Contact(
            phone_hash=services.pseudonymise(phone),
            phone_enc=services.cipher.encrypt(phone, b"phone"),
            channel="sms",
            locale=locale,
            region=services.config.DEFAULT_REGION,
            state={"flow": "menu"},
            consent_version="test@1",
            consented_at=utcnow(),
        )
        session.add(contact)
        session.flush()
        return contact.id


def _replies(services: Services, contact_id: int) -> list[str]:
    with services.db.session() as session:
        return list(
            session.scalars(
                select(OutboxMessage.content_ref)
                .where(OutboxMessage.contact_id == contact_id)
                .order_by(OutboxMessage.id)
            )
        )


def test_a_person_rates_a_module_with_one_digit_through_the_webhook_and_a_real_worker(
    tmp_path, database_url, redis_url, twilio_standin, spawn_worker
):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=twilio_standin.url)
    client = create_app(config).test_client()
    services = Services(config)
    rater, quitter = _seed(services, RATER), _seed(services, QUITTER)
    spawn_worker(config)
    steps = len(services.library.module("sleep").steps)

    def say(phone: str, contact_id: int, text: str, replies_before: int) -> list[str]:
        assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200
        return wait_for(lambda: (r := _replies(services, contact_id)) and len(r) > replies_before and r, timeout=60)

    sent = say(RATER, rater, "2", 0)  # the sleep module
    for _ in range(steps):
        sent = say(RATER, rater, "next", len(sent))
    assert sent[-1].startswith("feedback.rate@")
    question = twilio_standin.bodies_to(RATER)
    wait_for(lambda: len(twilio_standin.bodies_to(RATER)) == len(sent))
    question = twilio_standin.bodies_to(RATER)[-1]
    assert "1" in question and "5" in question and "MENU" in question
    sent = say(RATER, rater, "4", len(sent))
    assert [r.split("@")[0] for r in sent[-2:]] == ["feedback.thanks", "menu.main"]

    say(QUITTER, quitter, "2", 0)  # starts the same module and stops writing

    with services.db.session() as session:
        rated = session.scalars(select(AuditEvent).where(AuditEvent.action == "module_rated")).all()
        assert [(e.contact_id, e.detail) for e in rated] == [(rater, {"module": "sleep", "locale": "en", "rating": 4})]
        session.execute(
            update(AuditEvent)
            .where(AuditEvent.contact_id == quitter, AuditEvent.action == "module_started:sleep")
            .values(created_at=utcnow() - timedelta(days=2))
        )
        feedback = {(f.module, f.locale): f for f in reports.build(session, days=30).feedback}
    sleep = feedback[("sleep", "en")]
    assert (sleep.started, sleep.finished, sleep.dropped, sleep.going) == (2, 1, 1, 0)
    assert sleep.ratings == {4: 1} and sleep.average == 4.0 and sleep.drop_rate == 0.5
    services.close()


def _event(session, contact_id: int, action: str, detail: dict, days_ago: float = 0) -> None:
    session.add(
        AuditEvent(
            actor="worker",
            action=action,
            contact_id=contact_id,
            detail=detail,
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )


def test_ratings_and_drop_offs_are_counted_per_module_and_locale(portal_app, make_case):
    people = [make_case(phone=f"+25470022233{i}")[0].contact_id for i in range(5)]
    with portal_app.extensions["tumaini.services"].db.session() as session:
        for person, locale in zip(people[:3], ["sw", "sw", "en"], strict=True):
            _event(session, person, "module_started:sleep", {"locale": locale}, days_ago=3)
        _event(session, people[0], "module_completed:sleep", {"locale": "sw"}, days_ago=2.9)
        _event(session, people[0], "module_rated", {"module": "sleep", "locale": "sw", "rating": 2})
        _event(session, people[2], "module_completed:sleep", {"locale": "en"}, days_ago=2.9)
        _event(session, people[2], "module_rated", {"module": "sleep", "locale": "en", "rating": 5})
        _event(session, people[3], "module_started:sleep", {"locale": "sw"}, days_ago=0.1)  # still going
        # started again after finishing once, then stopped: a drop-off now
        _event(session, people[4], "module_started:breathing", {"locale": "sw"}, days_ago=10)
        _event(session, people[4], "module_completed:breathing", {"locale": "sw"}, days_ago=9.9)
        _event(session, people[4], "module_started:breathing", {"locale": "sw"}, days_ago=5)
        _event(session, people[4], "module_rated", {"module": "breathing", "locale": "sw", "rating": 9})  # off scale
        _event(session, people[1], "module_started:stress", {"locale": "sw"}, days_ago=45)  # outside the window
        session.flush()
        report = reports.build(session, days=30)
    got = {(f.module, f.locale): (f.started, f.finished, f.dropped, f.going, f.ratings) for f in report.feedback}
    assert got == {
        ("sleep", "sw"): (3, 1, 1, 1, {2: 1}),
        ("sleep", "en"): (1, 1, 0, 0, {5: 1}),
        ("breathing", "sw"): (1, 1, 1, 0, {}),
    }
    rows = list(csv.reader(io.StringIO(reports.to_csv(report))))
    assert ["module_dropped_off", "sleep", "sw", "1"] in rows
    assert ["module_rated_5", "sleep", "en", "1"] in rows and ["module_rating_average", "sleep", "sw", "2.0"] in rows


@sqlite_only
def test_the_reports_page_shows_each_module_and_language_with_its_ratings(sign_in, portal_app, make_case):
    person = make_case(phone="+254700222399")[0].contact_id
    with portal_app.extensions["tumaini.services"].db.session() as session:
        _event(session, person, "module_started:sleep", {"locale": "sw"}, days_ago=2)
        _event(session, person, "module_completed:sleep", {"locale": "sw"}, days_ago=1.9)
        _event(session, person, "module_rated", {"module": "sleep", "locale": "sw", "rating": 3})
        assert session.scalar(select(func.count(AuditEvent.id))) >= 3
    b, _ = sign_in("curator")
    page = b.get("/portal/reports").get_data(as_text=True)
    table = page.split('id="module-feedback"', 1)[1].split("</table>", 1)[0]
    assert "<code>sleep</code></td><td>sw</td><td>1</td><td>1</td><td>0</td><td>0</td><td>1</td><td>3.0</td>" in table

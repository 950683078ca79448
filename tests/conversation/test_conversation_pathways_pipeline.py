"""Crisis pathways through the whole pipeline: signed webhook, a real worker process, the
database and the local Twilio stand-in.

One worker answers several people at once, each in a different kind of crisis, as a
service would on a busy night: each gets their category's reply and services, and each
case carries its category and severity for the portal.
"""

from __future__ import annotations

import re
import shutil
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import create_app
from bot.services import Services
from core.tables import ConsentRecord, Contact, Escalation, InboundMessage, InboundStatus, OutboxMessage
from tests.conftest import inbound_form, make_config, post_signed, wait_for

LIBRARY = Path(__file__).resolve().parents[2] / "content" / "library"
CRISIS_LINE = "DEMO HELPLINE - REPLACE: +1 202 555 0100"
GBV_LINE = "DEMO GBV LINE - REPLACE: +1 202 555 0102"
CHILD_LINE = "DEMO CHILD LINE - REPLACE: +1 202 555 0103"
EMERGENCY = "DEMO EMERGENCY - REPLACE: +1 202 555 0199"


def start(tmp_path: Path, database_url: str, redis_url: str, standin: Any, spawn: Callable[..., Any],
          **settings: Any) -> Iterator[tuple[Any, Services]]:
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=standin.url,
                         **settings)
    app = create_app(config)
    services = Services(config)
    worker = spawn(config)
    yield app.test_client(), services
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    services.close()
    app.extensions["tumaini.services"].close()


@pytest.fixture()
def running(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    yield from start(tmp_path, database_url, redis_url, twilio_standin, spawn_worker)


def replies(standin: Any, phone: str, count: int) -> list[str]:
    return wait_for(lambda: len(standin.bodies_to(phone)) >= count and standin.bodies_to(phone), timeout=90)


def case_of(services: Services, phone: str) -> Escalation:
    with services.db.session() as session:
        contact = session.scalars(select(Contact).where(Contact.phone_hash == services.pseudonymise(phone))).one()
        case = session.scalars(select(Escalation).where(Escalation.contact_id == contact.id)).one()
        session.expunge(case)
        return case


# (phone, what the person writes, category, severity, a line of the reply, services named, services not named)
PEOPLE = [
    ("+254700100001", "I swallowed all my mother's tablets", "suicide", "imminent",
     f"Please call {EMERGENCY} now", [], [CRISIS_LINE]),
    ("+254700100002", "my husband beats me and said he will kill me", "violence", "high",
     "Thank you for writing. Your safety matters most.", [GBV_LINE, EMERGENCY], [CRISIS_LINE, "safety plan"]),
    ("+254700100003", "my uncle touches me at night and says not to tell", "child_safeguarding", "high",
     "It is not your fault. Tell a grown-up you trust", [EMERGENCY], [GBV_LINE, CRISIS_LINE]),
    ("+254700100004", "my sister texted me that she wants to end it", "third_party", "high",
     "Thank you for looking out for them.", [CRISIS_LINE, "And you: how are you?"], [GBV_LINE]),
    ("+254700100005", "the voices tell me to hurt myself", "command_hallucination", "imminent",
     "You don't have to do what the voices say.", [CRISIS_LINE], [GBV_LINE]),
    ("+254700100006", "he raped me last night", "sexual_violence", "high",
     "What happened is not your fault.", [GBV_LINE, EMERGENCY], [CRISIS_LINE]),
    ("+254700100007", "I cut myself again", "self_harm", "high",
     "You deserve care, not pain.", [CRISIS_LINE], [GBV_LINE]),
    ("+254700100008", "I want to kill myself", "suicide", "high",
     "I'm really glad you told me.", [CRISIS_LINE, "safety plan"], [GBV_LINE]),
    # Someone else's overdose: getting help to them, never "if you are hurt, go to hospital".
    ("+254700100010", "my brother took all his pills and wont wake up", "third_party", "imminent",
     f"Please call {EMERGENCY} now and say where they are", ["stay with them until help comes"],
     ["If you are hurt", GBV_LINE]),
]


def test_each_kind_of_crisis_gets_its_own_reply_services_and_a_case_with_its_category(running, twilio_standin):
    client, services = running
    for phone, text, *_ in PEOPLE:
        assert post_signed(client, inbound_form(text, phone=phone)).status_code == 200
    for phone, _, category, severity, opening, named, not_named in PEOPLE:
        reply = replies(twilio_standin, phone, 1)[0]
        assert opening in reply, (category, reply)
        assert all(n in reply for n in named), (category, reply)
        assert not any(n in reply for n in not_named), (category, reply)
        if category == "child_safeguarding":
            # The child line keeps hours (07:00-22:00 in Nairobi): named as open, or with when it opens.
            assert CHILD_LINE in reply
        case = case_of(services, phone)
        assert (case.category, case.severity, case.status) == (category, severity, "open")
        assert "kill" not in case.reason.replace("kill_myself", "").replace("kill_", "")  # rule ids, never words


def test_a_first_message_in_crisis_then_yes_continues_into_the_plan_not_consent(running, twilio_standin):
    client, services = running
    phone = "+254700100009"
    post_signed(client, inbound_form("I want to kill myself", phone=phone))
    first = replies(twilio_standin, phone, 1)[0]
    assert first.startswith("I'm really glad you told me") and "Reply YES to make a short safety plan" in first
    post_signed(client, inbound_form("YES", phone=phone))
    step = replies(twilio_standin, phone, 2)[1]
    assert step.startswith("Let's make a short safety plan. Step 1")
    for n in range(2, 6):
        post_signed(client, inbound_form("NEXT", phone=phone))
        assert replies(twilio_standin, phone, n + 1)[n].startswith(f"Step {n}:")
    post_signed(client, inbound_form("NEXT", phone=phone))
    after = replies(twilio_standin, phone, 8)
    assert "automated" in after[6] and after[7].startswith("To reply and keep you safe")  # consent, after the plan
    with services.db.session() as session:
        assert session.scalars(select(ConsentRecord)).all() == []
        refs = [r.content_ref for r in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert refs[:6] == ["crisis.suicide@1", *(f"crisis.safety_plan.{n}@1" for n in range(1, 6))]
    post_signed(client, inbound_form("YES", phone=phone))
    wait_for(lambda: len(twilio_standin.bodies_to(phone)) >= 9, timeout=90)
    with services.db.session() as session:
        assert [r.decision for r in session.scalars(select(ConsentRecord))] == ["given"]
    assert case_of(services, phone).category == "suicide"


def closed_now_library(target: Path) -> Path:
    """The starter library with the demo region's GBV line open for two hours from three hours
    from now (local time in a zone where that stays within today), so it is closed now."""
    shutil.copytree(LIBRARY, target)
    now = datetime.now(UTC)
    offset = (10 - now.hour) % 24  # a zone where it is 10:xx now; Etc/GMT signs are inverted
    offset = offset - 24 if offset > 12 else offset
    zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"
    region = target / "regions" / "demo.yaml"
    text = region.read_text(encoding="utf-8").replace("time_zone: Africa/Nairobi", f"time_zone: {zone}")
    text = text.replace("""    number: "+1 202 555 0102"
    opening_hours: 24/7""", """    number: "+1 202 555 0102"
    opening_hours: mon-sun 13:00-15:00""")
    region.write_text(text, encoding="utf-8")
    local = now + timedelta(hours=offset)
    assert local.hour == 10
    return target


@pytest.fixture()
def closed_gbv(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    library = closed_now_library(tmp_path / "library")
    yield from start(tmp_path, database_url, redis_url, twilio_standin, spawn_worker, CONTENT_DIR=str(library))


def test_a_closed_service_is_named_with_when_it_opens_and_the_emergency_number_stands_in(closed_gbv,
                                                                                         twilio_standin):
    client, services = closed_gbv
    phone = "+254700100010"
    post_signed(client, inbound_form("my husband beats me and said he will kill me", phone=phone))
    lines = replies(twilio_standin, phone, 1)[0].splitlines()
    assert f"{GBV_LINE} (opens today at 13:00)" in lines
    assert GBV_LINE not in lines  # never listed as if it were open
    assert EMERGENCY in lines
    assert case_of(services, phone).category == "violence"


def broken_suicide_reply_library(target: Path) -> Path:
    """The starter library where a curator's edit left the suicide reply needing a value the
    engine never gives ({score}): it validates, and rendering it fails."""
    import yaml

    shutil.copytree(LIBRARY, target)
    english = target / "en" / "crisis.yaml"
    text = english.read_text(encoding="utf-8")
    english.write_text(text.replace("You matter, and you don't", "You matter ({score}), and you don't"),
                       encoding="utf-8")
    for path in target.glob("*/crisis.yaml"):
        if path.parent.name == "en":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["messages"].pop("crisis.suicide", None)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    region = target / "regions" / "demo.yaml"  # the other languages no longer have the reply
    region.write_text(re.sub(r"(?m)^required_locales: .*$", "required_locales: [en]", region.read_text(encoding="utf-8")),
                      encoding="utf-8")
    return target


@pytest.fixture()
def broken_reply(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    library = broken_suicide_reply_library(tmp_path / "library")
    yield from start(tmp_path, database_url, redis_url, twilio_standin, spawn_worker, CONTENT_DIR=str(library),
                     PROCESSING_LEASE_S=3, JOB_TIMEOUT_S=2, SWEEP_INTERVAL_S=1)


def test_when_the_crisis_reply_cannot_be_rendered_the_built_in_text_goes_and_the_case_stands(broken_reply,
                                                                                             twilio_standin):
    client, services = broken_reply
    phone = "+254700100011"
    post_signed(client, inbound_form("I want to kill myself", phone=phone))
    reply = replies(twilio_standin, phone, 1)[0]
    assert reply.startswith("We are worried about your safety.")
    assert EMERGENCY in reply and CRISIS_LINE in reply
    case = case_of(services, phone)
    assert (case.category, case.severity, case.status) == ("suicide", "high", "open")

    def retried() -> bool:  # the turn is tried again for the approved reply (failed after MAX_ATTEMPTS)
        with services.db.session() as session:
            row = session.scalars(select(InboundMessage)).one()
            return row.attempts >= 3 and row.status in {*InboundStatus.PENDING, InboundStatus.FAILED}

    wait_for(retried, timeout=120)
    with services.db.session() as session:
        assert [r.content_ref for r in session.scalars(select(OutboxMessage).where(
            OutboxMessage.contact_id.is_not(None)))] == ["builtin:crisis@1"]  # sent once, never doubled
        assert len(session.scalars(select(Escalation)).all()) == 1
    assert len(twilio_standin.bodies_to(phone)) == 1


def test_when_the_crisis_reply_cannot_be_sent_the_built_in_text_goes_in_its_place(running, twilio_standin):
    from bot.simulator.twilio_api import Scripted

    client, services = running
    phone = "+254700100012"
    twilio_standin.store.script(Scripted.twilio_error(30007))  # the carrier filters the approved reply
    post_signed(client, inbound_form("I want to kill myself", phone=phone))
    reply = replies(twilio_standin, phone, 1)[0]
    assert reply.startswith("We are worried about your safety.") and EMERGENCY in reply
    with services.db.session() as session:
        rows = [(r.content_ref, r.status) for r in session.scalars(select(OutboxMessage).where(
            OutboxMessage.contact_id.is_not(None)).order_by(OutboxMessage.id))]
    assert rows == [("crisis.suicide@1", "failed"), ("builtin:crisis@1", "sent")]
    assert case_of(services, phone).category == "suicide"


# Hopelessness in words no lexicon holds: the learnt reading finds a crisis possible, not clear.
UNCLEAR = ["nobody would care if i wasnt here", "sina hamu ya kitu chochote tena", "ya no aguanto más",
           "i feel so heavy and everything is pointless lately", "sometimes i wish i could just sleep forever",
           "i am so tired of being me", "i want to stop feeling anything", "nimechoka na kila kitu"]


@pytest.fixture(scope="module")
def unclear_text() -> str:
    """One of UNCLEAR that the shipped gate, embeddings on, asks about (built here first, which
    also fills the shared vector cache the worker then starts from)."""
    import os
    import tempfile

    from bot.safety.gate import SafetyGate

    vectors = os.environ.get("TEST_EMBEDDING_CACHE_DIR") or os.path.join(tempfile.gettempdir(), "tumaini-test-vectors")
    gate = SafetyGate.from_directory(LIBRARY, embeddings=True, vectors_dir=vectors)
    gate.warm()
    asked = [text for text in UNCLEAR if gate.assess(text, None).ask]
    assert asked, "no unclear message is asked about: recalibrate SAFETY_CLASSIFIER_ASK (docs/safety.md)"
    return asked[0]


@pytest.fixture()
def running_embedded(tmp_path, database_url, redis_url, twilio_standin, spawn_worker):
    yield from start(tmp_path, database_url, redis_url, twilio_standin, spawn_worker, SAFETY_EMBEDDINGS=True)


def test_a_possible_crisis_is_asked_about_directly_and_yes_or_maybe_reach_a_person(running_embedded, twilio_standin,
                                                                                    unclear_text):
    client, services = running_embedded
    yes, maybe, no = "+254700100021", "+254700100022", "+254700100023"
    for phone in (yes, maybe, no):
        post_signed(client, inbound_form(unclear_text, phone=phone))
    for phone in (yes, maybe, no):
        question = replies(twilio_standin, phone, 1)[0]
        assert "ending your life" in question or "kujiua" in question or "quitarte la vida" in question, question
    post_signed(client, inbound_form("YES", phone=yes))
    post_signed(client, inbound_form("maybe", phone=maybe))
    post_signed(client, inbound_form("no", phone=no))
    for phone in (yes, maybe):
        reply = replies(twilio_standin, phone, 2)[1]
        assert CRISIS_LINE in reply and EMERGENCY in reply, reply
        case = case_of(services, phone)
        assert (case.category, case.severity, case.status) == ("disclosed", "high", "open")
    welcome = replies(twilio_standin, no, 3)[1:]
    assert "automated" in welcome[0] or "kiotomatiki" in welcome[0] or "automático" in welcome[0], welcome
    with services.db.session() as session:
        contact = session.scalars(select(Contact).where(Contact.phone_hash == services.pseudonymise(no))).one()
        assert session.scalars(select(Escalation).where(Escalation.contact_id == contact.id)).all() == []

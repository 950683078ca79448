"""Processing one inbound message, exactly once.

A message is claimed with a conditional update (a lease), so two workers can
never both answer it; a worker killed mid-job leaves a claim that expires and
the sweeper queues the message again. The turn's replies, the person's new
state and the "done" mark are committed in one transaction, so a crash before
the commit changes nothing and a crash after it leaves only sends to do.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.conversation import Engine, Outcome, Profile, Turn, builtin, crisis, locales
from bot.conversation.types import MENU, RISK_HIGH
from bot.regions import region_for_number
from bot.services import Services
from content.errors import ContentMissing
from core import health
from core.oncall import promise, queue_case_alert, staff_inbound
from core.oncall.alerts import raise_to_crisis
from core.outbox import new_rows, queue_next_for
from core.tables import (
    AuditEvent,
    CaseKind,
    ConsentRecord,
    Contact,
    Escalation,
    InboundMessage,
    InboundStatus,
    OutboxMessage,
    utcnow,
)
from workers import flood, handoff
from workers.erasure import request_erasure
from workers.language import LANGUAGE_DETECTED, identify
from workers.runtime import WorkerContext

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 5
ORDER_WAIT_S = 5.0


def _earlier_pending(session: Session, message_id: int, sender: str) -> bool:
    return session.scalar(
        select(InboundMessage.id).where(
            InboundMessage.from_hash == sender, InboundMessage.id < message_id,
            InboundMessage.status.in_(InboundStatus.PENDING)).limit(1)) is not None


def claim(services: Services, message_id: int) -> str | None:
    """Take the message for this worker, or None if it is done, failed, or held by a live worker.

    Waits briefly while the same person's earlier messages are still being answered, so
    several workers holding one person's burst still answer it in order. A message whose
    processing crashed MAX_ATTEMPTS times is marked failed, visibly, instead of looping.
    """
    with services.db.session() as session:
        row = session.execute(select(InboundMessage.status, InboundMessage.attempts, InboundMessage.from_hash)
                              .where(InboundMessage.id == message_id)).first()
        if row is None or row.status not in InboundStatus.PENDING:
            return None
        if row.attempts >= MAX_ATTEMPTS:
            session.execute(update(InboundMessage).where(InboundMessage.id == message_id)
                            .values(status=InboundStatus.FAILED, error="processing failed repeatedly"))
            log.error("inbound.gave_up", extra={"message_id": message_id, "attempts": row.attempts})
            return None
        waiting = _earlier_pending(session, message_id, row.from_hash)
    deadline = time.monotonic() + ORDER_WAIT_S
    while waiting and time.monotonic() < deadline:
        time.sleep(0.1)
        with services.db.session() as session:
            waiting = _earlier_pending(session, message_id, row.from_hash)
    token = secrets.token_hex(8)
    lease_start = utcnow() - timedelta(seconds=services.config.PROCESSING_LEASE_S)
    with services.db.session() as session:
        if not services.db.is_sqlite:
            # Losing a claim in a database crash is harmless (the message is simply claimed
            # again), so this one commit need not wait for the disk.
            session.execute(text("SET LOCAL synchronous_commit = off"))
        claimed = session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.id == message_id,
                or_(
                    InboundMessage.status == InboundStatus.RECEIVED,
                    (InboundMessage.status == InboundStatus.PROCESSING) & (InboundMessage.claimed_at < lease_start),
                ),
            )
            .values(status=InboundStatus.PROCESSING, claim_token=token, claimed_at=utcnow(),
                    attempts=InboundMessage.attempts + 1)
        ).rowcount
    return token if claimed == 1 else None


def _contact_for(session: Session, message: InboundMessage) -> Contact:
    """Find or create the person, locked for the rest of this transaction."""
    query = select(Contact).where(Contact.phone_hash == message.from_hash)
    contact = session.scalars(query.with_for_update()).first()
    if contact is not None:
        return contact
    try:
        with session.begin_nested():
            session.add(Contact(phone_hash=message.from_hash, phone_enc=message.from_enc,
                                channel=message.channel, state={}))
    except IntegrityError:
        pass  # another worker created this person a moment ago; read theirs below
    return session.scalars(query.with_for_update()).one()


def _store_replies(services: Services, session: Session, contact: Contact, message: InboundMessage,
                   outcome: Outcome) -> int:
    budget = services.config.SMS_SEGMENT_BUDGET
    count = 0
    for reply in outcome.replies:
        rows = new_rows(services.cipher, reply.text, message.channel, budget, contact_id=contact.id,
                        inbound_id=message.id, content_ref=reply.ref, locale=reply.locale, kind=reply.kind)
        session.add_all(rows)
        count += len(rows)
        session.add(health.event(services.cipher, "worker", "reply.composed", contact.id,
                                 {"inbound_id": message.id, "content": reply.ref, "kind": reply.kind}))
    return count


SEVERITY_ORDER = {"concern": 1, "high": 2, "imminent": 3}
# Recorded without the person (reports count them; nobody can read a result off a person's log).
UNLINKED_AUDIT = ("screening_completed",)


def _escalate(services: Services, session: Session, contact: Contact, message: InboundMessage, severity: str,
              rules: tuple[str, ...], category: str | None = None) -> None:
    """Open a case, or raise the severity of the person's open case (never a second one); a case
    of high severity or above alerts the on-call person, in this same transaction. The case
    carries the risk category of the pathway the person was answered with; a more severe
    message (or one in a case with none) sets it."""
    case = session.scalars(select(Escalation).where(Escalation.contact_id == contact.id,
                                                    Escalation.status == "open")).first()
    reason = ",".join(rules)
    if case is None:
        case = Escalation(contact_id=contact.id, inbound_id=message.id, severity=severity, reason=reason,
                          region=contact.region, category=category)
        session.add(case)
        log.warning("escalation.opened", extra={"severity": severity, "rules": list(rules)})
    else:
        if category and (case.category is None
                         or SEVERITY_ORDER.get(severity, 0) > SEVERITY_ORDER.get(case.severity, 0)):
            case.category = category
        if SEVERITY_ORDER.get(severity, 0) > SEVERITY_ORDER.get(case.severity, 0):
            case.severity = severity
        case.reason = ",".join(sorted(set(filter(None, case.reason.split(","))) | set(rules)))[:2000]
        log.warning("escalation.updated", extra={"severity": case.severity, "rules": list(rules)})
        if case.kind == CaseKind.HANDOFF and SEVERITY_ORDER.get(case.severity, 0) >= SEVERITY_ORDER["high"]:
            raise_to_crisis(session, services, case)  # the person asked for a person and is now at risk
            return
    queue_case_alert(session, services, case)


def _commit_case_first(services: Services, session: Session, contact: Contact, message: InboundMessage,
                       engine: Engine, assessment: Any) -> Contact:
    """A crisis opens (or raises) the person's case and commits it at once, before any reply is
    rendered: whatever fails after this, a person looks. The contact is locked again for the rest
    of the turn."""
    severity, category = crisis.case_for(engine, int(assessment.level), assessment.category,
                                         bool(assessment.in_progress))
    _escalate(services, session, contact, message, severity, tuple(assessment.rules), category=category)
    contact_id = contact.id
    session.commit()
    return session.scalars(select(Contact).where(Contact.id == contact_id).with_for_update()).one()


def _builtin_crisis_reply(services: Services, session: Session, contact: Contact, message: InboundMessage,
                          engine: Engine, region_id: str) -> None:
    """The approved crisis reply could not be rendered: the built-in text goes instead, once per
    message (a retried turn does not send it again), committed now so it is sent whatever follows.
    Either way the turn's transaction ends here (the case was committed before rendering)."""
    sent = session.scalar(select(OutboxMessage.id).where(OutboxMessage.inbound_id == message.id,
                                                         OutboxMessage.content_ref == builtin.REF).limit(1))
    if sent is not None or contact.opted_out:
        session.rollback()  # the turn failed: nothing of it is kept, and no lock outlives it
        return
    fallback = Outcome(state=contact.state or {})
    fallback.replies.append(builtin.reply(engine.content, region_id, contact.locale or engine.content.default_locale))
    _store_replies(services, session, contact, message, fallback)
    session.add(health.event(services.cipher, "worker", "crisis.builtin_reply", contact.id,
                             {"inbound_id": message.id}))
    session.commit()


def _settle_region(services: Services, session: Session, contact: Contact, engine: Engine) -> None:
    """A person with no region gets the one their number's country settles, when exactly one does;
    otherwise the conversation asks them after consent."""
    if contact.region is not None:
        return
    found = region_for_number(services.cipher.decrypt(contact.phone_enc, b"phone"), engine.regions())
    if found is not None:
        contact.region = found
        session.add(AuditEvent(actor="worker", action="region_set", contact_id=contact.id,
                               detail={"region": found, "source": "number"}))


def _apply(services: Services, contact: Contact, message: InboundMessage, outcome: Outcome,
           session: Session) -> None:
    now = utcnow()
    health.store_state(services.cipher, contact, outcome.state)
    if outcome.locale:
        contact.locale = outcome.locale
        accepted = locales.remember(locales.parse(contact.accepted_locales), outcome.locale)
        contact.accepted_locales = locales.serialise(accepted)
    if outcome.region_chosen:
        contact.region = outcome.region_chosen
    if outcome.opt_out:
        contact.opted_out, contact.opted_out_at = True, now
    if outcome.opt_in:
        contact.opted_out, contact.opted_out_at = False, None
    if outcome.consent:
        decision, ref, locale = outcome.consent
        session.add(ConsentRecord(contact_id=contact.id, wording_ref=ref, locale=locale, decision=decision))
        if decision == "given":
            contact.consent_version, contact.consented_at = ref, now
    if outcome.escalation:
        _escalate(services, session, contact, message, *outcome.escalation, category=outcome.case_category)
    if outcome.handoff:
        handoff.open_handoff(services, session, contact, message)
    if any(action == handoff.TO_CASE for action, _ in outcome.audit):
        handoff.tell_owner(services, session, contact, now)
    if outcome.pause:
        contact.paused = True
    # Crisis flags, screening results and the like are sealed (core.health).
    for event in outcome.events:
        session.add(health.event(services.cipher, "worker", event, contact.id, {}))
    for action, detail in outcome.audit:
        session.add(health.event(services.cipher, "worker", action,
                                 None if action in UNLINKED_AUDIT else contact.id, detail))


def _region_zone(engine: Engine, region_id: str) -> str | None:
    try:
        return engine.content.region(region_id).time_zone
    except ContentMissing:
        return None


def _finish_staff(session: Session, message_id: int, token: str) -> str:
    done = session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id, InboundMessage.claim_token == token)
        .values(status=InboundStatus.DONE, processed_at=utcnow())
    ).rowcount
    if done != 1:
        session.rollback()
        log.warning("inbound.lease_lost", extra={"message_id": message_id})
        return "lease-lost"
    log.info("inbound.staff_message", extra={"message_id": message_id})
    return "staff"


def process(ctx: WorkerContext, message_id: int) -> str:
    """Handle one stored message: gate, keywords, engine, replies, all in one transaction."""
    services, engine, gate = ctx.services, ctx.engine(), ctx.safety_gate()
    token = claim(services, message_id)
    if token is None:
        return "skipped"
    with services.db.session() as session:
        message = session.get(InboundMessage, message_id)
        text = services.cipher.decrypt(message.body_enc, b"body") if message.body_enc else ""
        # A reply from a staff phone (an acknowledgement) is never a person's message.
        if staff_inbound.handle(session, services, message, text):
            return _finish_staff(session, message_id, token)
        contact = _contact_for(session, message)
        contact.channel = message.channel
        contact.last_inbound_at = message.received_at
        # The language of the text decides what translation may read it as (workers.language).
        language = identify(text, contact.locale, engine.enabled_locales(),
                            services.config.LANGID_MIN_CONFIDENCE, ctx.reads_into_english)
        # The safety gate runs before anything else, on every message (and on its English
        # translation when a translation model reads the text's language).
        assessment = gate.assess(text, contact.locale, ctx.to_english(text, language.mt_source)) \
            if text.strip() else None
        _settle_region(services, session, contact, engine)
        if assessment is not None and assessment.is_crisis:
            contact = _commit_case_first(services, session, contact, message, engine, assessment)
        profile = Profile(locale=contact.locale, opted_out=contact.opted_out,
                          consented=contact.consent_version is not None, region=contact.region,
                          accepted_locales=locales.parse(contact.accepted_locales))
        region_id = engine.region_id(contact.region)
        now = utcnow()
        turn = Turn(text=text, channel=message.channel, num_media=message.num_media,
                    availability=promise.current(session, services.config, region_id,
                                                 _region_zone(engine, region_id), now),
                    risk=int(assessment.level) if assessment else 0,
                    risk_rules=tuple(assessment.rules) if assessment else (),
                    detected_locale=language.detected_locale, text_lang=language.text_lang,
                    delete_code=str(100000 + secrets.randbelow(900000)),
                    category=assessment.category if assessment else None,
                    in_progress=bool(assessment and assessment.in_progress), now=now,
                    ask=assessment.ask if assessment else None,
                    case=handoff.case_for_turn(session, services.config, contact.id, now))
        state = health.open_state(services.cipher, contact)
        if not state and contact.consent_version is not None:
            state = {"flow": MENU}  # a state past its retention: back at the menu, not onboarding
        try:
            outcome = None
            # A sender over their per-minute limit, with no risk found, gets no further work.
            rate = flood.check(services, message.from_hash)
            if rate != flood.WITHIN and turn.risk == 0:
                outcome = engine.throttled(state, turn, profile, answer=rate == flood.FIRST_OVER)
            if outcome is None:
                outcome = engine.step(state, turn, profile)
        except Exception as exc:
            if turn.risk >= RISK_HIGH:
                # The case is committed; the person gets the built-in crisis text, and the turn is
                # retried (the sweeper queues it again) for the approved reply.
                log.error("crisis.reply_failed", extra={"message_id": message_id, "error": type(exc).__name__})
                failed_contact = contact.id  # read now: the transaction ends in _builtin_crisis_reply
                _builtin_crisis_reply(services, session, contact, message, engine, region_id)
                try:
                    queue_next_for(services, failed_contact)
                except RedisError:
                    log.warning("crisis.builtin_enqueue_failed")  # the sweeper sends the stored row
            raise
        finally:
            ctx.forget_english()
        _apply(services, contact, message, outcome, session)
        if text.strip():
            session.add(AuditEvent(actor="worker", action=LANGUAGE_DETECTED, contact_id=contact.id,
                                   detail=language.audit_detail(message.id)))
        replies = _store_replies(services, session, contact, message, outcome)
        if outcome.erase:  # recorded with the turn: the person is told only what the database owes them
            request_erasure(session, contact.id, services.config.ERASURE_DELAY_S)
        done = session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == message_id, InboundMessage.claim_token == token)
            .values(status=InboundStatus.DONE, processed_at=utcnow(), contact_id=contact.id)
        ).rowcount
        if done != 1:
            session.rollback()
            log.warning("inbound.lease_lost", extra={"message_id": message_id})
            return "lease-lost"
        contact_id = contact.id
    log.info("inbound.processed", extra={"message_id": message_id, "replies": replies,
                                         "risk": turn.risk, "rules": list(turn.risk_rules),
                                         "lang": language.detection.lang, "mt": language.mt})
    if outcome.erase:
        try:
            services.jobs.enqueue_erasure(contact_id, delay_s=services.config.ERASURE_DELAY_S)
        except RedisError:
            log.warning("erasure.enqueue_failed")  # the sweeper finishes the recorded request
    queue_next_for(services, contact_id)
    return "processed"

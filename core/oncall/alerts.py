"""Alerting the on-call ladder about a case, escalating it, and taking ownership.

``queue_case_alert`` writes the first rung's alerts in the caller's transaction: the
SMS as outbox rows addressed to staff (so the normal sending path paces, retries and
sends each exactly once), the optional webhook as a delivery row. When that transaction
commits, the rows are queued; if Redis is down then, the sweeper queues them later.

``escalate_due`` runs on the housekeeping thread of every worker. Moving a case to its
next rung is a conditional update on ``alert_tier``, and each alert row is unique per
(case, rung, channel, recipient), so however many workers run it at once, each rung is
alerted once. Acknowledging is also one conditional update: the first taker owns the case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from redis.exceptions import RedisError
from sqlalchemy import event, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from core.oncall import rota, staff, staff_text
from core.oncall.categories import category_of
from core.outbox import new_rows
from core.sms import Channel
from core.tables import AuditEvent, CaseAlert, CaseKind, Escalation, OutboxMessage, utcnow

log = logging.getLogger(__name__)

ALERT_KIND = "staff_alert"
NOTICE_KIND = "staff_notice"
STAFF_KINDS = (ALERT_KIND, NOTICE_KIND)
ALERTED_SEVERITIES = ("high", "imminent")
WEBHOOK = "webhook"
_PENDING_KEY = "oncall.dispatch"


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def needs_alert(case: Escalation) -> bool:
    """High and imminent crisis cases alert at once; so does a person asking for a human."""
    return case.status == "open" and (case.severity in ALERTED_SEVERITIES or case.kind == CaseKind.HANDOFF)


def ack_seconds(config: Any, case: Escalation) -> int:
    seconds = config.ack_seconds
    key = case.severity if case.severity in ALERTED_SEVERITIES or case.kind != CaseKind.HANDOFF else "handoff"
    return seconds.get(key) or seconds.get("high") or 1800


@dataclass
class Queued:
    """Rows written in this transaction, to queue once it commits."""

    outbox_ids: list[int] = field(default_factory=list)
    webhook_ids: list[int] = field(default_factory=list)


def pending_rows(session: Session, services: Any) -> Queued:
    """This transaction's rows to queue; the first call hooks the commit that queues them."""
    queued = session.info.get(_PENDING_KEY)
    if queued is None:
        queued = session.info[_PENDING_KEY] = Queued()

        @event.listens_for(session, "after_commit", once=True)
        def _dispatch(committed: Session) -> None:
            rows = committed.info.pop(_PENDING_KEY, None)
            if rows is not None:
                dispatch(services, rows)

        @event.listens_for(session, "after_rollback", once=True)
        def _forget(rolled_back: Session) -> None:
            rolled_back.info.pop(_PENDING_KEY, None)

    return queued


def dispatch(services: Any, rows: Queued) -> None:
    """Queue committed alert rows now; anything Redis refuses, the sweeper queues later."""
    try:
        for outbox_id in rows.outbox_ids:
            services.jobs.enqueue_send(outbox_id, 0, at_front=True)
        for alert_id in rows.webhook_ids:
            enqueue_webhook(services, alert_id, 0)
    except RedisError:
        log.warning("oncall.queue_unavailable", extra={"outbox": len(rows.outbox_ids)})


def enqueue_webhook(services: Any, alert_id: int, attempt: int, delay_s: float = 0) -> None:
    from core.queue import FAILURE_TTL_S, RESULT_TTL_S, SEND

    queue = services.jobs.queues[SEND]
    kwargs = dict(
        job_id=webhook_job_id(alert_id, attempt),
        job_timeout=services.config.JOB_TIMEOUT_S,
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
    )
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), "workers.jobs.deliver_case_webhook", alert_id, **kwargs)
    else:
        queue.enqueue("workers.jobs.deliver_case_webhook", alert_id, **kwargs)


def webhook_job_id(alert_id: int, attempt: int) -> str:
    return f"case-webhook-{alert_id}-{attempt}"


def staff_sms(session: Session, services: Any, number: str, text: str, kind: str) -> list[OutboxMessage]:
    """Outbox rows to a member of staff: no contact row, the number sealed on each row."""
    config = services.config
    channel: Channel = (
        "sms"
        if (config.TWILIO_SMS_FROM or config.TWILIO_MESSAGING_SERVICE_SID or not config.TWILIO_WHATSAPP_FROM)
        else "whatsapp"
    )
    rows = new_rows(services.cipher, text, channel, config.SMS_SEGMENT_BUDGET, contact_id=None,
                    to_enc=services.cipher.encrypt(number, b"phone"), kind=kind, content_ref=f"oncall:{kind}")
    session.add_all(rows)
    session.flush()
    return rows


def _recipients_for(
    session: Session, services: Any, region: str, rung: int, now: datetime
) -> tuple[int, list[rota.Recipient]]:
    """The people to alert for a rung; an empty rung passes to the next one up, and past the
    top the on-call rung is reminded (an alert must reach someone)."""
    rungs = rota.ladder(session, services, region, now)
    for candidate in range(rung, rota.SUPERVISOR + 1):
        if rungs.get(candidate):
            return candidate, rungs[candidate]
    if rungs:
        first = min(rungs)
        return first, rungs[first]
    return rung, []


def _alert_rung(session: Session, services: Any, case: Escalation, rung: int, now: datetime) -> int:
    """Write one rung's alerts (SMS and webhook) for a case; returns how many were written."""
    region = case.region or services.config.DEFAULT_REGION
    used_rung, people = _recipients_for(session, services, region, rung, now)
    queued = pending_rows(session, services)
    written = 0
    for person in people:
        exists = session.scalar(
            select(CaseAlert.id).where(
                CaseAlert.escalation_id == case.id,
                CaseAlert.tier == rung,
                CaseAlert.channel == "sms",
                CaseAlert.recipient_hash == person.number_hash,
            )
        )
        if exists is not None:
            continue
        member = staff.by_id(session, person.user_id) if person.user_id else None
        locale = member.locale if member is not None else None
        text = staff_text.alert(case, rung, services.config.PUBLIC_BASE_URL, locale)
        rows = staff_sms(session, services, person.number, text, ALERT_KIND)
        session.add(
            CaseAlert(
                escalation_id=case.id,
                tier=rung,
                channel="sms",
                recipient_hash=person.number_hash,
                user_id=person.user_id,
                outbox_id=rows[0].id,
                status="queued",
            )
        )
        queued.outbox_ids.extend(row.id for row in rows)
        written += 1
    if services.config.ONCALL_WEBHOOK_URL:
        alert = CaseAlert(escalation_id=case.id, tier=rung, channel=WEBHOOK, recipient_hash=WEBHOOK, status="pending")
        session.add(alert)
        session.flush()
        queued.webhook_ids.append(alert.id)
    session.add(
        AuditEvent(
            actor="system",
            action="case.alerted",
            contact_id=case.contact_id,
            detail={
                "escalation_id": case.id,
                "rung": rung,
                "rung_used": used_rung,
                "recipients": written,
                "users": [p.user_id for p in people],
                "webhook": bool(services.config.ONCALL_WEBHOOK_URL),
            },
        )
    )
    if not people:
        log.error("oncall.nobody_to_alert", extra={"escalation_id": case.id, "region": region})
    else:
        log.warning("oncall.alerted", extra={"escalation_id": case.id, "rung": rung, "recipients": written})
    return written


def queue_case_alert(session: Session, services: Any, case: Escalation, now: datetime | None = None) -> bool:
    """A case was opened or raised: alert the region's on-call person if it needs it and nobody
    has been alerted yet. Call inside the transaction that writes the case; the alert is written
    in it and queued when it commits. Returns whether an alert was written."""
    now = now or utcnow()
    session.flush()  # a new case gets its number and column defaults
    if case.region is None:
        case.region = services.config.DEFAULT_REGION
    if case.category is None and case.kind != CaseKind.HANDOFF:
        found = category_of(case)
        case.category = found if found not in {"unknown", "handoff"} else None
    if not needs_alert(case) or case.alert_tier > 0 or case.acknowledged_at is not None:
        return False
    wait = timedelta(seconds=ack_seconds(services.config, case))
    case.alert_tier = rota.ONCALL
    case.ack_due_at = case.ack_due_at or now + wait
    case.next_alert_at = now + wait
    _alert_rung(session, services, case, rota.ONCALL, now)
    return True


def escalate_due(services: Any, now: datetime | None = None, limit: int = 100) -> int:
    """Alert the next rung for every open, unacknowledged case whose time ran out; returns how many."""
    now = now or utcnow()
    with services.db.session() as session:
        due = session.execute(
            select(Escalation.id, Escalation.alert_tier)
            .where(
                Escalation.status == "open",
                Escalation.acknowledged_at.is_(None),
                Escalation.next_alert_at.is_not(None),
                Escalation.next_alert_at <= now,
            )
            .order_by(Escalation.next_alert_at)
            .limit(limit)
        ).all()
    moved = 0
    for case_id, tier in due:
        with services.db.session() as session:
            case = session.get(Escalation, case_id)
            if case is None:
                continue
            rung = tier + 1
            wait = timedelta(seconds=ack_seconds(services.config, case))
            won = session.execute(
                update(Escalation)
                .where(
                    Escalation.id == case_id,
                    Escalation.alert_tier == tier,
                    Escalation.status == "open",
                    Escalation.acknowledged_at.is_(None),
                )
                .values(alert_tier=rung, next_alert_at=now + wait if rung < rota.SUPERVISOR else None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                continue  # another worker escalated it, or someone took it meanwhile
            session.refresh(case)
            _alert_rung(session, services, case, rung, now)
            moved += 1
    return moved


class AckResult:
    TAKEN = "taken"
    ALREADY_YOURS = "already-yours"
    OWNED = "owned-by-someone-else"
    CLOSED = "closed"
    MISSING = "missing"


def acknowledge(
    session: Session, case_id: int, user_id: int | None, via: str, actor: str, now: datetime | None = None
) -> tuple[str, Escalation | None]:
    """Take a case: the first acknowledgement owns it; later ones learn who does."""
    now = now or utcnow()
    won = cast("CursorResult[Any]", session.execute(
        update(Escalation)
        .where(Escalation.id == case_id, Escalation.status == "open", Escalation.acknowledged_at.is_(None))
        .values(owner_id=user_id, acknowledged_at=now, acknowledged_via=via, next_alert_at=None)
        .execution_options(synchronize_session=False)
    )).rowcount
    case = session.get(Escalation, case_id)
    if case is not None:
        session.refresh(case)
    if case is None:
        return AckResult.MISSING, None
    if won == 1:
        opened = _aware(case.opened_at) or now
        session.add(
            AuditEvent(
                actor=actor,
                action="case.acknowledged",
                contact_id=case.contact_id,
                detail={
                    "escalation_id": case.id,
                    "via": via,
                    "owner_id": user_id,
                    "seconds": round((now - opened).total_seconds(), 1),
                },
            )
        )
        log.info("oncall.acknowledged", extra={"escalation_id": case.id, "via": via})
        return AckResult.TAKEN, case
    if case.status != "open":
        return AckResult.CLOSED, case
    if case.owner_id == user_id and (user_id is not None or case.acknowledged_via == via):
        return AckResult.ALREADY_YOURS, case
    return AckResult.OWNED, case


def owner_name(session: Session, case: Escalation, locale: str | None = None) -> str:
    if case.owner_id is not None:
        member = staff.by_id(session, case.owner_id)
        if member is not None:
            return member.name
    return staff_text.gettext(locale, "the on-call phone")


def raise_to_crisis(session: Session, services: Any, case: Escalation, now: datetime | None = None) -> None:
    """A handoff case whose person is now at risk becomes a crisis case, with the crisis's time to
    acknowledge; whoever holds it hears the new severity at once (the owner if taken, else the
    rung already alerted). Call in the transaction that raised the severity."""
    now = now or utcnow()
    case.kind = CaseKind.CRISIS
    found = category_of(case)
    case.category = found if found not in {"unknown", "handoff"} else None
    if case.alert_tier == 0 and case.acknowledged_at is None:
        queue_case_alert(session, services, case, now)
        return
    people: list[rota.Recipient] = []
    if case.acknowledged_at is None:
        wait = timedelta(seconds=ack_seconds(services.config, case))
        case.ack_due_at = now + wait
        case.next_alert_at = now + wait
        _used, people = _recipients_for(session, services, case.region or services.config.DEFAULT_REGION,
                                        case.alert_tier, now)
    else:
        owner = rota.user_recipient(session, services, case.owner_id)
        people = [owner] if owner is not None else _recipients_for(
            session, services, case.region or services.config.DEFAULT_REGION, rota.ONCALL, now)[1]
    queued = pending_rows(session, services)
    for person in people:
        member = staff.by_id(session, person.user_id) if person.user_id else None
        text = staff_text.alert(case, 1, services.config.PUBLIC_BASE_URL, member.locale if member else None)
        queued.outbox_ids.extend(row.id for row in staff_sms(session, services, person.number, text, NOTICE_KIND))
    session.add(AuditEvent(actor="system", action="case.raised", contact_id=case.contact_id,
                           detail={"escalation_id": case.id, "severity": case.severity, "told": len(people)}))
    log.warning("oncall.case_raised", extra={"escalation_id": case.id, "told": len(people)})

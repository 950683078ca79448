"""The signed webhook to the NGO's own system: one POST per case alert, retried until accepted.

The body is JSON with the case number, severity, category, rung, region and portal link,
never the person's number or words. ``X-Tumaini-Signature`` is ``t=<unix time>,v1=<hex>``,
where the hex is HMAC-SHA256 of ``<unix time>.<body>`` under ``ONCALL_WEBHOOK_SECRET``;
the receiver recomputes it and rejects old timestamps, so a replayed call is refused.
Any 2xx is success; anything else, or no answer, is retried with the send backoff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import update

from core.oncall.categories import category_of
from core.oncall.staff_text import case_link
from core.tables import CaseAlert, Escalation, utcnow

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Tumaini-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, max_age_s: int = 300, now: float | None = None) -> bool:
    """For receivers (and tests): the signature matches and is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((now or time.time()) - timestamp) > max_age_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def payload(case: Escalation, alert: CaseAlert, base_url: str) -> dict[str, Any]:
    return {
        "event": "case.alert",
        "case": case.id,
        "severity": case.severity,
        "category": category_of(case),
        "kind": case.kind,
        "region": case.region,
        "rung": alert.tier,
        "opened_at": case.opened_at.isoformat() if case.opened_at else None,
        "link": case_link(base_url, case.id),
    }


def deliver(services: Any, alert_id: int) -> str:
    """POST one webhook alert; record the outcome and schedule a retry when it failed."""
    from core.oncall.alerts import enqueue_webhook

    config = services.config
    with services.db.session() as session:
        alert = session.get(CaseAlert, alert_id)
        if alert is None or alert.status != "pending":
            return "already-final"
        case = session.get(Escalation, alert.escalation_id)
        if case is None:
            alert.status = "failed"
            return "no-case"
        body = json.dumps(payload(case, alert, config.PUBLIC_BASE_URL), sort_keys=True).encode("utf-8")
        attempts = alert.attempts
    if not config.ONCALL_WEBHOOK_URL:
        return "no-url"
    request = urllib.request.Request(
        config.ONCALL_WEBHOOK_URL,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(config.ONCALL_WEBHOOK_SECRET, int(time.time()), body),
        },
    )
    error = None
    try:
        with urllib.request.urlopen(request, timeout=config.TWILIO_TIMEOUT_S) as response:  # noqa: S310 (configured URL)
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        status, error = 0, type(exc).__name__
    attempts += 1
    with services.db.session() as session:
        if 200 <= status < 300:
            session.execute(
                update(CaseAlert)
                .where(CaseAlert.id == alert_id)
                .values(status="sent", sent_at=utcnow(), attempts=attempts, error=None)
            )
            log.info("oncall.webhook_sent", extra={"alert_id": alert_id})
            return "sent"
        final = attempts >= config.SEND_MAX_ATTEMPTS
        session.execute(
            update(CaseAlert)
            .where(CaseAlert.id == alert_id)
            .values(status="failed" if final else "pending", attempts=attempts, error=error)
        )
    if final:
        log.error("oncall.webhook_gave_up", extra={"alert_id": alert_id, "error": error})
        return "gave-up"
    backoff = config.send_backoff
    delay = backoff[min(attempts - 1, len(backoff) - 1)]
    enqueue_webhook(services, alert_id, attempts, delay_s=delay)
    log.warning("oncall.webhook_retry", extra={"alert_id": alert_id, "error": error, "delay_s": delay})
    return "retry-scheduled"

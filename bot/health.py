"""Health and metrics endpoints for load balancers and Prometheus.

Figures come from the database and Redis at scrape time, so they are the same
whichever web process answers and survive restarts. What happens inside the
workers (their loaded models, queue waits, translation and generation times)
reaches Redis through each worker's heartbeat (bot.telemetry).
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from redis.exceptions import RedisError
from rq import Worker
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.telemetry import latency, models_loaded, worker_records
from core.tables import Escalation, InboundMessage, InboundStatus, OutboxMessage, utcnow

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

# Shared histogram (bot.telemetry) -> (Prometheus name, help, label).
HISTOGRAMS = {
    "queue_wait": ("tumaini_queue_wait_seconds", "Time jobs waited in their queue before a worker started them",
                   "queue"),
    "translation": ("tumaini_translation_seconds", "Time per CTranslate2 translation batch, by model", "model"),
    "generation": ("tumaini_generation_seconds", "Time per generated reply, by dialogue model", "model"),
}


def _services() -> Any:
    return current_app.extensions["tumaini.services"]


def _oldest_pending_age(services: Any) -> float:
    """Seconds the oldest unanswered message has waited (0 when none): the sign of a stuck queue."""
    with services.db.session() as session:
        oldest = session.scalar(select(func.min(InboundMessage.received_at))
                                .where(InboundMessage.status.in_(InboundStatus.PENDING)))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return round((utcnow() - oldest).total_seconds(), 1)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    services = _services()
    checks: dict[str, Any] = {}
    healthy = True
    try:
        with services.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
        healthy = False
    try:
        services.redis.ping()
        checks["redis"] = "ok"
        checks["queues"] = services.jobs.depth()
        checks["workers"] = Worker.count(connection=services.redis)
        # Workers and models are reported, not required: the web process answers (and stores
        # messages) with no worker running, and every model is optional.
        workers = worker_records(services.redis)
    except (RedisError, OSError) as exc:
        checks["redis"] = f"unavailable: {type(exc).__name__}"
        healthy = False
        workers = []
    if checks.get("database") == "ok":
        checks["oldest_unanswered_s"] = _oldest_pending_age(services)
    body = {"status": "ok" if healthy else "unavailable", "checks": checks, "workers": workers,
            "models": models_loaded(workers)}
    return jsonify(body), 200 if healthy else 503


class _Families:
    """Metric families built before the scrape is written (histograms read from Redis)."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> list[Metric]:
        return self.families


def _worker_families(redis: Any, registry: CollectorRegistry) -> None:
    """Loaded models per worker heartbeat, and the latency histograms workers ship."""
    loaded = Gauge("tumaini_model_loaded", "Workers with this model loaded", ["model", "kind", "version"],
                   registry=registry)
    for model in models_loaded(worker_records(redis)):
        loaded.labels(model["name"], model["kind"], model["version"]).set(len(model["workers"]))
    families = _Families()
    for metric, (name, documentation, label) in HISTOGRAMS.items():
        family = HistogramMetricFamily(name, documentation, labels=[label])
        for value, histogram in sorted(latency(redis, metric).items()):
            family.add_metric([value], histogram.buckets, sum_value=histogram.sum_s)
        families.families.append(family)
    registry.register(families)


def _response_families(services: Any, registry: CollectorRegistry) -> None:
    """Staff response over the last 7 days, per region (the reports page has it per week)."""
    from core.oncall.response_report import by_region

    alerted = Gauge("tumaini_cases_alerted", "Cases that alerted on call, last 7 days", ["region"], registry=registry)
    breached = Gauge("tumaini_cases_breached", "Alerted cases not acknowledged in their time, last 7 days",
                     ["region"], registry=registry)
    ack = Gauge("tumaini_case_time_to_acknowledge_seconds", "Time to acknowledge, last 7 days",
                ["region", "stat"], registry=registry)
    reply = Gauge("tumaini_case_time_to_first_reply_seconds", "Time to the first staff reply, last 7 days",
                  ["region", "stat"], registry=registry)
    unowned = Gauge("tumaini_cases_unacknowledged", "Open alerted cases nobody has taken", ["region"],
                    registry=registry)
    now = utcnow()
    with services.db.session() as session:
        for row in by_region(session, now - timedelta(days=7), now, services.config.DEFAULT_REGION):
            alerted.labels(row.region).set(row.alerted)
            breached.labels(row.region).set(row.breached)
            for gauge, median, longest in ((ack, row.ack_median_s, row.ack_max_s),
                                           (reply, row.reply_median_s, row.reply_max_s)):
                if median is not None:
                    gauge.labels(row.region, "median").set(median)
                    gauge.labels(row.region, "max").set(longest)
        for region, count in session.execute(
            select(Escalation.region, func.count()).where(
                Escalation.status == "open", Escalation.acknowledged_at.is_(None), Escalation.ack_due_at.is_not(None))
            .group_by(Escalation.region)
        ):
            unowned.labels(region or services.config.DEFAULT_REGION).set(count)


@bp.get("/metrics")
def metrics() -> Response:
    services = _services()
    registry = CollectorRegistry()
    inbound = Gauge("tumaini_inbound_messages", "Inbound messages by channel and status",
                    ["channel", "status"], registry=registry)
    outbound = Gauge("tumaini_outbound_messages", "Outbound messages by channel and status",
                     ["channel", "status"], registry=registry)
    failures = Gauge("tumaini_send_failures", "Failed sends by provider error code", ["code"], registry=registry)
    escalations = Gauge("tumaini_escalations_open", "Open escalations by severity", ["severity"], registry=registry)
    depth = Gauge("tumaini_queue_depth", "Jobs waiting per queue", ["queue"], registry=registry)
    workers = Gauge("tumaini_workers", "Workers with a live heartbeat", registry=registry)
    oldest = Gauge("tumaini_oldest_unanswered_seconds", "Age of the oldest unanswered message",
                   registry=registry)
    escalation_age = Gauge("tumaini_escalation_oldest_open_seconds", "Age of the oldest open escalation",
                           ["severity"], registry=registry)
    with services.db.session() as session:
        for channel, status, count in session.execute(
            select(InboundMessage.channel, InboundMessage.status, func.count()).group_by(
                InboundMessage.channel, InboundMessage.status)
        ):
            inbound.labels(channel, status).set(count)
        for channel, status, count in session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
                OutboxMessage.channel, OutboxMessage.status)
        ):
            outbound.labels(channel, status).set(count)
        for code, count in session.execute(
            select(OutboxMessage.error_code, func.count()).where(OutboxMessage.error_code.is_not(None))
            .group_by(OutboxMessage.error_code)
        ):
            failures.labels(str(code)).set(count)
        for severity, count, opened in session.execute(
            select(Escalation.severity, func.count(), func.min(Escalation.opened_at))
            .where(Escalation.status == "open").group_by(Escalation.severity)
        ):
            escalations.labels(severity).set(count)
            opened = opened if opened.tzinfo else opened.replace(tzinfo=UTC)
            escalation_age.labels(severity).set((utcnow() - opened).total_seconds())
    oldest.set(_oldest_pending_age(services))
    _response_families(services, registry)
    try:
        workers.set(Worker.count(connection=services.redis))
        for name, count in services.jobs.depth().items():
            depth.labels(name).set(count)
        _worker_families(services.redis, registry)
    except RedisError:
        log.warning("metrics.redis_unavailable")
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

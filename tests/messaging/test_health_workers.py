"""/healthz lists the live workers and the models they hold; /metrics has their latencies.

Needs Redis and the database fixtures. The worker tests start real ``python -m workers``
processes over real tiny CTranslate2 models built here: the scripted "warm" generator of the
dialogue tests and a random-weight Marian sw->en pair model.
"""

from __future__ import annotations

import os
import signal
import socket
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import select

from bot import create_app, telemetry
from bot.services import Services
from core.tables import Contact, OutboxMessage, OutboxStatus, utcnow
from tests.conftest import inbound_form, make_config, post_signed, wait_for
from translation import synthetic
from translation.build import TranslationSettings, build_translator
from translation.latency import LatencyRecorder
from translation.manifest import model_version
from workers.heartbeat import QUEUE_WAIT, RECORDERS, Heartbeat, ship_latency

ROOT = Path(__file__).resolve().parents[2]
SW_EN = "health-sw-en"  # a name no other room's models use: pools from other tests may be alive
SW_PHONE = "+254700000301"
EN_PHONE = "+254700000302"


@pytest.fixture(scope="module")
def worker_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MODELS_DIR with the "warm" generator and a tiny sw->en translator."""
    from tests.dialogue.conftest import WARM, build_generator_dir

    root = tmp_path_factory.mktemp("health-models")
    build_generator_dir(root / "warm", script=WARM.split())
    lines = ["Habari yako leo", "nimechoka sana leo rafiki", "Hello, how are you today?", "I feel so tired today"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # transformers' notes about optional packages
        spm = synthetic.train_sentencepiece(lines, tmp_path_factory.mktemp("health-spm") / "toy", vocab_size=80)
        synthetic.build_pair_model(root / SW_EN, name=SW_EN, src="sw", tgt="en", spm_model=spm)
    return root


def _worker_config(tmp_path: Path, database_url: str, redis_url: str, standin_url: str, models: Path):
    return make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url, TWILIO_API_BASE=standin_url,
                       MODELS_DIR=str(models), DIALOGUE_ENABLED=True, DIALOGUE_MODEL="warm", WORKER_HEARTBEAT_S=1)


def _record_of(client: Any, pid: int) -> dict[str, Any] | None:
    response = client.get("/healthz")
    assert response.status_code == 200
    return next((r for r in response.get_json()["workers"] if r["pid"] == pid), None)


def _kinds(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in record["models"]}


def _seed(services: Services, phone: str, locale: str) -> None:
    """Someone who consented earlier and is at the menu, in ``locale``.

    A Swahili speaker's messages are read through the sw->en model; free text from an English
    speaker goes to the dialogue model.
    """
    with services.db.session() as session:
        session.add(Contact(phone_hash=services.pseudonymise(phone), phone_enc=services.cipher.encrypt(phone, b"phone"),
                            channel="sms", locale=locale, region=services.config.DEFAULT_REGION,
                            state={"flow": "menu"}, consent_version="test@1", consented_at=utcnow()))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


# -- the worker process ---------------------------------------------------------------------------


def test_healthz_lists_a_worker_its_models_and_a_translator_once_it_loads(tmp_path, database_url, redis_url,
                                                                          twilio_standin, worker_models, spawn_worker):
    config = _worker_config(tmp_path, database_url, redis_url, twilio_standin.url, worker_models)
    client = create_app(config).test_client()
    before = client.get("/healthz")
    assert before.status_code == 200  # no worker and no model is not a failure
    assert before.get_json()["workers"] == [] and before.get_json()["models"] == []

    worker = spawn_worker(config)
    record = wait_for(lambda: _record_of(client, worker.pid), timeout=60)
    assert record["hostname"] == socket.gethostname()
    assert record["queues"] == ["send", "inbound", "models", "schedule", "scheduled"]
    assert record["rss_mb"] > 20 and record["started_at"] <= record["heartbeat_at"]
    assert _kinds(record) == {"generator": {
        "name": "warm", "kind": "generator", "version": model_version(worker_models / "warm"),
        "quantization": "int8", "compute_type": "int8", "threads": 1}}  # translators load on first use
    body = client.get("/healthz").get_json()
    assert body["checks"]["workers"] == 1  # RQ's own count stays
    where = f"{record['hostname']}:{worker.pid}"
    assert body["models"] == [{"name": "warm", "kind": "generator", "version": record["models"][0]["version"],
                               "workers": [where]}]

    services = Services(config)
    _seed(services, SW_PHONE, "sw")
    assert post_signed(client, inbound_form("nimechoka sana leo rafiki", phone=SW_PHONE)).status_code == 200

    def with_translator() -> dict[str, Any] | None:
        current = _record_of(client, worker.pid)
        return current if current and "translator" in _kinds(current) else None

    record = wait_for(with_translator)
    assert _kinds(record)["translator"] == {
        "name": SW_EN, "kind": "translator", "version": model_version(worker_models / SW_EN),
        "quantization": "int8", "compute_type": "int8", "threads": 1}
    assert [(m["name"], m["workers"]) for m in client.get("/healthz").get_json()["models"]] == [
        (SW_EN, [where]), ("warm", [where])]

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert client.get("/healthz").get_json()["workers"] == []  # a clean stop takes the record down at once
    services.close()


def test_metrics_count_latencies_after_real_messages_and_a_killed_worker_drops_out(
        tmp_path, database_url, redis_url, twilio_standin, worker_models, spawn_worker):
    config = _worker_config(tmp_path, database_url, redis_url, twilio_standin.url, worker_models)
    client = create_app(config).test_client()
    services = Services(config)
    _seed(services, SW_PHONE, "sw")
    _seed(services, EN_PHONE, "en")
    worker = spawn_worker(config)
    wait_for(lambda: _record_of(client, worker.pid), timeout=60)
    assert post_signed(client, inbound_form("my neighbour keeps shouting at us", phone=EN_PHONE)) \
        .status_code == 200
    assert post_signed(client, inbound_form("nimechoka sana leo rafiki", phone=SW_PHONE)).status_code == 200

    def generated_and_sent() -> bool:
        with services.db.session() as session:
            rows = session.execute(select(OutboxMessage.kind, OutboxMessage.status)).all()
        return ("generated", OutboxStatus.SENT) in rows and all(s == OutboxStatus.SENT for _, s in rows)

    wait_for(generated_and_sent, timeout=60)

    def shipped() -> dict[Any, float] | None:  # the next heartbeat ships what the last job observed
        samples = _samples(client.get("/metrics").get_data(as_text=True))
        wanted = [("tumaini_generation_seconds_count", (("model", "warm"),)),
                  ("tumaini_translation_seconds_count", (("model", SW_EN),)),
                  ("tumaini_queue_wait_seconds_count", (("queue", "send"),))]
        return samples if all(samples.get(key, 0) >= 1 for key in wanted) else None

    samples = wait_for(shipped)
    assert samples[("tumaini_queue_wait_seconds_count", (("queue", "inbound"),))] == 2  # each message once
    assert samples[("tumaini_queue_wait_seconds_bucket", (("le", "+Inf"), ("queue", "inbound")))] == 2
    assert samples[("tumaini_generation_seconds_count", (("model", "warm"),))] == 1
    assert 0 < samples[("tumaini_generation_seconds_sum", (("model", "warm"),))] < 10
    version = model_version(worker_models / "warm")
    assert samples[("tumaini_model_loaded", (("kind", "generator"), ("model", "warm"), ("version", version)))] == 1
    assert ("tumaini_model_loaded", (("kind", "translator"), ("model", SW_EN),
                                     ("version", model_version(worker_models / SW_EN)))) in samples

    os.kill(worker.pid, signal.SIGKILL)  # no clean-up: the record expires
    worker.wait(timeout=10)
    assert _record_of(client, worker.pid) is not None
    wait_for(lambda: _record_of(client, worker.pid) is None, timeout=telemetry.record_ttl(1) + 5)
    services.close()


# -- the heartbeat and the shared records, in this process --------------------------------------


def test_a_heartbeat_reports_a_translator_as_soon_as_it_loads(tmp_path, config, worker_models):
    redis = Redis.from_url(config.REDIS_URL)
    client = create_app(config).test_client()
    heartbeat = Heartbeat(redis, "in-process", ["inbound"], interval_s=60)  # only a change beats early
    heartbeat.start()
    try:
        first = wait_for(lambda: next((r for r in client.get("/healthz").get_json()["workers"]
                                         if r["name"] == "in-process"), None))
        assert SW_EN not in [m["name"] for m in first["models"]] and first["pid"] == os.getpid()
        translator = build_translator(worker_models, TranslationSettings())
        translator.translate("nimechoka sana leo", "sw", "en")
        wait_for(lambda: SW_EN in [m["name"] for r in client.get("/healthz").get_json()["workers"]
                                    for m in r["models"]], timeout=5)
    finally:
        heartbeat.stop()
    assert client.get("/healthz").get_json()["workers"] == []
    redis.close()


def test_records_expire_unless_refreshed_and_summarise_by_model(redis_url):
    redis = Redis.from_url(redis_url)
    model = {"name": "warm", "kind": "generator", "version": "abc", "quantization": "int8",
             "compute_type": "int8", "threads": 1}
    one = {"name": "w1", "hostname": "a", "pid": 2, "queues": ["send"], "models": [model]}
    two = {"name": "w2", "hostname": "a", "pid": 1, "queues": ["send"], "models": [model]}
    telemetry.publish_worker(redis, one, ttl_s=1)
    telemetry.publish_worker(redis, two, ttl_s=30)
    assert [r["name"] for r in telemetry.worker_records(redis)] == ["w2", "w1"]  # by host, then pid
    assert telemetry.models_loaded(telemetry.worker_records(redis)) == [
        {"name": "warm", "kind": "generator", "version": "abc", "workers": ["a:1", "a:2"]}]
    time.sleep(1.2)
    assert [r["name"] for r in telemetry.worker_records(redis)] == ["w2"]
    telemetry.remove_worker(redis, "w2")
    assert telemetry.worker_records(redis) == []
    redis.zadd(telemetry.INDEX_KEY, {"long-gone": time.time() - 7200})
    telemetry.publish_worker(redis, two, ttl_s=30)  # each heartbeat prunes names expired over an hour ago
    assert sorted(redis.zrange(telemetry.INDEX_KEY, 0, -1)) == [b"w1", b"w2"]
    redis.close()


def test_latency_from_several_workers_adds_up_into_cumulative_buckets(redis_url):
    redis = Redis.from_url(redis_url)
    for observations in ([0.03, 0.2], [0.03, 4.0]):  # two workers' beats
        recorder = LatencyRecorder((0.05, 1.0))
        for seconds in observations:
            recorder.observe("opus-sw-en", seconds)
        telemetry.add_latency(redis, "translation", recorder.bounds(), recorder.drain())
    (histogram,) = telemetry.latency(redis, "translation").values()
    assert histogram.buckets == [("0.05", 2), ("1.0", 3), ("+Inf", 4)]
    assert histogram.count == 4 and histogram.sum_s == pytest.approx(4.26)
    redis.close()


def test_metrics_expose_the_shipped_histograms(client, config):
    redis = Redis.from_url(config.REDIS_URL)
    for recorder in RECORDERS.values():
        recorder.drain()  # whatever other tests in this process observed
    QUEUE_WAIT.observe("inbound", 0.004)
    QUEUE_WAIT.observe("inbound", 42.0)
    RECORDERS["generation"].observe("warm", 0.7)
    ship_latency(redis)
    samples = _samples(client.get("/metrics").get_data(as_text=True))
    assert samples[("tumaini_queue_wait_seconds_bucket", (("le", "0.01"), ("queue", "inbound")))] == 1
    assert samples[("tumaini_queue_wait_seconds_bucket", (("le", "30.0"), ("queue", "inbound")))] == 1
    assert samples[("tumaini_queue_wait_seconds_bucket", (("le", "60.0"), ("queue", "inbound")))] == 2
    assert samples[("tumaini_queue_wait_seconds_count", (("queue", "inbound"),))] == 2
    assert samples[("tumaini_generation_seconds_sum", (("model", "warm"),))] == pytest.approx(0.7)
    assert not any(name.startswith("tumaini_translation_seconds") for name, _ in samples)
    assert not any(name == "tumaini_model_loaded" for name, _ in samples)  # no worker heartbeat
    redis.close()

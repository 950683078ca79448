"""Health and metrics endpoints."""

from __future__ import annotations

from bot import create_app
from tests.conftest import inbound_form, make_config, post_signed


def test_healthz_is_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["queues"]["inbound"] == 0
    assert body["checks"]["workers"] == 0 and body["workers"] == [] and body["models"] == []  # none needed


def test_healthz_is_503_with_the_reason_when_redis_is_down(tmp_path, database_url, twilio_standin):
    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL="redis://127.0.0.1:1/0",
                         TWILIO_API_BASE=twilio_standin.url)
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["redis"].startswith("unavailable") and body["checks"]["database"] == "ok"
    assert body["workers"] == [] and body["models"] == []  # unknown without Redis, and said so above


def test_healthz_is_503_when_the_database_is_down(tmp_path, redis_url, twilio_standin):
    config = make_config(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url)
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"].startswith("unavailable")


def test_metrics_count_messages_by_channel_and_status(client):
    post_signed(client, inbound_form("Hi"))
    post_signed(client, inbound_form("Habari", channel="whatsapp"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tumaini_inbound_messages{channel="sms",status="received"} 1.0' in text
    assert 'tumaini_inbound_messages{channel="whatsapp",status="received"} 1.0' in text
    assert 'tumaini_queue_depth{queue="inbound"} 2.0' in text

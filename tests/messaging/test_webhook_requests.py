"""The webhook's contract with Twilio: signatures, bad input, duplicates."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core.tables import InboundMessage
from tests.conftest import AUTH_TOKEN, inbound_form, post_signed, sign


def _count(app) -> int:
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(InboundMessage))


def _queued(app) -> int:
    return app.extensions["tumaini.services"].jobs.depth()["inbound"]


def test_signed_message_is_stored_queued_and_acknowledged_with_empty_twiml(app, client):
    response = post_signed(client, inbound_form("Hi"))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert b"<Response></Response>" in response.data
    assert _count(app) == 1
    assert _queued(app) == 1


def test_stored_message_is_encrypted_and_pseudonymised(app, client):
    post_signed(client, inbound_form("I feel so tired", phone="+254711223344"))
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert b"tired" not in row.body_enc and b"254711223344" not in row.from_enc
        assert "254711223344" not in row.from_hash
        assert services.cipher.decrypt(row.body_enc, b"body") == "I feel so tired"
        assert row.from_hash == services.pseudonymise("+254711223344")


@pytest.mark.parametrize("headers", [
    {},  # missing
    {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},  # wrong
])
def test_unsigned_or_wrongly_signed_requests_are_refused_and_nothing_is_stored(app, client, headers):
    response = client.post("/twilio/messages", data=inbound_form("Hi"), headers=headers)
    assert response.status_code == 403
    assert _count(app) == 0 and _queued(app) == 0


def test_tampered_body_fails_the_signature(app, client):
    form = inbound_form("Hi")
    signature = sign(form)
    form["Body"] = "something else"
    response = client.post("/twilio/messages", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _count(app) == 0


def test_signature_from_another_auth_token_is_refused(app, client):
    form = inbound_form("Hi")
    response = client.post("/twilio/messages", data=form,
                           headers={"X-Twilio-Signature": sign(form, token=AUTH_TOKEN + "x")})
    assert response.status_code == 403


def test_signature_is_checked_against_the_public_url_not_the_internal_one(app, client):
    # Behind a proxy the app sees http://localhost, but Twilio signed the public https URL.
    form = inbound_form("Hi")
    response = client.post("/twilio/messages", data=form, base_url="http://10.0.0.5:8000",
                           headers={"X-Twilio-Signature": sign(form)})
    assert response.status_code == 200


def test_whatsapp_message_is_recorded_on_the_whatsapp_channel(app, client):
    post_signed(client, inbound_form("Habari", channel="whatsapp"))
    services = app.extensions["tumaini.services"]
    with services.db.session() as session:
        assert session.scalars(select(InboundMessage.channel)).one() == "whatsapp"


def test_a_retried_message_sid_is_acknowledged_but_stored_and_queued_once(app, client):
    form = inbound_form("Hi", sid="SM" + "a" * 32)
    assert post_signed(client, form).status_code == 200
    assert post_signed(client, form).status_code == 200
    assert _count(app) == 1
    assert _queued(app) == 1


def test_concurrent_retries_of_one_message_sid_store_and_queue_it_once(app):
    form = inbound_form("Hi", sid="SM" + "b" * 32)
    barrier = threading.Barrier(8)

    def post(_: int) -> int:
        client = app.test_client()
        barrier.wait()
        return post_signed(client, form).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(post, range(8)))
    assert codes == [200] * 8
    assert _count(app) == 1
    assert _queued(app) == 1


def _raw(client, body: bytes, content_type: str = "application/x-www-form-urlencoded", form_for_sig=None):
    headers = {"Content-Type": content_type}
    if form_for_sig is not None:
        headers["X-Twilio-Signature"] = sign(form_for_sig)
    return client.post("/twilio/messages", data=body, headers=headers)


def test_oversized_body_is_refused_with_413(app, client):
    form = inbound_form("x" * 70_000)
    response = post_signed(client, form)
    assert response.status_code == 413
    assert _count(app) == 0


def test_wrong_content_type_is_refused_with_415(app, client):
    response = client.post("/twilio/messages", json=inbound_form("Hi"),
                           headers={"X-Twilio-Signature": sign(inbound_form("Hi"))})
    assert response.status_code == 415


def test_empty_request_is_refused_with_400(app, client):
    response = _raw(client, b"")
    assert response.status_code == 400


def test_body_that_is_not_utf8_is_refused_with_400(app, client):
    response = _raw(client, b"MessageSid=SM1234&From=%2B254700000001&To=%2B1555&Body=%FF%FE%FA")
    assert response.status_code == 400
    assert b"UTF-8" in response.data
    assert _count(app) == 0


@pytest.mark.parametrize("missing", ["From", "MessageSid", "To"])
def test_signed_form_missing_a_required_field_is_refused_with_400(app, client, missing):
    form = inbound_form("Hi")
    del form[missing]
    response = post_signed(client, form)
    assert response.status_code == 400
    assert missing.encode() in response.data
    assert _count(app) == 0


def test_media_only_message_with_empty_body_is_accepted(app, client):
    form = inbound_form("", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                        MediaContentType0="image/jpeg")
    assert post_signed(client, form).status_code == 200
    assert _count(app) == 1


def test_message_is_stored_and_acknowledged_when_redis_is_down(tmp_path, database_url, twilio_standin):
    from bot import create_app
    from tests.conftest import make_config

    config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL="redis://127.0.0.1:1/0",
                         TWILIO_API_BASE=twilio_standin.url)
    app = create_app(config)
    response = post_signed(app.test_client(), inbound_form("Hi"))
    assert response.status_code == 200
    assert _count(app) == 1  # on disk: the sweeper queues it once Redis is back


def test_message_is_refused_with_503_when_the_database_is_down(tmp_path, redis_url, twilio_standin):
    from bot import create_app
    from tests.conftest import make_config

    config = make_config(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", REDIS_URL=redis_url,
                         TWILIO_API_BASE=twilio_standin.url)
    app = create_app(config)
    response = post_signed(app.test_client(), inbound_form("Hi"))
    assert response.status_code == 503  # Twilio retries; nothing was acknowledged

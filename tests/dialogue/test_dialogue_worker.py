"""Free text reaches the guarded dialogue model through the real worker pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot import create_app
from bot.services import Services
from core.tables import AuditEvent, OutboxMessage
from tests.conftest import drain, inbound_form, make_config, post_signed
from workers import runtime

PHONE = "+254700000808"


@pytest.fixture()
def dialogue_pipeline(tmp_path, database_url, redis_url, twilio_standin, dialogue_models: Path):
    def build(model: str):
        config = make_config(tmp_path, DATABASE_URL=database_url, REDIS_URL=redis_url,
                             TWILIO_API_BASE=twilio_standin.url, MODELS_DIR=str(dialogue_models),
                             DIALOGUE_ENABLED=True, DIALOGUE_MODEL=model)
        services = Services(config)
        runtime.install(services)
        client = create_app(config).test_client()
        for text in ["Hi", "YES"]:
            post_signed(client, inbound_form(text, phone=PHONE))
        drain(services)
        return services, client

    return build


def test_free_text_gets_a_generated_reply_labelled_in_the_audit_trail(dialogue_pipeline, twilio_standin):
    services, client = dialogue_pipeline("warm")
    post_signed(client, inbound_form("my neighbour keeps shouting at us", phone=PHONE))
    drain(services)
    generated, options = twilio_standin.bodies_to(PHONE)[-2:]
    assert generated.startswith("That sounds really hard")
    # Then approved content: marked as computer-written, the closest topics and TALK.
    assert options.startswith("(Written by a computer.)") and "TALK to reach a health worker" in options
    with services.db.session() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "generated")).one()
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "reply.generated")).one()
    assert row.kind == "generated" and row.content_ref.startswith("generated:warm@")
    assert audit.detail == {"model": row.content_ref}
    services.close()


def test_a_guard_block_sends_the_approved_fallback_instead(dialogue_pipeline, twilio_standin):
    services, client = dialogue_pipeline("human")
    post_signed(client, inbound_form("are you a real person? talk to me", phone=PHONE))
    drain(services)
    assert "I can't answer that well" in twilio_standin.bodies_to(PHONE)[-1]
    with services.db.session() as session:
        blocked = session.scalars(select(AuditEvent).where(AuditEvent.action == "generation.blocked")).one()
    assert blocked.detail["rule"] == "human_claim"
    services.close()

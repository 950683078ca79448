"""Key rotation: old data stays readable, then is re-sealed under the new key."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from bot import create_app
from core.crypto import Cipher, new_key
from core.tables import InboundMessage
from tests.conftest import inbound_form, post_signed


def test_rotation_reencrypts_everything_and_the_old_key_can_then_go(config):
    old_key = config.ENCRYPTION_KEYS[0]
    app = create_app(config)
    post_signed(app.test_client(), inbound_form("sleep is hard", phone="+254711000111"))
    new = new_key()
    rotated = replace(config, ENCRYPTION_KEYS=(new, old_key))
    app = create_app(rotated)
    result = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "inbound_messages.body_enc: 1 re-encrypted" in result.output
    only_new = Cipher([new])
    with app.extensions["tumaini.services"].db.session() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert only_new.decrypt(row.body_enc, b"body") == "sleep is hard"
        assert only_new.decrypt(row.from_enc, b"phone") == "+254711000111"
    again = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "inbound_messages.body_enc: 0 re-encrypted" in again.output

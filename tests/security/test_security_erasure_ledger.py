"""The erasure ledger cannot be forged, thinned or bypassed.

Every DELETE completed through the webhook and a worker is written to the ledger before it
is committed; `flask --app bot erasure replay` refuses, by line number and with a failing
exit, any line that was altered or written without the service's key, and never acts on it
(a forged line would erase someone who never asked); a line taken out of the middle breaks
the chain. An erasure that cannot be recorded is not done, and the sweeper finishes it once
the ledger can be written.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import create_app
from bot.services import Services
from core.tables import Contact, ErasureRequest
from tests.conftest import drain, inbound_form, post_signed
from workers import runtime
from workers.sweeper import sweep

ALICE, BOB, CAROL = "+254700000401", "+254700000402", "+254700000403"


class World:
    def __init__(self, config, starter_content, twilio_standin):
        self.app = create_app(config)
        self.client = self.app.test_client()
        self.services = Services(config)
        self.services.__dict__["library"] = starter_content
        runtime.install(self.services)
        self.standin = twilio_standin
        self.ledger = config.erasure_ledger_path

    def say(self, phone: str, text: str) -> None:
        assert post_signed(self.client, inbound_form(text, phone=phone)).status_code == 200
        drain(self.services)

    def join(self, phone: str) -> None:
        self.say(phone, "hello")
        self.say(phone, "YES")

    def delete(self, phone: str) -> None:
        self.say(phone, "DELETE")
        asked = [b for b in self.standin.bodies_to(phone) if "DELETE" in b][-1]
        code = re.search(r"DELETE (\d{6})", asked).group(1)
        self.say(phone, f"DELETE {code}")

    def contacts(self) -> int:
        with self.services.db.session() as session:
            return session.scalar(select(func.count()).select_from(Contact))

    def replay(self):
        return self.app.test_cli_runner().invoke(args=["erasure", "replay"])

    def close(self) -> None:
        self.services.close()
        self.app.extensions["tumaini.services"].close()


@pytest.fixture()
def world(config, starter_content, twilio_standin):
    w = World(config, starter_content, twilio_standin)
    yield w
    w.close()


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines))


def test_a_forged_line_is_refused_loudly_and_never_erases_anyone(world):
    world.join(ALICE)
    world.join(BOB)
    world.delete(ALICE)
    assert world.contacts() == 1
    [line] = _lines(world.ledger)
    assert line["contact"] == world.services.pseudonymise(ALICE)

    # Someone with write access to the file turns Alice's line into one erasing Bob.
    forged = dict(line, contact=world.services.pseudonymise(BOB), since="2999-01-01T00:00:00+00:00")
    _write(world.ledger, [forged])
    result = world.replay()
    assert result.exit_code != 0
    assert "line 1: the line fails its integrity check" in result.output
    assert "could not be trusted" in result.output
    assert world.contacts() == 1, "Bob was never erased"
    assert BOB not in result.output and forged["contact"] not in result.output


def test_a_line_written_without_the_service_key_is_refused(world, config):
    """A line whose tag is computed under another HMAC_KEY (a guess, or another deployment's ledger)."""
    from core.erasure_ledger import ErasureLedger, ledger_key

    world.join(BOB)
    with world.services.db.session() as session:
        since = session.scalars(select(Contact.created_at)).one()
    ErasureLedger(world.ledger, ledger_key("some-other-deployments-hmac-key-0123456789")).append(
        world.services.pseudonymise(BOB), since, {"inbound": 1})
    result = world.replay()
    assert result.exit_code != 0 and "line 1: the line fails its integrity check" in result.output
    assert world.contacts() == 1


def test_a_line_taken_out_of_the_middle_breaks_the_chain(world):
    for phone in (ALICE, BOB, CAROL):
        world.join(phone)
        world.delete(phone)
    lines = _lines(world.ledger)
    assert len(lines) == 3 and [ln["prev"] for ln in lines[1:]] == [ln["mac"] for ln in lines[:2]]
    assert world.replay().exit_code == 0
    _write(world.ledger, [lines[0], lines[2]])  # Bob's erasure hidden
    result = world.replay()
    assert result.exit_code != 0
    assert "line 2: the chain is broken here" in result.output


def test_a_torn_last_line_is_reported_and_the_next_erasure_still_chains(world):
    world.join(ALICE)
    world.delete(ALICE)
    with open(world.ledger, "ab") as handle:
        handle.write(b'{"v":1,"at":"2026-')  # a write cut short by a crash
    world.join(BOB)
    world.delete(BOB)
    result = world.replay()
    assert result.exit_code != 0
    assert "line 2: the line is not valid JSON" in result.output
    assert "ledger" in result.output and "2 erasure(s) recorded" in result.output


def test_an_erasure_that_cannot_be_recorded_is_not_done_and_is_finished_later(config, starter_content, tmp_path,
                                                                             twilio_standin, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    bad = replace(config, ERASURE_LEDGER=str(blocker / "erasure-ledger.jsonl"))
    world = World(bad, starter_content, twilio_standin)
    try:
        world.join(ALICE)
        world.delete(ALICE)
        assert world.contacts() == 1, "not erased without its record"
        with world.services.db.session() as session:
            assert session.scalars(select(ErasureRequest.done_at)).all() == [None]
        assert any(r.getMessage() == "erasure.ledger_unwritable" for r in caplog.records)
        sweep(world.services)  # the sweeper carries on past it
        assert world.contacts() == 1
    finally:
        world.close()
    fixed = Services(config)
    runtime.install(fixed)
    try:
        sweep(fixed)
        with fixed.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Contact)) == 0
        [line] = _lines(config.erasure_ledger_path)
        assert line["contact"] == fixed.pseudonymise(ALICE)
    finally:
        fixed.close()

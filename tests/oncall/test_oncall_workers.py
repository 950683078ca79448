"""On call, end to end: the webhook, real ``python -m workers`` processes, the Twilio stand-in.

A person texts something imminent; the on-call number gets the alert SMS at once. Nobody
takes it within the (short, configured) time, so the backup is alerted, once, although two
workers run the ladder. The backup replies with the case number and owns the case. Needs
Redis and the database fixtures.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from bot import create_app
from bot.services import Services
from core.tables import AuditEvent, CaseAlert, Contact, Escalation
from tests.conftest import inbound_form, make_config, post_signed, wait_for

PERSON = "+254700000501"
ONCALL, BACKUP, SUPERVISOR = "+254711000001", "+254711000002", "+254711000003"


def _config(tmp_path: Path, database_url: str, redis_url: str, standin_url: str, **extra):
    return make_config(
        tmp_path,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        TWILIO_API_BASE=standin_url,
        ONCALL_NUMBERS=(ONCALL, BACKUP, SUPERVISOR),
        ONCALL_ACK_S=("imminent:3", "high:30"),
        SCHEDULE_TICK_S=1,
        SWEEP_INTERVAL_S=1,
        **extra,
    )


def test_imminent_case_alerts_on_call_then_backup_and_an_sms_reply_takes_it(
    tmp_path, database_url, redis_url, twilio_standin, spawn_worker
):
    config = _config(tmp_path, database_url, redis_url, twilio_standin.url)
    app = create_app(config)
    client = app.test_client()
    services = Services(config)
    spawn_worker(config)
    spawn_worker(config)  # two workers run the ladder: each rung must still be alerted once

    assert post_signed(client, inbound_form("I am going to kill myself tonight", phone=PERSON)).status_code == 200

    alert = wait_for(lambda: twilio_standin.bodies_to(ONCALL), timeout=60)[0]
    with services.db.session() as session:
        case = session.scalars(select(Escalation)).one()
        case_id, severity = case.id, case.severity
    assert severity == "imminent"
    assert f"case {case_id}" in alert and "IMMINENT" in alert and "suicide risk" in alert
    assert f"/portal/cases/{case_id}" in alert
    assert "kill" not in alert.lower() and PERSON not in alert and PERSON[1:] not in alert
    # The person still gets their crisis reply, and nobody else is alerted yet.
    wait_for(lambda: twilio_standin.bodies_to(PERSON))
    assert twilio_standin.bodies_to(BACKUP) == []

    backup_alert = wait_for(lambda: twilio_standin.bodies_to(BACKUP), timeout=30)[0]
    assert "NOT YET TAKEN" in backup_alert and f"case {case_id}" in backup_alert

    # The backup takes it by replying with the case number.
    assert post_signed(client, inbound_form(f"ok {case_id}", phone=BACKUP)).status_code == 200
    confirmation = wait_for(lambda: [b for b in twilio_standin.bodies_to(BACKUP) if "is yours" in b], timeout=30)
    assert re.search(rf"Case {case_id} is yours", confirmation[0])
    with services.db.session() as session:
        case = session.get(Escalation, case_id)
        assert case.acknowledged_via == "sms" and case.acknowledged_at is not None
        # The staff phone never became a person the service supports.
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        assert (
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.acknowledged"))
            == 1
        )

    # Taken: the supervisor is never alerted, and no rung was alerted twice.
    import time

    time.sleep(4)
    assert twilio_standin.bodies_to(SUPERVISOR) == []
    assert len(twilio_standin.bodies_to(ONCALL)) == 1
    assert len([b for b in twilio_standin.bodies_to(BACKUP) if "NOT YET TAKEN" in b]) == 1
    with services.db.session() as session:
        rungs = sorted(session.scalars(select(CaseAlert.tier).where(CaseAlert.escalation_id == case_id)))
    assert rungs == [1, 2]
    services.close()
    app.extensions["tumaini.services"].close()

"""On call in the portal: staff numbers, the rota, "I'm on it", owners, and the case list.

Needs Redis and the database fixtures; alerts go out through the real sending path to the
local Twilio stand-in.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.tables import AuditEvent, CaseAlert, Escalation, utcnow
from tests.conftest import drain, inbound_form, post_signed
from tests.portal.conftest import sqlite_only
from tests.portal.test_portal_browser_flow import chromium, served  # noqa: F401  (fixtures)

WANJIRU_PHONE = "+254722000101"
OMAR_PHONE = "+254722000102"


def _local(moment) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Africa/Nairobi")).strftime("%Y-%m-%dT%H:%M")


def test_the_rota_decides_who_is_alerted_and_the_list_shows_words_and_owner(
    portal_app, sign_in, make_user, services, twilio_standin
):
    admin, admin_user = sign_in("admin")
    wanjiru = make_user("health_worker", name="Wanjiru")
    omar = make_user("health_worker", name="Omar")
    for person, phone in ((wanjiru, WANJIRU_PHONE), (omar, OMAR_PHONE)):
        response = admin.post(f"/portal/oncall/phone/{person.id}", {"phone": phone})
        assert response.status_code == 302
    refused = admin.post(f"/portal/oncall/phone/{omar.id}", {"phone": "0722"}, follow_redirects=True)
    assert "international form" in refused.get_data(as_text=True)
    now = utcnow()
    response = admin.post(
        "/portal/oncall/shifts",
        {
            "region": "demo",
            "starts": _local(now - timedelta(hours=1)),
            "ends": _local(now + timedelta(hours=8)),
            "oncall": str(wanjiru.id),
            "backup": str(omar.id),
            "supervisor": "",
        },
    )
    assert response.status_code == 302
    page = admin.get("/portal/oncall/").get_data(as_text=True)
    assert "Wanjiru" in page and "…101" in page and WANJIRU_PHONE not in page

    client = portal_app.test_client()
    body = "I am going to kill myself tonight, call me on 0712 345 678"
    assert post_signed(client, inbound_form(body, phone="+254700000777")).status_code == 200
    drain(services)
    alerts = twilio_standin.bodies_to(WANJIRU_PHONE)
    assert len(alerts) == 1 and "suicide risk" in alerts[0]
    assert twilio_standin.bodies_to(OMAR_PHONE) == []  # the backup waits for the ladder
    with services.db.session() as session:
        assert session.scalars(select(Escalation.severity)).one() == "imminent"
        assert session.scalars(select(CaseAlert.user_id)).all() == [wanjiru.id]

    listing = admin.get("/portal/cases/").get_data(as_text=True)
    assert "suicide risk" in listing and "nobody yet" in listing
    assert "en.suicide.kill_myself" not in listing and "combo:" not in listing
    assert "kill myself tonight" in listing and "345" not in listing  # a safe preview: numbers hidden


def test_im_on_it_makes_one_owner_and_others_see_them(portal_app, sign_in, make_case, services):
    _person, case = make_case(severity="high")
    first, first_user = sign_in("health_worker", name="Achieng")
    second, _second_user = sign_in("health_worker", name="Baraka")
    first.get(f"/portal/cases/{case.id}")
    assert first.post(f"/portal/cases/{case.id}/take").status_code == 302
    page = second.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert "Achieng" in page and "I&#39;m on it" not in page and "I'm on it" not in page
    taken = second.post(f"/portal/cases/{case.id}/take", follow_redirects=True).get_data(as_text=True)
    assert "Achieng owns this case" in taken
    refused = second.post(
        f"/portal/cases/{case.id}/reply/send", {"text": "Hello, I am Baraka."}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Achieng owns this case" in refused
    first.post(f"/portal/cases/{case.id}/reply/send", {"text": "Hello, I am Achieng."})
    with services.db.session() as session:
        stored = session.get(Escalation, case.id)
        assert stored.owner_id == first_user.id and stored.acknowledged_via == "portal"
        assert stored.first_reply_at is not None
        acks = session.scalars(select(AuditEvent).where(AuditEvent.action == "case.acknowledged")).all()
        assert len(acks) == 1 and acks[0].actor == str(first_user.id)


def test_the_owner_hands_the_conversation_back_to_the_bot(portal_app, sign_in, make_case, services):
    from workers.handoff import case_for_turn

    _person, case = make_case(severity="high")
    owner, _user = sign_in("health_worker", name="Achieng")
    other, _other = sign_in("health_worker", name="Baraka")
    page = owner.get(f"/portal/cases/{case.id}").get_data(as_text=True)
    assert "Hand back to the bot" in page
    owner.post(f"/portal/cases/{case.id}/reply/send", {"text": "Hello, I am Achieng."})
    config = services.config
    with services.db.session() as session:
        assert case_for_turn(session, config, case.contact_id, utcnow()) == "with_staff"
    refused = other.post(f"/portal/cases/{case.id}/hand-back", follow_redirects=True).get_data(as_text=True)
    assert "Achieng owns this case" in refused
    done = owner.post(f"/portal/cases/{case.id}/hand-back", follow_redirects=True).get_data(as_text=True)
    assert "The bot answers this person again." in done
    with services.db.session() as session:
        assert case_for_turn(session, config, case.contact_id, utcnow()) == "open"
        assert session.get(Escalation, case.id).status == "open"


@sqlite_only
def test_the_case_list_fits_a_412_px_phone(portal_app, make_user, make_case, chromium, served):  # noqa: F811
    from tests.portal.test_portal_browser_flow import Page

    long_words = "Nimechoka sana na maisha haya yote " * 6 + "https://example.org/" + "x" * 80
    for severity in ("imminent", "high", "concern"):
        _person, case = make_case(severity=severity, inbound=long_words)
        with portal_app.extensions["tumaini.services"].db.session() as session:
            session.get(Escalation, case.id).reason = ",".join(
                ["combo:suicide+time", "en.suicide.kill_myself_with_a_very_long_rule_identifier"] * 4
            )
    worker = make_user("health_worker", name="Wanjiru")
    tab = Page(chromium, served)
    tab.context.close()
    tab.context = chromium.new_context(viewport={"width": 412, "height": 915}, device_scale_factor=1)
    tab.page = tab.context.new_page()
    tab.sign_in(worker.email)
    for path in ("/portal/cases/", "/portal/oncall/"):
        tab.go(path)
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 412, f"{path} scrolls sideways on a 412 px phone ({width} px)"
    tab.go("/portal/cases/")
    assert tab.page.locator("ol.cases li").first.locator(".preview").inner_text().startswith("Nimechoka")
    assert "suicide risk" in tab.page.locator("ol.cases").inner_text()
    tab.shot("portal-case-list-412.png")


def test_reports_and_metrics_show_response_times_and_breaches(portal_app, sign_in, services):
    from prometheus_client.parser import text_string_to_metric_families

    now = utcnow()
    opened = now - timedelta(hours=2)
    five = timedelta(minutes=5)
    with services.db.session() as session:
        for acked, replied in (
            (timedelta(minutes=2), timedelta(minutes=4)),
            (timedelta(minutes=10), None),
            (None, None),
        ):
            session.add(
                Escalation(
                    severity="imminent",
                    reason="",
                    region="demo",
                    opened_at=opened,
                    ack_due_at=opened + five,
                    acknowledged_at=opened + acked if acked else None,
                    first_reply_at=opened + replied if replied else None,
                    alert_tier=1,
                )
            )
        session.add(Escalation(severity="concern", reason="", region="demo", opened_at=opened))  # never alerted
    browser, _user = sign_in("health_worker")
    page = browser.get("/portal/reports?days=7").get_data(as_text=True)
    assert "Response to cases, per week and region" in page
    table = page[page.index('id="response-times"') : page.index("</table>", page.index('id="response-times"'))]
    assert "<td>demo</td><td>3</td>" in table.replace("\n", "").replace("  ", "")
    assert "6.0 min · 10.0 min" in table  # median of 2 and 10 minutes, and the longest
    assert "4.0 min · 4.0 min" in table
    assert '<strong class="warn">2</strong>' in table
    import csv
    import io

    rows = list(csv.reader(io.StringIO(browser.get("/portal/reports.csv?days=7").get_data(as_text=True))))
    figures = {(r[0], r[2]): r[3] for r in rows}
    assert figures[("cases_breached", "demo")] == "2" and figures[("ack_median_seconds", "demo")] == "360"

    families = {
        f.name: f
        for f in text_string_to_metric_families(portal_app.test_client().get("/metrics").get_data(as_text=True))
    }
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert values[("tumaini_cases_alerted", (("region", "demo"),))] == 3
    assert values[("tumaini_cases_breached", (("region", "demo"),))] == 2
    assert values[("tumaini_case_time_to_acknowledge_seconds", (("region", "demo"), ("stat", "median")))] == 360
    assert values[("tumaini_case_time_to_first_reply_seconds", (("region", "demo"), ("stat", "max")))] == 240
    assert values[("tumaini_cases_unacknowledged", (("region", "demo"),))] == 1

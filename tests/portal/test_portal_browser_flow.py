"""A real browser through the review workflow, then a person receiving the approved text.

Headless Chromium (Debian's package) driven by Playwright against the app served on a
loopback port: a curator edits a message and watches the SMS segment count change as
they type, submits it; a reviewer approves it; a person who then writes in receives
the new wording, through the webhook, the worker and the Twilio stand-in. Screenshots
of the editor and of the escalation queue at a 360 px wide phone viewport are saved
under test-artifacts/ for people to look at.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.conftest import drain, inbound_form, post_signed, service_missing
from tests.portal.conftest import PASSWORD, TOTP_SECRETS, sqlite_only, totp_code

pytestmark = [pytest.mark.browser, sqlite_only]

CHROMIUM = Path(os.environ.get("TUMAINI_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
NEW_WELCOME = (
    "Hello, this is Tumaini: free automated tips for stress and low mood. "
    "I'm not a person, a therapist or an emergency service."
)


@pytest.fixture()
def served(portal_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, portal_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture()
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        service_missing(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Page:
    """One signed-in person's browser tab, failing the test on any script or CSP error."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(viewport=PHONE, device_scale_factor=1)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(15_000)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_in(self, email: str) -> None:
        self.go("/portal/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit].primary")
        if self.page.url.endswith("/portal/login/code"):  # admins and health workers: a one-time code
            secret = self.page.locator(".totp-secret").get_attribute("data-secret")
            if secret:
                TOTP_SECRETS[email.lower()] = secret
            self.page.fill("input[name=code]", totp_code(email.lower()))
            self.page.click("button[type=submit].primary")
        self.page.wait_for_url(self.base + "/portal/")

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


def test_edit_review_approve_and_a_person_receives_the_new_text(
    portal_app, library_in_db, make_user, make_case, served, chromium, services, twilio_standin
):
    from playwright.sync_api import expect

    from workers import runtime

    curator = make_user("curator", name="Ana Curator")
    reviewer = make_user("reviewer", name="Rev Reviewer")

    ana = Page(chromium, served)
    ana.sign_in(curator.email)
    ana.go("/portal/content/onboarding.welcome/en/edit")
    summary = ana.page.locator("#sms-segments [data-field=summary]")
    assert "1 segment" in summary.inner_text()
    ana.page.fill("#sms", NEW_WELCOME + " " + "Reply MENU any time to see the topics we can talk about." * 2)
    expect(summary).to_have_text(re.compile(r"^2 segments · GSM-7"))
    ana.page.fill("#sms", NEW_WELCOME + " \U0001f60a")
    expect(ana.page.locator("#sms-segments [data-field=ucs2]")).to_be_visible()
    expect(summary).to_have_text(re.compile(r"^2 segments · UCS-2"))
    ana.page.fill("#sms", NEW_WELCOME)
    expect(summary).to_have_text(re.compile(r"^1 segment · GSM-7"))
    editor_shot = ana.shot("portal-content-editor-360.png")
    ana.page.click("#editor button[type=submit]")
    ana.page.wait_for_url(served + "/portal/content/onboarding.welcome/en/2")
    assert "1 segment" in ana.page.locator("#sms-segments").inner_text()  # the preview without script
    ana.page.click("text=Submit for review")
    ana.page.wait_for_selector(".badge.in_review")

    rev = Page(chromium, served)
    rev.sign_in(reviewer.email)
    rev.go("/portal/content/?status=in_review")
    rev.page.click("a.loc:has-text('en v2')")
    rev.page.fill("form[action$='/approve'] textarea", "Kind and clear.")
    rev.page.click("form[action$='/approve'] button")
    rev.page.wait_for_selector(".flash.ok")
    assert rev.page.locator("h1 .badge").inner_text() == "approved"

    # The worker serves the approved version as soon as it is approved, then a person writes in.
    runtime.install(services)
    client = portal_app.test_client()
    assert post_signed(client, inbound_form("Hi", phone="+254711000222")).status_code == 200
    drain(services)
    assert twilio_standin.bodies_to("+254711000222")[0] == NEW_WELCOME

    worker = make_user("health_worker", name="Wanjiru")
    for severity, words in [("concern", "I can't sleep"), ("imminent", "I want to end it"), ("high", "no hope")]:
        make_case(severity=severity, inbound=words)
    hw = Page(chromium, served)
    hw.sign_in(worker.email)
    hw.go("/portal/cases/")
    queue_shot = hw.shot("portal-escalation-queue-360.png")
    severities = hw.page.locator("ol.cases .sev").all_inner_texts()
    assert severities == ["imminent", "high", "concern"]
    page_width = hw.page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], "the queue must not scroll sideways on a phone"

    for tab in (ana, rev, hw):
        assert not [e for e in tab.errors if "Content Security Policy" in e or "Uncaught" in e], tab.errors
    assert editor_shot.stat().st_size > 5_000 and queue_shot.stat().st_size > 5_000


def test_the_portal_works_without_javascript(portal_app, library_in_db, make_user, served, chromium):
    curator = make_user("curator")
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(served + "/portal/login")
    page.fill("input[name=email]", curator.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.goto(served + "/portal/content/menu.invalid/en/edit")
    page.fill("#sms", "Sorry, " + "that is not one of the choices. " * 6)
    page.click("#editor button[type=submit]")
    assert page.url.endswith("/portal/content/menu.invalid/en/2")
    assert "2 segments" in page.locator("#sms-segments").inner_text()
    context.close()


def test_an_admin_retries_a_refused_reply_from_the_failed_work_page(
    portal_app, make_user, served, chromium, services, twilio_standin
):
    from sqlalchemy import select

    from bot.simulator.twilio_api import Scripted
    from core.tables import OutboxMessage, OutboxStatus

    phone = "+254711000333"
    twilio_standin.store.script(Scripted(400, 21211, "Invalid 'To' Phone Number"))
    assert post_signed(portal_app.test_client(), inbound_form("Hi", phone=phone)).status_code == 200
    drain(services)
    with services.db.session() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)).one()
        row_id, body = row.id, services.cipher.decrypt(row.body_enc, b"body")
    assert body not in twilio_standin.bodies_to(phone)

    admin = make_user("admin", name="Amina Admin")
    tab = Page(chromium, served)
    tab.sign_in(admin.email)
    tab.page.click("nav >> text=Failed work")
    item = tab.page.locator(f"#outbox-{row_id}")
    assert "Twilio error 21211" in item.inner_text()
    shot = tab.shot("portal-failed-work-360.png")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    item.locator("button", has_text="Retry").click()
    tab.page.wait_for_selector(".flash.ok")
    assert tab.page.locator(f"#outbox-{row_id}").count() == 0
    drain(services)
    assert twilio_standin.bodies_to(phone).count(body) == 1
    assert not [e for e in tab.errors if "Content Security Policy" in e or "Uncaught" in e], tab.errors
    assert shot.stat().st_size > 5_000

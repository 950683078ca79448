"""Fixtures for the portal: the app with the portal mounted, staff accounts, sign-in, content.

Builds on the shared chain (config -> app -> client) with its real databases (SQLite and
PostgreSQL), real Redis and the local Twilio stand-in. The starter library is read once
per session and handed to the app, and loaded into the database only by tests that need it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.portal.accounts import create_user
from bot.portal.models import User
from core.tables import Contact, Escalation, InboundMessage, OutboxMessage
from translation.base import Translation, Translator

PASSWORD = "correct horse battery"
FAST_HASH = "pbkdf2:sha256:1000"  # production uses scrypt; tests need not pay for it every sign-in
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOTP_SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')
# Authenticator secrets seen at enrolment, and the newest time step each account used, by email.
TOTP_SECRETS: dict[str, str] = {}
TOTP_LAST_STEP: dict[str, int] = {}


def totp_code(email: str) -> str:
    """The code an authenticator app would show, never one this account already used."""
    import time

    import pyotp

    current = int(time.time() // 30)
    step = max(current - 1, TOTP_LAST_STEP.get(email, -1) + 1)
    if step > current + 1:
        time.sleep((step - 1) * 30 - time.time() + 0.1)
    TOTP_LAST_STEP[email] = step
    return pyotp.TOTP(TOTP_SECRETS[email]).at(step * 30)

# For tests whose subject does not depend on the database engine: run them on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture()
def portal_app(app: Any, starter_content: Any, tmp_path: Any) -> Any:
    """The app with the portal mounted (once the factory mounts it, this only reuses it).

    MODELS_DIR is an empty folder: no translation model is installed unless a test installs one.
    """
    import bot.portal

    if "portal" not in app.blueprints:
        bot.portal.init_app(app)
    app.extensions["tumaini.services"].__dict__["library"] = starter_content
    app.config["MODELS_DIR"] = str(tmp_path / "no-models")
    app.config["PORTAL_PASSWORD_HASH"] = FAST_HASH
    return app


@pytest.fixture()
def portal_client(portal_app: Any) -> Any:
    return portal_app.test_client()


@pytest.fixture()
def make_user(portal_app: Any) -> Callable[..., User]:
    """Create an account: make_user("curator") or make_user("admin", email=..., locale="sw")."""
    database = portal_app.extensions["tumaini.services"].db
    counter = iter(range(1, 1000))

    def make(role: str, email: str | None = None, name: str = "", locale: str = "en") -> User:
        with portal_app.app_context(), database.session() as session:
            user = create_user(
                session,
                email or f"{role}{next(counter)}@example.org",
                PASSWORD,
                role,
                name=name or role.replace("_", " ").title(),
                locale=locale,
            )
            session.expunge(user)
        return user

    return make


def csrf_from(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


class Browser:
    """A test client that signs in and posts forms with the page's CSRF token, as a browser would."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.client.get(path, **kwargs)
        match = CSRF.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if not self.token:
            self.get("/portal/login")
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        """Sign in, giving the one-time code (and enrolling an authenticator) when the role needs one."""
        self.get("/portal/login")
        response = self.post("/portal/login", {"email": email, "password": password})
        if response.status_code == 302 and response.location.endswith("/portal/login/code"):
            page = self.get("/portal/login/code").get_data(as_text=True)
            match = TOTP_SECRET.search(page)
            if match:
                TOTP_SECRETS[email.lower()] = match.group(1)
            response = self.post("/portal/login/code", {"code": totp_code(email.lower())})
        self.get("/portal/")
        return response


@pytest.fixture()
def browser(portal_client: Any) -> Browser:
    return Browser(portal_client)


@pytest.fixture()
def sign_in(portal_app: Any, make_user: Callable[..., User]) -> Callable[..., tuple[Browser, User]]:
    """A new client signed in as a new user of ``role``: browser, user = sign_in("reviewer")."""

    def login(role: str, **kwargs: Any) -> tuple[Browser, User]:
        user = make_user(role, **kwargs)
        b = Browser(portal_app.test_client())
        response = b.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return b, user

    return login


# The items the tests work with; the rest of the library still serves from YAML (the database
# store and the checks fall back to it), so loading only these keeps each test's setup short.
LOADED_PREFIXES = ("menu.", "onboarding.", "crisis.", "module.sleep.", "module.breathing.")


@pytest.fixture()
def library_in_db(portal_app: Any, starter_content: Any) -> None:
    """Part of the starter library in the database, as ``flask --app bot content load`` puts it,
    with its Swahili as a deployment's own translation still under review (drafts), which is
    what these workflow tests review, comment on and sign off."""
    from dataclasses import replace

    from content.db import load_library_into
    from content.schema import Status

    def swahili_drafts(message: Any) -> Any:
        return replace(message, texts=tuple(replace(t, status=Status.DRAFT) if t.locale == "sw" else t
                                            for t in message.texts))

    library = starter_content.library
    part = replace(library, messages=tuple(swahili_drafts(m) for m in library.messages
                                           if m.id.startswith(LOADED_PREFIXES)))
    with portal_app.extensions["tumaini.services"].db.session() as session:
        load_library_into(session, part)


@dataclass
class Person:
    contact_id: int
    phone: str


@pytest.fixture()
def make_case(portal_app: Any) -> Callable[..., tuple[Person, Escalation]]:
    """A person with a short conversation (one inbound, one bot reply) and an open case."""
    services = portal_app.extensions["tumaini.services"]
    counter = iter(range(100, 999))

    def make(
        severity: str = "high",
        locale: str = "en",
        inbound: str = "I feel hopeless",
        outbound: str = "You are not alone.",
        channel: str = "sms",
        phone: str | None = None,
    ) -> tuple[Person, Escalation]:
        from core.outbox import body_digest

        phone = phone or f"+2547000{next(counter):05d}"
        c = services.cipher
        with services.db.session() as session:
            contact = Contact(
                phone_hash=services.pseudonymise(phone),
                phone_enc=c.encrypt(phone, b"phone"),
                channel=channel,
                locale=locale,
                state={},
                consent_version="onboarding.consent@1",
            )
            session.add(contact)
            session.flush()
            message = InboundMessage(
                message_sid=f"SM{contact.id:032d}",
                channel=channel,
                from_hash=contact.phone_hash,
                from_enc=contact.phone_enc,
                to_address="+15550009999",
                body_enc=c.encrypt(inbound, b"body"),
                status="done",
                contact_id=contact.id,
            )
            session.add(message)
            session.flush()
            session.add(
                OutboxMessage(
                    contact_id=contact.id,
                    inbound_id=message.id,
                    channel=channel,
                    body_enc=c.encrypt(outbound, b"body"),
                    body_sha256=body_digest(outbound),
                    content_ref="crisis.immediate@1",
                    locale=locale,
                    kind="crisis",
                    status="sent",
                )
            )
            escalation = Escalation(
                contact_id=contact.id, inbound_id=message.id, severity=severity, reason="rule:hopeless"
            )
            session.add(escalation)
            session.flush()
            session.expunge(escalation)
            return Person(contact.id, phone), escalation

    return make


class DictionaryTranslator(Translator):
    """A stand-in for an installed model: translates known sentences between given pairs."""

    def __init__(self, pairs: dict[tuple[str, str], dict[str, str]]) -> None:
        self.pairs = pairs
        self.calls: list[tuple[list[str], str, str, bool]] = []

    def supports(self, src: str, tgt: str) -> bool:
        return (src, tgt) in self.pairs

    def version(self, src: str, tgt: str) -> str:
        return "dictionary-1"

    def translate_batch(self, texts: list[str], src: str, tgt: str, *, cacheable: bool = False) -> list[Translation]:
        self.calls.append((list(texts), src, tgt, cacheable))
        table = self.pairs[(src, tgt)]
        return [Translation(table.get(t, f"[{tgt}] {t}"), 0.9, True) for t in texts]


@pytest.fixture()
def install_translator(portal_app: Any) -> Iterator[Callable[[DictionaryTranslator], None]]:
    from translation.app import EXTENSION_KEY

    def install(translator: DictionaryTranslator) -> None:
        portal_app.extensions[EXTENSION_KEY] = translator

    yield install
    portal_app.extensions.pop(EXTENSION_KEY, None)


def outbox_for(portal_app: Any, contact_id: int) -> list[OutboxMessage]:
    with portal_app.extensions["tumaini.services"].db.session() as session:
        rows = list(
            session.scalars(
                select(OutboxMessage).where(OutboxMessage.contact_id == contact_id).order_by(OutboxMessage.id)
            )
        )
        for row in rows:
            session.expunge(row)
    return rows


def version_id(portal_app: Any, item_id: str, locale: str, version: int) -> int:
    """The database id of one version (forms post to /portal/content/version/<id>/...)."""
    from content.db import ContentVersion

    with portal_app.extensions["tumaini.services"].db.session() as session:
        return session.scalars(
            select(ContentVersion.id).where(
                ContentVersion.item_id == item_id, ContentVersion.locale == locale, ContentVersion.version == version
            )
        ).one()

"""Staff sign-in: no lockout by strangers, a second factor for those who read conversations,
sign-out that ends the session on the server, and password hashes kept current."""

from __future__ import annotations

from dataclasses import replace

import pytest
from werkzeug.security import generate_password_hash

from bot import create_app
from bot.portal.models import User
from tests.portal.conftest import (
    FAST_HASH,
    PASSWORD,
    TOTP_LAST_STEP,
    TOTP_SECRETS,
    Browser,
    sqlite_only,
    totp_code,
)


def _attempt(app, email, password, address, client=None):
    b = Browser(client or app.test_client())
    b.get("/portal/login")
    return b.client.post(
        "/portal/login",
        data={"csrf_token": b.token, "email": email, "password": password},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": address},
    )


@pytest.fixture()
def proxied_app(config, starter_content, tmp_path):
    """The app as install.sh runs it: behind one proxy (nginx) that names the client."""
    import bot.portal

    app = create_app(replace(config, PROXY_HOPS=1))
    if "portal" not in app.blueprints:
        bot.portal.init_app(app)
    app.extensions["tumaini.services"].__dict__["library"] = starter_content
    app.config["PORTAL_PASSWORD_HASH"] = FAST_HASH
    yield app
    app.extensions["tumaini.services"].close()


def _user(app, role, email):
    from bot.portal.accounts import create_user

    with app.app_context(), app.extensions["tumaini.services"].db.session() as session:
        create_user(session, email, PASSWORD, role)


@sqlite_only
def test_a_strangers_failures_behind_the_proxy_do_not_lock_the_real_user_out(proxied_app):
    _user(proxied_app, "curator", "amina@example.org")
    for _ in range(6):
        assert _attempt(proxied_app, "amina@example.org", "guess-guess-1", "203.0.113.7").status_code in (401, 429)
    assert _attempt(proxied_app, "amina@example.org", PASSWORD, "203.0.113.7").status_code == 429
    # Amina, at the clinic's own address, still signs in.
    assert _attempt(proxied_app, "amina@example.org", PASSWORD, "198.51.100.20").status_code == 302


@sqlite_only
def test_one_address_trying_many_accounts_is_throttled(proxied_app):
    for n in range(30):
        _attempt(proxied_app, f"nobody{n}@example.org", "guess-guess-1", "203.0.113.9")
    _user(proxied_app, "curator", "baraka@example.org")
    # The right password for a fresh account, from that address, waits too.
    assert _attempt(proxied_app, "baraka@example.org", PASSWORD, "203.0.113.9").status_code == 429
    assert _attempt(proxied_app, "baraka@example.org", PASSWORD, "198.51.100.21").status_code == 302


@sqlite_only
def test_a_guess_spread_over_many_addresses_is_throttled_except_in_a_browser_that_signed_in_before(proxied_app):
    _user(proxied_app, "curator", "chausiku@example.org")
    own = proxied_app.test_client()
    assert _attempt(proxied_app, "chausiku@example.org", PASSWORD, "198.51.100.22", client=own).status_code == 302
    own_browser = Browser(own)
    own_browser.get("/portal/")
    own_browser.post("/portal/logout")
    for n in range(20):
        _attempt(proxied_app, "chausiku@example.org", "guess-guess-1", f"203.0.113.{n + 10}")
    assert _attempt(proxied_app, "chausiku@example.org", PASSWORD, "198.51.100.99").status_code == 429
    own_browser.get("/portal/login")
    response = own.post(
        "/portal/login",
        data={"csrf_token": own_browser.token, "email": "chausiku@example.org", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.22"},
    )
    assert response.status_code == 302 and response.location.endswith("/portal/")


@sqlite_only
@pytest.mark.parametrize("role", ["admin", "health_worker"])
def test_roles_that_read_conversations_need_a_one_time_code(portal_app, make_user, role):
    user = make_user(role)
    b = Browser(portal_app.test_client())
    b.get("/portal/login")
    response = b.post("/portal/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/portal/login/code")
    # The password alone opens nothing.
    assert b.get("/portal/cases/").status_code == 302
    enrol = b.get("/portal/login/code").get_data(as_text=True)
    assert "data-secret=" in enrol and "otpauth://totp/" in enrol
    assert b.post("/portal/login/code", {"code": "000000"}).status_code == 401
    assert b.get("/portal/cases/").status_code == 302
    # The code from the authenticator signs in.
    b2 = Browser(portal_app.test_client())
    assert b2.login(user.email).status_code == 302
    assert b2.get("/portal/cases/").status_code == 200


@sqlite_only
def test_a_used_code_cannot_be_replayed(portal_app, make_user):
    user = make_user("health_worker")
    first = Browser(portal_app.test_client())
    first.login(user.email)
    used = totp_code(user.email)  # the newest step: recorded as used below
    import pyotp

    step = TOTP_LAST_STEP[user.email]
    code = pyotp.TOTP(TOTP_SECRETS[user.email]).at(step * 30)
    assert code == used
    second = Browser(portal_app.test_client())
    assert second.login(user.email).status_code == 302  # consumes ``step``
    third = Browser(portal_app.test_client())
    third.get("/portal/login")
    third.post("/portal/login", {"email": user.email, "password": PASSWORD})
    assert third.post("/portal/login/code", {"code": code}).status_code == 401


@sqlite_only
def test_curators_and_reviewers_sign_in_with_the_password(portal_app, make_user):
    b = Browser(portal_app.test_client())
    b.get("/portal/login")
    response = b.post("/portal/login", {"email": make_user("reviewer").email, "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/portal/")


@sqlite_only
def test_a_copied_cookie_is_worthless_after_sign_out(portal_app, sign_in):
    b, _user = sign_in("health_worker")
    assert b.get("/portal/cases/").status_code == 200
    cookie = b.client.get_cookie("session").value
    b.post("/portal/logout")
    thief = portal_app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/portal/cases/")
    assert response.status_code == 302 and "/portal/login" in response.location


@sqlite_only
def test_an_old_password_hash_is_upgraded_at_sign_in(portal_app, make_user):
    portal_app.config.pop("PORTAL_PASSWORD_HASH")
    user = make_user("reviewer")
    database = portal_app.extensions["tumaini.services"].db
    with database.session() as session:
        session.get(User, user.id).password_hash = generate_password_hash(PASSWORD, "scrypt:16384:8:1")
    assert Browser(portal_app.test_client()).login(user.email).status_code == 302
    with database.session() as session:
        stored = session.get(User, user.id).password_hash
    assert stored.startswith("scrypt:131072:8:1$")


@sqlite_only
def test_an_admin_resets_a_lost_authenticator_from_the_command_line(portal_app, make_user):
    user = make_user("health_worker")
    assert Browser(portal_app.test_client()).login(user.email).status_code == 302
    result = portal_app.test_cli_runner().invoke(args=["users", "reset-2fa", "--email", user.email])
    assert result.exit_code == 0, result.output
    b = Browser(portal_app.test_client())
    b.get("/portal/login")
    b.post("/portal/login", {"email": user.email, "password": PASSWORD})
    assert "data-secret=" in b.get("/portal/login/code").get_data(as_text=True)  # enrols again

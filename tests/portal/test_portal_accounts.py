"""Staff accounts: the users CLI, signing in, rate limiting, session expiry."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.portal.accounts import authenticate, create_user
from bot.portal.errors import AccountError, LoginRefused
from bot.portal.models import User
from core.tables import AuditEvent
from tests.portal.conftest import PASSWORD, Browser, sqlite_only


def test_users_create_makes_the_first_admin_from_stdin_and_they_can_sign_in(portal_app, browser):
    runner = portal_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Boss@Example.org",
            "--role",
            "admin",
            "--name",
            "Amina",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.org" in result.output
    response = browser.login("boss@example.org", "a long enough password")
    assert response.status_code == 302
    page = browser.get("/portal/").get_data(as_text=True)
    assert "Welcome, Amina" in page and "Accounts" in page


@sqlite_only
def test_users_create_prompts_twice_and_refuses_short_passwords_and_duplicates(portal_app):
    runner = portal_app.test_cli_runner()
    ok = runner.invoke(
        args=["users", "create", "--email", "c@example.org", "--role", "curator"],
        input="password-one-two\npassword-one-two\n",
    )
    assert ok.exit_code == 0, ok.output
    short = runner.invoke(
        args=["users", "create", "--email", "d@example.org", "--role", "curator", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    again = runner.invoke(
        args=["users", "create", "--email", "C@example.org", "--role", "reviewer", "--password-stdin"],
        input="password-one-two\n",
    )
    assert again.exit_code != 0 and "already exists" in again.output
    listed = runner.invoke(args=["users", "list"])
    assert "c@example.org\tcurator\tactive" in listed.output and "d@example.org" not in listed.output


@sqlite_only
def test_passwords_are_stored_as_slow_salted_hashes_never_in_clear(portal_app, make_user):
    portal_app.config.pop("PORTAL_PASSWORD_HASH")
    first, second = make_user("reviewer"), make_user("reviewer")
    with portal_app.extensions["tumaini.services"].db.session() as session:
        hashes = [session.get(User, u.id).password_hash for u in (first, second)]
    assert all(PASSWORD not in h and h.startswith("scrypt:131072:8:1$") for h in hashes)
    assert hashes[0] != hashes[1]  # salted: the same password never hashes the same


@sqlite_only
def test_wrong_password_and_unknown_email_get_the_same_answer(portal_app, make_user, browser):
    user = make_user("curator")
    wrong = browser.post("/portal/login", {"email": user.email, "password": "not the password"})
    unknown = browser.post("/portal/login", {"email": "nobody@example.org", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.get_data(as_text=True)
    assert "Wrong email or password." in unknown.get_data(as_text=True)


@sqlite_only
def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(portal_app, make_user, browser):
    user = make_user("health_worker")
    for _ in range(5):
        assert browser.post("/portal/login", {"email": user.email, "password": "guess-guess-guess"}).status_code == 401
    locked = browser.post("/portal/login", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # Another address is not locked out by these failures.
    other = Browser(portal_app.test_client())
    other.get("/portal/login")
    response = other.client.post(
        "/portal/login",
        data={"csrf_token": other.token, "email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert response.status_code == 302


@sqlite_only
def test_failed_login_keys_in_redis_hold_no_email(portal_app, make_user, browser):
    user = make_user("reviewer", email="secret.person@example.org")
    browser.post("/portal/login", {"email": user.email, "password": "wrong-wrong-wrong"})
    redis = portal_app.extensions["tumaini.services"].redis
    keys = [k.decode() for k in redis.keys("portal:*")]
    assert len(keys) == 3  # this account from this address, this address, this account
    assert all("secret" not in k and "example" not in k and "127.0.0.1" not in k for k in keys)
    assert all(0 < redis.ttl(k) <= 900 for k in keys)


@sqlite_only
def test_a_successful_sign_in_clears_the_failure_count(portal_app, make_user, browser):
    user = make_user("reviewer")
    for _ in range(4):
        browser.post("/portal/login", {"email": user.email, "password": "wrong-wrong-wrong"})
    assert browser.login(user.email).status_code == 302
    browser.post("/portal/logout")
    for _ in range(4):  # four more typos do not add up with the four before the sign-in
        browser.post("/portal/login", {"email": user.email, "password": "wrong-wrong-wrong"})
    assert browser.login(user.email).status_code == 302


@sqlite_only
def test_pages_need_sign_in_and_come_back_after_it(portal_app, make_user, browser):
    user = make_user("curator")
    response = browser.get("/portal/content/?q=sleep")
    assert response.status_code == 302 and "/portal/login?next=/portal/content/?q%3Dsleep" in response.location
    browser.get(response.location)
    after = browser.post(
        "/portal/login", {"email": user.email, "password": PASSWORD, "next": "/portal/content/?q=sleep"}
    )
    assert after.location == "/portal/content/?q=sleep"


@sqlite_only
@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x", "/simulator/"])
def test_sign_in_never_redirects_outside_the_portal(make_user, browser, target):
    user = make_user("curator")
    browser.get("/portal/login")
    response = browser.post("/portal/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert response.location == "/portal/"


@sqlite_only
def test_an_idle_session_ends_after_the_timeout(sign_in):
    b, _user = sign_in("curator")
    assert b.get("/portal/content/").status_code == 200
    with b.client.session_transaction() as session:
        session["seen"] = int(time.time()) - 31 * 60
    response = b.get("/portal/content/")
    assert response.status_code == 302 and "/portal/login" in response.location
    assert "signed out after a period of inactivity" in b.get(response.location).get_data(as_text=True)


@sqlite_only
def test_a_session_ends_after_twelve_hours_even_when_busy(sign_in):
    b, _user = sign_in("curator")
    with b.client.session_transaction() as session:
        session["since"] = int(time.time()) - 13 * 3600
    assert b.get("/portal/content/").status_code == 302


def test_deactivating_an_account_ends_its_open_sessions(portal_app, sign_in):
    b, user = sign_in("reviewer")
    runner = portal_app.test_cli_runner()
    assert runner.invoke(args=["users", "deactivate", "--email", user.email]).exit_code == 0
    assert b.get("/portal/content/").status_code == 302
    assert b.login(user.email).status_code == 401


@sqlite_only
def test_changing_a_password_signs_out_everywhere(portal_app, sign_in):
    b, user = sign_in("reviewer")
    runner = portal_app.test_cli_runner()
    result = runner.invoke(
        args=["users", "set-password", "--email", user.email, "--password-stdin"], input="a brand new password\n"
    )
    assert result.exit_code == 0, result.output
    assert b.get("/portal/content/").status_code == 302
    assert b.login(user.email, "a brand new password").status_code == 302


@sqlite_only
def test_sign_in_and_out_are_audited_without_the_email(portal_app, sign_in):
    b, user = sign_in("curator")
    b.post("/portal/logout")
    assert b.get("/portal/content/").status_code == 302
    with portal_app.extensions["tumaini.services"].db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "portal.login")).one()
        assert event.actor == str(user.id) and user.email not in str(event.detail)


def test_account_rules_hold_outside_the_web(portal_app):
    with portal_app.extensions["tumaini.services"].db.session() as session:
        create_user(session, "x@example.org", "long enough pw", "reviewer")
        with pytest.raises(AccountError):
            create_user(session, "y@example.org", "long enough pw", "superuser")
        with pytest.raises(AccountError):
            create_user(session, "not-an-email", "long enough pw", "reviewer")
        with pytest.raises(LoginRefused):
            authenticate(session, "X@EXAMPLE.ORG", "wrong password!")
        assert authenticate(session, "X@EXAMPLE.ORG", "long enough pw").email == "x@example.org"

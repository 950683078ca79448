"""CSRF, security headers, no inline script, no caching of pages with personal data."""

from __future__ import annotations

import re

import pytest

from tests.portal.conftest import sqlite_only


@sqlite_only
def test_a_form_post_without_the_session_token_is_refused(sign_in, library_in_db):
    b, _user = sign_in("curator")
    version = b.get("/portal/content/menu.main/en/1")
    assert version.status_code == 200
    forged = b.client.post(
        "/portal/content/new", data={"item_id": "forged.item", "kind": "message", "source_locale": "en", "sms": "Hello"}
    )
    assert forged.status_code == 400
    assert "This form has expired" in forged.get_data(as_text=True)
    wrong = b.client.post(
        "/portal/content/new",
        data={
            "csrf_token": "guessed",
            "item_id": "forged.item",
            "kind": "message",
            "source_locale": "en",
            "sms": "Hello",
        },
    )
    assert wrong.status_code == 400
    assert b.get("/portal/content/forged.item").status_code == 404


@sqlite_only
def test_the_login_form_itself_needs_the_token(portal_client, make_user):
    user = make_user("admin")
    response = portal_client.post("/portal/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 400


@sqlite_only
def test_the_preview_fetch_needs_the_token_in_its_header(sign_in):
    b, _user = sign_in("curator")
    url = "/portal/content/preview"
    assert b.client.post(url, json={"text": "Hi"}).status_code == 400
    ok = b.client.post(url, json={"text": "Hi"}, headers={"X-CSRF-Token": b.token})
    assert ok.status_code == 200 and ok.json["segments"] == 1


@sqlite_only
@pytest.mark.parametrize("path", ["/portal/", "/portal/content/", "/portal/static/portal.css", "/portal/nowhere"])
def test_portal_responses_carry_security_headers(sign_in, path):
    b, _user = sign_in("admin")
    response = b.get(path)
    assert response.status_code == (404 if path.endswith("nowhere") else 200)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@sqlite_only
def test_pages_are_not_cached_but_static_files_may_be(sign_in):
    b, _user = sign_in("admin")
    assert b.get("/portal/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in b.get("/portal/static/portal.js").headers.get("Cache-Control", "")


@sqlite_only
def test_pages_have_no_inline_script_style_or_handlers_so_the_csp_holds(sign_in, library_in_db, make_case):
    b, _user = sign_in("admin")
    _person, case = make_case()
    pages = [
        "/portal/",
        "/portal/content/",
        "/portal/content/menu.main",
        "/portal/content/menu.main/sw/1",
        "/portal/content/menu.main/sw/edit",
        "/portal/content/new",
        "/portal/cases/",
        f"/portal/cases/{case.id}",
        "/portal/reports",
        "/portal/users/",
        "/portal/content/menu.main/en/history",
    ]
    for path in pages:
        html = b.get(path).get_data(as_text=True)
        assert "<style" not in html, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, path


def test_the_assets_stay_small_for_slow_networks():
    from bot.portal.blueprint import portal

    static = portal.static_folder
    sizes = {name: len(open(f"{static}/{name}", "rb").read()) for name in ("portal.css", "portal.js")}
    assert sizes["portal.css"] < 8_000 and sizes["portal.js"] < 3_000, sizes


@sqlite_only
def test_the_sign_in_page_is_protected_and_its_cookie_http_only(portal_client):
    response = portal_client.get("/portal/login")
    assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

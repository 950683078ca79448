"""The portal on a slow connection: compressed pages, cached static files, a paged content list."""

from __future__ import annotations

import gzip
import re

from tests.portal.conftest import sqlite_only


@sqlite_only
def test_pages_are_compressed_and_static_files_cached_by_version(portal_app, sign_in, library_in_db):
    browser, _user = sign_in("curator")
    plain = browser.get("/portal/content/")
    assert plain.status_code == 200 and plain.headers.get("Content-Encoding") is None
    html = plain.get_data(as_text=True)
    zipped = browser.client.get("/portal/content/", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    body = zipped.get_data()
    assert len(body) < len(html.encode()) / 3
    assert gzip.decompress(body).decode().count("<li>") == html.count("<li>")

    css = re.search(r'href="([^"]+portal\.css\?v=[0-9a-f]+)"', html).group(1)
    static = browser.client.get(css, headers={"Accept-Encoding": "gzip"})
    assert static.status_code == 200
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert static.headers["Content-Encoding"] == "gzip"
    assert b".cases" in gzip.decompress(static.get_data())
    assert "no-store" in plain.headers["Cache-Control"]  # pages with people's data are never cached


@sqlite_only
def test_the_content_list_is_paged_small_enough_for_a_slow_phone(portal_app, sign_in, library_in_db):
    browser, _user = sign_in("curator")
    first = browser.client.get("/portal/content/", headers={"Accept-Encoding": "gzip"})
    html = gzip.decompress(first.get_data()).decode()
    assert html.count('class="loc"') > 0 and 'class="pager"' in html
    assert len(first.get_data()) < 6_000, "the first page must load in about a second at 50 kbps"
    second = gzip.decompress(browser.client.get("/portal/content/?page=2", headers={"Accept-Encoding": "gzip"}).get_data())
    assert second.decode().count("<code>") > 0

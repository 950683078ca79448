"""Getting pages to a cheap phone on a slow network: compressed, and static files cached.

Pages, CSV and the stylesheet and script are gzip-compressed when the browser accepts it
(about a sixth of the bytes for the portal's HTML), so a deployment without nginx gets it
too; nginx passes the compressed body through unchanged. Static files are linked with a
version taken from their content (``?v=...``), so a browser may keep them for a year and
still fetches the new file the moment it changes.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Request, Response

STATIC = Path(__file__).resolve().parent / "static"
COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "application/javascript",
    "text/javascript",
    "application/json",
)
MIN_BYTES = 500
MAX_STATIC_BYTES = 512 * 1024
YEAR_S = 365 * 24 * 3600


@lru_cache(maxsize=32)
def static_version(filename: str) -> str:
    """A short hash of a static file's content, for cache-busting links."""
    return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]


def cache_static(request: Request, response: Response) -> None:
    if response.status_code == 200 and request.args.get("v"):
        response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    elif response.status_code in (200, 304):
        response.headers["Cache-Control"] = "public, max-age=3600"


def compress(request: Request, response: Response) -> Response:
    """gzip the body if the client takes it and it is worth it (streamed exports are left alone)."""
    if (
        response.status_code != 200
        or "gzip" not in request.headers.get("Accept-Encoding", "").lower()
        or response.headers.get("Content-Encoding")
        or response.mimetype not in COMPRESSIBLE
    ):
        return response
    if response.direct_passthrough and int(response.headers.get("Content-Length") or 0) <= MAX_STATIC_BYTES:
        response.direct_passthrough = False  # a small static file, handed over as a file wrapper: read it
    elif response.is_streamed:
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.get_data()))
    response.vary.add("Accept-Encoding")
    if response.headers.get("ETag"):
        response.headers["ETag"] = response.headers["ETag"].rstrip('"') + '-gz"'
    return response

"""Static files under content-hashed URLs cached for a year, and gzip for text responses."""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, request
from werkzeug.wrappers import Response

YEAR = 365 * 24 * 3600
COMPRESSIBLE = frozenset({
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "text/plain", "image/svg+xml",
})
MIN_SIZE = 512


def register(app: Flask) -> None:
    """Add `?v=<hash>` to every static URL, long caching for it, and compression."""
    root = Path(app.static_folder or "static")

    @cache
    def digest(filename: str) -> str:
        try:
            return hashlib.sha256((root / filename).read_bytes()).hexdigest()[:12]
        except OSError:
            return "missing"

    @cache
    def gzipped_static(filename: str, version: str) -> bytes:
        return gzip.compress((root / filename).read_bytes(), compresslevel=9, mtime=0)

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static" and isinstance(values.get("filename"), str):
            values["v"] = digest(str(values["filename"]))

    @app.after_request
    def cache_and_compress(response: Response) -> Response:
        static = request.endpoint == "static"
        filename = (request.view_args or {}).get("filename", "")
        if static and request.args.get("v") == digest(filename) and response.status_code == 200:
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        if not accepts_gzip() or not compressible(response):
            return response
        if static:
            response.direct_passthrough = False
            body = gzipped_static(filename, digest(filename))
        else:
            body = gzip.compress(response.get_data(), compresslevel=6, mtime=0)
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag and not weak:  # a strong ETag names the exact bytes, so gzip gets its own
            response.set_etag(etag + "-gz")
        return response


def accepts_gzip() -> bool:
    """Whether the browser takes gzip."""
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def compressible(response: Response) -> bool:
    """A text response big enough to gain from gzip and not encoded yet."""
    if response.status_code not in (200, 286) or "Content-Encoding" in response.headers:
        return False
    if response.mimetype not in COMPRESSIBLE:
        return False
    length = response.content_length
    return length is None or length >= MIN_SIZE

"""Static files under content-hashed URLs cached for a year, and gzip for text responses."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterable, Iterator
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
    app.config["BUILD_ID"] = build_id(root, Path(app.template_folder or "templates"))

    # Hashed once at start-up, and only files that are really under the static folder.
    digests = {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in root.rglob("*") if path.is_file()
    }

    def digest(filename: str) -> str:
        return digests.get(filename, "missing")

    @cache
    def gzipped_static(filename: str, version: str) -> bytes:
        return gzip.compress((root / filename).read_bytes(), compresslevel=9, mtime=0)

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static" and isinstance(values.get("filename"), str):
            values["v"] = digest(str(values["filename"]))

    @app.after_request
    def cache_and_compress(response: Response) -> Response:
        static = request.endpoint == "static" and response.status_code == 200
        filename = (request.view_args or {}).get("filename", "")
        if static and filename.endswith(".js"):
            response.mimetype = "text/javascript"  # RFC 9239 whatever the OS says: modules need it
        if static and request.args.get("v") == digest(filename):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        if "gzip" in request.headers.get("Accept-Encoding", "").lower() and compressible(response):
            gzip_response(response, gzipped_static(filename, digest(filename)) if static else None)
        return response


def gzip_response(response: Response, static_body: bytes | None) -> None:
    """Compress a response in place: a stream as it goes, a static file from its cached gzip."""
    if response.is_streamed and static_body is None:
        response.response = gzip_stream(response.response)
        response.headers.pop("Content-Length", None)
    else:
        if static_body is not None:
            response.direct_passthrough = False
        response.set_data(static_body if static_body is not None
                          else gzip.compress(response.get_data(), compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    etag, weak = response.get_etag()
    if etag and not weak:  # the same content in another coding: a weak ETag, which revalidates
        response.set_etag(etag, weak=True)


def gzip_stream(chunks: Iterable[str | bytes]) -> Iterator[bytes]:
    """Compress a streamed body, flushing after each chunk so the browser can use it at once."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip container
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        yield packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
    yield packer.flush()


@cache
def build_id(*folders: Path) -> str:
    """A short hash of the templates and static files, naming this build of the app."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def compressible(response: Response) -> bool:
    """A text response big enough to gain from gzip and not encoded yet."""
    length = response.content_length
    return (response.status_code in (200, 286) and "Content-Encoding" not in response.headers
            and response.mimetype in COMPRESSIBLE and (length is None or length >= MIN_SIZE))

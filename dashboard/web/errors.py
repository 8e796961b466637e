"""Error pages: a clear message and the right status, never a traceback or a secret."""

from __future__ import annotations

import logging
import math

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from dashboard.sources import SourceError
from dashboard.web import auth

log = logging.getLogger(__name__)
TITLES = {
    400: "Bad request", 401: "Authentication failed", 403: "Forbidden", 404: "Not found",
    405: "Not allowed", 409: "Conflict", 422: "Unusable data", 429: "Too many requests",
    500: "Something broke", 502: "The platform failed", 503: "The platform is unavailable",
    504: "The platform timed out",
}


def render_error(status: int, message: str) -> tuple[str, int]:
    """An error page, or a one-line fragment when htmx asked."""
    title = TITLES.get(status, "Error")
    if request.headers.get("HX-Request"):
        return render_template("_error_fragment.html", title=title, message=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    """Install the handlers for upstream failures, HTTP errors and bugs."""

    @app.errorhandler(SourceError)
    def source_error(exc: SourceError) -> tuple[str, int, dict[str, str]] | Response:
        log.warning("upstream %s on %s %s: %s", exc.status, request.method, request.path, exc.kind)
        signed_out = auth.rejected(exc)
        if signed_out is not None:
            return signed_out
        # The platform's Retry-After reaches the browser, whose pollers back off that long.
        headers = {"Retry-After": str(math.ceil(exc.retry_after))} if exc.retry_after else {}
        return *render_error(exc.status, exc.message), headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int] | Response:
        if exc.code and exc.code < 400:  # routing redirects are HTTPExceptions too
            return exc.get_response()
        return render_error(exc.code or 500, exc.description or "")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "The dashboard hit an unexpected error. It has been logged.")

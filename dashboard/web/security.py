"""Response headers that keep pages from running injected code or leaking job links."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

# No inline script and no eval anywhere; Plotly sets inline styles, hence style-src.
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
))


def register(app: Flask) -> None:
    """Add the security headers to every response."""

    @app.after_request
    def secure_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if "Cache-Control" not in response.headers:
            # Pages name private jobs: browsers may keep them, shared caches may not.
            response.headers["Cache-Control"] = "private, no-cache"
        return response

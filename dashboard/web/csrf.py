"""CSRF tokens for the Cancel and Retry forms, kept in the signed session cookie."""

from __future__ import annotations

import secrets

from flask import abort, request, session


def token() -> str:
    """This browser session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check() -> None:
    """Refuse a form post whose token does not match the session's."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form expired or came from another site; reload the page and try again.")

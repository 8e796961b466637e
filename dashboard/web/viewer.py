"""The signed-in viewer of a request: who they are, read from their encrypted cookie."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, request
from werkzeug.wrappers import Response

COOKIE = "dashboard_viewer"


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: their key (server-side only), name and default scope."""

    key: str = field(repr=False)
    name: str = ""
    scope: tuple[str, str] | None = None


def _fernet() -> Fernet:
    """The cookie cipher, keyed by a derivation of the app's secret."""
    digest = hashlib.sha256(b"dashboard viewer cookie\0" + current_app.config["SECRET_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def session_seconds() -> int:
    """How long a sign-in lasts."""
    return int(current_app.config["VIEWER_HOURS"] * 3600)


def seal(viewer: Viewer) -> str:
    """The encrypted cookie value for a viewer."""
    payload = {"k": viewer.key, "n": viewer.name, "s": list(viewer.scope) if viewer.scope else None}
    return _fernet().encrypt(json.dumps(payload).encode()).decode()


def unseal(token: str) -> Viewer | None:
    """The viewer in a cookie value, or None if it is forged, from another secret or expired."""
    try:
        payload: Any = json.loads(_fernet().decrypt(token.encode(), ttl=session_seconds()))
        scope = payload.get("s")
        return Viewer(str(payload["k"]), str(payload.get("n") or ""),
                      (str(scope[0]), str(scope[1])) if scope else None)
    except (InvalidToken, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None


def viewer() -> Viewer | None:
    """The signed-in viewer of this request (viewer mode only)."""
    if current_app.config["AUTH"] != "viewer":
        return None
    # Kept on the request, not `g`: an app context (and its `g`) can outlive a streamed response.
    if "dashboard.viewer" not in request.environ:
        token = request.cookies.get(COOKIE)
        request.environ["dashboard.viewer"] = unseal(token) if token else None
    return request.environ["dashboard.viewer"]


def set_cookie(response: Response, value: str, max_age: int) -> None:
    """Write the viewer cookie with every protection a browser offers."""
    response.set_cookie(COOKIE, value, max_age=max_age, path="/", secure=True, httponly=True,
                        samesite="Lax")

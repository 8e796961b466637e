"""Who may look: the auth modes, sign-in and sign-out, and the viewer's encrypted cookie.

- `none`: no sign-in; only for loopback (the CLI and the Procfile refuse anything else).
- `viewer`: each person signs in with their own Dreadnode API key, kept in an encrypted,
  HttpOnly, Secure, SameSite cookie, so every upstream call carries that person's key and the
  platform decides what they may see. Any worker or instance with the same secret reads it.
- `service`: one key from the environment, for deployments behind an SSO proxy; read-only.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from dashboard.sources import SourceError
from dashboard.web import csrf, current
from dashboard.web.viewer import Viewer, seal, session_seconds, set_cookie, viewer

log = logging.getLogger(__name__)

MODES = ("none", "viewer", "service")
MIN_SECRET = 32
OPEN_ENDPOINTS = frozenset({"auth.sign_in", "pages.healthz", "static"})
bp = Blueprint("auth", __name__)


class AuthConfigError(Exception):
    """The auth mode cannot work with these settings."""


# -- deployment checks ----------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the dashboard on this machine."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(hosts: list[str], mode: str) -> None:
    """Refuse to serve beyond loopback without an explicit auth mode."""
    exposed = [h for h in hosts if not is_loopback(h)]
    if exposed and mode == "none":
        raise AuthConfigError(
            f"refusing to listen on {', '.join(exposed)} without sign-in: anyone who can reach it "
            "would act with your API key. Choose an auth mode: --auth viewer (each person signs "
            "in with their own Dreadnode API key) or --auth service (one read-only key, behind "
            "your SSO proxy); or DASHBOARD_AUTH=viewer|service. Bind 127.0.0.1 for local use."
        )


def check_settings(mode: str, source: str, secret: str | None) -> None:
    """Refuse an auth mode that cannot work with this source or secret."""
    if mode not in MODES:
        raise AuthConfigError(f"unknown auth mode {mode!r}: use one of {', '.join(MODES)}")
    if mode == "viewer" and source != "platform":
        raise AuthConfigError("--auth viewer signs people in against a platform: drop --demo/--jobs-dir")
    if mode == "viewer" and len(secret or "") < MIN_SECRET:
        raise AuthConfigError(
            f"--auth viewer needs DASHBOARD_SECRET_KEY (at least {MIN_SECRET} characters, the same "
            "on every worker and instance) to encrypt sign-in cookies; make one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )


# -- gatekeeping ----------------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """A same-site path to return to after sign-in; anything else goes home."""
    # Browsers drop tabs and newlines and read "\\" as "/": "/\t/evil" would leave the site.
    if (not target or not target.startswith("/") or "\\" in target
            or any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in target)):
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return url_for("pages.index")
    return target


def to_sign_in(message: str | None = None) -> Response:
    """Send the browser to sign-in and back here afterwards (htmx gets a full-page redirect)."""
    if request.headers.get("HX-Request"):
        back = request.headers.get("HX-Current-URL", "")
        back = "/" + back.split("/", 3)[3] if back.count("/") >= 3 else None
        response = Response(status=401)
        response.headers["HX-Redirect"] = url_for("auth.sign_in", next=safe_next(back))
    else:
        response = redirect(url_for("auth.sign_in", next=safe_next(request.full_path.rstrip("?"))))
    if message:
        flash(message, "warning")
    set_cookie(response, "", 0)
    return response


def loopback_host_only() -> Response | None:
    """Without sign-in, answer only requests addressed to this machine by a loopback name: a web
    page that rebinds its own domain to 127.0.0.1 must not read jobs (or act) with your key."""
    if current_app.config["AUTH"] != "none":
        return None
    hostname = urlsplit("//" + request.host).hostname or ""
    if is_loopback(hostname):
        return None
    return Response(f"This dashboard runs without sign-in and answers only to localhost, not "
                    f"{hostname[:100]!r}. To share it, choose an auth mode (see the README).",
                    status=400, mimetype="text/plain")


def require_viewer() -> Response | None:
    """Before every request in viewer mode: the pages need a signed-in viewer."""
    # No endpoint is a 404: no page to protect.
    if current_app.config["AUTH"] != "viewer" or request.endpoint in {*OPEN_ENDPOINTS, None}:
        return None
    return to_sign_in() if viewer() is None else None


def rejected(exc: SourceError) -> Response | None:
    """In viewer mode, a key the platform now rejects ends the sign-in."""
    if current_app.config["AUTH"] == "viewer" and exc.status == 401:
        return to_sign_in("The platform no longer accepts your API key; sign in again.")
    return None


# -- views ----------------------------------------------------------------------------------


@bp.route("/signin", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int]:
    """Ask for a Dreadnode API key, check it with the platform, and go back where the link led."""
    if current_app.config["AUTH"] != "viewer":
        abort(404, description="This dashboard has no sign-in: it runs without per-viewer keys.")
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return form(target, None, 200)
    csrf.check()
    key = request.form.get("api_key", "").strip()
    if not key:
        return form(target, "Paste your Dreadnode API key.", 400)
    if not key.isascii() or not key.isprintable():
        return form(target, "That is not an API key: it holds spaces or characters a key never has.", 400)
    source = current.source_for(key)
    try:
        user = source.get_user()
    except SourceError as exc:
        error = ("The platform rejected that API key." if exc.status == 401
                 else f"Could not check the key: {exc.message}")
        return form(target, error, exc.status)
    settings = current.settings()
    scope = None
    if not (settings.organization and settings.workspace):
        try:
            scope = source.default_scope(settings.organization, settings.workspace)
        except SourceError:
            scope = None  # the job list says what is missing when it is opened
    name = next((str(user[k]) for k in ("username", "email") if isinstance(user, dict) and user.get(k)), "")
    response = redirect(target, code=303)
    set_cookie(response, seal(Viewer(key, name, scope)), session_seconds())
    log.info("viewer signed in")
    return response


def form(target: str, error: str | None, status: int) -> tuple[str, int]:
    """The sign-in form, with an error when the last try failed."""
    hours = f"{current_app.config['VIEWER_HOURS']:g}"
    return render_template("signin.html", next=target, error=error, hours=hours), status


@bp.post("/signout")
def sign_out() -> Response:
    """Forget the viewer's key in this browser."""
    csrf.check()
    response = redirect(url_for("auth.sign_in"), code=303)
    set_cookie(response, "", 0)
    flash("Signed out.", "info")
    return response


def register(app: Flask, mode: str, hours: float) -> None:
    """Install sign-in for the app's auth mode."""
    app.config.update(AUTH=mode, VIEWER_HOURS=hours)
    app.register_blueprint(bp)
    app.before_request(loopback_host_only)
    app.before_request(require_viewer)

    @app.context_processor
    def auth_facts() -> dict[str, object]:
        person = viewer()
        return {"auth_mode": mode, "viewer_name": person.name if person else None}

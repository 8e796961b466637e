"""Gunicorn settings for the Procfile: refuse an unusable auth mode, and refuse to serve beyond
loopback without one, with a one-line reason instead of a traceback.

Gunicorn reads every public top-level name here as a setting: helpers stay private.
"""

from __future__ import annotations

import os as _os

from dashboard import config as _config
from dashboard.web import auth as _auth

# The settings the app will use, checked here: this runs before `--preload` builds the app.
try:
    _SETTINGS = _config.resolve({}, _os.environ)
    _auth.check_settings(_SETTINGS.auth, _SETTINGS.source, _os.environ.get("DASHBOARD_SECRET_KEY"))
except (_auth.AuthConfigError, _config.ConfigError) as exc:
    raise SystemExit(f"dashboard: {exc}") from None


def on_starting(server):  # type: ignore[no-untyped-def]
    """Check the bind addresses against the auth mode before any socket is opened."""
    # TCP binds are (host, port); a unix socket (a path) stays on this machine.
    hosts = [str(address[0]) for address in server.cfg.address if isinstance(address, tuple)]
    try:
        _auth.check_bind(hosts, _SETTINGS.auth)
    except _auth.AuthConfigError as exc:
        raise SystemExit(f"dashboard: {exc}") from None

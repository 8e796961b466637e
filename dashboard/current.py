"""The app's settings, job source and default scope, for the request being served."""

from __future__ import annotations

from threading import Lock

from flask import current_app, request, url_for

from dashboard.config import Settings
from dashboard.sources import JobSource

_scope_lock = Lock()


def settings() -> Settings:
    """The resolved settings of this app."""
    return current_app.config["SETTINGS"]


def source() -> JobSource:
    """The job source of this app."""
    return current_app.config["SOURCE"]


def default_scope() -> tuple[str, str]:
    """The organization and workspace `/` opens, asking the platform once when unknown."""
    with _scope_lock:
        scope = current_app.config.get("SCOPE")
        if scope is None:
            conf = settings()
            if conf.organization and conf.workspace:
                scope = (conf.organization, conf.workspace)
            else:
                scope = source().default_scope(conf.organization, conf.workspace)  # type: ignore[attr-defined]
            current_app.config["SCOPE"] = scope
        return scope


def job_url() -> str:
    """The job page URL of the job this request is about (from the URL, never the payload)."""
    args = request.view_args or {}
    return url_for("pages.job_page", org=args["org"], workspace=args["workspace"], job_id=args["job_id"])

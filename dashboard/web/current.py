"""The app's settings, job source and default scope, for the request being served."""

from __future__ import annotations

from threading import Lock

from flask import current_app, request, url_for

from dashboard.config import Settings
from dashboard.sources import JobSource
from dashboard.viewmodels.pane import PageLinks
from dashboard.web.viewer import viewer

_scope_lock = Lock()


def settings() -> Settings:
    """The resolved settings of this app."""
    return current_app.config["SETTINGS"]


def source() -> JobSource:
    """The job source of this request: in viewer mode, the app's source with the viewer's key."""
    person = viewer()
    if person is None:
        return current_app.config["SOURCE"]
    if "dashboard.source" not in request.environ:
        request.environ["dashboard.source"] = source_for(person.key)
    return request.environ["dashboard.source"]


def source_for(key: str) -> JobSource:
    """The app's source acting with another API key (sharing its connections and cache)."""
    return current_app.config["SOURCE"].for_key(key)


def default_scope() -> tuple[str, str]:
    """The organization and workspace `/` opens, asking the platform once when unknown."""
    conf = settings()
    if conf.organization and conf.workspace:
        return conf.organization, conf.workspace
    person = viewer()
    if person is not None:
        return person.scope or source().default_scope(conf.organization, conf.workspace)
    with _scope_lock:
        if "SCOPE" not in current_app.config:
            current_app.config["SCOPE"] = source().default_scope(conf.organization, conf.workspace)
        return current_app.config["SCOPE"]


def job_url(org: str, workspace: str, job_id: str) -> str:
    """A job's page URL (built from the request's URL, never from a payload)."""
    return url_for("pages.job_page", org=org, workspace=workspace, job_id=job_id)


def page_links(org: str, workspace: str, job_id: str) -> PageLinks:
    """Where a job's page is, for its view models."""
    return PageLinks(job_url(org, workspace, job_id),
                     url_for("pages.job_page", org=org, workspace=workspace, job_id=job_id, _external=True),
                     job_id)

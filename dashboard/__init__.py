"""The training-job dashboard: a Flask app factory."""

from __future__ import annotations

import math
import os
import secrets
from pathlib import Path

from flask import Flask

from dashboard import config
from dashboard.sources import JobSource, cache, heap, shared
from dashboard.sources.demo import DemoSource
from dashboard.sources.directory import DirectorySource
from dashboard.sources.platform import PlatformSource

ROOT = Path(__file__).resolve().parent.parent


MAX_CACHE_TTL = 1.5  # below the 2 s logs poll, so the last poll reads logs younger than the end


def cache_ttl() -> float:
    """Seconds an upstream read is shared between requests (`DASHBOARD_CACHE_TTL`, default 1)."""
    try:
        return min(MAX_CACHE_TTL, max(0.0, float(os.environ.get("DASHBOARD_CACHE_TTL", "1"))))
    except ValueError:
        return 1.0


def megabytes(name: str, default: float) -> int:
    """A byte budget from a variable in MB (`DASHBOARD_CACHE_MB`, `DASHBOARD_REDIS_MB`)."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        value = default
    return int((value if math.isfinite(value) and value >= 0 else default) * 2**20)


def shared_tier(settings: config.Settings) -> shared.RedisTier | None:
    """The Redis tier of the read cache, if `DASHBOARD_REDIS_URL` (or --redis-url) names one."""
    if not settings.redis_url:
        return None
    return shared.RedisTier(settings.redis_url,
                            budget=megabytes("DASHBOARD_REDIS_MB", shared.DEFAULT_BUDGET / 2**20))


def viewer_hours() -> float:
    """Hours a viewer's sign-in lasts (`DASHBOARD_SESSION_HOURS`, default 12)."""
    try:
        hours = float(os.environ.get("DASHBOARD_SESSION_HOURS", "12"))
    except ValueError:
        return 12.0
    return hours if 0 < hours <= 24 * 30 else 12.0


def build_source(settings: config.Settings) -> JobSource:
    """The job source the settings ask for."""
    if settings.source == "platform":
        return PlatformSource(settings)
    if settings.source == "directory":
        return DirectorySource(settings.jobs_dir, settings.organization, settings.workspace)
    return DemoSource()


def create_app(settings: config.Settings | None = None, source: JobSource | None = None) -> Flask:
    """Build the app; settings default to flags-less `dn`-style resolution from the environment."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    settings = settings or config.resolve({}, os.environ)
    heap.tune()
    secret = os.environ.get("DASHBOARD_SECRET_KEY")
    from dashboard.web import auth

    auth.check_settings(settings.auth, settings.source, secret)
    # Each viewer has their own cache entries: keeping a 60 MB finished job a minute per viewer
    # would multiply memory, so in viewer mode it is kept as briefly as anything else.
    source = source or cache.CachedSource(
        build_source(settings), ttl=cache_ttl(),
        finished_ttl=0.0 if settings.auth == "viewer" else cache.FINISHED_TTL,
        budget=megabytes("DASHBOARD_CACHE_MB", cache.DEFAULT_BUDGET / 2**20), shared=shared_tier(settings))
    if settings.auth == "service":
        source.read_only = True  # one shared key: nobody may act with it
    app.config.update(
        SECRET_KEY=secret or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Shared deployments are served over HTTPS; browsers keep Secure cookies on localhost too.
        SESSION_COOKIE_SECURE=settings.auth != "none",
        SETTINGS=settings,
        SOURCE=source,
    )

    from dashboard.web import assets, csrf, downloads, errors, fragments, pages, security

    app.jinja_env.globals["csrf_token"] = csrf.token

    @app.context_processor
    def source_facts() -> dict[str, object]:
        # Only these facts reach templates: never the settings (they hold the key).
        return {"source_kind": settings.source, "read_only": app.config["SOURCE"].read_only,
                "jobs_dir": settings.jobs_dir}

    auth.register(app, settings.auth, viewer_hours())
    app.register_blueprint(pages.bp)
    app.register_blueprint(fragments.bp)
    app.register_blueprint(downloads.bp)
    errors.register(app)
    assets.register(app)
    security.register(app)
    return app

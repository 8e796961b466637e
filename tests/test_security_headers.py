"""Every response carries the security headers; job pages stay out of shared caches."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources.demo import SFT_OLD_ID

JOB = f"/acme/research/training/jobs/{SFT_OLD_ID}"


@pytest.fixture
def client() -> FlaskClient:
    return create_app(Settings("demo", organization="acme", workspace="research")).test_client()


@pytest.mark.parametrize("path", ["/healthz", "/acme/research/training/jobs", JOB, f"{JOB}/summary",
                                  f"{JOB}/logs?after=0", "/static/js/main.js", "/nope"])
def test_every_response_has_the_security_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-eval" not in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/acme/research/training/jobs", JOB])
def test_pages_are_never_stored_by_shared_caches(client: FlaskClient, path: str) -> None:
    cache_control = client.get(path).headers["Cache-Control"]
    assert "private" in cache_control or "no-store" in cache_control
    assert "public" not in cache_control


def test_pages_have_no_inline_script(client: FlaskClient) -> None:
    html = client.get(JOB).get_data(as_text=True)
    assert "<script>" not in html
    assert "<script src=" in html
    assert " on" + "click=" not in html

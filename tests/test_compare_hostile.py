"""The hostile corpus (tests/data/hostile/) as a *compared* job, served by the fake platform over
real sockets: the first job's pane still renders, and nothing of the compared payload can run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from tests.fake_platform import DEFAULT_KEY, SFT_JOB_ID, FakePlatform
from tests.test_hostile_corpus import CASES, JOB_ID, JOBS, UPSTREAM_JOBS, Case, audit, get, huge_strings

PAGE = f"{JOBS}/{SFT_JOB_ID}"
COMPARE = f"?compare={JOB_ID}"
FRAGMENTS = ("/summary", "/charts", f"/charts{COMPARE}&live=", "/compare/find?find=",
             "/charts?smooth=0.9&logy=1")


@pytest.fixture(params=[*CASES, huge_strings()], ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def client(case: Case, fake_platform: FakePlatform) -> Iterator[FlaskClient]:
    """The dashboard on the fake platform, whose job JOB_ID answers with the case's bodies."""
    fake_platform.fail(f"{UPSTREAM_JOBS}/{JOB_ID}", 200, case.job)
    settings = Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY,
                        organization="acme", workspace="research")
    yield create_app(settings).test_client()


def test_a_hostile_compared_job_never_runs_and_the_pane_still_renders(client: FlaskClient,
                                                                        case: Case) -> None:
    html = get(client, PAGE + COMPARE)
    assert html.rstrip().endswith("</html>"), "the streamed page stopped early"
    assert 'data-testid="compare-strip"' in html and 'data-testid="chart-loss"' in html
    audit(html)
    for fragment in FRAGMENTS:
        joiner = "&" if "?" in fragment else "?"
        audit(get(client, PAGE + fragment + (joiner + COMPARE[1:] if "compare" not in fragment else "")))


def test_a_hostile_compared_job_zooms_and_downloads(client: FlaskClient, case: Case) -> None:
    zoom = client.get(PAGE + "/charts/zoom", query_string={"chart": "chart-loss:Loss", "compare": JOB_ID})
    assert zoom.status_code == 200 and zoom.mimetype == "application/json"
    csv = client.get(PAGE + "/metrics.csv" + COMPARE)
    assert csv.status_code == 200
    assert "<script" not in zoom.get_data(as_text=True).lower()
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    assert csv.headers["X-Content-Type-Options"] == "nosniff"  # text, never read as a page

"""The pane and list served from a platform that speaks API.md (the fake, over real sockets)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from tests.fake_platform import DEFAULT_KEY, RL_JOB_ID, SFT_JOB_ID, FakePlatform

JOBS = "/acme/research/training/jobs"


def client_for(fake: FakePlatform, **scope: str | None) -> FlaskClient:
    settings = Settings("platform", server=fake.url, api_key=DEFAULT_KEY, **scope)
    return create_app(settings).test_client()


@pytest.fixture
def client(fake_platform: FakePlatform) -> FlaskClient:
    return client_for(fake_platform, organization="acme", workspace="research")


def test_the_job_list_shows_the_platform_jobs(client: FlaskClient) -> None:
    html = client.get(JOBS).get_data(as_text=True)
    assert html.count('data-testid="job-row"') == 2
    assert SFT_JOB_ID in html and RL_JOB_ID in html
    assert 'data-testid="demo-banner"' not in html


def test_the_pane_reads_job_artifacts_and_logs(client: FlaskClient, fake_platform: FakePlatform) -> None:
    response = client.get(f"{JOBS}/{SFT_JOB_ID}")
    assert response.status_code == 200
    paths = {r.path for r in fake_platform.requests}
    base = f"/api/v1/org/acme/ws/research/training/jobs/{SFT_JOB_ID}"
    assert {base, f"{base}/artifacts", f"{base}/logs"} <= paths
    assert 'data-testid="chart-loss"' in response.get_data(as_text=True)


def test_the_api_key_never_reaches_the_page(client: FlaskClient) -> None:
    for path in ("/", JOBS, f"{JOBS}/{SFT_JOB_ID}", f"{JOBS}/{RL_JOB_ID}/logs?after=0"):
        response = client.get(path, follow_redirects=True)
        assert DEFAULT_KEY not in response.get_data(as_text=True)
        assert DEFAULT_KEY not in str(response.headers)


def test_a_rejected_key_is_a_401_page_that_says_where_to_set_it(fake_platform: FakePlatform) -> None:
    settings = Settings("platform", server=fake_platform.url, api_key="dn_key_wrong_999",
                        organization="acme", workspace="research")
    response = create_app(settings).test_client().get(f"{JOBS}/{SFT_JOB_ID}")
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "DREADNODE_API_KEY" in html
    assert "dn_key_wrong_999" not in html


def test_an_upstream_500_is_a_502_page_not_a_traceback(
    client: FlaskClient, fake_platform: FakePlatform
) -> None:
    fake_platform.fail("/logs", 500, {"code": 500, "detail": "database on fire", "type": "error"})
    response = client.get(f"{JOBS}/{SFT_JOB_ID}")
    html = response.get_data(as_text=True)
    assert response.status_code == 502
    assert "database on fire" in html
    assert "Traceback" not in html


def test_a_missing_workspace_is_resolved_to_the_default_one(fake_platform: FakePlatform) -> None:
    client = client_for(fake_platform, organization="acme", workspace=None)
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(JOBS)


def test_cancel_posts_to_the_platform(client: FlaskClient, fake_platform: FakePlatform) -> None:
    page = client.get(f"{JOBS}/{RL_JOB_ID}/cancel").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(f"{JOBS}/{RL_JOB_ID}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    posts = [r for r in fake_platform.requests if r.method == "POST"]
    assert [r.path for r in posts] == [f"/api/v1/org/acme/ws/research/training/jobs/{RL_JOB_ID}/cancel"]
    assert fake_platform.job(RL_JOB_ID)["status"] == "cancelled"


@pytest.mark.parametrize("path", [
    f"{JOBS}/..%2F..%2Fuser",
    f"{JOBS}/%2e%2e",
    f"{JOBS}/{SFT_JOB_ID}%2F..%2F..%2F..%2Fuser",
    f"{JOBS}/{SFT_JOB_ID}%252F..%252Fcancel",
    f"{JOBS}/{SFT_JOB_ID.upper()}",
    "/acme/%2e%2e/training/jobs",
    "/acme/research%2F..%2Fother/training/jobs",
    "/%2e%2e%2Fuser/research/training/jobs",
    f"/acme/research%00/training/jobs/{SFT_JOB_ID}/logs?after=0",
    f"/acme/ws%3Fx%3D1/training/jobs/{SFT_JOB_ID}/summary",
])
def test_an_encoded_path_trick_never_reaches_the_platform(
    client: FlaskClient, fake_platform: FakePlatform, path: str
) -> None:
    fake_platform.reset()
    response = client.get(path)
    assert response.status_code == 404
    assert fake_platform.requests == []

"""Flask test-client tests of every page, fragment and action, on the demo source."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources.demo import (
    ATTEMPT_ID,
    FAILED_ID,
    NAN_ID,
    QUEUED_ID,
    RAY_RL_ID,
    RL_TINKER_ID,
    RUNNING_FIRST_ID,
    SFT_OLD_ID,
    DemoSource,
)

RUN_SECONDS = 60.0
JOBS = "/acme/research/training/jobs"
ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Flask:
    settings = Settings("demo", organization="acme", workspace="research")
    app = create_app(settings, DemoSource(clock=clock, run_seconds=RUN_SECONDS))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the confirmation page has no CSRF token"
    return match.group(1)


def test_healthz_says_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_root_redirects_to_the_default_scope_job_list(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(JOBS)


def test_bare_job_link_redirects_to_the_full_job_url(client: FlaskClient) -> None:
    response = client.get(f"/jobs/{SFT_OLD_ID}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{JOBS}/{SFT_OLD_ID}")


def test_job_list_shows_every_demo_job_with_the_banner(client: FlaskClient) -> None:
    html = client.get(JOBS).get_data(as_text=True)
    assert 'data-testid="demo-banner"' in html
    # 13 sample jobs (5 failures for on call, 3 earlier runs of one of them) and the live one
    assert html.count('data-testid="job-row"') == 14
    assert f'href="{JOBS}/{FAILED_ID}"' in html


def test_job_list_search_matches_status_and_model(client: FlaskClient) -> None:
    failed = client.get(JOBS, query_string={"q": "failed"}).get_data(as_text=True)
    assert failed.count('data-testid="job-row"') == 3
    assert FAILED_ID in failed and NAN_ID in failed and ATTEMPT_ID in failed
    ray = client.get(JOBS, query_string={"q": "qwen2.5 ray"}).get_data(as_text=True)
    assert ray.count('data-testid="job-row"') == 1
    assert RAY_RL_ID in ray


def test_job_list_filters_by_status(client: FlaskClient) -> None:
    html = client.get(JOBS, query_string={"status": "queued"}).get_data(as_text=True)
    assert html.count('data-testid="job-row"') == 1
    assert QUEUED_ID in html


def test_job_list_with_no_match_says_so(client: FlaskClient) -> None:
    html = client.get(JOBS, query_string={"q": "no-such-job-anywhere"}).get_data(as_text=True)
    assert "No jobs match this search" in html


def test_sft_pane_has_every_section(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{SFT_OLD_ID}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for testid in ("job-header", "job-name", "job-status", "job-summary", "action-retry",
                   "tile-backend", "tile-trainer", "tile-dataset", "tile-duration", "metrics-grid",
                   "chart-loss", "chart-val-loss", "chart-learning-rate", "artifacts-card",
                   "logs-panel"):
        assert f'data-testid="{testid}"' in html, testid
    assert 'data-testid="action-cancel"' not in html
    assert 'data-key="train/loss_last"' in html


def test_terminal_pane_polls_only_once_more_for_late_log_entries(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{SFT_OLD_ID}").get_data(as_text=True)
    assert html.count("hx-trigger") == 1
    assert re.search(r'hx-get="[^"]*/logs\?after=\d+&amp;final=1"', html)
    assert 'data-terminal="true"' in html


def test_running_pane_polls_summary_logs_artifacts_and_charts(client: FlaskClient, clock: Clock) -> None:
    clock.now += 10
    html = client.get(f"{JOBS}/{RUNNING_FIRST_ID}").get_data(as_text=True)
    assert html.count('hx-trigger="every') == 3
    assert f'{JOBS}/{RUNNING_FIRST_ID}/charts' in html
    assert 'data-terminal' not in html
    assert 'data-testid="action-cancel"' in html


def test_internal_artifact_fields_and_secrets_are_not_shown(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RL_TINKER_ID}").get_data(as_text=True)
    card = html[html.index('data-testid="artifacts-card"'):html.index('id="artifacts-raw"')]
    for hidden in ("provider_sandbox_id", "worker_id", "payload_path", "result_path"):
        assert f'data-key="{hidden}"' not in card
    assert "wst_" not in html
    assert "world_server_auth_token" not in card


def test_rl_reward_chart_is_empty_and_says_why(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RL_TINKER_ID}").get_data(as_text=True)
    chart = html[html.index('data-testid="chart-reward"'):]
    assert 'data-empty="true"' in chart[:400]
    assert "train/reward_mean" in chart[:1200]


def test_failed_pane_shows_the_error_callout(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{FAILED_ID}").get_data(as_text=True)
    assert 'data-testid="job-error"' in html
    assert "did not produce any usable conversations" in html


def test_unknown_job_is_a_clear_404(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert "no job 00000000-0000-4000-8000-000000000000 in acme/research" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/acme/research/training/jobs/not-a-uuid",
    "/ACME/research/training/jobs",
    "/acme/re..search/training/jobs",
    "/acme/research%2F..%2Fx/training/jobs",
])
def test_malformed_path_parameters_are_refused_with_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_summary_fragment_polls_while_running_and_says_286_when_terminal(
    client: FlaskClient, clock: Clock
) -> None:
    clock.now += 5
    running = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/summary")
    assert running.status_code == 200
    assert 'hx-trigger="every 3s"' in running.get_data(as_text=True)
    clock.now += RUN_SECONDS
    done = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/summary")
    assert done.status_code == 286
    html = done.get_data(as_text=True)
    assert "hx-trigger" not in html
    assert ">completed<" in html


def test_logs_fragment_returns_only_new_entries(client: FlaskClient, clock: Clock) -> None:
    clock.now += 10
    first = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/logs?after=0").get_data(as_text=True)
    indexes = [int(i) for i in re.findall(r'data-index="(\d+)"', first)]
    assert indexes == list(range(len(indexes))) and indexes
    cursor = int(re.search(r'data-cursor="(\d+)"', first).group(1))
    assert cursor == len(indexes)
    assert f"logs?after={cursor}" in first
    same = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/logs?after={cursor}").get_data(as_text=True)
    assert "data-index" not in same
    assert "hx-swap-oob" not in same
    clock.now += 20
    later = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/logs?after={cursor}").get_data(as_text=True)
    new = [int(i) for i in re.findall(r'data-index="(\d+)"', later)]
    assert new and new[0] == cursor and new == list(range(cursor, cursor + len(new)))


def test_logs_fragment_polls_once_more_after_the_end_then_says_286(
    client: FlaskClient, clock: Clock
) -> None:
    clock.now += RUN_SECONDS + 1
    first = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/logs?after=0")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "Training complete" in html
    cursor = int(re.search(r'data-cursor="(\d+)"', html).group(1))
    assert f"logs?after={cursor}&amp;final=1" in html
    last = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/logs?after={cursor}&final=1")
    assert last.status_code == 286
    assert "hx-trigger" not in last.get_data(as_text=True)
    assert "data-index" not in last.get_data(as_text=True)


def test_artifacts_and_charts_fragments_render(client: FlaskClient, clock: Clock) -> None:
    clock.now += 30
    artifacts = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/artifacts")
    assert artifacts.status_code == 200
    assert 'data-testid="artifacts-card"' in artifacts.get_data(as_text=True)
    charts = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/charts")
    assert charts.status_code == 200
    assert 'data-testid="chart-loss"' in charts.get_data(as_text=True)
    assert client.get(f"{JOBS}/{SFT_OLD_ID}/charts").status_code == 286


def test_cancel_asks_for_confirmation_then_cancels(client: FlaskClient, clock: Clock) -> None:
    clock.now += 5
    confirm = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/cancel")
    assert confirm.status_code == 200
    token = csrf_from(confirm.get_data(as_text=True))
    done = client.post(f"{JOBS}/{RUNNING_FIRST_ID}/cancel", data={"csrf_token": token})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert '>cancelled<' in page
    assert "Cancellation requested." in page


def test_cancel_without_a_csrf_token_is_refused(client: FlaskClient) -> None:
    client.get(f"{JOBS}/{QUEUED_ID}/cancel")
    response = client.post(f"{JOBS}/{QUEUED_ID}/cancel", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert ">queued<" in client.get(f"{JOBS}/{QUEUED_ID}").get_data(as_text=True)


def test_cancel_of_a_finished_job_refreshes_with_a_notice(client: FlaskClient) -> None:
    token = csrf_from(client.get(f"{JOBS}/{SFT_OLD_ID}/cancel").get_data(as_text=True))
    response = client.post(f"{JOBS}/{SFT_OLD_ID}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{JOBS}/{SFT_OLD_ID}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Could not cancel" in page


def test_retry_that_makes_a_new_job_goes_to_it_compared_with_the_original(client: FlaskClient) -> None:
    token = csrf_from(client.get(f"{JOBS}/{FAILED_ID}/retry").get_data(as_text=True))
    response = client.post(f"{JOBS}/{FAILED_ID}/retry", data={"csrf_token": token})
    assert response.status_code == 303
    path, _, query = response.headers["Location"].partition("?")
    assert f"{JOBS}/" in path and FAILED_ID not in path
    assert query == f"compare={FAILED_ID}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ">queued<" in page
    assert "Retry started a new job" in page
    assert f'data-testid="compare-run" data-job-id="{FAILED_ID}"' in page


def test_unknown_route_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/nope/nope/nope")
    assert response.status_code == 404
    assert 'data-testid="error-page"' in response.get_data(as_text=True)


def test_a_finished_job_page_answers_304_to_its_etag(client: FlaskClient) -> None:
    first = client.get(f"{JOBS}/{SFT_OLD_ID}")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(f"{JOBS}/{SFT_OLD_ID}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_a_running_job_page_has_no_etag(client: FlaskClient, clock: Clock) -> None:
    clock.now += 5
    assert "ETag" not in client.get(f"{JOBS}/{RUNNING_FIRST_ID}").headers


def test_the_job_page_streams_its_head_before_the_charts(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{SFT_OLD_ID}", buffered=False)
    assert response.is_streamed
    chunks = iter(response.response)
    head = next(chunks)
    head = head.decode() if isinstance(head, bytes) else head
    assert "<!--flush-->" in head
    assert "plotly-basic" in head and 'data-testid="chart-loss"' not in head
    rest = "".join(c.decode() if isinstance(c, bytes) else c for c in chunks)
    assert 'data-testid="chart-loss"' in rest


def test_a_waiting_notice_is_shown_even_to_a_browser_holding_the_etag(client: FlaskClient) -> None:
    etag = client.get(f"{JOBS}/{SFT_OLD_ID}").headers["ETag"]
    token = csrf_from(client.get(f"{JOBS}/{SFT_OLD_ID}/cancel").get_data(as_text=True))
    client.post(f"{JOBS}/{SFT_OLD_ID}/cancel", data={"csrf_token": token})
    page = client.get(f"{JOBS}/{SFT_OLD_ID}", headers={"If-None-Match": etag})
    assert page.status_code == 200
    assert "Could not cancel" in page.get_data(as_text=True)


def test_a_notice_shows_once_and_is_gone_on_reload(client: FlaskClient) -> None:
    token = csrf_from(client.get(f"{JOBS}/{SFT_OLD_ID}/cancel").get_data(as_text=True))
    client.post(f"{JOBS}/{SFT_OLD_ID}/cancel", data={"csrf_token": token})
    assert "Could not cancel" in client.get(f"{JOBS}/{SFT_OLD_ID}").get_data(as_text=True)
    assert "Could not cancel" not in client.get(f"{JOBS}/{SFT_OLD_ID}").get_data(as_text=True)


def test_a_non_ascii_csrf_token_is_refused_not_a_crash(client: FlaskClient) -> None:
    client.get(f"{JOBS}/{FAILED_ID}/retry")
    assert client.post(f"{JOBS}/{FAILED_ID}/retry", data={"csrf_token": "é"}).status_code == 400


def test_an_unknown_status_filter_is_a_400(client: FlaskClient) -> None:
    response = client.get(JOBS, query_string={"status": "../../x"})
    assert response.status_code == 400
    assert "unknown status" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/static/..%2f..%2f..%2fetc%2fhostname", "/static/../README.md",
                                  "/static/nope.js"])
def test_static_files_outside_the_folder_are_not_served(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_script_is_a_module_served_as_javascript_gzipped(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{SFT_OLD_ID}").get_data(as_text=True)
    entry = re.search(r'<script type="module" src="(/static/js/main\.js\?v=\w+)" async>', html)
    assert entry, "the page loads js/main.js as an async module"
    modules = {entry.group(1)} | {f"/static/js/{path.name}" for path in (ROOT / "static" / "js").glob("*.js")}
    for url in modules:  # the entry (cached a year under its ?v=) and the modules it imports (revalidated)
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, url
        assert response.mimetype == "text/javascript" and response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.get_data()).startswith(b"//")
        assert ("immutable" in response.headers["Cache-Control"]) == ("?v=" in url)


def test_a_gzipped_module_revalidates_to_a_304(client: FlaskClient) -> None:
    first = client.get("/static/js/core.js", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    again = client.get("/static/js/core.js", headers={"Accept-Encoding": "gzip",
                                                      "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()


def test_every_module_import_names_a_module_there_is() -> None:
    folder = ROOT / "static" / "js"
    for module in folder.glob("*.js"):
        for name in re.findall(r'^import .* from "\./([^"]+)";$', module.read_text(), re.MULTILINE):
            assert (folder / name).is_file(), f"{module.name} imports a missing {name}"

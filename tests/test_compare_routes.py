"""Comparing runs through the routes: the page, its polled fragments, the zoom, the CSV, the
list's "Compare selected" and "add a run", on a source that records what it is asked for."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources import SourceError
from tests.static_source import JOBS, ORG, WORKSPACE, StaticSource, job

ME = "aaaaaaaa-0000-4000-8000-000000000001"
OLD = "aaaaaaaa-0000-4000-8000-000000000002"
LIVE = "aaaaaaaa-0000-4000-8000-000000000003"
SECRET = "aaaaaaaa-0000-4000-8000-000000000004"
MISSING = "aaaaaaaa-0000-4000-8000-0000000000ff"
PAGE = f"{JOBS}/{ME}"


def sft(values: list[float], scalars: dict[str, Any]) -> dict[str, Any]:
    return {"steps": list(range(1, len(values) + 1)), "train/loss": values, **scalars}


class Recording(StaticSource):
    """The test jobs; it records each job read, and one job is forbidden (403)."""

    def __init__(self, jobs: dict[str, tuple[dict[str, Any], list[Any]]]) -> None:
        super().__init__(jobs)
        self.reads: list[str] = []

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        self.reads.append(job_id)
        if job_id == SECRET:
            raise SourceError(403, "forbidden", kind="forbidden")
        return super().get_job(org, workspace, job_id)


@pytest.fixture
def source() -> Recording:
    return Recording({
        ME: (job(ME, sft([2.0, 1.0, 0.5], {"train/loss_last": 0.5, "train/reward_mean": 0.2,
                                            "train/steps": 3}), status="running", name="exp-b"),
             [{"message": "created", "data": {"retry_of": OLD}}]),
        OLD: (job(OLD, sft([3.0, 2.0, "NaN", 1.5], {"train/loss_last": 1.5, "train/reward_mean": 0.1,
                                                      "old/only": 1}), status="failed", name="exp-a"), []),
        LIVE: (job(LIVE, sft([2.5, 1.5], {"train/loss_last": 1.5}), status="running",
                   name="<script>alert(1)</script>"), []),
    })


@pytest.fixture
def client(source: Recording) -> FlaskClient:
    app = create_app(Settings("demo", organization=ORG, workspace=WORKSPACE), source)
    app.config["TESTING"] = True
    return app.test_client()


def text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code in (200, 286), (path, response.status_code)
    return response.get_data(as_text=True)


def notes(html: str) -> list[str]:
    return [unescape(n) for n in re.findall(r'data-testid="compare-note">([^<]*)<', html)]


def test_the_page_stays_the_first_job_and_notes_every_bad_entry(client: FlaskClient,
                                                                  source: Recording) -> None:
    html = text(client, f"{PAGE}?compare={OLD},{MISSING},{SECRET},../etc,{ME},{OLD}")
    assert '<h1 data-testid="job-name">exp-b</h1>' in html
    assert re.findall(r'data-testid="compare-run" data-job-id="([^"]+)"', html) == [OLD]
    assert notes(html) == [
        "'../etc' is not a job id (a UUID), so it is not compared.",
        "this job is not compared with itself.",
        "aaaaaaaa is listed twice; it is compared once.",
        "aaaaaaaa was not found in this workspace (404), so it is not compared.",
        "aaaaaaaa is not visible to you (403), so it is not compared."]
    assert "../etc" not in "".join(source.reads)
    assert set(source.reads) == {ME, OLD, MISSING, SECRET}


def test_more_than_five_compared_jobs_are_cut_with_a_note(client: FlaskClient, source: Recording) -> None:
    extra = [f"bbbbbbbb-0000-4000-8000-00000000000{i}" for i in range(5)]
    html = text(client, f"{PAGE}?compare={OLD},{','.join(extra)}")
    assert "bbbbbbbb was left out: at most 5 runs are compared." in notes(html)
    assert extra[-1] not in source.reads


def test_every_chart_draws_the_compared_job_with_a_legend_naming_it(client: FlaskClient) -> None:
    html = text(client, f"{PAGE}?compare={OLD},{LIVE}")
    figure = json.loads(unescape(re.search(r'data-testid="chart-loss".*?data-figure="([^"]*)"', html,
                                           re.S).group(1)))
    assert [t["name"] for t in figure["data"] if t["mode"] != "markers"] == [
        "exp-b (aaaaaaaa, running) · train/loss", "exp-a (aaaaaaaa, failed) · train/loss",
        "&lt;script&gt;alert(1)&lt;/script&gt; (aaaaaaaa, running) · train/loss"]
    assert "<script>alert" not in html
    assert re.search(r'data-testid="chart-badge-compare" data-job="' + OLD + r'">exp-a \(aaaaaaaa, '
                     r'failed\): <span data-count>3 points · 1 NaN/Inf</span>', html)


def test_the_tiles_show_each_compared_value_and_which_way_is_better(client: FlaskClient) -> None:
    html = text(client, f"{PAGE}?compare={OLD}")
    loss = re.search(r'data-key="train/loss_last".*?</div>\s*</div>', html, re.S).group(0)
    assert 'class="tile-delta delta-better" data-testid="tile-delta"' in loss
    assert "1.5 · Δ −1 (−66.67 %) · better" in " ".join(loss.split())
    reward = re.search(r'data-key="train/reward_mean".*?</div>\s*</div>', html, re.S).group(0)
    assert "0.1 · Δ +0.1 (+100 %) · better" in " ".join(reward.split())
    steps = re.search(r'data-key="train/steps".*?</div>\s*</div>', html, re.S).group(0)
    assert "no such metric" in steps
    assert "Only <code>aaaaaaaa</code> has old/only, which this job has not." in html


def test_a_live_pane_reads_a_finished_compared_job_once_not_on_every_poll(client: FlaskClient,
                                                                          source: Recording) -> None:
    text(client, f"{PAGE}?compare={OLD},{LIVE}")
    source.reads.clear()
    for _ in range(3):
        text(client, f"{PAGE}/summary?compare={OLD},{LIVE}")
        text(client, f"{PAGE}/charts?compare={OLD},{LIVE}&live={LIVE}")
    assert source.reads.count(OLD) == 0
    assert source.reads.count(LIVE) == 6


def test_a_finished_compared_job_drawn_once_is_drawn_again_without_being_read(client: FlaskClient,
                                                                             source: Recording) -> None:
    first = text(client, f"{PAGE}?compare={OLD},{LIVE}")
    source.reads.clear()
    again = text(client, f"{PAGE}?compare={OLD},{LIVE}")
    assert source.reads.count(OLD) == 0 and source.reads.count(LIVE) == 1  # the live one is read
    figures = [re.findall(r'data-figure="([^"]*)"', html) for html in (first, again)]
    assert figures[0] == figures[1]
    assert 'data-testid="compare-run" data-job-id="' + OLD in again
    text(client, f"{PAGE}?compare={OLD},{LIVE}&smooth=0.9")  # another view: drawn anew, once
    assert source.reads.count(OLD) == 1


def test_a_poll_sends_only_the_live_jobs_traces_and_marks_the_kept_ones(client: FlaskClient) -> None:
    html = text(client, f"{PAGE}/charts?compare={OLD},{LIVE}&live={LIVE}")
    assert 'data-compare-live="' + LIVE + '"' in html
    assert f'data-job="{OLD}" data-kept="true"' in html
    figure = json.loads(unescape(re.search(r'data-figure="([^"]*)"', html).group(1)))
    assert [t.get("meta") for t in figure["data"]] == ["", LIVE]  # named as on the page, OLD's kept
    assert figure["data"][0]["name"] == "exp-b (aaaaaaaa, running) · train/loss"


def test_the_summary_poll_keeps_the_comparison_in_its_url(client: FlaskClient) -> None:
    html = text(client, f"{PAGE}?compare={OLD}")
    assert f'hx-get="{PAGE}/summary?compare={OLD}"' in html
    polled = text(client, f"{PAGE}/summary?compare={OLD}")
    assert 'data-testid="tile-delta"' in polled and "compare-strip" not in polled  # the strip stays put


def test_a_zoom_refetches_every_compared_trace(client: FlaskClient) -> None:
    response = client.get(f"{PAGE}/charts/zoom", query_string={
        "chart": "chart-loss:Loss", "x0": 1, "x1": 2, "compare": f"{OLD},{LIVE}"})
    body = response.get_json()
    assert set(body["runs"]) == {OLD, LIVE}
    assert {t.get("meta") for t in body["data"]} == {"", OLD, LIVE}


def test_the_metrics_csv_has_one_column_set_per_job(client: FlaskClient) -> None:
    csv = text(client, f"{PAGE}/metrics.csv?compare={OLD},{MISSING}")
    assert csv.splitlines()[0] == "step,train/loss [aaaaaaaa],train/loss [aaaaaaaa]"
    assert csv.splitlines()[4] == "4,,1.5"


def test_compare_selected_opens_the_first_job_compared_with_the_others(client: FlaskClient) -> None:
    listing = text(client, JOBS)
    assert listing.count('data-testid="compare-select"') == 3
    response = client.get(f"{JOBS}/compare", query_string={"job": [ME, "junk", OLD, ME, LIVE]})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{PAGE}?compare={OLD}%2C{LIVE}"


def test_compare_selected_with_nothing_ticked_goes_back_to_the_list_with_a_note(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/compare", follow_redirects=True)
    assert "Select at least one job to compare" in response.get_data(as_text=True)


def test_add_a_run_suggests_the_retry_source_first_without_and_with_htmx(client: FlaskClient) -> None:
    page = text(client, f"{PAGE}?find=")
    rows = re.findall(r'data-testid="compare-candidate" data-job-id="([^"]+)"', page)
    assert rows == [OLD]
    assert "this run was retried from it" in page
    fragment = text(client, f"{PAGE}/compare/find?find=script")
    assert re.findall(r'data-job-id="([^"]+)"', fragment) == [LIVE]
    assert f'href="{PAGE}?compare={LIVE}"' in fragment
    assert "<script>" not in fragment


def test_a_finished_compared_job_is_remembered_only_as_long_as_the_cache_keeps_it() -> None:
    from dashboard.sources.cache import FINISHED_TTL
    from dashboard.web.kept import Kept

    kept, lapsed = Kept(4), Kept(4)
    kept.put(("scope", "job"), "its traces", FINISHED_TTL)
    lapsed.put(("scope", "job"), "its traces", 0.0)
    assert kept.get(("scope", "job")) == "its traces"
    assert lapsed.get(("scope", "job")) is None  # a retry may have started it again

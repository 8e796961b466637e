"""The last good run (issue 15): the divergence rule on full series, the choice of the baseline
from list rows, the view model's sentences, and the `lastgood` fragment on the demo and on
sources that fail or lie."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.analysis.baseline import last_good
from dashboard.analysis.divergence import compare
from dashboard.analysis.series import series
from dashboard.config import Settings
from dashboard.models import Job
from dashboard.sources import SourceError, parse_json
from dashboard.sources.demo import (
    ATTEMPT_ID,
    FAILED_ID,
    GOOD_ID,
    NAN_ID,
    SFT_OLD_ID,
    UNRELATED_ID,
    DemoSource,
)
from dashboard.sources.demo_failures import NAN_CLIMB
from dashboard.viewmodels.lastgood import lastgood_view
from dashboard.web import lastgood
from tests.static_source import JOBS, StaticSource, static_app
from tests.test_hostile_corpus import CASES, audit

T0 = datetime(2026, 11, 1, tzinfo=UTC)
ID = "00000000-0000-4000-8000-{:012d}"


def trend(n: int) -> np.ndarray:
    """A loss curve: 2.3 falling to 0.85."""
    return 0.85 + 1.45 * np.exp(-np.arange(n) / 1500)


def noisy(n: int, seed: int, noise: float = 0.03) -> np.ndarray:
    """The trend with multiplicative Gaussian noise."""
    return trend(n) * (1 + np.random.default_rng(seed).normal(0, noise, n))


def loss(values: Any, steps: Any = None) -> Any:
    """A `loss` series on its steps, as analysis.series reads it."""
    values = list(values)
    steps = list(range(1, len(values) + 1)) if steps is None else list(steps)
    return series({"steps": steps, "loss": values}, "loss")


def blown_up(n: int = 12_000, start: int = 11_940, seed: int = 2) -> np.ndarray:
    """A run that follows the trend, then climbs from step `start` (as the demo's blow-up does)."""
    steps = np.arange(1, n + 1)
    return noisy(n, seed) * np.where(steps > start, 1 + ((steps - start) / 20.0) ** 3, 1.0)


# --- the rule ---------------------------------------------------------------------------------


def test_it_finds_the_step_where_a_run_left_the_good_one_within_the_good_runs_noise():
    found = compare("loss", loss(noisy(20_000, 1)), loss(blown_up()))
    assert found is not None and found.side == 1 and found.still_off and found.kept_going
    assert 11_940 <= found.step <= 11_960
    assert found.last_step == 12_000 and found.ours > 10 * found.theirs


@pytest.mark.parametrize("seed", range(2, 8))
def test_a_run_with_the_same_noise_followed_the_good_one(seed):
    found = compare("loss", loss(noisy(20_000, 1)), loss(noisy(20_000, seed)))
    assert found is not None and found.step is None and found.side == 0
    assert found.last_step == 20_000 and found.shared == 20_000


def test_spikes_and_nan_blips_in_either_run_never_make_it_leave():
    good, run = noisy(20_000, 1), noisy(20_000, 3)
    good[[5_000, 9_000]] = 25.0
    run[[4_000, 4_001, 12_000]] = [40.0, 40.0, 0.01]
    run[[7_000, 7_001, 7_002]] = math.nan
    found = compare("loss", loss(good), loss([*run[:15_000], "NaN", *run[15_001:]]))
    assert found is not None and found.step is None


def test_noise_that_grows_as_the_loss_falls_is_no_divergence():
    n = 200_000
    curve = 2.5 * np.exp(-np.arange(n) / (n / 4)) + 0.3
    rng = np.random.default_rng(5)
    found = compare("loss", loss(curve + rng.random(n) * 0.05), loss(curve + rng.random(n) * 0.05))
    assert found is not None and found.step is None


def test_a_run_that_fell_below_the_good_one_is_said_to_be_below():
    run = noisy(5_000, 4)
    run[3_000:] *= 0.6  # from step 3,001
    found = compare("loss", loss(noisy(5_000, 1)), loss(run))
    assert found is not None and found.side == -1 and 2_990 <= found.step <= 3_010


def test_steps_are_aligned_when_the_runs_logged_different_steps():
    good = noisy(10_000, 1)
    run = noisy(10_000, 6)
    run[6_000:] *= 1.5
    every_other = range(2, 10_001, 2)  # the run logged every second step
    found = compare("loss", loss(good), loss(run[1::2], every_other))
    assert found is not None and found.side == 1 and 5_990 <= found.step <= 6_030


@pytest.mark.parametrize("case", ["strings inside", "epochs against steps", "epochs only",
                                  "steps out of order", "too few points", "lengths differ",
                                  "no shared steps"])
def test_what_cannot_be_put_on_one_axis_gives_no_claim(case):
    good = loss(noisy(1_000, 1)) if case != "epochs only" else series(
        {"epochs": list(range(1_000)), "loss": list(noisy(1_000, 1))}, "loss")
    run = {
        "strings inside": lambda: loss([*noisy(999, 2), "oops"]),
        "epochs against steps": lambda: series({"epochs": list(range(1_000)), "loss": list(noisy(1_000, 2))},
                                               "loss"),
        "epochs only": lambda: series({"epochs": list(range(1_000)), "loss": list(noisy(1_000, 2))}, "loss"),
        "steps out of order": lambda: loss(noisy(1_000, 2), [*range(2, 1_001), 1]),
        "too few points": lambda: loss(noisy(5, 2)),
        "lengths differ": lambda: series({"steps": list(range(1, 11)), "loss": list(noisy(1_000, 2))},
                                         "loss"),
        "no shared steps": lambda: loss(noisy(1_000, 2), range(5_001, 6_001)),
    }[case]()
    assert compare("loss", good, run) is None


def test_a_series_that_is_not_positive_is_compared_by_difference():
    rng = np.random.default_rng(9)
    good = np.linspace(-1, 1, 3_000) + rng.normal(0, 0.05, 3_000)
    run = np.linspace(-1, 1, 3_000) + rng.normal(0, 0.05, 3_000)
    run[2_000:] -= 0.5  # from step 2,001
    found = compare("reward", loss(good), loss(run))
    assert found is not None and found.side == -1 and 1_990 <= found.step <= 2_010


# --- the baseline -----------------------------------------------------------------------------


def row(n: int, status: str, hours: float, name: str | None = "policy-qa", **fields: Any) -> Job:
    """A list row created `hours` after T0."""
    created = (T0 + timedelta(hours=hours)).isoformat()
    return Job.from_api({"id": ID.format(n), "status": status, "name": name, "trainer_type": "sft",
                         "model": "Qwen/Qwen3-8B", "dataset_ref": {"name": "qa", "version": "2"},
                         "created_at": created, **fields})


def test_the_baseline_is_the_last_completed_run_of_the_name_before_this_one():
    job = row(0, "failed", 100)
    rows = [row(1, "completed", 10), row(2, "completed", 20), row(3, "failed", 30), row(4, "cancelled", 40),
            row(5, "running", 50), row(6, "completed", 60, name="other"), row(7, "completed", 200), job]
    found = last_good(job, rows)
    assert found.good is not None and found.good.id == ID.format(2) and found.kind == "name"
    assert [r.id for r in found.failed] == [ID.format(4), ID.format(3)]  # newest first, never the baseline


def test_without_a_completed_run_of_the_name_the_same_trainer_model_and_dataset_will_do():
    job = row(0, "failed", 100)
    rows = [row(1, "failed", 90), row(2, "completed", 80, name="renamed"),
            row(3, "completed", 85, name="same-name-other-data", dataset_ref={"name": "other"})]
    found = last_good(job, rows)
    assert found.good is not None and found.good.id == ID.format(2) and found.kind == "spec"


def test_the_run_it_was_retried_from_is_the_baseline_only_when_it_completed():
    job = row(0, "failed", 100, name="renamed")
    assert last_good(job, [row(1, "completed", 50)], row(2, "completed", 10)).good.id == ID.format(2)
    found = last_good(job, [row(1, "completed", 50, name="renamed")], row(2, "failed", 90, name="renamed"))
    assert found.good.id == ID.format(1) and [r.id for r in found.failed] == [ID.format(2)]


def test_no_creation_time_or_no_run_of_its_kind_gives_no_baseline():
    undated = Job.from_api({"id": ID.format(0), "status": "failed", "name": "policy-qa"})
    assert last_good(undated, [row(1, "completed", 10)]).good is None
    found = last_good(row(0, "failed", 100), [row(1, "failed", 10), row(2, "completed", 10, name="x",
                                                                         model="other")])
    assert found.good is None and len(found.failed) == 1 and found.kind == "name"


# --- the sentences ----------------------------------------------------------------------------


def job_with(n: int, status: str, hours: float, values: Any, **fields: Any) -> Job:
    """A job whose `train/loss` is `values`."""
    values = list(values)
    payload = json.loads(json.dumps({"id": ID.format(n), "status": status, "name": "policy-qa",
                                     "created_at": (T0 + timedelta(hours=hours)).isoformat(),
                                     "metrics": {"steps": list(range(1, len(values) + 1)),
                                                 "train/loss": values}, **fields}))
    return Job.from_api(payload)


def view_of(job: Job, good: Job, failed: tuple[Job, ...] = ()) -> Any:
    found = last_good(job, [good, *failed])
    urls = {j.id: f"/jobs/{j.id}" for j in (good, *failed)}
    return lastgood_view(job, found, good, urls, f"/jobs/{job.id}", None)


def test_a_failed_run_says_where_it_left_the_good_one_and_links_the_comparison_zoomed_there():
    good = job_with(1, "completed", 10, noisy(20_000, 1))
    attempt = job_with(2, "failed", 20, noisy(100, 9))
    view = view_of(job_with(0, "failed", 30, blown_up()), good, (attempt,))
    (claim,) = view.claims
    assert claim.verb == "left" and re.match(r"at step 11,9[45]\d and kept rising: \S+ vs \S+ at step 12,000",
                                             claim.rest)
    step = float(re.search(r"step ([\d,]+)", claim.rest).group(1).replace(",", ""))
    zoom = re.search(r"zoom=([\d.]+):([\d.]+)$", view.compare_url)
    assert view.compare_url.startswith(f"/jobs/{ID.format(0)}?compare={ID.format(1)}&zoom=")
    assert float(zoom.group(1)) < step < float(zoom.group(2))
    assert view.failed_sentence == "the last run of this name failed as well"
    assert [r.url for r in view.failed] == [f"/jobs/{ID.format(2)}"]
    assert not view.behind  # a failed job: no running warning


def test_a_running_job_already_behind_the_good_run_is_a_warning_and_one_ahead_is_not():
    good = job_with(1, "completed", 10, noisy(20_000, 1))
    behind = view_of(job_with(0, "running", 30, blown_up(12_000, 11_000)), good)
    assert behind.behind and behind.running
    better = noisy(12_000, 3)
    better[8_000:] *= 0.7
    ahead = view_of(job_with(0, "running", 30, better), good)
    assert [c.verb for c in ahead.claims] == ["left"] and not ahead.behind


def test_a_run_that_followed_says_so_up_to_where_it_stopped():
    good = job_with(1, "completed", 10, noisy(20_000, 1))
    (claim,) = view_of(job_with(0, "cancelled", 30, noisy(8_000, 4)), good).claims
    assert claim.verb == "followed" and claim.rest.startswith("up to step 8,000, where this run stopped")


def test_no_shared_series_gives_a_muted_line_and_no_claim():
    good = job_with(1, "completed", 10, ["x"] * 50)
    view = view_of(job_with(0, "failed", 30, noisy(100, 2)), good)
    assert view.good is not None and view.claims == ()
    assert view.note == "No series both runs logged on the same steps could be compared."


# --- the fragment -----------------------------------------------------------------------------


@pytest.fixture
def demo() -> FlaskClient:
    app = create_app(Settings("demo"), DemoSource())
    app.config["TESTING"] = True
    return app.test_client()


def fragment(client: FlaskClient, job_id: str, htmx: bool = True) -> Any:
    return client.get(f"{JOBS}/{job_id}/lastgood", headers={"HX-Request": "true"} if htmx else {})


def test_the_nan_blowup_names_its_good_run_the_step_and_the_failed_attempt_not_the_unrelated_run(demo):
    response = fragment(demo, NAN_ID)
    assert response.status_code == 286  # a finished job: htmx asks once
    text = html.unescape(response.get_data(as_text=True))
    link = re.search(r'<a href="([^"]+)" data-testid="lastgood-link">([^<]+)</a>', text)
    assert link.groups() == (f"{JOBS}/{GOOD_ID}", "policy-qa-sft-20k")
    step = int(re.search(r"Loss left <code>policy-qa-sft-20k</code> at step ([\d,]+)", text)
               .group(1).replace(",", ""))
    assert NAN_CLIMB <= step <= NAN_CLIMB + 20
    compared = re.search(r'href="([^"]+)" data-testid="lastgood-compare"', text).group(1)
    assert compared.startswith(f"{JOBS}/{NAN_ID}?compare={GOOD_ID}&zoom=")
    assert "The last run of this name failed as well" in text and f"{JOBS}/{ATTEMPT_ID}" in text
    assert UNRELATED_ID not in text


def test_without_htmx_the_fragment_is_a_page_of_its_own(demo):
    response = fragment(demo, NAN_ID, htmx=False)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.rstrip().endswith("</html>")
    assert 'data-testid="lastgood-link"' in text and f'href="{JOBS}/{NAN_ID}"' in text


def test_the_triage_card_loads_it_with_a_plain_link_for_no_javascript(demo):
    page = demo.get(f"{JOBS}/{NAN_ID}").get_data(as_text=True)
    holder = re.search(r'<div id="lastgood" hx-get="([^"]+)" hx-trigger="load"[^>]*>\s*<a href="([^"]+)"',
                       page)
    assert holder.group(1) == holder.group(2) == f"{JOBS}/{NAN_ID}/lastgood"


def test_a_failed_run_with_nothing_to_compare_gets_a_muted_line(demo):
    text = fragment(demo, FAILED_ID).get_data(as_text=True)
    assert "lastgood-link" not in text and "lastgood-compare" not in text
    assert re.search(r'<p class="muted">No earlier completed run of this name, or of this kind', text)


class CountingSource(StaticSource):
    """Fixed jobs; counts list reads, and fails them when told to."""

    def __init__(self, jobs: dict[str, tuple[dict[str, Any], list[Any]]]) -> None:
        super().__init__(jobs)
        self.list_reads = 0
        self.reads: list[str] = []
        self.fail = False

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        self.reads.append(job_id)
        return super().get_job(org, workspace, job_id)

    def list_jobs(self, org: str, workspace: str, **kwargs: Any) -> dict[str, Any]:
        self.list_reads += 1
        if self.fail:
            raise SourceError(503, "the platform is unavailable")
        return super().list_jobs(org, workspace, **kwargs)


def two_runs() -> dict[str, tuple[dict[str, Any], list[Any]]]:
    good = {"id": ID.format(1), "status": "completed", "name": "policy-qa",
            "created_at": "2026-11-01T00:00:00Z",
            "metrics": {"steps": list(range(1, 2_001)), "train/loss": list(noisy(2_000, 1))}}
    failed = {**good, "id": ID.format(2), "status": "failed", "created_at": "2026-11-02T00:00:00Z"}
    return {j["id"]: (j, []) for j in (good, failed)}


def test_the_list_and_the_good_run_are_read_once_a_minute_per_job_not_once_a_view():
    source = CountingSource(two_runs())
    app = create_app(Settings("demo"), source)
    clock = [0.0]
    app.extensions["lastgood"] = lastgood.Searches(lambda: clock[0])
    client = app.test_client()
    for _ in range(5):
        assert 'data-testid="lastgood-link"' in fragment(client, ID.format(2)).get_data(as_text=True)
    assert source.list_reads == 1 and source.reads.count(ID.format(1)) == 1  # compared once
    clock[0] = lastgood.SEARCH_SECONDS + 1
    fragment(client, ID.format(2))
    assert source.list_reads == 2 and source.reads.count(ID.format(1)) == 2


def test_a_list_that_cannot_be_read_gives_a_muted_line_never_an_error_page():
    source = CountingSource(two_runs())
    source.fail = True
    response = fragment(create_app(Settings("demo"), source).test_client(), ID.format(2))
    assert response.status_code == 286
    assert "The job list could not be read" in response.get_data(as_text=True)


def test_rows_with_invalid_ids_never_reach_the_platform_or_a_link():
    jobs = two_runs()
    good = dict(jobs[ID.format(1)][0], id="../../admin?x=<b>")
    jobs = {good["id"]: (good, []), ID.format(2): jobs[ID.format(2)]}
    text = fragment(static_app(jobs).test_client(), ID.format(2)).get_data(as_text=True)
    assert "admin" not in text and "lastgood-link" not in text


def test_retry_remembers_the_run_it_started_from():
    jobs = two_runs()
    retried = dict(jobs[ID.format(2)][0], id=ID.format(3), name="renamed", created_at="2026-11-03T00:00:00Z")
    jobs[ID.format(3)] = (retried, [])
    app = static_app(jobs)
    with app.test_request_context():
        lastgood.remember_retry(app.config["SOURCE"], "acme", "research", ID.format(3), ID.format(1))
    text = fragment(app.test_client(), ID.format(3)).get_data(as_text=True)
    assert f'href="{JOBS}/{ID.format(1)}" data-testid="lastgood-link"' in text


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_hostile_good_run_is_shown_as_text_or_not_at_all(case):
    hostile = parse_json(case.job)  # as the platform source reads it
    if not isinstance(hostile, dict):
        hostile = {}
    good = {**hostile, "id": ID.format(1), "status": "completed", "created_at": "2026-11-01T00:00:00Z"}
    failed = {"id": ID.format(2), "status": "failed", "created_at": "2026-11-02T00:00:00Z",
              **{key: hostile.get(key) for key in ("name", "trainer_type", "model", "dataset_ref",
                                                   "metrics")}}
    jobs = {ID.format(1): (good, []), ID.format(2): (failed, [])}
    response = fragment(static_app(jobs).test_client(), ID.format(2))
    assert response.status_code == 286, response.get_data(as_text=True)[:500]
    audit(response.get_data(as_text=True))


def test_a_completed_job_page_loads_no_lastgood_part(demo):
    page = demo.get(f"{JOBS}/{SFT_OLD_ID}").get_data(as_text=True)
    assert 'id="lastgood' not in page


def test_a_running_job_already_behind_shows_the_warning_when_watched_and_nothing_otherwise():
    jobs = two_runs()
    running = dict(jobs[ID.format(2)][0], status="running",
                   metrics={"steps": list(range(1, 1_501)), "train/loss": list(blown_up(1_500, 1_200))})
    jobs[ID.format(2)] = (running, [])
    jobs[ID.format(3)] = (dict(running, id=ID.format(3), metrics=two_runs()[ID.format(1)][0]["metrics"]), [])
    client = static_app(jobs).test_client()
    behind = client.get(f"{JOBS}/{ID.format(2)}/lastgood?watch=1", headers={"HX-Request": "true"})
    assert behind.status_code == 200  # still running: it keeps polling
    text = behind.get_data(as_text=True)
    assert 'data-testid="lastgood-behind"' in text and 'role="alert"' in text
    assert f'hx-get="{JOBS}/{ID.format(2)}/lastgood?watch=1" hx-trigger="every 60s"' in text
    on_track = client.get(f"{JOBS}/{ID.format(3)}/lastgood?watch=1", headers={"HX-Request": "true"})
    assert "lastgood-behind" not in on_track.get_data(as_text=True)

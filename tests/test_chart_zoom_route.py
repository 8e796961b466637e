"""The chart zoom route (`.../charts/zoom`), through the Flask test client on the demo source."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources.demo import RL_TINKER_ID, SFT_OLD_ID, DemoSource

RUN_SECONDS = 60.0
JOBS = "/acme/research/training/jobs"
ZOOM = f"{JOBS}/{SFT_OLD_ID}/charts/zoom"
LOSS = "chart-loss:Loss"
DEMO_STEPS = 100  # the demo's old-style SFT job logs steps 1..100
LONG_STEPS = 10_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class LongDemoSource(DemoSource):
    """The demo, with the old-style SFT job's loss stretched to LONG_STEPS steps."""

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        job = super().get_job(org, workspace, job_id)
        if job_id == SFT_OLD_ID:
            steps = list(range(1, LONG_STEPS + 1))
            rng = np.random.default_rng(5)
            loss = (2.0 * np.exp(-np.arange(LONG_STEPS) / 3000) + 0.1 * rng.random(LONG_STEPS)).tolist()
            job["metrics"] |= {"steps": steps, "train_loss": loss,
                               "learning_rate": [1e-4] * LONG_STEPS,
                               "val_loss": [None] * (LONG_STEPS - 1) + [0.9]}
        return job


def make_app(source: DemoSource) -> Flask:
    app = create_app(Settings("demo", organization="acme", workspace="research"), source)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(clock: Clock) -> Flask:
    return make_app(DemoSource(clock=clock, run_seconds=RUN_SECONDS))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def long_client(clock: Clock) -> FlaskClient:
    return make_app(LongDemoSource(clock=clock, run_seconds=RUN_SECONDS)).test_client()


def decode(value: Any) -> list:
    """A figure array as a list: plotly sends numpy arrays as {"dtype", "bdata": base64}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


def reject_constant(name):
    raise AssertionError(f"{name} literal in zoom JSON")


def zoom(client: FlaskClient, **params: Any) -> dict:
    """GET the zoom route, check it answered JSON, and return the body."""
    response = client.get(ZOOM, query_string={"chart": LOSS, **params})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True), parse_constant=reject_constant)


def steps_of(body: dict) -> list:
    return decode(body["data"][0]["x"])


def test_zoom_answers_json_with_the_traces_and_the_badge(client: FlaskClient) -> None:
    response = client.get(ZOOM, query_string={"chart": LOSS})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"data", "badge"}
    assert body["badge"] == f"{DEMO_STEPS} points"
    (line,) = body["data"]
    assert line["name"] == "train_loss"
    assert steps_of(body) == list(range(1, DEMO_STEPS + 1))
    assert all(math.isfinite(v) for v in decode(line["y"]))


def test_zoom_narrowed_by_x0_and_x1_returns_only_that_range_with_a_point_of_margin(
        client: FlaskClient) -> None:
    body = zoom(client, x0=20, x1=30)
    assert steps_of(body) == list(range(19, 32))
    assert body["badge"] == "13 points"
    assert len(steps_of(body)) < len(steps_of(zoom(client)))


def test_zoom_accepts_fractional_ends(client: FlaskClient) -> None:
    assert steps_of(zoom(client, x0=20.5, x1=22.5)) == [20, 21, 22, 23]


def test_zoom_with_only_x1_is_open_on_the_left(client: FlaskClient) -> None:
    assert steps_of(zoom(client, x1=5)) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "Infinity", "junk", ""])
def test_zoom_ignores_a_non_finite_or_unreadable_x0(client: FlaskClient, bad: str) -> None:
    body = zoom(client, x0=bad, x1=10)
    assert steps_of(body) == list(range(1, 12))
    assert body["badge"] == "11 points"


def test_zoom_ignores_a_non_finite_x1(client: FlaskClient) -> None:
    assert steps_of(zoom(client, x0=95, x1="inf")) == [94, 95, 96, 97, 98, 99, 100]


def test_zoom_of_an_unknown_chart_is_404(client: FlaskClient) -> None:
    response = client.get(ZOOM, query_string={"chart": "chart-loss:Nope"})
    assert response.status_code == 404
    assert client.get(ZOOM).status_code == 404


def test_zoom_of_a_chart_with_no_data_is_404(client: FlaskClient) -> None:
    url = f"{JOBS}/{RL_TINKER_ID}/charts/zoom"
    assert client.get(url, query_string={"chart": "chart-reward:Reward"}).status_code == 404


def test_zoom_of_an_unknown_job_is_404(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/no-such-job/charts/zoom", query_string={"chart": LOSS})
    assert response.status_code == 404


def test_zoom_of_the_lone_val_loss_point_draws_it_with_markers(client: FlaskClient) -> None:
    response = client.get(ZOOM, query_string={"chart": "chart-val-loss:Validation loss"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["badge"] == "1 point"
    line = body["data"][0]
    assert "markers" in line["mode"]
    assert decode(line["x"])[-1] == DEMO_STEPS


def test_zoom_of_a_long_series_downsamples_to_twice_the_default_600_pixels(
        long_client: FlaskClient) -> None:
    body = zoom(long_client)
    shown = len(steps_of(body))
    # min/max buckets are a whole number of steps wide (here 17), so a little under the budget
    assert 1100 <= shown <= 1200
    assert body["badge"] == f"{shown:,} of 10,000 points · min/max kept"


@pytest.mark.parametrize(("px", "budget"), [(100, 200), (400, 800), (1000, 2000)])
def test_zoom_px_caps_the_budget_at_two_points_a_pixel(
        long_client: FlaskClient, px: int, budget: int) -> None:
    body = zoom(long_client, px=px)
    xs = steps_of(body)
    # Buckets are a whole number of steps wide, so 10,000 steps fill 90% of a 2,000 budget.
    assert budget * 0.9 <= len(xs) <= budget
    assert xs[0] == 1
    assert xs[-1] == LONG_STEPS
    assert body["badge"] == f"{len(xs):,} of 10,000 points · min/max kept"


def test_zoom_more_pixels_draw_more_points(long_client: FlaskClient) -> None:
    counts = [len(steps_of(zoom(long_client, px=px))) for px in (100, 400, 1000, 2000)]
    assert counts == sorted(set(counts))


def test_zoom_px_cannot_raise_the_budget_past_max_points(long_client: FlaskClient) -> None:
    assert len(steps_of(zoom(long_client, px=1_000_000))) <= 4000


def test_zoom_px_of_zero_or_junk_falls_back_to_600_pixels(long_client: FlaskClient) -> None:
    default = steps_of(zoom(long_client))
    assert steps_of(zoom(long_client, px=0)) == default
    assert steps_of(zoom(long_client, px="wide")) == default


def test_zoom_into_a_long_series_is_at_full_resolution(long_client: FlaskClient) -> None:
    body = zoom(long_client, x0=5000, x1=5500, px=600)
    assert steps_of(body) == list(range(4999, 5502))
    assert body["badge"] == "503 points"

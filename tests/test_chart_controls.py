"""Chart controls: the debiased EMA, the URL options (validated), the x-axis choices and what the
figures and chart fragments draw with them."""

from __future__ import annotations

import base64
import json
import math
import re
from html import unescape
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.models import Job
from dashboard.viewmodels.chart_controls import (
    DEFAULT_OPTIONS,
    MAX_SMOOTH,
    ChartOptions,
    parse_options,
    parse_zoom,
    settle,
    x_choices,
)
from dashboard.viewmodels.charts import plan_charts
from dashboard.viewmodels.charts_section import charts_view
from dashboard.viewmodels.figures import render
from dashboard.viewmodels.smoothing import ema
from tests.ema_reference import ema_reference
from tests.static_source import JOBS, job, static_app

# ---- the EMA -------------------------------------------------------------------------------


def test_the_first_smoothed_value_is_the_first_value_thanks_to_debiasing() -> None:
    smoothed = ema(np.array([10.0, 0.0, 0.0]), 0.9)
    assert smoothed[0] == pytest.approx(10.0)
    # ema_2 = 0.9 * 1 + 0.1 * 0 = 0.9 (undebiased 0.09 * 10 ...): debiased by 1 - 0.81
    assert smoothed[1] == pytest.approx(0.9 * 0.1 * 10 / (1 - 0.81))
    assert smoothed[2] == pytest.approx(0.81 * 0.1 * 10 / (1 - 0.729))


def test_a_constant_series_stays_constant() -> None:
    for weight in (0.5, 0.9, 0.99, MAX_SMOOTH):
        assert np.allclose(ema(np.full(5000, 3.25), weight), 3.25, rtol=0, atol=1e-12)
    assert np.array_equal(ema(np.zeros(10), 0.9), np.zeros(10))


@pytest.mark.parametrize("weight", [0.001, 0.3, 0.6, 0.9, 0.95, 0.99, 0.999])
@pytest.mark.parametrize("length", [1, 2, 49, 50, 51, 1023, 1024, 1025, 4000])
def test_the_fast_ema_matches_the_one_value_at_a_time_definition(weight: float, length: int) -> None:
    rng = np.random.default_rng(length)
    y = rng.normal(3, 10, length)
    y[rng.random(length) < 0.15] = np.nan
    fast, slow = ema(y, weight), np.array(ema_reference(y.tolist(), weight))
    assert np.array_equal(np.isnan(fast), np.isnan(slow))
    assert np.allclose(fast[~np.isnan(fast)], slow[~np.isnan(slow)], rtol=1e-9, atol=1e-9)


def test_gaps_stay_gaps_and_the_average_resumes_after_them() -> None:
    y = np.array([np.nan, 1.0, np.nan, np.nan, 3.0, np.nan])
    smoothed = ema(y, 0.5)
    assert np.isnan(smoothed[[0, 2, 3, 5]]).all()
    assert smoothed[1] == 1.0
    assert smoothed[4] == pytest.approx((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25))
    assert np.isnan(ema(np.full(4, np.nan), 0.9)).all()
    assert len(ema(np.zeros(0), 0.9)) == 0


@pytest.mark.parametrize("weight", [0.0, -0.5, 1.0, 2.0, math.nan])
def test_a_weight_outside_0_1_leaves_the_series_alone(weight: float) -> None:
    y = np.array([1.0, np.nan, 3.0])
    out = ema(y, weight)
    assert np.array_equal(out, y, equal_nan=True) and out is not y


def test_hostile_magnitudes_never_overflow_or_leave_their_range() -> None:
    big = np.finfo(np.float64).max
    y = np.array([big, big, -big, big, 5e-324, np.inf, -np.inf, np.nan, big])
    smoothed = ema(y, 0.9)
    finite = np.isfinite(y)
    assert np.isfinite(smoothed[finite]).all()
    assert np.isnan(smoothed[~finite]).all()
    assert smoothed[0] == big and smoothed[1] == big
    assert (np.abs(smoothed[finite]) <= big).all()
    tiny = ema(np.array([1e-300, 2e-300, 3e-300]), 0.5)
    assert np.allclose(tiny, ema_reference([1e-300, 2e-300, 3e-300], 0.5), rtol=1e-9, atol=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=-1e300, max_value=1e300),
                          st.sampled_from([math.nan, math.inf, -math.inf])), min_size=1, max_size=300),
       st.floats(min_value=0.001, max_value=MAX_SMOOTH))
def test_every_smoothed_value_lies_within_the_values_so_far(values: list[float], weight: float) -> None:
    y = np.array(values)
    smoothed = ema(y, weight)
    seen: list[float] = []
    finite = np.abs(y[np.isfinite(y)])
    slack = 1e-12 * (float(finite.max()) if len(finite) else 0.0)  # rounding, relative to the largest
    for value, out in zip(y.tolist(), smoothed.tolist(), strict=True):
        if not math.isfinite(value):
            assert math.isnan(out)
            continue
        seen.append(value)
        assert min(seen) - slack <= out <= max(seen) + slack


# ---- the options in the URL ----------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ({}, ChartOptions()),
    ({"smooth": "0.9"}, ChartOptions(smooth=0.9)),
    ({"smooth": "0"}, ChartOptions()),
    ({"smooth": "0.9989"}, ChartOptions(smooth=0.999)),
    ({"smooth": " 0.6 "}, ChartOptions(smooth=0.6)),
    ({"logy": "1"}, ChartOptions(logy=True)),
    ({"logy": "true"}, ChartOptions(logy=True)),
    ({"logy": "0"}, ChartOptions()),
    ({"x": "epoch"}, ChartOptions(x="epoch")),
    ({"x": "TIME"}, ChartOptions(x="time")),
    ({"zoom": "120:480"}, ChartOptions(zoom=(120.0, 480.0))),
    ({"zoom": "-1.5:2e3"}, ChartOptions(zoom=(-1.5, 2000.0))),
])
def test_parse_options_reads_good_values(args: dict[str, str], expected: ChartOptions) -> None:
    assert parse_options(args) == (expected, [])


@pytest.mark.parametrize(("args", "word"), [
    ({"smooth": "abc"}, "smooth"), ({"smooth": "-0.1"}, "smooth"), ({"smooth": "1"}, "smooth"),
    ({"smooth": "nan"}, "smooth"), ({"smooth": "inf"}, "smooth"), ({"smooth": "1e400"}, "smooth"),
    ({"logy": "maybe"}, "logy"), ({"x": "wallclock"}, "x="), ({"x": "<script>"}, "x="),
    ({"zoom": "5:1"}, "zoom"), ({"zoom": "1:1"}, "zoom"), ({"zoom": "a:b"}, "zoom"),
    ({"zoom": "1:inf"}, "zoom"), ({"zoom": "7"}, "zoom"), ({"zoom": "1:2:3"}, "zoom"),
])
def test_parse_options_ignores_bad_values_with_a_note(args: dict[str, str], word: str) -> None:
    found, notes = parse_options(args)
    assert found == DEFAULT_OPTIONS
    assert len(notes) == 1 and word in notes[0] and "ignored" in notes[0]


def test_options_make_their_query_strings() -> None:
    options = ChartOptions(0.95, True, "epoch", (1.0, 2.5))
    assert options.query == "smooth=0.95&logy=1&x=epoch"
    assert options.params() == [("smooth", "0.95"), ("logy", "1"), ("x", "epoch"), ("zoom", "1:2.5")]
    assert DEFAULT_OPTIONS.query == ""
    assert ("0.87", "0.87") in ChartOptions(smooth=0.87).smooth_choices
    assert parse_zoom("1:2") == (1.0, 2.0) and parse_zoom("2:1") is None


# ---- the x-axis ----------------------------------------------------------------------------

STEPS = list(range(1, 101))
EPOCHS = [s / 40 for s in STEPS]
ISO = [f"2026-11-20T10:{m:02d}:{s:02d}Z" for m, s in (divmod(10 * i, 60) for i in range(100))]


def metrics(**more: Any) -> dict[str, Any]:
    return {"steps": STEPS, "train/loss": [2.0 / s for s in STEPS], "eval/steps": [50, 100],
            "eval/loss_history": [0.05, 0.03], **more}


def reasons(found: dict[str, Any]) -> dict[str, str | None]:
    return {c.value: c.reason for c in x_choices(found)}


def test_epoch_and_time_are_unavailable_without_their_series_and_say_why() -> None:
    why = reasons(metrics())
    assert why["step"] is None
    assert why["epoch"] == "this job publishes no per-step `epochs` series"
    assert "no time for each step" in why["time"] and "made up" in why["time"]
    options, axis, notes = settle(metrics(), ChartOptions(x="time", zoom=(1, 2)))
    assert options == DEFAULT_OPTIONS and axis is None
    assert notes == [f"x=time was ignored: {why['time']}"]


def test_mismatched_or_unreadable_axes_say_so() -> None:
    assert reasons(metrics(epochs=EPOCHS[:10]))["epoch"] == "`epochs` has 10 values but `steps` has 100"
    assert reasons(metrics(epochs=["a"] * 100))["epoch"] == "its `epochs` series holds no numbers"
    short = reasons(metrics(timestamps=ISO[:5]))["time"]
    assert short == "`timestamps` has 5 values but `steps` has 100"
    unreadable = reasons(metrics(timestamps=["soon"] * 100))["time"]
    assert unreadable == "`timestamps` holds fewer than two readable times"


def test_charts_move_onto_epochs_including_eval_series() -> None:
    job_ = Job.from_api(job("j", metrics(epochs=EPOCHS)))
    _, axis, notes = settle(job_.metrics, ChartOptions(x="epoch"))
    assert notes == [] and axis is not None
    drawn = {card.chart.testid: card.chart for card in charts_view(job_, "/j", ChartOptions(x="epoch")).cards}
    loss, evals = drawn["chart-loss"], drawn["chart-val-loss"]
    assert loss.series[0].x_label == "Epoch"
    assert np.allclose(loss.series[0].x, EPOCHS)
    assert np.allclose(evals.series[0].x, [50 / 40, 100 / 40])  # eval steps mapped through steps


@pytest.mark.parametrize("times", [ISO, [1_800_000_000 + 10 * i for i in range(100)]])
def test_relative_time_comes_from_per_step_times(times: list[Any]) -> None:
    found = metrics(timestamps=times)
    assert reasons(found)["time"] is None
    _, axis, _ = settle(found, ChartOptions(x="time"))
    assert axis is not None and axis.label == "Minutes since the first step"  # 990 s in all
    assert axis.values[0] == 0 and axis.values[-1] == pytest.approx(990 / 60)
    chart = next(charts_view(Job.from_api(job("j", found)), "/j", ChartOptions(x="time")).cards).chart
    assert chart.series[0].x[1] == pytest.approx(10 / 60)


def test_time_keys_are_an_axis_never_a_chart() -> None:
    found = metrics(timestamps=[1_800_000_000 + i for i in range(100)])
    assert all("timestamps" not in p.keys for p in plan_charts(Job.from_api(job("j", found))))


# ---- figures ---------------------------------------------------------------------------------


def decode(array: Any) -> list[float]:
    """A Plotly typed array (or plain list) as floats."""
    if isinstance(array, list):
        return [math.nan if v is None else float(v) for v in array]
    dtype = {"f4": np.float32, "f8": np.float64, "i4": np.int32}[array["dtype"]]
    return np.frombuffer(base64.b64decode(array["bdata"]), dtype=dtype).astype(float).tolist()


def loss_chart(values: list[float | None]) -> Any:
    found = {"steps": list(range(1, len(values) + 1)), "train/loss": values}
    return next(charts_view(Job.from_api(job("j", found)), "/j").cards).chart


def test_smoothing_draws_the_ema_over_the_faint_raw_line() -> None:
    values = [1.0, 5.0, 2.0, None, 4.0, 3.0]  # a null: a gap, not a NaN marker
    figure = json.loads(render(loss_chart(values), smooth=0.6).figure)
    assert len(figure["data"]) == 2
    raw, smooth = figure["data"][:2]
    assert raw["name"] == "train/loss (raw)" and raw["opacity"] == 0.3 and raw["showlegend"] is False
    assert raw["hoverinfo"] == "skip"
    assert smooth["name"] == "train/loss"
    floats = [math.nan if v is None else v for v in values]
    assert np.allclose(decode(smooth["y"]), ema_reference(floats, 0.6), equal_nan=True, rtol=1e-6)
    assert np.allclose(decode(raw["y"]), floats, equal_nan=True)
    assert figure["layout"]["showlegend"] is False  # one series: no legend for its raw line
    assert "smoothed (EMA 0.6)" in render(loss_chart(values), smooth=0.6).badge


def test_a_zoomed_window_is_smoothed_on_the_whole_series_first() -> None:
    values = [float(v % 7) for v in range(1000)]
    chart = loss_chart(values)
    window = json.loads(render(chart, 500, 510, smooth=0.9).figure)
    x = decode(window["data"][1]["x"])
    full = ema_reference(values, 0.9)
    assert np.allclose(decode(window["data"][1]["y"]), [full[int(s) - 1] for s in x], rtol=1e-6)
    assert window["layout"]["xaxis"]["range"] == [500, 510]
    assert window["layout"]["xaxis"]["autorange"] is False


def test_log_y_uses_a_log_axis_and_counts_what_it_cannot_draw() -> None:
    rendered = render(loss_chart([1.0, 0.0, -2.0, 0.5, math.nan]), logy=True)
    layout = json.loads(rendered.figure)["layout"]
    assert layout["yaxis"]["type"] == "log" and "range" not in layout["yaxis"]
    assert rendered.badge.endswith("log y: 2 values ≤ 0 cannot be drawn")
    assert render(loss_chart([1.0, 2.0]), logy=True).badge.endswith("· log y")
    assert json.loads(render(loss_chart([1e-4, 1e-4]), logy=False).figure)["layout"]["yaxis"]["range"]


# ---- routes ----------------------------------------------------------------------------------

PLAIN_ID = "20000000-0000-4000-8000-000000000001"
RICH_ID = "20000000-0000-4000-8000-000000000002"


@pytest.fixture
def client() -> FlaskClient:
    return static_app({
        PLAIN_ID: (job(PLAIN_ID, metrics()), []),
        RICH_ID: (job(RICH_ID, metrics(epochs=EPOCHS, timestamps=ISO)), []),
    }).test_client()


def page_figure(html: str, testid: str) -> dict[str, Any]:
    found = re.search(rf'data-testid="{testid}".*?data-figure="([^"]*)"', html, re.S)
    assert found, testid
    return json.loads(unescape(found.group(1)))


def test_the_page_draws_with_the_options_of_its_url(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RICH_ID}?smooth=0.9&logy=1&x=epoch&zoom=0.5:1.5").get_data(as_text=True)
    figure = page_figure(html, "chart-loss")
    assert figure["layout"]["yaxis"]["type"] == "log"
    assert figure["layout"]["xaxis"]["title"]["text"] == "Epoch"
    assert figure["layout"]["xaxis"]["range"] == [0.5, 1.5]
    assert [t["name"] for t in figure["data"]] == ["train/loss (raw)", "train/loss"]
    assert 'data-chart-query="smooth=0.9&amp;logy=1&amp;x=epoch"' in html
    assert '<option value="0.9" selected>' in html and 'data-testid="chart-logy" checked' in html
    assert '<option value="epoch" selected>' in html
    assert 'data-testid="chart-zoom-state">Zoomed to 0.5 \u2013 1.5' in html
    assert 'data-testid="metrics-csv"' in html
    assert 'data-testid="param-note"' not in html


def test_unavailable_axes_are_disabled_with_their_reason(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{PLAIN_ID}").get_data(as_text=True)
    assert re.search(r'<option value="epoch" disabled title="[^"]*epochs[^"]*"', html)
    assert "Epoch is not available: this job publishes no per-step `epochs` series." in html
    assert "Relative time is not available:" in html
    rich = client.get(f"{JOBS}/{RICH_ID}").get_data(as_text=True)
    assert 'disabled' not in re.search(r'data-testid="chart-x-axis".*?</select>', rich, re.S).group(0)


def test_a_pasted_link_with_bad_options_opens_with_notes(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{PLAIN_ID}?smooth=2&x=epoch&zoom=9:1&logy=yes")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    notes = re.findall(r'data-testid="param-note">([^<]*)<', html)
    assert len(notes) == 3 and any("x=epoch was ignored" in unescape(n) for n in notes)
    figure = page_figure(html, "chart-loss")
    assert figure["layout"]["yaxis"].get("type") == "log"  # logy=yes is fine
    assert len(figure["data"]) == 1


def test_the_charts_poll_and_zoom_keep_the_options(client: FlaskClient) -> None:
    polled = client.get(f"{JOBS}/{RICH_ID}/charts?smooth=0.8&x=time").get_data(as_text=True)
    figure = page_figure(polled, "chart-loss")
    assert figure["layout"]["xaxis"]["title"]["text"] == "Minutes since the first step"
    assert len(figure["data"]) == 2
    zoom = client.get(f"{JOBS}/{RICH_ID}/charts/zoom?chart=chart-loss:Loss&x0=1&x1=2&smooth=0.8&x=epoch")
    body = zoom.get_json()
    assert zoom.status_code == 200 and "smoothed (EMA 0.8)" in body["badge"]
    x = decode(body["data"][1]["x"])
    assert min(x) >= 1 - 1 / 40 and max(x) <= 2 + 1 / 40  # epochs, one point of margin


@pytest.mark.parametrize("query", ["smooth=7", "x=epoch", "logy=2", "x=bogus"])
def test_chart_fragments_refuse_options_they_cannot_honour(client: FlaskClient, query: str) -> None:
    for path in (f"charts?{query}", f"charts/zoom?chart=chart-loss:Loss&{query}"):
        response = client.get(f"{JOBS}/{PLAIN_ID}/{path}", headers={"HX-Request": "true"})
        assert response.status_code == 400, path
        assert "ignored" in response.get_data(as_text=True)

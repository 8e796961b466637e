"""Figures of big series (dashboard/viewmodels/figures.py): budgets, badges, zoom windows, typed arrays."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
import pytest

from dashboard.analysis.series import Series
from dashboard.viewmodels.charts import Chart
from dashboard.viewmodels.downsample import MAX_POINTS
from dashboard.viewmodels.figures import (
    Rendered,
    compact_x,
    compact_y,
    nearest_values,
    render,
    zoom_json,
)

MILLION = 1_000_000
SPIKE_STEP = 500_000
NAN_STEP = 123_457
BUDGET = 2000


def decode(value: Any) -> list:
    """A figure array as a list: plotly sends numpy arrays as {"dtype", "bdata": base64}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


def reject_constant(name):
    raise AssertionError(f"{name} literal in figure JSON")


def traces(rendered: Rendered) -> list[dict]:
    return json.loads(rendered.figure, parse_constant=reject_constant)["data"]


def big_series(nan_steps: tuple[int, ...] = (), key: str = "train/loss") -> Series:
    """A million steps (1..1,000,000) of noise in [0, 1), one spike of 50 at SPIKE_STEP."""
    x = np.arange(1, MILLION + 1, dtype=np.float64)
    y = np.random.default_rng(3).random(MILLION)
    # The ends are never their bucket's min or max, so they add two points to the 2 per bucket
    # (the last of 999 buckets of 1,002 holds only the last 4 steps).
    y[[0, -1]] = 0.5
    y[[-3, -2]] = 0.1, 0.9
    y[SPIKE_STEP - 1] = 50.0
    bad = np.array([s - 1 for s in nan_steps], dtype=np.int64)
    y[bad] = np.nan
    return Series(key, x, y, "Step", bad)


def chart_of(*series: Series, markers: bool = False) -> Chart:
    return Chart("chart-loss", "Loss", series, None, markers)


@pytest.fixture(scope="module")
def big() -> Chart:
    return chart_of(big_series())


@pytest.fixture(scope="module")
def big_with_nan() -> Chart:
    return chart_of(big_series(nan_steps=(NAN_STEP,)))


# --- the whole chart --------------------------------------------------------------------------


def test_render_of_a_million_points_draws_about_the_budget(big):
    rendered = render(big, budget=BUDGET)
    line = traces(rendered)[0]
    assert len(decode(line["x"])) == len(decode(line["y"])) == rendered.shown
    assert rendered.shown <= BUDGET
    assert rendered.shown >= BUDGET - 10
    assert rendered.total == MILLION
    assert rendered.bad == 0


def test_render_of_a_million_points_badge_says_what_was_kept(big):
    rendered = render(big, budget=BUDGET)
    assert rendered.badge == f"{rendered.shown:,} of 1,000,000 points · min/max kept"
    assert rendered.badge == "2,000 of 1,000,000 points · min/max kept"


def test_render_of_a_million_points_keeps_the_spike_and_both_ends(big):
    line = traces(render(big, budget=BUDGET))[0]
    xs, ys = decode(line["x"]), decode(line["y"])
    assert SPIKE_STEP in xs
    assert ys[xs.index(SPIKE_STEP)] == 50.0
    assert max(ys) == 50.0
    assert xs[0] == 1
    assert xs[-1] == MILLION


def test_render_of_a_million_points_sends_compact_typed_arrays(big):
    line = traces(render(big, budget=BUDGET))[0]
    assert line["x"]["dtype"] == "i4"
    assert line["y"]["dtype"] == "f4"
    assert len(render(big, budget=BUDGET).figure) < 50_000


def test_render_default_budget_is_two_points_per_pixel_of_the_widest_chart(big):
    assert render(big).shown == render(big, budget=1600).shown == 1600


def test_an_eval_chart_draws_at_most_a_marker_per_point_budget(big):
    from dashboard.viewmodels.figures import MARKER_POINTS

    rendered = render(Chart("chart-val-loss", "Val", big.series, markers=True))
    assert rendered.shown <= MARKER_POINTS < rendered.total  # min and max kept, badge says so
    assert "min/max kept" in rendered.badge


@pytest.mark.parametrize(("budget", "limit"), [(10, 100), (500, 500), (10**9, MAX_POINTS)])
def test_render_clamps_the_budget_between_100_and_max_points(big, budget, limit):
    rendered = render(big, budget=budget)
    assert limit - 10 <= rendered.shown <= limit


def test_render_of_a_million_points_with_a_nan_counts_it_in_the_badge(big_with_nan):
    rendered = render(big_with_nan, budget=BUDGET)
    assert rendered.bad == 1
    assert rendered.total == MILLION - 1
    assert rendered.badge == f"{rendered.shown:,} of 999,999 points · min/max kept · 1 NaN/Inf"


def test_render_of_a_million_points_with_a_nan_draws_a_marker_at_its_step(big_with_nan):
    line, marks = traces(render(big_with_nan, budget=BUDGET))
    assert marks["mode"] == "markers"
    assert "train/loss" in marks["name"]
    assert decode(marks["x"]) == [NAN_STEP]
    (mark_y,) = decode(marks["y"])
    assert math.isfinite(mark_y)
    previous = big_with_nan.series[0].y[NAN_STEP - 2]
    assert mark_y == pytest.approx(previous, rel=1e-6)
    # and the line breaks there: the NaN step is drawn as a gap
    xs, ys = decode(line["x"]), decode(line["y"])
    assert NAN_STEP in xs
    assert math.isnan(ys[xs.index(NAN_STEP)])


def test_render_badge_with_every_point_shown_has_no_min_max_note():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, np.nan, np.nan, 2.0])
    rendered = render(chart_of(Series("loss", x, y, "Step", np.array([2], dtype=np.int64))))
    assert (rendered.shown, rendered.total, rendered.bad) == (2, 2, 1)
    assert rendered.badge == "2 points · 1 NaN/Inf"


def test_badge_formats_thousands_and_the_nan_count():
    assert Rendered("{}", 2000, 1_000_000, 3).badge == "2,000 of 1,000,000 points · min/max kept · 3 NaN/Inf"
    assert Rendered("{}", 1234, 1234, 0).badge == "1,234 points"
    assert Rendered("{}", 10, 10, 12_345).badge == "10 points · 12,345 NaN/Inf"


def test_render_adds_up_shown_and_total_over_series():
    a = Series("train/kl", np.arange(1.0, 11.0), np.arange(10.0), "Step")
    b = Series("eval/kl", np.array([5.0, 10.0]), np.array([1.0, 2.0]), "Step")
    rendered = render(Chart("chart", "kl", (a, b)))
    assert (rendered.shown, rendered.total) == (12, 12)
    assert [t["name"] for t in traces(rendered)] == ["train/kl", "eval/kl"]


# --- zoom -------------------------------------------------------------------------------------


def test_zoomed_render_around_a_spike_is_at_full_resolution(big):
    rendered = render(big, SPIKE_STEP - 500, SPIKE_STEP + 500, BUDGET)
    line = traces(rendered)[0]
    xs = decode(line["x"])
    # the window [499,500, 500,500] plus one point of margin either side, every one of them
    assert xs == list(range(SPIKE_STEP - 501, SPIKE_STEP + 502))
    assert rendered.shown == rendered.total == 1003
    assert rendered.badge == "1,003 points"
    assert decode(line["y"])[xs.index(SPIKE_STEP)] == 50.0


def test_zoomed_render_matches_the_data_point_for_point(big):
    line = traces(render(big, SPIKE_STEP - 100, SPIKE_STEP + 100, BUDGET))[0]
    expected = big.series[0].y[SPIKE_STEP - 102:SPIKE_STEP + 101].astype(np.float32).tolist()
    assert decode(line["y"]) == expected


def test_zoomed_render_wider_than_the_budget_is_downsampled_but_keeps_the_spike(big):
    rendered = render(big, SPIKE_STEP - 50_000, SPIKE_STEP + 50_000, BUDGET)
    assert rendered.total == 100_003
    assert rendered.shown <= BUDGET
    assert rendered.badge == f"{rendered.shown:,} of 100,003 points · min/max kept"
    xs = decode(traces(rendered)[0]["x"])
    assert SPIKE_STEP in xs
    assert min(xs) == SPIKE_STEP - 50_001
    assert max(xs) == SPIKE_STEP + 50_001


def test_zoomed_render_counts_only_the_nans_in_its_window(big_with_nan):
    outside = render(big_with_nan, SPIKE_STEP - 10, SPIKE_STEP + 10, BUDGET)
    assert outside.bad == 0
    assert len(traces(outside)) == 1
    inside = render(big_with_nan, NAN_STEP - 10, NAN_STEP + 10, BUDGET)
    assert inside.bad == 1
    assert inside.badge == "22 points · 1 NaN/Inf"  # 21 steps + 2 of margin - the NaN
    assert decode(traces(inside)[1]["x"]) == [NAN_STEP]


def test_zoom_json_has_the_traces_and_the_badge(big):
    body = json.loads(zoom_json(big, SPIKE_STEP - 500, SPIKE_STEP + 500, BUDGET),
                      parse_constant=reject_constant)
    assert set(body) == {"data", "badge"}
    assert body["badge"] == "1,003 points"
    assert len(body["data"]) == 1
    assert SPIKE_STEP in decode(body["data"][0]["x"])


def test_an_unsorted_x_axis_still_renders_all_of_it_without_windowing():
    x = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    y = np.array([30.0, 10.0, 20.0, 50.0, 40.0])
    chart = chart_of(Series("loss", x, y, "Point"))
    rendered = render(chart, 1.5, 2.5, BUDGET)
    assert rendered.shown == rendered.total == 5
    line = traces(rendered)[0]
    assert decode(line["x"]) == [3, 1, 2, 5, 4]
    assert decode(line["y"]) == [30.0, 10.0, 20.0, 50.0, 40.0]


def test_markers_are_drawn_for_a_few_points_and_not_for_many(big):
    few = traces(render(chart_of(Series("loss", np.arange(1.0, 61.0), np.ones(60), "Step"))))[0]
    assert few["mode"] == "lines+markers"
    assert traces(render(big))[0]["mode"] == "lines"


def test_a_markers_chart_keeps_nulls_as_gaps_and_draws_markers_on_a_big_series():
    chart = chart_of(big_series(), markers=True)
    line = traces(render(chart))[0]
    assert line["mode"] == "lines+markers"
    assert line["connectgaps"] is False


def test_metric_keys_reach_plotly_as_text_not_html():
    key = 'train/<a href="https://evil.example">x</a>%{y}'
    chart = Chart("chart", "x", (Series(key, np.arange(1.0, 4.0), np.ones(3), "Step"),))
    line = traces(render(chart))[0]
    assert "<a " not in line["name"] and "<a " not in line["hovertemplate"]
    assert "&lt;a href=" in line["name"] and "%{y}" not in line["name"]


# --- compact arrays ---------------------------------------------------------------------------


def test_compact_x_sends_whole_steps_as_int32():
    out = compact_x(np.array([1.0, 2.0, 1_000_000.0, -5.0]))
    assert out.dtype == np.int32
    assert out.tolist() == [1, 2, 1_000_000, -5]


def test_compact_x_keeps_fractional_epochs_as_float64():
    out = compact_x(np.array([0.5, 1.0, 1.5]))
    assert out.dtype == np.float64
    assert out.tolist() == [0.5, 1.0, 1.5]


def test_compact_x_keeps_steps_too_big_for_int32_as_float64():
    out = compact_x(np.array([1.0, 2.0**31]))
    assert out.dtype == np.float64
    assert out.tolist() == [1.0, 2.0**31]


def test_compact_y_uses_float32_for_ordinary_values_and_keeps_nan_gaps():
    out = compact_y(np.array([4.2, np.nan, 1e-7, -3.0, 0.0]))
    assert out.dtype == np.float32
    assert out[0] == pytest.approx(4.2, rel=1e-6)
    assert math.isnan(out[1])
    assert out[2] == pytest.approx(1e-7, rel=1e-6)
    assert out[3:].tolist() == [-3.0, 0.0]


def test_compact_y_keeps_float64_for_values_beyond_float32_range():
    out = compact_y(np.array([1.0, 1e308]))
    assert out.dtype == np.float64
    assert out.tolist() == [1.0, 1e308]


def test_compact_y_keeps_float64_for_values_below_float32_precision_range():
    out = compact_y(np.array([1.0, 1e-40]))
    assert out.dtype == np.float64
    assert out.tolist() == [1.0, 1e-40]


def test_a_1e308_series_is_sent_as_float64_in_the_figure():
    chart = chart_of(Series("loss", np.arange(1.0, 4.0), np.array([1.0, 1e308, 2.0]), "Step"))
    line = traces(render(chart))[0]
    assert line["y"]["dtype"] == "f8"
    assert decode(line["y"]) == [1.0, 1e308, 2.0]


# --- NaN markers ------------------------------------------------------------------------------


def test_nearest_values_takes_the_previous_finite_value_else_the_next():
    y = np.array([np.nan, 3.0, np.nan, np.nan, 5.0, np.nan])
    assert nearest_values(y, np.array([0, 2, 3, 5])).tolist() == [3.0, 3.0, 3.0, 5.0]


def test_nearest_values_of_an_all_nan_series_is_zero():
    assert nearest_values(np.array([np.nan, np.nan]), np.array([0, 1])).tolist() == [0.0, 0.0]


def test_nearest_values_of_no_positions_is_empty():
    assert nearest_values(np.array([1.0, np.nan]), np.array([], dtype=np.int64)).tolist() == []


def test_many_nan_markers_are_thinned_to_the_budget():
    x = np.arange(1.0, 100_001.0)
    y = np.full(100_000, np.nan)
    y[::2] = 1.0
    bad = np.arange(1, 100_000, 2, dtype=np.int64)
    rendered = render(chart_of(Series("loss", x, y, "Step", bad)), budget=BUDGET)
    assert rendered.bad == 50_000
    marks = traces(rendered)[1]
    xs = decode(marks["x"])
    assert len(xs) == BUDGET
    assert xs[0] == 2
    assert xs[-1] == 100_000


def test_a_constant_learning_rate_gets_a_y_range_around_its_value() -> None:
    chart = Chart("chart-learning-rate", "Learning rate",
                  (Series("lr", np.arange(1.0, 4.0), np.full(3, 1e-4), "Step"),))
    layout = json.loads(render(chart).figure)["layout"]
    low, high = layout["yaxis"]["range"]
    assert low < 1e-4 < high and high - low < 1e-3


def test_one_point_is_not_called_points() -> None:
    lone = Series("v", np.array([5.0]), np.array([1.0]), "Step")
    chart = Chart("chart-val-loss", "Validation loss", (lone,))
    assert render(chart).badge == "1 point"

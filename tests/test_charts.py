"""Chart specs (DESIGN.md "Chart rules") and their Plotly JSON, from plain metrics dicts."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
import pytest

from dashboard.models import Job
from dashboard.viewmodels.charts import Chart
from dashboard.viewmodels.charts_section import ChartCard, charts_view
from dashboard.viewmodels.figures import Rendered


def job(metrics, trainer_type="sft", backend="tinker"):
    return Job.from_api({"id": "j1", "status": "running", "backend": backend,
                         "trainer_type": trainer_type, "metrics": metrics})


def decode(value: Any) -> list:
    """A figure array as a list: plotly sends numpy arrays as {"dtype", "bdata": base64}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"])).tolist()
    return list(value)


def gaps(values: Any) -> list:
    """Values as a list with None where a NaN (a gap in the line) is."""
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return [None if isinstance(v, float) and math.isnan(v) else v for v in items]


def page_cards(job_: Job) -> list[ChartCard]:
    """The charts the page draws for a job, on the page's own path (plan, markers, x-axis, figures)."""
    return list(charts_view(job_, "/job").cards)


def page_charts(job_: Job) -> list[Chart]:
    """The charts the page draws for a job."""
    return [card.chart for card in page_cards(job_)]


def figure_of(job_: Job, testid: str) -> str:
    """The figure JSON the page draws for one named chart of a job."""
    return next(card.rendered.figure for card in page_cards(job_) if card.chart.testid == testid)


def drawn(job_: Job, testid: str) -> Rendered | None:
    """What the page draws of one named chart: its figure and its point counts."""
    return next(card.rendered for card in page_cards(job_) if card.chart.testid == testid)


def by_testid(charts: list[Chart]) -> dict[str, Chart]:
    """The named charts by data-testid (there is at most one of each)."""
    named = [c for c in charts if c.testid != "chart"]
    assert len({c.testid for c in named}) == len(named)
    return {c.testid: c for c in named}


def others(charts: list[Chart]) -> dict[str, Chart]:
    """The generic `chart` charts by their data-series."""
    return {c.keys: c for c in charts if c.testid == "chart"}


def drawn_keys(charts: list[Chart]) -> list[str]:
    return [s.key for c in charts for s in c.series]


# --- (a) Outputs-doc SFT, old-style keys ------------------------------------------------------

N = 12
OLD_SFT = {
    "train/steps": N, "train/num_examples": 5000, "train/num_tokens_processed": 1250000,
    "train/gradient_accumulation_steps": 1, "train/loss_last": 0.85, "train/loss_mean": 2.1,
    "train/loss_best": 0.81,
    "steps": list(range(1, N + 1)),
    "train_loss": [round(4.2 - 0.3 * i, 3) for i in range(N)],
    "learning_rate": [0.0001] * N,
    "val_loss": [None] * (N - 1) + [0.92],
    "eval/num_examples": 500, "eval/loss": 0.92,
}


def test_old_style_sft_draws_loss_val_loss_and_learning_rate_charts_in_order():
    charts = page_charts(job(OLD_SFT))
    assert [c.testid for c in charts] == ["chart-loss", "chart-val-loss", "chart-learning-rate"]
    named = by_testid(charts)
    assert named["chart-loss"].keys == "train_loss"
    assert named["chart-val-loss"].keys == "val_loss"
    assert named["chart-learning-rate"].keys == "learning_rate"


def test_old_style_sft_charts_have_one_point_per_step():
    named = by_testid(page_charts(job(OLD_SFT)))
    assert drawn(job(OLD_SFT), "chart-loss").total == N
    assert drawn(job(OLD_SFT), "chart-learning-rate").total == N
    loss = named["chart-loss"].series[0]
    assert loss.x.dtype == np.float64
    assert loss.y.dtype == np.float64
    assert loss.x.tolist() == [float(s) for s in range(1, N + 1)]
    assert loss.x_label == "Step"
    assert loss.y[0] == 4.2
    assert loss.y[-1] == pytest.approx(0.9)


def test_val_loss_chart_draws_a_lone_eval_point_with_markers():
    val = by_testid(page_charts(job(OLD_SFT)))["chart-val-loss"]
    assert val.markers is True
    assert drawn(job(OLD_SFT), "chart-val-loss").total == 1
    series = val.series[0]
    assert gaps(series.y) == [None] * (N - 1) + [0.92]
    assert series.x[-1] == float(N)
    assert series.bad.tolist() == []
    assert series.unusable == 0
    assert val.empty_reason is None


def test_val_loss_chart_figure_draws_markers_for_the_lone_point():
    line = json.loads(figure_of(job(OLD_SFT), "chart-val-loss"))["data"][0]
    assert "markers" in line["mode"]
    assert decode(line["x"])[-1] == N
    assert decode(line["y"])[-1] == pytest.approx(0.92, rel=1e-6)
    assert gaps(decode(line["y"]))[:-1] == [None] * (N - 1)


def test_sft_without_any_eval_yet_has_an_empty_val_loss_chart_that_says_why():
    metrics = dict(OLD_SFT, val_loss=[None] * N)
    val = by_testid(page_charts(job(metrics)))["chart-val-loss"]
    assert val.series == ()
    assert val.empty_reason == "No evaluation has run yet."


def test_sft_with_no_series_at_all_still_shows_the_three_charts_empty():
    charts = page_charts(job({"train/steps": 0}))
    assert [(c.testid, c.series) for c in charts] == [
        ("chart-loss", ()), ("chart-val-loss", ()), ("chart-learning-rate", ())]
    assert all(c.empty_reason for c in charts)


# --- (b) API.md namespaced SFT example --------------------------------------------------------

NAMESPACED_SFT = {
    "train/steps": 3, "train/num_examples": 40, "train/num_tokens_processed": 51234,
    "train/epochs_completed": 1.0, "steps": [1, 2, 3], "train/loss": [1.91, 1.42, 1.18],
    "train_loss": [1.91, 1.42, 1.18], "train/loss_last": 1.18, "train/loss_mean": 1.5033,
    "train/loss_best": 1.18, "train/learning_rate": [0.0001, 0.0001, 0.0001],
    "learning_rate": [0.0001, 0.0001, 0.0001], "eval/num_examples": 10, "eval/loss": 1.27,
    "eval/steps": [3], "eval/loss_history": [1.27],
}


def test_namespaced_sft_prefers_train_loss_over_its_alias():
    named = by_testid(page_charts(job(NAMESPACED_SFT)))
    assert named["chart-loss"].keys == "train/loss"
    assert named["chart-learning-rate"].keys == "train/learning_rate"


def test_namespaced_sft_never_draws_the_old_aliases_anywhere():
    charts = page_charts(job(NAMESPACED_SFT))
    keys = drawn_keys(charts)
    assert "train_loss" not in keys
    assert "learning_rate" not in keys
    assert sorted(keys) == ["eval/loss_history", "train/learning_rate", "train/loss"]
    assert len(charts) == 3


def test_namespaced_sft_val_loss_is_eval_loss_history_on_eval_steps():
    val = by_testid(page_charts(job(NAMESPACED_SFT)))["chart-val-loss"]
    series = val.series[0]
    assert series.key == "eval/loss_history"
    assert series.x.tolist() == [3.0]
    assert series.y.tolist() == [1.27]
    assert series.x_label == "Step"
    assert val.markers is True


# --- (c) Tinker RL, scalar summaries only -----------------------------------------------------

TINKER_RL_SCALARS = {
    "train/steps": 20, "train/num_rollouts": 640, "train/reward_mean": 0.41,
    "train/reward_max": 1.0, "train/reward_min": 0.0, "async/generation_step": 20,
    "async/training_step": 20, "async/model_version": 5,
}


def test_tinker_rl_with_scalars_only_has_one_empty_reward_chart():
    charts = page_charts(job(TINKER_RL_SCALARS, trainer_type="rl"))
    assert [c.testid for c in charts] == ["chart-reward"]
    reward = charts[0]
    assert reward.series == ()
    assert drawn(job(TINKER_RL_SCALARS, trainer_type="rl"), "chart-reward") is None


def test_empty_reward_chart_names_the_scalar_reward_summaries():
    reward = page_charts(job(TINKER_RL_SCALARS, trainer_type="rl"))[0]
    assert reward.empty_reason is not None
    for key in ("train/reward_mean", "train/reward_max", "train/reward_min"):
        assert key in reward.empty_reason


def test_empty_reward_chart_without_summaries_says_no_series_was_published():
    reward = page_charts(job({}, trainer_type="rl"))[0]
    assert reward.testid == "chart-reward"
    assert reward.empty_reason == "No per-step reward series has been published for this job."


def test_rl_job_has_no_empty_loss_or_learning_rate_charts():
    testids = {c.testid for c in page_charts(job(TINKER_RL_SCALARS, trainer_type="rl"))}
    assert not testids & {"chart-loss", "chart-val-loss", "chart-learning-rate"}


def test_sft_job_has_no_reward_chart():
    assert "chart-reward" not in {c.testid for c in page_charts(job(OLD_SFT))}


# --- (d) RL namespaced series -----------------------------------------------------------------

RL_SERIES = {
    "train/steps": 4, "train/reward_mean": 0.5,
    "steps": [1, 2, 3, 4],
    "train/reward": [0.1, 0.3, 0.5, 0.6],
    "train/reward_max_per_step": [0.5, 0.8, 1.0, 1.0],
    "train/reward_min_per_step": [0.0, 0.0, 0.1, 0.2],
    "eval/steps": [2, 4],
    "eval/reward": [0.25, 0.55],
    "eval/reward_max": [0.9, 1.0],
    "eval/extraction_failed_rate": [0.1, 0.05],
}


def test_rl_reward_chart_draws_train_reward_and_eval_reward_each_on_its_axis():
    reward = by_testid(page_charts(job(RL_SERIES, trainer_type="rl")))["chart-reward"]
    assert reward.keys == "train/reward eval/reward"
    train, evaluation = reward.series
    assert train.x.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert train.y.tolist() == [0.1, 0.3, 0.5, 0.6]
    assert evaluation.x.tolist() == [2.0, 4.0]
    assert evaluation.y.tolist() == [0.25, 0.55]
    assert reward.empty_reason is None


def test_rl_other_series_get_their_own_charts_grouped_by_base_name():
    charts = page_charts(job(RL_SERIES, trainer_type="rl"))
    assert set(others(charts)) == {
        "train/reward_max_per_step", "train/reward_min_per_step", "eval/reward_max",
        "eval/extraction_failed_rate",
    }
    assert others(charts)["eval/extraction_failed_rate"].title == "extraction failed rate"
    assert others(charts)["eval/reward_max"].series[0].x.tolist() == [2.0, 4.0]


def test_train_and_eval_series_with_one_base_name_share_a_chart_train_first():
    metrics = {"steps": [1, 2, 3], "eval/steps": [3],
               "eval/kl": [0.2], "train/kl": [0.1, 0.2, 0.3]}
    chart = others(page_charts(job(metrics, trainer_type="rl")))["train/kl eval/kl"]
    assert chart.title == "kl"
    assert [s.x.tolist() for s in chart.series] == [[1.0, 2.0, 3.0], [3.0]]


def test_an_eval_only_reward_series_is_drawn_on_the_reward_chart():
    metrics = {"eval/steps": [5, 10], "eval/reward": [0.2, 0.4]}
    charts = page_charts(job(metrics, trainer_type="rl"))
    reward = by_testid(charts)["chart-reward"]
    assert reward.keys == "eval/reward"
    assert reward.empty_reason is None
    assert others(charts) == {}


def test_running_rl_per_step_bookkeeping_series_are_charted():
    metrics = dict(RL_SERIES, **{"train/staleness": [0, 1, 1, 2]})
    assert "train/staleness" in others(page_charts(job(metrics, trainer_type="rl")))


# --- (e) Ray keys -----------------------------------------------------------------------------

RAY = {
    "steps": [1, 2, 3],
    "loss": [0.9, 0.7, 0.6],
    "pg_loss": [0.5, 0.4, 0.3],
    "kl_loss": [0.01, 0.02, 0.02],
    "reward_mean": [0.1, 0.2, 0.4],
    "learning_rate": [1e-6, 1e-6, 1e-6],
}


def test_ray_keys_map_to_loss_reward_and_learning_rate_charts():
    named = by_testid(page_charts(job(RAY, trainer_type="rl", backend="ray")))
    assert named["chart-loss"].keys == "loss"
    assert named["chart-reward"].keys == "reward_mean"
    assert named["chart-learning-rate"].keys == "learning_rate"
    assert named["chart-reward"].series[0].y.tolist() == [0.1, 0.2, 0.4]


def test_ray_pg_loss_and_kl_loss_get_their_own_charts():
    charts = page_charts(job(RAY, trainer_type="rl", backend="ray"))
    assert set(others(charts)) == {"pg_loss", "kl_loss"}
    assert others(charts)["kl_loss"].title == "kl loss"
    assert sorted(drawn_keys(charts)) == sorted(k for k in RAY if k != "steps")


def test_ray_rl_job_without_evaluation_has_no_val_loss_chart():
    named = by_testid(page_charts(job(RAY, trainer_type="rl", backend="ray")))
    assert "chart-val-loss" not in named


# --- (f) accuracy -----------------------------------------------------------------------------


def test_accuracy_series_get_the_accuracy_chart():
    metrics = dict(OLD_SFT, **{"train/accuracy": [0.5] * N, "eval/steps": [N],
                               "eval/accuracy": [0.61]})
    charts = page_charts(job(metrics))
    accuracy = by_testid(charts)["chart-accuracy"]
    assert accuracy.keys == "train/accuracy eval/accuracy"
    assert accuracy.series[1].x.tolist() == [float(N)]
    assert others(charts) == {}


def test_no_accuracy_chart_without_an_accuracy_series():
    assert "chart-accuracy" not in by_testid(page_charts(job(OLD_SFT)))


# --- (g) x-axis fallbacks ---------------------------------------------------------------------


def test_x_axis_falls_back_to_epochs_when_steps_has_another_length():
    metrics = {"steps": [1, 2], "epochs": [0.5, 1.0, 1.5], "train_loss": [3.0, 2.0, 1.0]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"].series[0]
    assert loss.x.tolist() == [0.5, 1.0, 1.5]
    assert loss.x_label == "Epoch"


def test_x_axis_falls_back_to_one_to_n_when_neither_steps_nor_epochs_fit():
    metrics = {"steps": [1, 2], "epochs": [1], "train_loss": [3.0, 2.0, 1.0, 0.5]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"].series[0]
    assert loss.x.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert loss.x_label != "Step"
    assert loss.x_label != "Epoch"


def test_x_axis_skips_a_steps_list_with_a_hole_in_it():
    metrics = {"steps": [1, None, 3], "train_loss": [3.0, 2.0, 1.0]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"].series[0]
    assert loss.x.tolist() == [1.0, 2.0, 3.0]
    assert loss.x_label != "Step"


def test_eval_series_do_not_use_the_train_steps_axis():
    metrics = {"steps": [10, 20], "eval/steps": [20, 40], "eval/loss_history": [1.5, 1.2]}
    val = by_testid(page_charts(job(metrics)))["chart-val-loss"].series[0]
    assert val.x.tolist() == [20.0, 40.0]


def test_axis_keys_are_never_charted_themselves():
    metrics = {"steps": [1, 2], "epochs": [1, 2], "eval/steps": [2], "eval/epochs": [2]}
    assert drawn_keys(page_charts(job(metrics))) == []


# --- (h) NaN, Infinity, null, junk -------------------------------------------------------------


def test_nan_and_infinity_floats_are_counted_and_keep_their_positions():
    metrics = {"steps": [1, 2, 3, 4, 5],
               "train_loss": [2.0, float("nan"), 1.5, float("inf"), float("-inf")]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    series = loss.series[0]
    assert gaps(series.y) == [2.0, None, 1.5, None, None]
    assert series.bad.tolist() == [1, 3, 4]
    assert len(series.x) == 5
    assert drawn(job(metrics), "chart-loss").bad == 3
    assert drawn(job(metrics), "chart-loss").total == 2


@pytest.mark.parametrize("word", ["NaN", "nan", "Infinity", "-Infinity", "inf", " -inf "])
def test_nan_and_infinity_strings_are_counted_as_bad(word):
    metrics = {"steps": [1, 2, 3], "train_loss": [2.0, word, 1.0]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    assert loss.series[0].bad.tolist() == [1]
    assert gaps(loss.series[0].y) == [2.0, None, 1.0]
    assert drawn(job(metrics), "chart-loss").bad == 1
    assert loss.unusable_count == 0


def test_an_int_too_large_for_a_float_is_counted_as_bad_not_dropped():
    metrics = {"steps": [1, 2], "train_loss": [1.0, 10**400]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    assert loss.series[0].bad.tolist() == [1]


def test_null_is_a_gap_not_a_bad_value():
    metrics = {"steps": [1, 2, 3], "train_loss": [2.0, None, 1.0]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    assert gaps(loss.series[0].y) == [2.0, None, 1.0]
    assert loss.series[0].bad.tolist() == []
    assert drawn(job(metrics), "chart-loss").bad == 0
    assert loss.unusable_count == 0
    assert drawn(job(metrics), "chart-loss").total == 2


def test_junk_strings_and_objects_are_counted_as_unusable():
    metrics = {"steps": [1, 2, 3, 4, 5, 6],
               "train_loss": [2.0, "loss!", {"v": 1}, [1.0], True, "1.25"]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    series = loss.series[0]
    assert gaps(series.y) == [2.0, None, None, None, None, 1.25]
    assert series.unusable == 4
    assert loss.unusable_count == 4
    assert drawn(job(metrics), "chart-loss").bad == 0
    assert series.x.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_an_all_nan_series_is_still_charted_with_every_value_counted():
    metrics = {"steps": [1, 2], "train_loss": ["NaN", float("nan")]}
    loss = by_testid(page_charts(job(metrics)))["chart-loss"]
    assert loss.keys == "train_loss"
    assert drawn(job(metrics), "chart-loss").bad == 2
    assert drawn(job(metrics), "chart-loss").total == 0


def test_scalars_strings_and_maps_are_not_series():
    metrics = {"steps": [1, 2], "train/loss_last": 1.0, "notes": "hello",
               "nested": {"a": [1, 2]}, "empty": [], "labels": ["a", "b"], "nulls": [None]}
    assert drawn_keys(page_charts(job(metrics))) == []


# --- (i) small values -------------------------------------------------------------------------


def test_a_tiny_learning_rate_is_kept_exactly():
    metrics = {"steps": [1, 2, 3], "learning_rate": [1e-7, 1e-7, 5e-8]}
    lr = by_testid(page_charts(job(metrics)))["chart-learning-rate"]
    assert lr.series[0].y.tolist() == [1e-7, 1e-7, 5e-8]
    data = json.loads(figure_of(job(metrics), "chart-learning-rate"))["data"][0]
    assert decode(data["y"]) == pytest.approx([1e-7, 1e-7, 5e-8], rel=1e-6)
    assert all(v > 0 for v in decode(data["y"]))


# --- figures ----------------------------------------------------------------------------------


def reject_constant(name):
    raise AssertionError(f"{name} literal in figure JSON")


def test_figure_json_is_valid_json_with_uirevision_set():
    figure = json.loads(figure_of(job(OLD_SFT), "chart-loss"), parse_constant=reject_constant)
    assert figure["layout"]["uirevision"]
    assert figure["layout"]["xaxis"]["title"]["text"] == "Step"
    assert len(figure["data"]) == 1
    assert figure["data"][0]["name"] == "train_loss"
    assert decode(figure["data"][0]["x"]) == list(range(1, N + 1))
    assert decode(figure["data"][0]["y"])[0] == pytest.approx(4.2, rel=1e-6)


def test_figure_json_marks_bad_values_with_a_marker_trace_and_no_nan_literal():
    metrics = {"steps": [1, 2, 3, 4], "train_loss": [2.0, float("nan"), "Infinity", 1.0]}
    text = figure_of(job(metrics), "chart-loss")
    assert "NaN," not in text
    assert "Infinity" not in text
    figure = json.loads(text, parse_constant=reject_constant)
    line, marks = figure["data"]
    assert gaps(decode(line["y"])) == [2.0, None, None, 1.0]
    assert marks["mode"] == "markers"
    assert decode(marks["x"]) == [2, 3]
    assert all(math.isfinite(y) for y in decode(marks["y"]))
    assert decode(marks["y"]) == [2.0, 2.0]
    assert "train_loss" in marks["name"]
    assert figure["layout"]["showlegend"] is True


def test_figure_json_of_a_series_starting_with_nan_puts_the_marker_on_the_next_value():
    metrics = {"steps": [1, 2], "train_loss": ["nan", 3.0]}
    marks = json.loads(figure_of(job(metrics), "chart-loss"), parse_constant=reject_constant)["data"][1]
    assert decode(marks["x"]) == [1]
    assert decode(marks["y"]) == [3.0]


def test_figure_json_with_two_series_shows_a_legend():
    figure = json.loads(figure_of(job(RL_SERIES, trainer_type="rl"), "chart-reward"),
                        parse_constant=reject_constant)
    assert [t["name"] for t in figure["data"]] == ["train/reward", "eval/reward"]
    assert figure["layout"]["showlegend"] is True


def test_a_series_off_its_axis_says_why_it_is_drawn_against_position():
    (loss, *_) = page_charts(job({"steps": [1, 2, 3], "train/loss": [3.0, 2.0, 1.0, 0.5]}))
    assert loss.axis_notes == ("train/loss has 4 values but steps has 3: drawn against position",)
    (loss, *_) = page_charts(job({"steps": ["a", "b"], "train/loss": [3.0, 2.0]}))
    assert loss.axis_notes == ("steps could not be read as numbers: train/loss is drawn against position",)
    (loss, *_) = page_charts(job({"train/loss": [3.0, 2.0]}))
    assert loss.axis_notes == ()

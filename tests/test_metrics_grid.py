"""The scalar metrics grid: groups, labels, compact and full values, bad values."""

from __future__ import annotations

import pytest

from dashboard.viewmodels.metrics import label, scalar, scalar_groups, unreadable


def grid(metrics):
    """{group name: {key: Scalar}}."""
    return {g.name: {s.key: s for s in g.scalars} for g in scalar_groups(metrics)}


RL_SCALARS = {
    "train/steps": 20, "train/num_rollouts": 640, "train/reward_mean": 0.41,
    "eval/reward": 0.5, "async/model_version": 5, "async/weight_sync_count": 4,
    "tokens_per_second": 1234.5, "steps": [1, 2, 3], "train/reward": [0.1, 0.2],
    "config": {"lr": 1e-4}, "note": None,
}


def test_scalars_are_grouped_train_eval_async_other_in_that_order():
    groups = scalar_groups(RL_SCALARS)
    assert [g.name for g in groups] == ["Train", "Eval", "Async", "Other"]
    assert [s.key for s in groups[0].scalars] == [
        "train/num_rollouts", "train/reward_mean", "train/steps"]
    assert [s.key for s in groups[1].scalars] == ["eval/reward"]
    assert [s.key for s in groups[2].scalars] == [
        "async/model_version", "async/weight_sync_count"]
    assert [s.key for s in groups[3].scalars] == ["tokens_per_second"]


def test_lists_dicts_and_nulls_are_not_scalars():
    keys = {key for group in grid(RL_SCALARS).values() for key in group}
    assert "steps" not in keys
    assert "train/reward" not in keys
    assert "config" not in keys
    assert "note" not in keys
    assert len(keys) == 7


def test_empty_groups_are_left_out():
    assert [g.name for g in scalar_groups({"eval/loss": 1.27})] == ["Eval"]
    assert scalar_groups({}) == []
    assert scalar_groups({"steps": [1], "x": {"y": 1}}) == []


def test_an_unknown_namespace_goes_to_other():
    assert set(grid({"world/score": 3})["Other"]) == {"world/score"}


def test_train_steps_and_epochs_completed_have_distinct_explicit_labels():
    steps = label("train/steps")
    epochs = label("train/epochs_completed")
    assert steps != epochs
    assert steps == "optimizer steps"
    assert epochs == "epochs completed (fraction of data)"
    assert "step" not in epochs


def test_other_keys_are_labelled_by_their_last_part_in_words():
    assert label("train/loss_best") == "loss best"
    assert label("async/max_staleness_observed") == "max staleness observed"
    assert label("tokens_per_second") == "tokens per second"


def test_tile_carries_key_and_label():
    tile = grid({"train/steps": 100})["Train"]["train/steps"]
    assert tile.key == "train/steps"
    assert tile.label == "optimizer steps"


@pytest.mark.parametrize(("value", "shown"), [
    (1250000, "1.25M"),
    (51234, "51,234"),
    (100, "100"),
    (1.0, "1"),
    (0.85, "0.85"),
    (1.5033, "1.503"),
    (1e-7, "1e-07"),
])
def test_values_are_compact(value, shown):
    assert scalar("train/x", value).value == shown


def test_full_value_keeps_every_digit():
    assert scalar("train/learning_rate", 1e-7).full == "1e-07"
    assert scalar("train/loss_mean", 0.123456789).full == "0.123456789"
    assert scalar("train/loss_mean", 0.123456789).value == "0.1235"
    assert scalar("train/num_tokens_processed", 1250000).full == "1250000"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity",
                                   " -inf "])
def test_nan_and_infinity_are_flagged_bad(value):
    assert scalar("train/loss_last", value).bad is True


@pytest.mark.parametrize("value", [0.85, 0, -3, "running", True])
def test_ordinary_values_are_not_flagged_bad(value):
    assert scalar("train/x", value).bad is False


def test_nan_float_shows_nan_text():
    tile = grid({"train/loss_last": float("nan")})["Train"]["train/loss_last"]
    assert tile.value == "NaN"
    assert tile.bad is True


def test_string_and_bool_scalars_are_shown():
    groups = grid({"execution_mode": "fully_async", "eval/enabled": False})
    assert groups["Other"]["execution_mode"].value == "fully_async"
    assert groups["Eval"]["eval/enabled"].value == "false"


def test_a_long_string_is_cut_for_the_tile_but_kept_in_full():
    long = "x" * 100
    tile = scalar("note", long)
    assert len(tile.value) == 40
    assert tile.value.endswith("…")
    assert tile.full == long


def test_non_string_keys_are_ignored():
    assert scalar_groups({1: 2.0, "train/steps": 3}) == scalar_groups({"train/steps": 3})


def test_metrics_that_are_neither_scalar_nor_series_are_named_in_a_note():
    note = unreadable({"train/x": {"a": 1}, "train/y": [{"v": 1}, "oops"], "val_loss": [None],
                       "steps": [1, 2], "train/loss": [1.0, "x"], "empty": []})
    assert note == ("2 metrics could not be read and are not shown: train/x (a map), "
                    "train/y (no number among its 2 values).")
    assert unreadable({"train/loss": [1.0], "note": "text"}) is None

"""Chart specs from a job's metrics, following the chart rules in DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.analysis.series import AXIS_KEYS, Series, is_series, series
from dashboard.columns import is_column
from dashboard.models import Job

LOSS_KEYS = ("train/loss", "train_loss", "loss")
VAL_LOSS_KEYS = ("eval/loss_history", "val_loss")
LR_KEYS = ("train/learning_rate", "learning_rate")
REWARD_KEYS = ("train/reward", "reward", "reward_mean")


@dataclass(frozen=True)
class Chart:
    """One chart of the pane: what it draws, or why it is empty."""

    testid: str
    title: str
    series: tuple[Series, ...]
    empty_reason: str | None = None
    markers: bool = False

    @property
    def id(self) -> str:
        """A name for the chart that stays the same while its data grows."""
        return f"{self.testid}:{self.title}"

    @property
    def keys(self) -> str:
        """The metric keys it draws, for the `data-series` attribute."""
        return " ".join(s.key for s in self.series)

    @property
    def unusable_count(self) -> int:
        """How many values could not be read as numbers."""
        return sum(s.unusable for s in self.series)

    @property
    def axis_notes(self) -> tuple[str, ...]:
        """Why some of its series are drawn against their positions instead of the steps."""
        return tuple(s.axis_note for s in self.series if s.axis_note)


def base_name(key: str) -> str:
    """`train/x` and `eval/x` share the base name `x`."""
    namespace, sep, rest = key.partition("/")
    return rest if sep and namespace in {"train", "eval"} else key


def aliases(keys: list[str]) -> set[str]:
    """Old un-namespaced keys that duplicate a namespaced one (`train_loss` of `train/loss`)."""
    present = set(keys)
    return {key for key in keys if "/" not in key and (
        f"train/{key.removeprefix('train_')}" in present or f"train/{key}" in present)}


@dataclass(frozen=True)
class Plan:
    """Which keys one chart will draw, decided before any series is read."""

    testid: str
    title: str
    keys: tuple[str, ...]
    empty_reason: str | None = None
    markers: bool = False


def plan_charts(job: Job) -> list[Plan]:
    """Every chart of the pane, in the App's order, then the rest grouped by base name."""
    metrics = job.metrics
    keys = [k for k, v in metrics.items() if isinstance(k, str) and k not in AXIS_KEYS and is_series(v)]
    keys = [k for k in keys if k not in aliases(keys)]
    left = list(keys)

    def take(candidates: tuple[str, ...]) -> list[str]:
        for candidate in candidates:
            if candidate in left:
                left.remove(candidate)
                return [candidate]
        return []

    is_rl = job.trainer_type == "rl"
    plans: list[Plan] = []

    def add(testid: str, title: str, chosen: list[str], always: bool, empty: str,
            markers: bool = False) -> None:
        if chosen or always:
            plans.append(Plan(testid, title, tuple(chosen), None if chosen else empty, markers))

    add("chart-loss", "Loss", take(LOSS_KEYS), not is_rl, "No training-loss series yet.")
    add("chart-val-loss", "Validation loss", take(VAL_LOSS_KEYS), not is_rl,
        "No evaluation has run yet.", markers=True)
    add("chart-learning-rate", "Learning rate", take(LR_KEYS), not is_rl, "No learning-rate series yet.")

    reward_keys = take(REWARD_KEYS)
    if "eval/reward" in left:  # an eval-only reward still belongs on the Reward chart
        left.remove("eval/reward")
        reward_keys.append("eval/reward")
    add("chart-reward", "Reward", reward_keys, is_rl, reward_empty_reason(metrics))

    accuracy = [k for k in left if "accuracy" in base_name(k)]
    for key in accuracy:
        left.remove(key)
    add("chart-accuracy", "Accuracy", accuracy, False, "")

    groups: dict[str, list[str]] = {}
    for key in left:
        groups.setdefault(base_name(key), []).append(key)
    for name, members in groups.items():
        add("chart", name.replace("_", " "), sorted(members, key=lambda k: not k.startswith("train/")),
            False, "")
    return plans


def chart_for(job: Job, plan: Plan, axes: dict[str, np.ndarray | None] | None = None,
              read: Callable[[str], Series] | None = None) -> Chart:
    """The chart a plan describes, its series read now (by `read`, when given: a series the
    triage already read is not read twice)."""
    drawn = tuple(read(key) if read else series(job.metrics, key, axes) for key in plan.keys)
    return Chart(plan.testid, plan.title, drawn, plan.empty_reason, plan.markers)


def reward_empty_reason(metrics: dict[str, Any]) -> str:
    """Why an RL job's Reward chart is empty, naming the scalar summaries shown instead."""
    summaries = [k for k in ("train/reward_mean", "train/reward_max", "train/reward_min")
                 if k in metrics and not is_column(metrics[k])]
    if summaries:
        return ("This trainer publishes no per-step reward series, only the scalar summaries "
                f"{', '.join(summaries)} shown above.")
    return "No per-step reward series has been published for this job."

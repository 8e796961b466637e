"""Chart specs from a job's metrics, following the chart rules in DESIGN.md."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dashboard.models import Job

# Per-step wall-clock times (Unix seconds or ISO 8601): an x-axis (`?x=time`), never a chart.
TIME_KEYS = ("timestamps", "train/timestamps", "wall_time", "train/wall_time")
AXIS_KEYS = frozenset({"steps", "epochs", "eval/steps", "eval/epochs", *TIME_KEYS})
LOSS_KEYS = ("train/loss", "train_loss", "loss")
VAL_LOSS_KEYS = ("eval/loss_history", "val_loss")
LR_KEYS = ("train/learning_rate", "learning_rate")
REWARD_KEYS = ("train/reward", "reward", "reward_mean")
NON_FINITE_WORDS = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass(frozen=True, eq=False)
class Series:
    """One metric series, cleaned: `y` holds NaN for nulls and NaN/Inf alike; `bad` says which."""

    key: str
    x: np.ndarray  # float64, on the series' axis
    y: np.ndarray  # float64; NaN where nothing can be drawn
    x_label: str
    bad: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # NaN/Inf positions
    unusable: int = 0  # values that were neither numbers nor null
    axis_note: str = ""  # why it is drawn against its positions when the job has an axis

    @property
    def points(self) -> int:
        """How many drawable values it has."""
        return int(np.isfinite(self.y).sum())


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
    def bad_count(self) -> int:
        """How many NaN / Inf values its series hold."""
        return sum(len(s.bad) for s in self.series)

    @property
    def unusable_count(self) -> int:
        """How many values could not be read as numbers."""
        return sum(s.unusable for s in self.series)

    @property
    def points(self) -> int:
        """How many drawable points it has."""
        return sum(s.points for s in self.series)

    @property
    def axis_notes(self) -> tuple[str, ...]:
        """Why some of its series are drawn against their positions instead of the steps."""
        return tuple(s.axis_note for s in self.series if s.axis_note)


def number(value: Any) -> tuple[float | None, bool, bool]:
    """Read one series value: (number or None, is NaN/Inf, is unusable)."""
    if value is None:
        return None, False, False
    if isinstance(value, bool):
        return None, False, True
    if isinstance(value, int | float):
        try:
            number_ = float(value)
        except OverflowError:
            return None, True, False
        return (number_, False, False) if math.isfinite(number_) else (None, True, False)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in NON_FINITE_WORDS:
            return None, True, False
        try:
            number_ = float(word)
        except ValueError:
            return None, False, True
        return (number_, False, False) if math.isfinite(number_) else (None, True, False)
    return None, False, True


def is_series(value: Any) -> bool:
    """Whether a metrics value is a per-step series with at least one numeric value."""
    if not isinstance(value, list) or not value:
        return False
    for item in value:
        parsed, bad, _ = number(item)
        if parsed is not None or bad:
            return True
    return False


def values(raw: list[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """A series as float64 with NaN for anything undrawable, its NaN/Inf positions, and junk count.

    The fast path lets numpy convert the whole list (None becomes NaN, True becomes 1); single
    values are looked at only where that conversion could have hidden something: at NaNs (null
    or NaN?) and at zeros and ones (a boolean?).
    """
    try:
        array = np.fromiter(raw, dtype=np.float64, count=len(raw))  # the fastest, for plain numbers
    except (TypeError, ValueError, OverflowError):
        try:
            array = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            return _values_slowly(raw)
    if array.ndim != 1:
        return _values_slowly(raw)
    if any(type(raw[i]) is bool for i in np.flatnonzero((array == 0) | (array == 1)).tolist()):
        return _values_slowly(raw)
    undrawable = ~np.isfinite(array)
    bad = np.flatnonzero(undrawable)
    if len(bad) and raw.count(None):
        bad = np.array([i for i in bad.tolist() if raw[i] is not None], dtype=np.int64)
    array[undrawable] = np.nan
    return array, bad, 0


def _values_slowly(raw: list[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """The value-by-value reading of a series holding strings, objects or booleans."""
    array = np.full(len(raw), np.nan)
    bad: list[int] = []
    unusable = 0
    for position, item in enumerate(raw):
        value, is_bad, is_unusable = number(item)
        if value is not None:
            array[position] = value
        elif is_bad:
            bad.append(position)
        unusable += is_unusable
    return array, np.array(bad, dtype=np.int64), unusable


def axis(metrics: dict[str, Any], key: str, length: int,
         known: dict[str, np.ndarray | None] | None = None) -> tuple[np.ndarray, str]:
    """The x values for a series: `steps` (or `eval/steps`), else `epochs`, else 1..N.

    `known` remembers axes already read, since every series of a job shares them.
    """
    known = {} if known is None else known
    prefix = "eval/" if key.startswith("eval/") else ""
    for name, label in ((f"{prefix}steps", "Step"), (f"{prefix}epochs", "Epoch")):
        candidate = metrics.get(name)
        if isinstance(candidate, list) and len(candidate) == length:
            if name not in known:
                xs, bad, unusable = values(candidate)
                known[name] = xs if not len(bad) and not unusable and np.isfinite(xs).all() else None
            if known[name] is not None:
                return known[name], label
    return np.arange(1, length + 1, dtype=np.float64), "Point"


def series(metrics: dict[str, Any], key: str,
           known: dict[str, np.ndarray | None] | None = None) -> Series:
    """Clean one series and put it on its axis."""
    raw = metrics[key]
    ys, bad, unusable = values(raw)
    xs, label = axis(metrics, key, len(raw), known)
    return Series(key, xs, ys, label, bad, unusable, axis_note(metrics, key, len(raw), label))


def axis_note(metrics: dict[str, Any], key: str, length: int, label: str) -> str:
    """Why a series fell back to its positions while the job does publish an axis, or ""."""
    if label != "Point":
        return ""
    prefix = "eval/" if key.startswith("eval/") else ""
    for name in (f"{prefix}steps", f"{prefix}epochs"):
        candidate = metrics.get(name)
        if isinstance(candidate, list) and candidate:
            if len(candidate) != length:
                return (f"{key} has {length:,} values but {name} has {len(candidate):,}: "
                        "drawn against position")
            return f"{name} could not be read as numbers: {key} is drawn against position"
    return ""


def base_name(key: str) -> str:
    """`train/x` and `eval/x` share the base name `x`."""
    namespace, sep, rest = key.partition("/")
    return rest if sep and namespace in {"train", "eval"} else key


def aliases(keys: list[str]) -> set[str]:
    """Old un-namespaced keys that duplicate a namespaced one (`train_loss` of `train/loss`)."""
    present = set(keys)
    found = set()
    for key in keys:
        if "/" in key:
            continue
        bare = key.removeprefix("train_")
        if f"train/{bare}" in present or f"train/{key}" in present:
            found.add(key)
    return found


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
                 if k in metrics and not isinstance(metrics[k], list)]
    if summaries:
        return ("This trainer publishes no per-step reward series, only the scalar summaries "
                f"{', '.join(summaries)} shown above.")
    return "No per-step reward series has been published for this job."

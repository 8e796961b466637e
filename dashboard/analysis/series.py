"""Metric series read from a job's metrics: numbers, NaN/Inf and junk told apart, each series on
its x axis (`steps`, else `epochs`, else its positions), following the chart rules in DESIGN.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dashboard.columns import Column, derived, is_column, read_number, values

# Per-step wall-clock times (Unix seconds or ISO 8601): an x-axis (`?x=time`), never a chart.
TIME_KEYS = ("timestamps", "train/timestamps", "wall_time", "train/wall_time")
AXIS_KEYS = frozenset({"steps", "epochs", "eval/steps", "eval/epochs", *TIME_KEYS})


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


def is_series(value: Any) -> bool:
    """Whether a metrics value is a per-step series with at least one numeric value."""
    return isinstance(value, Column) or (isinstance(value, list) and any(
        number is not None or bad for number, bad, _ in map(read_number, value)))


def axis(metrics: dict[str, Any], key: str, length: int,
         known: dict[str, np.ndarray | None] | None = None) -> tuple[np.ndarray, str]:
    """The x values for a series: `steps` (or `eval/steps`), else `epochs`, else 1..N (`known`
    remembers axes already read, since every series of a job shares them)."""
    known = {} if known is None else known
    prefix = "eval/" if key.startswith("eval/") else ""
    for name, label in ((f"{prefix}steps", "Step"), (f"{prefix}epochs", "Epoch")):
        candidate = metrics.get(name)
        if is_column(candidate) and len(candidate) == length:
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
        if is_column(candidate) and candidate:
            if len(candidate) != length:
                return (f"{key} has {length:,} values but {name} has {len(candidate):,}: "
                        "drawn against position")
            return f"{name} could not be read as numbers: {key} is drawn against position"
    return ""


def is_sorted(x: np.ndarray) -> bool:
    """Whether an axis only goes up (then a range of it is one slice)."""
    return derived((x,), "sorted", lambda: bool(len(x) < 2 or np.all(x[1:] >= x[:-1])))


def step_text(step: float) -> str:
    """A step as people write it: `12,001`, or `1.5` for a fractional axis value."""
    return f"{int(step):,}" if float(step).is_integer() else f"{step:g}"

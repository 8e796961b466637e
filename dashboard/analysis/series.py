"""Metric series read from a job's metrics: numbers, NaN/Inf and junk told apart, each series on
its x axis (`steps`, else `epochs`, else its positions), following the chart rules in DESIGN.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Per-step wall-clock times (Unix seconds or ISO 8601): an x-axis (`?x=time`), never a chart.
TIME_KEYS = ("timestamps", "train/timestamps", "wall_time", "train/wall_time")
AXIS_KEYS = frozenset({"steps", "epochs", "eval/steps", "eval/epochs", *TIME_KEYS})
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


def read_number(value: Any) -> tuple[float | None, bool, bool]:
    """Read one series value: (number or None, is NaN/Inf, is unusable)."""
    if value is None:
        return None, False, False
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, False, True
    if isinstance(value, str):
        value = value.strip().lower()
        if value in NON_FINITE_WORDS:
            return None, True, False
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None, True, False
    except ValueError:
        return None, False, True
    return (number, False, False) if math.isfinite(number) else (None, True, False)


def is_series(value: Any) -> bool:
    """Whether a metrics value is a per-step series with at least one numeric value."""
    return isinstance(value, list) and any(
        number is not None or bad for number, bad, _ in map(read_number, value))


def values(raw: list[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """A series as float64 with NaN for anything undrawable, its NaN/Inf positions, and junk count.

    numpy converts the whole list (None becomes NaN, True becomes 1); single values are looked at
    only where that could hide something: at NaNs (null or NaN?) and zeros and ones (a boolean?).
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
        value, is_bad, is_unusable = read_number(item)
        if value is not None:
            array[position] = value
        elif is_bad:
            bad.append(position)
        unusable += is_unusable
    return array, np.array(bad, dtype=np.int64), unusable


def axis(metrics: dict[str, Any], key: str, length: int,
         known: dict[str, np.ndarray | None] | None = None) -> tuple[np.ndarray, str]:
    """The x values for a series: `steps` (or `eval/steps`), else `epochs`, else 1..N (`known`
    remembers axes already read, since every series of a job shares them)."""
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


def is_sorted(x: np.ndarray) -> bool:
    """Whether an axis only goes up (then a range of it is one slice)."""
    return bool(len(x) < 2 or np.all(x[1:] >= x[:-1]))


def step_text(step: float) -> str:
    """A step as people write it: `12,001`, or `1.5` for a fractional axis value."""
    return f"{int(step):,}" if float(step).is_integer() else f"{step:g}"

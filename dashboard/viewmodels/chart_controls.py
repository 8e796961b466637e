"""Chart controls carried in the URL: smoothing, log-y, the x-axis and one shared zoom range.

`?smooth=0.9&logy=1&x=epoch&zoom=120:480` on the job page (and its chart fragments):
- `smooth`: the weight `a` of a debiased EMA (0, the default, is off; at most 0.999);
- `logy=1`: a logarithmic y-axis;
- `x`: `step` (default), `epoch` (when the job publishes an `epochs` series) or `time` (time
  since the first step, when the metrics hold a time for every step);
- `zoom=<x0>:<x1>`: the x range every chart shows (they share the x-axis), in its units.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np

from dashboard.analysis.series import TIME_KEYS, read_number, values
from dashboard.columns import Column, is_column
from dashboard.models import parse_time, shown
from dashboard.viewmodels.charts import Chart

SMOOTH_CHOICES = (0.0, 0.6, 0.8, 0.9, 0.95, 0.99)
MAX_SMOOTH = 0.999
X_CHOICES = (("step", "Step"), ("epoch", "Epoch"), ("time", "Relative time"))
TRUE, FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no", "")


@dataclass(frozen=True)
class ChartOptions:
    """How the charts are drawn."""

    smooth: float = 0.0
    logy: bool = False
    x: str = "step"
    zoom: tuple[float, float] | None = None

    def params(self, zoom: bool = True) -> list[tuple[str, str]]:
        """Its query parameters, defaults left out."""
        found = []
        if self.smooth:
            found.append(("smooth", smooth_text(self.smooth)))
        if self.logy:
            found.append(("logy", "1"))
        if self.x != "step":
            found.append(("x", self.x))
        if zoom and self.zoom:
            found.append(("zoom", ":".join(f"{v:.15g}" for v in self.zoom)))
        return found

    @property
    def query(self) -> str:
        """`smooth=…&logy=1&x=…` (no zoom): what the chart fragments are asked with."""
        return urlencode(self.params(zoom=False))

    @property
    def smooth_choices(self) -> list[tuple[str, str]]:
        """(value, label) of the smoothing menu, with this value in it even if unusual."""
        weights = sorted({*SMOOTH_CHOICES, self.smooth})
        return [(smooth_text(w), f"{w:g}" if w else "Off") for w in weights]


DEFAULT_OPTIONS = ChartOptions()


def smooth_text(weight: float) -> str:
    """0.9 as '0.9', 0 as '0'."""
    return f"{weight:g}"


def parse_options(args: Mapping[str, str]) -> tuple[ChartOptions, list[str]]:
    """The chart options a request asks for, and a note for each value that was not usable
    (and so ignored)."""
    notes: list[str] = []
    smooth = 0.0
    raw = args.get("smooth", "").strip()
    if raw:
        try:
            smooth = float(raw)
        except ValueError:
            smooth = math.nan
        if not (math.isfinite(smooth) and 0 <= smooth <= MAX_SMOOTH):
            notes.append(f"smooth={shown(raw)} was ignored: use a weight from 0 (off) to {MAX_SMOOTH}")
            smooth = 0.0
        smooth = round(smooth, 3)
    logy = args.get("logy", "").strip().lower()
    if logy not in TRUE + FALSE:
        notes.append(f"logy={shown(logy)} was ignored: use logy=1")
    x = args.get("x", "step").strip().lower() or "step"
    if x not in dict(X_CHOICES):
        notes.append(f"x={shown(x)} was ignored: use " + ", ".join(f"x={v}" for v, _ in X_CHOICES))
        x = "step"
    zoom = None
    raw = args.get("zoom", "").strip()
    if raw:
        zoom = parse_zoom(raw)
        if zoom is None:
            notes.append(f"zoom={shown(raw)} was ignored: use zoom=<from>:<to> with from < to")
    return ChartOptions(smooth, logy in TRUE, x, zoom), notes


def parse_zoom(raw: str) -> tuple[float, float] | None:
    """'120:480' as (120.0, 480.0); None unless two finite numbers in increasing order."""
    low, sep, high = raw.partition(":")
    try:
        x0, x1 = float(low), float(high)
    except ValueError:
        return None
    if not sep or not (math.isfinite(x0) and math.isfinite(x1)) or x0 >= x1:
        return None
    return x0, x1


# ---- the x-axis --------------------------------------------------------------------------


@dataclass(frozen=True)
class XAxis:
    """How to put step-axis series on another axis: the job's (step, value) pairs, by step."""

    steps: np.ndarray
    values: np.ndarray
    label: str

    def apply(self, chart: Chart) -> Chart:
        """The chart with its step-axis series moved onto this axis (others stay as they are);
        a step outside the known steps has no value (NaN), and is not drawn."""
        moved = tuple(
            dataclasses.replace(s, x=np.interp(s.x, self.steps, self.values, left=np.nan, right=np.nan),
                                x_label=self.label) if s.x_label == "Step" else s
            for s in chart.series)
        return dataclasses.replace(chart, series=moved)


def step_axis(metrics: dict[str, Any]) -> np.ndarray | None:
    """The job's `steps` as floats, when every one is a number."""
    raw = metrics.get("steps")
    if not is_column(raw) or not raw:
        return None
    steps, bad, unusable = values(raw)
    return steps if not len(bad) and not unusable and np.isfinite(steps).all() else None


def pairs(steps: np.ndarray, other: np.ndarray, label: str) -> XAxis:
    """Step -> value pairs where both are finite, in step order."""
    keep = np.isfinite(other)
    order = np.argsort(steps[keep], kind="stable")
    return XAxis(steps[keep][order], other[keep][order], label)


def epoch_axis(metrics: dict[str, Any]) -> XAxis | str | None:
    """The epoch axis, None when the charts already use it, or why there is none."""
    raw = metrics.get("epochs")
    if not is_column(raw) or not raw:
        return "this job publishes no per-step `epochs` series"
    epochs, _, _ = values(raw)
    if not np.isfinite(epochs).any():
        return "its `epochs` series holds no numbers"
    steps = step_axis(metrics)
    if steps is None:
        return None  # no steps: the charts are on epochs already
    if len(steps) != len(epochs):
        return f"`epochs` has {len(epochs):,} values but `steps` has {len(steps):,}"
    return pairs(steps, epochs, "Epoch")


def time_axis(metrics: dict[str, Any]) -> XAxis | str:
    """Time since the first step (from a per-step time series), or why there is none."""
    key = next((k for k in TIME_KEYS if is_column(metrics.get(k))), None)
    if key is None:
        return ("this job's metrics hold no time for each step (only step numbers), "
                "and a time axis would be made up")
    steps = step_axis(metrics)
    if steps is None:
        return "this job publishes no readable `steps` to match its times with"
    raw = metrics[key]
    if len(raw) != len(steps):
        return f"`{key}` has {len(raw):,} values but `steps` has {len(steps):,}"
    seconds = values(raw)[0] if isinstance(raw, Column) else np.array(
        [seconds_of(item) for item in raw], dtype=np.float64)  # ISO texts stay a list
    if np.isfinite(seconds).sum() < 2:
        return f"`{key}` holds fewer than two readable times"
    axis = pairs(steps, seconds, "")
    relative = axis.values - axis.values[0]
    span = float(np.abs(relative).max())
    unit, size = ("Hours", 3600.0) if span >= 7200 else ("Minutes", 60.0) if span >= 120 else ("Seconds", 1.0)
    return XAxis(axis.steps, relative / size, f"{unit} since the first step")


def seconds_of(item: Any) -> float:
    """A time as Unix seconds: a number of seconds, or an ISO 8601 text; else NaN."""
    if isinstance(item, str):
        parsed = parse_time(item)
        if parsed is not None:
            return parsed.timestamp()
    value, _, _ = read_number(item)
    return math.nan if value is None else value


@dataclass(frozen=True)
class XChoice:
    """One entry of the x-axis menu."""

    value: str
    label: str
    reason: str | None  # why it cannot be chosen for this job


def x_axis(metrics: dict[str, Any], choice: str) -> XAxis | str | None:
    """What `x=<choice>` does to a job's charts: an axis to move them onto, None to leave
    them as they are, or why it cannot be done."""
    axis = {"epoch": epoch_axis, "time": time_axis}.get(choice)
    return axis(metrics) if axis else None


def x_choices(metrics: dict[str, Any]) -> list[XChoice]:
    """The x-axis menu for a job, each unavailable choice with its reason."""
    axes = {value: x_axis(metrics, value) for value, _ in X_CHOICES}
    return [XChoice(value, label, axes[value] if isinstance(axes[value], str) else None)
            for value, label in X_CHOICES]


def settle(metrics: dict[str, Any], options: ChartOptions) -> tuple[ChartOptions, XAxis | None, list[str]]:
    """The options as this job can honour them, the axis to move its charts onto, and a note
    when the x-axis asked for is not available (the charts then stay on steps)."""
    axis = x_axis(metrics, options.x)
    if isinstance(axis, str):
        note = f"x={options.x} was ignored: {axis}"
        return dataclasses.replace(options, x="step", zoom=None), None, [note]
    return options, axis, []

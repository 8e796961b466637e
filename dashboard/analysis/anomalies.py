"""Anomalies in a job's metric series, found on the full series (pure functions on numpy series).

- Loss spike: a robust z-score, `(x - median) / (1.4826 * MAD)`, of each point against the block
  of `w = clamp(n / 20, 10, 200)` finite points before its own block (a trailing window of `w` to
  `2w - 1` points): blocks keep it O(n) on 10^6-step jobs, where a rolling median would not be.
  The first block is the warm-up; only upward jumps count (a falling loss is good news); the
  scale has a floor of 0.5 % of the median, so rounding in a near-constant series is no spike.
  A point is a spike above z = 6.
- NaN/Inf: the first non-finite value of any charted series, by step.
- Val-vs-train divergence: the val loss rose at each of its last evals (at least two rises in a
  row, 10 % above its minimum in all) while the train loss fell over the same steps, or the
  val/train ratio grew 30 % past its minimum and past 1.5 at an eval where the val loss stopped
  improving (it fell less than 2 % since the eval before). A constant gap is no divergence.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dashboard.analysis.series import Series, is_sorted, step_text
from dashboard.columns import Column, derived, sign_of

SPIKE_Z = 6.0
DIVERGENCE_RISES = 2  # consecutive val-loss rises before it counts as diverging
TRAIN_WINDOW = 5  # train-loss points up to an eval that give its train level


@dataclass(frozen=True)
class Anomaly:
    """One place where a series went wrong."""

    kind: str  # "nan", "spike" or "divergence"
    key: str  # the metric key it was found in
    x: float  # where, on the series' x axis
    axis: str  # that axis' label: "Step", "Epoch" or "Point"
    detail: str  # what was found there, in a few words

    @property
    def label(self) -> str:
        """The marker's short text on a chart."""
        return {"nan": "NaN/Inf", "spike": "spike", "divergence": "val ↑"}.get(self.kind, self.kind)

    @property
    def where(self) -> str:
        """`step 12,001`, `epoch 3`, `point 17`."""
        return f"{self.axis.lower()} {step_text(self.x)}"

    @property
    def sentence(self) -> str:
        """What it is and where, for the card and the incident summary."""
        what = {"nan": f"first NaN/Inf in {self.key}", "spike": f"first spike in {self.key}",
                "divergence": "validation loss diverging from the training loss"}[self.kind]
        return f"{what} at {self.where}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class Anomalies:
    """The anomalies of a job's metrics, each the first of its kind."""

    first_bad: Anomaly | None = None
    first_spike: Anomaly | None = None
    divergence: Anomaly | None = None

    @property
    def found(self) -> tuple[Anomaly, ...]:
        """Every anomaly found, by position on its axis."""
        found = [a for a in (self.first_bad, self.first_spike, self.divergence) if a]
        return tuple(sorted(found, key=lambda a: (a.axis != "Step", a.x)))

    @property
    def first(self) -> Anomaly | None:
        """The earliest of the NaN/Inf and the spike: the first bad step."""
        bad = [a for a in (self.first_spike, self.first_bad) if a]
        return min(bad, key=lambda a: a.x) if bad else None


@dataclass(frozen=True)
class Spike:
    """A point far above the median of the points before it."""

    position: int
    value: float
    median: float
    z: float


def first_spike(y: np.ndarray, threshold: float = SPIKE_Z) -> Spike | None:
    """The first upward spike of a series (robust z-score against the block before; see above)."""
    return derived((y,), ("spike", threshold), lambda: spike_in(y, threshold))


def spike_in(y: np.ndarray, threshold: float) -> Spike | None:
    """`first_spike`, computed."""
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    values = y if finite.all() else y[finite]
    n = len(values)
    width = min(200, max(10, n // 20))
    blocks = n // width
    if blocks < 2:
        return None
    body = values[: blocks * width].reshape(blocks, width)
    medians = np.median(body, axis=1)
    mads = np.median(np.abs(body - medians[:, None]), axis=1)
    scales = np.maximum(1.4826 * mads, 0.005 * np.abs(medians))
    scales = np.where(scales > 0, scales, 1e-12)
    # Each block against the one before it, then the points past the last whole block.
    limits = medians + threshold * scales
    hits = np.flatnonzero((body[1:] > limits[:-1, None]).ravel())
    if len(hits):
        at = width + int(hits[0])
    else:
        rest = np.flatnonzero(values[blocks * width:] > limits[-1])
        if not len(rest):
            return None
        at = blocks * width + int(rest[0])
    reference = at // width - 1
    z = (values[at] - medians[reference]) / scales[reference]
    position = at if finite.all() else int(np.flatnonzero(finite)[at])
    return Spike(position, float(values[at]), float(medians[reference]), float(z))


def first_non_finite(metrics: dict[str, Any], key: str,
                     read: Callable[[str], Series]) -> Anomaly | None:
    """The first NaN/Inf of one series, or None (a sum tells most clean series apart cheaply)."""
    raw = metrics.get(key)
    if isinstance(raw, Column):
        if not len(raw.bad):
            return None
    elif not isinstance(raw, list):
        return None
    else:
        with contextlib.suppress(TypeError, OverflowError, ValueError):  # not plain numbers: look closer
            if math.isfinite(sum(raw)):
                return None
    item = read(key)
    if not len(item.bad):
        return None
    position = int(item.bad[0])
    sign = int(raw.signs[0]) if isinstance(raw, Column) else sign_of(raw[position])  # as written
    word = ("NaN", "Inf", "-Inf")[sign]
    return Anomaly("nan", key, float(item.x[position]), item.x_label,
                   f"{word}; {len(item.bad):,} non-finite values in all")


def train_levels(train: Series, steps: np.ndarray) -> np.ndarray:
    """The train loss at each step: the median of the last TRAIN_WINDOW finite points up to it."""
    finite = np.isfinite(train.y)
    x, y = train.x[finite], train.y[finite]
    if not len(x) or not is_sorted(x):
        return np.full(len(steps), np.nan)
    ends = np.searchsorted(x, steps, side="right")
    window = ends[:, None] - np.arange(TRAIN_WINDOW, 0, -1)[None, :]
    picked = np.where(window >= 0, y[np.clip(window, 0, len(y) - 1)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of NaN (before the first point)
        return np.nanmedian(picked, axis=1)


def divergence(train: Series, val: Series) -> Anomaly | None:
    """Val loss rising while the train loss falls, or the val/train ratio growing (see above)."""
    return derived((train.x, train.y, val.x, val.y), ("divergence", train.key, val.key),
                   lambda: diverged(train, val))


def diverged(train: Series, val: Series) -> Anomaly | None:
    """`divergence`, computed."""
    if train.x_label != val.x_label:
        return None
    finite = np.isfinite(val.y)
    steps, values = val.x[finite], val.y[finite]
    if len(values) < DIVERGENCE_RISES + 1:
        return None
    levels = train_levels(train, steps)
    start = len(values) - 1
    while start > 0 and values[start - 1] < values[start]:
        start -= 1
    rises = len(values) - 1 - start
    lowest = float(values[start])
    if (rises >= DIVERGENCE_RISES and lowest > 0 and values[-1] >= lowest * 1.10
            and np.isfinite(levels[start]) and levels[-1] < levels[start]):
        return Anomaly("divergence", val.key, float(steps[start + 1]), val.x_label,
                       f"{lowest:.4g} → {values[-1]:.4g} while the train loss fell "
                       f"{levels[start]:.4g} → {levels[-1]:.4g}")
    usable = np.isfinite(levels) & (levels > 0) & (values > 0)
    if usable.sum() < 2:
        return None
    ratio = np.where(usable, values / np.where(usable, levels, 1.0), np.nan)
    best = int(np.nanargmin(ratio[:-1])) if np.isfinite(ratio[:-1]).any() else None
    if best is None:
        return None
    later = slice(best + 1, None)
    stopped = values[later] >= values[best:-1] * 0.98  # no better than the eval before
    bound = max(ratio[best] * 1.30, 1.5)
    grown = np.flatnonzero(np.isfinite(ratio[later]) & (ratio[later] >= bound) & stopped)
    if not len(grown):
        return None
    at = best + 1 + int(grown[0])
    return Anomaly("divergence", val.key, float(steps[at]), val.x_label,
                   f"val/train ratio {ratio[best]:.2f} → {ratio[at]:.2f}")


def find_anomalies(metrics: dict[str, Any], read: Callable[[str], Series], charted: Sequence[str],
                   loss: str | None, val_loss: str | None) -> Anomalies:
    """The first NaN/Inf of the `charted` series, the first spike of `loss` and a divergence of
    `val_loss` from it (`read` reads a series; the page's remembers, so none is read twice)."""
    bad = [found for key in charted if (found := first_non_finite(metrics, key, read))]
    first_bad = min(bad, key=lambda a: (a.axis != "Step", a.x)) if bad else None
    spike = diverging = None
    train = read(loss) if loss is not None else None
    if train is not None:
        found = first_spike(train.y)
        if found:
            spike = Anomaly("spike", train.key, float(train.x[found.position]), train.x_label,
                            f"{found.value:.4g} against a median of {found.median:.4g}, "
                            f"robust z {found.z:,.0f}")
        if val_loss is not None:
            diverging = divergence(train, read(val_loss))
    return Anomalies(first_bad, spike, diverging)

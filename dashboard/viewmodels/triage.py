"""On-call triage of one job, computed on its full data: what went wrong, where, and whether a
finished job is fit to ship.

Pure functions on a parsed `Job`, its raw log items and numpy series; no I/O, no Flask.

The choices, in one place:
- Loss spike: a robust z-score, `(x - median) / (1.4826 * MAD)`, of each point against the block
  of `w` points before its own block (so against a trailing window of `w` to `2w - 1` points),
  `w = clamp(n / 20, 10, 200)` finite points. Blocks keep it O(n) on 10^6-step jobs, where a true
  rolling median would not be. The first block is the warm-up and is never flagged; only upward
  jumps count (a loss that falls is good news); the scale has a floor of 0.5 % of the median, so
  a near-constant series does not turn rounding into spikes. A point is a spike above z = 6.
- NaN/Inf: the first non-finite value of any charted series, by step.
- Val-vs-train divergence: the val loss rose at each of its last evals (at least two rises in a
  row, 10 % above its minimum in all) while the train loss fell over the same steps, or the
  val/train ratio grew 30 % past its minimum and past 1.5 at an eval where the val loss stopped
  improving (it fell less than 2 % since the eval before). A constant gap is no divergence.
- Stall (running jobs only): the last log entry is older than max(10 x the median gap between
  recent entries, 2 min) and the metrics have not moved past the last step the logs mention.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dashboard.models import Job, LogEntry, parse_level, parse_time
from dashboard.viewmodels import charts

SPIKE_Z = 6.0
MAD_TO_SIGMA = 1.4826
SPIKE_WINDOW = (10, 200)  # the trailing window's size bounds, in finite points
SCALE_FLOOR = 0.005  # of |median|: the smallest scale a spike is measured in
DIVERGENCE_RISES = 2  # consecutive val-loss rises before it counts as diverging
DIVERGENCE_RISE = 0.10  # ... and how far above its minimum the val loss must have gone
RATIO_GROWTH = 1.30  # val/train ratio growth past its minimum that counts as diverging ...
RATIO_BOUND = 1.5  # ... once the val loss is this many times the train loss
VAL_STILL_IMPROVING = 0.02  # ... unless the val loss still fell more than this since the eval before
STALL_FACTOR = 10.0
STALL_FLOOR = 120.0  # seconds
RECENT_ENTRIES = 50  # entries whose gaps give a running job's usual interval
LAST_ENTRIES = 3  # "the last entries before the end"
HEADLINE_CHARS = 240
TRAIN_WINDOW = 5  # train-loss points up to an eval that give its train level


def short_duration(seconds: float | None) -> str:
    """`8 s`, `14 min`, `2.5 h`, `3 days`: the coarse wording of a warning."""
    if seconds is None or not math.isfinite(seconds):
        return "an unknown time"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{hours:.1f} h" if hours < 10 else f"{hours:.0f} h"
    return f"{seconds / 86400:.0f} days"


def step_text(step: float) -> str:
    """A step as people write it: `12,001`, or `1.5` for a fractional axis value."""
    return f"{int(step):,}" if float(step).is_integer() else f"{step:g}"


def headline(message: str) -> str:
    """One line that says what an entry is about: a traceback's last line, else the first line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return line if len(line) <= HEADLINE_CHARS else line[: HEADLINE_CHARS - 1] + "…"


# --- anomalies in the metrics ----------------------------------------------------------------


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
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    values = y if finite.all() else y[finite]
    n = len(values)
    width = int(min(SPIKE_WINDOW[1], max(SPIKE_WINDOW[0], n // 20)))
    blocks = n // width
    if blocks < 2:
        return None
    body = values[: blocks * width].reshape(blocks, width)
    medians = np.median(body, axis=1)
    mads = np.median(np.abs(body - medians[:, None]), axis=1)
    scales = np.maximum(MAD_TO_SIGMA * mads, SCALE_FLOOR * np.abs(medians))
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


def quickly_finite(raw: list[Any]) -> bool:
    """Whether a list of plain numbers holds no NaN/Inf, known from its sum (False: look closer)."""
    try:
        return math.isfinite(sum(raw))
    except (TypeError, OverflowError, ValueError):
        return False


def value_word(raw: Any) -> str:
    """`NaN`, `Inf` or `-Inf` for a non-finite value as a trainer wrote it."""
    text = str(raw).strip().lower()
    if "nan" in text:
        return "NaN"
    return "-Inf" if text.startswith("-") else "Inf"


def first_non_finite(metrics: dict[str, Any], key: str,
                     read: Callable[[str], charts.Series]) -> Anomaly | None:
    """The first NaN/Inf of one series, or None (a sum tells most clean series apart cheaply)."""
    raw = metrics.get(key)
    if not isinstance(raw, list) or quickly_finite(raw):
        return None
    item = read(key)
    if not len(item.bad):
        return None
    position = int(item.bad[0])
    return Anomaly("nan", key, float(item.x[position]), item.x_label,
                   f"{value_word(raw[position])}; {len(item.bad):,} non-finite values in all")


def train_levels(train: charts.Series, steps: np.ndarray) -> np.ndarray:
    """The train loss at each step: the median of the last TRAIN_WINDOW finite points up to it
    (fewer at the start; NaN before the first)."""
    finite = np.isfinite(train.y)
    x, y = train.x[finite], train.y[finite]
    if not len(x) or not charts_sorted(x):
        return np.full(len(steps), np.nan)
    ends = np.searchsorted(x, steps, side="right")
    window = ends[:, None] - np.arange(TRAIN_WINDOW, 0, -1)[None, :]
    picked = np.where(window >= 0, y[np.clip(window, 0, len(y) - 1)], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row of NaN (before the first point)
        return np.nanmedian(picked, axis=1)


def charts_sorted(x: np.ndarray) -> bool:
    """Whether an axis only goes up."""
    return bool(len(x) < 2 or np.all(x[1:] >= x[:-1]))


def divergence(train: charts.Series, val: charts.Series) -> Anomaly | None:
    """Val loss rising while the train loss falls, or the val/train ratio growing (see above)."""
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
    if (rises >= DIVERGENCE_RISES and lowest > 0 and values[-1] >= lowest * (1 + DIVERGENCE_RISE)
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
    stopped = values[later] >= values[best:-1] * (1 - VAL_STILL_IMPROVING)  # no better than the eval before
    bound = max(ratio[best] * RATIO_GROWTH, RATIO_BOUND)
    grown = np.flatnonzero(np.isfinite(ratio[later]) & (ratio[later] >= bound) & stopped)
    if not len(grown):
        return None
    at = best + 1 + int(grown[0])
    return Anomaly("divergence", val.key, float(steps[at]), val.x_label,
                   f"val/train ratio {ratio[best]:.2f} → {ratio[at]:.2f}")


def find_anomalies(job: Job, read: Callable[[str], charts.Series] | None = None) -> Anomalies:
    """The first NaN/Inf, the first loss spike and a val-loss divergence, on the full series
    (`read` reads a series; the page passes one that remembers, so no series is read twice)."""
    metrics = job.metrics
    if read is None:
        axes: dict[str, np.ndarray | None] = {}

        def read(key: str) -> charts.Series:
            return charts.series(metrics, key, axes)

    try:
        plans = charts.plan_charts(job)
    except Exception:  # a job too broken to plan charts for has none to mark
        return Anomalies()
    keyed = {p.testid: p.keys[0] for p in plans if p.keys and p.testid in ("chart-loss", "chart-val-loss")}
    bad = [found for p in plans for key in p.keys if (found := first_non_finite(metrics, key, read))]
    first_bad = min(bad, key=lambda a: (a.axis != "Step", a.x)) if bad else None
    spike = diverging = None
    train = read(keyed["chart-loss"]) if "chart-loss" in keyed else None
    if train is not None:
        found = first_spike(train.y)
        if found:
            spike = Anomaly("spike", train.key, float(train.x[found.position]), train.x_label,
                            f"{found.value:.4g} against a median of {found.median:.4g}, "
                            f"robust z {found.z:,.0f}")
        if "chart-val-loss" in keyed:
            diverging = divergence(train, read(keyed["chart-val-loss"]))
    return Anomalies(first_bad, spike, diverging)


# --- the logs, scanned raw (a job can have 10^5 entries; only a few are parsed) ---------------


def raw_step(item: Any) -> float | None:
    """The `data.step` of a raw log entry when it is a finite number."""
    data = item.get("data") if type(item) is dict else None
    step = data.get("step") if type(data) is dict else None
    if type(step) is int and -(2**53) < step < 2**53:  # the common case, first: 10^5 entries
        return float(step)
    if isinstance(step, bool) or not isinstance(step, int | float):
        return None
    try:
        value = float(step)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


PLAIN_LEVELS = frozenset({"info", "debug", "warning"})


def is_error(item: Any) -> bool:
    """Whether a raw log entry is an error entry (the common levels are told apart first: a job
    can have 10^5 entries)."""
    if not isinstance(item, dict):
        return False
    level = item.get("level")
    return not (isinstance(level, str) and level in PLAIN_LEVELS) and parse_level(level) == "error"


def maybe_errors(items: Sequence[Any]) -> Iterator[int]:
    """The positions of the entries that are not plainly info, debug or warning (a fast pass)."""
    return (i for i, item in enumerate(items)
            if not (type(item) is dict and type(level := item.get("level")) is str and level in PLAIN_LEVELS))


def first_error(items: Sequence[Any]) -> int | None:
    """The position of the first error entry."""
    return next((i for i in maybe_errors(items) if is_error(items[i])), None)


def error_count(items: Sequence[Any]) -> int:
    """How many error entries there are."""
    return sum(1 for i in maybe_errors(items) if is_error(items[i]))


@dataclass(frozen=True, eq=False)
class StepIndex:
    """Where the logs mention steps: the positions of the entries with a `data.step`, and the
    largest step mentioned up to each (so "the first entry at or past step s" is a search)."""

    positions: np.ndarray
    reached: np.ndarray

    @classmethod
    def of(cls, items: Sequence[Any]) -> StepIndex:
        """Read every entry once (in one comprehension: a job can have 10^5 entries)."""
        found = [data.get("step") if type(item) is dict and type(data := item.get("data")) is dict else None
                 for item in items]
        try:
            if any(type(step) is bool for step in found):
                raise TypeError("booleans are no steps")
            steps = np.array(found, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):  # strings, objects: one entry at a time
            steps = np.array([np.nan if (step := raw_step(item)) is None else step for item in items],
                             dtype=np.float64)
        if steps.ndim != 1:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0))
        positions = np.flatnonzero(np.isfinite(steps))
        return cls(positions, np.maximum.accumulate(steps[positions]) if len(positions) else np.zeros(0))

    def __bool__(self) -> bool:
        return bool(len(self.positions))

    def first_at(self, step: float) -> int | None:
        """The first entry whose `data.step` is at or past `step`."""
        at = int(np.searchsorted(self.reached, step, side="left"))
        return int(self.positions[at]) if at < len(self.positions) else None


def entry_for_step(items: Sequence[Any], step: float) -> int | None:
    """The first entry whose `data.step` is at or past `step`."""
    return StepIndex.of(items).first_at(step)


def has_steps(items: Sequence[Any]) -> bool:
    """Whether any entry carries a `data.step`."""
    return any(raw_step(item) is not None for item in items)


def entry_at_time(items: Sequence[Any], moment: datetime) -> int | None:
    """The first entry written at or after `moment`."""
    for i, item in enumerate(items):
        stamp = parse_time(item.get("timestamp")) if isinstance(item, dict) else None
        if stamp is not None and stamp >= moment:
            return i
    return None


def step_time(job: Job, x: float, ended: datetime | None) -> datetime | None:
    """When a step probably ran, by interpolating between the start and the end of the job."""
    steps = job.metrics.get("steps")
    if job.started_at is None or ended is None or not isinstance(steps, list) or len(steps) < 2:
        return None
    first, last = charts.number(steps[0])[0], charts.number(steps[-1])[0]
    if first is None or last is None or last <= first:
        return None
    share = min(1.0, max(0.0, (x - first) / (last - first)))
    return job.started_at + (ended - job.started_at) * share


def entry_for(job: Job, items: Sequence[Any], anomaly: Anomaly, ended: datetime | None,
              steps: StepIndex | None = None) -> int | None:
    """The log entry of the moment an anomaly happened: by `data.step`, else by time."""
    steps = StepIndex.of(items) if steps is None else steps
    if anomaly.axis == "Step" and steps:
        return steps.first_at(anomaly.x)
    if anomaly.axis == "Step":
        moment = step_time(job, anomaly.x, ended)
        return entry_at_time(items, moment) if moment else None
    return None


# --- checkpoints and progress ----------------------------------------------------------------

CHECKPOINT_STEP = re.compile(r"step[-_]?(\d+)|_(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Checkpoint:
    """One saved checkpoint of a job."""

    number: int  # its position in the artifacts' `checkpoints`, from 1
    path: str
    step: int | None  # the step it was saved at, when its name says
    final: bool

    @property
    def name(self) -> str:
        """The last part of its path: `checkpoint-2-step40`, `final`."""
        return self.path.rstrip("/").rsplit("/", 1)[-1] or self.path


def checkpoint_list(artifacts: dict[str, Any]) -> tuple[Checkpoint, ...]:
    """The job's checkpoints in order (`checkpoints`, then `latest_checkpoint` if not among them)."""
    raw = artifacts.get("checkpoints") if isinstance(artifacts, dict) else None
    paths = [p for p in (raw if isinstance(raw, list) else []) if isinstance(p, str) and p.strip()]
    latest = artifacts.get("latest_checkpoint") if isinstance(artifacts, dict) else None
    if isinstance(latest, str) and latest.strip() and latest not in paths:
        paths.append(latest)
    found = []
    for number, path in enumerate(paths, 1):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        match = CHECKPOINT_STEP.search(name)
        step = int(match.group(1) or match.group(2)) if match else None
        found.append(Checkpoint(number, path, step, "final" in name.lower()))
    return tuple(found)


def last_step(job: Job) -> float | None:
    """The last step the metrics reached: the last finite `steps` value, else `train/steps`."""
    steps = job.metrics.get("steps")
    if isinstance(steps, list):
        for value in reversed(steps[-1000:]):
            number = charts.number(value)[0]
            if number is not None:
                return number
    scalar = charts.number(job.metrics.get("train/steps"))[0]
    return scalar


def planned_steps(job: Job) -> int | None:
    """How many steps the job was submitted for (`config.steps`)."""
    value = job.config.get("steps")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- a running job that stopped moving -------------------------------------------------------


@dataclass(frozen=True)
class Stall:
    """A running job whose logs and metrics stopped advancing."""

    quiet: float  # seconds since the last log entry
    usual: float | None  # the median gap between recent entries, in seconds
    limit: float  # the quiet time that counts as a stall

    @property
    def sentence(self) -> str:
        """'no progress for 14 min; entries usually every 8 s'."""
        usual = f"entries usually every {short_duration(self.usual)}" if self.usual else (
            "too few entries to know their usual interval")
        return f"no progress for {short_duration(self.quiet)}; {usual}"


def usual_interval(entries: Sequence[LogEntry]) -> float | None:
    """The median gap between the distinct times of the recent entries."""
    times = sorted({e.timestamp for e in entries[-RECENT_ENTRIES:] if e.timestamp})
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else None


def last_logged_step(entries: Sequence[LogEntry]) -> float | None:
    """The largest `data.step` among the recent entries."""
    steps = [s for e in entries[-RECENT_ENTRIES:] if (s := raw_step({"data": e.data})) is not None]
    return max(steps) if steps else None


def stall(job: Job, entries: Sequence[LogEntry], now: datetime) -> Stall | None:
    """For a running job, a stall: quiet longer than max(10 x usual gap, 2 min), metrics not ahead."""
    if job.status != "running":
        return None
    times = [e.timestamp for e in entries if e.timestamp]
    last = max(times) if times else job.started_at
    if last is None:
        return None
    quiet = (now - last).total_seconds()
    usual = usual_interval(entries)
    limit = max(STALL_FACTOR * usual, STALL_FLOOR) if usual else STALL_FLOOR
    if quiet <= limit:
        return None
    logged, reached = last_logged_step(entries), last_step(job)
    if logged is not None and reached is not None:
        recent = entries[-RECENT_ENTRIES:]
        steps = sorted({s for e in recent if (s := raw_step({"data": e.data})) is not None})
        stride = statistics.median([b - a for a, b in itertools.pairwise(steps)] or [1.0])
        if reached > logged + 2 * max(1.0, stride):
            return None  # the logs went quiet, but the metrics kept moving
    return Stall(quiet, usual, limit)

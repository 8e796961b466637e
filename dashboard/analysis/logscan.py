"""The logs, scanned raw: a job can have 10^5 entries, so only a few are parsed. Error entries,
the entries that mention steps, and the entry of an anomaly's moment."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dashboard.analysis.anomalies import Anomaly
from dashboard.analysis.series import read_number
from dashboard.columns import Column, is_column
from dashboard.models import Job, parse_level, parse_time

HEADLINE_CHARS = 240


def headline(message: str) -> str:
    """One line that says what an entry is about: a traceback's last line, else the first line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return line if len(line) <= HEADLINE_CHARS else line[: HEADLINE_CHARS - 1] + "…"



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
    """Whether a raw log entry is an error entry (the common levels are told apart first)."""
    if not isinstance(item, dict):
        return False
    level = item.get("level")
    return not (isinstance(level, str) and level in PLAIN_LEVELS) and parse_level(level) == "error"


def error_positions(items: Sequence[Any]) -> Iterator[int]:
    """The positions of the error entries (plainly info, debug or warning ones are passed over
    without a call: a job can have 10^5 entries)."""
    return (i for i, item in enumerate(items)
            if not (type(item) is dict and type(level := item.get("level")) is str and level in PLAIN_LEVELS)
            and is_error(item))


def first_error(items: Sequence[Any]) -> int | None:
    """The position of the first error entry."""
    return next(error_positions(items), None)


def error_count(items: Sequence[Any]) -> int:
    """How many error entries there are."""
    return sum(1 for _ in error_positions(items))


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
            if any(type(step) is bool or type(step) is str for step in found):
                raise TypeError("booleans and strings are no steps")  # numpy would read "12" as 12
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


def entry_at_time(items: Sequence[Any], moment: datetime) -> int | None:
    """The first entry written at or after `moment`."""
    stamps = (parse_time(item.get("timestamp")) if isinstance(item, dict) else None for item in items)
    return next((i for i, stamp in enumerate(stamps) if stamp is not None and stamp >= moment), None)


def step_time(job: Job, x: float, ended: datetime | None) -> datetime | None:
    """When a step probably ran, by interpolating between the start and the end of the job."""
    steps = job.metrics.get("steps")
    if job.started_at is None or ended is None or not is_column(steps) or len(steps) < 2:
        return None
    ends = (steps.y[0], steps.y[-1]) if isinstance(steps, Column) else (steps[0], steps[-1])
    first, last = (read_number(float(v) if isinstance(v, np.floating) else v)[0] for v in ends)
    if first is None or last is None or last <= first:
        return None
    share = min(1.0, max(0.0, (x - first) / (last - first)))
    return job.started_at + (ended - job.started_at) * share


def entry_for(job: Job, items: Sequence[Any], anomaly: Anomaly, ended: datetime | None,
              steps: StepIndex | None = None) -> int | None:
    """The log entry of the moment an anomaly happened: by `data.step`, else by time."""
    if anomaly.axis != "Step":
        return None
    steps = StepIndex.of(items) if steps is None else steps
    if steps:
        return steps.first_at(anomaly.x)
    moment = step_time(job, anomaly.x, ended)
    return entry_at_time(items, moment) if moment else None


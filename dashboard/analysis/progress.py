"""A job's checkpoints, how far it got, and whether a running job stopped moving.

Stall (running jobs only): the last log entry is older than max(10 x the median gap between
recent entries, 2 min) and the metrics have not moved past the last step the logs mention.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from dashboard.analysis.logscan import raw_step
from dashboard.analysis.series import read_number
from dashboard.columns import Column
from dashboard.models import Job, LogEntry

CHECKPOINT_STEP = re.compile(r"step[-_]?(\d+)|_(\d+)$", re.IGNORECASE)
STALL_FLOOR = 120.0  # seconds
RECENT_ENTRIES = 50  # entries whose gaps give a running job's usual interval


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
    if isinstance(steps, Column):
        finite = steps.y[np.isfinite(steps.y)]
        if len(finite):
            return float(finite[-1])
    elif isinstance(steps, list):
        for value in reversed(steps[-1000:]):
            number = read_number(value)[0]
            if number is not None:
                return number
    return read_number(job.metrics.get("train/steps"))[0]


def planned_steps(job: Job) -> int | None:
    """How many steps the job was submitted for (`config.steps`)."""
    value = job.config.get("steps")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


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
    limit = max(10 * usual, STALL_FLOOR) if usual else STALL_FLOOR
    if quiet <= limit:
        return None
    reached = last_step(job)
    steps = sorted({s for e in entries[-RECENT_ENTRIES:] if (s := raw_step({"data": e.data})) is not None})
    if steps and reached is not None:  # steps[-1]: the last step the logs mention
        stride = statistics.median([b - a for a, b in itertools.pairwise(steps)] or [1.0])
        if reached > steps[-1] + 2 * max(1.0, stride):
            return None  # the logs went quiet, but the metrics kept moving
    return Stall(quiet, usual, limit)

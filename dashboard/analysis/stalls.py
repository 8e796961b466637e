"""A running job that stopped moving.

Stall (running jobs only): the last log entry is older than max(10 x the median gap between
recent entries, 2 min) and the metrics have not moved past the last step the logs mention.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.analysis.logscan import raw_step
from dashboard.analysis.progress import last_step
from dashboard.models import Job, LogEntry

STALL_FACTOR = 10.0
STALL_FLOOR = 120.0  # seconds
RECENT_ENTRIES = 50  # entries whose gaps give a running job's usual interval


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

"""The last good run of a job's kind, chosen from rows of the job list (pure).

The run the job was retried from when that run completed; else the most recent *completed* job
created before this one with the same name, or else with the same trainer, base model and dataset.
A failed or cancelled attempt is never the baseline: the ones between the baseline and this job are
counted instead ("the last 2 runs of this name failed as well"). No creation time, no guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.models import Job

GOOD = "completed"
BAD = frozenset({"failed", "cancelled"})


@dataclass(frozen=True)
class Baseline:
    """The last good run (None: there is none), and the failed attempts of its kind since."""

    good: Job | None
    failed: tuple[Job, ...]  # newest first
    kind: str  # how they match this job: "retry", "name", "spec", or "" when nothing does


def same_name(job: Job, other: Job) -> bool:
    """Both runs carry the same (non-empty) name."""
    return bool(job.name) and other.name == job.name


def same_spec(job: Job, other: Job) -> bool:
    """Both runs train the same base model with the same trainer on the same dataset."""
    spec = (job.trainer_type, job.model, job.dataset)
    return None not in spec and (other.trainer_type, other.model, other.dataset) == spec


def _created(job: Job) -> datetime:
    """A row's creation time (only rows that have one are ever sorted)."""
    assert job.created_at is not None
    return job.created_at


def last_good(job: Job, rows: Sequence[Job], origin: Job | None = None) -> Baseline:
    """The baseline of `job` among `rows` (the list, any order) and `origin` (the run it was
    retried from, when known)."""
    if job.created_at is None:
        return Baseline(None, (), "")
    if origin is not None and origin.id != job.id:
        if origin.status == GOOD:
            return Baseline(origin, (), "retry")
        rows = [*rows, origin]
    seen: set[str] = set()
    earlier = []
    for row in sorted((r for r in rows if r.created_at is not None and r.id != job.id
                       and r.created_at < job.created_at), key=_created, reverse=True):
        if row.id not in seen:
            seen.add(row.id)
            earlier.append(row)
    fallback = Baseline(None, (), "")
    for kind, match in (("name", same_name), ("spec", same_spec)):
        found = _walk(job, earlier, match, kind)
        if found.good is not None:
            return found
        fallback = fallback if fallback.failed else found
    return fallback


def _walk(job: Job, earlier: Sequence[Job], match: Callable[[Job, Job], bool], kind: str) -> Baseline:
    """Newest first among runs of one kind: failed attempts until the first completed one."""
    failed: list[Job] = []
    for row in earlier:
        if not match(job, row):
            continue
        if row.status == GOOD:
            return Baseline(row, tuple(failed), kind)
        if row.status in BAD:
            failed.append(row)
    return Baseline(None, tuple(failed), kind if failed else "")

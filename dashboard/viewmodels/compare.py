"""Comparing runs: `?compare=<job_id>[,…]` on a job URL, parsed into ids and notes; the compared
jobs as the compare strip shows them; the scalar grid's deltas; the "add a run" candidates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dashboard.analysis.series import read_number
from dashboard.models import Job, clip, shown
from dashboard.validation import valid_job_id
from dashboard.viewmodels import format as fmt
from dashboard.viewmodels.format import STATUS_CLASSES

MAX_COMPARED = 5
MAX_CANDIDATES = 12  # rows the "add a run" search shows
LOWER_IS_BETTER = ("loss", "perplexity", "error", "failed", "staleness")
HIGHER_IS_BETTER = ("reward", "accuracy", "score", "success")


@dataclass(frozen=True)
class CompareRequest:
    """The usable ids of a `compare` value, in order, and a note for each entry left out."""

    ids: tuple[str, ...]
    notes: tuple[str, ...]


def parse_compare(values: Iterable[str], job_id: str) -> CompareRequest:
    """Job ids from `compare` values (comma-separated, repeatable): malformed, duplicate, the job
    itself and any past the fifth are left out, each with a note; nothing else is checked here."""
    ids: list[str] = []
    notes: list[str] = []
    for entry in (part.strip() for value in values for part in value.split(",")):
        if not entry:
            continue
        if not valid_job_id(entry):
            notes.append(f"{shown(entry)} is not a job id (a UUID), so it is not compared")
        elif entry == job_id:
            notes.append("this job is not compared with itself")
        elif entry in ids:
            notes.append(f"{entry[:8]} is listed twice; it is compared once")
        elif len(ids) >= MAX_COMPARED:
            notes.append(f"{entry[:8]} was left out: at most {MAX_COMPARED} runs are compared")
        else:
            ids.append(entry)
    return CompareRequest(tuple(ids), tuple(notes))


def compare_query(ids: Sequence[str]) -> str:
    """`compare=a,b` (or '' for none): what a link or a fragment keeps of the comparison."""
    return urlencode({"compare": ",".join(ids)}) if ids else ""


@dataclass(frozen=True)
class Run:
    """One compared job, as the strip, the legend and the tile deltas name it."""

    id: str
    name: str
    status: str
    status_class: str
    terminal: bool
    scalars: tuple[tuple[str, Any], ...]  # its scalar metrics

    @property
    def short(self) -> str:
        """The first 8 characters of its id."""
        return self.id[:8]

    @property
    def label(self) -> str:
        """`name (1a2b3c4d, completed)`: the legend's name for its traces."""
        return f"{clip(self.name, 80)} ({self.short}, {self.status})"


def run_of(job: Job, job_id: str) -> Run:
    """A compared job as the strip shows it (`job_id`: the id it was asked for, never the payload's)."""
    scalars = tuple((k, v) for k, v in job.metrics.items()
                    if isinstance(k, str) and isinstance(v, int | float | str))
    return Run(job_id, job.title, job.status, STATUS_CLASSES.get(job.status, "unknown"), job.terminal,
               scalars)


def unreadable_note(job_id: str, status: int, message: str) -> str:
    """Why a compared job is not shown, from the platform's answer."""
    if status == 404:
        return f"{job_id[:8]} was not found in this workspace (404), so it is not compared"
    if status == 403:
        return f"{job_id[:8]} is not visible to you (403), so it is not compared"
    return f"{job_id[:8]} could not be read ({status}: {clip(message, 200)}), so it is not compared"


@dataclass(frozen=True)
class StripRun:
    """One compared job in the strip, with its links."""

    run: Run
    url: str  # its own pane
    remove_url: str  # this pane without it
    color: str


@dataclass(frozen=True)
class Candidate:
    """A job the "add a run" control offers."""

    id: str
    name: str
    status: str
    status_class: str
    why: str  # "retried from this run", "same name", … or "" for a plain match
    add_url: str


@dataclass(frozen=True)
class CompareView:
    """The compare strip: the compared jobs, notes for the entries left out, and "add a run"."""

    base: str  # this job's page URL
    ids: tuple[str, ...]
    runs: tuple[StripRun, ...]
    notes: tuple[str, ...]
    find: str | None  # the "add a run" search text, when asked for
    candidates: tuple[Candidate, ...]
    find_url: str  # the htmx fragment of the search results

    @property
    def query(self) -> str:
        """`compare=…`, for the links and fragments of this pane."""
        return compare_query(self.ids)


def with_ids(base: str, ids: Sequence[str], extra: Sequence[tuple[str, str]] = ()) -> str:
    """A job URL comparing with `ids` (and carrying `extra` parameters)."""
    params = ([("compare", ",".join(ids))] if ids else []) + list(extra)
    return f"{base}?{urlencode(params)}" if params else base


def compare_view(base: str, job_url: Any, runs: Sequence[Run], notes: Sequence[str], colors: Sequence[str],
                 find: str | None = None, candidates: Sequence[Candidate] = ()) -> CompareView:
    """The strip for a pane comparing with `runs` (`job_url(id)` is another job's page URL;
    `colors`: each run's colour in the charts)."""
    ids = tuple(r.id for r in runs)
    strip = tuple(StripRun(r, job_url(r.id), with_ids(base, [i for i in ids if i != r.id]), colors[n])
                  for n, r in enumerate(runs))
    return CompareView(base, ids, strip, tuple(notes), find, tuple(candidates),
                       f"{base}/compare/find")


def candidates(job: Job, jobs: Sequence[Job], ids: Sequence[str], base: str, job_url: Any,
               find: str, retry_of: str | None) -> list[Candidate]:
    """Jobs to add, suggested ones first (the run this one was retried from or into, then the same
    name, trainer and dataset), then those matching `find` (name or id); never this job or one
    already compared."""
    words = find.lower().split()
    scored: list[tuple[int, int, Candidate]] = []
    for position, other in enumerate(jobs):
        if other.id == job.id or other.id in ids or not valid_job_id(other.id):
            continue
        why = suggestion(job, other, retry_of)
        haystack = f"{other.title} {other.id}".lower()
        if words and not all(w in haystack for w in words):
            continue
        if not words and not why:
            continue
        rank = SUGGESTIONS.index(why) if why else len(SUGGESTIONS)
        scored.append((rank, position, Candidate(
            other.id, other.title, other.status, STATUS_CLASSES.get(other.status, "unknown"), why,
            with_ids(base, [*ids, other.id]))))
    return [c for _, _, c in sorted(scored, key=lambda t: t[:2])][:MAX_CANDIDATES]


SUGGESTIONS = ("retried from this run", "this run was retried from it", "same name, trainer and dataset",
               "same name")


def suggestion(job: Job, other: Job, retry_of: str | None) -> str:
    """Why `other` is a natural run to compare `job` with, or ''."""
    if other.id == retry_of:
        return SUGGESTIONS[1]
    if retry_of_job(other) == job.id:
        return SUGGESTIONS[0]
    if job.name and other.name == job.name:
        same = (other.trainer_type, other.dataset) == (job.trainer_type, job.dataset)
        return SUGGESTIONS[2] if same else SUGGESTIONS[3]
    return ""


def retry_of_job(job: Job) -> str | None:
    """The job this one was retried from, when its config says so."""
    found = job.config.get("retry_of")
    return found if valid_job_id(found) else None


def retry_of_logs(items: Sequence[Any]) -> str | None:
    """The job a run was retried from, as its first log entry's `data.retry_of` says."""
    first = items[0] if items else None
    data = first.get("data") if isinstance(first, dict) else None
    found = data.get("retry_of") if isinstance(data, dict) else None
    return found if valid_job_id(found) else None


# ---- the scalar grid's deltas ------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    """One compared job's value of a scalar, against this job's."""

    short: str
    value: str  # the compared job's value
    difference: str  # this job minus it, absolute and relative ("−0.12 (−9.2 %)"), or a reason
    verdict: str  # "better", "worse", "same" or "" (no direction, or not comparable)


def direction(key: str) -> int:
    """-1 when a lower value is better (loss), 1 when higher is (reward), 0 when neither."""
    name = key.lower()
    if any(word in name for word in LOWER_IS_BETTER):
        return -1
    return 1 if any(word in name for word in HIGHER_IS_BETTER) else 0


def delta(key: str, mine: Any, theirs: Any, short: str) -> Delta:
    """How this job's value of `key` compares with another job's."""
    a, b = read_number(mine)[0], read_number(theirs)[0]
    value = fmt.number(theirs) if not isinstance(theirs, str) else clip(theirs, 40)
    if a is None or b is None or isinstance(mine, bool) or isinstance(theirs, bool):
        return Delta(short, value, "not comparable as numbers", "")
    change = a - b
    relative = f" ({signed(100 * change / abs(b))} %)" if b else ""
    way = direction(key)
    verdict = "same" if change == 0 else ("better" if change * way > 0 else "worse") if way else ""
    return Delta(short, value, signed(change) + relative, verdict)


def signed(value: float) -> str:
    """+0.12, −9.2 (a real minus sign), 0."""
    if value == 0 or not math.isfinite(value):
        return fmt.number(value)
    return ("+" if value > 0 else "−") + fmt.number(abs(value))


@dataclass(frozen=True)
class Deltas:
    """Per scalar key of this job, each compared job's value; and the keys only they have."""

    by_key: Mapping[str, tuple[Delta, ...]]
    missing: Mapping[str, tuple[str, ...]]  # key -> the compared jobs (short ids) without it
    only_theirs: tuple[tuple[str, str], ...]  # (short id, the keys this job lacks, named)

    def get(self, key: str) -> tuple[Delta, ...]:
        """The deltas of one key (none when not comparing)."""
        return self.by_key.get(key, ())


NO_DELTAS = Deltas({}, {}, ())


def deltas(metrics: Mapping[str, Any], runs: Sequence[Run]) -> Deltas:
    """The scalar grid's comparison: for each key both jobs have, the value and the difference."""
    if not runs:
        return NO_DELTAS
    mine = {k: v for k, v in metrics.items() if isinstance(k, str) and isinstance(v, int | float | str)}
    by_key: dict[str, tuple[Delta, ...]] = {}
    missing: dict[str, tuple[str, ...]] = {}
    scalars = [(r.short, dict(r.scalars)) for r in runs]
    for key, value in mine.items():
        found = [(short, theirs.get(key)) for short, theirs in scalars]
        by_key[key] = tuple(delta(key, value, theirs, short) for short, theirs in found if theirs is not None)
        missing[key] = tuple(short for short, theirs in found if theirs is None)
    only = ((r.short, sorted(clip(k, 100) for k, _ in r.scalars if k not in mine)) for r in runs)
    return Deltas(by_key, missing, tuple((short, named(keys)) for short, keys in only if keys))


def named(keys: Sequence[str], limit: int = 20) -> str:
    """'a, b, c', or the first `limit` and how many more."""
    more = f", and {len(keys) - limit:,} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more

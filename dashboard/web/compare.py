"""The jobs a pane is compared with (`?compare=<job_id>[,…]`): only ids that passed
validation reach the source, they are read concurrently, and a finished one is remembered as
the strip shows it (it no longer changes), so a live pane's polls do not read it again."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from flask import current_app, request

from dashboard.models import Job
from dashboard.sources import JobSource, SourceError, gather, read_jobs
from dashboard.viewmodels import compare as cmp
from dashboard.viewmodels.charts_section import Compared
from dashboard.viewmodels.figures import COLORS
from dashboard.viewmodels.pane import Comparison
from dashboard.web import current

REMEMBERED = 512  # finished compared jobs remembered per app (each a name, a status and its scalars)
LIST_PAGE = 100


def requested(job_id: str) -> cmp.CompareRequest:
    """The `compare` ids of this request (each unusable entry with a note)."""
    return cmp.parse_compare(request.args.getlist("compare"), job_id)


def color(slot: int) -> str:
    """The colour of the compared job at `slot` (this job has the first colour)."""
    return COLORS[(slot + 1) % len(COLORS)]


@dataclass
class Found:
    """What was read of the compared jobs: jobs read now, every job's strip entry, and notes."""

    jobs: dict[str, Job] = field(default_factory=dict)
    runs: dict[str, cmp.Run] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # could not be read: not compared


class Finished:
    """Finished compared jobs as the strip shows them, by (credentials, org, workspace, id)."""

    def __init__(self) -> None:
        self.runs: OrderedDict[tuple[str, str, str, str], cmp.Run] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, str, str, str]) -> cmp.Run | None:
        """A finished compared job read before (with the same credentials)."""
        with self.lock:
            found = self.runs.get(key)
            if found is not None:
                self.runs.move_to_end(key)
            return found

    def keep(self, key: tuple[str, str, str, str], run: cmp.Run) -> None:
        """Remember a finished job, forgetting the oldest past REMEMBERED."""
        with self.lock:
            self.runs[key] = run
            while len(self.runs) > REMEMBERED:
                self.runs.popitem(last=False)


def finished() -> Finished:
    """This app's finished compared jobs."""
    return current_app.extensions.setdefault("dashboard.compare", Finished())


def attempt(source: JobSource, org: str, workspace: str, job_id: str) -> Job | SourceError:
    """One compared job, or the error the source answered with."""
    try:
        return Job.from_api(source.get_job(org, workspace, job_id))
    except SourceError as exc:
        return exc


def read(org: str, workspace: str, ids: Sequence[str], whole: Collection[str] | None,
         others: bool = True) -> Found:
    """Read the jobs of `ids` in `whole` (all when None) from the source; of the others, a
    finished one comes from memory, and the rest are read too when `others` (else skipped)."""
    found = Found()
    if not ids:
        return found
    source = current.source()  # resolved here: the reads run on other threads
    scope, memory = source.cache_scope, finished()
    wanted = []
    for job_id in ids:
        known = memory.get((scope, org, workspace, job_id))
        if (whole is None or job_id in whole) or (known is None and others):
            wanted.append(job_id)
        elif known is not None:
            found.runs[job_id] = known
    results = gather(*(lambda i=i: attempt(source, org, workspace, i) for i in wanted))
    for job_id, result in zip(wanted, results, strict=True):
        if isinstance(result, SourceError):
            found.notes.append(cmp.unreadable_note(job_id, result.status, result.message))
            found.failed.add(job_id)
            continue
        found.jobs[job_id] = result
        found.runs[job_id] = cmp.run_of(result, job_id)
        if result.terminal:
            memory.keep((scope, org, workspace, job_id), found.runs[job_id])
    return found


def comparison(org: str, workspace: str, job: Job, job_id: str, whole: Collection[str] | None = None,
               others: bool = True, items: Sequence[Any] = ()) -> Comparison:
    """The comparison this request asks for (`whole`, `others`: as `read`; `items`: this job's
    log entries, which may say which job it was retried from)."""
    asked = requested(job_id)
    found = read(org, workspace, asked.ids, whole, others)
    ids = [i for i in asked.ids if i not in found.failed]
    runs = tuple(found.runs[i] for i in ids if i in found.runs)
    base = current.job_url(org, workspace, job_id)
    find = request.args.get("find")
    offered = candidates(org, workspace, job, ids, base, find, items) if find is not None else []
    strip = cmp.compare_view(base, lambda i: current.job_url(org, workspace, i), runs,
                             (*asked.notes, *found.notes), COLORS, find, offered)
    charted = tuple(Compared(i, found.runs[i].label if i in found.runs else "", color(slot),
                             found.jobs.get(i)) for slot, i in enumerate(ids))
    return Comparison(strip, runs, charted, cmp.run_of(job, job_id).label)


def candidates(org: str, workspace: str, job: Job, ids: Sequence[str], base: str, find: str,
               items: Sequence[Any]) -> list[cmp.Candidate]:
    """The "add a run" rows: the workspace's jobs (a bounded number of list pages) that match."""
    jobs = read_jobs(current.source(), org, workspace, None, 1, LIST_PAGE, every=True).items
    retry_of = cmp.retry_of_logs(items) or cmp.retry_of_job(job)
    return cmp.candidates(job, jobs, ids, base, lambda i: current.job_url(org, workspace, i),
                          find.strip()[:200], retry_of)

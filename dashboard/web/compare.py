"""The jobs a pane is compared with (`?compare=<job_id>[,…]`): only ids that passed
validation reach the source, they are read concurrently, and a finished one is remembered as
the strip shows it (it no longer changes), so a live pane's polls do not read it again."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request

from dashboard.models import Job
from dashboard.sources import JobSource, SourceError, gather, read_jobs
from dashboard.sources.cache import FINISHED_TTL
from dashboard.viewmodels import compare as cmp
from dashboard.viewmodels.chart_controls import ChartOptions
from dashboard.viewmodels.charts import plan_charts
from dashboard.viewmodels.charts_section import Compared
from dashboard.viewmodels.figures import COLORS
from dashboard.viewmodels.pane import Comparison
from dashboard.web import current
from dashboard.web.kept import Kept

REMEMBERED = 512  # finished compared jobs remembered per app (each a name, a status and its scalars)
DRAWINGS = 64  # finished compared jobs' chart traces remembered per app (each about 0.5 MB)
LIST_PAGE = 100
Key = tuple[Any, ...]


def requested(job_id: str) -> cmp.CompareRequest:
    """The `compare` ids of this request (each unusable entry with a note)."""
    return cmp.parse_compare(request.args.getlist("compare"), job_id)


def color(slot: int) -> str:
    """The colour of the compared job at `slot` of `compare` (this job has the first colour)."""
    return COLORS[(slot + 1) % len(COLORS)]


@dataclass
class Found:
    """What was read of the compared jobs: jobs read now, every job's strip entry, and notes."""

    jobs: dict[str, Job] = field(default_factory=dict)
    runs: dict[str, cmp.Run] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # could not be read: not compared


def remembered(name: str, size: int) -> Kept[Any]:
    """One of this app's memories of finished compared jobs: kept as long as the cache keeps a
    finished job (a retry may start it again under the same id); keys start with the
    credentials' fingerprint, so nothing is shared across them."""
    return current_app.extensions.setdefault(f"dashboard.compare.{name}", Kept(size))


def attempt(source: JobSource, org: str, workspace: str, job_id: str) -> Job | SourceError:
    """One compared job, or the error the source answered with."""
    try:
        return Job.from_api(source.get_job(org, workspace, job_id))
    except SourceError as exc:
        return exc


def read(org: str, workspace: str, ids: Sequence[str], whole: Collection[str] | None,
         others: bool = True, drawn: Collection[str] = ()) -> Found:
    """Read the jobs of `ids` in `whole` (all when None) from the source, except those `drawn`
    before; of the others, a finished one comes from memory, and the rest are read too when
    `others` (else skipped)."""
    found = Found()
    if not ids:
        return found
    source = current.source()  # resolved here: the reads run on other threads
    scope, memory = source.cache_scope, remembered("runs", REMEMBERED)
    wanted = []
    for job_id in ids:
        known = memory.get((scope, org, workspace, job_id))
        if job_id not in drawn and ((whole is None or job_id in whole) or (known is None and others)):
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
            memory.put((scope, org, workspace, job_id), found.runs[job_id], FINISHED_TTL)
    return found


@dataclass(frozen=True)
class Drawings:
    """The finished compared jobs' chart traces, drawn before for this view of this job."""

    keys: dict[str, Key]  # each compared job's key in the memory
    drawn: dict[str, dict[str, Any]]  # the traces by chart id of those drawn before
    charts: frozenset[str]  # the chart ids of this job
    memory: Kept[Any]

    def keep(self, job_id: str, drawn: Mapping[str, Any]) -> None:
        """Remember a finished job's traces on every chart of this view (called once drawn)."""
        self.memory.put(self.keys[job_id], (self.charts, dict(drawn)), FINISHED_TTL)


def drawings(org: str, workspace: str, job: Job, ids: Sequence[str], view: ChartOptions | None) -> Drawings:
    """The traces of the compared jobs drawn before for this view (`view`: the chart options;
    None: none are looked for), for finished jobs whose strip entry is remembered too."""
    scope = current.source().cache_scope
    chart_ids = frozenset(f"{p.testid}:{p.title}" for p in plan_charts(job)) if view else frozenset()
    shown = (view.smooth, view.x, view.zoom) if view else ()
    keys = {i: (scope, org, workspace, i, color(slot), *shown) for slot, i in enumerate(ids)}
    memory, runs = remembered("drawings", DRAWINGS), remembered("runs", REMEMBERED)
    drawn = {}
    for job_id, key in keys.items():
        before = memory.get(key) if view else None
        if before and before[0] >= chart_ids and runs.get((scope, org, workspace, job_id)):
            drawn[job_id] = before[1]
    return Drawings(keys, drawn, chart_ids, memory)


def comparison(org: str, workspace: str, job: Job, job_id: str, whole: Collection[str] | None = None,
               others: bool = True, items: Sequence[Any] = (),
               view: ChartOptions | None = None) -> Comparison:
    """The comparison this request asks for (`whole`, `others`: as `read`; `items`: this job's
    log entries, which may say which job it was retried from; `view`: the chart options, when
    finished jobs' traces drawn before for them may be drawn again instead of read)."""
    asked = requested(job_id)
    before = drawings(org, workspace, job, asked.ids, view) if asked.ids else None
    found = read(org, workspace, asked.ids, whole, others, before.drawn if before else ())
    ids = [i for i in asked.ids if i not in found.failed]
    slots = {i: slot for slot, i in enumerate(asked.ids)}
    runs = tuple(found.runs[i] for i in ids if i in found.runs)
    base = current.job_url(org, workspace, job_id)
    find = request.args.get("find")
    offered = candidates(org, workspace, job, ids, base, find, items) if find is not None else []
    strip = cmp.compare_view(base, lambda i: current.job_url(org, workspace, i), runs,
                             (*asked.notes, *found.notes), [color(slots[r.id]) for r in runs], find, offered)
    charted = tuple(Compared(i, found.runs[i].label if i in found.runs else "", color(slots[i]),
                             found.jobs.get(i), before.drawn.get(i) if before else None) for i in ids)
    return Comparison(strip, runs, charted, cmp.run_of(job, job_id).label,
                      before.keep if before and view else None)


def candidates(org: str, workspace: str, job: Job, ids: Sequence[str], base: str, find: str,
               items: Sequence[Any]) -> list[cmp.Candidate]:
    """The "add a run" rows: the workspace's jobs (a bounded number of list pages) that match."""
    jobs = read_jobs(current.source(), org, workspace, None, 1, LIST_PAGE, every=True).items
    retry_of = cmp.retry_of_logs(items) or cmp.retry_of_job(job)
    return cmp.candidates(job, jobs, ids, base, lambda i: current.job_url(org, workspace, i),
                          find.strip()[:200], retry_of)

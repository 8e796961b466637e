"""The job list: its rows, its search and its paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.models import LIST_STATUSES, Job
from dashboard.viewmodels import format as fmt
from dashboard.viewmodels.summary import STATUS_CLASSES, duration_tile, trainer_label

PAGE_SIZE = 100


@dataclass(frozen=True)
class JobRow:
    """One job in the list."""

    id: str
    title: str
    model: str
    status: str
    status_class: str
    duration: str
    created: str
    created_iso: str
    trainer: str


def searchable(job: Job) -> str:
    """The text a search looks in: name, id, status, model, dataset, trainer type, backend."""
    fields = (job.title, job.id, job.status, job.model, job.dataset, job.trainer_type, job.backend)
    return " ".join(f for f in fields if f).lower()


def matches(job: Job, query: str) -> bool:
    """Whether every word of the query appears in the job's searchable text."""
    haystack = searchable(job)
    return all(word in haystack for word in query.lower().split())


def job_rows(jobs: list[Job], now: datetime) -> list[JobRow]:
    """The list rows for some jobs."""
    return [
        JobRow(
            id=job.id, title=job.title, model=job.model or "—", status=job.status,
            status_class=STATUS_CLASSES.get(job.status, "unknown"),
            duration=duration_tile(job, now).value, created=fmt.utc(job.created_at),
            created_iso=fmt.iso(job.created_at), trainer=trainer_label(job),
        )
        for job in jobs
    ]


@dataclass(frozen=True)
class JobList:
    """One page of the job list, under a search and a status filter."""

    query: str
    status: str
    page: int
    pages: int
    total: int
    rows: tuple[JobRow, ...]
    statuses: tuple[str, ...] = LIST_STATUSES


def list_page(jobs: list[Job], total: int, query: str, status: str | None, page: int,
             now: datetime) -> JobList:
    """The list page: with a query, the matching jobs among `jobs` (every job read) paged here;
    without one, `jobs` is already the page asked for, of `total`."""
    if query:
        found = [job for job in jobs if matches(job, query)]
        total, jobs = len(found), found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return JobList(query, status or "", page, max(1, -(-total // PAGE_SIZE)), total,
                   tuple(job_rows(jobs, now)))

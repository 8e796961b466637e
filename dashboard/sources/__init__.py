"""Where jobs come from: one small interface, three implementations (platform, demo, directory)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from dashboard.models import Job, Pane, log_items, parse_artifacts
from dashboard.sources.bigjson import BIG_BODY, ONE_AT_A_TIME, parse_big
from dashboard.sources.heap import malloc_trim


class SourceError(Exception):
    """An upstream failure, carrying the HTTP status to show and a human message."""

    def __init__(self, status: int, message: str, *, kind: str = "error",
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.retry_after = retry_after  # seconds the platform asked callers to wait, if it did


class LocalSource:
    """What the sources that need no credentials share: nobody signs in, one scope."""

    cache_scope = ""
    scope: tuple[str, str]

    def get_user(self) -> dict[str, Any]:
        """Nobody signs in here."""
        return {}

    def default_scope(self, organization: str | None, workspace: str | None) -> tuple[str, str]:
        """The one scope its jobs are shown in."""
        return self.scope

    def for_key(self, key: str) -> LocalSource:
        """No key changes what it shows."""
        return self


@dataclass(frozen=True)
class JobPage:
    """One page of a job list."""

    items: list[Job]
    total: int
    page: int
    page_size: int


class JobSource(Protocol):
    """What every job source provides; payloads are returned as the platform shapes them."""

    kind: str  # "platform", "demo" or "directory"
    read_only: bool
    cache_scope: str  # a fingerprint of the credentials: cache entries are never shared across it

    def list_jobs(
        self, org: str, workspace: str, *, page: int, page_size: int, status: str | None = None
    ) -> dict[str, Any]: ...

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]: ...

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]: ...

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]: ...

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]: ...

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]: ...

    def get_user(self) -> dict[str, Any]: ...

    def default_scope(self, organization: str | None, workspace: str | None) -> tuple[str, str]: ...

    def for_key(self, key: str) -> JobSource: ...


MAX_LIST_PAGES = 20  # a search reads at most this many pages of the job list
# Reads wait on the network (or on another request's identical read), not on the CPU: many
# threads, so viewers of one slow job do not hold up reads of every other job.
_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="upstream")


def gather(*calls: Callable[[], Any]) -> list[Any]:
    """Run upstream reads concurrently and return their results in order."""
    futures = [_pool.submit(call) for call in calls]
    return [future.result() for future in futures]


def load_pane(source: JobSource, org: str, workspace: str, job_id: str) -> Pane:
    """Fetch the job, its artifacts and its logs concurrently."""
    scope = (org, workspace, job_id)
    job, artifacts, logs = gather(
        lambda: source.get_job(*scope),
        lambda: source.get_artifacts(*scope),
        lambda: source.get_logs(*scope),
    )
    return Pane(Job.from_api(job), parse_artifacts(artifacts), log_items(logs))


def read_jobs(source: JobSource, org: str, workspace: str, status: str | None, page: int,
              page_size: int, every: bool = False) -> JobPage:
    """One page of the job list; with `every`, every job, reading at most MAX_LIST_PAGES pages."""
    if not every:
        return parse_page(source.list_jobs(org, workspace, page=page, page_size=page_size, status=status),
                          page, page_size)
    jobs: list[Job] = []
    for number in range(1, MAX_LIST_PAGES + 1):
        result = parse_page(source.list_jobs(org, workspace, page=number, page_size=page_size,
                                             status=status), number, page_size)
        jobs.extend(result.items)
        if number * page_size >= result.total or not result.items:
            break
    return JobPage(jobs, len(jobs), 1, len(jobs))


def parse_page(payload: Any, page: int, page_size: int) -> JobPage:
    """Turn a list payload into a JobPage, tolerating a broken one."""
    if not isinstance(payload, dict):
        return JobPage([], 0, page, page_size)
    items = payload.get("items")
    jobs = [Job.from_api(i) for i in items] if isinstance(items, list) else []
    total = payload.get("total")
    return JobPage(jobs, total if isinstance(total, int) else len(jobs), page, page_size)


def page_of(items: list[Any], page: int, page_size: int, copy: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of a local source's job list, as the platform shapes it (at most 100 a page)."""
    page, page_size = max(1, page), min(100, max(1, page_size))
    first = (page - 1) * page_size
    return {"items": copy(items[first:first + page_size]), "total": len(items), "page": page,
            "page_size": page_size}


def not_found(org: str, workspace: str, job_id: str) -> SourceError:
    """The error every source raises for a job it does not have."""
    return SourceError(404, f"no job {job_id} in {org}/{workspace}", kind="not_found")


def read_only_error(what: str) -> SourceError:
    """The error for cancel/retry where jobs cannot be changed (`what` names the place)."""
    return SourceError(405, f"{what} is read-only: jobs cannot be cancelled or retried here")


def parse_json(body: bytes) -> Any:
    """Parse a response body with orjson (fast for 10^6-point series); fall back to the standard
    parser, which also reads the NaN / Infinity literals that some trainers write, after turning
    lone surrogate escapes (text no page can encode) into U+FFFD. A big body's long lists of
    numbers are read one at a time (see bigjson)."""
    if len(body) >= BIG_BODY:
        with ONE_AT_A_TIME:
            try:
                parsed = parse_big(body)
                return parsed if parsed is not None else parse_whole(body)
            finally:
                malloc_trim()  # the text and the lists it was read through are gone
    return parse_whole(body)


def parse_whole(body: bytes) -> Any:
    """Parse a body in one go: orjson, else the standard parser (NaN literals, lone surrogates)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(LONE_SURROGATE.sub(rb"\\ufffd", body))


LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)

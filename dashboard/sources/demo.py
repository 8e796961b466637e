"""The demo source: bundled sample jobs, one of them always running, no credentials needed."""

from __future__ import annotations

import copy
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from dashboard.config import DEMO_SCOPE
from dashboard.models import CANCELLABLE_STATUSES, TERMINAL_STATUSES
from dashboard.sources import LocalSource, SourceError, not_found, page_of
from dashboard.sources.demo_failures import NAN_ID, NO_FINAL_ID, STALLED_ID, failure_jobs
from dashboard.sources.demo_history import ATTEMPT_ID, GOOD_ID, UNRELATED_ID, history_jobs
from dashboard.sources.demo_jobs import (
    CANCELLED_ID,
    FAILED_ID,
    QUEUED_ID,
    RAY_RL_ID,
    RL_TINKER_ID,
    RUNNING_FIRST_ID,
    RUNNING_STEPS,
    SFT_NEW_ID,
    SFT_OLD_ID,
    DemoJob,
    cancel_entries,
    created_entry,
    iso,
    running_job_id,
    running_sft,
    sample_jobs,
)

__all__ = [
    "ATTEMPT_ID",
    "CANCELLED_ID",
    "DEFAULT_RUN_SECONDS",
    "FAILED_ID",
    "GOOD_ID",
    "NAN_ID",
    "NO_FINAL_ID",
    "QUEUED_ID",
    "RAY_RL_ID",
    "RL_TINKER_ID",
    "RUNNING_FIRST_ID",
    "RUNNING_STEPS",
    "RUN_SECONDS_ENV",
    "SFT_NEW_ID",
    "SFT_OLD_ID",
    "STALLED_ID",
    "UNRELATED_ID",
    "DemoSource",
    "run_seconds_from_env",
    "running_job_id",
]

log = logging.getLogger(__name__)

RUN_SECONDS_ENV = "DASHBOARD_DEMO_RUN_SECONDS"
DEFAULT_RUN_SECONDS = 180.0
MAX_GENERATIONS = 10_000  # how many past live jobs stay reachable by id


def run_seconds_from_env(env: Mapping[str, str] = os.environ) -> float:
    """How long one run of the live demo job lasts: `DASHBOARD_DEMO_RUN_SECONDS`, else 180."""
    raw = env.get(RUN_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_RUN_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        log.warning("ignoring %s=%r: not a positive number of seconds", RUN_SECONDS_ENV, raw)
        return DEFAULT_RUN_SECONDS
    return value


def copied(value: Any) -> Any:
    """A deep copy of JSON-shaped demo data; orjson's round trip is ~7x faster than deepcopy on
    the long series of the NaN blow-up job (deepcopy stays for anything orjson refuses)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return copy.deepcopy(value)


def _retried_copy(job: dict[str, Any], new_id: str, now: float) -> DemoJob:
    """A new queued job with the same spec as a finished one."""
    copied = copy.deepcopy(job)
    copied |= {
        "id": new_id, "status": "queued", "metrics": {}, "artifacts": {}, "error": None,
        "run_ref": None, "created_at": iso(now, precise=True), "started_at": None,
        "completed_at": None, "cancel_requested_at": None,
    }
    created = created_entry(copied, now, precise=True)
    created["data"]["retry_of"] = job["id"]
    return DemoJob(copied, [created], now)


class DemoSource(LocalSource):
    """Sample jobs in acme/research; the live SFT job restarts as a new job every run."""

    kind = "demo"
    read_only = False
    scope = DEMO_SCOPE

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 run_seconds: float | None = None) -> None:
        self._clock = clock
        self._run_seconds = run_seconds if run_seconds is not None else run_seconds_from_env()
        if not (math.isfinite(self._run_seconds) and self._run_seconds > 0):
            raise ValueError("run_seconds must be a positive number of seconds")
        self._lock = threading.Lock()
        self._start = clock()
        self._static: dict[str, DemoJob] = {
            d.job["id"]: d for d in (*sample_jobs(self._start), *failure_jobs(self._start),
                                     *history_jobs(self._start))}
        # (generation, start): generation g starts at start + (g - k) * run_seconds after the
        # last anchor (k, start); cancelling the live job anchors the next one at that moment.
        self._anchors: list[tuple[int, float]] = [(0, self._start)]
        self._generations: dict[str, int] = {}
        self._registered = -1
        self._cancelled: dict[int, float] = {}

    @property
    def run_seconds(self) -> float:
        """How long one generation of the live job runs."""
        return self._run_seconds

    # --- the JobSource interface ---

    def list_jobs(self, org: str, workspace: str, *, page: int = 1, page_size: int = 20,
                  status: str | None = None) -> dict[str, Any]:
        """Every sample job plus the current and previous live job, newest first."""
        if (org, workspace) != DEMO_SCOPE:
            raise SourceError(404, f"no workspace {org}/{workspace}", kind="not_found")
        with self._lock:
            now = self._clock()
            current = self._sync(now)
            jobs = [*(self._fresh(d, now) for d in self._static.values()),
                    *(self._live(g, now) for g in (current - 1, current) if g >= 0)]
            jobs.sort(key=lambda d: d.created, reverse=True)
            items = [d.job for d in jobs if status is None or d.job["status"] == status]
            return page_of(items, page, page_size, copied)

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """One job's `TrainingJob` payload."""
        return self._find(org, workspace, job_id).job

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """One job's artifacts map."""
        return {"artifacts": self._find(org, workspace, job_id).job["artifacts"]}

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """One job's whole log; later calls only ever append."""
        return {"items": self._find(org, workspace, job_id).logs}

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (the live job restarts as a new one at once)."""
        with self._lock:
            now = self._clock()
            found = self._locate(org, workspace, job_id, now, CANCELLABLE_STATUSES,
                                 "only queued or running jobs can be cancelled")
            status = found.job["status"]
            generation = self._generations.get(job_id)
            if generation is not None:
                self._cancelled[generation] = now
                self._anchors.append((generation + 1, now))
                self._sync(now)
                return copy.deepcopy(self._live(generation, now).job)
            stamp = iso(now, precise=True)
            found.job |= {"status": "cancelled", "cancel_requested_at": stamp,
                          "completed_at": stamp}
            found.logs += cancel_entries(now, now, status)
            return copy.deepcopy(found.job)

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Queue a new copy of a finished job and return it."""
        with self._lock:
            now = self._clock()
            found = self._locate(org, workspace, job_id, now, TERMINAL_STATUSES,
                                 "only completed, failed or cancelled jobs can be retried")
            retried = _retried_copy(found.job, str(uuid.uuid4()), now)
            self._static[retried.job["id"]] = retried
            return copy.deepcopy(retried.job)

    # --- internals: everything below runs under the lock ---

    def _find(self, org: str, workspace: str, job_id: str) -> DemoJob:
        """A copy of a job, as it stands now."""
        with self._lock:
            found = self._locate(org, workspace, job_id, self._clock())
            return DemoJob(copied(found.job), copied(found.logs), found.created)

    def _locate(self, org: str, workspace: str, job_id: str, now: float,
                allowed: frozenset[str] | None = None, rule: str = "") -> DemoJob:
        """The job with this id in this scope, or a 404; a 409 (saying `rule`) when a status is
        required and the job's is not `allowed`."""
        if (org, workspace) != DEMO_SCOPE:
            raise not_found(org, workspace, job_id)
        self._sync(now)
        if job_id in self._static:
            found = self._fresh(self._static[job_id], now)
        elif job_id in self._generations:
            found = self._live(self._generations[job_id], now)
        else:
            raise not_found(org, workspace, job_id)
        if allowed is not None and found.job["status"] not in allowed:
            raise SourceError(409, f"job {job_id} is {found.job['status']}; {rule}", kind="conflict")
        return found

    @staticmethod
    def _fresh(found: DemoJob, now: float) -> DemoJob:
        """A sample job as of `now`: one that runs with times relative to the request is rebuilt
        (until it is cancelled)."""
        if found.live is not None and found.job["status"] == "running":
            current = found.live(now)
            found.job, found.logs, found.created = current.job, current.logs, current.created
        return found

    def _sync(self, now: float) -> int:
        """Register every live generation started by `now`; return the current one."""
        generation, start = self._anchors[-1]
        current = generation + max(0, math.floor((now - start) / self._run_seconds))
        # Bounded, so a tiny run_seconds left running for days cannot grow the dict without end.
        for g in range(max(self._registered + 1, current - MAX_GENERATIONS), current + 1):
            self._generations[running_job_id(g)] = g
        self._registered = max(self._registered, current)
        while len(self._generations) > MAX_GENERATIONS:  # ids were added oldest first
            del self._generations[next(iter(self._generations))]
        return current

    def _generation_start(self, generation: int) -> float:
        """When a generation of the live job started."""
        for first, start in reversed(self._anchors):
            if generation >= first:
                return start + (generation - first) * self._run_seconds
        raise AssertionError("generation 0 is always anchored")

    def _live(self, generation: int, now: float) -> DemoJob:
        """A generation of the live job as it stands at `now`."""
        started = self._generation_start(generation)
        cancelled_at = self._cancelled.get(generation)
        if cancelled_at is not None:
            stop = cancelled_at
        elif generation < self._sync(now):
            stop = math.inf  # a later generation has started: this one ran to the end
        else:
            stop = now
        return running_sft(generation, started, stop, self._run_seconds,
                           cancelled=cancelled_at is not None)

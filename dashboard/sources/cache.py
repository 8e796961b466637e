"""Single-flight reads with a short cache, so many viewers of one job cost one upstream call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboard.columns import read_metrics
from dashboard.models import TERMINAL_STATUSES
from dashboard.sources import JobSource

DEFAULT_TTL = 1.0
MAX_ENTRIES = 512
FINISHED_TTL = 60.0  # a finished job's payload (its metrics can be 60 MB) no longer changes


@dataclass
class _Entry:
    """One read: in flight until `done` is set, then fresh until `expires`."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    expires: float = 0.0


class CachedSource:
    """A job source whose reads within `ttl` seconds share one upstream call.

    Keys include the inner source's `cache_scope` (its credentials' fingerprint), so two
    viewers with different keys never see each other's data even if they share a cache.
    """

    def __init__(self, inner: JobSource, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic, finished_ttl: float = FINISHED_TTL) -> None:
        self.inner = inner
        self.finished_ttl = finished_ttl
        self.kind = inner.kind
        self.read_only = inner.read_only
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[Any, ...], _Entry] = {}

    def for_key(self, key: str) -> CachedSource:
        """This cache in front of the inner source acting with another API key."""
        twin = object.__new__(CachedSource)
        twin.__dict__.update(self.__dict__)  # the same lock and entries: one cache for everyone
        twin.inner = self.inner.for_key(key)
        return twin

    def _read(self, key: tuple[Any, ...], call: Callable[[], Any]) -> Any:
        """Return a fresh cached value, wait for the same read in flight, or make the call."""
        key = (self.inner.cache_scope, *key)
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None or (entry.done.is_set() and entry.expires <= now)
            if owner:
                # Expired entries go now, not later: one can hold a 1M-step job's parsed payload.
                for old in [k for k, e in self._entries.items() if e.done.is_set() and e.expires <= now]:
                    del self._entries[old]
                entry = self._entries[key] = _Entry()
                if len(self._entries) > MAX_ENTRIES:  # many finished jobs at once: oldest go first
                    done = sorted((k for k, e in self._entries.items() if e.done.is_set()),
                                  key=lambda k: self._entries[k].expires)
                    for old in done[: len(self._entries) - MAX_ENTRIES]:
                        del self._entries[old]
        assert entry is not None
        if owner:
            try:
                entry.value = self._keep(key[1], call())
            except BaseException as exc:
                entry.error = exc
            finally:
                # A finished job's own payload stays fresh longer; a failed read not at all.
                value = entry.value
                finished = (key[1] == "job" and isinstance(value, dict)
                            and value.get("status") in TERMINAL_STATUSES)
                life = max(self.ttl, self.finished_ttl) if finished and self.ttl > 0 else self.ttl
                entry.expires = self._clock() + (0.0 if entry.error is not None else life)
                entry.done.set()
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.value

    @staticmethod
    def _keep(kind: str, value: Any) -> Any:
        """What is kept of a read: a job's metric series as arrays (a fresh payload is ours to change)."""
        if kind == "job" and isinstance(value, dict) and isinstance(value.get("metrics"), dict):
            read_metrics(value["metrics"])
        return value

    @property
    def cache_scope(self) -> str:
        """The inner source's credentials fingerprint."""
        return self.inner.cache_scope

    def get_user(self) -> dict[str, Any]:
        """Who the key belongs to (never cached: it checks the key)."""
        return self.inner.get_user()

    def default_scope(self, organization: str | None, workspace: str | None) -> tuple[str, str]:
        """The inner source's default scope."""
        return self.inner.default_scope(organization, workspace)

    def forget(self, org: str, workspace: str, job_id: str) -> None:
        """Drop everything cached about one job (after a cancel or retry)."""
        with self._lock:
            for key in [k for k in self._entries if k[2:5] == (org, workspace, job_id)]:
                del self._entries[key]

    def list_jobs(self, org: str, workspace: str, *, page: int, page_size: int,
                  status: str | None = None) -> dict[str, Any]:
        """The job list (cached)."""
        return self._read(("list", org, workspace, page, page_size, status),
                          lambda: self.inner.list_jobs(org, workspace, page=page, page_size=page_size,
                                                       status=status))

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The job (cached)."""
        return self._read(("job", org, workspace, job_id),
                          lambda: self.inner.get_job(org, workspace, job_id))

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The artifacts (cached)."""
        return self._read(("artifacts", org, workspace, job_id),
                          lambda: self.inner.get_artifacts(org, workspace, job_id))

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The logs (cached)."""
        return self._read(("logs", org, workspace, job_id),
                          lambda: self.inner.get_logs(org, workspace, job_id))

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Cancel, never cached, and forget what was cached about the job."""
        try:
            return self.inner.cancel(org, workspace, job_id)
        finally:
            self.forget(org, workspace, job_id)

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Retry, never cached, and forget what was cached about the job."""
        try:
            return self.inner.retry(org, workspace, job_id)
        finally:
            self.forget(org, workspace, job_id)

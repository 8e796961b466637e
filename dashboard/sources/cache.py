"""Single-flight reads with a short cache, so many viewers of one job cost one upstream call.

The chain: this in-process cache (parsed values, `_keep`'d, bounded in bytes) -> an optional
shared tier (Redis, `shared.py`: raw payloads, compressed, shared by every worker and
instance) -> the upstream source.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboard.columns import read_metrics
from dashboard.models import TERMINAL_STATUSES
from dashboard.sources import JobSource
from dashboard.sources.heap import malloc_trim

DEFAULT_TTL = 1.0
FINISHED_TTL = 60.0  # a finished job's payload (its metrics can be 60 MB) no longer changes
# 200 MB a process: the Procfile runs two workers, and a 1 GB instance then spends 400 MB on
# caches and keeps ~600 MB for two interpreters with the app (~55 MB each, idle) and for the
# transient peak of parsing a finished 1M-step job (60 MB of JSON, several times that while
# it is being parsed and drawn). A value over the budget is served but not kept.
DEFAULT_BUDGET = 200 * 2**20
# Hand memory back to the OS once this much was dropped since the last time: malloc_trim walks
# the heap, too slow to run for every 1 s entry of a small job.
TRIM_AFTER = 16 * 2**20
SAMPLE = 64  # items sized in a longer container (see _sampled)


class SharedTier(Protocol):
    """A cache shared by processes (shared.RedisTier): raw payloads, same lifetimes."""

    def read(self, key: tuple[Any, ...], life: Callable[[Any], float],
             call: Callable[[], Any]) -> tuple[Any, float]: ...

    def forget(self, keys: list[tuple[Any, ...]]) -> None: ...


def payload_bytes(value: Any) -> int:
    """Roughly the bytes `value` holds: containers walked, long ones through a sample of their
    items; arrays (anything with an integer `nbytes`, the coming metric `Column`s too) counted
    by that."""
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    if isinstance(value, dict):
        items = list(value.values())  # arrays counted exactly: a sample could miss them
        arrays = [v for v in items if isinstance(getattr(v, "nbytes", None), int)]
        rest = [v for v in items if not isinstance(getattr(v, "nbytes", None), int)]
        return (sys.getsizeof(value) + _sampled(list(value)) + sum(a.nbytes for a in arrays)
                + _sampled(rest))
    if isinstance(value, list | tuple):
        return sys.getsizeof(value) + _sampled(value)
    return sys.getsizeof(value)  # str, bytes, numbers, None


def _sampled(items: Sequence[Any]) -> int:
    """The bytes of a container's items, from at most ~SAMPLE of them evenly spaced: an estimate
    in constant time, since a live job's 10^5 log entries are sized every second."""
    sample = items[:: max(1, len(items) // SAMPLE)]
    return sum(map(payload_bytes, sample)) * len(items) // max(1, len(sample))




@dataclass
class _Entry:
    """One read: in flight until `done` is set, then fresh until `expires`."""

    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    expires: float = 0.0
    size: int = 0


class _Store:
    """Reads by key, oldest first, within a byte budget; a daemon thread drops each entry when it
    expires, started lazily in the process that reads (so a `--preload` fork gets its own)."""

    def __init__(self, budget: int, clock: Callable[[], float]) -> None:
        self.budget = budget
        self.clock = clock
        self.lock = threading.Condition(threading.Lock())
        self.entries: dict[tuple[Any, ...], _Entry] = {}
        self.used = 0
        self.freed = 0
        self.swept = threading.Event()  # set each time the expiry thread has dropped something
        self._sweeper_pid: int | None = None

    def begin(self, key: tuple[Any, ...]) -> tuple[_Entry, bool]:
        """The entry for `key`, and whether the caller must fill it (none, or expired)."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and not (entry.done.is_set() and entry.expires <= self.clock()):
                return entry, False
            self._drop_expired()
            self._drop(key)
            entry = self.entries[key] = _Entry()  # at the end: the newest
            return entry, True

    def finish(self, key: tuple[Any, ...], entry: _Entry, keep: bool) -> None:
        """Publish a filled entry to its waiters; keep it if asked and it fits the budget."""
        with self.lock:
            entry.done.set()
            if not keep or entry.size > self.budget or entry.expires <= self.clock():
                if self.entries.get(key) is entry:
                    del self.entries[key]
                return
            self.used += entry.size
            for old in [k for k, e in self.entries.items() if e.done.is_set() and k != key]:
                if self.used <= self.budget:
                    break
                self._drop(old)
            self._start_sweeper()
            self.lock.notify()

    def forget(self, match: Callable[[tuple[Any, ...]], bool]) -> None:
        """Drop the finished entries whose key matches."""
        with self.lock:
            for key in [k for k, e in self.entries.items() if e.done.is_set() and match(k)]:
                self._drop(key)
        self._trim()

    def _drop(self, key: tuple[Any, ...]) -> None:
        """Drop one entry (lock held); in-flight ones only leave the map, their waiters keep them."""
        entry = self.entries.pop(key, None)
        if entry is not None and entry.done.is_set():
            self.used -= entry.size
            self.freed += entry.size

    def _drop_expired(self) -> bool:
        """Drop every expired entry (lock held); whether there were any."""
        now = self.clock()
        old = [k for k, e in self.entries.items() if e.done.is_set() and e.expires <= now]
        for key in old:
            self._drop(key)
        return bool(old)

    def _start_sweeper(self) -> None:
        """Start the expiry thread unless this process has one (lock held)."""
        if self._sweeper_pid != os.getpid():
            self._sweeper_pid = os.getpid()
            threading.Thread(target=self._sweep_forever, name="cache-expiry", daemon=True).start()

    def _sweep_forever(self) -> None:
        """Sleep until the next entry expires (or a new one comes), then drop what expired."""
        while True:
            with self.lock:
                ends = [e.expires for e in self.entries.values() if e.done.is_set()]
                self.lock.wait(max(0.005, min(ends) - self.clock()) if ends else None)
                dropped = self._drop_expired()
            if dropped:
                self._trim()
                self.swept.set()

    def _trim(self) -> None:
        """Give freed memory back to the OS once enough was dropped."""
        with self.lock:
            due = self.freed >= TRIM_AFTER
            if due:
                self.freed = 0
        if due:
            malloc_trim()


class CachedSource:
    """A job source whose reads within `ttl` seconds share one upstream call.

    Keys include the inner source's `cache_scope` (its credentials' fingerprint), so two
    viewers with different keys never see each other's data even if they share a cache.
    """

    def __init__(self, inner: JobSource, ttl: float = DEFAULT_TTL,
                 clock: Callable[[], float] = time.monotonic, finished_ttl: float = FINISHED_TTL,
                 budget: int = DEFAULT_BUDGET, shared: SharedTier | None = None) -> None:
        self.inner = inner
        self.finished_ttl = finished_ttl
        self.kind = inner.kind
        self.read_only = inner.read_only
        self.ttl = ttl
        self.shared = shared
        self._clock = clock
        self._store = _Store(budget, clock)

    def for_key(self, key: str) -> CachedSource:
        """This cache in front of the inner source acting with another API key."""
        twin = object.__new__(CachedSource)
        twin.__dict__.update(self.__dict__)  # the same store and shared tier: one cache for everyone
        twin.inner = self.inner.for_key(key)
        return twin

    def _read(self, key: tuple[Any, ...], call: Callable[[], Any]) -> Any:
        """Return a fresh cached value, wait for the same read in flight, or make the call."""
        key = (self.inner.cache_scope, *key)
        entry, owner = self._store.begin(key)
        if owner:
            self._fill(key, entry, call)
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.value

    def _fill(self, key: tuple[Any, ...], entry: _Entry, call: Callable[[], Any]) -> None:
        """Read through the tiers into `entry`; the one place a finished read is stored."""
        life = 0.0
        try:
            raw, life = self._fetch(key, call)
            entry.value = self._keep(key[1], raw)
            entry.size = payload_bytes(entry.value) if life > 0 else 0
        except BaseException as exc:
            entry.error = exc
        finally:
            entry.expires = self._clock() + life
            self._store.finish(key, entry, keep=entry.error is None)

    @staticmethod
    def _keep(kind: str, value: Any) -> Any:
        """What is kept of a read: a job's metric series as arrays (a fresh payload is ours to change)."""
        if kind == "job" and isinstance(value, dict) and isinstance(value.get("metrics"), dict):
            read_metrics(value["metrics"])
        return value

    def _fetch(self, key: tuple[Any, ...], call: Callable[[], Any]) -> tuple[Any, float]:
        """The raw payload and the seconds it stays fresh: from the shared tier if there is one."""
        kind = key[1]
        if self.shared is None or self.ttl <= 0:
            value = call()
            return value, self._life(kind, value)
        return self.shared.read(key, lambda value: self._life(kind, value), call)

    def _life(self, kind: str, value: Any) -> float:
        """Seconds a payload stays fresh: a finished job's own longer, since it no longer changes."""
        finished = (kind == "job" and isinstance(value, dict)
                    and value.get("status") in TERMINAL_STATUSES)
        return max(self.ttl, self.finished_ttl) if finished and self.ttl > 0 else self.ttl

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
        """Drop everything cached about one job (after a cancel or retry), here and shared."""
        self._store.forget(lambda key: key[2:5] == (org, workspace, job_id))
        if self.shared is not None:
            self.shared.forget([(self.cache_scope, kind, org, workspace, job_id)
                                for kind in ("job", "artifacts", "logs")])

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

"""The single-flight cache in front of a job source."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from dashboard.sources import SourceError
from dashboard.sources.cache import CachedSource


class SlowSource:
    """Counts calls; each read takes `delay` seconds."""

    kind = "test"
    read_only = False

    def __init__(self, delay: float = 0.0, scope: str = "viewer-a") -> None:
        self.delay = delay
        self.calls: list[str] = []
        self.cache_scope = scope
        self.fail = False
        self._lock = threading.Lock()

    def _call(self, what: str) -> dict[str, Any]:
        with self._lock:
            self.calls.append(what)
        time.sleep(self.delay)
        if self.fail:
            raise SourceError(502, "upstream down")
        return {"what": what, "scope": self.cache_scope, "n": len(self.calls)}

    def get_job(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        return self._call(f"job {job_id}")

    def get_logs(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        return self._call(f"logs {job_id}")

    def get_artifacts(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        return self._call(f"artifacts {job_id}")

    def cancel(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        return self._call(f"cancel {job_id}")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_reads_of_one_job_share_one_upstream_call() -> None:
    inner = SlowSource(delay=0.2)
    cached = CachedSource(inner, ttl=1.0)
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(cached.get_logs("a", "b", "j")))
               for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.calls == ["logs j"]
    assert len(results) == 50 and all(r == results[0] for r in results)


def test_a_read_after_the_ttl_goes_upstream_again() -> None:
    inner, clock = SlowSource(), Clock()
    cached = CachedSource(inner, ttl=1.0, clock=clock)
    cached.get_job("a", "b", "j")
    clock.now += 0.5
    cached.get_job("a", "b", "j")
    assert len(inner.calls) == 1
    clock.now += 1.0
    cached.get_job("a", "b", "j")
    assert len(inner.calls) == 2


def test_different_jobs_and_kinds_of_read_are_cached_apart() -> None:
    inner = SlowSource()
    cached = CachedSource(inner)
    cached.get_job("a", "b", "j1")
    cached.get_job("a", "b", "j2")
    cached.get_logs("a", "b", "j1")
    assert inner.calls == ["job j1", "job j2", "logs j1"]


def test_two_viewers_with_different_keys_never_share_an_entry() -> None:
    a, b = SlowSource(scope="viewer-a"), SlowSource(scope="viewer-b")
    cached_a, cached_b = CachedSource(a), CachedSource(b)
    cached_b._store = cached_a._store  # even one shared store keeps them apart
    assert cached_a.get_job("o", "w", "j")["scope"] == "viewer-a"
    assert cached_b.get_job("o", "w", "j")["scope"] == "viewer-b"
    assert a.calls == ["job j"] and b.calls == ["job j"]


def test_errors_are_shared_in_flight_but_not_cached() -> None:
    inner = SlowSource()
    inner.fail = True
    cached = CachedSource(inner)
    with pytest.raises(SourceError):
        cached.get_job("a", "b", "j")
    inner.fail = False
    assert cached.get_job("a", "b", "j")["what"] == "job j"
    assert len(inner.calls) == 2


def test_cancel_is_never_cached_and_forgets_the_job() -> None:
    inner = SlowSource()
    cached = CachedSource(inner)
    cached.get_job("a", "b", "j")
    cached.cancel("a", "b", "j")
    cached.cancel("a", "b", "j")
    cached.get_job("a", "b", "j")
    assert inner.calls == ["job j", "cancel j", "cancel j", "job j"]


class StatusSource(SlowSource):
    """A source whose job has a status the test sets."""

    status = "running"

    def get_job(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        return self._call(f"job {job_id}") | {"status": self.status}


@pytest.mark.parametrize(("status", "fresh_after_30s"), [("running", False), ("completed", True),
                                                          ("failed", True), ("queued", False)])
def test_a_finished_jobs_payload_is_kept_for_a_minute(status: str, fresh_after_30s: bool) -> None:
    inner, clock = StatusSource(), Clock()
    inner.status = status
    cached = CachedSource(inner, ttl=1.0, clock=clock)
    cached.get_job("acme", "research", "j")
    clock.now += 30
    cached.get_job("acme", "research", "j")
    assert len(inner.calls) == (1 if fresh_after_30s else 2)
    clock.now += 31
    cached.get_job("acme", "research", "j")
    assert len(inner.calls) == (2 if fresh_after_30s else 3)


def test_expired_entries_are_dropped_on_the_next_read() -> None:
    inner, clock = SlowSource(), Clock()
    cached = CachedSource(inner, ttl=1.0, clock=clock)
    cached.get_logs("acme", "research", "big")
    clock.now += 2
    cached.get_logs("acme", "research", "other")
    assert [k[1:] for k in cached._store.entries] == [("logs", "acme", "research", "other")]

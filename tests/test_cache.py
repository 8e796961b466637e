"""The single-flight cache in front of a job source."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import numpy
import pytest

from dashboard.sources import SourceError, cache, heap
from dashboard.sources.cache import CachedSource, payload_bytes


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


# ---- the byte budget, expiry on time, and the one place a value is kept ------------------------

class SizedSource(SlowSource):
    """A source whose logs payload holds `size` bytes of text."""

    size = 1000

    def get_logs(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        self._call(f"logs {job_id}")
        return {"text": "x" * self.size}


def test_the_cache_holds_no_more_bytes_than_its_budget_dropping_the_oldest_first() -> None:
    inner = SizedSource()
    entry = payload_bytes({"text": "x" * 1000})
    cached = CachedSource(inner, ttl=60.0, budget=int(entry * 2.5))
    for job in ("j1", "j2", "j3"):
        cached.get_logs("a", "b", job)
    assert [k[4] for k in cached._store.entries] == ["j2", "j3"]
    assert cached._store.used == 2 * entry <= cached._store.budget
    cached.get_logs("a", "b", "j3")
    cached.get_logs("a", "b", "j1")
    assert inner.calls == ["logs j1", "logs j2", "logs j3", "logs j1"]


def test_an_entry_bigger_than_the_budget_is_served_but_not_kept() -> None:
    inner = SizedSource(delay=0.2)
    cached = CachedSource(inner, ttl=60.0, budget=500)
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(cached.get_logs("a", "b", "big")))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(inner.calls) == 1 and len(results) == 20  # those who came during the read shared it
    assert all(r == {"text": "x" * 1000} for r in results)
    assert cached._store.entries == {} and cached._store.used == 0
    assert cached.get_logs("a", "b", "big") == {"text": "x" * 1000}
    assert len(inner.calls) == 2


def test_expired_entries_are_dropped_with_no_further_read() -> None:
    inner = SizedSource()
    cached = CachedSource(inner, ttl=0.05)
    assert cached._store._sweeper_pid is None  # nothing started before the first read (gunicorn --preload)
    cached.get_logs("a", "b", "j")
    assert cached._store.swept.wait(timeout=30)
    assert cached._store.entries == {} and cached._store.used == 0
    assert cached._store._sweeper_pid == os.getpid()


def test_memory_goes_back_to_the_os_once_a_big_entry_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(cache, "malloc_trim", lambda: trims.append(1))
    inner = SizedSource()
    inner.size = cache.TRIM_AFTER + 1
    cached = CachedSource(inner, ttl=0.05)
    cached.get_logs("a", "b", "j")
    assert cached._store.swept.wait(timeout=30)
    assert trims == [1]


def test_malloc_trim_can_be_called_wherever_the_tests_run() -> None:
    heap.malloc_trim()
    heap.tune()


class Column:
    """Stands in for the coming numpy-backed metric series: only `nbytes` matters here."""

    nbytes = 8_000_000

    def __len__(self) -> int:
        return 1_000_000


def test_an_entry_is_sized_by_its_strings_numbers_and_arrays() -> None:
    assert payload_bytes({"a": numpy.zeros(1_000_000)}) > 8_000_000
    assert 8_000_000 < payload_bytes({"loss": Column(), "steps": Column()}) - 8_000_000 < 8_001_000
    text = payload_bytes("x" * 10_000)
    assert text >= 10_000 and payload_bytes(["x" * 10_000] * 3) > 3 * text
    series = payload_bytes([float(i) for i in range(100_000)])
    assert 100_000 * 24 < series < 100_000 * 40


def test_every_stored_value_goes_through_keep_once_per_upstream_read() -> None:
    kept: list[str] = []

    class Keeping(CachedSource):
        def _keep(self, kind: str, value: Any) -> Any:
            kept.append(kind)
            return {"kept": value}

    cached = Keeping(SlowSource(), ttl=60.0)
    assert cached.get_job("a", "b", "j") == cached.get_job("a", "b", "j") == {"kept": {
        "what": "job j", "scope": "viewer-a", "n": 1}}
    cached.get_logs("a", "b", "j")
    assert kept == ["job", "logs"]


def test_a_job_with_many_keys_is_sized_by_all_its_arrays() -> None:
    import numpy as np

    from dashboard.columns import column

    metrics = {f"scalar/{n}": float(n) for n in range(130)}
    metrics |= {f"series/{n}": column(list(np.arange(100_000.0))) for n in range(8)}
    assert cache.payload_bytes({"metrics": metrics}) >= 8 * 800_000

"""The Redis tier of the read cache, against a real redis-server (tests/redis_server.py): each
CachedSource here has its own Redis client, as each gunicorn worker or instance has."""

from __future__ import annotations

import logging
import signal
import threading
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard.config import Settings
from dashboard.sources import SourceError, shared
from dashboard.sources.cache import CachedSource
from dashboard.sources.platform import PlatformSource
from dashboard.sources.shared import RedisTier, decode, encode, entry_name
from tests.canary import scan
from tests.fake_platform import DEFAULT_KEY, FakePlatform, add_sample_jobs
from tests.redis_server import RedisServer
from tests.test_cache import SlowSource, StatusSource

JOB = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A redis-server of this test's own."""
    with RedisServer() as running:
        yield running


def process(source: Any, server: RedisServer, **kwargs: Any) -> CachedSource:
    """A CachedSource as one worker process builds it: its own cache and its own Redis client."""
    return CachedSource(source, shared=RedisTier(server.url, **kwargs))


def read_together(sources: list[CachedSource], job: str = JOB, each: int = 10) -> list[Any]:
    """Every source's logs of `job`, read by `each` threads per source at once."""
    results: list[Any] = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.get_logs("o", "w", job)))
               for s in sources for _ in range(each)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_processes_in_front_of_one_redis_make_one_upstream_call(server: RedisServer) -> None:
    upstream = SlowSource(delay=0.3)
    results = read_together([process(upstream, server), process(upstream, server),
                             process(upstream, server)])
    assert upstream.calls == [f"logs {JOB}"]
    assert len(results) == 30 and all(r == results[0] for r in results)


def test_viewers_with_different_keys_never_share_an_entry(server: RedisServer) -> None:
    a, b = SlowSource(scope="viewer-a"), SlowSource(scope="viewer-b")
    assert process(a, server).get_job("o", "w", JOB)["scope"] == "viewer-a"
    assert process(b, server).get_job("o", "w", JOB)["scope"] == "viewer-b"
    assert process(b, server).get_job("o", "w", JOB)["scope"] == "viewer-b"
    assert len(a.calls) == 1 and len(b.calls) == 1


def test_a_process_keeps_a_shared_entry_no_longer_than_its_first_reader(server: RedisServer) -> None:
    running, finished = StatusSource(), StatusSource()
    finished.status = "completed"
    for upstream, lifetime in ((running, 1.0), (finished, 60.0)):
        process(upstream, server).get_job("o", "w", upstream.status)
        second = process(upstream, server)
        second.get_job("o", "w", upstream.status)
        (entry,) = second._store.entries.values()
        assert lifetime - 0.5 < entry.expires - second._clock() <= lifetime
        assert len(upstream.calls) == 1


def test_reads_go_on_while_redis_is_down_with_one_warning_and_one_on_recovery(
        server: RedisServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "RETRY_AFTER", 0.0)  # try Redis again at every read
    caplog.set_level(logging.WARNING, logger="dashboard.sources.shared")
    upstream = SlowSource()
    first, second = process(upstream, server), process(upstream, server)
    assert first.get_logs("o", "w", "before")["what"] == "logs before"
    server.stop()
    for n in range(5):
        assert second.get_logs("o", "w", f"during-{n}")["what"] == f"logs during-{n}"
    server.start()
    assert second.get_logs("o", "w", "after")["what"] == "logs after"
    assert first.get_logs("o", "w", "after")["what"] == "logs after"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings
    assert "unavailable (ConnectionError)" in warnings[0] and "is back" in warnings[1]
    assert upstream.calls.count("logs after") == 1  # shared again
    assert len(upstream.calls) == 7


def test_a_redis_that_refuses_writes_is_read_around_with_one_warning(
        server: RedisServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "RETRY_AFTER", 0.0)
    caplog.set_level(logging.WARNING, logger="dashboard.sources.shared")
    server.client().config_set("maxmemory", "1")  # full: every write is refused (OOM)
    upstream = SlowSource()
    cached = process(upstream, server)
    for n in range(4):
        assert cached.get_logs("o", "w", f"j{n}")["what"] == f"logs j{n}"
    assert len(upstream.calls) == 4
    assert [r.getMessage() for r in caplog.records] == [
        "shared cache (Redis) unavailable (OutOfMemoryError); reading the platform directly until it is back"]


def test_a_stopped_redis_costs_one_short_timeout_not_a_hang(server: RedisServer) -> None:
    upstream = SlowSource()
    cached = process(upstream, server)
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)  # the server is there but answers nothing
    try:
        for n in range(3):
            assert cached.get_logs("o", "w", f"j{n}")["what"] == f"logs j{n}"
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert len(upstream.calls) == 3


def test_a_wiped_redis_is_read_through_again(server: RedisServer) -> None:
    upstream = SlowSource()
    process(upstream, server).get_logs("o", "w", JOB)
    server.client().flushall()
    assert process(upstream, server).get_logs("o", "w", JOB)["what"] == f"logs {JOB}"
    assert len(upstream.calls) == 2


def test_a_crashed_holders_lock_lapses_and_the_next_reader_reads(server: RedisServer) -> None:
    upstream = SlowSource()
    key = ("viewer-a", "logs", "o", "w", JOB)
    server.client().set(entry_name(key) + ":lock", "crashed", px=300)  # held by nobody alive
    assert process(upstream, server, lock_seconds=5.0).get_logs("o", "w", JOB)["what"] == f"logs {JOB}"
    assert len(upstream.calls) == 1


def test_errors_are_not_shared_and_the_next_reader_tries_again(server: RedisServer) -> None:
    upstream = SlowSource()
    upstream.fail = True
    with pytest.raises(SourceError):
        process(upstream, server).get_logs("o", "w", JOB)
    upstream.fail = False
    assert process(upstream, server).get_logs("o", "w", JOB)["what"] == f"logs {JOB}"
    assert not server.client().exists(entry_name(("viewer-a", "logs", "o", "w", JOB)) + ":lock")


class Noisy(SlowSource):
    """Logs of incompressible text, `size` characters."""

    size = 4000

    def get_logs(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        self._call(f"logs {job_id}")
        return {"text": "".join(f"{n * 7919 % 104729:x}" for n in range(self.size // 4))[: self.size]
                + job_id}


def test_redis_holds_no_more_than_its_byte_budget_and_skips_an_oversize_entry(server: RedisServer) -> None:
    upstream = Noisy()
    budget = 3 * len(encode(upstream.get_logs("o", "w", "j0"))) + 30  # three fit, not four
    upstream.calls.clear()
    for n in range(6):
        process(upstream, server, budget=budget).get_logs("o", "w", f"j{n}")
    client = server.client()
    sizes = {k: int(v) for k, v in client.hgetall(shared.SIZES).items()}
    stored = [k for k in client.keys(shared.PREFIX + "*") if k.decode() not in (shared.INDEX, shared.SIZES)]
    assert len(stored) == len(sizes) <= 3 and sum(sizes.values()) <= budget
    newest = {entry_name(("viewer-a", "logs", "o", "w", f"j{n}")) for n in (3, 4, 5)}
    assert {k.decode() for k in stored} == newest
    upstream.size = 100_000
    assert process(upstream, server, budget=budget).get_logs("o", "w", "huge")["text"].endswith("huge")
    assert not client.exists(entry_name(("viewer-a", "logs", "o", "w", "huge")))


def test_payloads_come_back_from_redis_exactly_nan_and_big_numbers_included() -> None:
    nan, inf = float("nan"), float("inf")
    payload = {"metrics": {"loss": [1.0, nan, 2.0, -inf], "val": [None, inf, None], "steps": list(range(5))},
               "items": [{"data": {"x": nan}}, {"message": "é \u202e"}], "error": None}
    assert repr(decode(encode(payload))) == repr(payload)
    assert repr(decode(encode({"n": 10**400, "x": nan}))) == repr({"n": 10**400, "x": nan})


def test_no_key_cookie_or_secret_reaches_redis(server: RedisServer) -> None:
    with FakePlatform(api_key=DEFAULT_KEY) as fake:
        add_sample_jobs(fake)
        platform = PlatformSource(Settings("platform", server=fake.url, api_key=DEFAULT_KEY))
        cached = process(platform, server)
        listed = cached.list_jobs("acme", "research", page=1, page_size=20)
        for job in listed["items"]:
            cached.get_job("acme", "research", job["id"])
            cached.get_logs("acme", "research", job["id"])
            cached.get_artifacts("acme", "research", job["id"])
    client = server.client()
    names = client.keys("*")
    assert len(names) > 3
    for name in names:
        assert not scan(name), name
        kind = client.type(name)
        if kind == b"string":
            blob = client.get(name)
            assert not scan(blob) and (name.endswith(b":lock") or not scan(zlib.decompress(blob))), name
        elif kind == b"hash":
            assert not any(scan(k) or scan(v) for k, v in client.hgetall(name).items()), name
        elif kind == b"zset":
            assert not any(scan(k) for k, _ in client.zrange(name, 0, -1, withscores=True)), name

"""The shared tier of the read cache: raw payloads in Redis, so every worker and instance that
points at one Redis makes one upstream read per key and lifetime, not one each.

A miss takes a Redis lock (with a timeout, so a crashed holder never blocks the others) and
reads upstream; the others poll for the holder's result. Entries hold response payloads only
(compressed JSON, under a hash of the key, whose scope is the credentials' fingerprint), never a
key, cookie or secret; they live as long as in the process cache and within a byte budget,
soonest-to-expire out first. Redis down, slow or wiped: reads go upstream directly, with one
warning in the log, and another when it is back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

import orjson
import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from dashboard.columns import Column
from dashboard.sources import parse_json

log = logging.getLogger(__name__)

PREFIX = "dashboard:cache:v1:"
INDEX, SIZES = PREFIX + "index", PREFIX + "sizes"  # entry -> expiry (ms), entry -> bytes
TIMEOUT = 0.5  # seconds for one Redis command or connect (the URL's socket_timeout overrides)
LOCK_SECONDS = 5.0  # a crashed holder's lock lapses after this; a slower read lets one more in
POLL = 0.005  # seconds between a waiter's looks for the holder's result (a GET of a missing key is cheap)
RETRY_AFTER = 1.0  # while Redis is down, one read a second (per process) tries it again
DEFAULT_BUDGET = 256 * 2**20

# Store one entry within the budget, atomically: forget index rows of entries that expired,
# then drop the soonest-to-expire entries until the new one fits (an entry over the whole
# budget is not stored). KEYS: entry, index, sizes. ARGV: payload, lifetime ms, budget bytes.
STORE = """
local size, budget = string.len(ARGV[1]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HDEL', KEYS[3], old)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREM', KEYS[2], KEYS[1])
redis.call('HDEL', KEYS[3], KEYS[1])
if size > budget then
  redis.call('DEL', KEYS[1])
  return 0
end
local used = 0
for _, n in ipairs(redis.call('HVALS', KEYS[3])) do used = used + tonumber(n) end
while used + size > budget do
  local victim = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not victim then break end
  used = used - tonumber(redis.call('HGET', KEYS[3], victim) or '0')
  redis.call('DEL', victim)
  redis.call('ZREM', KEYS[2], victim)
  redis.call('HDEL', KEYS[3], victim)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), KEYS[1])
redis.call('HSET', KEYS[3], KEYS[1], size)
redis.call('PEXPIRE', KEYS[2], 3600000)
redis.call('PEXPIRE', KEYS[3], 3600000)
return 1
"""


def entry_name(key: tuple[Any, ...]) -> str:
    """The Redis key of a cache key: a hash, so no part of it (a job id, a query) shows."""
    return PREFIX + hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()


def encode(value: Any) -> bytes:
    """A payload as compressed JSON that decodes to an equal value: NaN and infinities (orjson
    writes null for them) are listed beside it; integers past 64 bits take the standard encoder."""
    try:
        text = orjson.dumps(value, default=_plain,
                            option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATACLASS)
        patches = _non_finite(value, [], []) if b"null" in text else []
        if patches:
            text = orjson.dumps({"v": value, "non_finite": patches})
        else:
            text = b'{"v":' + text + b"}"
    except orjson.JSONEncodeError:
        # NaN literals, which parse_json reads back
        text = json.dumps({"v": value}, default=_plain_list).encode()
    return zlib.compress(text, 1)


def _plain(value: Any) -> Any:
    """A Column (a big body's list of plain numbers, read as an array) as JSON writes it."""
    if isinstance(value, Column) and not len(value.bad) and not value.unusable:
        return value.y  # every number finite: written exactly, and read back as a Column
    raise TypeError(f"{type(value).__name__} is not JSON")


def _plain_list(value: Any) -> list[float | None]:
    """A Column for the standard encoder: its gaps (NaN) as null, not as NaN literals."""
    return [None if math.isnan(v) else v for v in _plain(value).tolist()]


def decode(blob: bytes) -> Any:
    """The payload `encode` wrote."""
    envelope = parse_json(zlib.decompress(blob))
    value = envelope["v"]
    for *path, last, text in envelope.get("non_finite", []):
        where = value
        for step in path:
            where = where[step]
        where[last] = float(text)
    return value


def _non_finite(value: Any, path: list[Any], found: list[list[Any]]) -> list[list[Any]]:
    """The path to every NaN and infinity in `value`, each ending in its text ("nan", "inf")."""
    if isinstance(value, float):
        if not math.isfinite(value):
            found.append([*path, repr(value)])
    elif isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, float | dict | list):
                _non_finite(item, [*path, name], found)
    elif isinstance(value, list):
        try:
            if math.isfinite(math.fsum(value)):  # C speed for a series of numbers
                return found
        except (TypeError, OverflowError, ValueError):
            pass
        for index, item in enumerate(value):
            if isinstance(item, float | dict | list):
                _non_finite(item, [*path, index], found)
    return found


class RedisTier:
    """The shared cache, in front of upstream reads (CachedSource's `shared`)."""

    def __init__(self, url: str, budget: int = DEFAULT_BUDGET, lock_seconds: float = LOCK_SECONDS) -> None:
        # No retries: a failed command means "read upstream now", not "wait and try again".
        self.client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT,
                                           retry=Retry(NoBackoff(), 0))
        self.budget = budget
        self.lock_seconds = lock_seconds
        self._store = self.client.register_script(STORE)
        self._state = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    def __repr__(self) -> str:
        return "RedisTier()"  # the URL may hold a password

    def read(self, key: tuple[Any, ...], life: Callable[[Any], float],
             call: Callable[[], Any]) -> tuple[Any, float]:
        """The payload for `key` and the seconds it stays fresh: Redis's copy, the holder's once
        read, or upstream's (read here when this process holds the lock, or Redis is down)."""
        got: list[Any] = []

        def upstream() -> Any:
            got.append(call())
            return got[0]

        if self._usable():
            try:
                found = self._through(entry_name(key), life, upstream)
            except RedisError as exc:  # down, slow, full or read-only: it is "back" once a read works
                self._went_down(exc)
            else:
                self._came_back()
                return found
        value = got[0] if got else call()
        return value, life(value)

    def forget(self, keys: list[tuple[Any, ...]]) -> None:
        """Drop these keys' entries (after a cancel or retry); best effort."""
        if self._usable():
            try:
                self.client.delete(*map(entry_name, keys))
            except RedisError as exc:
                self._went_down(exc)

    def _through(self, name: str, life: Callable[[Any], float],
                 upstream: Callable[[], Any]) -> tuple[Any, float]:
        """Redis's entry; else the lock and the upstream read; else wait for the holder's."""
        deadline = time.monotonic() + self.lock_seconds
        while True:
            found = self._get(name)
            if found is not None:
                return found
            lock = self.client.lock(name + ":lock", timeout=self.lock_seconds, blocking=False)
            if lock.acquire():
                try:
                    found = self._get(name)  # the last holder may have stored it just now
                    if found is not None:
                        return found
                    value = upstream()
                    seconds = life(value)
                    self._put(name, value, seconds)
                    return value, seconds
                finally:
                    _release(lock)
            if time.monotonic() >= deadline:  # the holder is stuck: read for ourselves
                value = upstream()
                return value, life(value)
            time.sleep(POLL)

    def _get(self, name: str) -> tuple[Any, float] | None:
        """The entry and its seconds left, or None (missing, or unreadable)."""
        with self.client.pipeline(transaction=True) as pipe:
            blob, left = pipe.get(name).pttl(name).execute()
        if blob is None:
            return None
        try:
            return decode(blob), max(0, left) / 1000
        except (zlib.error, ValueError, KeyError, IndexError, TypeError):
            log.warning("an unreadable shared cache entry was ignored")
            return None

    def _put(self, name: str, value: Any, seconds: float) -> None:
        """Store a payload for `seconds` within the budget."""
        if seconds <= 0:
            return
        try:
            blob = encode(value)
        except (TypeError, ValueError):  # not JSON: served, not shared
            return
        self._store(keys=[name, INDEX, SIZES], args=[blob, max(1, round(seconds * 1000)), self.budget])

    def _usable(self) -> bool:
        """Whether to try Redis now: yes while it works; when down, once every RETRY_AFTER s."""
        with self._state:
            if self._down_since is None:
                return True
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + RETRY_AFTER  # this read tries it; the others go upstream
            return True

    def _went_down(self, exc: RedisError) -> None:
        """Note a failure; warn on the first of an outage."""
        with self._state:
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
            self._retry_at = time.monotonic() + RETRY_AFTER
        if first:
            log.warning("shared cache (Redis) unavailable (%s); reading the platform directly until it "
                        "is back", exc.__class__.__name__)

    def _came_back(self) -> None:
        """Note a success; say so if Redis had been down."""
        with self._state:
            since, self._down_since = self._down_since, None
        if since is not None:
            log.warning("shared cache (Redis) is back after %.0f s", time.monotonic() - since)


def _release(lock: Any) -> None:
    """Release a lock we hold; if it lapsed or Redis is gone, its timeout does it."""
    try:
        lock.release()
    except RedisError:
        pass

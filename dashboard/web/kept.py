"""A small per-app memory: a bounded, thread-safe map whose values expire (the last good run's
searches, the compared jobs' strip entries and traces)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    """At most `size` values, each for the seconds it was put with; the least recently used go first."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        """The value kept for `key`, unless it expired."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: T, seconds: float) -> None:
        """Keep `value` for `seconds`."""
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self._clock() + seconds, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

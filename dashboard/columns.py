"""Metric series held as float64 arrays from the moment a payload is parsed (a 1M-step series is
8 MB here, ~32 MB as a Python list of floats), keeping everything a note or marker needs."""

from __future__ import annotations

import collections
import math
import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
WORDS = ("NaN", "Infinity", "-Infinity")  # by sign: 0, 1, -1
NON_FINITE_WORDS = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass(frozen=True, eq=False)
class Column:
    """One per-step series, read once: values (NaN where nothing can be drawn), the positions of
    NaN/Inf with their signs (0 NaN, 1 +Inf, -1 -Inf), and how many values were junk."""

    y: np.ndarray  # float64, read-only
    bad: np.ndarray  # int64 positions of NaN/Inf (nulls and junk are not bad)
    signs: np.ndarray  # int8, one per bad position
    unusable: int = 0

    def __len__(self) -> int:
        return len(self.y)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return self.y.nbytes + self.bad.nbytes + self.signs.nbytes

    def word(self, position: int) -> str:
        """How the NaN/Inf at `position` of `bad` is written: `NaN`, `Infinity` or `-Infinity`."""
        return WORDS[int(self.signs[position])]


def read_number(value: Any) -> tuple[float | None, bool, bool]:
    """Read one series value: (number or None, is NaN/Inf, is unusable)."""
    if value is None:
        return None, False, False
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, False, True
    if isinstance(value, str):
        value = value.strip().lower()
        if value in NON_FINITE_WORDS:
            return None, True, False
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None, True, False
    except ValueError:
        return None, False, True
    return (number, False, False) if math.isfinite(number) else (None, True, False)


def values(raw: list[Any] | Column) -> tuple[np.ndarray, np.ndarray, int]:
    """A series as float64 with NaN for anything undrawable, its NaN/Inf positions, and junk count.

    A Column is already read. For a list, numpy converts it whole (None becomes NaN, True
    becomes 1); single values are looked at only where that could hide something: at NaNs
    (null or NaN?) and zeros and ones (a boolean?).
    """
    if isinstance(raw, Column):
        return raw.y, raw.bad, raw.unusable
    array, bad, _, unusable = _read(raw)
    return array, bad, unusable


def _read(raw: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A list as (values with NaN, NaN/Inf positions, their signs, junk count)."""
    try:
        array = np.fromiter(raw, dtype=np.float64, count=len(raw))  # the fastest, for plain numbers
    except (TypeError, ValueError, OverflowError):
        try:
            array = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            return _read_slowly(raw)
    if array.ndim != 1:
        return _read_slowly(raw)
    if any(type(raw[i]) is bool for i in np.flatnonzero((array == 0) | (array == 1)).tolist()):
        return _read_slowly(raw)
    undrawable = ~np.isfinite(array)
    bad = np.flatnonzero(undrawable)
    if len(bad) and raw.count(None):
        bad = np.array([i for i in bad.tolist() if raw[i] is not None], dtype=np.int64)
    signs = np.sign(np.nan_to_num(array[bad], nan=0.0)).astype(np.int8)
    array[undrawable] = np.nan
    return array, bad, signs, 0


def _read_slowly(raw: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The value-by-value reading of a series holding strings, objects or booleans."""
    array = np.full(len(raw), np.nan)
    bad: list[int] = []
    signs: list[int] = []
    unusable = 0
    for position, item in enumerate(raw):
        value, is_bad, is_unusable = read_number(item)
        if value is not None:
            array[position] = value
        elif is_bad:
            bad.append(position)
            signs.append(sign_of(item))
        unusable += is_unusable
    return array, np.array(bad, dtype=np.int64), np.array(signs, dtype=np.int8), unusable


def sign_of(item: Any) -> int:
    """0 for a NaN, 1 for +Inf, -1 for -Inf, as a trainer may write them (numbers or words)."""
    if isinstance(item, str):
        text = item.strip().lower()
        return 0 if "nan" in text else -1 if text.startswith("-") else 1
    try:
        number = float(item)
    except OverflowError:  # an integer too large for a float
        return 1 if item > 0 else -1
    return 0 if math.isnan(number) else 1 if number > 0 else -1


def word_of(item: Any) -> str:
    """How a NaN/Inf value, as a trainer wrote it, is written out: `NaN`, `Infinity`, `-Infinity`."""
    return WORDS[sign_of(item)]


def column(raw: Any) -> Any:
    """A list holding at least one number or NaN/Inf as a Column; anything else as it is."""
    if not isinstance(raw, list) or not raw:
        return raw
    array, bad, signs, unusable = _read(raw)
    if not len(bad) and not np.isfinite(array).any():
        return raw  # no number at all: not a series (the grid says so)
    array.flags.writeable = False  # shared by every request that reads the cached job
    return Column(array, bad, signs, unusable)


def read_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Turn a freshly parsed metrics map's series into Columns, in place, one list at a time (so
    each list is given back before the next is read), and return it."""
    for key in list(metrics):
        metrics[key] = column(metrics[key])
    return metrics


def is_column(value: Any) -> bool:
    """Whether a metrics value is a per-step list, read (a Column) or not (a list)."""
    return isinstance(value, list | Column)


MAX_DERIVED = 1024  # results kept at most (each is small: a chart's ~2,000 points, a scan's answer)
_derived: dict[tuple[Hashable, ...], Any] = {}
_watched: set[int] = set()
_gone: collections.deque[int] = collections.deque()  # arrays freed since: their results go first
_derived_lock = threading.Lock()


def derived(arrays: tuple[np.ndarray, ...], params: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, remembered while the arrays live when they are a cached job's (read-only) ones.

    Every viewer of a cached finished job would otherwise downsample and scan the same 1M-point
    arrays again; the result is small, and it goes when the arrays go (the cache dropped them).
    """
    if not arrays or any(a.flags.writeable or a.base is not None for a in arrays):
        return compute()
    key = (*map(id, arrays), params)
    with _derived_lock:
        _purge()
        if key in _derived:
            return _derived[key]
    value = compute()
    with _derived_lock:
        if len(_derived) >= MAX_DERIVED:
            return value
        for array in arrays:
            if id(array) not in _watched:
                _watched.add(id(array))
                weakref.finalize(array, _forget, id(array))
        _derived[key] = value
    return value


def _forget(identity: int) -> None:
    """Note an array that is gone (this runs inside garbage collection, perhaps while this very
    thread holds the lock: so no lock here, only an append; `_purge` drops its results)."""
    _gone.append(identity)


def _purge() -> None:
    """Drop what was derived from arrays that are gone, before an id can be looked up again
    (a freed array's id may be a new array's; the note of its end comes before its memory goes)."""
    while _gone:
        identity = _gone.popleft()
        _watched.discard(identity)
        for key in [k for k in _derived if identity in k[:-1]]:
            del _derived[key]

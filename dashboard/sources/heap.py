"""Giving memory back to the operating system (glibc), so a big job's bytes do not stay resident
after the job has left the cache; every call is a no-op where glibc is not there."""

from __future__ import annotations

import ctypes
from collections.abc import Callable

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
# Blocks of 1 MB and more get pages of their own, given back the moment they are freed. glibc
# would otherwise raise this threshold after the first big free (to 32 MB): a 1M-step job's 8 MB
# arrays and lists then come from the heap, and a worker that parsed a few big jobs keeps
# hundreds of MB it no longer uses.
MMAP_AT = 1 << 20
ARENAS = 2  # not one heap per thread: eight threads' heaps hold eight sets of freed blocks


def _glibc(name: str, *argtypes: type) -> Callable[..., int] | None:
    """A glibc function, or None."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return function


_trim = _glibc("malloc_trim", ctypes.c_size_t)
_mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)


def malloc_trim() -> None:
    """Give the freed top and holes of the heap back to the OS (glibc's malloc_trim(0))."""
    if _trim is not None:
        _trim(0)


def tune() -> None:
    """Set the allocator up for big, short-lived blocks (before workers fork: they inherit it)."""
    if _mallopt is not None:
        _mallopt(M_MMAP_THRESHOLD, MMAP_AT)
        _mallopt(M_TRIM_THRESHOLD, 4 * MMAP_AT)
        _mallopt(M_ARENA_MAX, ARENAS)

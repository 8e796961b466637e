"""The debiased EMA one value at a time: slow but obviously right, to check the fast one against."""

from __future__ import annotations

import math


def ema_reference(y: list[float], weight: float) -> list[float]:
    """The same average, one value at a time (slow but obviously right)."""
    out: list[float] = []
    last, seen = 0.0, 0
    for value in y:
        if not math.isfinite(value):
            out.append(math.nan)
            continue
        last = weight * last + (1 - weight) * value
        seen += 1
        out.append(last / (1 - weight**seen))
    return out

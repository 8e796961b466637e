"""Min/max downsampling that keeps every spike, the ends, and every gap."""

from __future__ import annotations

import numpy as np

# About two points per horizontal pixel of a chart (a min and a max); never more than this per
# trace. A chart is at most ~850 px wide in app.css's grid (minmax(420px, 1fr): past 852 px there
# are two columns), under 790 px of plot: 1,600 points give every pixel its min and max.
MAX_POINTS = 4000
DEFAULT_POINTS = 1600


def minmax_indices(y: np.ndarray, budget: int = DEFAULT_POINTS) -> np.ndarray:
    """Indices of the points to draw: per bucket the min and the max, plus first and last.

    `y` holds NaN for gaps (nulls and NaN/Inf alike); a bucket that holds a gap also keeps
    its first gap, so the line breaks where the data does.
    """
    n = len(y)
    budget = max(4, min(budget, MAX_POINTS))
    if n <= budget:
        return np.arange(n)
    buckets = max(1, (budget - 2) // 2)
    size = -(-n // buckets)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y
    rows = padded.reshape(buckets, size)
    gaps = np.isnan(rows)
    offsets = np.arange(buckets) * size
    low = np.where(gaps, np.inf, rows).argmin(axis=1) + offsets
    high = np.where(gaps, -np.inf, rows).argmax(axis=1) + offsets
    has_value = ~gaps.all(axis=1)
    keep = [low[has_value], high[has_value], np.array([0, n - 1])]
    gap_rows = gaps.any(axis=1)
    gap_rows[-1] = gaps[-1, : n - offsets[-1]].any()
    if gap_rows.any():
        keep.append(gaps[gap_rows].argmax(axis=1) + offsets[gap_rows])
    picked = np.unique(np.concatenate(keep))
    return picked[picked < n]


def window(x: np.ndarray, x0: float | None, x1: float | None) -> slice:
    """The index range of a sorted x-axis inside [x0, x1], one point of margin either side."""
    start = 0 if x0 is None else max(0, int(np.searchsorted(x, x0, side="left")) - 1)
    stop = len(x) if x1 is None else min(len(x), int(np.searchsorted(x, x1, side="right")) + 1)
    return slice(start, max(start, stop))

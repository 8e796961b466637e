"""Where a run left the last good run of its kind: one series of each, aligned on their steps, on
the full-resolution arrays of `analysis.series` (never on downsampled ones).

The rule, and why it holds up on noisy curves:
1. Align: only steps both runs logged, with a finite value in both. A series on no step axis, an
   axis that does not go up, strings inside a series, or too few shared points: no claim at all.
2. Gap: d = ln(run / good) at each shared step, so a 10 % gap weighs the same at a loss of 2.3 as
   at 0.7; a series that is not positive everywhere (a reward) uses the plain difference.
3. Noise: the good run's own step-to-step noise, sigma = 1.4826 * MAD(diff(good)) / sqrt(2), in
   the units of d, per block of 200 points (or n / 50): first differences cancel the trend, the
   MAD ignores the good run's own spikes, and blocks follow noise that grows as a loss falls.
   Two runs with that noise differ by about sqrt(2) * sigma at a step.
4. Trigger: the trailing median of `w` points of d lies beyond BOUND_Z standard errors of such a
   median (Gaussian: 1.2533 * sqrt(2) * sigma / sqrt(w)), on one side, at PERSIST points in a
   row. Half the window has to move before the median does, so spikes, NaN blips and heavy-tailed
   noise never trigger it (what llm-foundry's KillLossSpike and Lightning's SpikeDetection get by
   waiting a few steps, and Megatron's golden-value tests by tolerating a few failing steps). A
   median of w points is beyond a bound exactly when more than half of them are, so the rolling
   median is a rolling count: O(n) on 10^6 steps.
5. Onset: walking back from the trigger, a one-sided CUSUM of d (allowance: half the per-step
   noise of d) finds where the drift began: the step after the sum last stood at zero. That is the
   step reported; the trigger only says that the drift is real.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dashboard.analysis.series import Series

BOUND_Z = 6.0  # standard errors of the window's median: false alarms below 1e-6 over 10^6 steps
PERSIST = 3  # windows in a row beyond the bound
MIN_SHARED = 8  # shared finite points below which nothing is claimed
NOISE_BLOCK = 200  # points per block of the noise estimate
NOISE_SAMPLE = 1000  # evenly spaced changes per block that the estimate reads
MIN_GAP = 0.02  # a 2 % gap (or 2 % of the good run's typical size) is never "left it"
MAD_TO_SIGMA = 1.4826
MEDIAN_SE = 1.2533  # the standard error of a median, in units of sigma / sqrt(w)
STEP_LABELS = frozenset({"Step"})  # what the sentences and the comparison's zoom are written in


@dataclass(frozen=True)
class Divergence:
    """How a run's series compares with the good run's over the steps both logged."""

    key: str
    step: float | None  # where this run left the good one (the onset); None: it followed it
    side: int  # +1 this run went above, -1 below, 0 followed
    last_step: float  # the last shared step compared
    ours: float  # this run's value at `last_step`
    theirs: float  # the good run's value at `last_step`
    still_off: bool  # at `last_step` it is still beyond the bound, on the same side
    kept_going: bool  # and further from the good run than where the trigger fired
    unsure_tail: int  # followed, but this many last points are off: too few to tell
    shared: int  # shared finite points compared


def aligned(good: Series, run: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The shared steps with a finite value in both series, and both values there; None when the
    two series cannot honestly be put on one axis."""
    if good.unusable or run.unusable or good.x_label != run.x_label or good.x_label not in STEP_LABELS:
        return None
    if not (_increasing(good.x) and _increasing(run.x)):
        return None
    n = min(len(good.x), len(run.x))
    if np.array_equal(good.x[:n], run.x[:n]):  # the usual case: one step axis, one a prefix of the other
        steps, gy, ry = good.x[:n], good.y[:n], run.y[:n]
    else:
        steps, gi, ri = np.intersect1d(good.x, run.x, assume_unique=True, return_indices=True)
        gy, ry = good.y[gi], run.y[ri]
    keep = np.isfinite(gy) & np.isfinite(ry)
    if int(keep.sum()) < MIN_SHARED:
        return None
    return steps[keep], gy[keep], ry[keep]


def _increasing(x: np.ndarray) -> bool:
    """Whether an axis is finite and strictly increasing."""
    return bool(np.isfinite(x).all() and (len(x) < 2 or np.all(x[1:] > x[:-1])))


def _gap_and_noise(gy: np.ndarray, ry: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """d (log-ratio, or difference for a series that is not positive), the good run's per-step
    noise in d's units at each point (local: noise often grows as a loss falls), and the smallest
    gap that counts."""
    if (gy > 0).all() and (ry > 0).all():
        base = np.log(gy)
        d, floor = np.log(ry) - base, MIN_GAP
    else:
        base, d = gy, ry - gy
        floor = max(MIN_GAP * float(np.median(np.abs(gy))), 1e-12)
    return d, local_noise(np.diff(base), len(d)), floor


def local_noise(steps: np.ndarray, n: int) -> np.ndarray:
    """Per point, MAD_TO_SIGMA * MAD / sqrt(2) of the step-to-step changes in its block of
    NOISE_BLOCK (or n / 50) points: one value per block, spread over the block's points."""
    size = max(NOISE_BLOCK, n // 50)
    blocks = max(1, len(steps) // size)
    usable = steps[: blocks * size].reshape(blocks, size) if len(steps) >= size else steps[None, :]
    usable = usable[:, :: max(1, usable.shape[1] // NOISE_SAMPLE)]  # a MAD needs no more than that
    centre = np.median(usable, axis=1, keepdims=True)
    sigma = MAD_TO_SIGMA * np.median(np.abs(usable - centre), axis=1) / math.sqrt(2)
    per_point = np.repeat(sigma, size)
    return np.concatenate((per_point, np.full(max(0, n - len(per_point)), sigma[-1])))[:n]


def window(n: int) -> int:
    """The trailing window: odd, about n / 200 points, between 3 and 51."""
    w = max(3, min(51, n // 200))
    return w if w % 2 else w + 1


def compare(key: str, good: Series, run: Series) -> Divergence | None:
    """Where `run` left `good` on series `key`, or that it followed it; None when no claim can be made."""
    found = aligned(good, run)
    if found is None:
        return None
    steps, gy, ry = found
    d, sigma, floor = _gap_and_noise(gy, ry)
    n, w = len(d), window(len(d))
    if n < w + PERSIST:
        return None
    bound = np.maximum(BOUND_Z * MEDIAN_SE * math.sqrt(2) * sigma / math.sqrt(w), floor)
    last = n - 1
    for side in (1, -1):
        beyond = _median_beyond(side * d, bound, w)
        trigger = _first_run(beyond, PERSIST)
        if trigger is not None:
            onset = _onset(side * d, trigger, sigma)
            end = side * float(np.median(d[-w:]))
            at_trigger = side * float(np.median(d[max(0, trigger - w + 1):trigger + 1]))
            return Divergence(key, float(steps[onset]), side, float(steps[last]), float(ry[last]),
                              float(gy[last]), bool(beyond[last]), end > at_trigger, 0, n)
    tail = _tail_off(np.abs(d), np.maximum(BOUND_Z * math.sqrt(2) * sigma, floor))  # one point's bound
    return Divergence(key, None, 0, float(steps[last - tail]), float(ry[last - tail]),
                      float(gy[last - tail]), False, False, tail, n)


def _median_beyond(d: np.ndarray, bound: np.ndarray, w: int) -> np.ndarray:
    """Whether the median of the w points ending at each position is above `bound` (a window's
    median is above a bound exactly when more than half of its points are)."""
    above = np.concatenate(([0], np.cumsum(d > bound)))
    counts = above[w:] - above[:-w]  # the window ending at position i >= w - 1
    out = np.zeros(len(d), dtype=bool)
    out[w - 1:] = counts > w // 2
    return out


def _first_run(flags: np.ndarray, length: int) -> int | None:
    """The position where `flags` first holds `length` times in a row (its last one), or None."""
    if len(flags) < length:
        return None
    counts = np.concatenate(([0], np.cumsum(flags)))
    runs = np.flatnonzero(counts[length:] - counts[:-length] == length)
    return int(runs[0]) + length - 1 if len(runs) else None


def _onset(d: np.ndarray, trigger: int, sigma: np.ndarray) -> int:
    """Where the drift that fired at `trigger` began: a one-sided CUSUM, S = max(0, S + d - k),
    is the cumulative sum minus its running minimum, so it last stood at zero at that minimum."""
    allowance = 0.5 * math.sqrt(2) * sigma[:trigger + 1]
    total = np.concatenate(([0.0], np.cumsum(d[:trigger + 1] - allowance)))
    # the last position of the minimum: the sum stood at zero there, and rose from the next point on
    return min(trigger, int(len(total) - 1 - np.argmin(total[::-1])))


def _tail_off(gap: np.ndarray, bound: np.ndarray) -> int:
    """How many last points are beyond the bound (too few to trigger; not claimed either way)."""
    inside = np.flatnonzero(gap <= bound)
    return len(gap) - 1 - int(inside[-1]) if len(inside) else 0

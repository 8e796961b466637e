"""Smoothing a metric series: the debiased exponential moving average TensorBoard draws.

    ema_t = a * ema_(t-1) + (1 - a) * x_t,  ema_0 = 0,  shown as ema_t / (1 - a^t)

where t counts the finite values so far. Gaps (NaN: nulls, NaN/Inf, junk) stay gaps and are
skipped by the average, so the curve resumes after a gap where it left off.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK_EXPONENT = 150  # a^-j stays below 10^150 within one block, far from overflow
SAFE_MAGNITUDE = 1e150  # values up to this times a^-j (< 10^150) stay finite; larger are scaled
MAX_BLOCK = 1024


def ema(y: np.ndarray, weight: float) -> np.ndarray:
    """The debiased EMA of a series (float64, NaN for gaps); `weight` is `a`, in [0, 1).

    A weight of 0 (or anything outside [0, 1)) returns the series unchanged. The recurrence
    runs in numpy, a block at a time (each block is a cumulative sum of the values weighted
    by a^-j, carried from block to block), so a million points take milliseconds. Values
    beyond 1e150 are scaled to [-1, 1] first, so even 1e308 cannot overflow; every result is a
    weighted mean of the values before it, so it is clipped to their range against rounding.
    """
    y = np.asarray(y, dtype=np.float64)
    if not 0 < weight < 1 or not len(y):
        return y.copy()
    finite = np.isfinite(y)
    out = np.full(len(y), np.nan)
    values = y[finite]
    count = len(values)
    if not count:
        return out
    largest = float(np.abs(values).max())
    scale = largest if largest > SAFE_MAGNITUDE else 1.0  # only huge values need scaling
    scaled = values / scale
    block = int(max(1, min(MAX_BLOCK, BLOCK_EXPONENT / -math.log10(weight))))
    blocks = -(-count // block)
    rows = np.zeros(blocks * block)
    rows[:count] = scaled
    rows = rows.reshape(blocks, block)
    j = np.arange(block, dtype=np.float64)
    # Within a block, starting from 0: (1 - a) * sum_{k<=j} a^(j-k) x_k.
    within = np.cumsum(rows * weight ** -j, axis=1) * weight ** j * (1 - weight)
    # The state carried into each block decays by a^(j+1) at position j.
    carried = np.empty(blocks)
    state, decay = 0.0, weight ** block
    for b in range(blocks):
        carried[b] = state
        state = decay * state + within[b, -1]
    raw = (within + carried[:, None] * weight ** (j + 1)).ravel()[:count]
    debiased = raw / -np.expm1(np.arange(1, count + 1) * math.log(weight))  # 1 - a^t, precisely
    out[finite] = np.clip(debiased, scaled.min(), scaled.max()) * scale
    return out


"""Formatting of numbers, times and durations for display."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from dashboard.models import LIST_STATUSES

# The badge's colour class: a status's own, but pending looks like queued.
STATUS_CLASSES = {status: status for status in LIST_STATUSES} | {"pending": "queued"}


def number(value: Any) -> str:
    """A compact rendering that never rounds a small value to zero."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        if abs(value) >= 1_000_000:
            try:
                return _suffixed(float(value))
            except OverflowError:  # an int past float range (JSON allows it)
                return f"{Decimal(value):.3g}"
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == 0:
            return "0"
        if value.is_integer() and abs(value) < 1e15:
            return number(int(value))
        magnitude = abs(value)
        if magnitude >= 1_000_000:
            return _suffixed(value)
        if magnitude < 1e-3:
            return f"{value:.3g}"
        return f"{value:.4g}" if magnitude < 1000 else f"{value:,.1f}"
    return str(value)


def _suffixed(value: float) -> str:
    """1.25M, 3.4B, …; anything past trillions in scientific notation."""
    rounded = float(f"{value:.3g}")  # round first: 999,999,999 is 1B, not "1e+03M"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(rounded) >= size:
            scaled = rounded / size
            return f"{value:.3g}" if abs(scaled) >= 1000 else f"{scaled:.3g}{suffix}"
    return f"{value:.3g}"


def full(value: Any) -> str:
    """The exact value, for a hover title."""
    return repr(value) if isinstance(value, float) else str(value)


def duration(seconds: float | None) -> str:
    """`1h 02m 03s`, `4m 12s`, `12s`; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    total = max(0, int(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def utc(moment: datetime | None) -> str:
    """`2026-11-20 10:00:02 UTC`, or an em dash."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def iso(moment: datetime | None) -> str:
    """An ISO 8601 string for `<time datetime>` and the browser's relative times."""
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def one_line(text: str, limit: int) -> str:
    """Text on one line (runs of white space become one space), cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

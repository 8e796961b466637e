"""The scalar metrics grid: every scalar, grouped train / eval / async / other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dashboard.analysis.series import TIME_KEYS, is_series, read_number
from dashboard.models import clip
from dashboard.viewmodels import format as fmt

UNREADABLE_SHOWN = 10  # unreadable metrics named in the note; the rest are counted
GROUPS = (("train", "Train"), ("eval", "Eval"), ("async", "Async"), ("other", "Other"))
# Keys whose plain names are easy to confuse with one another get explicit labels.
LABELS = {
    "train/steps": "optimizer steps",
    "train/epochs_completed": "epochs completed (fraction of data)",
    "train/num_examples": "training examples",
    "eval/num_examples": "eval examples",
    "train/num_tokens_processed": "tokens processed",
}


@dataclass(frozen=True)
class Scalar:
    """One scalar tile."""

    key: str
    label: str
    value: str
    full: str
    bad: bool  # NaN or infinite


@dataclass(frozen=True)
class ScalarGroup:
    """The scalars under one heading."""

    name: str
    scalars: tuple[Scalar, ...]


def label(key: str) -> str:
    """A readable label for a metric key."""
    if key in LABELS:
        return LABELS[key]
    _, _, name = key.rpartition("/")
    return name.replace("_", " ")


def scalar(key: str, value: Any) -> Scalar:
    """Format one scalar, flagging NaN and infinities."""
    bad = read_number(value)[1]  # the charts' reading: NaN and infinities, as numbers or as words
    shown = fmt.number(value) if not isinstance(value, str) else value
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return Scalar(key, label(key), shown, fmt.full(value), bad)


def scalar_groups(metrics: dict[str, Any]) -> list[ScalarGroup]:
    """Every scalar in the metrics, grouped and sorted; empty groups left out."""
    buckets: dict[str, list[Scalar]] = {name: [] for name, _ in GROUPS}
    for key, value in metrics.items():
        if isinstance(key, str) and isinstance(value, int | float | str):  # bools are ints
            namespace, sep, _ = key.partition("/")
            buckets[namespace if sep and namespace in buckets else "other"].append(scalar(key, value))
    return [
        ScalarGroup(title, tuple(sorted(buckets[name], key=lambda s: s.key)))
        for name, title in GROUPS
        if buckets[name]
    ]


def unreadable(metrics: dict[str, Any]) -> str | None:
    """A note naming the metrics shown nowhere because they are neither a scalar nor a series
    with numbers (maps, and lists holding no number; an all-null list is just "no data yet")."""
    found = []
    for key, value in metrics.items():
        if key in TIME_KEYS:  # per-step times (ISO text): the charts' time axis, `?x=time`
            continue
        if isinstance(value, dict):
            found.append(f"{clip(key, 100)} (a map)")
        elif isinstance(value, list) and value.count(None) < len(value) and not is_series(value):
            noun = "value" if len(value) == 1 else "values"
            found.append(f"{clip(key, 100)} (no number among its {len(value):,} {noun})")
    if not found:
        return None
    named = ", ".join(found[:UNREADABLE_SHOWN])
    more = f", and {len(found) - UNREADABLE_SHOWN:,} more" if len(found) > UNREADABLE_SHOWN else ""
    return (f"{len(found):,} metric{'s' if len(found) > 1 else ''} could not be read "
            f"and {'are' if len(found) > 1 else 'is'} not shown: {named}{more}.")


@dataclass(frozen=True)
class ScalarsView:
    """The scalar grid and what in the metrics could not be shown."""

    groups: tuple[ScalarGroup, ...]
    unreadable: str | None


def scalars_view(metrics: dict[str, Any]) -> ScalarsView:
    """The grid for a job's metrics."""
    return ScalarsView(tuple(scalar_groups(metrics)), unreadable(metrics))

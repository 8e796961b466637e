"""Everything the job page's templates need, from a loaded pane."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from dashboard.models import Job, LogEntry
from dashboard.sources import Pane
from dashboard.views import artifacts, charts, figures, logs, metrics, summary


def summary_view(job: Job, now: datetime) -> dict[str, Any]:
    """The header, tiles, error callout and scalar grid."""
    return {"job": job, "summary": summary.summarize(job, now),
            "scalar_groups": metrics.scalar_groups(job.metrics)}


class Lazy:
    """A list made on first use, so a streamed page can send its head before the work."""

    def __init__(self, make: Callable[[], list[Any]]) -> None:
        self._make = make
        self._items: list[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        if self._items is None:
            self._items = self._make()
        return iter(self._items)


def rendered_charts(job: Job) -> list[tuple[charts.Chart, figures.Rendered | None]]:
    """Each chart of the job with its figure (None for an empty chart)."""
    return [(c, figures.render(c) if c.series else None) for c in charts.build_charts(job)]


def charts_view(job: Job) -> dict[str, Any]:
    """The chart specs and their figures, built when the template first reads them.

    `needs_plotly` is cheap to know up front: a finished job with no series draws nothing.
    """
    chartable = any(k not in charts.AXIS_KEYS and charts.is_series(v) for k, v in job.metrics.items())
    return {"job": job, "charts": Lazy(lambda: rendered_charts(job)),
            "needs_plotly": chartable or not job.terminal}


def artifacts_view(job: Job, raw: dict[str, Any]) -> dict[str, Any]:
    """The Artifacts & refs card."""
    return {"job": job, "artifact_rows": artifacts.rows(raw), "artifacts_raw": artifacts.raw_json(raw)}


def logs_view(job: Job, entries: list[LogEntry], total: int, after: int = 0) -> dict[str, Any]:
    """Rows for `entries` (the job's log entries from some position on) and the next poll's cursor."""
    return {"job": job, "log_rows": logs.log_rows(entries), "log_cursor": max(after, total),
            "log_total": total, "log_first": entries[0].index if entries else total}


def pane_view(pane: Pane, now: datetime) -> dict[str, Any]:
    """The whole job page."""
    return (summary_view(pane.job, now) | charts_view(pane.job)
            | artifacts_view(pane.job, pane.artifacts) | logs_view(pane.job, pane.logs, pane.log_total))

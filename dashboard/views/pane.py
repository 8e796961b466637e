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
    """Items made one by one as the template reads them, so a streamed page can send its head
    and each chart before the next is built (read once; later reads get the same items)."""

    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        self._make = make
        self._items: list[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        if self._items is not None:
            yield from self._items
            return
        self._items = []
        for item in self._make():
            self._items.append(item)
            yield item


def rendered_charts(job: Job) -> Iterator[tuple[charts.Chart, figures.Rendered | None]]:
    """Each chart of the job with its figure (None for an empty chart), as it is built."""
    for chart in charts.iter_charts(job):
        yield chart, figures.render(chart) if chart.series else None


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

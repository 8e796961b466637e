"""Everything the job page's templates need, from a loaded pane."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from dashboard.models import Job, LogEntry, note_of
from dashboard.sources import Pane
from dashboard.views import artifacts, charts, figures, logs, metrics, summary

log = logging.getLogger(__name__)


def summary_view(job: Job, now: datetime) -> dict[str, Any]:
    """The header, tiles, error callout and scalar grid."""
    return {"job": job, "summary": summary.summarize(job, now),
            "scalar_groups": metrics.scalar_groups(job.metrics),
            "unreadable_metrics": metrics.unreadable(job.metrics)}


def rendered_charts(job: Job) -> Iterator[tuple[charts.Chart, figures.Rendered | None]]:
    """Each chart of the job with its figure (None for an empty chart), as it is built.

    The page streams, so a chart that fails cannot become an error page: it says so instead.
    """
    axes: dict[str, Any] = {}
    for plan in charts.plan_charts(job):
        try:
            chart = charts.chart_for(job, plan, axes)
            yield chart, figures.render(chart) if chart.series else None
        except Exception:
            log.exception("chart %s of job %s failed", plan.title, job.id)
            yield charts.Chart(plan.testid, plan.title, (), "This chart could not be drawn; "
                               "the error is in the dashboard's log."), None


def charts_view(job: Job) -> dict[str, Any]:
    """The charts and their figures, built one by one as the (streamed) template reads them.

    `needs_plotly` is cheap to know up front: a finished job with no series draws nothing.
    """
    chartable = any(k not in charts.AXIS_KEYS and charts.is_series(v) for k, v in job.metrics.items())
    return {"job": job, "charts": rendered_charts(job),
            "needs_plotly": chartable or not job.terminal}


def artifacts_view(job: Job, raw: dict[str, Any]) -> dict[str, Any]:
    """The Artifacts & refs card, with a note when the artifacts payload was unusable."""
    return {"job": job, "artifact_rows": artifacts.rows(raw), "artifacts_raw": artifacts.raw_json(raw),
            "artifacts_note": note_of(raw)}


def logs_view(job: Job, entries: list[LogEntry], total: int, after: int = 0,
              final: bool = False) -> dict[str, Any]:
    """Rows for `entries` (the job's log entries from some position on) and the next poll.

    Entries and job status are read concurrently and may come from the short cache, so when
    the job has ended one more poll (`final=1`, at least a cache lifetime later) reads the
    logs once more; only that poll stops polling. `log_next` is None when nothing polls.
    """
    cursor = max(after, total)
    done = job.terminal and final
    following = None if done else f"?after={cursor}" + ("&final=1" if job.terminal else "")
    return {"job": job, "log_rows": logs.log_rows(entries), "log_cursor": cursor, "log_total": total,
            "log_first": entries[0].index if entries else total, "log_next": following,
            "logs_note": note_of(entries)}


def pane_view(pane: Pane, now: datetime) -> dict[str, Any]:
    """The whole job page."""
    return (summary_view(pane.job, now) | charts_view(pane.job)
            | artifacts_view(pane.job, pane.artifacts) | logs_view(pane.job, pane.logs, pane.log_total))

"""Everything the job page's templates need, from a loaded pane."""

from __future__ import annotations

import logging
from collections.abc import Container, Iterator, Sequence
from datetime import datetime
from typing import Any

from dashboard.analysis.series import AXIS_KEYS, is_series
from dashboard.models import Job, LogEntry, NotedList, note_of
from dashboard.sources import LOG_WINDOW, Pane
from dashboard.viewmodels import artifacts, charts, figures, logs, metrics, summary
from dashboard.viewmodels.chart_controls import DEFAULT_OPTIONS, ChartOptions, XAxis, settle, x_choices
from dashboard.viewmodels.markers import Markers
from dashboard.viewmodels.oncall import oncall_view
from dashboard.viewmodels.publish import publish_view

log = logging.getLogger(__name__)


def summary_view(job: Job, now: datetime) -> dict[str, Any]:
    """The header, tiles, error callout and scalar grid."""
    return {"job": job, "summary": summary.summarize(job, now),
            "scalar_groups": metrics.scalar_groups(job.metrics),
            "unreadable_metrics": metrics.unreadable(job.metrics)}


def summary_part(pane: Pane, now: datetime, link: str, on_page: Container[int] | None = None,
                 markers: Markers | None = None) -> dict[str, Any]:
    """The summary with its on-call card, for the page and for its polled fragment (`link`: the
    page's absolute URL, for the incident summary; `on_page`: the log entries the page shows, by
    default those it opens with; `markers`: the page's series reader, shared with the charts)."""
    on_page = frozenset(opening_window(pane.items).shown) if on_page is None else on_page
    markers = markers or Markers(pane.job)
    return summary_view(pane.job, now) | {"oncall": oncall_view(pane.job, pane.items, on_page, pane.artifacts,
                                                                now, markers, link)}


def rendered_charts(job: Job, options: ChartOptions = DEFAULT_OPTIONS, x_axis: XAxis | None = None,
                    markers: Markers | None = None) -> Iterator[tuple[charts.Chart, figures.Rendered | None]]:
    """Each chart of the job with its figure (None for an empty chart), as it is built, drawn
    with the chart options (already settled for this job) on `x_axis` (None: as planned).

    The page streams, so a chart that fails cannot become an error page: it says so instead.
    """
    axes: dict[str, Any] = markers.axes if markers else {}
    x0, x1 = options.zoom or (None, None)
    for plan in charts.plan_charts(job):
        try:
            chart = charts.chart_for(job, plan, axes, markers.take if markers else None)
            if x_axis is not None:
                chart = x_axis.apply(chart)
            marks = markers.layout_for(chart) if markers and chart.series else None
            yield chart, figures.render(chart, x0, x1, smooth=options.smooth,
                                        logy=options.logy, marks=marks) if chart.series else None
        except Exception:
            log.exception("chart %s of job %s failed", plan.title, job.id)
            yield charts.Chart(plan.testid, plan.title, (), "This chart could not be drawn; "
                               "the error is in the dashboard's log."), None


def charts_view(job: Job, options: ChartOptions = DEFAULT_OPTIONS, notes: tuple[str, ...] = (),
                markers: Markers | None = None) -> dict[str, Any]:
    """The charts and their figures, built one by one as the (streamed) template reads them,
    with the chart controls: the options as this job can honour them, the x-axis menu, and a
    note for each option that was ignored.

    `needs_plotly` is cheap to know up front: a finished job with no series draws nothing.
    `markers` (found when the first chart is drawn) mark the job's anomalies on every chart.
    """
    chartable = any(k not in AXIS_KEYS and is_series(v) for k, v in job.metrics.items())
    options, x_axis, more = settle(job.metrics, options)
    return {"job": job, "charts": rendered_charts(job, options, x_axis, markers or Markers(job)),
            "needs_plotly": chartable or not job.terminal, "chart_options": options,
            "x_choices": x_choices(job.metrics), "chart_notes": (*notes, *more)}


def artifacts_view(job: Job, raw: dict[str, Any]) -> dict[str, Any]:
    """The Artifacts & refs card, with a note when the artifacts payload was unusable."""
    return {"job": job, "artifact_rows": artifacts.rows(raw), "artifacts_raw": artifacts.raw_json(raw),
            "artifacts_note": note_of(raw)}


def logs_view(job: Job, entries: list[LogEntry], total: int, after: int = 0,
              final: bool = False, *, log_filter: logs.LogFilter = logs.NO_FILTER,
              matched: int | None = None, above: logs.Span | None = None,
              below: logs.Span | None = None, errors: list[int] | None = None,
              notes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Rows for `entries` (the job's log entries from some position on, those the filter
    keeps) and the next poll.

    Entries and job status are read concurrently and may come from the short cache, so when
    the job has ended one more poll (`final=1`, at least a cache lifetime later) reads the
    logs once more; only that poll stops polling. `log_next` is None when nothing polls.
    The cursor counts every entry, filtered or not, so changing the filter loses nothing;
    `matched` is how many entries the filter keeps so far (carried from poll to poll).
    `above` / `below` are the entries not loaded either side (the "load" controls); `errors`
    the positions of the error entries the filter keeps (for the keyboard).
    """
    cursor = max(after, total)
    done = job.terminal and final
    matched = total if matched is None else matched
    carried = f"&matched={matched}" if log_filter.active else ""
    following = None if done else (f"?after={cursor}{log_filter.suffix}{carried}"
                                   + ("&final=1" if job.terminal else ""))
    return {"job": job, "log_rows": logs.log_rows(entries), "log_cursor": cursor, "log_total": total,
            "log_first": entries[0].index if entries else total, "log_next": following,
            "logs_note": note_of(entries), "log_filter": log_filter, "log_matched": matched,
            "log_above": above, "log_below": below, "log_errors": errors or [],
            "log_level_choices": logs.LEVEL_CHOICES, "log_notes": notes}


def opening_window(items: Sequence[Any], kept: Sequence[int] | None = None) -> logs.Window:
    """The entries a page opens its logs panel with: the newest LOG_WINDOW of those `kept` (all)."""
    return logs.window(range(len(items)) if kept is None else kept, len(items), page=LOG_WINDOW)


def opening_logs(job: Job, items: Sequence[Any], log_filter: logs.LogFilter = logs.NO_FILTER,
                 notes: tuple[str, ...] = (), parsed: list[LogEntry] | None = None) -> dict[str, Any]:
    """The logs panel as a page opens it: the newest LOG_WINDOW entries the filter keeps
    (searching the whole log, which the page has read anyway), and where the errors are."""
    kept = logs.positions(items, log_filter)
    shown = opening_window(items, kept)
    if parsed is not None and [e.index for e in parsed] == list(shown.shown):
        entries = parsed  # the newest entries, already read by load_pane
    else:
        entries = [LogEntry.from_api(i, items[i]) for i in shown.shown]
    note = note_of(items)
    return logs_view(job, NotedList(note, entries) if note else entries, len(items),
                     log_filter=log_filter, matched=len(kept), above=shown.above,
                     errors=logs.error_positions(items, kept), notes=notes)


def pane_view(pane: Pane, now: datetime, options: ChartOptions = DEFAULT_OPTIONS,
              log_filter: logs.LogFilter = logs.NO_FILTER, chart_notes: tuple[str, ...] = (),
              log_notes: tuple[str, ...] = (), *, link: str = "", base: str = "",
              chosen: str | None = None, job_id: str | None = None) -> dict[str, Any]:
    """The whole job page, with the chart options and the logs filter of its URL, and its
    on-call parts: `oncall` (the triage card, checklist and chart markers; `link` is the page's
    absolute URL, for the incident summary) and `publish` (the publish helper; `base` is the
    page's URL, `chosen` its `?checkpoint=`, `job_id` the one in its URL)."""
    logs_part = opening_logs(pane.job, pane.items, log_filter, log_notes, pane.logs)
    markers = Markers(pane.job)
    on_page = frozenset(row.index for row in logs_part["log_rows"])
    publish = publish_view(pane.job, job_id or pane.job.id, pane.artifacts, chosen, base)
    return (summary_part(pane, now, link, on_page, markers) | logs_part
            | charts_view(pane.job, options, chart_notes, markers) | artifacts_view(pane.job, pane.artifacts)
            | {"publish": publish})

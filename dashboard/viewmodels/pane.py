"""The job page: the composition of the models its fragments are built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashboard.models import Pane, parse_logs
from dashboard.viewmodels import logs_panel
from dashboard.viewmodels.artifacts import ArtifactsView, artifacts_view
from dashboard.viewmodels.chart_controls import DEFAULT_OPTIONS, ChartOptions
from dashboard.viewmodels.charts_section import ChartsView, charts_view
from dashboard.viewmodels.logs import NO_FILTER, LogFilter
from dashboard.viewmodels.logs_panel import LogsView
from dashboard.viewmodels.oncall import Markers, OnCall
from dashboard.viewmodels.summary import SummaryView, summary_view


@dataclass(frozen=True)
class JobPane:
    """Everything the job page shows, fragment by fragment."""

    summary: SummaryView
    charts: ChartsView
    logs: LogsView
    artifacts: ArtifactsView
    oncall: OnCall


def job_pane(pane: Pane, base: str, now: datetime, options: ChartOptions = DEFAULT_OPTIONS,
             log_filter: LogFilter = NO_FILTER, chart_notes: tuple[str, ...] = (),
             log_notes: tuple[str, ...] = ()) -> JobPane:
    """The whole job page, with the chart options and the logs filter of its URL."""
    job = pane.job
    logs = logs_panel.opening(job, base, pane.items, log_filter, log_notes, options.params())
    markers = Markers(job)
    newest = parse_logs(pane.items, len(pane.items) - logs_panel.LOG_WINDOW)
    oncall = OnCall(job, pane.items, newest, frozenset(row.index for row in logs.rows), pane.artifacts,
                    now, markers)
    return JobPane(summary_view(job, base, now, oncall),
                   charts_view(job, base, options, chart_notes, markers, log_filter.params()),
                   logs, artifacts_view(job, base, pane.artifacts), oncall)

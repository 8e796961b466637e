"""The job page: the composition of the models its fragments are built from."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from dashboard.models import Job, Pane
from dashboard.viewmodels import logs as logs_panel
from dashboard.viewmodels.artifacts import ArtifactsView, artifacts_view
from dashboard.viewmodels.chart_controls import DEFAULT_OPTIONS, ChartOptions
from dashboard.viewmodels.charts_section import ChartsView, Compared, charts_view, needs_plotly
from dashboard.viewmodels.compare import CompareView, Run
from dashboard.viewmodels.logs import NO_FILTER, LogFilter, LogsView
from dashboard.viewmodels.oncall import Markers, OnCallView, oncall_view
from dashboard.viewmodels.publish import PublishView, publish_view
from dashboard.viewmodels.summary import SummaryView, summary_view


@dataclass(frozen=True)
class PageLinks:
    """Where a job page is: its URL, its absolute URL (for the incident summary) and its job id,
    all from the request's URL, never from a payload."""

    base: str
    absolute: str
    job_id: str


@dataclass(frozen=True)
class PageHead:
    """What the page's head needs, known before the pane is built: its title and whether it
    loads plotly.js."""

    title: str
    needs_plotly: bool


def page_head(job: Job, comparing: bool = False) -> PageHead:
    """The head of a job's page."""
    return PageHead(job.title, needs_plotly(job) or comparing)


@dataclass(frozen=True)
class Comparison:
    """The jobs a pane is compared with (`?compare=`): the strip, their scalars for the tile
    deltas, and what the charts draw of them."""

    strip: CompareView
    runs: tuple[Run, ...]
    charts: tuple[Compared, ...]
    own: str  # this job's name in the charts' legends

    @property
    def params(self) -> list[tuple[str, str]]:
        """`compare=…` as a query parameter, for the forms that keep the page's state."""
        return [("compare", ",".join(self.strip.ids))] if self.strip.ids else []


@dataclass(frozen=True)
class JobPane:
    """Everything the job page shows, fragment by fragment."""

    summary: SummaryView
    charts: ChartsView
    logs: LogsView
    artifacts: ArtifactsView
    oncall: OnCallView
    publish: PublishView | None


def summary_part(pane: Pane, links: PageLinks, now: datetime, on_page: Container[int] | None = None,
                 markers: Markers | None = None, comparison: Comparison | None = None) -> SummaryView:
    """The top of the pane with its on-call card, for the page and for its polled fragment
    (`on_page`: the log entries the page shows, by default those it opens with; `markers`: the
    page's series reader, shared with the charts; `comparison`: the strip and the tile deltas)."""
    on_page = logs_panel.opening_positions(pane.items) if on_page is None else on_page
    oncall = oncall_view(pane.job, pane.items, on_page, pane.artifacts, now, markers or Markers(pane.job),
                         links.absolute)
    if comparison is None:
        return summary_view(pane.job, links.base, now, oncall)
    return summary_view(pane.job, links.base, now, oncall, comparison.strip, comparison.runs)


def job_pane(pane: Pane, links: PageLinks, now: datetime, options: ChartOptions = DEFAULT_OPTIONS,
             log_filter: LogFilter = NO_FILTER, chart_notes: tuple[str, ...] = (),
             log_notes: tuple[str, ...] = (), checkpoint: str | None = None,
             comparison: Comparison | None = None) -> JobPane:
    """The whole job page, with the chart options, the logs filter, the publish helper's
    checkpoint (`?checkpoint=`) and the comparison (`?compare=`) of its URL."""
    job, base = pane.job, links.base
    kept = comparison.params if comparison else []
    logs = logs_panel.opening(job, base, pane.items, log_filter, log_notes, options.params() + kept)
    markers = Markers(job)
    summary = summary_part(pane, links, now, frozenset(row.index for row in logs.rows), markers, comparison)
    charts = charts_view(job, base, options, chart_notes, markers, log_filter.params(),
                         comparison.charts if comparison else (), comparison.own if comparison else "")
    return JobPane(summary, charts,
                   logs, artifacts_view(job, base, pane.artifacts), summary.oncall,
                   publish_view(job, links.job_id, pane.artifacts, checkpoint, base))

"""The charts section: chart controls, every chart with its figure, and one chart zoomed, all
built on one path (the plan, the anomaly markers and the x-axis the page uses)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dashboard.models import Job
from dashboard.viewmodels import charts, figures
from dashboard.viewmodels.chart_controls import (
    DEFAULT_OPTIONS,
    ChartOptions,
    XAxis,
    XChoice,
    settle,
    x_choices,
)
from dashboard.viewmodels.oncall import Markers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChartCard:
    """One chart and its figure (None for an empty chart)."""

    chart: charts.Chart
    rendered: figures.Rendered | None


@dataclass(frozen=True)
class ChartsView:
    """The chart controls and the charts; `cards` are built one by one as the (streamed)
    template reads them, so drawing starts with the first."""

    page_url: str
    poll_url: str
    csv_url: str
    terminal: bool
    needs_plotly: bool  # a finished job with no series draws nothing
    options: ChartOptions  # as this job can honour them
    x_choices: tuple[XChoice, ...]
    x_reasons: tuple[XChoice, ...]  # the choices this job cannot offer, each with its reason
    notes: tuple[str, ...]  # each option that was ignored, and why
    log_params: tuple[tuple[str, str], ...]  # the logs filter, kept by the controls form
    cards: Iterator[ChartCard]


def charts_view(job: Job, base: str, options: ChartOptions = DEFAULT_OPTIONS, notes: Sequence[str] = (),
                markers: Markers | None = None, log_params: Sequence[tuple[str, str]] = ()) -> ChartsView:
    """The charts section of a job, drawn with the chart options (`markers`, shared with the
    triage, mark the job's anomalies on every chart and read each series once)."""
    options, x_axis, more = settle(job.metrics, options)
    choices = tuple(x_choices(job.metrics))
    return ChartsView(base, f"{base}/charts", f"{base}/metrics.csv", job.terminal,
                      needs_plotly(job), options, choices, tuple(c for c in choices if c.reason),
                      (*notes, *more), tuple(log_params),
                      chart_cards(job, options, x_axis, markers or Markers(job)))


def needs_plotly(job: Job) -> bool:
    """Whether the page draws anything (a finished job with no series does not)."""
    return not job.terminal or any(k not in charts.AXIS_KEYS and charts.is_series(v)
                                   for k, v in job.metrics.items())


def chart_cards(job: Job, options: ChartOptions, x_axis: XAxis | None,
                markers: Markers) -> Iterator[ChartCard]:
    """Each chart of the job with its figure, as it is built.

    The page streams, so a chart that fails cannot become an error page: it says so instead.
    """
    x0, x1 = options.zoom or (None, None)
    for plan in charts.plan_charts(job):
        try:
            chart = built(job, plan, x_axis, markers)
            marks = markers.layout_for(chart) if chart.series else None
            yield ChartCard(chart, figures.render(chart, x0, x1, smooth=options.smooth, logy=options.logy,
                                                  marks=marks) if chart.series else None)
        except Exception:
            log.exception("chart %s of job %s failed", plan.title, job.id)
            yield ChartCard(charts.Chart(plan.testid, plan.title, (), "This chart could not be drawn; "
                                         "the error is in the dashboard's log."), None)


def built(job: Job, plan: charts.Plan, x_axis: XAxis | None, markers: Markers) -> charts.Chart:
    """The chart a plan describes, its series read through `markers`, on `x_axis` (None: as planned)."""
    chart = charts.chart_for(job, plan, markers.axes, markers.take)
    return x_axis.apply(chart) if x_axis is not None else chart


def zoomed(job: Job, options: ChartOptions, chart_id: str, x0: float | None, x1: float | None,
           pixels: int) -> str | None:
    """One chart's traces and badge over [x0, x1] at full resolution within the point budget
    (JSON for js/zoom.js), or None when the job has no such chart with data. Only that chart's
    series are read: a 1M-step job has eight, each a real cost."""
    plan = next((p for p in charts.plan_charts(job) if f"{p.testid}:{p.title}" == chart_id), None)
    if plan is None:
        return None
    options, x_axis, _ = settle(job.metrics, options)
    chart = built(job, plan, x_axis, Markers(job))
    if not chart.series:
        return None
    return figures.zoom_json(chart, x0, x1, budget=2 * pixels, smooth=options.smooth, logy=options.logy)


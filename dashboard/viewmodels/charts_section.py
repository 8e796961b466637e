"""The charts section: chart controls, every chart with its figure, and one chart zoomed, all
built on one path (the plan, the anomaly markers and the x-axis the page uses)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

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
from dashboard.viewmodels.compare import compare_query
from dashboard.viewmodels.oncall import Markers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChartCard:
    """One chart and its figure (None for an empty chart)."""

    chart: charts.Chart
    rendered: figures.Rendered | None
    kept: tuple[str, ...] = ()  # compared jobs not read on this poll: the browser keeps their traces


@dataclass(frozen=True)
class Compared:
    """A compared job, as the charts draw it (`?compare=`)."""

    id: str
    label: str  # its name in the legend: 'name (1a2b3c4d, completed)'
    color: str
    job: Job | None  # None: not read on this poll (it had finished; the browser keeps its traces)

    @property
    def live(self) -> bool:
        """Whether it may still change (then every poll reads it again)."""
        return self.job is not None and not self.job.terminal


@dataclass
class OtherCharts:
    """A compared job's charts by id, and the x axis the options put them on (found once)."""

    compared: Compared
    options: ChartOptions
    plans: dict[str, charts.Plan] = field(default_factory=dict)
    x_axis: XAxis | None = None
    axes: dict[str, np.ndarray | None] = field(default_factory=dict)  # its step axes, read once

    def __post_init__(self) -> None:
        job = self.compared.job
        if job is not None:
            self.plans = {f"{p.testid}:{p.title}": p for p in charts.plan_charts(job)}
            self.x_axis = settle(job.metrics, self.options)[1]

    def overlay(self, chart_id: str) -> figures.Overlay | None:
        """Its chart of the same kind, or None when it has none with data."""
        job, plan = self.compared.job, self.plans.get(chart_id)
        if job is None or plan is None or not plan.keys:
            return None
        chart = charts.chart_for(job, plan, self.axes)
        chart = self.x_axis.apply(chart) if self.x_axis is not None else chart
        return figures.Overlay(self.compared.id, self.compared.label, chart, self.compared.color)


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
    compare: tuple[str, ...] = ()  # the compared jobs' ids, in the URL's order
    live: tuple[str, ...] = ()  # those that may still change: a poll reads only these again

    @property
    def query(self) -> str:
        """The chart options and the comparison, for every chart request the scripts make."""
        return "&".join(q for q in (self.options.query, compare_query(self.compare)) if q)


def charts_view(job: Job, base: str, options: ChartOptions = DEFAULT_OPTIONS, notes: Sequence[str] = (),
                markers: Markers | None = None, log_params: Sequence[tuple[str, str]] = (),
                compared: Sequence[Compared] = (), own: str = "") -> ChartsView:
    """The charts section of a job, drawn with the chart options (`markers`, shared with the
    triage, mark the job's anomalies on every chart and read each series once), with each
    `compared` job's matching series drawn over it (`own` names this job in the legend then)."""
    options, x_axis, more = settle(job.metrics, options)
    choices = tuple(x_choices(job.metrics))
    ids = tuple(c.id for c in compared)
    csv = f"{base}/metrics.csv" + (f"?{compare_query(ids)}" if ids else "")
    return ChartsView(base, f"{base}/charts", csv, job.terminal,
                      needs_plotly(job) or bool(compared), options, choices,
                      tuple(c for c in choices if c.reason), (*notes, *more), tuple(log_params),
                      chart_cards(job, options, x_axis, markers or Markers(job), compared, own),
                      ids, tuple(c.id for c in compared if c.live))


def needs_plotly(job: Job) -> bool:
    """Whether the page draws anything (a finished job with no series does not)."""
    return not job.terminal or any(k not in charts.AXIS_KEYS and charts.is_series(v)
                                   for k, v in job.metrics.items())


def chart_cards(job: Job, options: ChartOptions, x_axis: XAxis | None, markers: Markers,
                compared: Sequence[Compared] = (), own: str = "") -> Iterator[ChartCard]:
    """Each chart of the job with its figure, as it is built.

    The page streams, so a chart that fails cannot become an error page: it says so instead.
    """
    x0, x1 = options.zoom or (None, None)
    others = [OtherCharts(c, options) for c in compared]
    kept = tuple(c.id for c in compared if c.job is None)
    for plan in charts.plan_charts(job):
        try:
            chart = built(job, plan, x_axis, markers)
            overlays = [o for o in (other.overlay(chart.id) for other in others) if o is not None]
            marks = markers.layout_for(chart) if chart.series else None
            drawn = chart.series or overlays
            yield ChartCard(chart, figures.render(
                chart, x0, x1, smooth=options.smooth, logy=options.logy, marks=marks, own=own,
                others=overlays, compared=len(compared)) if drawn else None, kept)
        except Exception:
            log.exception("chart %s of job %s failed", plan.title, job.id)
            yield ChartCard(charts.Chart(plan.testid, plan.title, (), "This chart could not be drawn; "
                                         "the error is in the dashboard's log."), None)


def built(job: Job, plan: charts.Plan, x_axis: XAxis | None, markers: Markers) -> charts.Chart:
    """The chart a plan describes, its series read through `markers`, on `x_axis` (None: as planned)."""
    chart = charts.chart_for(job, plan, markers.axes, markers.take)
    return x_axis.apply(chart) if x_axis is not None else chart


def zoomed(job: Job, options: ChartOptions, chart_id: str, x0: float | None, x1: float | None,
           pixels: int, compared: Sequence[Compared] = (), own: str = "") -> str | None:
    """One chart's traces and badges over [x0, x1] at full resolution within the point budget
    (JSON for js/zoom.js), every compared job's too, or None when no job has such a chart with
    data. Only that chart's series are read: a 1M-step job has eight, each a real cost."""
    plan = next((p for p in charts.plan_charts(job) if f"{p.testid}:{p.title}" == chart_id), None)
    if plan is None:
        return None
    options, x_axis, _ = settle(job.metrics, options)
    chart = built(job, plan, x_axis, Markers(job))
    others = [OtherCharts(c, options).overlay(chart_id) for c in compared]
    overlays = [o for o in others if o is not None]
    if not chart.series and not overlays:
        return None
    return figures.zoom_json(chart, x0, x1, budget=2 * pixels, smooth=options.smooth, logy=options.logy,
                             own=own, others=overlays, compared=len(compared))


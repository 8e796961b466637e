"""The on-call parts of the job page, built in one go for the page and for its polled summary:
the triage card (failed, cancelled, stalled or anomalous jobs), the "ready to ship?" checklist
(completed jobs) and the anomalies marked on the charts.

A part that fails is logged and left out (`failed`): the page must never become an error page
because of the triage. `Markers` reads each series once for the whole page: the triage reads a
series first, and the chart that draws it takes it over (so it is not kept any longer than that).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from dashboard.analysis import progress
from dashboard.analysis.anomalies import Anomalies, Anomaly, find_anomalies
from dashboard.analysis.progress import stall
from dashboard.analysis.series import Series, series
from dashboard.columns import derived
from dashboard.models import Job, parse_logs
from dashboard.viewmodels import triage_card as triage
from dashboard.viewmodels.charts import Chart, Plan, plan_charts
from dashboard.viewmodels.checklist import Checklist, checklist
from dashboard.viewmodels.logs import LOG_WINDOW
from dashboard.viewmodels.triage_card import Card, Evidence, Marked

MARKER_COLORS = {"nan": "#dc2626", "spike": "#d97706", "divergence": "#a855f7"}
log = logging.getLogger(__name__)
T = TypeVar("T")


class Markers:
    """A job's anomalies and the marker layout they add to each chart, found when first asked."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.axes: dict[str, np.ndarray | None] = {}  # shared with the charts
        self.read_series: dict[str, Series] = {}  # read for the triage, until the charts take them

    def read(self, key: str) -> Series:
        """A series of the job, read once however many parts of the page look at it."""
        if key not in self.read_series:
            self.read_series[key] = series(self.job.metrics, key, self.axes)
        return self.read_series[key]

    def take(self, key: str) -> Series:
        """A series for its chart, the last to need it (so it is not kept any longer)."""
        found = self.read_series.pop(key, None)
        return found if found is not None else series(self.job.metrics, key, self.axes)

    @cached_property
    def plans(self) -> tuple[Plan, ...]:
        """The job's charts as planned (none for a job too broken to plan charts for)."""
        try:
            return tuple(plan_charts(self.job))
        except Exception:
            log.exception("chart plans of job %s failed", self.job.id)
            return ()

    @cached_property
    def keys(self) -> dict[str, str]:
        """The first key each chart draws, by its test id (`chart-loss`, `chart-val-loss`, ...)."""
        return {p.testid: p.keys[0] for p in self.plans if p.keys}

    @cached_property
    def anomalies(self) -> Anomalies:
        """The anomalies of the job's full series."""
        try:
            charted = [key for p in self.plans for key in p.keys]
            return find_anomalies(self.job.metrics, self.read, charted, self.keys.get("chart-loss"),
                                  self.keys.get("chart-val-loss"))
        except Exception:
            log.exception("anomalies of job %s failed", self.job.id)
            return Anomalies()

    def layout_for(self, chart: Chart) -> dict[str, list[dict[str, Any]]]:
        """Plotly layout shapes and annotations marking the anomalies on this chart's x axis."""
        if not chart.series:
            return {}
        try:
            axis = chart.series[0].x_label
            found = [a for a in self.anomalies.found if a.axis == axis]
            spans = [derived((s.x,), "span", lambda s=s: (np.nanmin(s.x), np.nanmax(s.x)))
                     for s in chart.series if len(s.x)]
            middle = float(min(a for a, _ in spans) + max(b for _, b in spans)) / 2 if spans else 0.0
            return marker_layout(found, middle) if found else {}
        except Exception:  # the page streams: a chart without its markers is still a chart
            log.exception("markers of job %s failed", self.job.id)
            return {}


def marker_layout(found: Sequence[Anomaly], middle: float) -> dict[str, list[dict[str, Any]]]:
    """A dotted vertical line and a small clickable label per anomaly: at the bottom of the plot
    (the mode bar covers its top right), stacked, on the side of the line facing the axis' middle."""
    shapes, notes = [], []
    for i, anomaly in enumerate(found):
        color = MARKER_COLORS.get(anomaly.kind, "#dc2626")
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": anomaly.x, "x1": anomaly.x,
                       "y0": 0, "y1": 1, "line": {"color": color, "width": 1.5, "dash": "dot"}})
        notes.append({"x": anomaly.x, "xref": "x", "y": 0.03 + 0.13 * i, "yref": "paper",
                      "yanchor": "bottom", "xanchor": "right" if anomaly.x > middle else "left",
                      "text": anomaly.label, "showarrow": False, "font": {"size": 12, "color": color},
                      "bordercolor": color, "borderpad": 2, "captureevents": True,
                      "hovertext": f"{anomaly.label} at {anomaly.where}: click to see the logs"})
    return {"shapes": shapes, "annotations": notes}


@dataclass(frozen=True)
class OnCallView:
    """The on-call parts of one job page (each None when the job needs none)."""

    card: Card | None
    checklist: Checklist | None
    marked: tuple[Marked, ...]  # the anomalies marked on the charts, each with its log entry
    failed: bool  # a part could not be computed (the page says so; the log has the error)
    holds_error: bool  # the card shows the job's error, so the summary's callout is left out


def oncall_view(job: Job, items: Sequence[Any], on_page: Container[int], artifacts: dict[str, Any],
                now: datetime, markers: Markers, link: str) -> OnCallView:
    """The on-call parts of a job page: `items` are every raw log entry, `on_page` those the logs
    panel shows, `markers` the page's series reader, `link` the page's URL (for the summary)."""
    failures: list[str] = []

    def part(name: str, build: Callable[[], T], fallback: T) -> T:
        try:
            return build()
        except Exception:
            log.exception("on-call %s of job %s failed", name, job.id)
            failures.append(name)
            return fallback

    entries = parse_logs(items, max(0, len(items) - LOG_WINDOW))  # the newest: its last signs of life
    found, ended = markers.anomalies, triage.ended_at(job, entries)
    shown = part("marked", lambda: triage.marked(job, items, found, ended, on_page), ())
    halted = part("stall", lambda: stall(job, entries, now), None)
    reason = triage.triage_reason(job, halted, found)
    if reason is None and job.status != "completed":  # nothing to show but the markers
        return OnCallView(None, None, shown, bool(failures), False)
    seen = part("checkpoints", lambda: Evidence(items, entries, on_page, found, shown, halted,
                                                progress.checkpoint_list(artifacts or job.artifacts)), None)
    card = checks = None
    if seen and reason is not None:
        card = part("card", lambda: triage.triage_card(job, reason, seen, now), None)
    if card:
        text = part("incident", lambda: triage.incident_markdown(job, card, link), "")
        card = dataclasses.replace(card, incident=text)
    if seen and job.status == "completed":
        checks = part("checklist", lambda: checklist(job, seen, markers.keys, markers.read), None)
    return OnCallView(card, checks, shown, bool(failures), bool(job.terminal and job.error and card))

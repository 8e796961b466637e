"""A job's anomalies and the markers they add to its charts.

`Markers` reads each series once for the whole page: the triage reads a series first, and the
chart that draws it takes it over (so it is not kept any longer than that).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from dashboard.analysis.anomalies import Anomalies, Anomaly, find_anomalies
from dashboard.analysis.series import Series, series
from dashboard.models import Job
from dashboard.viewmodels.charts import Chart, Plan, plan_charts

MARKER_COLORS = {"nan": "#dc2626", "spike": "#d97706", "divergence": "#a855f7"}
log = logging.getLogger(__name__)


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
            xs = np.concatenate([s.x for s in chart.series])
            middle = float(np.nanmin(xs) + np.nanmax(xs)) / 2 if len(xs) else 0.0
            return marker_layout(found, middle) if found else {}
        except Exception:  # the page streams: a chart without its markers is still a chart
            log.exception("markers of job %s failed", self.job.id)
            return {}


def marker_layout(found: Sequence[Anomaly], middle: float) -> dict[str, list[dict[str, Any]]]:
    """A dotted vertical line and a small clickable label per anomaly.

    Labels sit at the bottom of the plot (the mode bar covers its top right), stacked so close
    anomalies stay readable, on the side of the line that faces the middle of the x axis.
    """
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

"""Plotly figures for chart specs: downsampled honestly, sent as typed arrays.

Every trace keeps, per bucket of about half a pixel, the minimum and the maximum (so no spike
is lost), its first and last points and its gaps; NaN/Inf values get their own markers. A
zoomed view asks again for its x range and gets it at full resolution within the same budget.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from dashboard.analysis.series import Series, is_sorted
from dashboard.columns import derived
from dashboard.viewmodels.charts import Chart
from dashboard.viewmodels.downsample import DEFAULT_POINTS, MAX_POINTS, minmax_indices, window
from dashboard.viewmodels.smoothing import ema

# Trace colours at least 3:1 against both the light (#fff) and the dark (#1a1e24) chart card.
COLORS = ("#4f7cff", "#d97706", "#059669", "#a855f7", "#0891b2", "#db2777")
BAD_COLOR = "#dc2626"
DASHES = ("solid", "dot", "dash", "dashdot")  # a compared job's series: its colour, one dash each
# A chart of evaluations draws a marker on every point (a lone eval between gaps is visible only
# so); each is an SVG element plotly.js builds one by one (~0.25 ms each): about a marker per
# 1.5 pixels of the widest chart, min and max kept, is as much as an eye tells apart.
MARKER_POINTS = 500
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


Trace = dict[str, Any]


def scatter(**fields: Any) -> Trace:
    """One scatter trace as plotly.js reads it."""
    return {"type": "scatter", **fields}


def typed(value: Any) -> Any:
    """A figure with its numpy arrays as plotly.js typed arrays (base64, as plotly.py sends them)."""
    if isinstance(value, np.ndarray):
        little = value.astype(value.dtype.newbyteorder("<"), copy=False)
        return {"dtype": little.dtype.str[1:], "bdata": base64.b64encode(little.tobytes()).decode()}
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [typed(v) for v in value]
    return value


def figure_json(data: list[Trace], layout: dict[str, Any]) -> str:
    """A figure as JSON for plotly.js, built without plotly.py's validation (it cost more than
    the data itself on a 1M-step job: every key here is one plotly.js documents)."""
    return orjson.dumps({"data": typed(data), "layout": typed(layout)}).decode()


def count_text(shown: int, total: int, bad: int) -> str:
    """'2,000 of 1,000,000 points · min/max kept · 3 NaN/Inf'."""
    noun = "point" if total == 1 else "points"
    text = f"{total:,} {noun}" if shown == total else f"{shown:,} of {total:,} points · min/max kept"
    return text + (f" · {bad:,} NaN/Inf" if bad else "")


@dataclass(frozen=True)
class Drawn:
    """One job's traces of a chart, as plain data (a finished job's can be drawn again as they
    are), and what they show."""

    traces: tuple[dict[str, Any], ...]
    shown: int
    total: int
    bad: int
    series: int  # how many series they draw (a legend line each)
    x_label: str


@dataclass(frozen=True)
class Overlay:
    """Another job's chart of the same kind, drawn over this one's (`?compare=`): its series, or
    its traces drawn before (`drawn`, for a finished job)."""

    job_id: str
    label: str  # the legend's name for the job: 'name (1a2b3c4d, completed)'
    chart: Chart | None
    color: str  # the job's colour, the same on every chart and in the strip
    drawn: Drawn | None = None


@dataclass(frozen=True)
class RunCount:
    """What a chart shows of one compared job's points."""

    job_id: str
    label: str
    shown: int
    total: int
    bad: int

    @property
    def badge(self) -> str:
        """Its points, as the chart's own badge counts them."""
        return count_text(self.shown, self.total, self.bad)


@dataclass(frozen=True)
class Rendered:
    """A chart's figure and what it says about its points."""

    figure: str  # JSON for plotly.js
    shown: int  # points drawn
    total: int  # points in the data (in the visible range)
    bad: int  # NaN / Inf values in the visible range
    notes: tuple[str, ...] = ()  # what the chart controls changed ("smoothed (EMA 0.9)")
    runs: tuple[RunCount, ...] = ()  # each compared job's counts
    height: int = 240  # pixels: a comparison's legend needs more room
    theirs: tuple[Drawn, ...] = ()  # each compared job's traces, in the order of `others`

    @property
    def badge(self) -> str:
        """'2,000 of 1,000,000 points · min/max kept · 3 NaN/Inf'."""
        return count_text(self.shown, self.total, self.bad) + "".join(f" · {note}" for note in self.notes)


@dataclass(frozen=True)
class Style:
    """How one series is drawn: its colour, dash, legend name and owner (a compared job's id)."""

    color: str
    name: str
    dash: str = "solid"
    meta: str | None = None


def plotly_text(text: str) -> str:
    """A metric key as Plotly label text: Plotly renders some HTML tags and `%{...}` templates
    in names and hover templates, and a key is untrusted."""
    return html.escape(text).replace("%{", "%&#123;")


def compact_x(x: np.ndarray) -> np.ndarray:
    """Steps as int32 when they are whole numbers that fit, else float64."""
    if len(x) and np.all(np.abs(x) < 2**31) and np.all(np.mod(x, 1) == 0):
        return x.astype(np.int32)
    return x


def compact_y(y: np.ndarray) -> np.ndarray:
    """Values as float32 when nothing is lost to its range (1e-7 stays 1e-7), else float64."""
    finite = np.abs(y[np.isfinite(y)])
    nonzero = finite[finite > 0]
    if len(finite) and (finite.max() > FLOAT32_MAX or (len(nonzero) and nonzero.min() < FLOAT32_TINY)):
        return y
    return y.astype(np.float32)


def nearest_values(y: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """For each position, the nearest finite value before it, else after it, else 0."""
    finite = np.isfinite(y)
    if not finite.any():
        return np.zeros(len(positions))
    index = np.arange(len(y))
    before = np.maximum.accumulate(np.where(finite, index, -1))
    after = np.minimum.accumulate(np.where(finite, index, len(y))[::-1])[::-1]
    chosen = np.where(before[positions] >= 0, before[positions], after[positions])
    return y[np.minimum(chosen, len(y) - 1)]


def series_traces(
    item: Series, style: Style, markers: bool, x0: float | None, x1: float | None, budget: int,
    smoothed: np.ndarray | None = None,
) -> tuple[list[Trace], int, int, int]:
    """The traces of one series in [x0, x1], and its (shown, total, bad) counts.

    With `smoothed` (the whole series smoothed), the line draws it over the raw values, faint.
    """
    part = window(item.x, x0, x1) if is_sorted(item.x) else slice(0, len(item.x))
    x, y = item.x[part], item.y[part]
    keep = minmax_indices(y, min(budget, MARKER_POINTS) if markers else budget)
    xs, ys = x[keep], y[keep]
    shown, total = int(np.isfinite(ys).sum()), int(np.isfinite(y).sum())
    dots = markers or shown <= 60
    color, label = style.color, style.name
    owner = {} if style.meta is None else {"meta": style.meta, "legendgroup": style.meta}
    traces = [] if smoothed is None else [scatter(
        x=compact_x(xs), y=compact_y(ys), name=f"{label} (raw)", mode="lines+markers" if dots else "lines",
        line={"color": color, "width": 1, "dash": style.dash}, marker={"size": 4, "color": color},
        opacity=0.3, connectgaps=False, showlegend=False, hoverinfo="skip", **owner,
    )]
    if smoothed is not None:
        ys = smoothed[part][keep]
    traces += [scatter(
        x=compact_x(xs), y=compact_y(ys), name=label, mode="lines+markers" if dots else "lines",
        line={"color": color, "width": 1.6, "dash": style.dash}, marker={"size": 6, "color": color},
        connectgaps=False, hovertemplate="%{y:.6g}<extra>" + label + "</extra>", **owner,
    )]
    bad = item.bad[(item.bad >= part.start) & (item.bad < part.stop)] - part.start
    if len(bad):
        drawn = bad if len(bad) <= budget else bad[np.linspace(0, len(bad) - 1, budget).astype(int)]
        traces.append(scatter(
            x=compact_x(x[drawn]), y=compact_y(nearest_values(y, drawn)),
            name=f"NaN/Inf in {label}", mode="markers",
            marker={"symbol": "x", "size": 10, "color": BAD_COLOR},
            hovertemplate="NaN/Inf at %{x}<extra>" + label + "</extra>",
            **({"showlegend": False} if owner else {}), **owner,
        ))
    return traces, shown, total, len(bad)


def flat_range(traces: Sequence[Trace]) -> dict[str, list[float]]:
    """A y range around a constant series (Plotly would draw a 1e-4 line at 0 on [-1, 1]); the
    drawn points hold every bucket's min and max, so they span what the series span."""
    values = np.concatenate([t["y"] for t in traces] or [np.zeros(0)]).astype(np.float64)
    values = values[np.isfinite(values)]
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 0.0)
    return {"range": sorted([low * 0.5, low * 1.5])} if low == high != 0 else {}


def drawn(item: Series, style: Style, markers: bool, x0: float | None, x1: float | None, budget: int,
          smooth: float) -> tuple[list[Trace], int, int, int]:
    """`series_traces` with the smoothing done, remembered for a cached job's series."""
    def compute() -> tuple[list[Trace], int, int, int]:
        smoothed = ema(item.y, smooth) if smooth else None
        return series_traces(item, style, markers, x0, x1, budget, smoothed)

    if x0 is not None or x1 is not None or smooth:
        return compute()  # a zoom or a smoothing is one viewer's: not worth remembering
    return derived((item.x, item.y), ("traces", item.key, style, markers, budget), compute)


def job_traces(chart: Chart, style: tuple[str | None, str, str], compared: int, x0: float | None,
               x1: float | None, budget: int, smooth: float, markers: bool) -> Drawn:
    """One job's traces of a chart (`style`: its owner, legend name and colour)."""
    owner, label, color = style
    traces: list[dict[str, Any]] = []
    shown = total = bad = 0
    for i, item in enumerate(chart.series):
        more, s, t, b = drawn(item, style_of(item, i, color, label, owner, compared > 0),
                              markers, x0, x1, budget, smooth)
        traces += more
        shown, total, bad = shown + s, total + t, bad + b
    return Drawn(tuple(traces), shown, total, bad, len(chart.series),
                 chart.series[0].x_label if chart.series else "")


def render(chart: Chart, x0: float | None = None, x1: float | None = None,
           budget: int = DEFAULT_POINTS, *, smooth: float = 0.0, logy: bool = False,
           marks: dict[str, list[dict[str, object]]] | None = None, own: str = "",
           others: Sequence[Overlay] = (), compared: int = 0) -> Rendered:
    """The figure of a chart over [x0, x1] (all of it by default), about `budget` points a trace.

    Each bucket keeps its min and max; one holding a gap keeps a third point to break the line.
    `smooth` draws each series' EMA (computed on the whole series) over its faint raw line;
    `logy` makes the y-axis logarithmic. With both x0 and x1 the figure opens on that range.
    `marks` adds layout shapes and annotations (the triage's anomaly markers). `others` are
    compared jobs' charts, drawn the same way in their own colours (`own` names this job then);
    `compared` counts every compared job, those not drawn this time (a poll) too.
    """
    compared = max(compared, len(others))
    budget = max(100, min(budget, MAX_POINTS))
    mine = job_traces(chart, (None, own, COLORS[0]), compared, x0, x1, budget, smooth, chart.markers)
    theirs = [o.drawn or job_traces(o.chart or Chart("", "", ()), (o.job_id, o.label, o.color), compared,
                                    x0, x1, budget, smooth, chart.markers) for o in others]
    traces = [t for d in (mine, *theirs) for t in d.traces]
    x_label = next((d.x_label for d in (mine, *theirs) if d.x_label), "")
    zoomed = {"range": [x0, x1], "autorange": False} if x0 is not None and x1 is not None else {}
    y_axis = {"type": "log"} if logy else flat_range(traces)
    entries = sum(t.get("showlegend") is not False for t in traces)
    widest = max([d.series for d in (mine, *theirs)] + [1])
    below = 22 * (1 + compared) * widest if compared else 0  # a legend line per job and series
    figure = figure_json(traces, {
        "uirevision": "keep", "height": 240 + below, "margin": {"l": 56, "r": 12, "t": 8, "b": 40 + below},
        "showlegend": entries > 1 or compared > 0,
        "legend": {"orientation": "h", "y": -0.3} if not compared else {
            "orientation": "h", "yanchor": "top", "y": -60 / 192, "font": {"size": 12}},
        "xaxis": {"title": {"text": x_label}, **zoomed}, "yaxis": {"exponentformat": "e", **y_axis},
        "hovermode": "x unified", "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        **(marks or {}),
    })
    runs = tuple(RunCount(o.job_id, o.label, d.shown, d.total, d.bad)
                 for o, d in zip(others, theirs, strict=True))
    return Rendered(figure, mine.shown, mine.total, mine.bad, control_notes(chart, smooth, logy), runs,
                    240 + below, tuple(theirs))


def style_of(item: Series, i: int, color: str, label: str, owner: str | None, comparing: bool) -> Style:
    """A series' style: alone, a colour per series; compared, a colour per job and a dash per series."""
    if not comparing:
        return Style(COLORS[i % len(COLORS)], plotly_text(item.key))
    return Style(color, plotly_text(f"{label} · {item.key}"), DASHES[i % len(DASHES)], owner or "")


def control_notes(chart: Chart, smooth: float, logy: bool) -> tuple[str, ...]:
    """What the chart controls changed, for the badge."""
    notes = [f"smoothed (EMA {smooth:g}), raw values faint"] if smooth else []
    if logy:
        below = sum(int((s.y <= 0).sum()) for s in chart.series)
        notes.append(f"log y: {below:,} values ≤ 0 cannot be drawn" if below else "log y")
    return tuple(notes)


def zoom_json(chart: Chart, x0: float | None, x1: float | None, budget: int, *,
              smooth: float = 0.0, logy: bool = False, own: str = "", others: Sequence[Overlay] = (),
              compared: int = 0) -> str:
    """The traces and badges of a chart over a zoomed x range, for js/zoom.js."""
    rendered = render(chart, x0, x1, budget, smooth=smooth, logy=logy, own=own, others=others,
                      compared=compared)
    runs = {"runs": {run.job_id: run.badge for run in rendered.runs}} if compared or others else {}
    data = orjson.loads(rendered.figure)["data"]
    return orjson.dumps({"data": data, "badge": rendered.badge, **runs}).decode()

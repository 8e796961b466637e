"""Plotly figures for chart specs (built in Python, drawn by the app's own plotly.js)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.views.charts import Chart, Series

COLORS = ("#4f7cff", "#f59e0b", "#10b981", "#e879f9", "#22d3ee", "#f87171")
BAD_COLOR = "#dc2626"


def bad_marker_y(values: list[float | None], position: int) -> float:
    """Where to put a NaN/Inf marker: at the nearest finite value before it, else after it."""
    for value in reversed(values[:position]):
        if value is not None:
            return value
    for value in values[position + 1 :]:
        if value is not None:
            return value
    return 0.0


def traces(item: Series, color: str, markers: bool) -> list[go.Scatter]:
    """The line of one series, plus a marker trace for its NaN/Inf values."""
    lone = markers or sum(v is not None for v in item.y) <= 60
    out = [
        go.Scatter(
            x=item.x, y=item.y, name=item.key, mode="lines+markers" if lone else "lines",
            line={"color": color, "width": 1.6}, marker={"size": 6, "color": color},
            connectgaps=markers, hovertemplate="%{y:.6g}<extra>" + item.key + "</extra>",
        )
    ]
    if item.bad:
        out.append(
            go.Scatter(
                x=[item.x[i] for i in item.bad],
                y=[bad_marker_y(item.y, i) for i in item.bad],
                name=f"NaN/Inf in {item.key}", mode="markers",
                marker={"symbol": "x", "size": 10, "color": BAD_COLOR},
                hovertemplate="NaN/Inf at %{x}<extra>" + item.key + "</extra>",
            )
        )
    return out


def figure(chart: Chart) -> go.Figure:
    """A Plotly figure for a chart whose zoom survives later data updates."""
    fig = go.Figure()
    for i, item in enumerate(chart.series):
        for trace in traces(item, COLORS[i % len(COLORS)], chart.markers):
            fig.add_trace(trace)
    x_label = chart.series[0].x_label if chart.series else ""
    fig.update_layout(
        uirevision="keep", height=240, margin={"l": 56, "r": 12, "t": 8, "b": 40},
        showlegend=len(fig.data) > 1, legend={"orientation": "h", "y": -0.3},
        xaxis={"title": {"text": x_label}}, yaxis={"exponentformat": "e"},
        hovermode="x unified", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        template="none",
    )
    return fig


def figure_json(chart: Chart) -> str:
    """The figure as JSON for plotly.js."""
    return figure(chart).to_json()

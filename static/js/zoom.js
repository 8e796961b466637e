// Zoom: the charts share their x-axis, so a zoom on one zooms them all and goes into the URL as
// ?zoom=<x0>:<x1> (a pasted link opens the same range); the server then sends the visible range
// again at full resolution. A reset (double-click) removes it.
import { setParams } from "./core.js";

export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

export function zoomedRange(plot) {
  const axis = plot.layout?.xaxis;
  return axis?.autorange === false && axis.range ? axis.range.slice() : null;
}

// Plotly reports the changes made here (plotly_relayout) as it reports the user's: ignore them.
export function quietly(plot, update) {
  plot._dnUpdating = true;
  return update().finally(() => { plot._dnUpdating = false; });
}

export function onRelayout(plot, change) {
  if (plot._dnUpdating) return;
  if (!(change["xaxis.autorange"] || change["xaxis.range[0]"] !== undefined || change["xaxis.range"])) return;
  const range = zoomedRange(plot);
  fetchRange(plot, range);
  document.querySelectorAll("#charts .plot.js-plotly-plot").forEach((other) => {
    if (other !== plot) syncRange(other, range);
  });
  setParams({ zoom: range ? zoomParam(range) : null });
  showZoom(range);
}

function syncRange(plot, range) {
  const update = range ? { "xaxis.range": range.slice(), "xaxis.autorange": false } : { "xaxis.autorange": true };
  quietly(plot, () => window.Plotly.relayout(plot, update)).then(() => fetchRange(plot, range), () => {});
}

function shortNumber(value) { return String(Number(Number(value).toPrecision(10))); }
function zoomParam(range) { return shortNumber(range[0]) + ":" + shortNumber(range[1]); }

export function showZoom(range) {
  const state = document.getElementById("zoom-state");
  if (!state) return;
  state.hidden = !range;
  state.textContent = range ? "Zoomed to " + shortNumber(range[0]) + " – " + shortNumber(range[1]) +
    " (double-click a chart to see all)" : "";
}

// The chart options the page settled on (smoothing, log-y, x-axis), for every chart request.
export function chartQuery() {
  return document.getElementById("charts")?.dataset.chartQuery || "";
}

// Compared runs (?compare=): a poll reads again only those still running (`live=`); the traces
// of the finished ones stay as drawn, since they no longer change.
export function livePart() {
  const section = document.getElementById("charts");
  if (!section?.dataset.compare) return { query: "", kept: new Set() };
  const live = (section.dataset.compareLive || "").split(",").filter(Boolean);
  const kept = new Set(section.dataset.compare.split(",").filter((id) => !live.includes(id)));
  return { query: "live=" + encodeURIComponent(live.join(",")), kept };
}

// The traces of runs not sent again, from the plot on screen.
export function keptTraces(plot, kept) {
  return kept.size ? (plot.data || []).filter((trace) => kept.has(trace.meta)) : [];
}

// Each compared run's point count beside the chart's own badge.
export function setRunBadges(chart, runs) {
  for (const [id, text] of Object.entries(runs || {})) {
    const badge = chart.querySelector(`[data-testid=chart-badge-compare][data-job="${CSS.escape(id)}"] [data-count]`);
    if (badge) badge.textContent = text;
  }
}

export async function fetchRange(plot, range, poll = false) {
  const section = document.getElementById("charts");
  const chart = plot.closest("figure.chart");
  if (!section || !chart) return;
  const live = poll ? livePart() : { query: "", kept: new Set() };
  let url = section.dataset.pollUrl + "/zoom?chart=" + encodeURIComponent(chart.dataset.chartId) +
    "&px=" + Math.max(100, Math.round(plot.clientWidth || 600)) + (chartQuery() ? "&" + chartQuery() : "") +
    (live.query ? "&" + live.query : "");
  if (range) url += "&x0=" + encodeURIComponent(range[0]) + "&x1=" + encodeURIComponent(range[1]);
  const ticket = plot._dnTicket = (plot._dnTicket || 0) + 1;
  chart.dataset.zooming = "true";
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    const result = await response.json();
    if (plot._dnTicket !== ticket) return;  // a newer zoom won
    const data = result.data.concat(keptTraces(plot, live.kept));
    await quietly(plot, () => window.Plotly.react(plot, data, plot.layout, PLOT_CONFIG));
    const badge = chart.querySelector("[data-testid=chart-badge]");
    if (badge) badge.textContent = result.badge;
    setRunBadges(chart, result.runs);
    chart.dataset.range = range ? range.join(",") : "";
    delete chart.dataset.zooming;
  } catch {
    delete chart.dataset.zooming;
  }
}

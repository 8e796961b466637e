// Charts: drawn from the server's figures (data-figure) in the page's colours, merged in place on
// each poll (so the zoom survives), redrawn under new chart options, and anomaly labels that
// follow their link to the logs.
import { backoff, fetchFragment, setParams } from "./core.js";
import {
  PLOT_CONFIG, chartQuery, fetchRange, keptTraces, livePart, onRelayout, quietly, showZoom, zoomedRange,
} from "./zoom.js";

const CHART_POLL_MS = 10000;

// ---- colours: light or dark, as the page (app.css variables) ---------------------------------
// The server's figures have transparent backgrounds and no colours for text, axes or grid:
// they are read from the page's CSS variables when a chart is drawn, and again when the
// system switches between light and dark.
// Read once per theme: reading computed styles after a chart was drawn makes the browser lay the
// whole page out again, once per chart.
let theme = null;
function themeUpdate() {
  theme ||= readTheme();
  return theme;
}

function readTheme() {
  const style = window.getComputedStyle(document.documentElement);
  const css = (name) => style.getPropertyValue(name).trim();
  const fg = css("--fg"), muted = css("--muted"), line = css("--line");
  const update = {
    "font.color": fg,
    "hoverlabel.bgcolor": css("--card"), "hoverlabel.bordercolor": line, "hoverlabel.font.color": fg,
    "modebar.bgcolor": "rgba(0,0,0,0)", "modebar.color": muted, "modebar.activecolor": css("--accent"),
  };
  ["xaxis", "yaxis"].forEach((axis) => {
    update[axis + ".color"] = muted;
    update[axis + ".gridcolor"] = line;
    update[axis + ".linecolor"] = line;
    update[axis + ".zerolinecolor"] = css("--control");
  });
  return update;
}

function themeLayout(layout) {
  const themed = structuredClone(layout || {});
  for (const [path, value] of Object.entries(themeUpdate())) {
    const keys = path.split("."), last = keys.pop();
    const node = keys.reduce((parent, key) => (parent[key] ||= {}), themed);
    node[last] = value;
  }
  return themed;
}

export function watchTheme() {
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    theme = null;
    document.querySelectorAll(".plot.js-plotly-plot").forEach((plot) => window.Plotly.relayout(plot, themeUpdate()));
  });
}

// ---- drawing ---------------------------------------------------------------------------------
function drawPlot(el) {
  const figure = JSON.parse(el.getAttribute("data-figure"));
  el.removeAttribute("data-figure");
  return window.Plotly.newPlot(el, figure.data, themeLayout(figure.layout), PLOT_CONFIG).then(() => {
    el.on("plotly_relayout", (change) => onRelayout(el, change));
    const range = zoomedRange(el), chart = el.closest("figure.chart");
    if (range && chart) chart.dataset.range = range.join(",");  // opened zoomed (?zoom=)
  });
}

function drawCharts(root) {
  if (window.Plotly) root.querySelectorAll(".plot[data-figure]").forEach(drawPlot);
}

function swapIn(old, fresh) {  // a new charts section or chart in place of the one on screen
  old.replaceWith(fresh);
  drawCharts(fresh);
}

// While the page still streams in, draw each chart as soon as it arrives.
export function drawWhileLoading() {
  drawCharts(document);
  if (document.readyState === "loading") window.requestAnimationFrame(drawWhileLoading);
}

// plotly.js loads async (it runs while the page streams in): draw and poll once it is there.
export function startCharts() {
  const start = () => { drawCharts(document); pollCharts(); };
  if (window.Plotly) { start(); return; }
  document.getElementById("plotly-js")?.addEventListener("load", start);
}

// ---- polling: a fresh charts section is merged into the one on screen --------------------------
// Plots are updated in place with Plotly.react (uirevision keeps the user's zoom); new or
// changed charts swap in. Compared runs that had finished were not sent again: their traces
// and badges stay (`kept`). Returns false when the section must be fetched whole instead.
function mergeCharts(current, fresh, kept) {
  const freshCharts = fresh.querySelectorAll("figure.chart");
  const currentCharts = current.querySelectorAll("figure.chart");
  const sameSet = freshCharts.length === currentCharts.length &&
    Array.from(freshCharts).every((f, i) => currentCharts[i].dataset.chartId === f.dataset.chartId);
  if (!sameSet && kept.size) return false;  // a new chart: it needs every run's traces
  if (!sameSet) { swapIn(current, fresh); return true; }
  freshCharts.forEach((f, i) => mergeChart(currentCharts[i], f, kept));
  if (fresh.dataset.compare) current.dataset.compareLive = fresh.dataset.compareLive || "";
  if (fresh.dataset.terminal) current.dataset.terminal = "true";
  return true;
}

function mergeChart(c, f, kept) {
  const freshPlot = f.querySelector(".plot[data-figure]");
  const plot = c.querySelector(".plot");
  if (!freshPlot || !plot || !plot.data) {
    if (!kept.size || (freshPlot && !plot)) swapIn(c, f);  // never drop the kept runs' traces
    return;
  }
  c.dataset.series = f.dataset.series;
  if (zoomedRange(plot)) { fetchRange(plot, zoomedRange(plot), true); return; }  // keep the zoom at full resolution
  const figure = JSON.parse(freshPlot.dataset.figure);
  const data = figure.data.concat(keptTraces(plot, kept));
  quietly(plot, () => window.Plotly.react(plot, data, themeLayout(figure.layout), PLOT_CONFIG));
  const badge = f.querySelector("[data-testid=chart-badge]");
  const oldBadge = c.querySelector("[data-testid=chart-badge]");
  if (badge && oldBadge) oldBadge.replaceWith(badge);
  f.querySelectorAll("[data-testid=chart-badge-compare]:not([data-kept])").forEach((run) => {
    c.querySelector(`[data-testid=chart-badge-compare][data-job="${CSS.escape(run.dataset.job)}"]`)?.replaceWith(run);
  });
}

function pollCharts() {
  const section = document.getElementById("charts");
  if (!section || section.dataset.terminal || !section.dataset.pollUrl) return;
  const later = () => setTimeout(tick, CHART_POLL_MS);
  function tick() {
    if (backoff.blocked()) { later(); return; }
    const now = document.getElementById("charts");
    if (!now || now.dataset.terminal) return;
    const asked = chartQuery(), live = livePart();
    const query = [asked, live.query].filter(Boolean).join("&");
    fetchFragment(now.dataset.pollUrl + (query ? "?" + query : ""))
      .then(({ fragment, status }) => {
        backoff.success();
        if (asked !== chartQuery()) { later(); return; }  // options changed meanwhile
        const fresh = fragment.querySelector("#charts"), current = document.getElementById("charts");
        if (fresh && current && !mergeCharts(current, fresh, live.kept)) {
          return fetchFragment(now.dataset.pollUrl + (asked ? "?" + asked : "")).then((whole) => {
            const section = whole.fragment.querySelector("#charts"), shown = document.getElementById("charts");
            if (section && shown && asked === chartQuery()) swapIn(shown, section);
            if (whole.status !== 286) later();
          });
        }
        if (status !== 286) later();
      })
      .catch((error) => { backoff.failure(error.retryAfter); later(); });
  }
  later();
}

// ---- chart controls: smoothing, log-y, x-axis (a GET form; applied here without a reload) ------
let chartsTicket = 0;
function applyChartControls(form, changed) {
  const params = new URLSearchParams();
  const smooth = form.elements.smooth.value, x = form.elements.x.value;
  if (smooth && Number(smooth) !== 0) params.set("smooth", smooth);
  if (form.elements.logy.checked) params.set("logy", "1");
  if (x && x !== "step") params.set("x", x);
  const compared = document.getElementById("charts")?.dataset.compare;
  if (compared) params.set("compare", compared);
  const changes = { smooth: params.get("smooth"), logy: params.get("logy"), x: params.get("x") };
  if (changed === "x") { changes.zoom = null; showZoom(null); }  // a range in other units
  const zoom = changed === "x" ? null : new URL(window.location.href).searchParams.get("zoom");
  if (zoom) params.set("zoom", zoom);
  const section = document.getElementById("charts");
  if (!section) return;
  const ticket = ++chartsTicket;
  section.dataset.loading = "true";
  fetchFragment(section.dataset.pollUrl + "?" + params.toString())
    .then(({ fragment }) => {
      const fresh = fragment.querySelector("#charts"), current = document.getElementById("charts");
      if (ticket !== chartsTicket || !fresh || !current) return;
      if (current.dataset.terminal) fresh.dataset.terminal = "true";
      swapIn(current, fresh);
      setParams(changes);
    })
    .catch(() => { delete section.dataset.loading; });
}

export function setupChartControls() {
  const form = document.getElementById("chart-controls");
  if (!form) return;
  form.addEventListener("submit", (evt) => { evt.preventDefault(); applyChartControls(form, null); });
  form.addEventListener("change", (evt) => applyChartControls(form, evt.target.name));
}

// ---- anomaly markers -------------------------------------------------------------------------
// The server marks each anomaly on the charts (a dotted line and a small label) and lists it as
// a plain link to the log entry of that moment (_anomalies.html, which works without JavaScript).
// Clicking a label follows the link with the same x value.
export function followMarkers() {
  document.addEventListener("click", (evt) => {
    const note = evt.target.closest?.(".annotation"), plot = note?.closest(".plot");
    if (!plot?.layout?.annotations || !plot.closest("figure.chart")) return;
    const annotation = plot.layout.annotations[Number(note.dataset.index)];
    const link = annotation && Array.from(document.querySelectorAll("[data-testid=anomaly-marker]"))
      .find((a) => Number(a.dataset.step) === Number(annotation.x));
    if (link) followLink(link);
  });
}

function followLink(link) {
  const href = link.getAttribute("href") || "";
  if (href.charAt(0) === "#" && href.length > 1) {
    const target = document.getElementById(href.slice(1));
    if (window.location.hash === href && target) target.scrollIntoView({ block: "center" });
    else window.location.hash = href;
    return;
  }
  // An entry older than the page's: show the link (to the full logs) rather than download.
  link.scrollIntoView({ block: "center" });
  link.focus();
}

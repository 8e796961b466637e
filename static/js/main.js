// The page's script (base.html loads it as an async module, so it runs while the page streams
// in): it draws each chart as it arrives, then wires up the rest once the page is parsed.
import { keepDetailsOpen, startClocks, watchConnection, watchCopyButtons } from "./core.js";
import { drawWhileLoading, followMarkers, setupChartControls, startCharts, watchTheme } from "./charts.js";
import { setupLogs, watchLogs } from "./logpanel.js";

function ready() {
  startCharts();
  document.documentElement.classList.add("dn-js");  // app.css: the selection replaces :target
  setupLogs();
  setupChartControls();
  startClocks();
}

watchConnection();
keepDetailsOpen();
watchCopyButtons();
watchTheme();
followMarkers();
watchLogs();
drawWhileLoading();
// An async module may run after the page is parsed (a slow fetch, a short page).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
else ready();

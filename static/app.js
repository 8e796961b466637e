// The dashboard's only script: charts, live logs, relative times, copy buttons, reconnecting.
// No inline scripts anywhere; everything hangs off data attributes in the server's HTML.
(function () {
  "use strict";

  var PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var CHART_POLL_MS = 10000;

  // ---- charts -------------------------------------------------------------
  function drawPlot(el) {
    var figure = JSON.parse(el.getAttribute("data-figure"));
    el.removeAttribute("data-figure");
    return window.Plotly.newPlot(el, figure.data, figure.layout, PLOT_CONFIG).then(function () {
      el.on("plotly_relayout", function (change) { onRelayout(el, change); });
    });
  }

  function drawCharts(root) {
    if (!window.Plotly) return;
    root.querySelectorAll(".plot[data-figure]").forEach(drawPlot);
  }

  // ---- zoom: the server sends the visible range again at full resolution ----
  function zoomedRange(plot) {
    var axis = plot.layout && plot.layout.xaxis;
    return axis && axis.autorange === false && axis.range ? axis.range.slice() : null;
  }

  function onRelayout(plot, change) {
    if (plot._dnUpdating) return;
    if (change["xaxis.autorange"] || change["xaxis.range[0]"] !== undefined || change["xaxis.range"]) {
      fetchRange(plot, zoomedRange(plot));
    }
  }

  function fetchRange(plot, range) {
    var section = document.getElementById("charts");
    var chart = plot.closest("figure.chart");
    if (!section || !chart) return;
    var url = section.dataset.pollUrl + "/zoom?chart=" + encodeURIComponent(chart.dataset.chartId) +
      "&px=" + Math.max(100, Math.round(plot.clientWidth || 600));
    if (range) url += "&x0=" + encodeURIComponent(range[0]) + "&x1=" + encodeURIComponent(range[1]);
    var ticket = (plot._dnTicket || 0) + 1;
    plot._dnTicket = ticket;
    chart.dataset.zooming = "true";
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (result) {
        if (plot._dnTicket !== ticket) return;  // a newer zoom won
        plot._dnUpdating = true;
        return window.Plotly.react(plot, result.data, plot.layout, PLOT_CONFIG).then(function () {
          plot._dnUpdating = false;
          var badge = chart.querySelector("[data-testid=chart-badge]");
          if (badge) badge.textContent = result.badge;
          chart.dataset.range = range ? range.join(",") : "";
          delete chart.dataset.zooming;
        });
      })
      .catch(function () { plot._dnUpdating = false; delete chart.dataset.zooming; });
  }

  // Merge a freshly rendered charts section into the one on screen: plots are updated in
  // place with Plotly.react (uirevision keeps the user's zoom); new or changed charts swap in.
  function mergeCharts(current, fresh) {
    var freshCharts = fresh.querySelectorAll("figure.chart");
    var currentCharts = current.querySelectorAll("figure.chart");
    var sameSet = freshCharts.length === currentCharts.length;
    freshCharts.forEach(function (f, i) {
      sameSet = sameSet && currentCharts[i].dataset.chartId === f.dataset.chartId;
    });
    if (!sameSet) {
      current.replaceWith(fresh);
      drawCharts(fresh);
      return fresh;
    }
    freshCharts.forEach(function (f, i) {
      var c = currentCharts[i];
      var freshPlot = f.querySelector(".plot[data-figure]");
      var currentPlot = c.querySelector(".plot");
      if (freshPlot && currentPlot && currentPlot.data && zoomedRange(currentPlot)) {
        fetchRange(currentPlot, zoomedRange(currentPlot));  // keep the zoom at full resolution
        c.dataset.series = f.dataset.series;
      } else if (freshPlot && currentPlot && currentPlot.data) {
        var figure = JSON.parse(freshPlot.getAttribute("data-figure"));
        currentPlot._dnUpdating = true;
        window.Plotly.react(currentPlot, figure.data, figure.layout, PLOT_CONFIG).then(function () {
          currentPlot._dnUpdating = false;
        });
        var badge = f.querySelector("[data-testid=chart-badge]");
        var oldBadge = c.querySelector("[data-testid=chart-badge]");
        if (badge && oldBadge) oldBadge.replaceWith(badge);
        c.dataset.series = f.dataset.series;
      } else {
        c.replaceWith(f);
        drawCharts(f);
      }
    });
    if (fresh.dataset.terminal) current.dataset.terminal = "true";
    return current;
  }

  function pollCharts() {
    var section = document.getElementById("charts");
    if (!section || section.dataset.terminal || !section.dataset.pollUrl) return;
    var url = section.dataset.pollUrl;
    function tick() {
      if (backoff.blocked()) { setTimeout(tick, CHART_POLL_MS); return; }
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok && response.status !== 286) {
            var failed = new Error("HTTP " + response.status);
            failed.retryAfter = response.headers.get("Retry-After");
            throw failed;
          }
          return response.text().then(function (html) { return { html: html, status: response.status }; });
        })
        .then(function (result) {
          backoff.success();
          var holder = document.createElement("div");
          holder.innerHTML = result.html;
          var fresh = holder.querySelector("#charts");
          var current = document.getElementById("charts");
          if (fresh && current) mergeCharts(current, fresh);
          if (result.status !== 286) setTimeout(tick, CHART_POLL_MS);
        })
        .catch(function (error) { backoff.failure(error.retryAfter); setTimeout(tick, CHART_POLL_MS); });
    }
    setTimeout(tick, CHART_POLL_MS);
  }

  // ---- reconnecting with backoff -----------------------------------------
  // After a failed poll, further polls wait 2 s, 4 s, … up to 60 s, or longer when the server
  // passed on the platform's Retry-After; what is on screen stays.
  var backoff = {
    failures: 0,
    until: 0,
    blocked: function () { return Date.now() < this.until; },
    failure: function (retryAfter) {
      // Several pollers fail together in one outage: that is one failure, not several.
      if (this.blocked()) return;
      this.failures += 1;
      var asked = Math.min(600, parseInt(retryAfter, 10) || 0) * 1000;
      this.until = Date.now() + Math.max(asked, Math.min(60000, 1000 * Math.pow(2, this.failures)));
      var el = document.getElementById("connection");
      if (el) el.hidden = false;
    },
    success: function () {
      this.failures = 0;
      this.until = 0;
      var el = document.getElementById("connection");
      if (el) el.hidden = true;
    },
  };

  document.addEventListener("htmx:confirm", function (evt) {
    if (backoff.blocked() && evt.detail.elt.hasAttribute("hx-trigger")) evt.preventDefault();
  });
  document.addEventListener("htmx:sendError", function () { backoff.failure(); });
  document.addEventListener("htmx:responseError", function (evt) {
    backoff.failure(evt.detail.xhr.getResponseHeader("Retry-After"));
  });
  document.addEventListener("htmx:afterRequest", function (evt) {
    if (evt.detail.successful) backoff.success();
  });

  // ---- details stay open across swaps --------------------------------------
  var openDetails = [];
  document.addEventListener("htmx:beforeSwap", function () {
    openDetails = Array.prototype.map.call(document.querySelectorAll("details[id][open]"), function (d) { return d.id; });
  });
  document.addEventListener("htmx:afterSettle", function () {
    openDetails.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
  });

  // ---- live logs: follow the tail unless the user scrolled up -------------
  var following = true;
  function logList() { return document.getElementById("log-list"); }
  function atBottom(list) { return list.scrollHeight - list.scrollTop - list.clientHeight < 40; }
  function scrollToLatest() {
    var list = logList();
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    following = true;
    var jump = document.getElementById("jump-latest");
    if (jump) jump.hidden = true;
  }

  function setupLogs() {
    var list = logList();
    if (!list) return;
    scrollToLatest();
    list.addEventListener("scroll", function () {
      following = atBottom(list);
      if (following) document.getElementById("jump-latest").hidden = true;
    });
    document.getElementById("jump-latest").addEventListener("click", scrollToLatest);
  }

  // The page keeps at most LOG_WINDOW entries; older ones go behind "load earlier".
  var LOG_WINDOW = 5000;
  function trimLogs(list) {
    var entries = list.querySelectorAll(".log-entry");
    var extra = entries.length - LOG_WINDOW;
    if (extra <= 0) return;
    for (var i = 0; i < extra; i++) entries[i].remove();
    var first = entries[extra].dataset.index;
    var earlier = document.getElementById("logs-earlier");
    if (!earlier) {
      var base = document.getElementById("charts").dataset.pollUrl.replace(/\/charts$/, "");
      earlier = document.createElement("li");
      earlier.id = "logs-earlier";
      earlier.className = "logs-earlier";
      var link = document.createElement("a");
      link.href = base + "/logs.jsonl";
      link.setAttribute("hx-target", "#logs-earlier");
      link.setAttribute("hx-swap", "outerHTML");
      link.dataset.testid = "logs-load-earlier";
      earlier.appendChild(link);
      list.insertBefore(earlier, list.firstChild);
    }
    var anchor = earlier.querySelector("a");
    anchor.setAttribute("hx-get", anchor.href.replace(/logs\.jsonl$/, "logs/earlier?before=" + first));
    anchor.textContent = "Load earlier entries (" + Number(first).toLocaleString("en-US") + " before these)";
    window.htmx.process(earlier);
  }

  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var list = logList();
    if (!list || evt.detail.target !== list) return;
    if (following) { trimLogs(list); scrollToLatest(); }
    else document.getElementById("jump-latest").hidden = false;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var count = document.getElementById("log-count");
    var poller = document.getElementById("logs-poller");
    if (count && poller) count.textContent = Number(poller.dataset.cursor).toLocaleString("en-US") + " entries";
    updateRelative(logList());
  });

  // ---- times -------------------------------------------------------------
  function humanDuration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    function pad(n) { return n < 10 ? "0" + n : String(n); }
    if (d) return d + "d " + pad(h) + "h " + pad(m) + "m";
    if (h) return h + "h " + pad(m) + "m " + pad(s) + "s";
    if (m) return m + "m " + pad(s) + "s";
    return s + "s";
  }

  function updateRelative(root) {
    (root || document).querySelectorAll("[data-relative]").forEach(function (el) {
      var t = Date.parse(el.dataset.relative);
      if (!isNaN(t)) el.textContent = humanDuration((Date.now() - t) / 1000) + " ago";
    });
  }

  function tickDurations() {
    document.querySelectorAll("[data-ticking-since]").forEach(function (el) {
      var t = Date.parse(el.dataset.tickingSince);
      if (!isNaN(t)) el.textContent = humanDuration((Date.now() - t) / 1000);
    });
  }

  // ---- copy buttons ------------------------------------------------------
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("button[data-copy]");
    if (!button) return;
    var text = button.dataset.copy;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
    else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  });

  // plotly.js loads async (it runs while the page streams in); draw once both are ready.
  function whenPlotly(callback) {
    if (window.Plotly) { callback(); return; }
    var script = document.getElementById("plotly-js");
    if (script) script.addEventListener("load", callback);
  }

  // While the page still streams in, draw each chart as soon as it arrives.
  function drawWhileLoading() {
    if (window.Plotly) drawCharts(document);
    if (document.readyState === "loading") window.requestAnimationFrame(drawWhileLoading);
  }
  drawWhileLoading();

  document.addEventListener("DOMContentLoaded", function () {
    whenPlotly(function () { drawCharts(document); pollCharts(); });
    setupLogs();
    updateRelative();
    tickDurations();
    setInterval(tickDurations, 1000);
    setInterval(updateRelative, 15000);
  });
})();

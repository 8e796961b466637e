// The dashboard's only script: charts, live logs, relative times, copy buttons, reconnecting.
// No inline scripts anywhere; everything hangs off data attributes in the server's HTML.
(function () {
  "use strict";

  var PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
  var CHART_POLL_MS = 10000;

  // ---- chart colours: light or dark, as the page (app.css variables) -------
  // The server's figures have transparent backgrounds and no colours for text, axes or grid:
  // they are read from the page's CSS variables when a chart is drawn, and again when the
  // system switches between light and dark.
  function themeUpdate() {
    var style = window.getComputedStyle(document.documentElement);
    function css(name) { return style.getPropertyValue(name).trim(); }
    var fg = css("--fg"), muted = css("--muted"), line = css("--line");
    var update = {
      "font.color": fg,
      "hoverlabel.bgcolor": css("--card"), "hoverlabel.bordercolor": line, "hoverlabel.font.color": fg,
      "modebar.bgcolor": "rgba(0,0,0,0)", "modebar.color": muted, "modebar.activecolor": css("--accent"),
    };
    ["xaxis", "yaxis"].forEach(function (axis) {
      update[axis + ".color"] = muted;
      update[axis + ".gridcolor"] = line;
      update[axis + ".linecolor"] = line;
      update[axis + ".zerolinecolor"] = css("--control");
    });
    return update;
  }

  function themeLayout(layout) {
    var themed = JSON.parse(JSON.stringify(layout || {}));
    var update = themeUpdate();
    Object.keys(update).forEach(function (path) {
      var keys = path.split("."), node = themed;
      for (var i = 0; i < keys.length - 1; i++) node = node[keys[i]] = node[keys[i]] || {};
      node[keys[keys.length - 1]] = update[path];
    });
    return themed;
  }

  var darkScheme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)");
  if (darkScheme && darkScheme.addEventListener) {
    darkScheme.addEventListener("change", function () {
      if (!window.Plotly) return;
      document.querySelectorAll(".plot.js-plotly-plot").forEach(function (plot) {
        window.Plotly.relayout(plot, themeUpdate());
      });
    });
  }

  // ---- charts -------------------------------------------------------------
  function drawPlot(el) {
    var figure = JSON.parse(el.getAttribute("data-figure"));
    el.removeAttribute("data-figure");
    return window.Plotly.newPlot(el, figure.data, themeLayout(figure.layout), PLOT_CONFIG).then(function () {
      el.on("plotly_relayout", function (change) { onRelayout(el, change); });
      var range = zoomedRange(el), chart = el.closest("figure.chart");
      if (range && chart) chart.dataset.range = range.join(",");  // opened zoomed (?zoom=)
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

  // The charts share their x-axis: a zoom on one zooms them all, and goes into the URL as
  // ?zoom=<x0>:<x1> (so a pasted link opens the same range); a reset removes it.
  function onRelayout(plot, change) {
    if (plot._dnUpdating) return;
    if (change["xaxis.autorange"] || change["xaxis.range[0]"] !== undefined || change["xaxis.range"]) {
      var range = zoomedRange(plot);
      fetchRange(plot, range);
      document.querySelectorAll("#charts .plot.js-plotly-plot").forEach(function (other) {
        if (other !== plot) syncRange(other, range);
      });
      setParams({ zoom: range ? zoomParam(range) : null });
      showZoom(range);
    }
  }

  function syncRange(plot, range) {
    plot._dnUpdating = true;
    var update = range ? { "xaxis.range": range.slice(), "xaxis.autorange": false } : { "xaxis.autorange": true };
    window.Plotly.relayout(plot, update).then(function () {
      plot._dnUpdating = false;
      fetchRange(plot, range);
    }, function () { plot._dnUpdating = false; });
  }

  function shortNumber(value) { return String(Number(Number(value).toPrecision(10))); }
  function zoomParam(range) { return shortNumber(range[0]) + ":" + shortNumber(range[1]); }

  function showZoom(range) {
    var state = document.getElementById("zoom-state");
    if (!state) return;
    state.hidden = !range;
    state.textContent = range ? "Zoomed to " + shortNumber(range[0]) + " – " + shortNumber(range[1]) +
      " (double-click a chart to see all)" : "";
  }

  // The chart options the page settled on (smoothing, log-y, x-axis), for every chart request.
  function chartQuery() {
    var section = document.getElementById("charts");
    return section && section.dataset.chartQuery ? section.dataset.chartQuery : "";
  }

  function fetchRange(plot, range) {
    var section = document.getElementById("charts");
    var chart = plot.closest("figure.chart");
    if (!section || !chart) return;
    var url = section.dataset.pollUrl + "/zoom?chart=" + encodeURIComponent(chart.dataset.chartId) +
      "&px=" + Math.max(100, Math.round(plot.clientWidth || 600)) + (chartQuery() ? "&" + chartQuery() : "");
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
        window.Plotly.react(currentPlot, figure.data, themeLayout(figure.layout), PLOT_CONFIG).then(function () {
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
    function tick() {
      if (backoff.blocked()) { setTimeout(tick, CHART_POLL_MS); return; }
      var now = document.getElementById("charts");
      if (!now || now.dataset.terminal) return;
      var asked = chartQuery();
      var url = now.dataset.pollUrl + (asked ? "?" + asked : "");
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
          if (asked !== chartQuery()) { setTimeout(tick, CHART_POLL_MS); return; }  // options changed meanwhile
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

  // ---- the page's URL carries the view: filters, chart options, zoom, the selected entry ----
  function setParams(changes) {
    var url = new URL(window.location.href);
    Object.keys(changes).forEach(function (name) {
      var value = changes[name];
      if (value === null || value === undefined || value === "") url.searchParams.delete(name);
      else url.searchParams.set(name, value);
    });
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }

  // ---- live logs: follow the tail unless the user scrolled up -------------
  var following = true;
  function logList() { return document.getElementById("log-list"); }
  function atBottom(list) { return list.scrollHeight - list.scrollTop - list.clientHeight < 40; }
  function setFollowing(value) {  // "Jump to latest" shows when entries arrive unfollowed (or on `f`)
    following = value;
    var list = logList();
    if (list) list.dataset.following = value ? "true" : "false";
    var jump = document.getElementById("jump-latest");
    if (jump && value) jump.hidden = true;
  }
  function scrollToLatest() {
    var list = logList();
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    setFollowing(true);
  }

  function setupLogs() {
    if (!logList()) return;
    scrollToLatest();
    // One listener for whichever list is on screen (a new filter brings a new one).
    document.addEventListener("scroll", function (evt) {
      if (evt.target === logList()) setFollowing(atBottom(evt.target));
    }, true);
    document.getElementById("jump-latest").addEventListener("click", scrollToLatest);
  }

  function logsBody() { return document.getElementById("logs-body"); }
  function filterSuffix() {
    var body = logsBody();
    return body && body.dataset.filter ? "&" + body.dataset.filter : "";
  }
  function formatCount(n) { return Number(n).toLocaleString("en-US"); }

  // The page keeps at most LOG_WINDOW entries; older ones go behind "load earlier".
  var LOG_WINDOW = 5000;
  function trimLogs(list) {
    var entries = list.querySelectorAll(".log-entry");
    var extra = entries.length - LOG_WINDOW;
    if (extra <= 0) return;
    var first = entries[extra];
    var hidden = extra;
    list.querySelectorAll(".logs-span").forEach(function (span) {  // controls above the first kept
      if (span.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) {
        hidden += Number(span.dataset.count) || 0;
        span.remove();
      }
    });
    for (var i = 0; i < extra; i++) entries[i].remove();
    var index = first.dataset.index;
    var count = filterSuffix() ? hidden : Number(index);
    var base = logsBody().dataset.logsUrl;
    var earlier = document.createElement("li");
    earlier.id = "logs-earlier";
    earlier.className = "logs-span logs-earlier";
    earlier.dataset.since = "0";
    earlier.dataset.before = index;
    earlier.dataset.count = String(count);
    var link = document.createElement("a");
    link.href = base + ".jsonl" + (filterSuffix() ? "?" + filterSuffix().slice(1) : "");
    link.setAttribute("hx-get", base + "/earlier?before=" + index + filterSuffix());
    link.setAttribute("hx-target", "closest li");
    link.setAttribute("hx-swap", "outerHTML");
    link.dataset.testid = "logs-load-earlier";
    link.textContent = "Load earlier entries (" + formatCount(count) + " before these)";
    earlier.appendChild(link);
    list.insertBefore(earlier, list.firstChild);
    window.htmx.process(earlier);
  }

  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var list = logList();
    if (!list || evt.detail.target !== list) return;
    if (following) { trimLogs(list); scrollToLatest(); }
    else document.getElementById("jump-latest").hidden = false;
  });
  function updateCount() {
    var count = document.getElementById("log-count");
    var poller = document.getElementById("logs-poller");
    if (!count || !poller) return;
    var total = formatCount(poller.dataset.cursor);
    count.textContent = count.dataset.filtered
      ? "Showing " + formatCount(poller.dataset.matched) + " of " + total + " entries" : total + " entries";
  }
  document.addEventListener("htmx:afterSettle", function () {
    updateCount();
    updateRelative(logList());
  });

  // ---- logs tools: the level filter and the search, applied by the server -------------------
  // The form works without this script (a GET of the job page); here a change swaps in the
  // logs list under the new filter and puts the filter in the page's URL.
  var filterTicket = 0;
  function applyFilter(form) {
    var level = form.elements.level.value;
    var q = form.elements.q.value.trim();
    var params = new URLSearchParams();
    if (level) params.set("level", level);
    if (q) params.set("q", q);
    var body = logsBody();
    if (!body) return;
    var ticket = ++filterTicket;
    var query = params.toString();
    body.dataset.loading = "true";
    fetch(body.dataset.logsUrl + "/panel" + (query ? "?" + query : ""),
          { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (ticket !== filterTicket) return;  // a newer filter won
        var poller = document.getElementById("logs-poller");
        if (poller) window.htmx.trigger(poller, "htmx:abort");  // its answer is for the old filter
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#logs-body");
        var current = logsBody();
        if (!fresh || !current) return;
        current.replaceWith(fresh);
        window.htmx.process(fresh);
        updateRelative(fresh);
        setParams({ level: level || null, q: q || null });
        var clear = document.getElementById("logs-clear");
        if (clear) clear.hidden = !query;
        var selected = selectedIndex();
        scrollToLatest();
        if (selected !== null && document.getElementById("log-" + selected)) goToEntry(selected);
      })
      .catch(function () { delete body.dataset.loading; });
  }

  function setupLogTools() {
    var form = document.getElementById("logs-tools");
    if (!form) return;
    var typing = null;
    form.addEventListener("submit", function (evt) { evt.preventDefault(); applyFilter(form); });
    form.elements.level.addEventListener("change", function () { applyFilter(form); });
    form.elements.q.addEventListener("input", function () {
      clearTimeout(typing);
      typing = setTimeout(function () { applyFilter(form); }, 400);
    });
    var clear = document.getElementById("logs-clear");
    if (clear) clear.addEventListener("click", function (evt) {
      evt.preventDefault();
      form.elements.level.value = "";
      form.elements.q.value = "";
      applyFilter(form);
    });
  }

  // ---- one entry selected: #log-N in the URL, highlighted, scrolled to --------------------
  var selectedNote = null;
  function entryIndex(hash) {
    var found = /^#log-(\d+)$/.exec(hash || "");
    return found ? Number(found[1]) : null;
  }
  function selectedIndex() {
    var el = document.querySelector(".log-entry.selected");
    return el ? Number(el.dataset.index) : entryIndex(window.location.hash);
  }

  function select(el) {
    document.querySelectorAll(".log-entry.selected").forEach(function (other) { other.classList.remove("selected"); });
    el.classList.add("selected");
    if (window.location.hash !== "#" + el.id) {
      window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search + "#" + el.id);
    }
    var list = logList();
    if (list) {
      el.scrollIntoView({ block: "center" });
      setFollowing(atBottom(list));  // a selected entry stays in view as new ones arrive
    }
    say("");
  }

  function say(text) {
    if (!selectedNote) {
      var body = logsBody();
      if (!text || !body) return;
      selectedNote = document.createElement("p");
      selectedNote.className = "callout callout-warning log-target-note";
      selectedNote.setAttribute("role", "status");
      selectedNote.dataset.testid = "log-target-note";
      body.parentNode.insertBefore(selectedNote, body);
    }
    selectedNote.textContent = text;
    selectedNote.hidden = !text;
  }

  // The "load" control (top of the list, or a gap) whose range holds position `index`.
  function spanHolding(index) {
    var found = null;
    document.querySelectorAll("#log-list .logs-span").forEach(function (span) {
      if (Number(span.dataset.since) <= index && index < Number(span.dataset.before)) found = span;
    });
    return found;
  }

  // Load the entries around `index` in place of the control that holds it.
  function loadAround(span, index) {
    var url = logsBody().dataset.logsUrl + "/earlier?before=" + span.dataset.before +
      "&since=" + span.dataset.since + "&around=" + index + filterSuffix();
    return fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html;
        var nodes = Array.prototype.slice.call(template.content.children);
        span.replaceWith.apply(span, nodes);
        nodes.forEach(function (node) { window.htmx.process(node); });
        updateRelative(logList());
      });
  }

  function goToEntry(index) {
    var el = document.getElementById("log-" + index);
    if (el) { select(el); return Promise.resolve(true); }
    var span = spanHolding(index);
    if (!span) { missing(index); return Promise.resolve(false); }
    return loadAround(span, index).then(function () {
      var loaded = document.getElementById("log-" + index);
      if (loaded) { select(loaded); return true; }
      missing(index);
      return false;
    }, function () { say("Entry #" + index + " could not be loaded; try again."); return false; });
  }

  function missing(index) {
    var count = document.getElementById("log-count");
    var total = count ? Number(count.dataset.total) : 0;
    var poller = document.getElementById("logs-poller");
    if (poller) total = Math.max(total, Number(poller.dataset.cursor));
    if (index >= total) say("There is no entry #" + index + ": this job has " + formatCount(total) + " entries.");
    else say("Entry #" + index + " is hidden by the current filter: clear the filters to see it.");
  }

  function goToHash() {
    var index = entryIndex(window.location.hash);
    if (index !== null) goToEntry(index);
  }

  // Clicking an entry selects it; its "link" copies the absolute URL of this view and entry.
  document.addEventListener("click", function (evt) {
    var link = evt.target.closest("a.log-link");
    var entry = evt.target.closest(".log-entry");
    if (!entry) return;
    if (link) {
      evt.preventDefault();
      select(entry);
      copyText(window.location.origin + window.location.pathname + window.location.search + "#" + entry.id,
               function () { flash(link, "copied"); });
      return;
    }
    if (evt.target.closest("a, button, summary, details, input, select")) return;
    if (String(window.getSelection ? window.getSelection() : "")) return;  // selecting text
    select(entry);
  });

  // ---- keyboard: e first error, n / p next / previous error, f follow -----------------------
  // Error positions: those the server listed (the whole log, under the filter) and those on screen.
  function errorIndexes() {
    var body = logsBody();
    var seen = {};
    var listed = body && body.dataset.errors ? body.dataset.errors.split(" ") : [];
    listed.forEach(function (i) { seen[Number(i)] = true; });
    document.querySelectorAll("#log-list .log-entry[data-level=error]").forEach(function (el) {
      seen[Number(el.dataset.index)] = true;
    });
    return Object.keys(seen).map(Number).sort(function (a, b) { return a - b; });
  }

  function noErrors() {
    say("This job has no error entries" + (filterSuffix() ? " under this filter." : "."));
  }

  function firstError() {
    var errors = errorIndexes();
    if (errors.length) goToEntry(errors[0]); else noErrors();
  }

  function stepError(forward) {  // wraps around at either end
    var errors = errorIndexes();
    if (!errors.length) { noErrors(); return; }
    var at = selectedIndex();
    var pick;
    if (at === null) pick = forward ? errors[0] : errors[errors.length - 1];
    else if (forward) pick = errors.filter(function (i) { return i > at; })[0];
    else pick = errors.filter(function (i) { return i < at; }).pop();
    if (pick === undefined) pick = forward ? errors[0] : errors[errors.length - 1];
    goToEntry(pick);
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
    if (!logList()) return;
    var actions = {
      e: firstError,
      n: function () { stepError(true); },
      p: function () { stepError(false); },
      f: function () {
        if (!following) { scrollToLatest(); return; }
        setFollowing(false);
        document.getElementById("jump-latest").hidden = false;
      },
    };
    var action = actions[evt.key];
    if (!action) return;
    evt.preventDefault();
    action();
  });

  // ---- chart controls: smoothing, log-y, x-axis (GET form; applied here without a reload) ----
  var chartsTicket = 0;
  function applyChartControls(form, changed) {
    var smooth = form.elements.smooth.value;
    var logy = form.elements.logy.checked ? "1" : "";
    var x = form.elements.x.value;
    var params = new URLSearchParams();
    if (smooth && Number(smooth) !== 0) params.set("smooth", smooth);
    if (logy) params.set("logy", logy);
    if (x && x !== "step") params.set("x", x);
    var changes = { smooth: params.get("smooth"), logy: params.get("logy"), x: params.get("x") };
    if (changed === "x") { changes.zoom = null; showZoom(null); }  // a range in other units
    var zoom = changed === "x" ? null : new URL(window.location.href).searchParams.get("zoom");
    if (zoom) params.set("zoom", zoom);
    var section = document.getElementById("charts");
    if (!section) return;
    var ticket = ++chartsTicket;
    section.dataset.loading = "true";
    fetch(section.dataset.pollUrl + "?" + params.toString(), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok && response.status !== 286) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (ticket !== chartsTicket) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#charts");
        var current = document.getElementById("charts");
        if (!fresh || !current) return;
        if (current.dataset.terminal) fresh.dataset.terminal = "true";
        current.replaceWith(fresh);
        setParams(changes);
        drawCharts(fresh);
      })
      .catch(function () { delete section.dataset.loading; });
  }

  function setupChartControls() {
    var form = document.getElementById("chart-controls");
    if (!form) return;
    form.addEventListener("submit", function (evt) { evt.preventDefault(); applyChartControls(form, null); });
    form.addEventListener("change", function (evt) { applyChartControls(form, evt.target.name); });
  }

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
  function copyText(text, done) {
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
  }

  function flash(el, text) {  // "Copied" for a moment, then the label again
    if (el._dnLabel === undefined) el._dnLabel = el.textContent;
    el.textContent = text;
    clearTimeout(el._dnFlash);
    el._dnFlash = setTimeout(function () { el.textContent = el._dnLabel; delete el._dnLabel; }, 1200);
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("button[data-copy]");
    if (!button) return;
    copyText(button.dataset.copy, function () { flash(button, "Copied"); });
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
    document.documentElement.classList.add("dn-js");  // app.css: the selection replaces :target
    setupLogs();
    setupLogTools();
    setupChartControls();
    var help = document.getElementById("shortcuts-help");
    if (help) help.hidden = false;
    goToHash();
    window.addEventListener("hashchange", goToHash);
    updateRelative();
    tickDurations();
    setInterval(tickDurations, 1000);
    setInterval(updateRelative, 15000);
  });
})();

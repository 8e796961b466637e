// Anomaly markers on the charts: clicking one scrolls the logs to that moment.
// The server marks each anomaly on the charts (a dotted line and a small label, drawn by app.js
// from the figure) and lists it as a plain link to the log entry of that moment (templates/
// _anomalies.html, which works without JavaScript). This file only matches a clicked label to
// its link, by the anomaly's x value, and follows it.
(function () {
  "use strict";

  function follow(link) {
    var href = link.getAttribute("href") || "";
    if (href.charAt(0) === "#" && href.length > 1) {
      var target = document.getElementById(href.slice(1));
      if (window.location.hash === href && target) target.scrollIntoView({ block: "center" });
      else window.location.hash = href;
      return;
    }
    // An entry older than the page's: show the link (to the full logs) rather than download.
    link.scrollIntoView({ block: "center" });
    link.focus();
  }

  function linkFor(x, axis) {
    var links = document.querySelectorAll("[data-testid=anomaly-marker]");
    for (var i = 0; i < links.length; i++) {
      if (Number(links[i].dataset.step) === Number(x) && (!axis || links[i].dataset.axis === axis)) return links[i];
    }
    return null;
  }

  document.addEventListener("click", function (evt) {
    var note = evt.target && evt.target.closest ? evt.target.closest(".annotation") : null;
    var plot = note ? note.closest(".plot") : null;
    if (!plot || !plot.layout || !plot.layout.annotations) return;
    var annotation = plot.layout.annotations[Number(note.getAttribute("data-index"))];
    var figure = plot.closest("figure.chart");
    if (!annotation || !figure) return;
    var link = linkFor(annotation.x, null);
    if (link) follow(link);
  });
})();

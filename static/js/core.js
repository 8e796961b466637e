// What the page's modules share: fetching a fragment, reconnecting with backoff, the view in
// the URL, times, and copying. No inline scripts anywhere; everything hangs off data attributes.

// ---- fragments: one GET as htmx makes it, parsed (inert) ------------------------------------
// Resolves to { fragment, status } (286: the job is over, this was the last poll); rejects on
// any other status, carrying the server's Retry-After.
export async function fetchFragment(url) {
  const response = await fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" });
  if (!response.ok && response.status !== 286) {
    const failed = new Error("HTTP " + response.status);
    failed.retryAfter = response.headers.get("Retry-After");
    throw failed;
  }
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  return { fragment: template.content, status: response.status };
}

// ---- reconnecting with backoff ---------------------------------------------------------------
// After a failed poll, further polls wait 2 s, 4 s, … up to 60 s, or longer when the server
// passed on the platform's Retry-After; what is on screen stays.
export const backoff = {
  failures: 0,
  until: 0,
  blocked() { return Date.now() < this.until; },
  failure(retryAfter) {
    if (this.blocked()) return;  // several pollers failing in one outage are one failure
    this.failures += 1;
    const asked = Math.min(600, parseInt(retryAfter, 10) || 0) * 1000;
    this.until = Date.now() + Math.max(asked, Math.min(60000, 1000 * Math.pow(2, this.failures)));
    showConnection(false);
  },
  success() {
    this.failures = 0;
    this.until = 0;
    showConnection(true);
  },
};

function showConnection(ok) {
  const el = document.getElementById("connection");
  if (el) el.hidden = ok;
}

export function watchConnection() {
  document.addEventListener("htmx:confirm", (evt) => {
    if (backoff.blocked() && evt.detail.elt.hasAttribute("hx-trigger")) evt.preventDefault();
  });
  document.addEventListener("htmx:sendError", () => backoff.failure());
  document.addEventListener("htmx:responseError", (evt) => {
    backoff.failure(evt.detail.xhr.getResponseHeader("Retry-After"));
  });
  document.addEventListener("htmx:afterRequest", (evt) => {
    if (evt.detail.successful) backoff.success();
  });
}

// Open <details> stay open across htmx swaps.
export function keepDetailsOpen() {
  let open = [];
  document.addEventListener("htmx:beforeSwap", () => {
    open = Array.from(document.querySelectorAll("details[id][open]"), (d) => d.id);
  });
  document.addEventListener("htmx:afterSettle", () => {
    open.forEach((id) => { const d = document.getElementById(id); if (d) d.open = true; });
  });
}

// ---- the page's URL carries the view: filters, chart options, zoom, the selected entry ----------
export function setParams(changes) {
  const url = new URL(window.location.href);
  Object.entries(changes).forEach(([name, value]) => {
    if (value === null || value === undefined || value === "") url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  });
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

// ---- times -----------------------------------------------------------------------------------
export function humanDuration(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const pad = (n) => (n < 10 ? "0" + n : String(n));
  if (d) return d + "d " + pad(h) + "h " + pad(m) + "m";
  if (h) return h + "h " + pad(m) + "m " + pad(s) + "s";
  if (m) return m + "m " + pad(s) + "s";
  return s + "s";
}

function setTimes(root, attribute, suffix) {
  root.querySelectorAll("[" + attribute + "]").forEach((el) => {
    const t = Date.parse(el.getAttribute(attribute));
    if (!isNaN(t)) el.textContent = humanDuration((Date.now() - t) / 1000) + suffix;
  });
}

export function updateRelative(root) { setTimes(root || document, "data-relative", " ago"); }

export function startClocks() {
  const tickDurations = () => setTimes(document, "data-ticking-since", "");
  updateRelative();
  tickDurations();
  setInterval(tickDurations, 1000);
  setInterval(updateRelative, 15000);
}

// ---- copying ----------------------------------------------------------------------------------
export function copyText(text, done) {
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); return; }
  const area = document.createElement("textarea");
  area.value = text;
  document.body.appendChild(area);
  area.select();
  document.execCommand("copy");
  area.remove();
  done();
}

export function flash(el, text) {  // "Copied" for a moment, then the label again
  if (el._dnLabel === undefined) el._dnLabel = el.textContent;
  el.textContent = text;
  clearTimeout(el._dnFlash);
  el._dnFlash = setTimeout(() => { el.textContent = el._dnLabel; delete el._dnLabel; }, 1200);
}

export function watchCopyButtons() {
  document.addEventListener("click", (evt) => {
    const button = evt.target.closest("button[data-copy]");
    if (button) copyText(button.dataset.copy, () => flash(button, "Copied"));
  });
}

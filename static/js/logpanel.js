// Live logs: follow the tail unless the user scrolled up (keeping the server's window of entries),
// the level filter and search, one entry selected by #log-N (loaded when it is not on the page),
// the keyboard (e, n, p, f) and each entry's copy link.
import { copyText, fetchFragment, flash, setParams, updateRelative } from "./core.js";

const logList = () => document.getElementById("log-list");
const logsBody = () => document.getElementById("logs-body");
const formatCount = (n) => Number(n).toLocaleString("en-US");

function filterSuffix() {
  const body = logsBody();
  return body && body.dataset.filter ? "&" + body.dataset.filter : "";
}

// ---- following the tail ------------------------------------------------------------------------
let following = true;
const atBottom = (list) => list.scrollHeight - list.scrollTop - list.clientHeight < 40;

function setFollowing(value) {  // "Jump to latest" shows when entries arrive unfollowed (or on `f`)
  following = value;
  const list = logList(), jump = document.getElementById("jump-latest");
  if (list) list.dataset.following = value ? "true" : "false";
  if (jump && value) jump.hidden = true;
}

function scrollToLatest() {
  const list = logList();
  if (!list) return;
  list.scrollTop = list.scrollHeight;
  setFollowing(true);
}

// The page keeps at most data-log-window entries; older ones go behind "load earlier", a
// control the server renders for the new first entry.
let trimTicket = 0;
function trimLogs(list) {
  const body = logsBody(), entries = list.querySelectorAll(".log-entry");
  const extra = entries.length - Number(body.dataset.logWindow);
  if (!(extra > 0)) return;
  const first = entries[extra], ticket = ++trimTicket;
  list.querySelectorAll(".logs-span").forEach((span) => {  // controls above the first kept
    if (span.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) span.remove();
  });
  for (let i = 0; i < extra; i++) entries[i].remove();
  fetchFragment(body.dataset.logsUrl + "/span?before=" + first.dataset.index + filterSuffix())
    .then(({ fragment }) => {
      const earlier = fragment.firstElementChild;
      if (ticket !== trimTicket || !earlier || !list.isConnected) return;
      list.insertBefore(earlier, list.firstChild);
      window.htmx.process(earlier);
    }, () => {});  // the next trim asks again, for everything before its first entry
}

// ---- the filter: level and search, applied by the server ---------------------------------------
// The form works without this script (a GET of the job page); here a change swaps in the logs
// list under the new filter and puts the filter in the page's URL.
let filterTicket = 0;
function applyFilter(form) {
  const level = form.elements.level.value, q = form.elements.q.value.trim();
  const params = new URLSearchParams();
  if (level) params.set("level", level);
  if (q) params.set("q", q);
  const body = logsBody(), query = params.toString();
  if (!body) return;
  const ticket = ++filterTicket;
  body.dataset.loading = "true";
  fetchFragment(body.dataset.logsUrl + "/panel" + (query ? "?" + query : ""))
    .then(({ fragment }) => {
      if (ticket !== filterTicket) return;  // a newer filter won
      const poller = document.getElementById("logs-poller");
      if (poller) window.htmx.trigger(poller, "htmx:abort");  // its answer is for the old filter
      const fresh = fragment.querySelector("#logs-body"), current = logsBody();
      if (!fresh || !current) return;
      current.replaceWith(fresh);
      window.htmx.process(fresh);
      updateRelative(fresh);
      setParams({ level: level || null, q: q || null });
      const clear = document.getElementById("logs-clear");
      if (clear) clear.hidden = !query;
      const selected = selectedIndex();
      scrollToLatest();
      if (selected !== null && document.getElementById("log-" + selected)) goToEntry(selected);
    })
    .catch(() => { delete body.dataset.loading; });
}

function setupFilter() {
  const form = document.getElementById("logs-tools");
  if (!form) return;
  let typing = null;
  form.addEventListener("submit", (evt) => { evt.preventDefault(); applyFilter(form); });
  form.elements.level.addEventListener("change", () => applyFilter(form));
  form.elements.q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => applyFilter(form), 400);
  });
  document.getElementById("logs-clear")?.addEventListener("click", (evt) => {
    evt.preventDefault();
    form.elements.level.value = "";
    form.elements.q.value = "";
    applyFilter(form);
  });
}

// ---- one entry selected: #log-N in the URL, highlighted, scrolled to ---------------------------
function entryIndex(hash) {
  const found = /^#log-(\d+)$/.exec(hash || "");
  return found ? Number(found[1]) : null;
}

function selectedIndex() {
  const el = document.querySelector(".log-entry.selected");
  return el ? Number(el.dataset.index) : entryIndex(window.location.hash);
}

function select(el) {
  document.querySelectorAll(".log-entry.selected").forEach((other) => other.classList.remove("selected"));
  el.classList.add("selected");
  if (window.location.hash !== "#" + el.id) window.history.replaceState(window.history.state, "", "#" + el.id);
  const list = logList();
  if (list) {
    el.scrollIntoView({ block: "center" });
    setFollowing(atBottom(list));  // a selected entry stays in view as new ones arrive
  }
  say("");
}

function say(text) {  // the note above the list (_logs.html), hidden while it has nothing to say
  const note = document.getElementById("log-target-note");
  if (!note) return;
  note.textContent = text;
  note.hidden = !text;
}

// The "load" control (top of the list, or a gap) whose range holds position `index`.
function spanHolding(index) {
  return Array.from(document.querySelectorAll("#log-list .logs-span"))
    .findLast((span) => Number(span.dataset.since) <= index && index < Number(span.dataset.before)) || null;
}

// Load the entries around `index` in place of the control that holds it.
function loadAround(span, index) {
  const url = logsBody().dataset.logsUrl + "/earlier?before=" + span.dataset.before +
    "&since=" + span.dataset.since + "&around=" + index + filterSuffix();
  return fetchFragment(url).then(({ fragment }) => {
    const nodes = Array.from(fragment.children);
    span.replaceWith(...nodes);
    nodes.forEach((node) => window.htmx.process(node));
    updateRelative(logList());
  });
}

function goToEntry(index) {
  const el = document.getElementById("log-" + index);
  if (el) { select(el); return; }
  const span = spanHolding(index);
  if (!span) { missing(index); return; }
  loadAround(span, index).then(() => {
    const loaded = document.getElementById("log-" + index);
    if (loaded) select(loaded); else missing(index);
  }, () => say("Entry #" + index + " could not be loaded; try again."));
}

function missing(index) {
  const count = document.getElementById("log-count"), poller = document.getElementById("logs-poller");
  let total = count ? Number(count.dataset.total) : 0;
  if (poller) total = Math.max(total, Number(poller.dataset.cursor));
  if (index >= total) say("There is no entry #" + index + ": this job has " + formatCount(total) + " entries.");
  else say("Entry #" + index + " is hidden by the current filter: clear the filters to see it.");
}

function goToHash() {
  const index = entryIndex(window.location.hash);
  if (index !== null) goToEntry(index);
}

// Clicking an entry selects it; its "link" copies the absolute URL of this view and entry.
function onClick(evt) {
  const link = evt.target.closest("a.log-link"), entry = evt.target.closest(".log-entry");
  if (!entry) return;
  if (link) {
    evt.preventDefault();
    select(entry);  // which puts the entry in the URL: the link is the page's own
    copyText(window.location.href, () => flash(link, "copied"));
    return;
  }
  if (evt.target.closest("a, button, summary, details, input, select")) return;
  if (String(window.getSelection())) return;  // selecting text
  select(entry);
}

// ---- keyboard: e first error, n / p next / previous error, f follow -----------------------------
// Error positions: those the server listed (the whole log, under the filter) and those on screen.
function errorIndexes() {
  const body = logsBody();
  const listed = body && body.dataset.errors ? body.dataset.errors.split(" ").map(Number) : [];
  const shown = Array.from(document.querySelectorAll("#log-list .log-entry[data-level=error]"),
                           (el) => Number(el.dataset.index));
  return Array.from(new Set(listed.concat(shown))).sort((a, b) => a - b);
}

function stepError(forward, first) {  // wraps around at either end
  const errors = errorIndexes();
  if (!errors.length) { say("This job has no error entries" + (filterSuffix() ? " under this filter." : ".")); return; }
  const at = first ? null : selectedIndex();
  let pick;
  if (at !== null) pick = forward ? errors.find((i) => i > at) : errors.findLast((i) => i < at);
  if (pick === undefined) pick = forward ? errors[0] : errors.at(-1);
  goToEntry(pick);
}

function toggleFollowing() {
  if (!following) { scrollToLatest(); return; }
  setFollowing(false);
  document.getElementById("jump-latest").hidden = false;
}

const KEYS = { e: () => stepError(true, true), n: () => stepError(true), p: () => stepError(false), f: toggleFollowing };
const typing = (target) => target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

function onKey(evt) {
  if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) return;
  const action = KEYS[evt.key];
  if (!action || !logList()) return;
  evt.preventDefault();
  action();
}

// ---- wiring ----------------------------------------------------------------------------------
// Listeners on the document, for whichever list is on screen (a new filter brings a new one).
export function watchLogs() {
  document.addEventListener("htmx:oobAfterSwap", (evt) => {
    const list = logList();
    if (!list || evt.detail.target !== list) return;
    if (following) { trimLogs(list); scrollToLatest(); }
    else document.getElementById("jump-latest").hidden = false;
  });
  document.addEventListener("htmx:afterSettle", () => updateRelative(logList()));
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
}

export function setupLogs() {
  if (logList()) {
    scrollToLatest();
    document.addEventListener("scroll", (evt) => {
      if (evt.target === logList()) setFollowing(atBottom(evt.target));
    }, true);
    document.getElementById("jump-latest").addEventListener("click", scrollToLatest);
  }
  setupFilter();
  const help = document.getElementById("shortcuts-help");
  if (help) help.hidden = false;
  goToHash();
  window.addEventListener("hashchange", goToHash);
}

"""The Live logs panel: its rows, the filter and search over the whole log, the windows it
loads, and the one model built for the page, its polls and its "load" controls."""

from __future__ import annotations

import dataclasses
import itertools
import json
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dashboard.analysis.logscan import is_error
from dashboard.models import (
    LEVEL_ALIASES,
    Job,
    LogEntry,
    NotedList,
    message_text,
    note_of,
    parse_level,
    parse_logs,
    shown,
    text,
)
from dashboard.viewmodels import format as fmt

MAX_DATA_CHARS = 20_000


@dataclass(frozen=True)
class LogRow:
    """One log entry as the panel shows it."""

    index: int
    level: str
    time_iso: str
    time_utc: str
    message: str
    data: str | None


def data_text(data: Any) -> str | None:
    """The entry's `data` as pretty JSON, or None when there is none."""
    if data in (None, {}, [], ""):
        return None
    try:
        text = json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return "… (this data could not be shown: nested too deep or not JSON)"
    return text if len(text) <= MAX_DATA_CHARS else text[:MAX_DATA_CHARS] + "\n… (truncated)"


def log_rows(entries: list[LogEntry]) -> list[LogRow]:
    """Turn parsed entries into rows, keeping each entry's index in the job's log list."""
    return [
        LogRow(e.index, e.level, fmt.iso(e.timestamp),
               f"unreadable time: {e.unreadable_time}" if e.unreadable_time else fmt.utc(e.timestamp),
               e.message, data_text(e.data))
        for e in entries
    ]


# ---- filtering, searching and paging the whole log ---------------------------------------

LEVEL_RANK = {"debug": 0, "info": 1, "warning": 2, "error": 3}
LEVEL_CHOICES = (("", "All levels"), ("info", "Info and above"), ("warning", "Warnings and errors"),
                 ("error", "Errors only"))
MAX_QUERY = 200  # characters of a search
EARLIER_PAGE = 1000  # entries one "load earlier" (or "load more") brings
AROUND = 50  # entries either side of a linked entry loaded with it
MAX_ERRORS = 1000  # error positions the page lists for the keyboard (more are found on screen)


@dataclass(frozen=True)
class LogFilter:
    """Which entries the panel shows: the lowest level (`""`: all) and a search text."""

    level: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        """Whether it hides anything."""
        return bool(self.level or self.q)

    def params(self) -> list[tuple[str, str]]:
        """Its query parameters (none when it shows everything)."""
        return [(k, v) for k, v in (("level", self.level), ("q", self.q)) if v]

    @property
    def query(self) -> str:
        """`level=…&q=…`, or ""."""
        return urlencode(self.params())

    @property
    def suffix(self) -> str:
        """`&level=…&q=…` to append to a fragment URL, or ""."""
        return "&" + urlencode(self.params()) if self.active else ""

    @property
    def described(self) -> str:
        """'errors only, containing "timeout"' (for the count line)."""
        parts = [dict(LEVEL_CHOICES)[self.level].lower()] if self.level else []
        if self.q:
            parts.append(f"containing “{self.q}”")
        return ", ".join(parts)

    def keeps(self, item: Any) -> bool:
        """Whether a raw log entry passes: its level is high enough and the text is in its
        message or its data (case-insensitive)."""
        if self.level and LEVEL_RANK[level_of(item)] < LEVEL_RANK[self.level]:
            return False
        return not self.q or contains(item, self.q.casefold())


NO_FILTER = LogFilter()


def parse_filter(args: Mapping[str, str]) -> tuple[LogFilter, list[str]]:
    """The filter a request asks for, and a note for each value that was not usable (and so
    ignored)."""
    notes = []
    level = args.get("level", "").strip().lower()
    level = LEVEL_ALIASES.get(level, level)
    if level == "debug":
        level = ""
    if level and level not in LEVEL_RANK:
        notes.append(f"level {shown(level)} was ignored: use one of "
                     + ", ".join(v for v, _ in LEVEL_CHOICES if v))
        level = ""
    query = args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        notes.append(f"the search text was ignored: it is longer than {MAX_QUERY} characters")
        query = ""
    return LogFilter(level, query), notes


def level_of(item: Any) -> str:
    """A raw entry's level, read as the panel reads it (the usual spellings at once)."""
    if not isinstance(item, dict):
        return "info"
    raw = item.get("level")
    return raw if isinstance(raw, str) and raw in LEVEL_RANK else parse_level(raw)


def contains(item: Any, needle: str) -> bool:
    """Whether a raw entry's message or data holds `needle` (already case-folded)."""
    if not isinstance(item, dict):
        return needle in (text(item) or repr(item)[:500]).casefold()
    if needle in message_text(item.get("message")).casefold():
        return True
    data = item.get("data")
    if data in (None, {}, [], ""):
        return False
    return needle in data_search_text(data).casefold()


def data_search_text(data: Any) -> str:
    """An entry's data as the JSON text search looks through (`"key": value`, as shown)."""
    try:
        return json.dumps(data, default=str, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return ""


def positions(items: Sequence[Any], log_filter: LogFilter) -> Sequence[int]:
    """The positions of the entries the filter keeps (all of them, cheaply, without a filter)."""
    if not log_filter.active:
        return range(len(items))
    return [i for i, item in enumerate(items) if log_filter.keeps(item)]


def error_positions(items: Sequence[Any], kept: Sequence[int], limit: int = MAX_ERRORS) -> list[int]:
    """The positions of the first `limit` error entries among the kept ones (for the `e`, `n`
    and `p` keys, which then reach errors not loaded yet)."""
    return list(itertools.islice((i for i in kept if is_error(items[i])), limit))


@dataclass(frozen=True)
class Span:
    """Entries not loaded yet, behind a "load" control: positions `since` up to `before`."""

    since: int
    before: int
    count: int  # how many kept entries it holds
    load_url: str = ""  # the fragment that brings them (htmx)
    download_url: str = ""  # without JavaScript: every entry, as a download

    @property
    def top(self) -> bool:
        """Whether it is the "load earlier" control at the top of the list."""
        return self.since == 0


@dataclass(frozen=True)
class Window:
    """The kept entries to show from a range of the log, and the spans left either side."""

    shown: Sequence[int]
    above: Span | None
    below: Span | None


def log_window(kept: Sequence[int], before: int, since: int = 0, around: int | None = None,
           page: int = EARLIER_PAGE) -> Window:
    """Which kept entries of positions [since, before) to show.

    Around a linked entry: it and AROUND entries either side. From a gap's start (`since`
    > 0): its first `page` entries. Else the newest `page` ones, like the panel opens.
    """
    low, high = bisect_left(kept, since), bisect_left(kept, max(since, before))
    if around is not None:
        at = bisect_left(kept, around, low, high)
        start, stop = max(low, at - AROUND), min(high, at + AROUND + 1)
    elif since > 0:
        start, stop = low, min(high, low + page)
    else:
        start, stop = max(low, high - page), high
    above = Span(since, kept[start] if start < high else before, start - low) if start > low else None
    below = Span(kept[stop], before, high - stop) if stop < high else None
    return Window(kept[start:stop], above, below)


# ---- the panel's model ----------------------------------------------------------------------

LOG_WINDOW = 500  # entries a page opens with and keeps; older ones are behind "load earlier"


@dataclass(frozen=True)
class LogsView:
    """What the logs panel (or a poll of it, or a "load" of older entries) shows."""

    page_url: str  # the job page (the filter form's action)
    url: str  # the logs fragment's URL, for js/logpanel.js
    download_url: str
    clear_url: str  # the page without the filter
    rows: tuple[LogRow, ...]
    total: int  # entries in the job's log
    cursor: int  # the position the next poll starts from
    matched: int  # entries the filter keeps so far
    next_poll: str | None  # the next poll's URL; None once nothing polls
    log_filter: LogFilter = NO_FILTER
    note: str | None = None  # why no entry can be shown (an unusable payload)
    above: Span | None = None  # with its URLs
    below: Span | None = None
    errors: tuple[int, ...] = ()  # positions of the error entries the filter keeps (the keyboard's)
    notes: tuple[str, ...] = ()  # request values that were ignored
    chart_params: tuple[tuple[str, str], ...] = ()  # the page's chart options, kept by the filter form
    window: int = LOG_WINDOW
    grew: bool = False  # a poll that found entries: it sends the count again
    level_choices: tuple[tuple[str, str], ...] = LEVEL_CHOICES


def span_link(span: Span | None, base: str, log_filter: LogFilter) -> Span | None:
    """A span of entries not loaded yet, with the URLs of its control."""
    if span is None:
        return None
    since = "" if span.top else f"&since={span.since}"
    return dataclasses.replace(
        span, load_url=f"{base}/logs/earlier?before={span.before}{since}{log_filter.suffix}",
        download_url=f"{base}/logs.jsonl" + (f"?{log_filter.query}" if log_filter.active else ""))


def opening_positions(items: Sequence[Any]) -> frozenset[int]:
    """The positions of the entries a page opens its (unfiltered) panel with."""
    return frozenset(range(max(0, len(items) - LOG_WINDOW), len(items)))


def span_before(base: str, items: Sequence[Any], before: int, log_filter: LogFilter) -> Span | None:
    """The "load earlier" control for the entries before position `before` that the filter
    keeps (None when there is none)."""
    before = min(before, len(items))
    count = len(positions(items[:before], log_filter))
    return span_link(Span(0, before, count), base, log_filter) if count else None


def logs_view(job: Job, base: str, entries: Sequence[LogEntry], total: int, *, after: int = 0,
              final: bool = False, log_filter: LogFilter = NO_FILTER, matched: int | None = None,
              above: Span | None = None, below: Span | None = None, errors: Sequence[int] = (),
              notes: tuple[str, ...] = (), chart_params: Sequence[tuple[str, str]] = ()) -> LogsView:
    """The panel for `entries` (the job's entries from some position on that the filter keeps).

    Entries and job status are read concurrently and may come from the short cache, so when
    the job has ended one more poll (`final=1`, at least a cache lifetime later) reads the
    logs once more; only that poll stops polling. The cursor counts every entry, filtered or
    not, so changing the filter loses nothing; `matched` (how many entries the filter keeps so
    far) is carried from poll to poll.
    """
    cursor = max(after, total)
    matched = total if matched is None else matched
    carried = f"&matched={matched}" if log_filter.active else ""
    following = None if job.terminal and final else (
        f"{base}/logs?after={cursor}{log_filter.suffix}{carried}" + ("&final=1" if job.terminal else ""))
    kept = tuple(chart_params)
    return LogsView(
        page_url=base, url=f"{base}/logs", download_url=f"{base}/logs.jsonl",
        clear_url=base + (f"?{urlencode(kept)}" if kept else ""), rows=tuple(log_rows(list(entries))),
        total=total, cursor=cursor, matched=matched, next_poll=following, log_filter=log_filter,
        note=note_of(entries), above=span_link(above, base, log_filter),
        below=span_link(below, base, log_filter), errors=tuple(errors), notes=notes, chart_params=kept)


def opening(job: Job, base: str, items: Sequence[Any], log_filter: LogFilter = NO_FILTER,
            notes: tuple[str, ...] = (), chart_params: Sequence[tuple[str, str]] = ()) -> LogsView:
    """The panel as a page opens it: the newest LOG_WINDOW entries the filter keeps (searching
    the whole log), and where the errors are."""
    kept = positions(items, log_filter)
    shown = log_window(kept, len(items), page=LOG_WINDOW)
    entries = [LogEntry.from_api(i, items[i]) for i in shown.shown]
    return logs_view(job, base, with_note(items, entries), len(items), log_filter=log_filter,
                     matched=len(kept), above=shown.above, errors=error_positions(items, kept),
                     notes=notes, chart_params=chart_params)


def update(job: Job, base: str, items: Sequence[Any], after: int, final: bool,
           log_filter: LogFilter, matched_before: int | None) -> LogsView:
    """A poll: the entries from position `after` on that the filter keeps, and the next poll.
    `matched_before` is the count the last poll carried (counted again when missing)."""
    entries = parse_logs(items, after)
    matched = None
    if log_filter.active:
        entries = with_note(entries, [e for e in entries if log_filter.keeps(items[e.index])])
        if matched_before is None:
            matched_before = len(positions(items[:after], log_filter))
        matched = matched_before + len(entries)
    view = logs_view(job, base, entries, len(items), after=after, final=final, log_filter=log_filter,
                     matched=matched)
    return dataclasses.replace(view, grew=len(items) > after)


def earlier(job: Job, base: str, items: Sequence[Any], before: int, since: int, around: int | None,
            log_filter: LogFilter) -> LogsView:
    """Entries not loaded yet, of positions [`since`, `before`), that the filter keeps: the newest
    page of them ("load earlier"), the first page of a gap, or those around position `around`."""
    before = min(before, len(items))
    shown = log_window(positions(items, log_filter), before, min(since, before), around)
    entries = [LogEntry.from_api(i, items[i]) for i in shown.shown]
    return logs_view(job, base, entries, len(items), log_filter=log_filter, above=shown.above,
                     below=shown.below)


def with_note(source: Any, entries: list[LogEntry]) -> list[LogEntry]:
    """`entries`, carrying the note of the payload they came from."""
    note = note_of(source)
    return NotedList(note, entries) if note else entries


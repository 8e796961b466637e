"""The Live logs panel as one model, built the same way for the page, its polls and its "load"
controls, with every URL it links to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dashboard.models import Job, LogEntry, NotedList, note_of, parse_logs
from dashboard.viewmodels.logs import (
    LEVEL_CHOICES,
    NO_FILTER,
    LogFilter,
    LogRow,
    Span,
    error_positions,
    log_rows,
    log_window,
    positions,
)

LOG_WINDOW = 500  # entries a page opens with and keeps; older ones are behind "load earlier"


@dataclass(frozen=True)
class SpanLink:
    """A "load" control for entries not loaded yet: "load earlier" at the top, or a gap."""

    span: Span
    load_url: str  # the fragment that brings them (htmx)
    download_url: str  # without JavaScript: every entry, as a download


@dataclass(frozen=True)
class LogsView:
    """What the logs panel (or a poll of it, or a "load" of older entries) shows."""

    page_url: str  # the job page (the filter form's action)
    url: str  # the logs fragment's URL, for js/logs.js
    download_url: str
    clear_url: str  # the page without the filter
    rows: tuple[LogRow, ...]
    total: int  # entries in the job's log
    cursor: int  # the position the next poll starts from
    matched: int  # entries the filter keeps so far
    next_poll: str | None  # the next poll's URL; None once nothing polls
    log_filter: LogFilter = NO_FILTER
    note: str | None = None  # why no entry can be shown (an unusable payload)
    above: SpanLink | None = None
    below: SpanLink | None = None
    errors: tuple[int, ...] = ()  # positions of the error entries the filter keeps (the keyboard's)
    notes: tuple[str, ...] = ()  # request values that were ignored
    chart_params: tuple[tuple[str, str], ...] = ()  # the page's chart options, kept by the filter form
    window: int = LOG_WINDOW
    level_choices: tuple[tuple[str, str], ...] = LEVEL_CHOICES


def span_link(span: Span | None, base: str, log_filter: LogFilter) -> SpanLink | None:
    """The control for a span of entries not loaded yet."""
    if span is None:
        return None
    since = "" if span.top else f"&since={span.since}"
    download = f"{base}/logs.jsonl" + (f"?{log_filter.query}" if log_filter.active else "")
    return SpanLink(span, f"{base}/logs/earlier?before={span.before}{since}{log_filter.suffix}", download)


def opening_positions(items: Sequence[Any]) -> frozenset[int]:
    """The positions of the entries a page opens its (unfiltered) panel with."""
    return frozenset(range(max(0, len(items) - LOG_WINDOW), len(items)))


def span_before(base: str, items: Sequence[Any], before: int, log_filter: LogFilter) -> SpanLink | None:
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
    return logs_view(job, base, entries, len(items), after=after, final=final, log_filter=log_filter,
                     matched=matched)


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


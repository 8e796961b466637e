"""Rows of the Live logs panel."""

from __future__ import annotations

import itertools
import json
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dashboard.analysis.logscan import is_error
from dashboard.models import LEVEL_ALIASES, LogEntry, message_text, parse_level, shown, text
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

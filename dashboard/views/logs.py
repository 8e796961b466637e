"""Rows of the Live logs panel."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dashboard.models import LogEntry
from dashboard.views import format as fmt

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

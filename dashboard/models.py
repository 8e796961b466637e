"""Typed, tolerant models of the platform's training-job payloads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dashboard.columns import column

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
LIST_STATUSES = ("queued", "running", "completed", "failed", "cancelled")  # the list's filter, in order
CANCELLABLE_STATUSES = frozenset({"queued", "pending", "running"})
LOG_LEVELS = ("debug", "info", "warning", "error")
LEVEL_ALIASES = {"warn": "warning", "critical": "error", "fatal": "error", "exception": "error",
                 "trace": "debug"}
MAX_TEXT = 20_000  # characters of one job field or log message shown; the rest is noted
LONG_FIELDS = ("name", "backend", "trainer_type", "algorithm", "model", "world_goal", "project_ref",
               "error")  # text fields cut to MAX_TEXT characters
TEXT_FIELDS = ("id", "status", *LONG_FIELDS)
REF_FIELDS = ("dataset_ref", "prompt_dataset_ref", "capability")
TIME_FIELDS = ("created_at", "started_at", "completed_at", "cancel_requested_at")
ABSENT: tuple[Any, ...] = (None, "", [], {})


def kind_of(value: Any) -> str:
    """What a JSON value is, for a note: `null`, `a string`, `a list`, …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a map" if isinstance(value, dict) else "a value"


def shown(value: Any, limit: int = 40) -> str:
    """A short quote of an unusable value for a note: a string or number as is, else its kind."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        quoted = repr(value) if isinstance(value, str) or abs(value) < 10**40 else "a huge number"
    else:
        quoted = kind_of(value)
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def clip(value: str, limit: int = MAX_TEXT) -> str:
    """At most `limit` characters, saying how many more there were."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value) - limit:,} more characters)"


class NotedMap(dict[str, Any]):
    """An empty map standing in for an unusable payload, carrying what was wrong with it."""

    def __init__(self, note: str) -> None:
        super().__init__()
        self.note = note


class NotedList(list[Any]):
    """A list standing in for an unusable payload (or parsed from one), carrying the note."""

    def __init__(self, note: str, items: Any = ()) -> None:
        super().__init__(items)
        self.note = note


def note_of(value: Any) -> str | None:
    """What was wrong with the payload a parsed value came from, if anything."""
    return getattr(value, "note", None)


def text(value: Any) -> str | None:
    """Return a non-empty string for display, or None for anything else."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else None
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # over Python's 4,300-digit limit for int -> str
            return None
    return None


def parse_status(value: Any) -> str:
    """A known status in its canonical lower case; any other status verbatim (stripped)."""
    raw = (text(value) or "unknown").strip()
    known = TERMINAL_STATUSES | CANCELLABLE_STATUSES
    return raw.lower() if raw.lower() in known else raw


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 timestamp into an aware UTC datetime; None when unusable."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


@dataclass(frozen=True)
class Ref:
    """A `{name, version}` reference to a dataset or capability."""

    name: str
    version: str | None = None

    @classmethod
    def parse(cls, value: Any) -> Ref | None:
        """Build a Ref from a `{name, version}` map or a `name@version` string."""
        if isinstance(value, dict):
            name = text(value.get("name"))
            return cls(name, text(value.get("version"))) if name else None
        name = text(value)
        if name is None:
            return None
        base, sep, version = name.rpartition("@")
        return cls(base, version) if sep and base and version else cls(name)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@dataclass(frozen=True)
class Job:
    """A training job as the pane uses it; every field tolerates a broken payload."""

    id: str
    status: str
    name: str | None = None
    backend: str | None = None
    trainer_type: str | None = None
    algorithm: str | None = None
    model: str | None = None
    world_goal: str | None = None
    project_ref: str | None = None
    dataset_ref: Ref | None = None
    prompt_dataset_ref: Ref | None = None
    trajectory_dataset_refs: tuple[Ref, ...] = ()
    capability: Ref | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    error: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancel_requested_at: datetime | None = None
    created_by: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def terminal(self) -> bool:
        """Whether the job has stopped for good (nothing will change any more)."""
        return self.status in TERMINAL_STATUSES

    @property
    def cancellable(self) -> bool:
        """Whether the platform accepts a cancel for this status."""
        return self.status in CANCELLABLE_STATUSES

    @property
    def title(self) -> str:
        """The job's name, or `backend/trainer_type` when it has none (as the App does)."""
        return self.name or f"{self.backend or 'unknown'}/{self.trainer_type or 'unknown'}"

    @property
    def dataset(self) -> str | None:
        """The dataset the job trains on, whichever kind of reference it uses."""
        ref = self.dataset_ref or self.prompt_dataset_ref
        if ref:
            return str(ref)
        if self.trajectory_dataset_refs:
            return ", ".join(str(r) for r in self.trajectory_dataset_refs)
        return None

    @classmethod
    def from_api(cls, data: Any) -> Job:
        """Build a Job from a `TrainingJob` payload, noting what was unusable."""
        problems: list[str] = []
        if not isinstance(data, dict):
            return cls(id="unknown", status="unknown", problems=("the job payload is not an object",))

        def mapping(key: str) -> dict[str, Any]:
            value = data.get(key)
            if value is None:
                return {}
            if isinstance(value, dict):
                return value
            problems.append(f"`{key}` is not a map and was ignored")
            return {}

        problems.extend(field_problems(data))
        refs = data.get("trajectory_dataset_refs")
        creator = data.get("created_by_user")
        creator_name = None
        if isinstance(creator, dict):
            creator_name = text(creator.get("full_name")) or text(creator.get("username"))
            creator_name = creator_name or text(creator.get("email"))
        tags = data.get("tags")
        return cls(
            id=text(data.get("id")) or "unknown",
            status=parse_status(data.get("status")),
            **{key: clipped(data.get(key)) for key in LONG_FIELDS},
            **{key: Ref.parse(data.get(key)) for key in REF_FIELDS},
            **{key: parse_time(data.get(key)) for key in TIME_FIELDS},
            trajectory_dataset_refs=tuple(
                r for r in map(Ref.parse, refs if isinstance(refs, list) else []) if r
            ),
            metrics={key: column(value) for key, value in mapping("metrics").items()},
            artifacts=mapping("artifacts"),
            config=mapping("config"),
            tags=tuple(t for t in map(text, tags if isinstance(tags, list) else []) if t),
            created_by=creator_name or text(data.get("created_by_email")),
            problems=tuple(problems),
        )


def clipped(value: Any) -> str | None:
    """`text(value)` cut to MAX_TEXT characters."""
    shown_text = text(value)
    return clip(shown_text) if shown_text else None


def field_problems(data: dict[str, Any]) -> list[str]:
    """Notes on the fields of a job payload that are present but cannot be used."""
    problems = []
    for key in TEXT_FIELDS:
        value = data.get(key)
        if value not in ABSENT and text(value) is None and not isinstance(value, str):
            problems.append(f"`{key}` is not text (got {kind_of(value)}) and was ignored")
        elif key in LONG_FIELDS and isinstance(value, str) and len(value) > MAX_TEXT:
            problems.append(f"`{key}` is {len(value):,} characters long; "
                            f"only the first {MAX_TEXT:,} are shown")
    for key in REF_FIELDS:
        value = data.get(key)
        if value not in ABSENT and Ref.parse(value) is None:
            problems.append(f"`{key}` is not a name or a {{name, version}} map "
                            f"(got {kind_of(value)}) and was ignored")
    for key in ("trajectory_dataset_refs", "tags"):
        value = data.get(key)
        if value not in ABSENT and not isinstance(value, list):
            problems.append(f"`{key}` is not a list (got {kind_of(value)}) and was ignored")
    for key in TIME_FIELDS:
        value = data.get(key)
        if value not in ABSENT and parse_time(value) is None:
            problems.append(f"`{key}` is not a readable time (got {shown(value)}) and was ignored")
    creator = data.get("created_by_user")
    if creator not in ABSENT and not isinstance(creator, dict):
        problems.append(f"`created_by_user` is not a map (got {kind_of(creator)}) and was ignored")
    return problems


@dataclass(frozen=True)
class LogEntry:
    """One structured log entry and its position in the job's log list."""

    index: int
    timestamp: datetime | None
    level: str
    message: str
    data: Any
    unreadable_time: str | None = None  # a timestamp that was given but could not be read

    @classmethod
    def from_api(cls, index: int, item: Any) -> LogEntry:
        """Build a LogEntry from a `LogEntry` payload, whatever its shape."""
        if not isinstance(item, dict):
            return cls(index, None, "info", text(item) or repr(item)[:500], None)
        message = item.get("message")
        raw_time = item.get("timestamp")
        timestamp = parse_time(raw_time)
        return cls(
            index=index,
            timestamp=timestamp,
            level=parse_level(item.get("level")),
            message=clip(message_text(message)),
            data=item.get("data") or None,
            unreadable_time=shown(raw_time) if timestamp is None and raw_time not in ABSENT else None,
        )


def message_text(value: Any) -> str:
    """A log message as text, whatever it holds (an integer too long for `str` says so)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return str(value)
    except ValueError:
        return "(a number too long to show)"


def parse_level(value: Any) -> str:
    """A log level in its canonical form (`warn` is `warning`); anything unknown is `info`."""
    level = (text(value) or "info").lower()
    level = LEVEL_ALIASES.get(level, level)
    return level if level in LOG_LEVELS else "info"


def log_items(payload: Any) -> list[Any]:
    """The raw entries of a logs payload (`{items: [...]}` or a bare list); when unusable, an
    empty NotedList saying why."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and isinstance(payload.get("items"), list):
        return payload["items"]
    if isinstance(payload, dict) and "items" not in payload:
        return NotedList("the logs were not a list (got a map with no `items`)")
    got = payload.get("items") if isinstance(payload, dict) else payload
    return NotedList(f"the logs were not a list (got {kind_of(got)})")


def parse_logs(payload: Any, start: int = 0) -> list[LogEntry]:
    """Parse the entries of a logs payload from position `start` on, keeping their positions
    (and the note of an unusable payload)."""
    items = log_items(payload)
    start = max(0, start)
    entries = [LogEntry.from_api(start + i, item) for i, item in enumerate(items[start:])]
    note = note_of(items)
    return NotedList(note, entries) if note else entries


def parse_artifacts(payload: Any) -> dict[str, Any]:
    """Turn an artifacts payload (`{artifacts: {...}}` or a bare map) into a map; when unusable,
    an empty NotedMap saying why (`{artifacts: null}` is simply empty)."""
    if isinstance(payload, dict) and isinstance(payload.get("artifacts"), dict):
        return payload["artifacts"]
    if isinstance(payload, dict) and "artifacts" not in payload:
        return payload
    if isinstance(payload, dict) and payload["artifacts"] is None:
        return {}
    got = payload["artifacts"] if isinstance(payload, dict) else payload
    return NotedMap(f"the artifacts were not a map (got {kind_of(got)})")


@dataclass(frozen=True)
class Pane:
    """What one job page is built from, as read: the job, its artifacts and every raw log entry."""

    job: Job
    artifacts: dict[str, Any]
    items: Sequence[Any]

"""Typed, tolerant models of the platform's training-job payloads."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
CANCELLABLE_STATUSES = frozenset({"queued", "pending", "running"})
LOG_LEVELS = ("debug", "info", "warning", "error")
LEVEL_ALIASES = {"warn": "warning", "critical": "error", "fatal": "error", "exception": "error",
                 "trace": "debug"}


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
            name=text(data.get("name")),
            backend=text(data.get("backend")),
            trainer_type=text(data.get("trainer_type")),
            algorithm=text(data.get("algorithm")),
            model=text(data.get("model")),
            world_goal=text(data.get("world_goal")),
            project_ref=text(data.get("project_ref")),
            dataset_ref=Ref.parse(data.get("dataset_ref")),
            prompt_dataset_ref=Ref.parse(data.get("prompt_dataset_ref")),
            trajectory_dataset_refs=tuple(
                r for r in map(Ref.parse, refs if isinstance(refs, list) else []) if r
            ),
            capability=Ref.parse(data.get("capability")),
            metrics=mapping("metrics"),
            artifacts=mapping("artifacts"),
            config=mapping("config"),
            tags=tuple(t for t in map(text, tags if isinstance(tags, list) else []) if t),
            error=text(data.get("error")),
            created_at=parse_time(data.get("created_at")),
            started_at=parse_time(data.get("started_at")),
            completed_at=parse_time(data.get("completed_at")),
            cancel_requested_at=parse_time(data.get("cancel_requested_at")),
            created_by=creator_name or text(data.get("created_by_email")),
            problems=tuple(problems),
        )


@dataclass(frozen=True)
class LogEntry:
    """One structured log entry and its position in the job's log list."""

    index: int
    timestamp: datetime | None
    level: str
    message: str
    data: Any

    @classmethod
    def from_api(cls, index: int, item: Any) -> LogEntry:
        """Build a LogEntry from a `LogEntry` payload, whatever its shape."""
        if not isinstance(item, dict):
            return cls(index, None, "info", text(item) or repr(item)[:500], None)
        level = (text(item.get("level")) or "info").lower()
        level = LEVEL_ALIASES.get(level, level)
        message = item.get("message")
        return cls(
            index=index,
            timestamp=parse_time(item.get("timestamp")),
            level=level if level in LOG_LEVELS else "info",
            message=message if isinstance(message, str) else ("" if message is None else str(message)),
            data=item.get("data") or None,
        )


def log_items(payload: Any) -> list[Any]:
    """The raw entries of a logs payload (`{items: [...]}` or a bare list); [] when unusable."""
    if isinstance(payload, dict):
        payload = payload.get("items")
    return payload if isinstance(payload, list) else []


def parse_logs(payload: Any, start: int = 0) -> list[LogEntry]:
    """Parse the entries of a logs payload from position `start` on, keeping their positions."""
    items = log_items(payload)
    start = max(0, start)
    return [LogEntry.from_api(start + i, item) for i, item in enumerate(items[start:])]


def parse_artifacts(payload: Any) -> dict[str, Any]:
    """Turn an artifacts payload (`{artifacts: {...}}` or a bare map) into a map."""
    if isinstance(payload, dict) and isinstance(payload.get("artifacts"), dict):
        return payload["artifacts"]
    if isinstance(payload, dict) and "artifacts" not in payload:
        return payload
    return {}

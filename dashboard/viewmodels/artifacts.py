"""The Artifacts & refs card: internal fields stripped, secrets never shown."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from dashboard.models import Job, clip, note_of

# The App hides exactly these internal worker fields from the card.
HIDDEN = frozenset({"provider_sandbox_id", "worker_id", "payload_path", "result_path"})
# Whole words of a snake/kebab key: `world_server_auth_token` is secret, `num_tokens` is not.
SECRET = re.compile(
    r"(^|[_-])(token|secret|password|passwd|api[_-]?key|apikey|credentials?|auth|authorization"
    r"|private[_-]?key)($|[_-])",
    re.IGNORECASE,
)
MASK = "•••••• (hidden)"
MAX_DEPTH = 4
MAX_RAW = 200_000  # characters of the raw view
RAW_DEPTH = 32  # the raw view's limit: past it a hostile map would exhaust the stack


@dataclass(frozen=True)
class Value:
    """A displayable artifact value: text, a ref, a list or a map."""

    kind: str  # "text", "ref", "list", "map", "empty"
    text: str = ""
    items: tuple[Value, ...] = ()
    entries: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Row:
    """One artifact key and its value."""

    key: str
    value: Value


def is_secret(key: Any) -> bool:
    """Whether a key names a secret (`world_server_auth_token`, `api_key`, …)."""
    return isinstance(key, str) and bool(SECRET.search(key))


def is_ref(text: str) -> bool:
    """Whether a string is a backend-native reference shown in monospace with a copy button."""
    return text.startswith(("tinker://", "s3://", "gs://", "hf://")) or bool(
        re.fullmatch(r"[\w./-]+@[\w.+-]+", text)
    )


def value(raw: Any, depth: int = 0) -> Value:
    """Turn any JSON value into a displayable Value, masking nested secrets."""
    if raw is None or raw == "" or raw == [] or raw == {}:
        return Value("empty", "—")
    if depth >= MAX_DEPTH:
        return Value("text", json.dumps(masked(raw), default=str)[:2000])
    if isinstance(raw, list):
        return Value("list", items=tuple(value(item, depth + 1) for item in raw))
    if isinstance(raw, dict):
        return Value("map", entries=tuple(
            (str(k), Value("text", MASK) if is_secret(k) else value(v, depth + 1))
            for k, v in raw.items()
        ))
    text = raw if isinstance(raw, str) else json.dumps(raw)
    return Value("ref" if is_ref(text) else "text", clip(text))


def rows(artifacts: dict[str, Any]) -> list[Row]:
    """The card's rows: every key but the internal fields and the secrets."""
    return [
        Row(str(key), value(raw))
        for key, raw in artifacts.items()
        if key not in HIDDEN and not is_secret(key)
    ]


def masked(raw: Any, depth: int = 0) -> Any:
    """The unfiltered map with every secret's value replaced, for the raw triage view."""
    if depth > RAW_DEPTH and isinstance(raw, dict | list):
        return "… (nested too deep to show)"
    if isinstance(raw, dict):
        return {k: MASK if is_secret(k) else masked(v, depth + 1) for k, v in raw.items()}
    if isinstance(raw, list):
        return [masked(item, depth + 1) for item in raw]
    return raw


def raw_json(artifacts: dict[str, Any]) -> str:
    """Pretty JSON of the unfiltered map, secrets masked."""
    text = json.dumps(masked(artifacts), indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return clip(text, MAX_RAW)


@dataclass(frozen=True)
class ArtifactsView:
    """The Artifacts & refs card, with a note when the artifacts payload was unusable."""

    rows: tuple[Row, ...]
    raw: str
    note: str | None
    poll_url: str | None  # polled while the job runs


def artifacts_view(job: Job, base: str, artifacts: dict[str, Any]) -> ArtifactsView:
    """The card for a job's parsed artifacts."""
    return ArtifactsView(tuple(rows(artifacts)), raw_json(artifacts), note_of(artifacts),
                         None if job.terminal else f"{base}/artifacts")

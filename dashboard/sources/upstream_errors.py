"""What a platform answer that is not a success means: one clear SourceError, free of the key."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import requests

from dashboard.sources import SourceError, not_found

MAX_ERROR_TEXT = 300  # characters of an upstream error message shown
PASSED_THROUGH = frozenset({503, 504})
MAX_ATTEMPTS = 3
BACKOFF = 0.2  # seconds before the first retry, doubled for each one after
MAX_WAIT = 2.0  # a longer Retry-After is reported to the viewer rather than waited out
UNAVAILABLE = frozenset({502, 503, 504})  # upstream codes that mean "try again"
RETRIED_KINDS = frozenset({"rate_limit", "unavailable", "unreachable", "cut_off"})
AUTH_HELP = (
    "The API key was rejected by {server}. Set DREADNODE_API_KEY, pass --api-key, "
    "or run `dn login` (~/.dreadnode/config.yaml)."
)


def error_of(response: requests.Response, server: str, redact: Callable[[str], str],
         org: str | None, workspace: str | None, job_id: str | None) -> SourceError:
    """The SourceError for a response that is not a success."""
    code = response.status_code
    if code < 400:
        where = response.headers.get("Location") or "another address"
        return SourceError(
            502,
            f"{code}: the platform redirected to {clip_text(where)}; "
            "set the server URL to the final address",
            kind="upstream",
        )
    detail, errors = details(response, redact)
    if code == 401:
        return SourceError(401, AUTH_HELP.format(server=server), kind="auth")
    if code == 403:
        scope = "/".join(p for p in (org, workspace) if p) or "this"
        return SourceError(403, f"Your API key may not see {scope}: {detail}", kind="forbidden")
    if code == 404:
        if org and workspace and job_id:
            return not_found(org, workspace, job_id)
        return SourceError(404, f"not found: {detail}", kind="not_found")
    if code == 409:
        return SourceError(409, detail, kind="conflict")
    after = retry_after(response.headers.get("Retry-After"))
    if code == 429:
        if "credit" in detail.lower():
            return SourceError(429, f"out of credits: {detail}", kind="credits")
        when = f"try again in {after:.0f} s" if after else "try again shortly"
        return SourceError(
            429, f"rate limited by the platform; {when}", kind="rate_limit", retry_after=after
        )
    if code == 422:
        extra = f" ({errors})" if errors else ""
        return SourceError(422, f"422: {detail}{extra}", kind="invalid")
    status = code if code in PASSED_THROUGH else 502
    when = f" (the platform asks to wait {after:.0f} s)" if after else ""
    kind = "unavailable" if code in UNAVAILABLE else "upstream"
    return SourceError(status, f"{code}: {detail}{when}", kind=kind, retry_after=after)

def details(response: requests.Response, redact: Callable[[str], str]) -> tuple[str, str]:
    """The human `detail` and a brief `errors[]` summary of an error body."""
    try:
        body = response.json()
    except ValueError:
        # Redact before clipping, so a clipped key cannot slip past the redaction.
        raw = " ".join(redact(response.text).split())
        return clip_text(raw) or reason(response), ""
    if isinstance(body, dict):
        detail = describe(body.get("detail")) or describe(body.get("message"))
        errors = body.get("errors")
    else:
        detail, errors = describe(body), None
    detail = clip_text(redact(detail)) or reason(response)
    summary = clip_text(redact(describe_errors(errors)))
    return detail, summary


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), if usable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), 86400.0) if math.isfinite(seconds) else None


def retry_wait(method: str, error: SourceError, attempt: int, left: float) -> float | None:
    """How long to wait before retrying a failed call, or None when it must not be retried.

    Only reads are retried (a POST might have been applied), only for answers that say
    "try again" or a connection that broke, and only while the wait fits the call's deadline.
    """
    if method != "GET" or attempt + 1 >= MAX_ATTEMPTS or error.kind not in RETRIED_KINDS:
        return None
    backoff = BACKOFF * 2**attempt * (1 + random.random() / 4)  # noqa: S311 (jitter, not a secret)
    wait = max(backoff, error.retry_after or 0.0)
    return wait if wait <= min(MAX_WAIT, left) else None


def describe(value: Any, depth: int = 0) -> str:
    """Human text from an error `detail`, which may be a string, a list or a map."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if depth > 2:
        return compact(value)
    if isinstance(value, list):
        return "; ".join(t for t in (describe(v, depth + 1) for v in value) if t)
    if isinstance(value, dict):
        message = next((value[k] for k in ("msg", "message", "detail") if k in value), None)
        if message is None:
            return compact(value)
        location = value.get("loc", value.get("field"))
        if isinstance(location, list):
            location = ".".join(str(part) for part in location)
        text = describe(message, depth + 1)
        return f"{location}: {text}" if location else text
    return str(value)


def describe_errors(errors: Any, limit: int = 3) -> str:
    """A brief summary of an `errors[]` list: the first few messages and a count of the rest."""
    if not isinstance(errors, list):
        return describe(errors)
    shown = [t for t in (describe(e, 1) for e in errors[:limit]) if t]
    more = len(errors) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def compact(value: Any) -> str:
    """Short JSON for a value that has no human text."""
    return json.dumps(value, default=str, separators=(",", ":"))


def clip_text(text: str, limit: int = MAX_ERROR_TEXT) -> str:
    """At most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason(response: requests.Response) -> str:
    """The status line's reason, for an error with no usable body."""
    if response.reason:
        return str(response.reason)
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return "no detail"

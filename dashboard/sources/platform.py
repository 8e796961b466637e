"""The real platform API over `requests`: the only place in the app that makes outbound HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from dashboard.config import Settings, api_base
from dashboard.sources import SourceError, not_found, parse_json
from dashboard.validation import valid_job_id, valid_slug

log = logging.getLogger(__name__)

MAX_TEXT = 300
MAX_BODY = 256 * 2**20  # a 1M-step job is ~60 MB; anything far bigger is not a job
PASSED_THROUGH = frozenset({503, 504})
MAX_ATTEMPTS = 3
BACKOFF = 0.2  # seconds before the first retry, doubled for each one after
MAX_WAIT = 2.0  # a longer Retry-After is reported to the viewer rather than waited out
UNAVAILABLE = frozenset({502, 503, 504})  # upstream codes that mean "try again"
RETRIED_KINDS = frozenset({"rate_limit", "unavailable", "unreachable", "cut_off"})
CHECKS = {
    "org": ("an organization", valid_slug),
    "workspace": ("a workspace", valid_slug),
    "job_id": ("a job id (a lowercase UUID)", valid_job_id),
}
AUTH_HELP = (
    "The API key was rejected by {server}. Set DREADNODE_API_KEY, pass --api-key, "
    "or run `dn login` (~/.dreadnode/config.yaml)."
)


class PlatformSource:
    """Training jobs from the platform API; every failure becomes a SourceError."""

    kind = "platform"
    read_only = False

    def __init__(self, settings: Settings, *, timeout: tuple[float, float] = (3.05, 20.0),
                 max_body: int = MAX_BODY) -> None:
        self.server = settings.server.strip().rstrip("/")
        self.base = api_base(settings.server)
        self.timeout = timeout
        self.max_body = max_body
        self._use_key(settings.api_key or "")
        self.session = requests.Session()
        # Viewers share this session (for_key): it must never carry one viewer's cookies to another.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        # A page makes three reads at once from each request thread: keep those sockets pooled.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", "X-Dreadnode-Network": settings.network})

    def _use_key(self, key: str) -> None:
        """Act with `key` from now on."""
        self._key = key
        # Cache entries are scoped by a fingerprint of server and key, never by the key itself.
        self.cache_scope = hashlib.sha256(f"{self.base}\0{key}".encode()).hexdigest()[:16]

    def for_key(self, key: str) -> PlatformSource:
        """This source acting with another API key (a signed-in viewer's), sharing connections."""
        twin = object.__new__(PlatformSource)
        twin.__dict__.update(self.__dict__)
        twin._use_key(key)
        return twin

    def __repr__(self) -> str:
        return f"PlatformSource({self.server!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    # -- training jobs -------------------------------------------------------------------

    def list_jobs(
        self, org: str, workspace: str, *, page: int, page_size: int, status: str | None = None
    ) -> dict[str, Any]:
        """One page of the workspace's training jobs, optionally of one status."""
        self._check(org=org, workspace=workspace)
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if status:
            params["status"] = status
        path = f"/org/{org}/ws/{workspace}/training/jobs"
        return self._call("GET", path, params=params, org=org, workspace=workspace)

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """One training job."""
        return self._job_call("GET", org, workspace, job_id, "")

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The job's artifacts, as `{artifacts: {...}}`."""
        return self._job_call("GET", org, workspace, job_id, "/artifacts")

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The job's whole log list, as `{items: [...]}`."""
        return self._job_call("GET", org, workspace, job_id, "/logs")

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Ask the platform to cancel a queued or running job."""
        return self._job_call("POST", org, workspace, job_id, "/cancel")

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Retry a terminal job; the answer may be a new job with another id."""
        return self._job_call("POST", org, workspace, job_id, "/retry")

    # -- identity and scope --------------------------------------------------------------

    def get_user(self) -> dict[str, Any]:
        """Who the key belongs to (checks the key)."""
        user = self._call("GET", "/user")
        return user if isinstance(user, dict) else {}

    def list_organizations(self) -> list[dict[str, Any]]:
        """The organizations the key can see (each with a `key` slug)."""
        return _items(self._call("GET", "/user/organizations"))

    def list_workspaces(self, org: str) -> list[dict[str, Any]]:
        """The organization's workspaces (each with a `key` slug and `is_default`)."""
        self._check(org=org)
        return _items(self._call("GET", f"/org/{org}/ws", org=org))

    def default_scope(self, organization: str | None, workspace: str | None) -> tuple[str, str]:
        """Fill a missing organization or workspace the way the `dn` CLI does."""
        org = organization or _first_key(self.list_organizations())
        if not org:
            raise SourceError(
                404,
                f"the API key sees no organization on {self.server}; set DREADNODE_ORGANIZATION",
                kind="scope",
            )
        if workspace:
            return org, workspace
        workspaces = self.list_workspaces(org)
        ws = _first_key([w for w in workspaces if w.get("is_default") is True]) or _first_key(
            workspaces
        )
        if not ws:
            raise SourceError(
                404,
                f"organization {org} has no workspace this API key can see; "
                "set DREADNODE_WORKSPACE",
                kind="scope",
            )
        return org, ws

    # -- plumbing ------------------------------------------------------------------------

    def _check(self, **params: object) -> None:
        """Raise a 404 SourceError for a path parameter that cannot name anything upstream."""
        for name, value in params.items():
            what, valid = CHECKS[name]
            if not valid(value):
                shown = repr(value[:80] if isinstance(value, str) else value)
                message = self._redact(f"{shown} is not {what}")
                raise SourceError(404, message, kind="not_found")

    def _job_call(self, method: str, org: str, workspace: str, job_id: str, suffix: str) -> Any:
        """Call one job's endpoint after checking every path parameter."""
        self._check(org=org, workspace=workspace, job_id=job_id)
        path = f"/org/{org}/ws/{workspace}/training/jobs/{job_id}{suffix}"
        return self._call(method, path, org=org, workspace=workspace, job_id=job_id)

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        org: str | None = None,
        workspace: str | None = None,
        job_id: str | None = None,
    ) -> Any:
        """Make one request (reads retried when safe) and return its JSON, or raise a
        SourceError free of the key."""
        deadline = time.monotonic() + self.timeout[1]
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._attempt(method, path, params, org, workspace, job_id)
            except SourceError as exc:
                error = SourceError(exc.status, self._redact(exc.message), kind=exc.kind,
                                    retry_after=exc.retry_after)
            wait = _retry_wait(method, error, attempt, deadline - time.monotonic())
            if wait is None:
                raise error from None
            log.info("%s %s -> %s, retrying in %.2f s", method, path, error.status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _attempt(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        org: str | None,
        workspace: str | None,
        job_id: str | None,
    ) -> Any:
        """One request: its parsed JSON, or a SourceError."""
        response = self._send(method, path, params)
        if not 200 <= response.status_code < 300:
            raise self._error(response, org, workspace, job_id)
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind and "json" not in kind:
            raise SourceError(
                502,
                f"the platform answered with {_clip(kind, 60)}, not JSON; "
                "is the server URL the platform's?",
                kind="upstream",
            )
        try:
            return parse_json(response.content)
        except ValueError:
            raise SourceError(
                502, "the platform sent a response that is not JSON", kind="upstream"
            ) from None

    def _send(self, method: str, path: str, params: dict[str, Any] | None) -> requests.Response:
        """Send the request and read its body, turning network failures into SourceErrors."""
        try:
            # Redirects are not followed: they could carry the key header to another host.
            response = self.session.request(
                method, self.base + path, params=params, timeout=self.timeout, allow_redirects=False,
                stream=True, headers={"X-API-Key": self._key},
            )
        except requests.Timeout as exc:
            connect, read = self.timeout
            waited = connect if isinstance(exc, requests.ConnectTimeout) else read
            log.warning("%s %s -> timeout", method, path)
            raise SourceError(
                504, f"the platform did not answer within {waited:g} s", kind="timeout"
            ) from None
        except requests.ConnectionError as exc:
            log.warning("%s %s -> unreachable", method, path)
            why = " (TLS error)" if isinstance(exc, requests.exceptions.SSLError) else ""
            raise SourceError(502, f"cannot reach {self.server}{why}", kind="unreachable") from None
        except UnicodeError:
            log.warning("%s %s -> key not sendable", method, path)
            raise SourceError(401, "the API key holds characters an HTTP header cannot carry; "
                              "check it for pasted spaces or quotes", kind="auth") from None
        except requests.RequestException as exc:
            log.warning("%s %s -> %s", method, path, exc.__class__.__name__)
            raise SourceError(
                502, f"cannot call {self.server}: {exc.__class__.__name__}", kind="config"
            ) from None
        response._content = self._read_body(response, method, path)
        level = logging.WARNING if response.status_code >= 500 else logging.DEBUG
        log.log(level, "%s %s -> %s", method, path, response.status_code)
        return response

    def _read_body(self, response: requests.Response, method: str, path: str) -> bytes:
        """The whole body in one read (requests' own reads 10 KB chunks, slow for 60 MB jobs),
        refusing one over `max_body` and reporting one cut short."""
        too_large = SourceError(
            502, f"the platform's answer is over {self.max_body / 2**20:g} MB; not read",
            kind="too_large",
        )
        try:
            declared = int(response.headers.get("Content-Length", "0"))
        except ValueError:
            declared = 0
        try:
            if declared > self.max_body:
                raise too_large
            body = response.raw.read(self.max_body + 1, decode_content=True)
            if len(body) > self.max_body:
                raise too_large
            response.raw.release_conn()  # back to the pool for the next call
            return body
        except SourceError:
            response.close()
            log.warning("%s %s -> body over %d bytes", method, path, self.max_body)
            raise
        except urllib3.exceptions.ReadTimeoutError:
            response.close()
            log.warning("%s %s -> timeout reading the body", method, path)
            raise SourceError(
                504, f"the platform did not answer within {self.timeout[1]:g} s", kind="timeout"
            ) from None
        except (urllib3.exceptions.HTTPError, OSError):
            response.close()
            log.warning("%s %s -> body cut short", method, path)
            raise SourceError(502, "the platform's answer was cut off", kind="cut_off") from None

    def _error(
        self,
        response: requests.Response,
        org: str | None,
        workspace: str | None,
        job_id: str | None,
    ) -> SourceError:
        """The SourceError for a response that is not a success."""
        code = response.status_code
        if code < 400:
            where = response.headers.get("Location") or "another address"
            return SourceError(
                502,
                f"{code}: the platform redirected to {_clip(where)}; "
                "set the server URL to the final address",
                kind="upstream",
            )
        detail, errors = self._details(response)
        if code == 401:
            return SourceError(401, AUTH_HELP.format(server=self.server), kind="auth")
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

    def _details(self, response: requests.Response) -> tuple[str, str]:
        """The human `detail` and a brief `errors[]` summary of an error body."""
        try:
            body = response.json()
        except ValueError:
            # Redact before clipping, so a clipped key cannot slip past the redaction.
            raw = " ".join(self._redact(response.text).split())
            return _clip(raw) or _reason(response), ""
        if isinstance(body, dict):
            detail = _describe(body.get("detail")) or _describe(body.get("message"))
            errors = body.get("errors")
        else:
            detail, errors = _describe(body), None
        detail = _clip(self._redact(detail)) or _reason(response)
        summary = _clip(self._redact(_describe_errors(errors)))
        return detail, summary

    def _redact(self, message: str) -> str:
        """Replace the API key wherever it appears."""
        return message.replace(self._key, "[redacted]") if self._key else message


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


def _retry_wait(method: str, error: SourceError, attempt: int, left: float) -> float | None:
    """How long to wait before retrying a failed call, or None when it must not be retried.

    Only reads are retried (a POST might have been applied), only for answers that say
    "try again" or a connection that broke, and only while the wait fits the call's deadline.
    """
    if method != "GET" or attempt + 1 >= MAX_ATTEMPTS or error.kind not in RETRIED_KINDS:
        return None
    backoff = BACKOFF * 2**attempt * (1 + random.random() / 4)  # noqa: S311 (jitter, not a secret)
    wait = max(backoff, error.retry_after or 0.0)
    return wait if wait <= min(MAX_WAIT, left) else None


def _items(payload: Any) -> list[dict[str, Any]]:
    """The dicts of a list payload, bare or wrapped as `{items: [...]}`."""
    if isinstance(payload, dict):
        payload = payload.get("items")
    return [i for i in payload if isinstance(i, dict)] if isinstance(payload, list) else []


def _first_key(entries: list[dict[str, Any]]) -> str | None:
    """The first usable slug among the entries' `key` fields."""
    return next((e["key"] for e in entries if valid_slug(e.get("key"))), None)


def _describe(value: Any, depth: int = 0) -> str:
    """Human text from an error `detail`, which may be a string, a list or a map."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if depth > 2:
        return _compact(value)
    if isinstance(value, list):
        return "; ".join(t for t in (_describe(v, depth + 1) for v in value) if t)
    if isinstance(value, dict):
        message = next((value[k] for k in ("msg", "message", "detail") if k in value), None)
        if message is None:
            return _compact(value)
        location = value.get("loc", value.get("field"))
        if isinstance(location, list):
            location = ".".join(str(part) for part in location)
        text = _describe(message, depth + 1)
        return f"{location}: {text}" if location else text
    return str(value)


def _describe_errors(errors: Any, limit: int = 3) -> str:
    """A brief summary of an `errors[]` list: the first few messages and a count of the rest."""
    if not isinstance(errors, list):
        return _describe(errors)
    shown = [t for t in (_describe(e, 1) for e in errors[:limit]) if t]
    more = len(errors) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _compact(value: Any) -> str:
    """Short JSON for a value that has no human text."""
    return json.dumps(value, default=str, separators=(",", ":"))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    """At most `limit` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(response: requests.Response) -> str:
    """The status line's reason, for an error with no usable body."""
    if response.reason:
        return str(response.reason)
    try:
        return HTTPStatus(response.status_code).phrase
    except ValueError:
        return "no detail"

"""The real platform API over `requests`: the only place in the app that makes outbound HTTP."""

from __future__ import annotations

import hashlib
import logging
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from dashboard.config import Settings, api_base
from dashboard.sources import SourceError, parse_json
from dashboard.sources.upstream_errors import MAX_ATTEMPTS, clip_text, error_of, retry_wait
from dashboard.validation import valid_job_id, valid_slug

log = logging.getLogger(__name__)

MAX_BODY = 256 * 2**20  # a 1M-step job is ~60 MB; anything far bigger is not a job
CHECKS = {
    "org": ("an organization", valid_slug),
    "workspace": ("a workspace", valid_slug),
    "job_id": ("a job id (a lowercase UUID)", valid_job_id),
}


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
                response = self._send(method, path, params)
                if not 200 <= response.status_code < 300:
                    raise error_of(response, self.server, self._redact, org, workspace, job_id)
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if kind and "json" not in kind:
                    raise SourceError(
                        502,
                        f"the platform answered with {clip_text(kind, 60)}, not JSON; "
                        "is the server URL the platform's?",
                        kind="upstream",
                    )
                try:
                    return parse_json(response.content)
                except ValueError:
                    raise SourceError(
                        502, "the platform sent a response that is not JSON", kind="upstream"
                    ) from None
            except SourceError as exc:
                error = SourceError(exc.status, self._redact(exc.message), kind=exc.kind,
                                    retry_after=exc.retry_after)
            wait = retry_wait(method, error, attempt, deadline - time.monotonic())
            if wait is None:
                raise error from None
            log.info("%s %s -> %s, retrying in %.2f s", method, path, error.status, wait)
            time.sleep(wait)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

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

    def _redact(self, message: str) -> str:
        """Replace the API key wherever it appears."""
        return message.replace(self._key, "[redacted]") if self._key else message


def _items(payload: Any) -> list[dict[str, Any]]:
    """The dicts of a list payload, bare or wrapped as `{items: [...]}`."""
    if isinstance(payload, dict):
        payload = payload.get("items")
    return [i for i in payload if isinstance(i, dict)] if isinstance(payload, list) else []


def _first_key(entries: list[dict[str, Any]]) -> str | None:
    """The first usable slug among the entries' `key` fields."""
    return next((e["key"] for e in entries if valid_slug(e.get("key"))), None)

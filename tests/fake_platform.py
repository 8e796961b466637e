"""A fake Dreadnode platform: a real HTTP server on 127.0.0.1 speaking the contract in API.md.

Usable from tests (the `fake_platform` fixture) and from scripts:

    from tests.fake_platform import FakePlatform, add_sample_jobs
    with FakePlatform(api_key="dn_key_x") as fake:
        add_sample_jobs(fake)
        ...  # point Settings(server=fake.url, api_key="dn_key_x") at it
"""

from __future__ import annotations

import copy
import json
import re
import socket
import struct
import sys
import threading
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/api/v1"
DEFAULT_KEY = "dn_key_test_canary_123"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
CANCELLABLE = frozenset({"queued", "pending", "running"})
LIST_FILTERS = ("status", "backend", "trainer_type", "project_ref")

SFT_JOB_ID = "3f2c9a7e-1b4d-4c8e-9f60-2a7d5e1c0b11"
RL_JOB_ID = "8d1e4b2a-6c3f-4a9b-b7e2-5f0c9d3a1e22"

JOBS = re.compile(r"/org/(?P<org>[^/]+)/ws/(?P<ws>[^/]+)/training/jobs")
JOB = re.compile(JOBS.pattern + r"/(?P<job_id>[^/]+)(?P<action>/artifacts|/logs|/cancel|/retry)?")
WORKSPACES = re.compile(r"/org/(?P<org>[^/]+)/ws")


@dataclass(frozen=True)
class Request:
    """One request the fake received; header names are lowercased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Fault:
    """An injected response for requests whose path contains `path`."""

    path: str
    status: int | None
    body: Any = None
    content_type: str = "application/json"
    delay: float = 0.0
    method: str | None = None
    times: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut: str | None = None  # "reset": drop the connection unanswered; "truncate": stop mid-body


@dataclass
class Reply:
    """What the fake answers: a status, a body and its content type."""

    status: int
    body: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    cut: str | None = None


class FakeError(Exception):
    """An error reply in the platform's `{code, detail, type, errors?}` shape."""

    def __init__(self, status: int, detail: Any, kind: str, errors: list[Any] | None = None):
        super().__init__(detail)
        self.reply = Reply(status, {"code": status, "detail": detail, "type": kind})
        if errors is not None:
            self.reply.body["errors"] = errors


class FakePlatform:
    """A platform on a free port of 127.0.0.1, with its jobs held as plain dicts."""

    def __init__(self, api_key: str = DEFAULT_KEY, *, host: str = "127.0.0.1", port: int = 0):
        self.api_key = api_key
        self.api_keys = {api_key}  # every key the fake accepts (add more for several viewers)
        self.latency = 0.0
        self.requests: list[Request] = []
        self.user: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "email": "ada@acme.example",
            "username": "ada",
            "full_name": "Ada Lovelace",
        }
        self.organizations: list[dict[str, Any]] = []
        self.workspaces: dict[str, list[dict[str, Any]]] = {}
        self.jobs: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.artifacts: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), _handler_for(self))
        # A short poll interval keeps stop() (and each test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-platform", daemon=True
        )

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The web root, as a user would configure it (`DREADNODE_SERVER`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The API base (`url` plus `/api/v1`)."""
        return self.url + API_PREFIX

    def start(self) -> FakePlatform:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; delayed replies are cut short."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ----------------------------------------------------------------------------

    def add_organization(self, key: str, name: str | None = None) -> dict[str, Any]:
        """Register an organization (once) and return it."""
        with self._lock:
            for org in self.organizations:
                if org["key"] == key:
                    return org
            org = {"id": str(uuid.uuid4()), "key": key, "name": name or key.title()}
            self.organizations.append(org)
            self.workspaces.setdefault(key, [])
            return org

    def add_workspace(self, org: str, key: str, *, is_default: bool = False) -> dict[str, Any]:
        """Register a workspace of `org` (once) and return it."""
        with self._lock:
            organization = self.add_organization(org)
            for ws in self.workspaces[org]:
                if ws["key"] == key:
                    ws["is_default"] = ws["is_default"] or is_default
                    return ws
            ws = {
                "id": str(uuid.uuid4()),
                "key": key,
                "name": key.title(),
                "organization_id": organization["id"],
                "is_default": is_default,
            }
            self.workspaces[org].append(ws)
            return ws

    def add_job(
        self,
        org: str,
        ws: str,
        job: dict[str, Any] | None = None,
        *,
        artifacts: dict[str, Any] | None = None,
        logs: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a job (defaults filled in) with its artifacts and logs; return the stored dict."""
        with self._lock:
            workspace = self.add_workspace(org, ws)
            stored = _new_job(workspace) | copy.deepcopy(job or {})
            job_id = str(stored["id"])
            self.jobs.setdefault((org, ws), {})[job_id] = stored
            given = artifacts if artifacts is not None else stored.get("artifacts") or {}
            self.artifacts[job_id] = copy.deepcopy(given)
            self.logs[job_id] = copy.deepcopy(logs or [])
            return stored

    def job(self, job_id: str) -> dict[str, Any]:
        """The stored job dict (change it in place to make a job move on)."""
        for jobs in self.jobs.values():
            if job_id in jobs:
                return jobs[job_id]
        raise KeyError(job_id)

    def append_log(self, job_id: str, entry: dict[str, Any]) -> None:
        """Add one entry to a job's logs."""
        with self._lock:
            self.logs[job_id].append(entry)

    # -- fault injection and assertions --------------------------------------------------

    def fail(
        self,
        path_substring: str,
        status: int | None,
        body: Any = None,
        *,
        content_type: str = "application/json",
        delay: float = 0.0,
        method: str | None = None,
        times: int | None = None,
        headers: dict[str, str] | None = None,
        cut: str | None = None,
    ) -> Fault:
        """Answer matching requests with `status` and `body` (after `delay` s).

        `status=None` only delays and then answers normally. A dict or list body is sent as
        JSON, a str or bytes as is; with no body, a platform-shaped error is made up.
        `times` limits how often the fault fires (None: until `reset()`). `headers` are added
        to the reply (e.g. `Retry-After`). `cut="reset"` resets the connection instead of
        answering; `cut="truncate"` promises the whole body but sends half of it and hangs up.
        """
        fault = Fault(path_substring, status, body, content_type, delay, method, times,
                      dict(headers or {}), cut)
        with self._lock:
            self._faults.append(fault)
        return fault

    def reset(self) -> None:
        """Forget faults, latency and recorded requests (the stored jobs stay)."""
        with self._lock:
            self._faults.clear()
            self.latency = 0.0
            self.requests.clear()

    def requests_to(self, path_substring: str) -> list[Request]:
        """The recorded requests whose path contains `path_substring`."""
        with self._lock:
            return [r for r in self.requests if path_substring in r.path]

    # -- serving -------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer one request: record it, apply latency and faults, check the key, route it."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(Request(method, parts.path, query, headers, body))
            fault = self._take_fault(method, parts.path)
        self._sleep(self.latency)
        if fault is not None:
            self._sleep(fault.delay)
            if fault.status is not None or fault.cut == "reset":
                return _fault_reply(fault)
        if headers.get("x-api-key") not in self.api_keys:
            return FakeError(401, "Invalid or missing API key", "authentication_error").reply
        try:
            with self._lock:
                return Reply(200, copy.deepcopy(self._route(method, parts.path, query)))
        except FakeError as exc:
            return exc.reply
        except Exception as exc:
            traceback.print_exc()
            return FakeError(500, f"fake platform bug: {exc!r}", "internal_error").reply

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request, counting it down."""
        for fault in self._faults:
            if fault.path in path and (fault.method is None or fault.method == method):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _sleep(self, seconds: float) -> None:
        """Wait, unless the fake is stopping."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _route(self, method: str, path: str, query: dict[str, str]) -> Any:
        """Dispatch to the endpoint for `path` (under the API prefix)."""
        if not path.startswith(API_PREFIX + "/"):
            raise FakeError(404, "Not Found", "not_found")
        path = path[len(API_PREFIX) :]
        if match := JOB.fullmatch(path):
            _allow(method, "POST" if match["action"] in ("/cancel", "/retry") else "GET")
            org, ws, job_id, action = match["org"], match["ws"], match["job_id"], match["action"]
            job = self._find_job(org, ws, job_id)
            if action is None:
                return self._job_payload(job)
            if action == "/artifacts":
                return {"artifacts": self.artifacts.get(job["id"], {})}
            if action == "/logs":
                return {"items": self.logs.get(job["id"], [])}
            if action == "/cancel":
                return self._cancel(job)
            return self._retry(org, ws, job)
        if match := JOBS.fullmatch(path):
            _allow(method, "GET")
            return self._list_jobs(match["org"], match["ws"], query)
        if match := WORKSPACES.fullmatch(path):
            _allow(method, "GET")
            self._check_org(match["org"])
            return self.workspaces[match["org"]]
        if path == "/user":
            _allow(method, "GET")
            return self.user
        if path == "/user/organizations":
            _allow(method, "GET")
            return self.organizations
        raise FakeError(404, "Not Found", "not_found")

    def _check_org(self, org: str) -> None:
        """Raise a 404 for an organization the fake does not have."""
        if org not in self.workspaces:
            raise FakeError(404, f"Organization '{org}' not found", "not_found")

    def _check_workspace(self, org: str, ws: str) -> None:
        """Raise a 404 for a workspace the fake does not have."""
        self._check_org(org)
        if not any(w["key"] == ws for w in self.workspaces[org]):
            raise FakeError(404, f"Workspace '{ws}' not found", "not_found")

    def _find_job(self, org: str, ws: str, job_id: str) -> dict[str, Any]:
        """The job, or the platform's 404."""
        self._check_workspace(org, ws)
        job = self.jobs.get((org, ws), {}).get(job_id)
        if job is None:
            raise FakeError(404, f"Training job {job_id} not found", "not_found")
        return job

    def _job_payload(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job as the API returns it, with its current artifacts."""
        return job | {"artifacts": self.artifacts.get(job["id"], {})}

    def _list_jobs(self, org: str, ws: str, query: dict[str, str]) -> dict[str, Any]:
        """One page of jobs, newest first, filtered like the platform does."""
        self._check_workspace(org, ws)
        page = _bounded_int(query, "page", 1, 1, None)
        page_size = _bounded_int(query, "page_size", 20, 1, 100)
        jobs = [
            j
            for j in self.jobs.get((org, ws), {}).values()
            if all(query.get(f) in (None, j.get(f)) for f in LIST_FILTERS)
        ]
        jobs.sort(key=lambda j: str(j.get("created_at") or ""), reverse=True)
        start = (page - 1) * page_size
        return {
            "items": [self._job_payload(j) for j in jobs[start : start + page_size]],
            "total": len(jobs),
            "page": page,
            "page_size": page_size,
        }

    def _cancel(self, job: dict[str, Any]) -> dict[str, Any]:
        """Cancel a queued or running job; 409 otherwise."""
        if job.get("status") not in CANCELLABLE:
            raise FakeError(409, f"Cannot cancel a job in status {job.get('status')}", "conflict")
        now = _now()
        job.update(status="cancelled", cancel_requested_at=now, completed_at=now)
        return self._job_payload(job)

    def _retry(self, org: str, ws: str, job: dict[str, Any]) -> dict[str, Any]:
        """Retry a terminal job as a new queued job; 409 otherwise."""
        if job.get("status") not in TERMINAL:
            raise FakeError(409, f"Cannot retry a job in status {job.get('status')}", "conflict")
        fresh = copy.deepcopy(job) | {
            "id": str(uuid.uuid4()),
            "status": "queued",
            "created_at": _now(),
            "started_at": None,
            "completed_at": None,
            "cancel_requested_at": None,
            "error": None,
            "metrics": {},
            "artifacts": {},
        }
        return self._job_payload(self.add_job(org, ws, fresh))


class _Server(ThreadingHTTPServer):
    """A threading server that closes kept-alive connections on close and ignores hang-ups."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]):
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            for request in list(self._open):
                try:
                    request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected; anything else is a bug in the fake.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _handler_for(fake: FakePlatform) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to `fake`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle adds ~40 ms per reply.
        disable_nagle_algorithm = True
        server_version = "FakeDreadnode/1.0"

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def do_DELETE(self) -> None:
            self._answer()

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.handle(self.command, self.path, headers, body)
            if reply.cut == "reset":
                # Linger 0: closing sends a TCP reset, as a crashed proxy would.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            payload = _encode(reply.body)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.cut == "truncate":
                self.wfile.write(payload[: len(payload) // 2])
                self.close_connection = True
                return
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet; tests read `fake.requests` instead."""

    return Handler


def _encode(body: Any) -> bytes:
    """Bytes for a reply body: JSON unless it already is text or bytes."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _fault_reply(fault: Fault) -> Reply:
    """The reply an injected fault gives."""
    body = fault.body
    if body is None and fault.status is not None and fault.status >= 400:
        body = {"code": fault.status, "detail": "injected failure", "type": "error"}
    return Reply(fault.status or 200, b"" if body is None else body, fault.content_type,
                 dict(fault.headers), fault.cut)


def _allow(method: str, allowed: str) -> None:
    """Raise a 405 unless `method` is the allowed one."""
    if method != allowed:
        raise FakeError(405, "Method Not Allowed", "method_not_allowed")


def _bounded_int(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    """A query integer within bounds, or the platform's 422 with `errors[]`."""
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        problem = "Input should be a valid integer"
    else:
        if value >= low and (high is None or value <= high):
            return value
        bound = f"between {low} and {high}" if high else f">= {low}"
        problem = f"Input should be {bound}"
    error = {"loc": ["query", name], "msg": problem, "type": "value_error"}
    raise FakeError(422, "Request validation failed", "validation_error", errors=[error])


def _now() -> str:
    """The current time in the API's ISO 8601 form."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_job(workspace: dict[str, Any]) -> dict[str, Any]:
    """A TrainingJob with every field at its default."""
    return {
        "id": str(uuid.uuid4()),
        "organization_id": workspace["organization_id"],
        "workspace_id": workspace["id"],
        "status": "queued",
        "name": None,
        "backend": "tinker",
        "trainer_type": "sft",
        "algorithm": None,
        "model": "Qwen/Qwen3-8B",
        "project_ref": None,
        "run_ref": None,
        "task_ref": None,
        "world_manifest_id": None,
        "world_runtime_id": None,
        "world_agent_name": None,
        "world_goal": None,
        "dataset_ref": None,
        "prompt_dataset_ref": None,
        "trajectory_dataset_refs": [],
        "capability": None,
        "config": {},
        "metrics": {},
        "artifacts": {},
        "tags": [],
        "error": None,
        "created_at": _now(),
        "started_at": None,
        "completed_at": None,
        "cancel_requested_at": None,
        "created_by": None,
        "created_by_email": "ada@acme.example",
        "created_by_user": {
            "id": str(uuid.uuid4()),
            "email": "ada@acme.example",
            "username": "ada",
            "full_name": "Ada Lovelace",
        },
    }


# -- realistic sample jobs ----------------------------------------------------------------

SFT_METRICS: dict[str, Any] = {
    "train/steps": 3,
    "train/num_examples": 40,
    "train/num_tokens_processed": 51234,
    "train/num_sequences_processed": 120,
    "train/epochs_completed": 1.0,
    "steps": [1, 2, 3],
    "train/loss": [1.91, 1.42, 1.18],
    "train_loss": [1.91, 1.42, 1.18],
    "train/loss_last": 1.18,
    "train/loss_mean": 1.5033,
    "train/loss_best": 1.18,
    "train/learning_rate": [0.0001, 0.0001, 0.0001],
    "learning_rate": [0.0001, 0.0001, 0.0001],
    "eval/num_examples": 10,
    "eval/loss": 1.27,
    "eval/steps": [3],
    "eval/loss_history": [1.27],
}

RL_METRICS: dict[str, Any] = {
    "train/steps": 4,
    "train/num_rollouts": 256,
    "train/reward_mean": 0.41,
    "train/reward_max": 1.0,
    "train/reward_min": 0.0,
    "async/generation_step": 5,
    "async/training_step": 4,
    "async/model_version": 4,
    "async/last_synced_model_version": 3,
    "async/weight_sync_count": 4,
    "async/max_staleness_observed": 1,
    "async/max_pending_generation_groups": 2,
    "steps": [1, 2, 3, 4],
    "train/reward": [0.12, 0.25, 0.33, 0.41],
    "train/reward_max_per_step": [0.5, 0.75, 1.0, 1.0],
    "train/reward_min_per_step": [0.0, 0.0, 0.0, 0.0],
    "train/staleness": [0, 1, 1, 0],
}


def sample_sft_job() -> dict[str, Any]:
    """A completed Tinker SFT job with the namespaced metrics of API.md."""
    run = "ffa04fd4-5b6e-5a36-9fb6-f442b22748c2"
    return {
        "id": SFT_JOB_ID,
        "status": "completed",
        "name": "webapp-audit-sft",
        "backend": "tinker",
        "trainer_type": "sft",
        "model": "Qwen/Qwen3-8B",
        "project_ref": "webapp-audit",
        "dataset_ref": {"name": "webapp-conversations", "version": "1.2.0"},
        "capability": {
            "artifact_id": None,
            "name": "webapp-auditor",
            "version": "0.3.1",
            "runtime_digest": None,
        },
        "config": {"batch_size": 8, "learning_rate": 0.0001, "epochs": 1, "lora_rank": 32},
        "metrics": copy.deepcopy(SFT_METRICS),
        "tags": ["sft", "webapp"],
        "created_at": "2026-11-20T09:59:40Z",
        "started_at": "2026-11-20T10:00:00Z",
        "completed_at": "2026-11-20T10:09:41Z",
        "updated_at": "2026-11-20T10:09:41Z",
        "artifacts": {
            "capability": "webapp-auditor@0.3.1",
            "checkpoints": [
                f"tinker://{run}:train:0/sampler_weights/checkpoint-1-step10",
                f"tinker://{run}:train:0/sampler_weights/final",
            ],
            "dataset": "webapp-conversations@1.2.0",
            "trajectory_datasets": [],
            "eval_dataset": "webapp-conversations-eval@1.2.0",
            "sandbox_id": "sbx-7f3a",
            "provider_sandbox_id": "prov-91c2",
            "worker_id": "worker-12",
            "payload_path": "s3://dn-training/payloads/sft.json",
            "result_path": "s3://dn-training/results/sft.json",
        },
    }


def sample_sft_logs() -> list[dict[str, Any]]:
    """The log list of the sample SFT job."""
    run = "ffa04fd4-5b6e-5a36-9fb6-f442b22748c2"
    checkpoint = f"tinker://{run}:train:0/sampler_weights/checkpoint-1-step10"
    return [
        {
            "timestamp": "2026-11-20T10:00:02Z",
            "level": "info",
            "message": "Training started on Qwen/Qwen3-8B",
            "data": {"trainer_type": "sft", "backend": "tinker"},
        },
        {
            "timestamp": "2026-11-20T10:03:10Z",
            "level": "info",
            "message": "checkpoint 1 saved",
            "data": {"checkpoint_num": 1, "latest_checkpoint": checkpoint},
        },
        {
            "timestamp": "2026-11-20T10:05:00Z",
            "level": "info",
            "message": "evaluation complete",
            "data": {"eval/loss": 1.27, "eval/num_examples": 10},
        },
        {
            "timestamp": "2026-11-20T10:09:41Z",
            "level": "info",
            "message": "Training complete",
            "data": {},
        },
    ]


def sample_rl_job() -> dict[str, Any]:
    """A running Tinker RL (GRPO) job with scalar summaries and per-step reward series."""
    return {
        "id": RL_JOB_ID,
        "status": "running",
        "name": None,
        "backend": "tinker",
        "trainer_type": "rl",
        "algorithm": "grpo",
        "model": "Qwen/Qwen3-4B",
        "project_ref": "webapp-audit",
        "task_ref": "find-sqli",
        "world_manifest_id": "wm-5c1d",
        "world_goal": "Find and exploit the SQL injection in the login form.",
        "prompt_dataset_ref": {"name": "sqli-prompts", "version": "0.2.0"},
        "capability": {
            "artifact_id": None,
            "name": "webapp-auditor",
            "version": "0.3.1",
            "runtime_digest": None,
        },
        "config": {"group_size": 8, "learning_rate": 4e-05, "max_steps": 20},
        "metrics": copy.deepcopy(RL_METRICS),
        "tags": ["rl"],
        "created_at": "2026-11-21T08:00:00Z",
        "started_at": "2026-11-21T08:00:30Z",
        "artifacts": {
            "capability": "webapp-auditor@0.3.1",
            "execution_mode": "async",
            "prompt_dataset": "sqli-prompts@0.2.0",
            "task": "find-sqli",
            "world_manifest_id": "wm-5c1d",
            "world_server_url": "https://worlds.internal.example/wm-5c1d",
            "world_server_auth_token": "wst_secret_never_show_me",
            "sandbox_id": "sbx-2b9e",
            "worker_id": "worker-7",
        },
    }


def sample_rl_logs() -> list[dict[str, Any]]:
    """The log list (so far) of the sample RL job."""
    return [
        {
            "timestamp": "2026-11-21T08:00:31Z",
            "level": "info",
            "message": "Training started on Qwen/Qwen3-4B",
            "data": {"trainer_type": "rl", "backend": "tinker", "algorithm": "grpo"},
        },
        {
            "timestamp": "2026-11-21T08:02:05Z",
            "level": "warning",
            "message": "rollout group 3 timed out; resampling",
            "data": {"group": 3},
        },
        {
            "timestamp": "2026-11-21T08:04:12Z",
            "level": "info",
            "message": "step 4 complete",
            "data": {"train/reward_mean": 0.41},
        },
    ]


def add_sample_jobs(fake: FakePlatform, org: str = "acme", ws: str = "research") -> None:
    """Give `fake` two organizations, a default workspace that is not listed first, and two jobs."""
    fake.add_organization(org, "Acme Corp")
    fake.add_organization("globex", "Globex")
    fake.add_workspace(org, "sandbox")
    fake.add_workspace(org, ws, is_default=True)
    fake.add_workspace("globex", "main", is_default=True)
    fake.add_job(org, ws, sample_sft_job(), logs=sample_sft_logs())
    fake.add_job(org, ws, sample_rl_job(), logs=sample_rl_logs())

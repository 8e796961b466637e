"""A job source holding a few fixed jobs, for route tests that need a job of their own shape."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources import not_found, read_only_error

ORG, WORKSPACE = "acme", "research"
JOBS = f"/{ORG}/{WORKSPACE}/training/jobs"


class StaticSource:
    """Jobs (with their logs) that never change; read-only."""

    kind = "demo"
    read_only = True
    cache_scope = ""

    def __init__(self, jobs: dict[str, tuple[dict[str, Any], list[Any]]]) -> None:
        self.jobs = jobs

    def list_jobs(self, org: str, workspace: str, *, page: int = 1, page_size: int = 20,
                  status: str | None = None) -> dict[str, Any]:
        items = [copy.deepcopy(job) for job, _ in self.jobs.values()]
        return {"items": items, "total": len(items), "page": page, "page_size": page_size}

    def _entry(self, org: str, workspace: str, job_id: str) -> tuple[dict[str, Any], list[Any]]:
        if job_id not in self.jobs:
            raise not_found(org, workspace, job_id)
        return self.jobs[job_id]

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._entry(org, workspace, job_id)[0])

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        self._entry(org, workspace, job_id)
        return {"artifacts": {}}

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        return {"items": list(self._entry(org, workspace, job_id)[1])}

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        raise read_only_error("the test source")

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        raise read_only_error("the test source")

    def default_scope(self, org: str | None, workspace: str | None) -> tuple[str, str]:
        return ORG, WORKSPACE


def static_app(jobs: dict[str, tuple[dict[str, Any], list[Any]]]) -> Flask:
    """The dashboard over these jobs, in test mode."""
    app = create_app(Settings("demo", organization=ORG, workspace=WORKSPACE), StaticSource(jobs))
    app.config["TESTING"] = True
    return app


def job(job_id: str, metrics: dict[str, Any] | None = None, status: str = "completed",
        **fields: Any) -> dict[str, Any]:
    """A finished SFT job with these metrics."""
    return {"id": job_id, "status": status, "name": "test-job", "backend": "tinker",
            "trainer_type": "sft", "model": "Qwen/Qwen3-8B", "created_at": "2026-11-20T10:00:00Z",
            "started_at": "2026-11-20T10:00:05Z", "completed_at": "2026-11-20T11:00:00Z",
            "metrics": metrics or {}, **fields}

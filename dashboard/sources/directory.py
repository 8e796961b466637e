"""The directory source: jobs exported with `dn train get/artifacts/logs <id> --json`.

Two layouts are read from the top level of the folder:
- one folder per job: `<anything>/job.json`, with optional `artifacts.json` and `logs.json`
  (the folder given may itself be such a job folder);
- flat files: `<name>.json` (the job), with optional `<name>.artifacts.json` and `<name>.logs.json`.
Job ids are looked up in the files' content and never joined into a path.
"""

from __future__ import annotations

import copy
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dashboard.models import parse_time
from dashboard.sources import LocalSource, SourceError, not_found, page_of, parse_json, read_only_error

log = logging.getLogger(__name__)

JOB_FILE, ARTIFACTS_FILE, LOGS_FILE = "job.json", "artifacts.json", "logs.json"
COMPANION_SUFFIXES = (".artifacts.json", ".logs.json")
_OLDEST = datetime.min.replace(tzinfo=UTC)


class BrokenFile(Exception):
    """A file that could not be read as JSON."""


@dataclass(frozen=True)
class Export:
    """Where one exported job's files are (the companions may not exist)."""

    name: str  # the folder name or file stem, used only to report a broken job by name
    job: Path
    artifacts: Path
    logs: Path


def _folder_export(folder: Path) -> Export:
    """The files of a job exported as one folder."""
    return Export(folder.name, folder / JOB_FILE, folder / ARTIFACTS_FILE, folder / LOGS_FILE)


class DirectorySource(LocalSource):
    """Read-only jobs from a folder of `dn train … --json` exports."""

    kind = "directory"
    read_only = True

    def __init__(self, root: Path, organization: str, workspace: str) -> None:
        self.root = Path(root).resolve()
        self.scope = (organization, workspace)
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple[int, int], Any]] = {}

    # --- the JobSource interface ---

    def list_jobs(self, org: str, workspace: str, *, page: int = 1, page_size: int = 20,
                  status: str | None = None) -> dict[str, Any]:
        """Every readable exported job, newest first."""
        if (org, workspace) != self.scope:
            raise SourceError(404, f"no workspace {org}/{workspace}", kind="not_found")
        jobs = [job for job, _ in self._jobs().values()]
        jobs.sort(key=lambda j: parse_time(j.get("created_at")) or _OLDEST, reverse=True)
        items = [j for j in jobs if status is None or j.get("status") == status]
        return page_of(items, page, page_size, copy.deepcopy)

    def get_job(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """One exported `TrainingJob`."""
        return copy.deepcopy(self._find(org, workspace, job_id)[0])

    def get_artifacts(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The artifacts export, else the job's own `artifacts` field."""
        job, export = self._find(org, workspace, job_id)
        payload = self._companion(export.artifacts)
        if payload is None:
            own = job.get("artifacts")
            return {"artifacts": copy.deepcopy(own) if isinstance(own, dict) else {}}
        if isinstance(payload, dict) and isinstance(payload.get("artifacts"), dict):
            return {"artifacts": copy.deepcopy(payload["artifacts"])}
        if isinstance(payload, dict):
            return {"artifacts": copy.deepcopy(payload)}
        raise SourceError(422, f"{self._show(export.artifacts)}: not an artifacts export")

    def get_logs(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """The logs export (`{"items": [...]}` or a bare list); none when there is no file."""
        _, export = self._find(org, workspace, job_id)
        payload = self._companion(export.logs)
        if payload is None:
            return {"items": []}
        if isinstance(payload, list):
            return {"items": copy.deepcopy(payload)}
        if isinstance(payload, dict) and "items" in payload:
            return {"items": copy.deepcopy(payload["items"])}
        raise SourceError(422, f"{self._show(export.logs)}: not a logs export")

    def cancel(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Exports cannot be changed."""
        raise read_only_error(f"the {self.kind} source")

    def retry(self, org: str, workspace: str, job_id: str) -> dict[str, Any]:
        """Exports cannot be changed."""
        raise read_only_error(f"the {self.kind} source")

    # --- internals ---

    def _find(self, org: str, workspace: str, job_id: str) -> tuple[dict[str, Any], Export]:
        """The job with this id (looked up by content, never used as a path), or an error."""
        if (org, workspace) != self.scope:
            raise not_found(org, workspace, job_id)
        broken: dict[str, Path] = {}
        jobs = self._jobs(broken)
        if job_id in jobs:
            return jobs[job_id]
        if job_id in broken:
            raise SourceError(422, f"{self._show(broken[job_id])}: not valid JSON")
        raise not_found(org, workspace, job_id)

    def _jobs(self, broken: dict[str, Path] | None = None,
              ) -> dict[str, tuple[dict[str, Any], Export]]:
        """Scan the folder: readable jobs by id; broken job files by folder name or stem."""
        found: dict[str, tuple[dict[str, Any], Export]] = {}
        for export in self._exports():
            try:
                job = self._read(export.job)
            except BrokenFile:
                log.warning("skipping %s: not valid JSON", self._show(export.job))
                if broken is not None:
                    broken.setdefault(export.name, export.job)
                continue
            job_id = job.get("id") if isinstance(job, dict) else None
            if not isinstance(job_id, str) or not job_id:
                log.warning("skipping %s: not a training job (no `id`)", self._show(export.job))
            elif job_id in found:
                log.warning("skipping %s: job %s is also in %s", self._show(export.job), job_id,
                            self._show(found[job_id][1].job))
            else:
                found[job_id] = (job, export)
        return found

    def _exports(self) -> list[Export]:
        """Every job file in the folder, in either layout, inside the root."""
        try:
            entries = sorted(self.root.iterdir())
        except OSError as exc:
            log.warning("cannot list %s: %s", self.root, exc.__class__.__name__)
            return []
        candidates = []
        skip: tuple[str, ...] = ()
        if (self.root / JOB_FILE).is_file():
            candidates.append(_folder_export(self.root))
            skip = (JOB_FILE, ARTIFACTS_FILE, LOGS_FILE)
        for path in entries:
            if path.name.startswith(".") or path.name in skip:
                continue
            if path.is_dir():
                candidates.append(_folder_export(path))
            elif path.suffix == ".json" and not path.name.endswith(COMPANION_SUFFIXES):
                stem = path.name.removesuffix(".json")
                candidates.append(Export(stem, path, path.with_name(f"{stem}.artifacts.json"),
                                         path.with_name(f"{stem}.logs.json")))
        return [export for export in candidates if export.job.is_file() and self._inside(export.job)]

    def _inside(self, path: Path) -> bool:
        """Whether a path, links resolved, stays inside the root; a warning when it does not."""
        try:
            inside = path.resolve().is_relative_to(self.root)
        except (OSError, RuntimeError):
            inside = False
        if not inside:
            log.warning("ignoring %s: it leads outside %s", self._show(path), self.root)
        return inside

    def _companion(self, path: Path) -> Any | None:
        """A companion file's JSON, None when it does not exist (or leads outside the root)."""
        if not path.is_file():
            return None
        if not self._inside(path):
            return None
        try:
            return self._read(path)
        except BrokenFile:
            raise SourceError(422, f"{self._show(path)}: not valid JSON") from None

    def _read(self, path: Path) -> Any:
        """Parse a JSON file, reusing the last parse while its mtime and size are unchanged."""
        try:
            stat = path.stat()
        except OSError as exc:
            raise BrokenFile(path) from exc
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            value = parse_json(path.read_bytes())
        except (OSError, ValueError, RecursionError) as exc:
            raise BrokenFile(path) from exc
        with self._lock:
            self._cache[path] = (key, value)
        return value

    def _show(self, path: Path) -> str:
        """A path as shown in messages: relative to the root."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.name

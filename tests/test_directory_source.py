"""Behaviour of the directory source: jobs exported with `dn train … --json`."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from dashboard.models import Job, parse_logs
from dashboard.sources import SourceError
from dashboard.sources.directory import DirectorySource

ORG, WS = "local", "exported"
EXPORTED = Path(__file__).parent / "data" / "exported"
EXPORTED_ID = "7d1f2c4e-8b3a-4c6e-9f21-5a0d3e7b9c14"

FOLDER_ID = "11111111-1111-4111-8111-111111111111"
FLAT_ID = "22222222-2222-4222-8222-222222222222"
BARE_ID = "33333333-3333-4333-8333-333333333333"


def training_job(job_id: str, created_at: str, status: str = "completed", **extra) -> dict:
    return {"id": job_id, "status": status, "name": f"job-{job_id[:4]}", "backend": "tinker",
            "trainer_type": "sft", "model": "Qwen/Qwen3-8B", "created_at": created_at,
            "metrics": {}, "artifacts": {"from": "job"}, **extra}


def entries(*messages: str) -> list[dict]:
    return [{"timestamp": f"2026-11-20T10:00:0{i}Z", "level": "info", "message": m, "data": {}}
            for i, m in enumerate(messages)]


def write(path: Path, payload: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A folder holding both layouts, with envelopes in one and bare payloads in the other."""
    folder = tmp_path / "exports" / "run-a"
    write(folder / "job.json", training_job(FOLDER_ID, "2026-11-19T08:00:00Z"))
    write(folder / "artifacts.json", {"artifacts": {"checkpoints": ["tinker://x/final"]}})
    write(folder / "logs.json", {"items": entries("Training job created", "Training complete")})
    flat = tmp_path / "exports"
    write(flat / "flat.json", training_job(FLAT_ID, "2026-11-21T08:00:00Z", status="failed"))
    write(flat / "flat.artifacts.json", {"capability": "acme/x@1.0.0"})
    write(flat / "flat.logs.json", entries("Training started on Qwen/Qwen3-8B"))
    write(flat / "bare.json", training_job(BARE_ID, "2026-11-20T08:00:00Z"))
    return flat


@pytest.fixture
def source(root: Path) -> DirectorySource:
    return DirectorySource(root, ORG, WS)


def ids(source: DirectorySource, **kwargs) -> list[str]:
    return [j["id"] for j in source.list_jobs(ORG, WS, page=1, page_size=100, **kwargs)["items"]]


def test_reads_both_layouts_newest_first(source):
    assert ids(source) == [FLAT_ID, BARE_ID, FOLDER_ID]
    assert source.list_jobs(ORG, WS, page=1, page_size=20)["total"] == 3


def test_a_job_folder_serves_its_job_artifacts_and_logs(source):
    assert source.get_job(ORG, WS, FOLDER_ID)["name"] == "job-1111"
    assert source.get_artifacts(ORG, WS, FOLDER_ID) == {
        "artifacts": {"checkpoints": ["tinker://x/final"]}}
    messages = [e["message"] for e in source.get_logs(ORG, WS, FOLDER_ID)["items"]]
    assert messages == ["Training job created", "Training complete"]


def test_flat_files_accept_a_bare_artifacts_map_and_a_bare_log_list(source):
    assert source.get_job(ORG, WS, FLAT_ID)["status"] == "failed"
    assert source.get_artifacts(ORG, WS, FLAT_ID) == {"artifacts": {"capability": "acme/x@1.0.0"}}
    logs = source.get_logs(ORG, WS, FLAT_ID)
    assert [e.message for e in parse_logs(logs)] == ["Training started on Qwen/Qwen3-8B"]


def test_without_companion_files_the_jobs_own_artifacts_and_no_logs_are_served(source):
    assert source.get_artifacts(ORG, WS, BARE_ID) == {"artifacts": {"from": "job"}}
    assert source.get_logs(ORG, WS, BARE_ID) == {"items": []}


def test_the_list_filters_by_status_and_pages_from_one(source):
    assert ids(source, status="failed") == [FLAT_ID]
    second = source.list_jobs(ORG, WS, page=2, page_size=2)
    assert [j["id"] for j in second["items"]] == [FOLDER_ID]
    assert (second["total"], second["page"], second["page_size"]) == (3, 2, 2)


def test_new_exports_show_up_without_a_restart(source, root):
    assert len(ids(source)) == 3
    write(root / "later" / "job.json", training_job("44444444-4444-4444-8444-444444444444",
                                                    "2026-11-22T08:00:00Z"))
    assert ids(source)[0] == "44444444-4444-4444-8444-444444444444"


def test_a_rewritten_export_is_read_again(source, root):
    path = root / "bare.json"
    write(path, training_job(BARE_ID, "2026-11-20T08:00:00Z", status="cancelled", note="longer"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert source.get_job(ORG, WS, BARE_ID)["status"] == "cancelled"


def test_a_broken_file_is_skipped_from_the_list_with_a_warning(source, root, caplog):
    write(root / "broken" / "job.json", '{"id": "55555555-5555-4555-8555-555555555555", ')
    write(root / "half.json", "not json at all")
    with caplog.at_level(logging.WARNING, logger="dashboard.sources.directory"):
        assert len(ids(source)) == 3
    assert "broken/job.json: not valid JSON" in caplog.text
    assert "half.json: not valid JSON" in caplog.text


def test_get_job_of_a_broken_export_is_a_422(source, root):
    write(root / "half.json", "not json at all")
    with pytest.raises(SourceError) as error:
        source.get_job(ORG, WS, "half")
    assert error.value.status == 422
    assert error.value.message == "half.json: not valid JSON"


def test_a_broken_companion_file_is_a_422_for_that_payload_only(source, root):
    write(root / "run-a" / "logs.json", "[{")
    with pytest.raises(SourceError) as error:
        source.get_logs(ORG, WS, FOLDER_ID)
    assert (error.value.status, error.value.message) == (422, "run-a/logs.json: not valid JSON")
    assert source.get_job(ORG, WS, FOLDER_ID)["id"] == FOLDER_ID


def test_json_that_is_not_a_job_is_skipped(source, root, caplog):
    write(root / "notes.json", ["a", "list"])
    write(root / "settings.json", {"theme": "dark"})
    with caplog.at_level(logging.WARNING, logger="dashboard.sources.directory"):
        assert len(ids(source)) == 3
    assert "notes.json: not a training job" in caplog.text


def test_cancel_and_retry_are_refused_as_read_only(source):
    for call in (source.cancel, source.retry):
        with pytest.raises(SourceError) as error:
            call(ORG, WS, FOLDER_ID)
        assert error.value.status == 405
        assert "read-only" in error.value.message


def test_unknown_ids_and_other_scopes_are_not_found(source):
    for org, ws, job_id in [(ORG, WS, "99999999-9999-4999-8999-999999999999"),
                            ("acme", WS, FOLDER_ID), (ORG, "research", FOLDER_ID)]:
        for call in (source.get_job, source.get_artifacts, source.get_logs):
            with pytest.raises(SourceError) as error:
                call(org, ws, job_id)
            assert (error.value.status, error.value.kind) == (404, "not_found")
    with pytest.raises(SourceError) as error:
        source.list_jobs("acme", "research", page=1, page_size=20)
    assert error.value.status == 404


def test_ids_are_never_used_as_paths(source, root, tmp_path):
    write(tmp_path / "outside.json", training_job("66666666-6666-4666-8666-666666666666",
                                                  "2026-11-20T08:00:00Z"))
    for job_id in ("../outside", "../outside.json", "run-a", "run-a/job", "flat"):
        with pytest.raises(SourceError) as error:
            source.get_job(ORG, WS, job_id)
        assert error.value.status == 404


def test_links_leading_outside_the_folder_are_ignored(source, root, tmp_path):
    secret = write(tmp_path / "secret" / "job.json",
                   training_job("77777777-7777-4777-8777-777777777777", "2026-11-25T08:00:00Z"))
    (root / "linked-folder").symlink_to(secret.parent, target_is_directory=True)
    (root / "linked.json").symlink_to(secret)
    write(tmp_path / "secret" / "logs.json", entries("from outside"))
    (root / "flat.logs.json").unlink()
    (root / "flat.logs.json").symlink_to(tmp_path / "secret" / "logs.json")
    assert "77777777-7777-4777-8777-777777777777" not in ids(source)
    assert source.get_logs(ORG, WS, FLAT_ID) == {"items": []}


def test_returned_payloads_are_copies(source):
    source.get_job(ORG, WS, FOLDER_ID)["status"] = "changed"
    source.get_logs(ORG, WS, FOLDER_ID)["items"].clear()
    assert source.get_job(ORG, WS, FOLDER_ID)["status"] == "completed"
    assert source.get_logs(ORG, WS, FOLDER_ID)["items"]


def test_a_missing_folder_lists_nothing(tmp_path):
    source = DirectorySource(tmp_path / "nope", ORG, WS)
    assert source.list_jobs(ORG, WS, page=1, page_size=20)["items"] == []


def test_a_single_job_folder_can_be_the_root(root):
    source = DirectorySource(root / "run-a", ORG, WS)
    assert ids(source) == [FOLDER_ID]
    assert len(source.get_logs(ORG, WS, FOLDER_ID)["items"]) == 2


def test_the_bundled_export_is_a_readable_failed_job():
    source = DirectorySource(EXPORTED, ORG, WS)
    assert ids(source) == [EXPORTED_ID]
    job = Job.from_api(source.get_job(ORG, WS, EXPORTED_ID))
    assert (job.status, job.problems) == ("failed", ())
    assert job.error == "Training inputs did not produce any usable conversations."
    artifacts = source.get_artifacts(ORG, WS, EXPORTED_ID)["artifacts"]
    assert "checkpoints" not in artifacts and artifacts["sandbox_id"]
    logs = parse_logs(source.get_logs(ORG, WS, EXPORTED_ID))
    assert any(e.level == "error" and e.message.startswith("Traceback") for e in logs)

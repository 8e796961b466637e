"""Whatever a trainer or the platform sends, every page and fragment renders and escapes it."""

from __future__ import annotations

import math
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources import not_found

JOB_ID = "5e5e5e5e-0000-4000-8000-000000000001"
PATH = f"/acme/research/training/jobs/{JOB_ID}"
SCRIPT = "<script>alert(1)</script>"
STRINGS = st.one_of(
    st.text(max_size=40),
    st.sampled_from([SCRIPT, '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "NaN",
                     "Infinity", "-Infinity", "\u202eevil\u200b", "💥", "\x00\x1b[31m", "", " "]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.just(10**400), st.just(1e308), st.just(-0.0), STRINGS)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(STRINGS, inner, max_size=6)), max_leaves=25)
SERIES = st.lists(st.one_of(SCALARS, st.just({"a": 1}), st.just([1, 2])), max_size=60)
METRICS = st.one_of(JSON, st.dictionaries(
    st.one_of(STRINGS, st.sampled_from(["steps", "train/loss", "train_loss", "val_loss", "eval/steps",
                                        "eval/loss_history", "learning_rate", "reward", "epochs"])),
    st.one_of(SCALARS, SERIES), max_size=10))
TIMES = st.one_of(JSON, st.sampled_from([
    "2026-11-20T10:00:00Z", "2026-11-20T10:00:00", "2026-11-19T09:00:00+14:00", "yesterday",
    "9999-99-99", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-06-30T23:59:60Z"]))
JOBS = st.fixed_dictionaries(
    {"id": st.just(JOB_ID)},
    optional={key: JSON for key in (
        "status", "name", "backend", "trainer_type", "algorithm", "model", "world_goal", "error",
        "dataset_ref", "prompt_dataset_ref", "trajectory_dataset_refs", "capability", "config",
        "artifacts", "tags", "created_by_user")}
    | {key: TIMES for key in ("created_at", "started_at", "completed_at", "cancel_requested_at")}
    | {"metrics": METRICS, "status": st.one_of(
        st.sampled_from(["queued", "running", "completed", "failed", "cancelled", "pending"]), JSON)},
)
LOG_ENTRY = st.one_of(JSON, st.fixed_dictionaries({}, optional={
    "timestamp": TIMES,
    "level": st.one_of(JSON, st.sampled_from(["debug", "info", "warning", "error", "FATAL"])),
    "message": JSON, "data": JSON}))


class OneJob:
    """A source holding exactly one (hostile) job."""

    kind = "test"
    read_only = True

    def __init__(self, job: Any, artifacts: Any, logs: Any) -> None:
        self.job, self.artifacts, self.logs = job, artifacts, logs

    def get_job(self, org: str, ws: str, job_id: str) -> Any:
        if job_id != JOB_ID:
            raise not_found(org, ws, job_id)
        return self.job

    def get_artifacts(self, org: str, ws: str, job_id: str) -> Any:
        return self.artifacts

    def get_logs(self, org: str, ws: str, job_id: str) -> Any:
        return self.logs

    def list_jobs(self, org: str, ws: str, **_: Any) -> Any:
        return {"items": [self.job], "total": 1}


def app_for(job: Any, artifacts: Any, logs: Any) -> Flask:
    settings_ = Settings("demo", organization="acme", workspace="research")
    return create_app(settings_, OneJob(job, artifacts, logs))  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(job=JOBS, artifacts=st.one_of(JSON, st.fixed_dictionaries({"artifacts": JSON})),
       logs=st.one_of(JSON, st.fixed_dictionaries({"items": st.lists(LOG_ENTRY, max_size=8)})))
def test_every_page_and_fragment_renders_whatever_the_payload(job: Any, artifacts: Any, logs: Any) -> None:
    client = app_for(job, artifacts, logs).test_client()
    for path in ("/acme/research/training/jobs", PATH, f"{PATH}/summary", f"{PATH}/artifacts",
                 f"{PATH}/logs?after=0", f"{PATH}/charts", f"{PATH}/logs.jsonl",
                 f"{PATH}/logs/earlier?before=5", f"{PATH}/logs/panel?level=info&q=a",
                 f"{PATH}?level=error&q=a&smooth=0.9&logy=1&x=epoch&zoom=1:2",
                 f"{PATH}/charts?smooth=0.9&logy=1", f"{PATH}/metrics.csv"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 286), (path, response.status_code, body[:500])
        if not path.endswith((".jsonl", ".csv")):  # the downloads are JSON / CSV text, not HTML
            assert SCRIPT not in body and "<img src=x" not in body, path


def test_an_unusable_metrics_map_is_noted_on_the_page() -> None:
    client = app_for({"id": JOB_ID, "status": "completed", "metrics": [1, 2]}, {}, []).test_client()
    body = client.get(PATH).get_data(as_text=True)
    assert 'data-testid="data-problem"' in body and "metrics" in body


def test_nan_and_huge_numbers_in_scalars_render() -> None:
    job = {"id": JOB_ID, "status": "running", "metrics": {
        "train/loss_last": math.nan, "train/big": 10**400, "train/neg_zero": -0.0, "eval/x": 1e308}}
    body = app_for(job, {}, []).test_client().get(PATH).get_data(as_text=True)
    assert 'data-key="train/big"' in body and "NaN" in body


def test_deeply_nested_artifacts_and_log_data_render() -> None:
    deep: Any = "bottom"
    for _ in range(900):
        deep = {"k": [deep]}
    client = app_for({"id": JOB_ID, "status": "running"}, {"artifacts": {"x": deep}},
                     {"items": [{"message": "m", "data": deep}]}).test_client()
    for path in (PATH, f"{PATH}/artifacts", f"{PATH}/logs?after=0"):
        assert client.get(path).status_code in (200, 286), path


def test_links_use_the_job_id_of_the_url_even_when_the_payload_has_none() -> None:
    body = app_for({"status": "running"}, {}, []).test_client().get(PATH).get_data(as_text=True)
    assert "/jobs/unknown" not in body
    assert f"{PATH}/summary" in body and f"{PATH}/logs?after=0" in body

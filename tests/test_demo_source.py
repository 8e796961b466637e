"""Behaviour of the demo source: sample jobs, the live job that grows, cancel and retry."""

from __future__ import annotations

import json
import math
import threading

import pytest

from dashboard.models import Job, parse_logs
from dashboard.sources import SourceError
from dashboard.sources.demo import (
    ATTEMPT_ID,
    CANCELLED_ID,
    FAILED_ID,
    GOOD_ID,
    NAN_ID,
    NO_FINAL_ID,
    QUEUED_ID,
    RAY_RL_ID,
    RL_TINKER_ID,
    RUNNING_FIRST_ID,
    RUNNING_STEPS,
    SFT_NEW_ID,
    SFT_OLD_ID,
    STALLED_ID,
    UNRELATED_ID,
    DemoSource,
    run_seconds_from_env,
    running_job_id,
)

ORG, WS = "acme", "research"
RUN = 60.0
SAMPLE_IDS = (SFT_OLD_ID, SFT_NEW_ID, RL_TINKER_ID, RAY_RL_ID, FAILED_ID, QUEUED_ID, CANCELLED_ID,
              NAN_ID, STALLED_ID, NO_FINAL_ID, GOOD_ID, ATTEMPT_ID, UNRELATED_ID)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_795_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def source(clock: FakeClock) -> DemoSource:
    return DemoSource(clock=clock, run_seconds=RUN)


def job(source: DemoSource, job_id: str) -> dict:
    return source.get_job(ORG, WS, job_id)


def logs(source: DemoSource, job_id: str) -> list[dict]:
    return source.get_logs(ORG, WS, job_id)["items"]


def all_ids(source: DemoSource) -> list[str]:
    return [j["id"] for j in source.list_jobs(ORG, WS, page=1, page_size=100)["items"]]


def test_the_list_holds_every_sample_job_the_live_job_and_the_stalled_one(source):
    items = source.list_jobs(ORG, WS, page=1, page_size=100)["items"]
    assert set(SAMPLE_IDS) | {RUNNING_FIRST_ID} == {j["id"] for j in items}
    assert [j["id"] for j in items if j["status"] == "running"] == [RUNNING_FIRST_ID, STALLED_ID]
    statuses = {j["id"]: j["status"] for j in items}
    assert statuses[FAILED_ID] == "failed"
    assert statuses[QUEUED_ID] == "queued"
    assert statuses[CANCELLED_ID] == "cancelled"


def test_the_list_is_newest_first_and_pages_from_one(source):
    everything = source.list_jobs(ORG, WS, page=1, page_size=100)
    created = [Job.from_api(j).created_at for j in everything["items"]]
    assert created == sorted(created, reverse=True)
    first = source.list_jobs(ORG, WS, page=1, page_size=3)
    second = source.list_jobs(ORG, WS, page=2, page_size=3)
    assert (first["total"], first["page"], first["page_size"]) == (everything["total"], 1, 3)
    assert [j["id"] for j in first["items"] + second["items"]] == all_ids(source)[:6]
    assert source.list_jobs(ORG, WS, page=99, page_size=3)["items"] == []


def test_the_list_filters_by_status(source):
    completed = source.list_jobs(ORG, WS, page=1, page_size=100, status="completed")
    assert {j["id"] for j in completed["items"]} == {SFT_OLD_ID, SFT_NEW_ID, RL_TINKER_ID, NO_FINAL_ID,
                                                      RAY_RL_ID, GOOD_ID, UNRELATED_ID}
    assert completed["total"] == 7


def test_running_job_gains_steps_and_log_entries_as_the_clock_advances(source, clock):
    clock.advance(RUN * 0.25)
    early_job, early_logs = job(source, RUNNING_FIRST_ID), logs(source, RUNNING_FIRST_ID)
    clock.advance(RUN * 0.5)
    later_job, later_logs = job(source, RUNNING_FIRST_ID), logs(source, RUNNING_FIRST_ID)
    assert early_job["status"] == later_job["status"] == "running"
    assert early_job["metrics"]["train/steps"] == RUNNING_STEPS // 4
    assert later_job["metrics"]["train/steps"] == RUNNING_STEPS * 3 // 4
    assert len(later_job["metrics"]["train/loss"]) > len(early_job["metrics"]["train/loss"])
    assert len(later_logs) > len(early_logs)


def test_running_job_metrics_use_the_namespaced_keys_and_agree_with_each_other(source, clock):
    clock.advance(RUN * 0.55)  # step 33: three evaluations, one checkpoint
    metrics = job(source, RUNNING_FIRST_ID)["metrics"]
    assert metrics["steps"] == list(range(1, 34))
    assert metrics["train/loss"] == metrics["train_loss"]
    assert len(metrics["train/learning_rate"]) == 33
    assert metrics["train/learning_rate"] == metrics["learning_rate"]
    assert metrics["eval/steps"] == [10, 20, 30]
    assert len(metrics["eval/loss_history"]) == 3
    assert metrics["eval/loss"] == metrics["eval/loss_history"][-1]
    assert metrics["train/loss_last"] == metrics["train/loss"][-1]
    assert metrics["train/loss_best"] == min(metrics["train/loss"])
    assert 0 < metrics["train/epochs_completed"] < 2
    assert metrics["train/loss"][-1] < metrics["train/loss"][0]


def test_learning_rate_warms_up_then_decays(source, clock):
    clock.advance(RUN - 0.001)
    rates = job(source, RUNNING_FIRST_ID)["metrics"]["learning_rate"]
    peak = rates.index(max(rates))
    assert rates[:peak + 1] == sorted(rates[:peak + 1])
    assert rates[peak:] == sorted(rates[peak:], reverse=True)
    assert 0 < rates[-1] < max(rates) / 10


def test_earlier_log_entries_never_change_as_the_job_runs(source, clock):
    seen: list[dict] = []
    for _ in range(int(RUN / 0.7) + 3):
        current = logs(source, RUNNING_FIRST_ID)
        assert current[:len(seen)] == seen
        assert len(current) >= len(seen)
        seen = current
        clock.advance(0.7)
    assert seen[-1]["message"] == "Training complete"


def test_log_timestamps_follow_the_step_times(source, clock):
    clock.advance(RUN * 0.5)
    started = Job.from_api(job(source, RUNNING_FIRST_ID)).started_at
    entries = parse_logs(source.get_logs(ORG, WS, RUNNING_FIRST_ID))
    progress = [e for e in entries if e.message.startswith("step ")]
    assert progress and all(e.timestamp is not None for e in progress)
    for e in progress:
        seconds = (e.timestamp - started).total_seconds()
        assert seconds == pytest.approx(e.data["step"] * RUN / RUNNING_STEPS, abs=0.002)
        assert f"step {e.data['step']}/{RUNNING_STEPS} loss=" in e.message
        assert set(e.data) == {"step", "loss", "learning_rate"}
    stamps = [e.timestamp for e in entries]
    assert stamps == sorted(stamps)


def test_running_job_logs_checkpoints_and_evaluations(source, clock):
    clock.advance(RUN * 0.7)
    entries = logs(source, RUNNING_FIRST_ID)
    messages = [e["message"] for e in entries]
    assert messages[1] == "Training started on Qwen/Qwen3-8B"
    assert messages.count("evaluation complete") == 4
    saved = [e for e in entries if e["message"].startswith("checkpoint ")]
    assert [e["message"] for e in saved] == ["checkpoint 1 saved", "checkpoint 2 saved"]
    artifacts = source.get_artifacts(ORG, WS, RUNNING_FIRST_ID)["artifacts"]
    assert artifacts["latest_checkpoint"] == saved[-1]["data"]["latest_checkpoint"]
    assert artifacts["checkpoints"][-1] == artifacts["latest_checkpoint"]


def test_two_calls_at_the_same_clock_return_identical_payloads(source, clock):
    clock.advance(RUN * 0.4)
    for job_id in (RUNNING_FIRST_ID, *SAMPLE_IDS):
        assert job(source, job_id) == job(source, job_id)
        assert logs(source, job_id) == logs(source, job_id)
        assert source.get_artifacts(ORG, WS, job_id) == source.get_artifacts(ORG, WS, job_id)
    assert source.list_jobs(ORG, WS, page=1, page_size=20) == source.list_jobs(
        ORG, WS, page=1, page_size=20)


def test_sources_started_at_the_same_time_agree():
    one = DemoSource(clock=FakeClock(), run_seconds=RUN)
    other = DemoSource(clock=FakeClock(), run_seconds=RUN)
    for job_id in (RUNNING_FIRST_ID, *SAMPLE_IDS):
        assert one.get_job(ORG, WS, job_id) == other.get_job(ORG, WS, job_id)
        assert one.get_logs(ORG, WS, job_id) == other.get_logs(ORG, WS, job_id)


def test_running_job_completes_after_run_seconds_and_a_new_generation_starts(source, clock):
    clock.advance(RUN + 1)
    finished = job(source, RUNNING_FIRST_ID)
    assert finished["status"] == "completed"
    assert finished["completed_at"] is not None
    assert finished["metrics"]["train/steps"] == RUNNING_STEPS
    checkpoints = source.get_artifacts(ORG, WS, RUNNING_FIRST_ID)["artifacts"]["checkpoints"]
    assert checkpoints[-1].endswith("/final")
    assert "latest_checkpoint" not in finished["artifacts"]
    assert logs(source, RUNNING_FIRST_ID)[-1]["message"] == "Training complete"

    second = running_job_id(1)
    assert second != RUNNING_FIRST_ID
    items = source.list_jobs(ORG, WS, page=1, page_size=100)["items"]
    listed = {j["id"]: j["status"] for j in items}
    assert listed[second] == "running"
    assert listed[RUNNING_FIRST_ID] == "completed"
    assert [i for i, s in listed.items() if s == "running" and i != STALLED_ID] == [second]


def test_the_list_shows_only_the_current_and_previous_generation_but_old_ones_stay_reachable(
        source, clock):
    clock.advance(RUN * 3.5)
    ids = all_ids(source)
    assert running_job_id(3) in ids and running_job_id(2) in ids
    assert RUNNING_FIRST_ID not in ids and running_job_id(1) not in ids
    assert job(source, RUNNING_FIRST_ID)["status"] == "completed"
    assert job(source, running_job_id(1))["status"] == "completed"
    with pytest.raises(SourceError) as error:
        job(source, running_job_id(4))
    assert error.value.status == 404


def test_there_is_always_a_running_job(source, clock):
    for _ in range(40):
        clock.advance(RUN / 7)
        live = [j["status"] for j in source.list_jobs(ORG, WS, page=1, page_size=100)["items"]
                if j["id"] != STALLED_ID]  # the stalled job runs too, for ever
        assert live.count("running") == 1


def test_cancel_of_the_running_job_freezes_it_and_logs_the_cancellation(source, clock):
    clock.advance(RUN * 0.3)
    cancelled = source.cancel(ORG, WS, RUNNING_FIRST_ID)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_requested_at"] is not None
    before = logs(source, RUNNING_FIRST_ID)
    assert [e["message"] for e in before[-2:]] == ["Cancellation requested", "Training cancelled"]
    assert before[-2]["level"] == "warning"

    clock.advance(RUN * 2)
    assert job(source, RUNNING_FIRST_ID) == cancelled
    assert logs(source, RUNNING_FIRST_ID) == before
    assert cancelled["metrics"]["train/steps"] == int(RUNNING_STEPS * 0.3)


def test_cancelling_the_running_job_starts_the_next_one_at_once(source, clock):
    clock.advance(RUN * 0.3)
    source.cancel(ORG, WS, RUNNING_FIRST_ID)
    running = [j for j in source.list_jobs(ORG, WS, page=1, page_size=100)["items"]
               if j["status"] == "running" and j["id"] != STALLED_ID]
    assert [j["id"] for j in running] == [running_job_id(1)]
    clock.advance(RUN * 0.5)
    assert job(source, running_job_id(1))["metrics"]["train/steps"] == RUNNING_STEPS // 2


def test_cancel_of_the_queued_job_works(source):
    cancelled = source.cancel(ORG, WS, QUEUED_ID)
    assert cancelled["status"] == "cancelled"
    assert job(source, QUEUED_ID)["status"] == "cancelled"
    assert logs(source, QUEUED_ID)[-1]["message"] == "Training cancelled"


@pytest.mark.parametrize("job_id", [SFT_OLD_ID, FAILED_ID, CANCELLED_ID])
def test_cancel_of_a_finished_job_is_a_409_conflict(source, job_id):
    with pytest.raises(SourceError) as error:
        source.cancel(ORG, WS, job_id)
    assert (error.value.status, error.value.kind) == (409, "conflict")
    assert "only queued or running jobs can be cancelled" in error.value.message


def test_retry_creates_a_new_queued_job_that_get_job_finds(source, clock):
    clock.advance(5)
    retried = source.retry(ORG, WS, FAILED_ID)
    assert retried["id"] != FAILED_ID
    assert retried["status"] == "queued"
    assert retried["error"] is None and retried["started_at"] is None
    assert retried["model"] == job(source, FAILED_ID)["model"]
    assert job(source, retried["id"]) == retried
    assert all_ids(source)[0] == retried["id"]
    assert logs(source, retried["id"])[0]["data"]["retry_of"] == FAILED_ID
    assert job(source, FAILED_ID)["status"] == "failed"


def test_a_retried_job_can_be_cancelled(source):
    retried = source.retry(ORG, WS, SFT_NEW_ID)
    assert source.cancel(ORG, WS, retried["id"])["status"] == "cancelled"


@pytest.mark.parametrize("job_id", [QUEUED_ID, RUNNING_FIRST_ID])
def test_retry_of_an_unfinished_job_is_a_409_conflict(source, job_id):
    with pytest.raises(SourceError) as error:
        source.retry(ORG, WS, job_id)
    assert (error.value.status, error.value.kind) == (409, "conflict")


def test_unknown_jobs_and_other_scopes_are_not_found(source):
    for org, ws, job_id in [(ORG, WS, "00000000-0000-4000-8000-000000000000"),
                            ("other", WS, SFT_OLD_ID), (ORG, "other", SFT_OLD_ID)]:
        for call in (source.get_job, source.get_artifacts, source.get_logs, source.cancel,
                     source.retry):
            with pytest.raises(SourceError) as error:
                call(org, ws, job_id)
            assert (error.value.status, error.value.kind) == (404, "not_found")
    with pytest.raises(SourceError) as error:
        source.list_jobs("other", WS, page=1, page_size=20)
    assert error.value.status == 404


def test_every_demo_payload_is_plain_json_and_parses_cleanly(source, clock):
    clock.advance(RUN * 1.5)
    for job_id in [*all_ids(source), RUNNING_FIRST_ID]:
        payloads = (job(source, job_id), source.get_artifacts(ORG, WS, job_id),
                    source.get_logs(ORG, WS, job_id))
        for payload in payloads:
            assert json.loads(json.dumps(payload, allow_nan=False)) == payload
        parsed = Job.from_api(payloads[0])
        assert parsed.problems == ()
        assert parsed.created_at is not None
        assert all(e.timestamp is not None for e in parse_logs(payloads[2]))


def test_jobs_returned_are_copies(source):
    job(source, SFT_OLD_ID)["metrics"].clear()
    logs(source, SFT_OLD_ID).clear()
    assert job(source, SFT_OLD_ID)["metrics"]
    assert logs(source, SFT_OLD_ID)


def test_old_style_job_matches_the_outputs_doc_with_exactly_one_val_loss(source):
    old = job(source, SFT_OLD_ID)
    metrics = old["metrics"]
    assert metrics["steps"] == list(range(1, 101))
    assert len(metrics["train_loss"]) == len(metrics["learning_rate"]) == 100
    values = [v for v in metrics["val_loss"] if v is not None]
    assert len(metrics["val_loss"]) == 100 and len(values) == 1
    assert metrics["val_loss"][-1] == metrics["eval/loss"]
    assert "train/loss" not in metrics and "eval/loss_history" not in metrics
    for key in ("train/steps", "train/num_examples", "train/num_tokens_processed",
                "train/gradient_accumulation_steps", "train/loss_last", "train/loss_mean",
                "train/loss_best", "eval/num_examples", "eval/loss"):
        assert isinstance(metrics[key], int | float), key
    artifacts = old["artifacts"]
    assert artifacts["checkpoints"][0].endswith("/check1-step10")
    assert artifacts["checkpoints"][-1].endswith("/final")
    assert artifacts["trajectory_datasets"]
    for key in ("sandbox_id", "provider_sandbox_id", "worker_id", "payload_path", "result_path"):
        assert artifacts[key]


def test_namespaced_sft_job_evaluates_every_fifty_steps(source):
    metrics = job(source, SFT_NEW_ID)["metrics"]
    assert metrics["train/steps"] == 200 and len(metrics["train/loss"]) == 200
    assert metrics["eval/steps"] == [50, 100, 150, 200]
    assert len(metrics["eval/loss_history"]) == 4
    assert metrics["train/epochs_completed"] == pytest.approx(2.0)


def test_tinker_rl_job_has_reward_summaries_but_no_reward_series(source):
    rl = job(source, RL_TINKER_ID)
    metrics = rl["metrics"]
    assert (rl["trainer_type"], rl["algorithm"], rl["backend"]) == (
        "rl", "importance_sampling", "tinker")
    assert rl["world_goal"]
    assert not any(isinstance(v, list) for v in metrics.values())
    for key in ("train/reward_mean", "train/reward_max", "train/reward_min", "train/num_rollouts",
                "async/weight_sync_count"):
        assert key in metrics
    artifacts = rl["artifacts"]
    assert artifacts["world_server_auth_token"] == "wst_demo_secret_do_not_show"
    assert "wst_demo_secret" not in json.dumps(logs(source, RL_TINKER_ID))


def test_ray_rl_job_has_per_step_reward_series(source):
    ray = job(source, RAY_RL_ID)
    metrics = ray["metrics"]
    assert (ray["backend"], ray["algorithm"]) == ("ray", "grpo")
    for key in ("loss", "pg_loss", "kl_loss", "reward_mean", "reward_std", "learning_rate",
                "tokens_per_second"):
        assert len(metrics[key]) == len(metrics["steps"]) == 80, key
    assert metrics["reward_mean"][-1] > metrics["reward_mean"][0]


def test_failed_job_explains_itself_in_error_and_logs(source):
    failed = job(source, FAILED_ID)
    assert failed["error"] == "Training inputs did not produce any usable conversations."
    assert "checkpoints" not in failed["artifacts"]
    last = logs(source, FAILED_ID)[-2:]
    assert [e["level"] for e in last] == ["error", "error"]
    assert last[0]["message"].startswith(failed["error"])
    assert last[1]["message"].startswith("Traceback (most recent call last):")


def test_queued_job_has_not_started(source):
    queued = job(source, QUEUED_ID)
    assert (queued["trainer_type"], queued["started_at"]) == ("rl", None)
    assert Job.from_api(queued).created_at < Job.from_api(job(source, RUNNING_FIRST_ID)).created_at


def test_cancelled_job_has_partial_metrics_and_one_checkpoint(source):
    cancelled = job(source, CANCELLED_ID)
    assert cancelled["cancel_requested_at"] is not None
    assert 0 < cancelled["metrics"]["train/steps"] < cancelled["config"]["steps"]
    assert len(cancelled["artifacts"]["checkpoints"]) == 1
    assert logs(source, CANCELLED_ID)[-1]["message"] == "Training cancelled"


def test_run_seconds_come_from_the_environment_with_a_safe_default(monkeypatch):
    assert run_seconds_from_env({}) == 180
    assert run_seconds_from_env({"DASHBOARD_DEMO_RUN_SECONDS": "20"}) == 20
    for bad in ("soon", "-5", "0", "nan", "inf"):
        assert run_seconds_from_env({"DASHBOARD_DEMO_RUN_SECONDS": bad}) == 180
    monkeypatch.setenv("DASHBOARD_DEMO_RUN_SECONDS", "42")
    assert DemoSource(clock=FakeClock()).run_seconds == 42


def test_concurrent_readers_and_a_cancel_do_not_break_each_other(source, clock):
    clock.advance(RUN * 0.5)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                json.dumps(source.list_jobs(ORG, WS, page=1, page_size=100))
                json.dumps(logs(source, QUEUED_ID))
        except BaseException as exc:  # any failure fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    source.cancel(ORG, WS, QUEUED_ID)
    for t in threads:
        t.join()
    assert errors == []
    assert not math.isnan(job(source, RUNNING_FIRST_ID)["metrics"]["train/loss_mean"])

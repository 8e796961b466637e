"""The header sentence, actions, summary tiles and error callout of a job."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.models import Job
from dashboard.viewmodels.summary import duration_tile, sentence, summarize, trainer_label

NOW = datetime(2026, 11, 20, 11, 0, 0, tzinfo=UTC)


def at(name: str, version: str) -> str:
    """`name@version`, built so no tool mistakes it for an e-mail address."""
    return "@".join((name, version))


def job(**fields):
    payload = {"id": "j1", "status": "running", "backend": "tinker", "trainer_type": "sft",
               "model": "Qwen/Qwen3-8B", "created_at": "2026-11-20T10:00:00Z"}
    payload.update(fields)
    return Job.from_api(payload)


SFT = {"dataset_ref": {"name": "sqli-conversations", "version": "1.2.0"},
       "capability": {"artifact_id": None, "name": "dreadnode/web-sqli", "version": "0.3.1",
                      "runtime_digest": None}}
RL = {"trainer_type": "rl", "algorithm": "grpo",
      "prompt_dataset_ref": {"name": "seed-prompts", "version": "sqli-v1"},
      "capability": {"name": "web-sqli", "version": "1.0.0"},
      "world_goal": "Bypass the login form of mutillidae with SQL injection."}


def tile(summary, testid):
    return next(t for t in summary.tiles if t.testid == testid)


# --- the sentence -----------------------------------------------------------------------------


def test_sft_sentence_names_model_trainer_dataset_and_capability():
    assert sentence(job(**SFT)) == (
        f"Training Qwen/Qwen3-8B with SFT on {at('sqli-conversations', '1.2.0')}"
        f" from {at('dreadnode/web-sqli', '0.3.1')}."
    )


def test_rl_sentence_names_the_algorithm_and_prompt_dataset():
    assert sentence(job(**RL)) == (
        f"Training Qwen/Qwen3-8B with RL · GRPO on seed-prompts@sqli-v1"
        f" from {at('web-sqli', '1.0.0')}."
    )


def test_sentence_omits_a_missing_dataset():
    assert sentence(job(capability=SFT["capability"])) == (
        f"Training Qwen/Qwen3-8B with SFT from {at('dreadnode/web-sqli', '0.3.1')}."
    )


def test_sentence_omits_a_missing_capability():
    assert sentence(job(dataset_ref=SFT["dataset_ref"])) == (
        f"Training Qwen/Qwen3-8B with SFT on {at('sqli-conversations', '1.2.0')}."
    )


def test_sentence_without_dataset_and_capability_still_ends_with_a_full_stop():
    assert sentence(job()) == "Training Qwen/Qwen3-8B with SFT."


def test_sentence_capability_without_version_has_no_at_sign():
    assert sentence(job(capability={"name": "web-sqli", "version": None})) == (
        "Training Qwen/Qwen3-8B with SFT from web-sqli."
    )


def test_sentence_with_no_model_or_trainer_says_unknown():
    assert sentence(job(model=None, trainer_type=None)) == (
        "Training an unknown model with UNKNOWN TRAINER."
    )


def test_trainer_label_keeps_unusual_algorithms_verbatim():
    assert trainer_label(job(trainer_type="rl", algorithm="importance_sampling")) == (
        "RL · importance_sampling")
    assert trainer_label(job(trainer_type="rl", algorithm="grpo")) == "RL · GRPO"
    assert trainer_label(job(trainer_type="sft")) == "SFT"


# --- header -----------------------------------------------------------------------------------


def test_summary_shows_the_world_goal_of_an_rl_job():
    summary = summarize(job(**RL), NOW)
    assert summary.world_goal == "Bypass the login form of mutillidae with SQL injection."


def test_summary_has_no_world_goal_for_sft():
    assert summarize(job(**SFT), NOW).world_goal is None


def test_summary_title_falls_back_to_backend_and_trainer():
    summary = summarize(job(name=None, backend="ray", trainer_type="rl"), NOW)
    assert summary.title == "ray/rl"


def test_summary_status_class_of_unknown_status_is_unknown_and_status_is_raw():
    summary = summarize(job(status="Draining"), NOW)
    assert summary.status == "Draining"
    assert summary.status_class == "unknown"


def test_pending_status_is_styled_like_queued():
    assert summarize(job(status="pending"), NOW).status_class == "queued"


def test_summary_tiles_are_backend_trainer_dataset_duration_in_order():
    summary = summarize(job(**SFT), NOW)
    assert [(t.testid, t.value) for t in summary.tiles[:3]] == [
        ("tile-backend", "tinker"),
        ("tile-trainer", "SFT"),
        ("tile-dataset", at("sqli-conversations", "1.2.0")),
    ]
    assert summary.tiles[3].testid == "tile-duration"


def test_missing_backend_and_dataset_tiles_show_a_dash():
    summary = summarize(job(backend=None), NOW)
    assert tile(summary, "tile-backend").value == "—"
    assert tile(summary, "tile-dataset").value == "—"


def test_summary_created_is_the_utc_timestamp():
    assert summarize(job(), NOW).created == "2026-11-20 10:00:00 UTC"


def test_summary_carries_the_jobs_problems():
    summary = summarize(job(metrics=[1, 2]), NOW)
    assert summary.problems == ("`metrics` is not a map and was ignored",)


# --- duration tile ----------------------------------------------------------------------------


def test_running_job_duration_ticks_from_its_start():
    running = job(status="running", started_at="2026-11-20T10:30:00Z")
    duration = duration_tile(running, NOW)
    assert duration.label == "Duration"
    assert duration.value == "30m 00s"
    assert duration.ticking_since == "2026-11-20T10:30:00Z"
    assert duration.hint == "running"


def test_queued_job_shows_how_long_it_has_been_waiting():
    queued = job(status="queued", started_at=None)
    duration = duration_tile(queued, NOW)
    assert duration.label == "Waiting"
    assert duration.value == "1h 00m 00s"
    assert duration.ticking_since == "2026-11-20T10:00:00Z"


def test_queued_job_without_created_at_waits_an_unknown_time_without_ticking():
    duration = duration_tile(job(status="queued", created_at=None), NOW)
    assert duration.label == "Waiting"
    assert duration.value == "—"
    assert duration.ticking_since == ""


def test_completed_job_shows_a_fixed_duration_that_does_not_tick():
    done = job(status="completed", started_at="2026-11-20T10:00:02Z",
               completed_at="2026-11-20T10:09:41Z")
    duration = duration_tile(done, NOW)
    assert duration.label == "Duration"
    assert duration.value == "9m 39s"
    assert duration.ticking_since == ""
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert duration_tile(done, later).value == "9m 39s"


def test_cancelled_job_duration_ends_at_the_cancel_request_without_completed_at():
    cancelled = job(status="cancelled", started_at="2026-11-20T10:00:00Z",
                    cancel_requested_at="2026-11-20T10:00:45Z")
    assert duration_tile(cancelled, NOW).value == "45s"


def test_job_cancelled_before_it_started_never_started():
    cancelled = job(status="cancelled", started_at=None,
                    cancel_requested_at="2026-11-20T10:00:45Z")
    duration = duration_tile(cancelled, NOW)
    assert duration.value == "never started"
    assert duration.ticking_since == ""


# --- actions and error ------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "cancel", "retry"), [
    ("queued", True, False),
    ("pending", True, False),
    ("running", True, False),
    ("completed", False, True),
    ("failed", False, True),
    ("cancelled", False, True),
    ("Draining", False, False),
    ("unknown", False, False),
])
def test_cancel_only_while_waiting_or_running_and_retry_only_when_terminal(status, cancel, retry):
    summary = summarize(job(status=status), NOW)
    assert summary.can_cancel is cancel
    assert summary.can_retry is retry


def test_failed_job_shows_its_error():
    failed = job(status="failed", started_at="2026-11-20T10:00:02Z",
                 completed_at="2026-11-20T10:01:13Z",
                 error="Training inputs did not produce any usable conversations.")
    summary = summarize(failed, NOW)
    assert summary.error == "Training inputs did not produce any usable conversations."
    assert summary.status_class == "failed"


def test_completed_job_without_error_shows_none():
    assert summarize(job(status="completed", error=None), NOW).error is None


def test_failed_job_with_an_empty_error_shows_none():
    assert summarize(job(status="failed", error="   "), NOW).error is None


def test_a_job_that_ends_before_it_starts_shows_no_duration_but_says_why():
    done = job(status="completed", started_at="2026-11-20T10:00:00Z",
               completed_at="2026-11-20T09:00:00Z")
    duration = tile(summarize(done, datetime(2026, 11, 21, tzinfo=UTC)), "tile-duration")
    assert (duration.value, duration.hint) == ("—", "it ended before it started")

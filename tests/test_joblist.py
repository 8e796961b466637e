"""The job list's search and rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.models import Job
from dashboard.viewmodels.joblist import job_rows, matches, searchable

JOB_ID = "3f2b8a52-8c1e-4c8e-9a55-0d7f1f6f7b10"
NOW = datetime(2026, 11, 20, 11, 0, 0, tzinfo=UTC)

SFT = Job.from_api({
    "id": JOB_ID, "status": "completed", "name": "sqli-sft-nightly", "backend": "tinker",
    "trainer_type": "sft", "model": "Qwen/Qwen3-8B",
    "dataset_ref": {"name": "sqli-conversations", "version": "v3"},
    "created_at": "2026-11-20T10:00:00Z", "started_at": "2026-11-20T10:00:02Z",
    "completed_at": "2026-11-20T10:09:41Z",
})
UNNAMED_RL = Job.from_api({
    "id": "0a1b2c3d-0000-4000-8000-000000000001", "status": "queued", "name": None,
    "backend": "ray", "trainer_type": "rl", "algorithm": "grpo",
    "model": "meta-llama/Llama-3.1-8B",
    "prompt_dataset_ref": {"name": "seed-prompts", "version": "sqli-v1"},
    "created_at": "2026-11-20T10:30:00Z",
})


@pytest.mark.parametrize("query", [
    "sqli-sft-nightly",     # name
    "3f2b8a52",             # id prefix
    "9a55-0d7f",            # middle of the id
    "completed",            # status
    "qwen3-8b",             # model
    "sqli-conversations",   # dataset
    "sft",                  # trainer type
    "tinker",               # backend
])
def test_matches_each_searchable_field(query):
    assert matches(SFT, query)


@pytest.mark.parametrize("query", ["ray", "rl", "queued", "llama", "seed-prompts", "xss"])
def test_does_not_match_what_the_job_does_not_contain(query):
    assert not matches(SFT, query)


def test_unnamed_job_matches_its_backend_slash_trainer_title():
    assert matches(UNNAMED_RL, "ray/rl")
    assert matches(UNNAMED_RL, "seed-prompts")
    assert matches(UNNAMED_RL, "queued")


def test_search_is_case_insensitive():
    assert matches(SFT, "QWEN")
    assert matches(SFT, "Tinker SFT")
    assert matches(Job.from_api({"id": "j", "status": "running", "name": "MixedCase"}),
                   "mixedcase")


def test_every_word_of_a_multi_word_query_must_match_somewhere():
    assert matches(SFT, "tinker completed qwen")
    assert matches(SFT, "  sft   nightly  ")
    assert not matches(SFT, "tinker failed")
    assert not matches(UNNAMED_RL, "ray completed")


def test_empty_query_matches_everything():
    assert matches(SFT, "")
    assert matches(UNNAMED_RL, "   ")


def test_searchable_skips_missing_fields():
    bare = Job.from_api({"id": "j1", "status": "queued"})
    assert searchable(bare) == "unknown/unknown j1 queued"
    assert not matches(bare, "none")


def test_job_rows_show_title_model_status_duration_and_trainer():
    sft, rl = job_rows([SFT, UNNAMED_RL], NOW)
    assert (sft.id, sft.title, sft.model, sft.status, sft.status_class) == (
        JOB_ID, "sqli-sft-nightly", "Qwen/Qwen3-8B", "completed", "completed")
    assert sft.duration == "9m 39s"
    assert sft.created == "2026-11-20 10:00:00 UTC"
    assert sft.created_iso == "2026-11-20T10:00:00Z"
    assert sft.trainer == "SFT"
    assert (rl.title, rl.status_class, rl.duration, rl.trainer) == (
        "ray/rl", "queued", "30m 00s", "RL · GRPO")


def test_job_row_of_a_job_without_model_shows_a_dash():
    (row,) = job_rows([Job.from_api({"id": "j", "status": "Weird"})], NOW)
    assert row.model == "—"
    assert row.status == "Weird"
    assert row.status_class == "unknown"

"""Job, LogEntry and payload parsing on plain dicts (the API.md shapes, and hostile ones)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.models import Job, LogEntry, Ref, note_of, parse_artifacts, parse_logs, parse_time

JOB_ID = "3f2b8a52-8c1e-4c8e-9a55-0d7f1f6f7b10"


def ref_text(name: str, version: str) -> str:
    """`name@version` (built, so that no tool mistakes it for an e-mail address)."""
    return "@".join((name, version))


def training_job(**overrides):
    """A complete `TrainingJob` payload as API.md describes it."""
    payload = {
        "id": JOB_ID,
        "organization_id": "org-uuid",
        "workspace_id": "ws-uuid",
        "status": "running",
        "name": "sqli-sft",
        "backend": "tinker",
        "trainer_type": "sft",
        "algorithm": None,
        "model": "Qwen/Qwen3-8B",
        "project_ref": "webapp-audit",
        "run_ref": None,
        "task_ref": None,
        "world_manifest_id": None,
        "world_runtime_id": None,
        "world_agent_name": None,
        "world_goal": None,
        "dataset_ref": {"name": "sqli-conversations", "version": "1.2.0"},
        "prompt_dataset_ref": None,
        "trajectory_dataset_refs": [],
        "capability": {
            "artifact_id": None, "name": "dreadnode/web-sqli", "version": "0.3.1",
            "runtime_digest": None,
        },
        "config": {"learning_rate": 0.0001, "epochs": 1},
        "metrics": {"train/steps": 3, "steps": [1, 2, 3]},
        "artifacts": {"capability": ref_text("dreadnode/web-sqli", "0.3.1")},
        "tags": ["nightly", "sqli"],
        "error": None,
        "created_at": "2026-11-20T10:00:00Z",
        "started_at": "2026-11-20T10:00:02+00:00",
        "completed_at": None,
        "cancel_requested_at": None,
        "created_by": "user-uuid",
        "created_by_email": "ada@example.com",
        "created_by_user": {
            "id": "user-uuid", "email": "ada@example.com", "username": "ada",
            "full_name": "Ada Lovelace",
        },
        "updated_at": "2026-11-20T10:05:00Z",
    }
    payload.update(overrides)
    return payload


# --- the API.md TrainingJob shape -----------------------------------------------------------


def test_from_api_reads_every_field_of_a_training_job():
    job = Job.from_api(training_job())
    assert job.id == JOB_ID
    assert job.status == "running"
    assert job.name == "sqli-sft"
    assert job.backend == "tinker"
    assert job.trainer_type == "sft"
    assert job.algorithm is None
    assert job.model == "Qwen/Qwen3-8B"
    assert job.project_ref == "webapp-audit"
    assert job.dataset_ref == Ref("sqli-conversations", "1.2.0")
    assert job.capability == Ref("dreadnode/web-sqli", "0.3.1")
    assert job.metrics["train/steps"] == 3
    assert job.metrics["steps"].y.tolist() == [1.0, 2.0, 3.0]  # series are arrays from here on
    assert job.artifacts == {"capability": ref_text("dreadnode/web-sqli", "0.3.1")}
    assert job.config == {"learning_rate": 0.0001, "epochs": 1}
    assert job.tags == ("nightly", "sqli")
    assert job.error is None
    assert job.created_at == datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
    assert job.started_at == datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)
    assert job.completed_at is None
    assert job.created_by == "Ada Lovelace"
    assert job.problems == ()


def test_from_api_ignores_unknown_extra_fields():
    job = Job.from_api(training_job(updated_at="2026-11-20T10:05:00Z", brand_new_field={"x": 1}))
    assert job.id == JOB_ID
    assert job.problems == ()


def test_created_by_falls_back_to_username_then_email():
    user = {"id": "u", "email": "ada@example.com", "username": "ada", "full_name": None}
    assert Job.from_api(training_job(created_by_user=user)).created_by == "ada"
    only_email = {"id": "u", "email": "ada@example.com", "username": "", "full_name": None}
    assert Job.from_api(training_job(created_by_user=only_email)).created_by == "ada@example.com"
    no_user = training_job(created_by_user=None, created_by_email="bob@example.com")
    assert Job.from_api(no_user).created_by == "bob@example.com"


# --- tolerance --------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [None, "a string", 42, ["id", "status"], True])
def test_a_payload_that_is_not_an_object_gives_an_unknown_job_with_a_problem(payload):
    job = Job.from_api(payload)
    assert job.id == "unknown"
    assert job.status == "unknown"
    assert job.problems == ("the job payload is not an object",)
    assert job.metrics == {}
    assert not job.terminal


@pytest.mark.parametrize("bad", [[1, 2, 3], "metrics", 7])
def test_metrics_that_are_not_a_map_are_dropped_and_noted_as_a_problem(bad):
    job = Job.from_api(training_job(metrics=bad))
    assert job.metrics == {}
    assert job.problems == ("`metrics` is not a map and was ignored",)


def test_artifacts_and_config_that_are_not_maps_are_each_noted():
    job = Job.from_api(training_job(artifacts=["x"], config="lr=1"))
    assert job.artifacts == {}
    assert job.config == {}
    assert set(job.problems) == {
        "`artifacts` is not a map and was ignored",
        "`config` is not a map and was ignored",
    }


def test_null_metrics_is_an_empty_map_without_a_problem():
    job = Job.from_api(training_job(metrics=None))
    assert job.metrics == {}
    assert job.problems == ()


def test_wrong_field_types_become_none_or_text():
    job = Job.from_api(training_job(
        id=12345, name=["not", "a", "name"], backend={"x": 1}, trainer_type=True,
        model=3.5, error=float("nan"), world_goal="   ", tags="nightly",
        trajectory_dataset_refs={"name": "x"}, dataset_ref=17, capability=[],
    ))
    assert job.id == "12345"
    assert job.name is None
    assert job.backend is None
    assert job.trainer_type is None
    assert job.model == "3.5"
    assert job.error is None
    assert job.world_goal is None
    assert job.tags == ()
    assert job.trajectory_dataset_refs == ()
    assert job.dataset_ref == Ref("17")
    assert job.capability is None


def test_tags_keep_only_usable_strings():
    job = Job.from_api(training_job(tags=["ok", None, "", {"x": 1}, 3, "  "]))
    assert job.tags == ("ok", "3")


def test_missing_id_and_status_read_unknown():
    payload = training_job()
    del payload["id"]
    del payload["status"]
    job = Job.from_api(payload)
    assert job.id == "unknown"
    assert job.status == "unknown"
    assert not job.terminal


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_terminal_statuses_are_terminal_and_not_cancellable(status):
    job = Job.from_api(training_job(status=status))
    assert job.terminal
    assert not job.cancellable


@pytest.mark.parametrize("status", ["queued", "running"])
def test_queued_and_running_are_cancellable_and_not_terminal(status):
    job = Job.from_api(training_job(status=status))
    assert job.cancellable
    assert not job.terminal


def test_pending_is_not_terminal_and_is_cancellable_like_queued():
    job = Job.from_api(training_job(status="pending"))
    assert job.status == "pending"
    assert not job.terminal
    assert job.cancellable


def test_known_status_in_odd_case_is_normalised():
    job = Job.from_api(training_job(status=" COMPLETED "))
    assert job.status == "completed"
    assert job.terminal


def test_unknown_status_is_kept_verbatim_and_is_not_terminal():
    job = Job.from_api(training_job(status="Preempted-By-Scheduler"))
    assert job.status == "Preempted-By-Scheduler"
    assert not job.terminal
    assert not job.cancellable


@pytest.mark.parametrize("bad", ["yesterday", "", "2026-13-45T99:00:00Z", 1700000000, None, {}])
def test_unusable_timestamps_become_none(bad):
    job = Job.from_api(training_job(created_at=bad, started_at=bad, completed_at=bad))
    assert job.created_at is None
    assert job.started_at is None
    assert job.completed_at is None


def test_z_and_offset_timestamps_are_read_as_utc():
    assert parse_time("2026-11-20T10:00:02Z") == datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)
    assert parse_time("2026-11-20T10:00:02.250z") == datetime(
        2026, 11, 20, 10, 0, 2, 250000, tzinfo=UTC)
    assert parse_time("2026-11-20T12:00:02+02:00") == datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)


def test_a_naive_timestamp_is_taken_as_utc():
    assert parse_time("2026-11-20T10:00:02") == datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)


def test_a_timestamp_that_overflows_utc_becomes_none():
    assert parse_time("0001-01-01T00:00:00+01:00") is None


# --- title and dataset ------------------------------------------------------------------------


def test_title_is_the_name_when_there_is_one():
    assert Job.from_api(training_job(name="sqli-sft")).title == "sqli-sft"


@pytest.mark.parametrize("name", [None, "", "   "])
def test_title_falls_back_to_backend_slash_trainer_type(name):
    job = Job.from_api(training_job(name=name, backend="ray", trainer_type="rl"))
    assert job.title == "ray/rl"


def test_title_says_unknown_for_missing_backend_and_trainer():
    assert Job.from_api({"id": JOB_ID, "status": "queued"}).title == "unknown/unknown"


def test_dataset_comes_from_dataset_ref():
    job = Job.from_api(training_job())
    assert job.dataset == ref_text("sqli-conversations", "1.2.0")


def test_dataset_comes_from_prompt_dataset_ref_for_rl():
    job = Job.from_api(training_job(
        dataset_ref=None, trainer_type="rl",
        prompt_dataset_ref={"name": "seed-prompts", "version": "sqli-v1"},
    ))
    assert job.dataset == "seed-prompts@sqli-v1"


def test_dataset_joins_trajectory_dataset_refs_when_no_other_ref():
    job = Job.from_api(training_job(dataset_ref=None, trajectory_dataset_refs=[
        {"name": "dreadnode/sqli-trajectories", "version": "1.0.0"},
        {"name": "dreadnode/xss-trajectories"},
        {"version": "no-name"},
        "not-a-ref-map@2.0",
    ]))
    assert job.dataset == (
        ref_text("dreadnode/sqli-trajectories", "1.0.0")
        + ", dreadnode/xss-trajectories, not-a-ref-map@2.0"
    )


def test_dataset_is_none_without_any_ref():
    assert Job.from_api(training_job(dataset_ref=None)).dataset is None


def test_ref_parses_name_at_version_strings():
    assert Ref.parse(ref_text("dreadnode/web-sqli", "0.3.1")) == Ref("dreadnode/web-sqli", "0.3.1")
    assert Ref.parse("plain-name") == Ref("plain-name")
    assert Ref.parse("@1.0") == Ref("@1.0")
    assert str(Ref("a", "1")) == "a@1"
    assert str(Ref("a")) == "a"


# --- logs -------------------------------------------------------------------------------------

LOG_ITEMS = [
    {"timestamp": "2026-11-20T10:00:02Z", "level": "info",
     "message": "Training started on Qwen/Qwen3-8B",
     "data": {"trainer_type": "sft", "backend": "tinker"}},
    {"timestamp": "2026-11-20T10:01:13Z", "level": "error",
     "message": "Training dataset is empty.", "data": {}},
]


def test_parse_logs_reads_the_items_envelope():
    entries = parse_logs({"items": LOG_ITEMS})
    assert [e.index for e in entries] == [0, 1]
    assert entries[0] == LogEntry(
        0, datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC), "info",
        "Training started on Qwen/Qwen3-8B", {"trainer_type": "sft", "backend": "tinker"},
    )
    assert entries[1].level == "error"
    assert entries[1].message == "Training dataset is empty."
    assert entries[1].data is None


def test_parse_logs_reads_a_bare_list():
    entries = parse_logs(LOG_ITEMS)
    assert [e.message for e in entries] == [
        "Training started on Qwen/Qwen3-8B", "Training dataset is empty."]


@pytest.mark.parametrize("payload", [None, "logs", 3, {"items": "nope"}, {"entries": []}])
def test_parse_logs_returns_nothing_for_a_non_list(payload):
    assert parse_logs(payload) == []


@pytest.mark.parametrize("level", [None, "", 3, "verbose", ["error"]])
def test_log_entry_with_missing_or_odd_level_reads_info(level):
    entry = LogEntry.from_api(4, {"timestamp": "2026-11-20T10:00:02Z", "level": level,
                                  "message": "m"})
    assert entry.level == "info"
    assert entry.index == 4


def test_log_entry_level_is_case_insensitive():
    assert LogEntry.from_api(0, {"level": "WARNING", "message": "m"}).level == "warning"
    assert LogEntry.from_api(0, {"level": "Error", "message": "m"}).level == "error"


def test_log_entry_with_non_string_message_shows_it_as_text():
    assert LogEntry.from_api(0, {"level": "info", "message": 42}).message == "42"
    assert LogEntry.from_api(0, {"level": "info", "message": None}).message == ""
    assert LogEntry.from_api(0, {"level": "info", "message": ["a", 1]}).message == "['a', 1]"
    assert LogEntry.from_api(0, {"level": "info"}).message == ""


def test_log_entry_with_bad_timestamp_has_none():
    assert LogEntry.from_api(0, {"timestamp": "soon", "message": "m"}).timestamp is None


def test_a_log_item_that_is_not_an_object_still_becomes_an_entry_at_its_position():
    entries = parse_logs({"items": ["plain text line", 7, None]})
    assert [(e.index, e.level, e.message, e.data) for e in entries] == [
        (0, "info", "plain text line", None),
        (1, "info", "7", None),
        (2, "info", "None", None),
    ]


# --- artifacts --------------------------------------------------------------------------------


def test_parse_artifacts_reads_the_artifacts_envelope():
    assert parse_artifacts({"artifacts": {"capability": "a@1"}}) == {"capability": "a@1"}


def test_parse_artifacts_reads_a_bare_map():
    bare = {"capability": "a@1", "checkpoints": ["tinker://r:train:0/sampler_weights/final"]}
    assert parse_artifacts(bare) == bare


@pytest.mark.parametrize("payload", [None, [], "x", 5, {"artifacts": None},
                                     {"artifacts": ["a"]}])
def test_parse_artifacts_returns_an_empty_map_for_a_non_map(payload):
    assert parse_artifacts(payload) == {}


@pytest.mark.parametrize(("raw", "level"), [("warn", "warning"), ("CRITICAL", "error"), ("fatal", "error")])
def test_common_level_spellings_map_to_the_four_levels(raw: str, level: str) -> None:
    assert LogEntry.from_api(0, {"level": raw, "message": "m"}).level == level


# --- notes on unusable data -----------------------------------------------------------------


def test_fields_of_the_wrong_type_are_each_noted():
    job = Job.from_api(training_job(name={"x": 1}, tags="nightly", capability=[1],
                                    created_at=1700000000, created_by_user="ada"))
    assert set(job.problems) == {
        "`name` is not text (got a map) and was ignored",
        "`tags` is not a list (got a string) and was ignored",
        "`capability` is not a name or a {name, version} map (got a list) and was ignored",
        "`created_at` is not a readable time (got 1700000000) and was ignored",
        "`created_by_user` is not a map (got a string) and was ignored",
    }


def test_a_huge_name_is_cut_and_noted():
    job = Job.from_api(training_job(name="n" * 30_000))
    assert job.name.startswith("n" * 20_000) and job.name.endswith("… (10,000 more characters)")
    assert job.problems == ("`name` is 30,000 characters long; only the first 20,000 are shown",)


@pytest.mark.parametrize(("payload", "note"), [
    ("oops", "the logs were not a list (got a string)"),
    ({"items": {"0": {}}}, "the logs were not a list (got a map)"),
    ({}, "the logs were not a list (got a map with no `items`)"),
])
def test_unusable_logs_say_why(payload, note):
    assert note_of(parse_logs(payload)) == note
    assert note_of(parse_logs({"items": []})) is None


@pytest.mark.parametrize(("payload", "note"), [
    ({"artifacts": ["a"]}, "the artifacts were not a map (got a list)"),
    ("x", "the artifacts were not a map (got a string)"),
    (None, "the artifacts were not a map (got null)"),
])
def test_unusable_artifacts_say_why(payload, note):
    assert note_of(parse_artifacts(payload)) == note
    assert note_of(parse_artifacts({"artifacts": None})) is None


def test_an_unreadable_log_timestamp_is_kept_for_the_row_and_a_long_message_is_cut():
    entry = LogEntry.from_api(0, {"timestamp": "soon", "message": "m" * 20_001})
    assert entry.unreadable_time == "'soon'"
    assert entry.message.endswith("… (1 more characters)")
    assert LogEntry.from_api(0, {"message": "m"}).unreadable_time is None

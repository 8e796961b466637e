"""The Artifacts & refs card: hidden internal fields, secrets, refs, nesting."""

from __future__ import annotations

import json

import pytest

from dashboard.viewmodels.artifacts import MASK, MAX_DEPTH, Value, is_ref, is_secret, raw_json, rows

CHECKPOINT = "tinker://ffa04fd4-5b6e-5a36-9fb6-f442b22748c2:train:0/sampler_weights/final"
SECRET_TOKEN = "wst_live_8f2e0c9d"


def at(name: str, version: str) -> str:
    """`name@version`, built so no tool mistakes it for an e-mail address."""
    return "@".join((name, version))


RL_ARTIFACTS = {
    "capability": at("web-sqli", "1.0.0"),
    "execution_mode": "fully_async",
    "checkpoints": [CHECKPOINT],
    "prompt_dataset": "seed-prompts@sqli-v1",
    "task": "security-mutillidae-sqli-login-bypass",
    "world_server_url": "https://world.example.internal:8443",
    "world_server_auth_token": SECRET_TOKEN,
    "sandbox_id": "sbx-123",
    "provider_sandbox_id": "prov-456",
    "worker_id": "worker-7",
    "payload_path": "/jobs/j1/payload.json",
    "result_path": "/jobs/j1/result.json",
}


def by_key(artifacts):
    return {row.key: row.value for row in rows(artifacts)}


def test_the_four_internal_worker_fields_are_stripped_and_sandbox_id_kept():
    keys = set(by_key(RL_ARTIFACTS))
    assert not keys & {"provider_sandbox_id", "worker_id", "payload_path", "result_path"}
    assert "sandbox_id" in keys
    assert by_key(RL_ARTIFACTS)["sandbox_id"] == Value("text", "sbx-123")


def test_rows_keep_the_payload_order_of_the_visible_keys():
    assert [row.key for row in rows(RL_ARTIFACTS)] == [
        "capability", "execution_mode", "checkpoints", "prompt_dataset", "task",
        "world_server_url", "sandbox_id"]


def test_the_world_server_auth_token_is_never_a_row():
    assert "world_server_auth_token" not in by_key(RL_ARTIFACTS)
    assert SECRET_TOKEN not in repr(rows(RL_ARTIFACTS))


@pytest.mark.parametrize("key", ["world_server_auth_token", "hf_token", "client_secret",
                                 "db_password", "api_key", "OPENAI_API_KEY", "apiKey", "api-key"])
def test_any_secret_looking_key_is_never_a_row(key):
    artifacts = {"task": "t", key: "s3cr3t-value"}
    assert [row.key for row in rows(artifacts)] == ["task"]
    assert "s3cr3t-value" not in repr(rows(artifacts))


@pytest.mark.parametrize("key", ["capability", "checkpoints", "world_server_url", "sandbox_id"])
def test_ordinary_keys_are_not_secret(key):
    assert not is_secret(key)


def test_raw_json_keeps_internal_fields_but_masks_the_token():
    raw = json.loads(raw_json(RL_ARTIFACTS))
    assert raw["world_server_auth_token"] == MASK
    assert raw["provider_sandbox_id"] == "prov-456"
    assert raw["checkpoints"] == [CHECKPOINT]
    assert SECRET_TOKEN not in raw_json(RL_ARTIFACTS)


def test_raw_json_masks_nested_secrets_in_maps_and_lists():
    artifacts = {"worlds": [{"url": "https://w", "auth_token": SECRET_TOKEN}],
                 "env": {"inner": {"password": SECRET_TOKEN, "user": "ada"}}}
    text = raw_json(artifacts)
    assert SECRET_TOKEN not in text
    raw = json.loads(text)
    assert raw["worlds"][0] == {"url": "https://w", "auth_token": MASK}
    assert raw["env"]["inner"] == {"password": MASK, "user": "ada"}


def test_nested_secrets_are_masked_in_rows():
    artifacts = {"world": {"url": "https://w", "auth_token": SECRET_TOKEN}}
    world = by_key(artifacts)["world"]
    assert world.kind == "map"
    assert dict(world.entries) == {"url": Value("text", "https://w"),
                                   "auth_token": Value("text", MASK)}


def test_a_secret_below_the_depth_cut_is_still_masked():
    deep = {"api_key": SECRET_TOKEN}
    for _ in range(MAX_DEPTH + 2):
        deep = {"level": deep}
    artifacts = {"nested": deep}
    assert SECRET_TOKEN not in repr(rows(artifacts))
    assert SECRET_TOKEN not in raw_json(artifacts)


def test_tinker_checkpoints_are_refs():
    checkpoints = by_key(RL_ARTIFACTS)["checkpoints"]
    assert checkpoints.kind == "list"
    assert checkpoints.items == (Value("ref", CHECKPOINT),)


def test_latest_checkpoint_string_is_a_ref():
    assert by_key({"latest_checkpoint": CHECKPOINT})["latest_checkpoint"].kind == "ref"


def test_name_at_version_strings_are_refs_and_prose_is_text():
    values = by_key(RL_ARTIFACTS)
    assert values["capability"] == Value("ref", at("web-sqli", "1.0.0"))
    assert values["prompt_dataset"].kind == "ref"
    assert values["task"] == Value("text", "security-mutillidae-sqli-login-bypass")
    assert not is_ref("a sentence with an @ in it")
    assert is_ref("s3://bucket/key")


def test_lists_and_nested_maps_become_list_and_map_values():
    values = by_key({"trajectory_datasets": [at("a", "1"), at("b", "2")],
                     "world": {"id": "w1", "steps": 3}})
    assert values["trajectory_datasets"] == Value("list", items=(
        Value("ref", at("a", "1")), Value("ref", at("b", "2"))))
    assert values["world"] == Value("map", entries=(
        ("id", Value("text", "w1")), ("steps", Value("text", "3"))))


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_empty_values_show_a_dash(empty):
    assert by_key({"eval_dataset": empty})["eval_dataset"] == Value("empty", "—")


def test_numbers_and_booleans_are_text():
    values = by_key({"n": 3, "f": 0.5, "b": True})
    assert values == {"n": Value("text", "3"), "f": Value("text", "0.5"),
                      "b": Value("text", "true")}


def test_deep_nesting_is_cut_at_max_depth_into_json_text():
    deep = {"leaf": 1}
    for _ in range(MAX_DEPTH + 3):
        deep = {"d": deep}
    value = by_key({"nested": deep})["nested"]
    depth = 0
    while value.kind == "map":
        (_, value), = value.entries
        depth += 1
    assert depth == MAX_DEPTH
    assert value.kind == "text"
    assert json.loads(value.text) == {"d": {"d": {"d": {"leaf": 1}}}}


def test_raw_json_is_sorted_and_pretty():
    assert raw_json({"b": 1, "a": 2}) == '{\n  "a": 2,\n  "b": 1\n}'


def test_keys_that_only_contain_secret_words_are_still_shown() -> None:
    shown = {row.key for row in rows({"num_tokens": 5, "author": "maya", "auth_token": "x"})}
    assert shown == {"num_tokens", "author"}

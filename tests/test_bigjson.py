"""Big job payloads are read a list at a time, and read exactly as a whole parse would read them."""

from __future__ import annotations

import numpy as np
import orjson

from dashboard.columns import Column
from dashboard.models import Job
from dashboard.sources import parse_json
from dashboard.sources.bigjson import BIG_BODY, parse_big

N = 40_000  # long enough for a list of numbers to be cut out (65,536 characters)


def payload() -> dict:
    return {"id": "j", "status": "completed", "name": "big",
            "metrics": {"steps": list(range(1, N + 1)), "loss": [1 / (i + 1) for i in range(N)],
                        "val_loss": [None] * (N - 1) + [0.5], "train/steps": N},
            "config": {"schedule": list(range(N))}}


def test_a_big_body_reads_the_same_as_a_whole_parse():
    body = orjson.dumps(payload())
    assert len(body) >= BIG_BODY // 2
    read, whole = parse_big(body), orjson.loads(body)
    assert isinstance(read["metrics"]["loss"], Column)
    assert np.array_equal(read["metrics"]["loss"].y, whole["metrics"]["loss"])
    assert np.array_equal(read["metrics"]["steps"].y, whole["metrics"]["steps"])
    gaps = read["metrics"]["val_loss"]  # nulls are gaps in a Column, not NaN/Inf
    assert np.isnan(gaps.y[:-1]).all() and gaps.y[-1] == 0.5 and not len(gaps.bad)
    assert read["config"] == whole["config"]  # outside the metrics a list stays a list
    assert {k: v for k, v in read.items() if k not in ("metrics", "config")} == {
        k: v for k, v in whole.items() if k not in ("metrics", "config")}


def test_numbers_inside_a_string_are_never_cut_out():
    text = "[" + ",".join(map(str, range(N))) + "]"
    body = orjson.dumps({"id": "j", "status": "failed", "error": text, "metrics": {}})
    assert parse_big(body) is None  # the cut text is not JSON: the body is parsed whole
    assert parse_json(body + b" " * BIG_BODY)["error"] == text


def test_a_string_that_looks_like_a_cut_marker_stays_a_string():
    data = payload()
    data["name"] = "\x00list 0000000000000000 0"
    read = parse_big(orjson.dumps(data))
    assert read["name"] == "\x00list 0000000000000000 0"
    assert isinstance(read["metrics"]["loss"], Column)


def test_a_body_without_long_lists_is_left_to_the_whole_parse():
    assert parse_big(orjson.dumps({"id": "j", "metrics": {"loss": [1, 2, 3]}})) is None


def test_a_big_payload_goes_through_the_shared_tier_and_comes_back_as_columns():
    from dashboard.sources.shared import decode, encode

    read = parse_big(orjson.dumps(payload()))
    back = decode(encode(read))
    for key in ("steps", "loss", "val_loss"):
        assert isinstance(back["metrics"][key], Column)
        assert np.array_equal(back["metrics"][key].y, read["metrics"][key].y, equal_nan=True)
    assert back["config"] == read["config"]


def test_a_payload_only_the_standard_encoder_writes_keeps_its_gaps_as_gaps():
    from dashboard.sources.shared import decode, encode

    read = parse_big(orjson.dumps(payload())) | {"huge": 2**70}  # past orjson's 64 bits
    back = decode(encode(read))
    assert back["huge"] == 2**70 and back["config"] == read["config"]
    assert Job.from_api(back).metrics["val_loss"].bad.tolist() == []  # nulls, not NaN
    assert np.array_equal(Job.from_api(back).metrics["loss"].y, read["metrics"]["loss"].y)


def test_a_number_past_a_doubles_range_is_left_to_the_whole_parse():
    body = orjson.dumps(payload()).replace(b'"steps":[1,', b'"steps":[1e999,')
    assert parse_big(body) is None
    assert parse_json(body)["metrics"]["steps"][0] == float("inf")


def test_only_a_jobs_own_metrics_become_columns():
    data = payload() | {"config": {"metrics": {"schedule": list(range(N))}}}
    read = parse_big(orjson.dumps({"items": [data]}))
    assert isinstance(read["items"][0]["metrics"]["loss"], Column)  # a list page's jobs
    assert read["items"][0]["config"]["metrics"]["schedule"] == list(range(N))  # elsewhere: a list

"""Metric series are float64 arrays from the moment a payload is parsed, keeping every note."""

from __future__ import annotations

import gc

import numpy as np

from dashboard import columns
from dashboard.columns import Column, column, derived, read_metrics
from dashboard.models import Job
from dashboard.sources.cache import CachedSource
from dashboard.viewmodels.metrics_csv import metrics_csv
from tests.static_source import StaticSource


def test_a_series_becomes_a_read_only_float64_column():
    read = column([1, 2.5, None, 4])
    assert isinstance(read, Column)
    assert read.y.dtype == np.float64 and not read.y.flags.writeable
    assert np.array_equal(read.y, [1.0, 2.5, np.nan, 4.0], equal_nan=True)
    assert len(read) == 4 and read.nbytes >= 32


def test_it_keeps_the_sign_of_every_nan_and_inf_as_written():
    read = column([1.0, "NaN", float("inf"), "-Infinity", 10**400, -(10**400), float("nan"), None])
    assert read.bad.tolist() == [1, 2, 3, 4, 5, 6]  # the null is a gap, not a NaN
    assert [read.word(i) for i in range(len(read.bad))] == [
        "NaN", "Infinity", "-Infinity", "Infinity", "-Infinity", "NaN"]


def test_it_counts_junk_and_booleans_as_unusable():
    read = column([1.0, "abc", {"a": 1}, [2], True, 3])
    assert read.unusable == 4
    assert np.isnan(read.y[1:5]).all() and read.y[5] == 3.0


def test_a_list_without_any_number_is_left_as_it_is():
    assert column([None, None]) == [None, None]
    assert column(["2026-01-01T00:00:00Z"]) == ["2026-01-01T00:00:00Z"]
    assert column([]) == [] and column(3.5) == 3.5


def test_a_job_holds_its_series_as_arrays_and_its_scalars_as_they_are():
    job = Job.from_api({"id": "j", "status": "completed",
                        "metrics": {"steps": [1, 2], "train/loss": [0.5, 0.4], "train/steps": 2}})
    assert isinstance(job.metrics["train/loss"], Column)
    assert job.metrics["train/steps"] == 2


def test_the_cache_keeps_no_python_list_of_a_jobs_series():
    payload = {"id": "j", "status": "completed", "metrics": {"steps": list(range(1000)),
                                                             "loss": [0.1] * 1000, "note": "x"}}
    source = StaticSource({"j": (payload, [])})
    source.cache_scope = "test"  # type: ignore[attr-defined]
    cached = CachedSource(source)
    kept = cached.get_job("acme", "research", "j")
    assert all(isinstance(kept["metrics"][k], Column) for k in ("steps", "loss"))
    assert kept["metrics"]["note"] == "x"


def test_read_metrics_gives_each_list_back_as_it_goes():
    metrics = {"loss": [0.5, 0.4]}
    assert read_metrics(metrics) is metrics and isinstance(metrics["loss"], Column)


def test_the_csv_writes_infinities_from_a_column_as_written():
    table = metrics_csv({"steps": column([1, 2, 3]), "loss": column([0.5, "-inf", float("nan")])})
    text = "".join(table.lines())
    assert "2,-Infinity" in text and "3,NaN" in text


def test_derived_values_are_remembered_for_a_cached_series_and_dropped_with_it():
    read = column([1.0, 2.0, 3.0])
    calls = []

    def compute() -> float:
        calls.append(1)
        return 6.0

    assert derived((read.y,), "sum", compute) == 6.0
    assert derived((read.y,), "sum", compute) == 6.0
    assert len(calls) == 1
    identity = id(read.y)
    del read
    gc.collect()
    other = column([5.0])
    derived((other.y,), "sum", lambda: 5.0)  # the next call drops what the freed array had
    assert not [k for k in columns._derived if k[0] == identity]


def test_derived_values_of_a_writeable_array_are_never_remembered():
    array = np.array([1.0, 2.0])
    calls = []
    for _ in range(2):
        derived((array,), "sum", lambda: calls.append(1))
    assert len(calls) == 2


def test_derived_values_stop_being_kept_past_the_bound(monkeypatch):
    monkeypatch.setattr(columns, "MAX_DERIVED", 0)
    read = column([1.0, 2.0])
    calls = []
    for _ in range(2):
        assert derived((read.y,), "n", lambda: calls.append(1) or 2) == 2
    assert len(calls) == 2  # computed each time, never kept


def test_an_array_freed_while_results_are_being_kept_never_blocks(monkeypatch):
    read = column([1.0, 2.0])
    identity = id(read.y)
    derived((read.y,), "n", lambda: 1)
    with columns._derived_lock:  # the finalizer may run inside garbage collection, lock held
        del read
        gc.collect()
    other = column([3.0])
    assert derived((other.y,), "n", lambda: 2) == 2  # and the next call purges
    assert not [k for k in columns._derived if k[0] == identity]

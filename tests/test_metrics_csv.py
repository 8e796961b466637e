"""The metrics CSV: one row per step (the union of every series' steps), a column per series at
full resolution, empty cells where a series has no value, NaN/Infinity written out, and no cell
a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.viewmodels.metrics_csv import metrics_csv, safe_text
from tests.static_source import JOBS, job, static_app


def table(metrics: dict[str, Any]) -> list[list[str]]:
    """The CSV of these metrics, parsed back."""
    return list(csv.reader(io.StringIO("".join(metrics_csv(metrics).lines()))))


def test_one_row_per_step_over_the_union_of_steps_with_empty_cells() -> None:
    rows = table({"steps": [1, 2, 3, 4], "train/loss": [1.5, 1.25, None, 1.0],
                  "learning_rate": [1e-7, 1e-7, 2e-7, 2e-7],
                  "eval/steps": [2, 4, 5], "eval/loss": [1.4, 1.1, 0.9], "train/num_examples": 40})
    assert rows == [
        ["step", "train/loss", "learning_rate", "eval/loss"],
        ["1", "1.5", "1e-07", ""],
        ["2", "1.25", "1e-07", "1.4"],
        ["3", "", "2e-07", ""],
        ["4", "1", "2e-07", "1.1"],
        ["5", "", "", "0.9"],  # an eval step past the training steps still gets its row
    ]


def test_nan_and_infinity_are_written_out_and_junk_is_empty() -> None:
    rows = table({"steps": [1, 2, 3, 4, 5, 6, 7],
                  "loss": [float("nan"), "NaN", float("inf"), "-Infinity", "abc", {"x": 1}, 10**400]})
    assert [r[1] for r in rows[1:]] == ["NaN", "NaN", "Infinity", "-Infinity", "", "", "Infinity"]


def test_full_precision_and_no_downsampling() -> None:
    n = 20_000
    rows = table({"steps": list(range(n)), "loss": [i / 3 for i in range(n)]})
    assert len(rows) == n + 1
    assert rows[-1] == [str(n - 1), repr((n - 1) / 3)]
    assert float(rows[8][1]) == 7 / 3  # row 0 is the header, row 1 step 0


@pytest.mark.parametrize("key", ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_keys_that_look_like_formulas_are_quoted(key: str) -> None:
    rows = table({"steps": [1], key: [0.5]})
    assert rows[0] == ["step", "'" + key]
    assert rows[1] == ["1", "0.5"]  # numbers stay numbers, even negative ones


def test_negative_numbers_are_not_mistaken_for_formulas() -> None:
    rows = table({"steps": [-1, 0], "delta": [-0.5, -3]})
    assert rows[1:] == [["-1", "-0.5"], ["0", "-3"]]


def test_keys_with_commas_quotes_newlines_and_lone_surrogates_stay_one_cell() -> None:
    rows = table({"steps": [1], 'a,b "c"\nd': [1.0], "bad\ud800key": [2.0]})
    assert rows[0] == ["step", 'a,b "c"\nd', "bad?key"]
    assert safe_text("ok") == "ok"


def test_times_are_kept_as_written_and_guarded() -> None:
    rows = table({"steps": [1, 2], "timestamps": ["2026-11-20T10:00:00Z", "=cmd|' /C calc'!A0"],
                  "loss": [1.0, 0.5]})
    assert rows[0] == ["step", "timestamps", "loss"]
    assert rows[1] == ["1", "2026-11-20T10:00:00Z", "1"]
    assert rows[2] == ["2", "'=cmd|' /C calc'!A0", "0.5"]


def test_a_series_that_cannot_be_put_on_steps_is_left_out() -> None:
    found = metrics_csv({"steps": [1, 2, 3], "loss": [1.0, 2.0, 3.0], "odd": [1.0, 2.0]})
    assert [c.key for c in found.columns] == ["loss"] and found.skipped == ["odd"]


def test_a_job_without_steps_is_written_on_its_epochs_or_positions() -> None:
    assert table({"epochs": [0.5, 1.0], "loss": [2.0, 1.0]}) == [
        ["epoch", "epochs", "loss"], ["0.5", "0.5", "2"], ["1", "1", "1"]]
    assert table({"loss": [2.0, 1.0]}) == [["point", "loss"], ["1", "2"], ["2", "1"]]
    assert table({}) == [["step"]]
    assert table({"steps": "not a list", "loss": 3}) == [["step"]]


JOB_ID = "30000000-0000-4000-8000-000000000001"


@pytest.fixture
def client() -> FlaskClient:
    metrics = {"steps": [1, 2, 3], "train/loss": [1.0, math.nan, 0.5], "=bad": [1, 2, 3]}
    return static_app({JOB_ID: (job(JOB_ID, metrics), [])}).test_client()


def test_the_route_is_an_attachment_linked_from_the_charts(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{JOB_ID}/metrics.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{JOB_ID}-metrics.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data(as_text=True) == "step,train/loss,'=bad\r\n1,1,1\r\n2,NaN,2\r\n3,0.5,3\r\n"
    page = client.get(f"{JOBS}/{JOB_ID}").get_data(as_text=True)
    assert f'href="{JOBS}/{JOB_ID}/metrics.csv" data-testid="metrics-csv" download' in page


def test_the_route_validates_the_job_id(client: FlaskClient) -> None:
    assert client.get(f"{JOBS}/not-a-uuid/metrics.csv").status_code == 404
    assert client.get(f"{JOBS}/30000000-0000-4000-8000-000000000009/metrics.csv").status_code == 404


VALUES = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(["NaN", "-Infinity", "=1+1", "@x", "2026-11-20T10:00:00Z"]),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(
    st.one_of(st.sampled_from(["steps", "eval/steps", "epochs", "timestamps", "eval/loss", "=cmd"]),
              st.text(max_size=10)),
    st.one_of(VALUES, st.lists(VALUES, max_size=12)), max_size=6))
def test_any_metrics_make_a_well_formed_csv(metrics: dict[str, Any]) -> None:
    rows = table(metrics)
    assert rows and all(len(row) == len(rows[0]) for row in rows)
    for cell in rows[0][1:]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

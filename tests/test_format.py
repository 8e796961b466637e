"""Formatting of numbers, durations and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dashboard.viewmodels import format as fmt

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "shown"), [
    (0, "0"),
    (0.0, "0"),
    (-0.0, "0"),
    (7, "7"),
    (-3, "-3"),
    (51234, "51,234"),
    (999_999, "999,999"),
    (1_000_000, "1M"),
    (1_250_000, "1.25M"),
    (-1_250_000, "-1.25M"),
    (3_400_000_000, "3.4B"),
    (2_000_000_000_000, "2T"),
    (10**30, "1e+30"),
    (2.0, "2"),
    (0.85, "0.85"),
    (1.5033, "1.503"),
    (-0.5, "-0.5"),
    (1234.5, "1,234.5"),
    (0.001, "0.001"),
    (1e-7, "1e-07"),
    (-1e-7, "-1e-07"),
    (5e-324, "4.94e-324"),
    (1e20, "1e+20"),
    (True, "true"),
    (False, "false"),
    (None, "None"),
    ("text", "text"),
])
def test_number_is_compact(value, shown):
    assert fmt.number(value) == shown


@pytest.mark.parametrize("value", [1e-7, 1e-12, 5e-324, -2e-9])
def test_number_never_rounds_a_small_value_to_zero(value):
    assert fmt.number(value) not in {"0", "-0", "0.0", "-0.0"}
    assert float(fmt.number(value)) != 0


@pytest.mark.parametrize(("value", "shown"), [
    (999_999_999, "1B"),
    (999_500_000, "1B"),
    (999_999_999_999, "1T"),
    (999_950.0 * 1000, "1B"),
])
def test_number_rounding_up_moves_to_the_next_suffix(value, shown):
    assert fmt.number(value) == shown


def test_number_of_nan_and_infinities():
    assert fmt.number(float("nan")) == "NaN"
    assert fmt.number(float("inf")) == "∞"
    assert fmt.number(float("-inf")) == "\u2212∞"


def test_number_of_an_int_past_float_range_does_not_crash():
    assert fmt.number(10**400) == "1.00e+400"
    assert fmt.number(-(10**400)) == "-1.00e+400"


def test_full_keeps_every_digit():
    assert fmt.full(1e-7) == "1e-07"
    assert fmt.full(0.123456789) == "0.123456789"
    assert fmt.full(1250000) == "1250000"
    assert fmt.full(float("nan")) == "nan"
    assert fmt.full("x") == "x"


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0s"),
    (0.9, "0s"),
    (12, "12s"),
    (60, "1m 00s"),
    (252, "4m 12s"),
    (3723, "1h 02m 03s"),
    (86_400, "1d 00h 00m"),
    (90_061, "1d 01h 01m"),
    (-5, "0s"),
    (None, "—"),
    (float("nan"), "—"),
    (float("inf"), "—"),
    (float("-inf"), "—"),
])
def test_duration(seconds, shown):
    assert fmt.duration(seconds) == shown


def test_duration_of_a_huge_number_of_seconds_is_days():
    assert fmt.duration(10**12) == "11574074d 01h 46m"


def test_utc_and_iso():
    moment = datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)
    assert fmt.utc(moment) == "2026-11-20 10:00:02 UTC"
    assert fmt.iso(moment) == "2026-11-20T10:00:02Z"
    assert fmt.utc(None) == "—"
    assert fmt.iso(None) == ""

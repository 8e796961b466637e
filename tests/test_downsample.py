"""Min/max downsampling (dashboard/viewmodels/downsample.py): spikes, ends and gaps survive."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.viewmodels.downsample import DEFAULT_POINTS, MAX_POINTS, minmax_indices, window

MILLION = 1_000_000


def noise(n: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def buckets_of(budget: int) -> int:
    """How many min/max buckets minmax_indices cuts a long series into for a budget."""
    return (max(4, min(budget, MAX_POINTS)) - 2) // 2


def gap_buckets(y: np.ndarray, budget: int) -> list[np.ndarray]:
    """The indices of each bucket (as minmax_indices cuts them) that holds a NaN."""
    size = -(-len(y) // buckets_of(budget))
    rows = [np.arange(start, min(start + size, len(y))) for start in range(0, len(y), size)]
    return [row for row in rows if np.isnan(y[row]).any()]


# --- short series -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 3, 100, DEFAULT_POINTS])
def test_minmax_indices_returns_every_index_when_the_series_fits_the_budget(n):
    assert minmax_indices(noise(n), DEFAULT_POINTS).tolist() == list(range(n))


def test_minmax_indices_returns_every_index_of_a_short_series_with_gaps():
    y = np.array([1.0, np.nan, 3.0, np.nan])
    assert minmax_indices(y, 10).tolist() == [0, 1, 2, 3]


# --- long series ------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [4, 100, 2000, MAX_POINTS])
def test_minmax_indices_keeps_the_first_and_the_last_index(budget):
    kept = minmax_indices(noise(MILLION), budget)
    assert kept[0] == 0
    assert kept[-1] == MILLION - 1


def test_minmax_indices_are_sorted_unique_and_in_range():
    kept = minmax_indices(noise(MILLION), 2000)
    assert np.all(np.diff(kept) > 0)
    assert kept.min() >= 0
    assert kept.max() < MILLION


def test_minmax_indices_keeps_a_one_point_spike_up_in_a_million_points():
    y = noise(MILLION)
    y[512_345] = 1e6
    kept = minmax_indices(y, 2000)
    assert 512_345 in kept
    assert len(kept) <= 2000


def test_minmax_indices_keeps_a_one_point_spike_down_in_a_million_points():
    y = noise(MILLION)
    y[777_777] = -1e6
    kept = minmax_indices(y, 2000)
    assert 777_777 in kept
    assert len(kept) <= 2000


def test_minmax_indices_keeps_the_min_and_max_of_every_bucket():
    y = noise(MILLION)
    budget = 2000
    size = -(-MILLION // buckets_of(budget))
    kept = set(minmax_indices(y, budget).tolist())
    for start in range(0, MILLION, size):
        row = y[start:start + size]
        assert start + int(row.argmin()) in kept
        assert start + int(row.argmax()) in kept


def test_minmax_indices_without_gaps_returns_at_most_the_budget():
    # Observed: 2 * buckets + 2 (first and last), with buckets = (budget - 2) // 2.
    y = noise(MILLION)
    for budget in (4, 5, 100, 101, 2000, 3999, MAX_POINTS):
        kept = minmax_indices(y, budget)
        assert len(kept) <= 2 * buckets_of(budget) + 2 <= budget
        assert len(kept) >= budget - 10


@pytest.mark.parametrize("budget", [MAX_POINTS + 1, 10_000, MILLION, 10**9])
def test_minmax_indices_clamps_a_budget_above_max_points(budget):
    kept = minmax_indices(noise(MILLION), budget)
    assert len(kept) <= MAX_POINTS
    assert minmax_indices(noise(MILLION), budget).tolist() == minmax_indices(
        noise(MILLION), MAX_POINTS).tolist()


@pytest.mark.parametrize("budget", [-5, 0, 1, 3])
def test_minmax_indices_clamps_a_tiny_budget_to_four_points(budget):
    kept = minmax_indices(noise(1000), budget)
    assert 2 <= len(kept) <= 4
    assert kept[0] == 0
    assert kept[-1] == 999


@pytest.mark.parametrize("budget", [4, 100, 2000, MAX_POINTS, 10**9])
def test_minmax_indices_with_gaps_stays_within_two_per_bucket_plus_ends_plus_one_gap_a_bucket(budget):
    # Observed bound: 2 * buckets + 2 + (buckets holding a gap) <= 3 * buckets + 2, i.e. at most
    # about 1.5 x the budget, and never more than 3 * (MAX_POINTS - 2) // 2 + 2 for any budget.
    y = noise(MILLION)
    y[::499] = np.nan
    kept = minmax_indices(y, budget)
    buckets = buckets_of(budget)
    assert len(kept) <= 2 * buckets + 2 + len(gap_buckets(y, budget))
    assert len(kept) <= 3 * buckets + 2
    assert len(kept) <= 3 * ((MAX_POINTS - 2) // 2) + 2


def test_minmax_indices_keeps_a_gap_index_in_every_bucket_that_has_one():
    y = noise(MILLION)
    holes = [10, 5_000, 5_001, 250_000, 499_999, 999_998]
    y[holes] = np.nan
    y[600_000:600_100] = np.nan
    budget = 2000
    kept = minmax_indices(y, budget)
    rows = gap_buckets(y, budget)
    assert len(rows) == 6  # 5_000 and 5_001 share a bucket
    for row in rows:
        in_row = kept[(kept >= row[0]) & (kept <= row[-1])]
        assert np.isnan(y[in_row]).any(), f"no gap kept in bucket {row[0]}..{row[-1]}"
        first_gap = row[np.isnan(y[row])][0]
        assert first_gap in in_row


def test_minmax_indices_keeps_a_lone_nan_so_the_line_breaks_there():
    y = noise(MILLION)
    y[314_159] = np.nan
    kept = minmax_indices(y, 2000)
    assert 314_159 in kept
    assert np.isnan(y[kept]).sum() == 1


def test_minmax_indices_keeps_no_nan_when_the_series_has_none():
    y = noise(MILLION)
    assert not np.isnan(y[minmax_indices(y, 2000)]).any()


def test_minmax_indices_of_an_all_nan_series_keeps_the_ends_and_a_gap_a_bucket():
    y = np.full(10_000, np.nan)
    kept = minmax_indices(y, 100)
    assert kept[0] == 0
    assert kept[-1] == 9_999
    size = -(-10_000 // buckets_of(100))
    assert kept.tolist() == sorted({*range(0, 10_000, size), 9_999})


def test_minmax_indices_of_a_short_all_nan_series_keeps_every_index():
    assert minmax_indices(np.full(3, np.nan), 100).tolist() == [0, 1, 2]


def test_minmax_indices_of_a_series_whose_only_value_is_in_the_middle_keeps_it():
    y = np.full(100_000, np.nan)
    y[54_321] = 0.5
    assert 54_321 in minmax_indices(y, 100)


@pytest.mark.parametrize("n", range(5, 40))
def test_minmax_indices_handles_lengths_just_over_the_budget(n):
    y = noise(n)
    for budget in range(4, n):
        kept = minmax_indices(y, budget)
        assert kept[0] == 0
        assert kept[-1] == n - 1
        assert kept.max() < n
        assert len(kept) <= budget
        assert int(y.argmax()) in kept
        assert int(y.argmin()) in kept


# --- window -----------------------------------------------------------------------------------

X = np.arange(1, 101, dtype=np.float64)  # steps 1..100 at indices 0..99


def test_window_maps_a_range_to_a_slice_with_one_point_of_margin_each_side():
    part = window(X, 20, 30)
    assert part == slice(18, 31)
    assert X[part].tolist() == [float(s) for s in range(19, 32)]


def test_window_between_points_takes_the_neighbours_outside():
    assert X[window(X, 20.5, 30.5)].tolist() == [float(s) for s in range(20, 32)]


def test_window_with_no_ends_is_everything():
    assert window(X, None, None) == slice(0, 100)


def test_window_with_only_an_end_is_open_on_the_other_side():
    assert window(X, None, 5) == slice(0, 6)
    assert window(X, 95, None) == slice(93, 100)


def test_window_covering_more_than_the_data_is_everything():
    assert window(X, -1000, 1000) == slice(0, 100)


def test_window_right_of_the_data_keeps_only_the_last_point():
    assert window(X, 200, 300) == slice(99, 100)


def test_window_left_of_the_data_keeps_only_the_first_point():
    assert window(X, -5, -1) == slice(0, 1)


def test_window_of_a_reversed_range_is_empty():
    part = window(X, 30, 20)
    assert part.start == part.stop


def test_window_of_an_empty_axis_is_empty():
    assert window(np.array([], dtype=np.float64), 1, 2) == slice(0, 0)


def test_window_on_a_million_steps_is_a_few_points():
    x = np.arange(1, MILLION + 1, dtype=np.float64)
    part = window(x, 500_000, 500_010)
    assert x[part][0] == 499_999
    assert x[part][-1] == 500_011
    assert part.stop - part.start == 13

"""Logs tools: the level filter and search (validated, applied server-side to the page, the
live poll, "load earlier", the panel fragment and the JSONL download), windows around a linked
entry, and where the first error is."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from flask.testing import FlaskClient

from dashboard.viewmodels.logs import (
    AROUND,
    LOG_WINDOW,
    MAX_QUERY,
    NO_FILTER,
    LogFilter,
    Span,
    error_positions,
    log_window,
    parse_filter,
    positions,
)
from tests.static_source import JOBS, job, static_app

BIG_ID = "10000000-0000-4000-8000-000000000001"
SMALL_ID = "10000000-0000-4000-8000-000000000002"
RUNNING_ID = "10000000-0000-4000-8000-000000000003"
BIG = 3000  # entries of the big job; every 100th is an error, every 7th a warning


def big_logs() -> list[dict[str, Any]]:
    """Info entries with a warning every 7th and an error every 100th (positions 99, 199, ...)."""
    items = []
    for i in range(BIG):
        level = "error" if i % 100 == 99 else "warning" if i % 7 == 0 else "info"
        items.append({"timestamp": "2026-11-20T10:00:00Z", "level": level,
                      "message": f"entry {i}" + (" Timeout talking to worker" if i == 1234 else ""),
                      "data": {"step": i, "host": "worker-7" if i == 2500 else "worker-1"}})
    return items


SMALL = [
    {"timestamp": "2026-11-20T10:00:00Z", "level": "debug", "message": "connecting"},
    {"timestamp": "2026-11-20T10:00:01Z", "level": "info", "message": "Training started"},
    {"timestamp": "2026-11-20T10:00:02Z", "level": "WARN", "message": "slow step", "data": {"ms": 900}},
    {"timestamp": "2026-11-20T10:00:03Z", "level": "error", "message": "CUDA out of memory"},
    {"timestamp": "2026-11-20T10:00:04Z", "level": "fatal", "message": "<script>alert(1)</script>"},
    "a bare string entry mentioning memory",
]


@pytest.fixture
def client() -> FlaskClient:
    return static_app({
        BIG_ID: (job(BIG_ID), big_logs()),
        SMALL_ID: (job(SMALL_ID), SMALL),
        RUNNING_ID: (job(RUNNING_ID, status="running"), SMALL),
    }).test_client()


ENTRY = re.compile(r'data-testid="log-entry"\s+data-level="\w+" data-index="(\d+)"')


def indexes(html: str) -> list[int]:
    return [int(i) for i in ENTRY.findall(html)]


def count_text(html: str) -> str:
    found = re.search(r'data-testid="logs-count"[^>]*>([^<]*)<', html)
    assert found, "no logs-count"
    return unescape(found.group(1)).strip()


# ---- parsing the filter ------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ({}, LogFilter()),
    ({"level": "error"}, LogFilter("error")),
    ({"level": " Warning "}, LogFilter("warning")),
    ({"level": "warn"}, LogFilter("warning")),
    ({"level": "fatal"}, LogFilter("error")),
    ({"level": "info"}, LogFilter("info")),
    ({"level": "debug"}, LogFilter()),  # the lowest level shows everything
    ({"level": ""}, LogFilter()),
    ({"q": "  timeout "}, LogFilter("", "timeout")),
    ({"level": "error", "q": "CUDA"}, LogFilter("error", "CUDA")),
])
def test_parse_filter_accepts_levels_aliases_and_a_search(args: dict[str, str], expected: LogFilter) -> None:
    assert parse_filter(args) == (expected, [])


@pytest.mark.parametrize("level", ["verbose", "ERRORS", "1", "<b>x</b>", "error;drop", "\x00"])
def test_an_unknown_level_is_ignored_with_a_note(level: str) -> None:
    found, notes = parse_filter({"level": level, "q": "x"})
    assert found == LogFilter("", "x")
    assert len(notes) == 1 and "was ignored" in notes[0] and "error" in notes[0]


def test_a_search_longer_than_the_limit_is_ignored_with_a_note() -> None:
    found, notes = parse_filter({"q": "x" * (MAX_QUERY + 1)})
    assert found == NO_FILTER
    assert notes == [f"the search text was ignored: it is longer than {MAX_QUERY} characters"]
    assert parse_filter({"q": "x" * MAX_QUERY})[0].q == "x" * MAX_QUERY


def test_the_filter_makes_its_own_query_strings() -> None:
    assert NO_FILTER.suffix == "" and NO_FILTER.query == "" and not NO_FILTER.active
    both = LogFilter("warning", "a&b =c")
    assert both.query == "level=warning&q=a%26b+%3Dc"
    assert both.suffix == "&" + both.query
    assert both.described == "warnings and errors, containing “a&b =c”"


# ---- matching ----------------------------------------------------------------------------


def test_the_level_is_a_threshold() -> None:
    levels = [e.get("level") if isinstance(e, dict) else None for e in SMALL]
    assert levels[2] == "WARN"
    assert positions(SMALL, LogFilter("error")) == [3, 4]
    assert positions(SMALL, LogFilter("warning")) == [2, 3, 4]
    assert positions(SMALL, LogFilter("info")) == [1, 2, 3, 4, 5]  # the bare string reads as info
    assert list(positions(SMALL, NO_FILTER)) == [0, 1, 2, 3, 4, 5]


def test_search_ignores_case_and_looks_in_message_and_data() -> None:
    assert positions(SMALL, LogFilter("", "MEMORY")) == [3, 5]
    assert positions(SMALL, LogFilter("", '"ms": 900')) == [2]  # as the data is shown
    assert positions(SMALL, LogFilter("", "900")) == [2]
    assert positions(SMALL, LogFilter("error", "memory")) == [3]
    assert positions(SMALL, LogFilter("", "<script>")) == [4]


def test_search_survives_hostile_entries() -> None:
    deep: Any = "bottom"
    for _ in range(3000):
        deep = {"d": deep}
    items = [
        {"level": ["error"], "message": {"nested": "needle"}, "data": {"x": float("nan")}},
        {"level": None, "message": None, "data": deep},
        {"message": 12345678901234567890, "data": {"k": object()}},
        {"message": "x", "data": {1: "needle in a non-string key"}},
        None, 7, ["needle"], {"message": "\ud800 lone surrogate needle"}, {"message": 10**5000},
    ]
    found = positions(items, LogFilter("", "needle"))
    assert 0 in found and 7 in found and 6 in found
    assert positions(items, LogFilter("", "1234567890")) == [2]
    assert positions(items, LogFilter("error")) == []  # a list is not a level: info
    assert positions(items, LogFilter("", "too long")) == [8]


def test_a_message_too_long_for_str_is_shown_not_a_crash(client: FlaskClient) -> None:
    app = static_app({SMALL_ID: (job(SMALL_ID), [{"level": "error", "message": 10**5000}])})
    html = app.test_client().get(f"{JOBS}/{SMALL_ID}?q=number").get_data(as_text=True)
    assert indexes(html) == [0] and "(a number too long to show)" in html


def test_error_positions_are_listed_up_to_a_limit() -> None:
    assert error_positions(big_logs(), range(BIG), limit=3) == [99, 199, 299]
    assert error_positions(SMALL, positions(SMALL, LogFilter("", "memory"))) == [3]
    assert error_positions(SMALL, []) == []


def test_the_first_error_respects_the_filter() -> None:
    assert error_positions(SMALL, positions(SMALL, NO_FILTER))[:1] == [3]
    assert error_positions(SMALL, positions(SMALL, LogFilter("", "script")))[:1] == [4]
    assert error_positions(SMALL, positions(SMALL, LogFilter("", "slow"))) == []
    assert error_positions([], range(0)) == []


# ---- windows -----------------------------------------------------------------------------


def test_the_opening_window_is_the_newest_page_with_a_control_above() -> None:
    shown = log_window(range(3000), 3000, page=500)
    assert list(shown.shown) == list(range(2500, 3000))
    assert shown.above == Span(0, 2500, 2500) and shown.above.top
    assert shown.below is None
    assert log_window(range(10), 10, page=500) == log_window(range(10), 10, page=500)
    assert log_window(range(10), 10, page=500).above is None


def test_load_earlier_pages_back_from_before() -> None:
    shown = log_window(range(3000), 2500)
    assert list(shown.shown) == list(range(1500, 2500))
    assert shown.above == Span(0, 1500, 1500)
    last = log_window(range(3000), 400)
    assert list(last.shown) == list(range(400)) and last.above is None


def test_around_a_linked_entry_leaves_controls_either_side() -> None:
    shown = log_window(range(3000), 2500, around=1234)
    assert list(shown.shown) == list(range(1234 - AROUND, 1234 + AROUND + 1))
    assert shown.above == Span(0, 1234 - AROUND, 1234 - AROUND)
    assert shown.below == Span(1234 + AROUND + 1, 2500, 2500 - 1234 - AROUND - 1)
    assert not shown.below.top
    edge = log_window(range(3000), 2500, around=3)
    assert edge.shown[0] == 0 and edge.above is None


def test_a_gap_loads_from_its_start_and_leaves_the_rest() -> None:
    gap = log_window(range(3000), 2500, since=1285)
    assert list(gap.shown) == list(range(1285, 2285))
    assert gap.above is None
    assert gap.below == Span(2285, 2500, 215)
    rest = log_window(range(3000), 2500, since=2285)
    assert list(rest.shown) == list(range(2285, 2500)) and rest.below is None


def test_windows_of_a_filtered_log_count_kept_entries() -> None:
    kept = positions(big_logs(), LogFilter("error"))
    assert kept[:3] == [99, 199, 299] and len(kept) == 30
    shown = log_window(kept, BIG, page=10)
    assert list(shown.shown) == kept[-10:]
    assert shown.above == Span(0, kept[-10], 20)
    around = log_window(kept, kept[-10], around=1299)
    assert 1299 in around.shown and around.above is None and around.below is None


def test_windows_never_fail_on_odd_numbers() -> None:
    for before, since, around in [(0, 0, None), (5, 9, None), (10, 0, 99), (10, 3, 0), (3000, 2999, 2999)]:
        shown = log_window(range(10), min(before, 10), since, around)
        assert all(0 <= i < 10 for i in shown.shown)


# ---- the job page --------------------------------------------------------------------------


def test_the_page_opens_filtered_by_level_and_says_how_many_match(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{SMALL_ID}?level=error").get_data(as_text=True)
    assert indexes(html) == [3, 4]
    assert count_text(html) == "Showing 2 of 6 entries"
    assert 'data-testid="logs-clear"' in html and 'data-errors="3 4"' in html
    assert '<option value="error" selected>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_the_page_searches_the_whole_log_not_only_the_newest_entries(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}?q=timeout").get_data(as_text=True)
    assert indexes(html) == [1234]  # far outside the newest 500
    assert count_text(html) == "Showing 1 of 3,000 entries"
    assert "not only those loaded below" in html
    data = client.get(f"{JOBS}/{BIG_ID}?q=WORKER-7").get_data(as_text=True)
    assert indexes(data) == [2500]


def test_a_filtered_page_opens_with_the_newest_matches_and_loads_earlier_ones(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}?q=entry+1").get_data(as_text=True)
    kept = positions(big_logs(), LogFilter("", "entry 1"))
    assert len(kept) == 1 + 10 + 100 + 1000
    assert indexes(html) == kept[-500:]
    assert count_text(html) == "Showing 1,111 of 3,000 entries"
    assert "Load earlier entries (611 before these)" in html
    earlier = re.search(r'hx-get="([^"]*/logs/earlier[^"]*)"', html).group(1)
    assert unescape(earlier).endswith(f"/logs/earlier?before={kept[-500]}&q=entry+1")
    page = client.get(unescape(earlier)).get_data(as_text=True)
    assert indexes(page) == kept[:611]
    assert "Load earlier" not in page


def test_unfiltered_page_is_unchanged(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}").get_data(as_text=True)
    assert indexes(html) == list(range(2500, 3000))
    assert count_text(html) == "3,000 entries"
    assert "Load earlier entries (2,500 before these)" in html
    assert 'hidden>Clear filters' in html or re.search(r'data-testid="logs-clear"\s+hidden', html)
    assert 'data-errors="99 199 299 399 499 599 699 799 899 999 1099' in html


@pytest.mark.parametrize("query", ["level=loud", "q=" + "y" * 300])
def test_a_bad_value_in_a_pasted_link_is_ignored_with_a_note(client: FlaskClient, query: str) -> None:
    response = client.get(f"{JOBS}/{SMALL_ID}?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="param-note"' in html and "was ignored" in html
    assert indexes(html) == [0, 1, 2, 3, 4, 5]


def test_every_log_entry_has_a_copy_link_to_its_anchor(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{SMALL_ID}").get_data(as_text=True)
    assert html.count('data-testid="log-copy-link"') == 6
    assert 'href="#log-3" data-testid="log-copy-link"' in html
    assert 'data-testid="shortcuts-help"' in html and 'data-testid="logs-download"' in html
    assert 'data-testid="logs-level-filter"' in html and 'data-testid="logs-search"' in html


# ---- fragments -----------------------------------------------------------------------------


def test_the_live_poll_applies_the_filter_on_an_unfiltered_cursor(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{RUNNING_ID}/logs?after=2&level=warning&matched=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert indexes(html) == [2, 3, 4]
    poller = re.search(r'<div id="logs-poller"[^>]*>', html).group(0)
    assert 'data-cursor="6"' in poller and 'data-matched="4"' in poller
    assert "logs?after=6&amp;level=warning&amp;matched=4" in poller


def test_a_poll_without_the_matched_count_counts_itself(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RUNNING_ID}/logs?after=4&q=memory").get_data(as_text=True)
    assert indexes(html) == [5]
    assert 'data-matched="2"' in html  # entry 3 before the cursor, entry 5 after it


def test_a_poll_that_finds_entries_brings_the_count_the_server_wrote(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RUNNING_ID}/logs?after=2&level=error").get_data(as_text=True)
    assert re.search(r'<span id="log-count"[^>]*hx-swap-oob="true"', html)
    assert count_text(html) == "Showing 2 of 6 entries"  # entries 3 and 4 (fatal) are errors


def test_an_unfiltered_poll_is_as_small_as_before(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{RUNNING_ID}/logs?after=6").get_data(as_text=True)
    assert "matched=" not in html and indexes(html) == []
    assert len(html.encode()) < 400


@pytest.mark.parametrize("path", ["logs?after=0&level=nope", "logs/panel?level=nope",
                                  "logs/earlier?before=5&level=x", "logs.jsonl?level=x",
                                  "logs/span?before=5&level=x",
                                  "logs/panel?q=" + "z" * 201])
def test_fragments_refuse_bad_filters_with_a_clear_400(client: FlaskClient, path: str) -> None:
    response = client.get(f"{JOBS}/{SMALL_ID}/{path}", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "was ignored" in response.get_data(as_text=True) or "use one of" in response.get_data(as_text=True)


def test_the_panel_fragment_is_the_list_under_a_new_filter(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{BIG_ID}/logs/panel?level=error")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert html.lstrip().startswith('<div id="logs-body"')
    assert indexes(html) == [i for i in range(BIG) if i % 100 == 99]
    assert count_text(html) == "Showing 30 of 3,000 entries"
    assert 'data-filter="level=error"' in html


def test_logs_around_a_linked_entry_load_in_place_of_the_control(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}/logs/earlier?before=2500&since=0&around=1234").get_data(as_text=True)
    assert indexes(html) == list(range(1234 - AROUND, 1234 + AROUND + 1))
    assert 'id="logs-earlier"' in html and 'data-before="1184"' in html
    gap = re.search(r'hx-get="([^"]*since=\d+[^"]*)"', html).group(1)
    assert unescape(gap).endswith("/logs/earlier?before=2500&since=1285")
    assert "Load 1,215 more entries here" in html
    rest = client.get(unescape(gap)).get_data(as_text=True)
    assert indexes(rest) == list(range(1285, 2285))
    assert "Load 215 more entries here" in rest


def test_the_panel_tells_the_page_how_many_entries_it_keeps(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}/logs/panel").get_data(as_text=True)
    assert f'data-log-window="{LOG_WINDOW}"' in html


def test_the_span_fragment_is_the_load_earlier_control_before_a_position(client: FlaskClient) -> None:
    response = client.get(f"{JOBS}/{BIG_ID}/logs/span?before=2500")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert html.lstrip().startswith('<li class="logs-span logs-earlier" id="logs-earlier"')
    assert 'data-since="0" data-before="2500" data-count="2500"' in html
    assert "Load earlier entries (2,500 before these)" in html
    earlier = re.search(r'hx-get="([^"]*)"', html).group(1)
    assert unescape(earlier).endswith("/logs/earlier?before=2500")
    assert indexes(client.get(unescape(earlier)).get_data(as_text=True)) == list(range(1500, 2500))


def test_the_span_fragment_counts_what_the_filter_keeps(client: FlaskClient) -> None:
    html = client.get(f"{JOBS}/{BIG_ID}/logs/span?before=2500&level=error").get_data(as_text=True)
    assert 'data-before="2500" data-count="25"' in html
    assert "Load earlier entries (25 before these)" in html
    assert unescape(re.search(r'hx-get="([^"]*)"', html).group(1)).endswith(
        "/logs/earlier?before=2500&level=error")
    assert unescape(re.search(r'href="([^"]*)"', html).group(1)).endswith("/logs.jsonl?level=error")


@pytest.mark.parametrize("query", ["before=0", "before=-5", "before=abc", "", "before=5&q=nothing+matches"])
def test_the_span_fragment_is_empty_when_nothing_is_before(client: FlaskClient, query: str) -> None:
    response = client.get(f"{JOBS}/{SMALL_ID}/logs/span?{query}")
    assert response.status_code == 200 and response.get_data(as_text=True).strip() == ""


def test_logs_earlier_clamps_odd_numbers(client: FlaskClient) -> None:
    for query in ["before=99999", "before=-5", "before=abc", "before=10&since=50", "before=10&around=-3"]:
        response = client.get(f"{JOBS}/{SMALL_ID}/logs/earlier?{query}")
        assert response.status_code == 200, query


def test_the_jsonl_download_can_be_filtered(client: FlaskClient) -> None:
    everything = client.get(f"{JOBS}/{SMALL_ID}/logs.jsonl").get_data(as_text=True).splitlines()
    assert len(everything) == 6
    errors = client.get(f"{JOBS}/{SMALL_ID}/logs.jsonl?level=error")
    assert errors.headers["Content-Disposition"].startswith("attachment;")
    assert [json.loads(line)["message"] for line in errors.get_data(as_text=True).splitlines()] == [
        "CUDA out of memory", "<script>alert(1)</script>"]

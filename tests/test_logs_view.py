"""Rows of the Live logs panel."""

from __future__ import annotations

import json

from dashboard.models import Job, parse_logs
from dashboard.viewmodels.logs import MAX_DATA_CHARS, NO_FILTER, data_text, log_rows, update

CHECKPOINT = "tinker://ffa04fd4-5b6e-5a36-9fb6-f442b22748c2:train:0/sampler_weights/checkpoint-1-step10"
ITEMS = [
    {"timestamp": "2026-11-20T10:00:02Z", "level": "info",
     "message": "Training started on Qwen/Qwen3-8B",
     "data": {"trainer_type": "sft", "backend": "tinker"}},
    {"timestamp": "2026-11-20T10:03:10Z", "level": "info", "message": "checkpoint 1 saved",
     "data": {"checkpoint_num": 1, "latest_checkpoint": CHECKPOINT}},
    {"timestamp": "2026-11-20T10:05:00Z", "level": "info", "message": "evaluation complete",
     "data": {"eval/loss": 1.3112, "eval/num_examples": 50}},
    {"timestamp": "2026-11-20T10:09:41Z", "level": "info", "message": "Training complete",
     "data": {}},
    {"timestamp": "2026-11-20T10:01:13Z", "level": "error",
     "message": "Training dataset is empty.", "data": {}},
]


def test_log_rows_keep_each_entrys_index_level_time_and_message():
    rows = log_rows(parse_logs({"items": ITEMS}))
    assert [(r.index, r.level, r.message) for r in rows] == [
        (0, "info", "Training started on Qwen/Qwen3-8B"),
        (1, "info", "checkpoint 1 saved"),
        (2, "info", "evaluation complete"),
        (3, "info", "Training complete"),
        (4, "error", "Training dataset is empty."),
    ]
    assert rows[0].time_iso == "2026-11-20T10:00:02Z"
    assert rows[0].time_utc == "2026-11-20 10:00:02 UTC"


def test_log_rows_of_a_slice_keep_the_original_indexes():
    entries = parse_logs(ITEMS)
    assert [r.index for r in log_rows(entries[3:])] == [3, 4]


def test_log_row_data_is_pretty_sorted_json():
    rows = log_rows(parse_logs(ITEMS))
    assert rows[0].data == '{\n  "backend": "tinker",\n  "trainer_type": "sft"\n}'
    assert json.loads(rows[1].data) == {"checkpoint_num": 1, "latest_checkpoint": CHECKPOINT}
    assert rows[2].data.index('"eval/loss"') < rows[2].data.index('"eval/num_examples"')


def test_empty_data_has_no_data_block():
    rows = log_rows(parse_logs(ITEMS))
    assert rows[3].data is None
    assert rows[4].data is None


def test_a_log_row_without_timestamp_shows_a_dash():
    (row,) = log_rows(parse_logs([{"level": "warning", "message": "late"}]))
    assert row.time_iso == ""
    assert row.time_utc == "—"
    assert row.level == "warning"


def test_data_text_keeps_unicode_and_non_json_values():
    assert data_text({"msg": "café ✓"}) == '{\n  "msg": "café ✓"\n}'
    assert data_text(["a", 1]) == '[\n  "a",\n  1\n]'
    assert data_text("plain") == '"plain"'
    assert data_text({"n": float("nan")}) == '{\n  "n": NaN\n}'


def test_huge_data_is_truncated_with_a_note():
    text = data_text({"blob": "x" * (MAX_DATA_CHARS * 2)})
    assert text.endswith("\n… (truncated)")
    assert len(text) == MAX_DATA_CHARS + len("\n… (truncated)")


def test_a_poll_returns_entries_after_the_cursor_and_the_next_cursor():
    view = update(Job.from_api({"id": "j", "status": "running"}), "/j", ITEMS, 2, False, NO_FILTER, None)
    assert [r.index for r in view.rows] == [2, 3, 4]
    assert view.cursor == 5
    assert view.total == 5


def test_a_poll_past_the_end_returns_nothing_and_keeps_the_cursor():
    view = update(Job.from_api({"id": "j", "status": "running"}), "/j", ITEMS, 9, False, NO_FILTER, None)
    assert view.rows == ()
    assert view.cursor == 9


def test_a_finished_job_gets_one_final_poll_which_then_stops():
    done = Job.from_api({"id": "j", "status": "completed"})
    first = update(done, "/j", ITEMS, 5, False, NO_FILTER, None)
    assert first.next_poll == "/j/logs?after=5&final=1"
    last = update(done, "/j", ITEMS, 5, True, NO_FILTER, None)
    assert last.next_poll is None
    running = update(Job.from_api({"id": "j", "status": "running"}), "/j", ITEMS, 5, True, NO_FILTER, None)
    assert running.next_poll == "/j/logs?after=5"


def test_a_log_row_with_an_unreadable_timestamp_says_so():
    (row,) = log_rows(parse_logs([{"timestamp": "yesterday", "message": "m"}]))
    assert row.time_iso == ""
    assert row.time_utc == "unreadable time: 'yesterday'"

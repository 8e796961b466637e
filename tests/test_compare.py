"""Comparing runs, on plain data: the `compare` value, the tile deltas, the "add a run"
suggestions, the overlaid figure and the side-by-side CSV."""

from __future__ import annotations

import json
import math

import numpy as np

from dashboard.analysis.series import Series
from dashboard.models import Job
from dashboard.viewmodels.charts import Chart
from dashboard.viewmodels.compare import (
    MAX_COMPARED,
    candidates,
    compare_view,
    delta,
    deltas,
    parse_compare,
    retry_of_logs,
    run_of,
)
from dashboard.viewmodels.figures import COLORS, Overlay, render, zoom_json
from dashboard.viewmodels.metrics_csv import metrics_csv, side_by_side

ME = "11111111-1111-4111-8111-111111111111"
IDS = [f"22222222-2222-4222-8222-00000000000{i}" for i in range(8)]
BASE = "/acme/research/training/jobs/" + ME


def job(job_id: str, name: str = "run", **fields: object) -> Job:
    return Job.from_api({"id": job_id, "status": "completed", "name": name, "trainer_type": "sft",
                         "dataset_ref": {"name": "d", "version": "1"}, **fields})


def test_compare_keeps_valid_ids_in_order_and_notes_every_entry_left_out() -> None:
    upper = "AAAAAAAA-2222-4222-8222-000000000000"  # a UUID, but not in its canonical form
    asked = parse_compare([f"{IDS[0]}, not-a-uuid,{ME}", f"{IDS[0]},{IDS[1]}", upper], ME)
    assert asked.ids == (IDS[0], IDS[1])
    assert asked.notes == ("'not-a-uuid' is not a job id (a UUID), so it is not compared",
                           "this job is not compared with itself",
                           "22222222 is listed twice; it is compared once",
                           f"{upper!r} is not a job id (a UUID), so it is not compared")


def test_compare_takes_at_most_five_others_and_says_so() -> None:
    asked = parse_compare([",".join(IDS[:7])], ME)
    assert asked.ids == tuple(IDS[:MAX_COMPARED])
    assert asked.notes == tuple(f"{i[:8]} was left out: at most 5 runs are compared" for i in IDS[5:7])


def test_an_empty_compare_compares_nothing_quietly() -> None:
    assert parse_compare(["", " , "], ME).ids == ()
    assert parse_compare(["", " , "], ME).notes == ()


def test_a_lower_loss_is_better_and_a_higher_reward_is_better() -> None:
    loss = delta("train/loss_last", 0.9, 1.2, "22222222")
    assert (loss.value, loss.verdict) == ("1.2", "better")
    assert loss.difference == "−0.3 (−25 %)"
    assert delta("train/reward_mean", 0.2, 0.5, "x").verdict == "worse"
    assert delta("eval/accuracy", 0.7, 0.5, "x").verdict == "better"
    assert delta("train/loss", 1.0, 1.0, "x").verdict == "same"


def test_a_key_without_a_direction_has_a_neutral_delta() -> None:
    steps = delta("train/steps", 200, 100, "x")
    assert steps.verdict == ""
    assert steps.difference == "+100 (+100 %)"


def test_a_delta_against_zero_has_no_relative_change_and_text_is_not_compared() -> None:
    assert delta("train/loss", 1.0, 0, "x").difference == "+1"
    assert delta("train/loss", "NaN", 1.0, "x").difference == "not comparable as numbers"
    assert delta("note", "<b>a</b>", "<b>b</b>", "x").value == "<b>b</b>"


def test_deltas_name_keys_only_one_job_has() -> None:
    other = run_of(job(IDS[0], metrics={"train/loss_last": 1.5, "eval/only_theirs": 2}), IDS[0])
    found = deltas({"train/loss_last": 1.0, "train/mine": 3}, [other])
    assert [d.verdict for d in found.get("train/loss_last")] == ["better"]
    assert found.get("train/mine") == ()
    assert found.missing["train/mine"] == ("22222222",)
    assert found.only_theirs == (("22222222", "eval/only_theirs"),)


def test_a_series_is_never_a_scalar_to_compare() -> None:
    other = run_of(job(IDS[0], metrics={"train/loss": [1.0, 2.0], "steps": [1, 2]}), IDS[0])
    assert other.scalars == ()


def test_a_run_is_named_by_the_id_it_was_asked_for_not_its_payload() -> None:
    run = run_of(job("something-else", name="<script>x</script>"), IDS[0])
    assert run.id == IDS[0] and run.label == f"<script>x</script> ({IDS[0][:8]}, completed)"


def test_the_strip_links_each_run_and_removing_one_keeps_the_others() -> None:
    runs = [run_of(job(i), i) for i in IDS[:3]]
    strip = compare_view(BASE, lambda i: f"/jobs/{i}", runs, ["a note"], COLORS)
    assert strip.query == "compare=" + "%2C".join(IDS[:3])
    assert strip.runs[1].url == f"/jobs/{IDS[1]}"
    assert strip.runs[1].remove_url == f"{BASE}?compare={IDS[0]}%2C{IDS[2]}"
    assert [r.color for r in strip.runs] == list(COLORS[1:4])


def test_suggested_runs_come_first_then_plain_matches() -> None:
    me = job(ME, name="exp")
    jobs = [job(IDS[0], name="unrelated exp"), job(IDS[1], name="exp"), job(ME, name="exp"),
            job(IDS[2], name="retry source"), job(IDS[3], name="exp", trainer_type="rl"),
            job(IDS[4], name="exp", config={"retry_of": ME})]
    found = candidates(me, jobs, [IDS[5]], BASE, str, "", IDS[2])
    assert [(c.id, c.why) for c in found] == [
        (IDS[4], "retried from this run"), (IDS[2], "this run was retried from it"),
        (IDS[1], "same name, trainer and dataset"), (IDS[3], "same name")]
    assert found[0].add_url == f"{BASE}?compare={IDS[5]}%2C{IDS[4]}"
    matched = candidates(me, jobs, [], BASE, str, "UNRELATED", None)
    assert [c.id for c in matched] == [IDS[0]]


def test_the_retry_source_is_read_from_the_first_log_entry() -> None:
    assert retry_of_logs([{"message": "created", "data": {"retry_of": IDS[0]}}]) == IDS[0]
    assert retry_of_logs([{"data": {"retry_of": "../../etc"}}]) is None
    assert retry_of_logs([]) is None


# ---- the overlaid figure -------------------------------------------------------------------


def loss_chart(values: list[float], key: str = "train/loss") -> Chart:
    x = np.arange(1.0, len(values) + 1)
    y = np.array(values, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(y))
    y[bad] = np.nan
    return Chart("chart-loss", "Loss", (Series(key, x, y, "Step", bad),))


def test_compared_jobs_are_drawn_in_their_colour_named_in_the_legend_and_counted_apart() -> None:
    other = Overlay(IDS[0], "<i>old</i> (22222222, failed)", loss_chart([3.0, math.nan, 1.0]), COLORS[1])
    rendered = render(loss_chart([2.0, 1.0]), own="mine (11111111, completed)", others=[other])
    figure = json.loads(rendered.figure)
    lines = [t for t in figure["data"] if t.get("mode") != "markers"]
    assert [t["name"] for t in lines] == ["mine (11111111, completed) · train/loss",
                                          "&lt;i&gt;old&lt;/i&gt; (22222222, failed) · train/loss"]
    assert [t["line"]["color"] for t in lines] == [COLORS[0], COLORS[1]]
    assert [t["meta"] for t in figure["data"]] == ["", IDS[0], IDS[0]]  # its NaN marker is its own
    assert figure["layout"]["showlegend"] is True
    assert rendered.badge == "2 points"
    assert [(r.job_id, r.badge) for r in rendered.runs] == [(IDS[0], "2 points · 1 NaN/Inf")]


def test_compared_series_are_downsampled_like_the_job_own() -> None:
    many = [1.0] * 100_000
    many[54_321] = 50.0
    other = Overlay(IDS[0], "big", loss_chart(many), COLORS[1])
    rendered = render(loss_chart([1.0, 2.0]), budget=1000, others=[other])
    assert rendered.runs[0].shown < 1100 and rendered.runs[0].total == 100_000
    assert "min/max kept" in rendered.runs[0].badge
    assert rendered.height > 240


def test_a_zoom_sends_every_compared_job_traces_and_badges() -> None:
    other = Overlay(IDS[0], "old", loss_chart([float(i) for i in range(100)]), COLORS[1])
    body = json.loads(zoom_json(loss_chart([1.0] * 100), 10, 20, 1000, others=[other]))
    assert body["runs"] == {IDS[0]: "13 points"}
    assert {t.get("meta") for t in body["data"]} == {"", IDS[0]}


def test_a_chart_alone_keeps_its_colours_per_series_and_no_owner() -> None:
    figure = json.loads(render(loss_chart([1.0, 2.0])).figure)
    assert "meta" not in figure["data"][0]
    assert figure["data"][0]["name"] == "train/loss"


# ---- the CSV -------------------------------------------------------------------------------


def test_the_compared_csv_has_one_column_set_per_job_on_the_union_of_steps() -> None:
    mine = metrics_csv({"steps": [1, 2], "train/loss": [2.0, 1.0]})
    theirs = metrics_csv({"steps": [2, 3], "train/loss": [3.0, "NaN"], "=cmd": [1, 2]})
    lines = list("".join(side_by_side([("11111111", mine), ("22222222", theirs)]).lines()).splitlines())
    assert lines == ["step,train/loss [11111111],train/loss [22222222],'=cmd [22222222]",
                     "1,2,,", "2,1,3,1", "3,,NaN,2"]

"""The on-call analysis on plain data: anomalies, log scans, checkpoints, stalls, the triage card,
the ship checklist, the publish helper and the incident summary, hostile inputs included."""

from __future__ import annotations

import json
import math
import shlex
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import yaml

from dashboard.analysis import logscan, progress
from dashboard.analysis.anomalies import SPIKE_Z, Anomalies, Anomaly, first_spike
from dashboard.analysis.series import step_text
from dashboard.models import Job, LogEntry, parse_logs
from dashboard.sources import load_pane
from dashboard.sources.demo import (
    CANCELLED_ID,
    FAILED_ID,
    NAN_ID,
    NO_FINAL_ID,
    RAY_RL_ID,
    RL_TINKER_ID,
    SFT_NEW_ID,
    SFT_OLD_ID,
    STALLED_ID,
    DemoSource,
)
from dashboard.sources.demo_jobs import running_sft
from dashboard.viewmodels import publish, triage_card
from dashboard.viewmodels.oncall import Markers, OnCallView, marker_layout, oncall_view
from dashboard.viewmodels.publish import publish_view
from dashboard.viewmodels.triage_card import log_link

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def job(metrics: dict | None = None, **fields) -> Job:
    """A job from a plain payload."""
    return Job.from_api({"id": "j", "status": "completed", "trainer_type": "sft", "metrics": metrics or {},
                         **fields})


def find_anomalies(j: Job) -> Anomalies:
    """A job's anomalies as the page finds them (on the series its charts draw)."""
    return Markers(j).anomalies


def noisy_loss(n: int, seed: int = 1) -> list[float]:
    """A decaying loss with 3 % noise, like a healthy run."""
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    return list(np.round((0.6 + 1.8 * np.exp(-steps / max(1, n / 8))) * (1 + rng.normal(0, 0.03, n)), 5))


# --- small helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "text"), [
    (8, "8 s"), (0.4, "0 s"), (-3, "0 s"), (14 * 60, "14 min"), (2.5 * 3600, "2.5 h"), (30 * 3600, "30 h"),
    (5 * 86400, "5 days"), (None, "an unknown time"), (math.nan, "an unknown time"),
    (math.inf, "an unknown time"),
])
def test_short_duration(seconds, text):
    assert progress.short_duration(seconds) == text


def test_step_text_and_headline():
    assert step_text(12001.0) == "12,001"
    assert step_text(1.5) == "1.5"
    assert logscan.headline("Traceback (most recent call last):\n  File x\nValueError: bad rows\n") == (
        "ValueError: bad rows")
    assert logscan.headline("  first line \nsecond") == "first line"
    assert logscan.headline("") == logscan.headline("\n \n") == ""
    assert len(logscan.headline("x" * 5000)) == logscan.HEADLINE_CHARS


# --- the loss spike ----------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[], [1.0], [math.nan] * 50, [2.0] * 15, [math.inf, -math.inf, math.nan]])
def test_no_spike_in_degenerate_series(values):
    assert first_spike(np.array(values, dtype=float)) is None


def test_a_healthy_noisy_decaying_loss_has_no_spike():
    for seed in range(20):
        assert first_spike(np.array(noisy_loss(2000, seed))) is None, seed


def test_the_first_spike_is_found_where_it_is():
    y = np.array(noisy_loss(3000))
    y[1700] *= 3
    y[2500] *= 10
    found = first_spike(y)
    assert found is not None and found.position == 1700
    assert found.z > SPIKE_Z
    assert found.value == pytest.approx(y[1700])


def test_a_spike_in_the_warm_up_block_is_not_flagged_but_a_later_one_is():
    y = np.array(noisy_loss(400))
    y[3] *= 20  # inside the first window: the warm-up
    assert first_spike(y) is None
    y[300] *= 5
    assert first_spike(y).position == 300


def test_a_constant_series_needs_a_material_jump():
    y = np.full(200, 0.5)
    y[150] = 0.501  # rounding noise, not a spike (the scale has a floor of 0.5 % of the median)
    assert first_spike(y) is None
    y[180] = 0.6
    assert first_spike(y).position == 180


def test_nan_points_are_skipped_and_positions_are_in_the_original_series():
    y = np.array(noisy_loss(500))
    y[::7] = np.nan
    y[401] = 50.0
    assert first_spike(y).position == 401


def test_a_falling_cliff_is_not_a_spike():
    noise = 1 + np.random.default_rng(3).normal(0, .01, 200)
    y = np.concatenate([np.full(100, 2.0), np.full(100, 0.5)]) * noise
    assert first_spike(y) is None


def test_spike_search_is_fast_on_a_million_points():
    y = np.array(noisy_loss(1_000_000))
    y[777_777] = 100.0
    started = time.perf_counter()
    found = first_spike(y)
    assert found.position == 777_777
    assert time.perf_counter() - started < 2.0


# --- anomalies of a job ------------------------------------------------------------------------


@pytest.mark.parametrize("metrics", [
    {}, {"steps": []}, {"train_loss": []}, {"train_loss": "NaN"}, {"train_loss": [None] * 30},
    {"train_loss": [1.0]}, {"train_loss": ["a", "b", {}, [1], True]}, {"steps": "x", "train_loss": 3},
    {"train/loss": [{"nested": 1}] * 5, "eval/loss_history": [None, "x"]},
])
def test_degenerate_metrics_have_no_anomalies_and_do_not_raise(metrics):
    assert find_anomalies(job(metrics)).found == ()


def test_a_job_that_is_not_a_map_still_works():
    assert find_anomalies(Job.from_api("garbage")).found == ()


@pytest.mark.parametrize(("value", "word"), [(math.nan, "NaN"), ("NaN", "NaN"), ("Infinity", "Inf"),
                                             ("-inf", "-Inf"), (math.inf, "Inf"), (1e400, "Inf")])
def test_the_first_nan_or_inf_is_found_at_its_step(value, word):
    loss = noisy_loss(50)
    loss[30] = value
    loss[40] = math.nan
    found = find_anomalies(job({"steps": list(range(100, 150)), "train_loss": loss})).first_bad
    assert (found.kind, found.key, found.x, found.axis) == ("nan", "train_loss", 130.0, "Step")
    assert found.detail.startswith(word) and "2 non-finite" in found.detail


def test_the_first_nan_is_the_earliest_over_every_charted_series():
    loss, grad = noisy_loss(50), [1.0] * 50
    loss[30], grad[20] = math.nan, "Infinity"
    found = find_anomalies(job({"steps": list(range(1, 51)), "train/loss": loss,
                                       "train/grad_norm": grad})).first_bad
    assert (found.key, found.x) == ("train/grad_norm", 21.0)


def test_nulls_are_gaps_not_nan():
    loss = noisy_loss(50)
    loss[10] = None
    assert find_anomalies(job({"train_loss": loss})).first_bad is None


def test_a_series_without_a_usable_axis_is_marked_by_position():
    loss = noisy_loss(50)
    loss[5] = math.nan
    found = find_anomalies(job({"steps": [1, 2, 3], "train_loss": loss})).first_bad
    assert (found.axis, found.x, found.where) == ("Point", 6.0, "point 6")


def test_the_spike_is_found_on_the_loss_chart_series():
    loss = noisy_loss(600)
    loss[450] = loss[450] * 8
    anomalies = find_anomalies(job({"steps": list(range(1, 601)), "train/loss": loss,
                                           "train_loss": loss}))
    assert (anomalies.first_spike.key, anomalies.first_spike.x) == ("train/loss", 451.0)
    assert anomalies.first == anomalies.first_spike
    assert "robust z" in anomalies.first_spike.detail


def test_divergence_when_val_rises_while_train_falls():
    steps = list(range(1, 301))
    train = [0.4 + 1.6 * math.exp(-s / 60) for s in steps]
    evals = {50: 1.3, 100: 1.0, 150: 0.94, 200: 0.97, 250: 1.06, 300: 1.19}
    metrics = {"steps": steps, "train/loss": train, "eval/steps": list(evals),
               "eval/loss_history": list(evals.values())}
    found = find_anomalies(job(metrics)).divergence
    assert (found.kind, found.x, found.key) == ("divergence", 200.0, "eval/loss_history")
    assert "0.94 → 1.19" in found.detail


def test_divergence_by_a_growing_val_train_ratio_on_an_old_style_null_padded_val_loss():
    steps = list(range(1, 101))
    train = [2.0 - 0.015 * s for s in steps]  # falls from 2.0 to 0.5
    val = [None] * 100
    for s, v in ((20, 1.9), (40, 1.6), (60, 1.6), (80, 1.6), (100, 1.6)):
        val[s - 1] = v
    found = find_anomalies(job({"steps": steps, "train_loss": train, "val_loss": val})).divergence
    assert found is not None and found.key == "val_loss" and "ratio" in found.detail


@pytest.mark.parametrize(("evals", "falling"), [
    ({10: 1.0, 20: 0.9}, True),  # too few evals
    ({10: 1.0, 20: 0.9, 30: 0.8, 40: 0.7}, True),  # improving with the train loss
    ({10: 1.0, 20: 0.8, 30: 0.81, 40: 0.82}, False),  # both at a plateau: val noise under 10 %
])
def test_no_divergence(evals, falling):
    steps = list(range(1, 41))
    train = [2 - s / 40 for s in steps] if falling else [0.75 + 0.01 * (s % 3) for s in steps]
    metrics = {"steps": steps, "train/loss": train, "eval/steps": list(evals),
               "eval/loss_history": list(evals.values())}
    assert find_anomalies(job(metrics)).divergence is None


def test_a_val_plateau_while_the_train_loss_keeps_falling_is_divergence():
    steps = list(range(1, 41))
    evals = {10: 1.0, 20: 0.8, 30: 0.81, 40: 0.82}
    metrics = {"steps": steps, "train/loss": [1.6 - s / 30 for s in steps], "eval/steps": list(evals),
               "eval/loss_history": list(evals.values())}
    found = find_anomalies(job(metrics)).divergence
    assert found.x == 40 and "ratio 0.75 → 2.46" in found.detail


def test_a_constant_gap_between_val_and_train_is_no_divergence():
    steps = list(range(1, 100_001))
    train = [2.5 * math.exp(-s / 25_000) + 0.3 for s in steps]
    val = [train[i] + 0.1 if i % 1000 == 999 else None for i in range(len(steps))]
    found = find_anomalies(job({"steps": steps, "train_loss": train, "val_loss": val}))
    assert found.divergence is None


def test_the_demo_jobs_that_are_healthy_have_no_anomalies():
    source = DemoSource(run_seconds=60)
    for job_id in (SFT_OLD_ID, SFT_NEW_ID, RL_TINKER_ID, RAY_RL_ID, CANCELLED_ID, FAILED_ID):
        assert find_anomalies(Job.from_api(source.get_job("acme", "research", job_id))).found == ()
    for generation in range(40):  # every generation of the live job, at several moments of its run
        for share in (0.3, 0.6, 1.0):
            live = running_sft(generation, 0.0, 60 * share, 60.0).job
            assert find_anomalies(Job.from_api(live)).found == (), (generation, share)


def test_the_nan_demo_job_blows_up_where_it_should():
    source = DemoSource(run_seconds=60)
    anomalies = find_anomalies(Job.from_api(source.get_job("acme", "research", NAN_ID)))
    assert anomalies.first_bad.x == 12_001 and anomalies.first_bad.key == "train/loss"
    assert 11_940 < anomalies.first_spike.x < 12_001
    assert anomalies.divergence is None


# --- the logs, raw -----------------------------------------------------------------------------


HOSTILE_LOGS = [None, "text", 7, [], {"level": 5}, {"level": "info", "data": "x"},
                {"level": "warning", "data": {"step": True}}, {"level": "info", "data": {"step": "12"}},
                {"level": "ERROR", "message": "boom", "data": {"step": 12}},
                {"level": "fatal", "data": {"step": 30.0}}, {"level": "info", "data": {"step": math.nan}}]


def test_log_scans_tolerate_anything():
    assert logscan.first_error(HOSTILE_LOGS) == 8
    assert logscan.error_count(HOSTILE_LOGS) == 2
    steps = logscan.StepIndex.of(HOSTILE_LOGS)
    assert steps.first_at(10) == 8
    assert steps.first_at(13) == 9
    assert steps.first_at(31) is None
    assert logscan.first_error([]) is None and logscan.error_count([]) == 0
    assert not logscan.StepIndex.of([{"data": {"step": "1"}}, None])


def test_entry_at_time_and_step_time():
    items = [{"timestamp": "nonsense"}, {"timestamp": "2026-11-20T10:00:00Z"},
             {"timestamp": "2026-11-20T10:05:00Z"}]
    assert logscan.entry_at_time(items, datetime(2026, 11, 20, 10, 1, tzinfo=UTC)) == 2
    assert logscan.entry_at_time(items, datetime(2026, 11, 20, 11, 0, tzinfo=UTC)) is None
    j = job({"steps": [1, 101]}, started_at="2026-11-20T10:00:00Z")
    assert logscan.step_time(j, 51, datetime(2026, 11, 20, 10, 10, tzinfo=UTC)) == datetime(
        2026, 11, 20, 10, 5, tzinfo=UTC)
    assert logscan.step_time(job({"steps": [1]}), 1, NOW) is None


def test_an_anomaly_maps_to_a_log_entry_by_time_when_no_entry_has_a_step():
    loss = noisy_loss(100)
    loss[49] = math.nan
    j = job({"steps": list(range(1, 101)), "train_loss": loss}, started_at="2026-11-20T10:00:00Z",
            completed_at="2026-11-20T10:10:00Z")
    items = [{"timestamp": f"2026-11-20T10:0{m}:00Z", "message": f"m{m}"} for m in range(10)]
    anomaly = find_anomalies(j).first_bad
    assert logscan.entry_for(j, items, anomaly, j.completed_at) == 5


# --- checkpoints and progress ------------------------------------------------------------------


def test_checkpoints_from_hostile_artifacts():
    assert progress.checkpoint_list({}) == ()
    assert progress.checkpoint_list({"checkpoints": "tinker://x"}) == ()
    found = progress.checkpoint_list({"checkpoints": [None, 3, "", "tinker://r:train:0/sampler_weights/check2-step20",
                                                    "s3://b/ray/checkpoint_000040", "tinker://r/sampler_weights/final"],
                                    "latest_checkpoint": "tinker://r/sampler_weights/extra"})
    assert [(c.number, c.name, c.step, c.final) for c in found] == [
        (1, "check2-step20", 20, False), (2, "checkpoint_000040", 40, False), (3, "final", None, True),
        (4, "extra", None, False)]


def test_last_and_planned_steps():
    assert progress.last_step(job({"steps": [1, 2, 3, "junk", None]})) == 3
    assert progress.last_step(job({"train/steps": 40})) == 40
    assert progress.last_step(job({"steps": ["a"]})) is None
    assert progress.planned_steps(job(config={"steps": 120})) == 120
    for bad in (0, -1, True, "120", 1.5):
        assert progress.planned_steps(job(config={"steps": bad})) is None


# --- stalls ------------------------------------------------------------------------------------


def entries_every(seconds: float, count: int, last: datetime, step_from: int = 1) -> list[LogEntry]:
    """`count` parsed entries `seconds` apart, the last at `last`, each with a step."""
    first = last - timedelta(seconds=seconds * (count - 1))
    raw = [{"timestamp": (first + timedelta(seconds=seconds * i)).isoformat(), "level": "info",
            "message": f"step {step_from + i}", "data": {"step": step_from + i}} for i in range(count)]
    return parse_logs(raw)


def running(steps: int = 100, **fields) -> Job:
    """A running job with `steps` steps of metrics."""
    return Job.from_api({"id": "r", "status": "running", "started_at": "2026-11-20T09:00:00Z",
                         "metrics": {"steps": list(range(1, steps + 1))}, **fields})


def test_a_running_job_quiet_for_much_longer_than_usual_is_stalled():
    entries = entries_every(8, 100, NOW - timedelta(minutes=14))
    found = progress.stall(running(), entries, NOW)
    assert found is not None and found.sentence == "no progress for 14 min; entries usually every 8 s"
    assert found.limit == progress.STALL_FLOOR  # 10 x 8 s is under the 2 min floor


def test_no_stall_within_the_limit_or_when_not_running():
    entries = entries_every(30, 50, NOW - timedelta(minutes=4))
    assert progress.stall(running(), entries, NOW) is None  # 4 min < 10 x 30 s
    old = entries_every(8, 10, NOW - timedelta(hours=5))
    assert progress.stall(running(status="completed"), old, NOW) is None


def test_logs_quiet_while_the_metrics_keep_moving_is_no_stall():
    entries = entries_every(8, 100, NOW - timedelta(minutes=14))  # steps 1..100 logged
    assert progress.stall(running(steps=500), entries, NOW) is None


def test_a_stall_with_no_entries_counts_from_the_start_and_entries_at_one_time_are_one():
    assert progress.stall(running(), [], NOW).quiet == 3 * 3600
    assert progress.stall(Job.from_api({"id": "r", "status": "running"}), [], NOW) is None
    same = parse_logs([{"timestamp": "2026-11-20T10:00:00Z"}] * 5)
    found = progress.stall(running(), same, NOW)
    assert found.usual is None and "too few entries" in found.sentence


# --- the page object, on the demo jobs --------------------------------------------------------


def oncall_for(source: DemoSource, job_id: str, now: datetime | None = None, link: str = "http://h/j",
               ) -> OnCallView:
    """The on-call view of a demo job, every entry counted as on the page."""
    pane = load_pane(source, "acme", "research", job_id)
    return oncall_view(pane.job, pane.items, range(len(pane.items)), pane.artifacts, now or datetime.now(UTC),
                       Markers(pane.job), link)


def oncall_of(j: Job, items: list) -> OnCallView:
    """The on-call view of a job from plain data, every entry on the page."""
    return oncall_view(j, items, range(len(items)), {}, NOW, Markers(j), "http://h/j")


@pytest.fixture(scope="module")
def demo() -> DemoSource:
    return DemoSource(run_seconds=60)


def test_card_of_the_bad_dataset_job(demo):
    card = oncall_for(demo, FAILED_ID).card
    assert card.reason == "failed" and card.error.startswith("Training inputs did not produce")
    assert card.first_error.href == f"#log-{card.first_error.index}" and card.first_error.level == "error"
    assert card.errors == 2 and card.checkpoint is None
    assert card.checkpoint_sentence.startswith("none saved")
    assert card.last_entries[-1].line.startswith("ValueError:")  # a traceback's last line


def test_card_of_the_nan_job(demo):
    oncall = oncall_for(demo, NAN_ID)
    card = oncall.card
    assert oncall.holds_error and card.reason == "failed"
    assert card.first_bad.anomaly.kind == "spike"
    kinds = {m.anomaly.kind: m for m in card.marked}
    assert kinds["nan"].link.line.startswith("non-finite loss (nan) at step 12,001")
    assert card.step_sentence == "12,050 of 20,000 planned (60 %)"
    assert "saved after the first bad step" in card.checkpoint_sentence
    assert "checkpoint-5-step10000 is the last one saved before it" in card.checkpoint_sentence


def test_card_of_the_stalled_and_the_cancelled_job(demo):
    stalled = oncall_for(demo, STALLED_ID).card
    assert stalled.reason == "stalled" and stalled.stall.sentence == (
        "no progress for 14 min; entries usually every 8 s")
    cancelled = oncall_for(demo, CANCELLED_ID).card
    assert cancelled.reason == "cancelled" and cancelled.cancel_requested_at is not None
    assert cancelled.first_error is None and cancelled.checkpoint.name == "checkpoint-1-step40"


def test_healthy_and_completed_jobs_get_no_card(demo):
    for job_id in (SFT_NEW_ID, NO_FINAL_ID):
        assert oncall_for(demo, job_id).card is None


def test_old_entries_link_to_their_anchor_and_say_they_load_on_demand(demo):
    pane = load_pane(demo, "acme", "research", NAN_ID)
    link = log_link(pane.items, 3, range(0))
    assert (link.href, link.on_page) == ("#log-3", False)


def test_checklist_states(demo):
    states = {c.key: c.state for c in oncall_for(demo, NO_FINAL_ID).checklist.checks}
    assert states == {"final-checkpoint": "fail", "trend": "pass", "eval": "warn", "no-errors": "pass",
                      "no-nan": "pass"}
    healthy = oncall_for(demo, SFT_NEW_ID)
    assert {c.state for c in healthy.checklist.checks} == {"pass"}
    assert healthy.checklist.verdict == "Ready to ship" and healthy.checklist.has_checkpoints
    assert oncall_for(demo, FAILED_ID).checklist is None
    rl = {c.key: (c.label, c.state) for c in oncall_for(demo, RL_TINKER_ID).checklist.checks}
    assert rl["trend"] == ("Reward went up", "warn")


def test_checklist_flags_errors_nan_and_a_rising_loss():
    loss = [0.5 + s / 50 for s in range(100)]
    loss[60] = math.nan
    j = job({"steps": list(range(1, 101)), "train/loss": loss},
            artifacts={"checkpoints": ["tinker://r/sampler_weights/final"]})
    items = [{"level": "info", "data": {"step": 10}},
             {"level": "error", "message": "oops", "data": {"step": 70}}]
    checks = {c.key: c for c in oncall_of(j, items).checklist.checks}
    assert checks["trend"].state == "fail" and checks["no-errors"].state == "fail"
    assert checks["no-errors"].link.href == "#log-1"
    assert checks["no-nan"].state == "fail" and "step 61" in checks["no-nan"].evidence
    assert checks["final-checkpoint"].state == "pass" and checks["eval"].state == "warn"


def test_markers_go_on_every_chart_of_the_same_axis():
    loss = noisy_loss(100)
    loss[70] = math.nan
    from dashboard.viewmodels.charts_section import charts_view
    j = job({"steps": list(range(1, 101)), "train_loss": loss, "learning_rate": [1e-4] * 100,
             "epochs": [0.5, 1.0], "accuracy": [0.1, 0.2]})
    cards = {c.chart.testid: c for c in charts_view(j, "/j").cards}
    layouts = {k: json.loads(c.rendered.figure)["layout"] for k, c in cards.items() if c.rendered}
    assert [s["x0"] for s in layouts["chart-loss"]["shapes"]] == [71.0]
    assert layouts["chart-loss"]["shapes"] == layouts["chart-learning-rate"]["shapes"]
    assert layouts["chart-loss"]["annotations"] == layouts["chart-learning-rate"]["annotations"]
    assert "shapes" not in layouts["chart-accuracy"]  # on epochs
    assert cards["chart-val-loss"].rendered is None  # an empty chart


def test_marker_labels_face_the_middle_and_stack():
    found = [Anomaly("spike", "k", 90.0, "Step", ""), Anomaly("nan", "k", 10.0, "Step", "")]
    layout = marker_layout(found, 50.0)
    assert [n["xanchor"] for n in layout["annotations"]] == ["right", "left"]
    assert layout["annotations"][0]["y"] < layout["annotations"][1]["y"]
    assert all(n["captureevents"] for n in layout["annotations"])


# --- publish -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("Policy QA sft 20k!", "policy-qa-sft-20k"), ("../../etc/passwd", "etc-passwd"), ("", "model-12345678"),
    (None, "model-12345678"), ("ünï©ødé 🚀", "n-d"), ("x" * 200, "x" * 63), ("---", "model-12345678"),
])
def test_slug(name, expected):
    assert publish.slug(name, "model-12345678") == expected


def test_version_is_fixed_semver():
    assert publish.version("1.2.3") == "1.2.3"
    for bad in (None, "", "1.2", "1.2.3-rc1", "1.2.3+b", "01.2.3", "v1.2.3"):
        assert publish.version(bad) == "0.1.0"


def checkpoints(*names: str) -> tuple[progress.Checkpoint, ...]:
    paths = [f"tinker://r:train:0/sampler_weights/{n}" for n in names]
    return progress.checkpoint_list({"checkpoints": paths})


def test_choose_a_checkpoint():
    found = checkpoints("check1-step10", "final")
    assert publish.choose(found, None) == (found[1], "")
    assert publish.choose(found, "1") == (found[0], "")
    chosen, note = publish.choose(found, "9")
    assert chosen == found[1] and "does not exist" in note
    chosen, note = publish.choose(checkpoints("a-step1", "b-step2"), None)
    assert chosen.name == "b-step2" and "no final checkpoint" in note


HOSTILE = "evil\nname: hacked\n!!python/object:os.system ['rm -rf /'] `$(id)` 'quote\" & ; | < >"


def test_the_manifest_is_safe_yaml_whatever_the_job_says():
    j = Job.from_api({"id": "j", "status": "completed", "name": HOSTILE, "model": HOSTILE,
                      "trainer_type": "sft",
                      "backend": "tinker", "dataset_ref": {"name": HOSTILE, "version": "1"},
                      "tags": [HOSTILE, "ok", "ok"]})
    text = publish.manifest(j, "0b98318e-4a68-4049-972e-757225d0604d", checkpoints("final")[0],
                            publish.slug(j.name, "m"))
    data = yaml.safe_load(text)
    assert list(data) == ["name", "version", "summary", "base_model", "dataset_refs", "tags"]
    assert data["name"] == "evil-name-hacked-python-object-os-system-rm-rf-id-quote"
    assert data["version"] == "0.1.0" and "\n" not in data["summary"]
    assert data["base_model"] == " ".join(HOSTILE.split())
    assert data["tags"] == [" ".join(HOSTILE.split()), "ok", "sft", "tinker"]
    assert data["dataset_refs"] == [" ".join(HOSTILE.split()) + "@1"]


def test_the_manifest_of_a_demo_job(demo):
    pane = load_pane(demo, "acme", "research", SFT_NEW_ID)
    plan = publish_view(pane.job, SFT_NEW_ID, pane.artifacts, None, "/j")
    data = yaml.safe_load(plan.manifest)
    assert data == {"name": "vuln-explainer-sft-v3", "version": "0.1.0",
                    "summary": f"Qwen/Qwen3-8B fine-tuned with SFT on acme/vuln-explanations@3.1.0 (training "
                               f"job {SFT_NEW_ID}, checkpoint final).",
                    "base_model": "Qwen/Qwen3-8B", "dataset_refs": ["acme/vuln-explanations@3.1.0"],
                    "tags": ["v3", "sft", "tinker"]}
    assert plan.chosen.final and plan.note == ""
    assert [c.text for c in plan.commands[-3:]] == ["dn model inspect ./vuln-explainer-sft-v3",
                                                   "dn model push ./vuln-explainer-sft-v3",
                                                   "dn model push ./vuln-explainer-sft-v3 --publish"]
    assert plan.base == "/j"
    failed = load_pane(demo, "acme", "research", FAILED_ID)
    assert publish_view(failed.job, FAILED_ID, failed.artifacts, None, "/j") is None  # not completed


def test_commands_quote_untrusted_paths():
    weird = progress.checkpoint_list({"checkpoints": ["s3://bucket/it's; rm -rf ~/$(id)\n/final"]})[0]
    command = publish.download_command(weird, "model").text
    assert shlex.split(command) == ["aws", "s3", "cp", "--recursive", weird.path, "model/"]
    tinker = publish.download_command(checkpoints("fin'al\nPY")[0], "model").text
    assert tinker.count("\nPY\n") == 1  # the here-document ends once, where it should
    gs = progress.checkpoint_list({"checkpoints": ["gs://x\nrm -rf /"]})[0]
    other = publish.download_command(gs, "m").text
    assert "\n" not in other


def test_the_manifest_here_document_cannot_be_closed_early():
    manifest = "name: x\nMODEL_YAML\n"
    write = publish.commands(checkpoints("final")[0], manifest, "x")[1].text
    assert write.startswith("cat > x/model.yaml <<'MODEL_YAML_'\n") and write.endswith("\nMODEL_YAML_")


# --- the incident summary ----------------------------------------------------------------------


def test_inline_markdown_is_escaped_and_flat():
    assert triage_card.inline("a *b* _c_ [d](e) <f> `g` | ~h\nnext") == (
        r"a \*b\* \_c\_ \[d\](e) \<f\> \`g\` \| \~h next")
    assert triage_card.inline(None) == ""
    assert len(triage_card.inline("x" * 900)) == triage_card.MAX_INLINE


def test_code_spans_and_fences_outlast_the_backticks_inside():
    assert triage_card.code_span("plain") == "`plain`"
    assert triage_card.code_span("a``b") == "```a``b```"
    assert triage_card.code_span("`x") == "`` `x ``"
    block = triage_card.fenced(["```", "````` five"])
    assert block.startswith("``````text\n") and block.endswith("\n``````")


def test_the_incident_summary_of_the_nan_job(demo):
    link = "https://dash.example/acme/research/training/jobs/" + NAN_ID
    text = oncall_for(demo, NAN_ID, link=link).card.incident
    assert text.startswith(f"**Training job failed: policy-qa-sft-20k** (`{NAN_ID}`)")
    assert "- Error: Non-finite loss (NaN) for 50 consecutive steps" in text
    assert "- First bad step: first spike in train/loss at step 11,9" in text
    assert f"- Link: <https://dash.example/acme/research/training/jobs/{NAN_ID}>" in text
    block = text.split("Key log lines:\n", 1)[1]
    assert block.startswith("```text\n") and block.rstrip().endswith("```")
    assert "ERROR   Non-finite loss for 50 consecutive steps" in block


def test_the_incident_summary_escapes_hostile_logs_and_errors():
    items = [{"timestamp": "2026-11-20T10:00:00Z", "level": "error", "message": "```\n# not a heading\n```"},
             {"level": "info", "message": "**bold** [x](javascript:alert(1))"}]
    j = Job.from_api({"id": "j", "status": "failed", "name": "`x`", "error": "<script>alert(1)</script>"})
    text = oncall_of(j, items).card.incident
    assert r"Error: \<script\>alert(1)\</script\>" in text
    assert r"**Training job failed: \`x\`**" in text
    fence = text.split("Key log lines:\n", 1)[1].split("\n", 1)[0]
    assert fence == "````text"  # longer than the ``` inside

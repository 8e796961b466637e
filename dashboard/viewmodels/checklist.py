"""The "ready to ship?" checklist of a completed job: each check pass, warn or fail, with the
evidence, and a one-line verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from dashboard.analysis import logscan
from dashboard.analysis.anomalies import Anomalies, train_levels
from dashboard.analysis.series import Series, read_number, step_text
from dashboard.columns import derived
from dashboard.models import Job
from dashboard.viewmodels.triage_card import Evidence, LogLink, log_link


@dataclass(frozen=True)
class Check:
    """One item of the "ready to ship?" checklist."""

    key: str
    label: str
    state: str  # "pass", "warn" or "fail"
    evidence: str
    link: LogLink | None = None

    @property
    def state_text(self) -> str:
        """`✓ pass`, `! warn` or `✗ fail`."""
        return {"pass": "✓ pass", "warn": "! warn", "fail": "✗ fail"}[self.state]


@dataclass(frozen=True)
class Checklist:
    """The checks of a completed job, their verdict, and whether there is a checkpoint to publish."""

    checks: tuple[Check, ...]
    verdict: str
    has_checkpoints: bool


def change(values: np.ndarray) -> tuple[float, float] | None:
    """The level at the start and at the end of a series (medians of its first and last tenth)."""
    return derived((values,), "change", lambda: levels(values))


def levels(values: np.ndarray) -> tuple[float, float] | None:
    """`change`, computed."""
    finite = values[np.isfinite(values)]
    if len(finite) < 2:
        return None
    k = max(1, min(50, len(finite) // 10))
    return float(np.median(finite[:k])), float(np.median(finite[-k:]))


def trend_check(job: Job, keys: Mapping[str, str], read: Callable[[str], Series]) -> Check:
    """Loss went down (reward went up for an RL job); `keys`: the first key of each chart, by test id."""
    rl = job.trainer_type == "rl"
    key = keys.get("chart-reward") if rl else keys.get("chart-loss")
    label = "Reward went up" if rl else "Loss went down"
    if key is None:
        scalars = [k for k in ("train/loss_last", "train/reward_mean") if k in job.metrics]
        also = f"; scalar summaries only ({', '.join(scalars)})" if scalars else ""
        noun = "reward" if rl else "loss"
        return Check("trend", label, "warn", f"no per-step {noun} series was published" + also)
    ends = change(read(key).y)
    if ends is None:
        return Check("trend", label, "warn", f"{key} has fewer than two finite values")
    start, end = ends
    relative = (end - start) / abs(start) if start else (end - start)
    evidence = f"{key} {start:.4g} → {end:.4g} ({relative:+.0%})"
    better = -relative if not rl else relative
    state = "pass" if better > 0.05 else "fail" if better < -0.05 else "warn"
    return Check("trend", label, state, evidence + ("" if state == "pass" else
                 ": it rose" if state == "fail" and not rl else ": it fell" if state == "fail" else ": flat"))


def eval_check(job: Job, keys: Mapping[str, str], read: Callable[[str], Series],
               anomalies: Anomalies) -> Check:
    """Eval ran, and how it compares with the train loss."""
    label = "Eval ran"
    if "chart-val-loss" not in keys:
        scalar = read_number(job.metrics.get("eval/loss"))[0]
        reward = read_number(job.metrics.get("eval/reward"))[0]
        if scalar is not None:
            return Check("eval", label, "pass", f"eval/loss {scalar:.4g} (no per-eval history)")
        if reward is not None or "eval/reward" in job.metrics:
            return Check("eval", label, "pass", "eval/reward was published")
        return Check("eval", label, "warn", "no evaluation ran: nothing says how it does on held-out data")
    val = read(keys["chart-val-loss"])
    finite = np.flatnonzero(np.isfinite(val.y))
    if not len(finite):
        return Check("eval", label, "warn", f"{val.key} holds no finite value")
    last_x, last_y = float(val.x[finite[-1]]), float(val.y[finite[-1]])
    evals = f"{len(finite):,} eval{'s' if len(finite) != 1 else ''}"
    evidence = f"{evals}; last {last_y:.4g} at {val.x_label.lower()} {step_text(last_x)}"
    if "chart-loss" in keys:
        train = read(keys["chart-loss"])
        level = train_levels(train, np.array([last_x]))[0] if train.x_label == val.x_label else np.nan
        if np.isfinite(level) and level > 0:
            evidence += f" vs train {level:.4g} ({(last_y - level) / level:+.0%})"
    if found := anomalies.divergence:
        return Check("eval", label, "warn",
                     f"{evidence}; the val loss diverges from {found.where}: {found.detail}")
    return Check("eval", label, "pass", evidence)


def checkpoint_check(seen: Evidence) -> Check:
    """A final checkpoint exists."""
    label, checkpoints = "Final checkpoint saved", seen.checkpoints
    if not checkpoints:
        return Check("final-checkpoint", label, "fail",
                     "no checkpoint was saved: there is nothing to publish")
    last = checkpoints[-1]
    final = next((c for c in reversed(checkpoints) if c.final), None)
    if final:
        return Check("final-checkpoint", label, "pass", f"{final.name} ({len(checkpoints)} saved)")
    at = f" (step {last.step:,})" if last.step is not None else ""
    return Check("final-checkpoint", label, "fail",
                 f"no final checkpoint among {len(checkpoints)}; the latest is {last.name}{at}")


def errors_check(seen: Evidence) -> Check:
    """No error entries in the logs."""
    label, items = "No error entries", seen.items
    first_error = logscan.first_error(items)
    if first_error is None:
        return Check("no-errors", label, "pass", f"none among {len(items):,} log entries")
    count = logscan.error_count(items)
    first = log_link(items, first_error, seen.on_page)
    noun = "entry" if count == 1 else "entries"
    return Check("no-errors", label, "fail", f"{count:,} error {noun}; the first: {first.line}", first)


def nan_check(seen: Evidence) -> Check:
    """No NaN/Inf (and no loss spike) in the series."""
    label = "No NaN/Inf"
    marked = {m.anomaly.kind: m for m in seen.marked}
    if "nan" in marked:
        return Check("no-nan", label, "fail", marked["nan"].anomaly.sentence, marked["nan"].link)
    if "spike" in marked:
        return Check("no-nan", label, "warn", f"no NaN/Inf, but a {marked['spike'].anomaly.sentence}",
                     marked["spike"].link)
    return Check("no-nan", label, "pass", "no NaN/Inf and no loss spike in any series")


def verdict(checks: tuple[Check, ...]) -> str:
    """The checklist's one-line answer."""
    states = {c.state for c in checks}
    return "Not ready to ship" if "fail" in states else (
        "Check before shipping" if "warn" in states else "Ready to ship")


def checklist(job: Job, seen: Evidence, keys: Mapping[str, str], read: Callable[[str], Series]) -> Checklist:
    """The checklist of a completed job (`keys`: each chart's first key by test id; `read`: a reader)."""
    checks = (checkpoint_check(seen), trend_check(job, keys, read),
              eval_check(job, keys, read, seen.anomalies), errors_check(seen), nan_check(seen))
    return Checklist(checks, verdict(checks), bool(seen.checkpoints))

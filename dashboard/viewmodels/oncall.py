"""The on-call parts of the job page: the triage card, the chart markers, the "ready to ship?"
checklist, the publish helper and the incident summary, built from `triage`'s analysis.

`OnCall` is handed to the (streamed) template and works only when the template first asks, so the
page's head, and plotly.js with it, is on its way before anything here is computed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

import numpy as np

from dashboard.models import Job, LogEntry
from dashboard.viewmodels import charts, incident, publish, triage
from dashboard.viewmodels import format as fmt

MARKER_COLORS = {"nan": "#dc2626", "spike": "#d97706", "divergence": "#a855f7"}
log = logging.getLogger(__name__)
T = TypeVar("T")


def survives(fallback: T) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """The page streams, so an on-call part that fails must not break it: log, say so, go on."""
    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def run(self: Any, *args: Any) -> T:
            try:
                return method(self, *args)
            except Exception:
                log.exception("on-call %s of job %s failed", method.__name__, self.job.id)
                self.failed = True
                return fallback
        return run
    return wrap


@dataclass(frozen=True)
class LogLink:
    """A jump to one log entry: on this page (`#log-N`) or, when older, in the full download."""

    index: int
    level: str
    time: datetime | None
    line: str  # what the entry says, in one line
    href: str
    on_page: bool

    @property
    def time_utc(self) -> str:
        """`2026-11-20 10:00:02 UTC`."""
        return fmt.utc(self.time)

    @property
    def time_iso(self) -> str:
        """ISO 8601, for `<time datetime>`."""
        return fmt.iso(self.time)

    @property
    def clock(self) -> str:
        """`10:00:02` (UTC), the date being in the title."""
        return self.time.strftime("%H:%M:%S") if self.time else "—"


def log_link(items: Sequence[Any], index: int, on_page: Container[int]) -> LogLink:
    """A link to entry `index` of the job's raw log items (`on_page`: the entries the page shows)."""
    entry = LogEntry.from_api(index, items[index])
    shown = index in on_page
    return LogLink(index, entry.level, entry.timestamp, triage.headline(entry.message) or "(no message)",
                   f"#log-{index}", shown)  # js/logs.js loads an entry older than the page's window


# --- the triage card -------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """An anomaly and the log entry of its moment."""

    anomaly: triage.Anomaly
    link: LogLink | None

    @property
    def step_attr(self) -> str:
        """The x value as the chart's annotation holds it (for js/charts.js to match)."""
        x = self.anomaly.x
        return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Card:
    """What went wrong with a failed, cancelled or suspicious running job, and where."""

    reason: str  # "failed", "cancelled", "stalled" or "anomaly"
    error: str | None
    first_error: LogLink | None
    errors: int
    last_entries: tuple[LogLink, ...]
    last_step: float | None
    planned: int | None
    checkpoint: triage.Checkpoint | None
    last_log: datetime | None
    since_last_log: float | None
    stall: triage.Stall | None
    marked: tuple[Marked, ...]
    first_bad: Marked | None
    ended: datetime | None
    before_bad: triage.Checkpoint | None = None  # the last checkpoint saved before the first bad step
    cancel_requested_at: datetime | None = None

    @property
    def cancel_utc(self) -> str:
        """When the cancellation was asked for, in UTC."""
        return fmt.utc(self.cancel_requested_at)

    @property
    def title(self) -> str:
        """The card's heading."""
        return {"failed": "Why it failed", "cancelled": "Why it stopped: cancelled",
                "stalled": "Stalled: no progress", "anomaly": "Something looks wrong"}[self.reason]

    @property
    def step_sentence(self) -> str:
        """'12,050 of 20,000 planned (60 %)', or what is known."""
        if self.last_step is None:
            return "no step was recorded"
        text = triage.step_text(self.last_step)
        if self.planned:
            return f"{text} of {self.planned:,} planned ({100 * self.last_step / self.planned:.0f} %)"
        return text

    @property
    def checkpoint_sentence(self) -> str:
        """'checkpoint-6-step12000 (step 12,000; 50 steps before the last)', or a warning."""
        found = self.checkpoint
        if found is None:
            return "none saved: there is nothing to resume from or publish"
        parts = []
        if found.step is not None:
            parts.append(f"step {found.step:,}")
            if self.last_step is not None and self.last_step > found.step:
                lost = self.last_step - found.step
                parts.append(f"{triage.step_text(lost)} steps before the last")
        text = found.name + (f" ({'; '.join(parts)})" if parts else "")
        bad = self.first_bad.anomaly if self.first_bad else None
        if bad and bad.axis == "Step" and found.step is not None and found.step >= bad.x:
            text += f", saved after the first bad step ({triage.step_text(bad.x)})"
            if self.before_bad:
                text += f": {self.before_bad.name} is the last one saved before it"
        return text

    @property
    def last_log_iso(self) -> str:
        """The last entry's time in ISO 8601 (the browser keeps "… ago" current)."""
        return fmt.iso(self.last_log)

    @property
    def last_log_utc(self) -> str:
        """The last entry's time in UTC."""
        return fmt.utc(self.last_log)

    @property
    def since_sentence(self) -> str:
        """'3h 02m ago', rendered again by the browser as time goes by."""
        return f"{fmt.duration(self.since_last_log)} ago" if self.since_last_log is not None else "—"


def triage_reason(job: Job, stall: triage.Stall | None, anomalies: triage.Anomalies) -> str | None:
    """Why the job gets a triage card, or None when it does not need one."""
    if job.status in ("failed", "cancelled"):
        return job.status
    if job.status == "running" and stall:
        return "stalled"
    if job.status == "running" and anomalies.found:
        return "anomaly"
    return None


def ended_at(job: Job, entries: Sequence[LogEntry]) -> datetime | None:
    """When the job stopped, or its latest sign of life."""
    times = [e.timestamp for e in entries if e.timestamp]
    return job.completed_at or job.cancel_requested_at or (max(times) if times else None)


# --- the checklist ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One item of the "ready to ship?" checklist."""

    key: str
    label: str
    state: str  # "pass", "warn" or "fail"
    evidence: str
    link: LogLink | None = None


def change(values: np.ndarray) -> tuple[float, float] | None:
    """The level at the start and at the end of a series (medians of its first and last tenth)."""
    finite = values[np.isfinite(values)]
    if len(finite) < 2:
        return None
    k = max(1, min(50, len(finite) // 10))
    return float(np.median(finite[:k])), float(np.median(finite[-k:]))


def trend_check(job: Job, plans: Sequence[charts.Plan], read: Callable[[str], charts.Series]) -> Check:
    """Loss went down (reward went up for an RL job with a reward series)."""
    keys = {p.testid: p.keys[0] for p in plans if p.keys}
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


def eval_check(job: Job, plans: Sequence[charts.Plan], read: Callable[[str], charts.Series],
               anomalies: triage.Anomalies) -> Check:
    """Eval ran, and how it compares with the train loss."""
    keys = {p.testid: p.keys[0] for p in plans if p.keys}
    label = "Eval ran"
    if "chart-val-loss" not in keys:
        scalar = charts.number(job.metrics.get("eval/loss"))[0]
        reward = charts.number(job.metrics.get("eval/reward"))[0]
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
    evidence = f"{evals}; last {last_y:.4g} at {val.x_label.lower()} {triage.step_text(last_x)}"
    if "chart-loss" in keys:
        train = read(keys["chart-loss"])
        level = triage.train_levels(train, np.array([last_x]))[0] if train.x_label == val.x_label else np.nan
        if np.isfinite(level) and level > 0:
            evidence += f" vs train {level:.4g} ({(last_y - level) / level:+.0%})"
    if anomalies.divergence:
        found = anomalies.divergence
        return Check("eval", label, "warn",
                     f"{evidence}; the val loss diverges from {found.where}: {found.detail}")
    return Check("eval", label, "pass", evidence)


# --- the page object -------------------------------------------------------------------------


class Markers:
    """A job's anomalies and the marker layout they add to each chart, found when first asked."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.axes: dict[str, np.ndarray | None] = {}  # shared with the charts
        self.read_series: dict[str, charts.Series] = {}  # read for the triage, until the charts take them
        self.failed = False

    def read(self, key: str) -> charts.Series:
        """A series of the job, read once however many parts of the page look at it."""
        if key not in self.read_series:
            self.read_series[key] = charts.series(self.job.metrics, key, self.axes)
        return self.read_series[key]

    def take(self, key: str) -> charts.Series:
        """A series for its chart, the last to need it (so it is not kept any longer)."""
        found = self.read_series.pop(key, None)
        return found if found is not None else charts.series(self.job.metrics, key, self.axes)

    @cached_property
    def anomalies(self) -> triage.Anomalies:
        """The anomalies of the job's full series."""
        try:
            return triage.find_anomalies(self.job, self.read)
        except Exception:
            log.exception("anomalies of job %s failed", self.job.id)
            return triage.Anomalies()

    @survives({})
    def layout_for(self, chart: charts.Chart) -> dict[str, list[dict[str, Any]]]:
        """Plotly layout shapes and annotations marking the anomalies on this chart's x axis."""
        if not chart.series:
            return {}
        axis = chart.series[0].x_label
        found = [a for a in self.anomalies.found if a.axis == axis]
        xs = np.concatenate([s.x for s in chart.series])
        middle = float(np.nanmin(xs) + np.nanmax(xs)) / 2 if len(xs) else 0.0
        return marker_layout(found, middle) if found else {}


def marker_layout(found: Sequence[triage.Anomaly], middle: float) -> dict[str, list[dict[str, Any]]]:
    """A dotted vertical line and a small clickable label per anomaly.

    Labels sit at the bottom of the plot (the mode bar covers its top right), stacked so close
    anomalies stay readable, on the side of the line that faces the middle of the x axis.
    """
    shapes, notes = [], []
    for i, anomaly in enumerate(found):
        color = MARKER_COLORS.get(anomaly.kind, "#dc2626")
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": anomaly.x, "x1": anomaly.x,
                       "y0": 0, "y1": 1, "line": {"color": color, "width": 1.5, "dash": "dot"}})
        notes.append({"x": anomaly.x, "xref": "x", "y": 0.03 + 0.13 * i, "yref": "paper",
                      "yanchor": "bottom", "xanchor": "right" if anomaly.x > middle else "left",
                      "text": anomaly.label, "showarrow": False, "font": {"size": 12, "color": color},
                      "bordercolor": color, "borderpad": 2, "captureevents": True,
                      "hovertext": f"{anomaly.label} at {anomaly.where}: click to see the logs"})
    return {"shapes": shapes, "annotations": notes}


class OnCall:
    """Everything on-call for one loaded job page, computed once, when the template first asks."""

    def __init__(self, job: Job, items: Sequence[Any], entries: Sequence[LogEntry], on_page: Container[int],
                 artifacts: dict[str, Any], now: datetime, markers: Markers | None = None) -> None:
        self.job = job
        self.items = items  # every raw log entry
        self.entries = entries  # the newest ones, parsed
        self.on_page = on_page  # the positions of the entries the logs panel shows
        self.artifacts = artifacts
        self.now = now
        self.markers = markers or Markers(job)
        self.failed = False  # whether a part failed (the page says so; the log has the error)

    @property
    def anomalies(self) -> triage.Anomalies:
        """The job's anomalies (shared with the charts)."""
        return self.markers.anomalies

    @cached_property
    def stall(self) -> triage.Stall | None:
        """A running job's stall."""
        return triage.stall(self.job, self.entries, self.now)

    @cached_property
    def reason(self) -> str | None:
        """Why the job gets a triage card (None: it gets none)."""
        return triage_reason(self.job, self.stall, self.anomalies)

    @cached_property
    def checkpoints(self) -> tuple[triage.Checkpoint, ...]:
        """The job's checkpoints."""
        return triage.checkpoint_list(self.artifacts or self.job.artifacts)

    @cached_property
    def steps(self) -> triage.StepIndex:
        """Where the logs mention steps."""
        return triage.StepIndex.of(self.items)

    @cached_property
    def first_error(self) -> int | None:
        """Where the first error entry is."""
        return triage.first_error(self.items)

    @cached_property
    def holds_error(self) -> bool:
        """Whether the triage card shows the job's error (then the summary's callout is in it)."""
        return bool(self.job.terminal and self.job.error and self.card)

    @property
    def ended(self) -> datetime | None:
        """When the job stopped, or last showed a sign of life."""
        return ended_at(self.job, self.entries)

    def link(self, index: int) -> LogLink:
        """A jump to one log entry."""
        return log_link(self.items, index, self.on_page)

    @cached_property
    @survives(())
    def marked(self) -> tuple[Marked, ...]:
        """Each anomaly with the log entry of its moment (the card and the chart list share it)."""
        out = []
        for anomaly in self.anomalies.found:
            index = triage.entry_for(self.job, self.items, anomaly, self.ended, self.steps)
            out.append(Marked(anomaly, self.link(index) if index is not None else None))
        return tuple(out)

    @cached_property
    @survives(None)
    def card(self) -> Card | None:
        """The triage card, or None when the job needs none."""
        if self.reason is None:
            return None
        times = [e.timestamp for e in self.entries if e.timestamp]
        last_log = max(times) if times else None
        total = len(self.items)
        last = tuple(self.link(i) for i in range(max(0, total - triage.LAST_ENTRIES), total))
        marked = self.marked
        first = self.anomalies.first
        before = [c for c in self.checkpoints if first and c.step is not None and c.step < first.x]
        return Card(
            reason=self.reason, error=self.job.error,
            first_error=self.link(self.first_error) if self.first_error is not None else None,
            errors=triage.error_count(self.items) if self.first_error is not None else 0,
            last_entries=last, last_step=triage.last_step(self.job), planned=triage.planned_steps(self.job),
            checkpoint=self.checkpoints[-1] if self.checkpoints else None, last_log=last_log,
            since_last_log=(self.now - last_log).total_seconds() if last_log else None,
            stall=self.stall, marked=marked,
            first_bad=next((m for m in marked if first and m.anomaly == first), None), ended=self.ended,
            before_bad=before[-1] if before else None, cancel_requested_at=self.job.cancel_requested_at,
        )

    @cached_property
    @survives(())
    def checklist(self) -> tuple[Check, ...]:
        """The "ready to ship?" checks of a completed job (empty for any other)."""
        if self.job.status != "completed":
            return ()
        read = self.markers.read
        try:
            plans = charts.plan_charts(self.job)
        except Exception:
            plans = []
        checks = [self.checkpoint_check(), trend_check(self.job, plans, read),
                  eval_check(self.job, plans, read, self.anomalies), self.errors_check(),
                  self.nan_check()]
        return tuple(checks)

    def checkpoint_check(self) -> Check:
        """A final checkpoint exists."""
        label = "Final checkpoint saved"
        if not self.checkpoints:
            return Check("final-checkpoint", label, "fail",
                         "no checkpoint was saved: there is nothing to publish")
        last = self.checkpoints[-1]
        final = next((c for c in reversed(self.checkpoints) if c.final), None)
        if final:
            return Check("final-checkpoint", label, "pass", f"{final.name} ({len(self.checkpoints)} saved)")
        at = f" (step {last.step:,})" if last.step is not None else ""
        return Check("final-checkpoint", label, "fail",
                     f"no final checkpoint among {len(self.checkpoints)}; the latest is {last.name}{at}")

    def errors_check(self) -> Check:
        """No error entries in the logs."""
        label = "No error entries"
        if self.first_error is None:
            return Check("no-errors", label, "pass", f"none among {len(self.items):,} log entries")
        count = triage.error_count(self.items)
        first = self.link(self.first_error)
        noun = "entry" if count == 1 else "entries"
        return Check("no-errors", label, "fail", f"{count:,} error {noun}; the first: {first.line}", first)

    def nan_check(self) -> Check:
        """No NaN/Inf (and no loss spike) in the series."""
        label = "No NaN/Inf"
        marked = {m.anomaly.kind: m for m in self.marked}
        if "nan" in marked:
            return Check("no-nan", label, "fail", marked["nan"].anomaly.sentence, marked["nan"].link)
        if "spike" in marked:
            return Check("no-nan", label, "warn", f"no NaN/Inf, but a {marked['spike'].anomaly.sentence}",
                         marked["spike"].link)
        return Check("no-nan", label, "pass", "no NaN/Inf and no loss spike in any series")

    def verdict(self, checks: Sequence[Check]) -> str:
        """The checklist's one-line answer."""
        states = {c.state for c in checks}
        return "Not ready to ship" if "fail" in states else (
            "Check before shipping" if "warn" in states else "Ready to ship")

    @survives(None)
    def publish(self, chosen: str | None, job_id: str) -> publish.Plan | None:
        """The publish helper for a completed job with checkpoints (`chosen`: `?checkpoint=N`)."""
        if self.job.status != "completed" or not self.checkpoints:
            return None
        return publish.plan(self.job, job_id, self.checkpoints, chosen)

    @survives("")
    def incident(self, card: Card, link: str) -> str:
        """The Markdown incident summary of the triage card."""
        return incident.markdown(self.job, card, link)

"""The header, actions, summary tiles and error callout of a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard.models import Job
from dashboard.viewmodels import format as fmt
from dashboard.viewmodels.compare import NO_DELTAS, CompareView, Deltas, Run, deltas
from dashboard.viewmodels.format import STATUS_CLASSES
from dashboard.viewmodels.metrics import ScalarsView, scalars_view
from dashboard.viewmodels.oncall import OnCallView


@dataclass(frozen=True)
class Tile:
    """One of the four summary tiles."""

    testid: str
    label: str
    value: str
    hint: str = ""
    ticking_since: str = ""  # ISO start for a duration the browser keeps ticking


@dataclass(frozen=True)
class Summary:
    """What the top of the pane shows."""

    title: str
    status: str
    status_class: str
    sentence: str
    world_goal: str | None
    error: str | None
    can_cancel: bool
    can_retry: bool
    tiles: tuple[Tile, ...]
    created: str
    created_by: str | None
    problems: tuple[str, ...]


def trainer_label(job: Job) -> str:
    """`SFT`, `RL · GRPO`, or the raw values when they are unusual."""
    trainer = (job.trainer_type or "unknown trainer").upper()
    if job.algorithm:
        return f"{trainer} · {job.algorithm.upper() if job.algorithm == 'grpo' else job.algorithm}"
    return trainer


def sentence(job: Job) -> str:
    """'Training <model> with <trainer> on <dataset> from <capability>@<version>.'"""
    parts = [f"Training {job.model or 'an unknown model'} with {trainer_label(job)}"]
    if job.dataset:
        parts.append(f"on {job.dataset}")
    if job.capability:
        parts.append(f"from {job.capability}")
    return " ".join(parts) + "."


def duration_tile(job: Job, now: datetime) -> Tile:
    """How long the job ran, runs, or has waited in the queue."""
    if job.started_at is None:
        if job.terminal:
            return Tile("tile-duration", "Duration", "never started")
        since = job.created_at
        waited = (now - since).total_seconds() if since else None
        return Tile("tile-duration", "Waiting", fmt.duration(waited), "in the queue", fmt.iso(since))
    if job.terminal:
        end = job.completed_at or job.cancel_requested_at
        seconds = (end - job.started_at).total_seconds() if end else None
        if seconds is not None and seconds < 0:
            return Tile("tile-duration", "Duration", "—", "it ended before it started")
        return Tile("tile-duration", "Duration", fmt.duration(seconds))
    running = (now - job.started_at).total_seconds()
    return Tile("tile-duration", "Duration", fmt.duration(running), "running",
                fmt.iso(job.started_at))


def summarize(job: Job, now: datetime) -> Summary:
    """Build the header, tiles and error callout for a job."""
    return Summary(
        title=job.title,
        status=job.status,
        status_class=STATUS_CLASSES.get(job.status, "unknown"),
        sentence=sentence(job),
        world_goal=job.world_goal,
        error=job.error,
        can_cancel=job.cancellable,
        can_retry=job.terminal,
        tiles=(
            Tile("tile-backend", "Backend", job.backend or "—"),
            Tile("tile-trainer", "Trainer", trainer_label(job)),
            Tile("tile-dataset", "Dataset", job.dataset or "—"),
            duration_tile(job, now),
        ),
        created=fmt.utc(job.created_at),
        created_by=job.created_by,
        problems=job.problems,
    )


@dataclass(frozen=True)
class SummaryView:
    """The top of the pane: header, actions, tiles, error callout, on-call card, scalar grid."""

    job: Job
    header: Summary
    scalars: ScalarsView
    oncall: OnCallView
    poll_url: str | None  # polled while the job runs
    cancel_url: str
    retry_url: str
    lastgood_url: str  # the triage card's "last good run" part, loaded by htmx (a plain link without)
    compare: CompareView | None = None  # the compare strip
    deltas: Deltas = NO_DELTAS  # the compared jobs' values beside each scalar tile


def summary_view(job: Job, base: str, now: datetime, oncall: OnCallView,
                 compare: CompareView | None = None, runs: Sequence[Run] = ()) -> SummaryView:
    """The top of the pane for a job (with `compare`, the strip and the deltas against `runs`)."""
    poll = f"{base}/summary" + (f"?{compare.query}" if compare and compare.query else "")
    return SummaryView(job, summarize(job, now), scalars_view(job.metrics), oncall,
                       None if job.terminal else poll, f"{base}/cancel", f"{base}/retry",
                       f"{base}/lastgood", compare, deltas(job.metrics, runs))

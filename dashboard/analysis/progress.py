"""A job's checkpoints and how far it got."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dashboard.analysis.series import read_number
from dashboard.models import Job

CHECKPOINT_STEP = re.compile(r"step[-_]?(\d+)|_(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Checkpoint:
    """One saved checkpoint of a job."""

    number: int  # its position in the artifacts' `checkpoints`, from 1
    path: str
    step: int | None  # the step it was saved at, when its name says
    final: bool

    @property
    def name(self) -> str:
        """The last part of its path: `checkpoint-2-step40`, `final`."""
        return self.path.rstrip("/").rsplit("/", 1)[-1] or self.path


def checkpoint_list(artifacts: dict[str, Any]) -> tuple[Checkpoint, ...]:
    """The job's checkpoints in order (`checkpoints`, then `latest_checkpoint` if not among them)."""
    raw = artifacts.get("checkpoints") if isinstance(artifacts, dict) else None
    paths = [p for p in (raw if isinstance(raw, list) else []) if isinstance(p, str) and p.strip()]
    latest = artifacts.get("latest_checkpoint") if isinstance(artifacts, dict) else None
    if isinstance(latest, str) and latest.strip() and latest not in paths:
        paths.append(latest)
    found = []
    for number, path in enumerate(paths, 1):
        name = path.rstrip("/").rsplit("/", 1)[-1]
        match = CHECKPOINT_STEP.search(name)
        step = int(match.group(1) or match.group(2)) if match else None
        found.append(Checkpoint(number, path, step, "final" in name.lower()))
    return tuple(found)


def last_step(job: Job) -> float | None:
    """The last step the metrics reached: the last finite `steps` value, else `train/steps`."""
    steps = job.metrics.get("steps")
    if isinstance(steps, list):
        for value in reversed(steps[-1000:]):
            number = read_number(value)[0]
            if number is not None:
                return number
    scalar = read_number(job.metrics.get("train/steps"))[0]
    return scalar


def planned_steps(job: Job) -> int | None:
    """How many steps the job was submitted for (`config.steps`)."""
    value = job.config.get("steps")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

"""Earlier runs around the demo's NaN blow-up (`policy-qa-sft-20k`), for its "last good run" part:
the same training completed four days ago (the baseline), a later attempt of the same name that
failed at start (never a baseline), and a more recent completed run of another kind (never used).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from dashboard.sources.demo_failures import NAN_PLANNED, NAN_STEP_SECONDS
from dashboard.sources.demo_jobs import (
    DAY,
    HOUR,
    JONAS,
    RAVI,
    DemoJob,
    base_job,
    capability,
    entry,
    iso,
    preamble,
    seeded,
    worker_fields,
)

GOOD_ID = "6a4e2b19-3c5d-4f7a-8b1e-0d9c2f6a5e31"
ATTEMPT_ID = "9e1d7c3b-5a2f-4b8e-a6d4-7f3c1b0e9a52"
UNRELATED_ID = "b2c8e4f6-1d3a-4e5b-9c7f-8a0d2e4b6c13"
NAME = "policy-qa-sft-20k"
MODEL, DATASET = "Qwen/Qwen3-8B", "acme/policy-qa@2.0.0"
ATTEMPT_STEPS = 180


def _trend(step: int) -> float:
    """The blow-up run's loss trend before it blew up (the good run followed the same curve)."""
    return 0.85 + (2.3 - 0.85) * math.exp(-(step - 1) / 1500)


@lru_cache(maxsize=1)
def _good_series() -> dict[str, tuple[Any, ...]]:
    """The good run's loss, grad norm and learning rate over all its steps (made once)."""
    loss_noise, grad_noise = seeded(301), seeded(302)
    steps = range(1, NAN_PLANNED + 1)
    return {
        "loss": tuple(round(_trend(s) * (1 + loss_noise.gauss(0, 0.03)), 4) for s in steps),
        "grad_norm": tuple(round(0.9 + grad_noise.gauss(0, 0.08), 4) for _ in steps),
        "learning_rate": tuple(float(f"{3e-4 * min(1.0, s / 200):.6g}") for s in steps),
    }


def _policy_qa(job_id: str, created: float) -> dict[str, Any]:
    """A `policy-qa-sft-20k` payload as the blow-up's own spec: same name, model, dataset, config."""
    job = base_job(job_id, RAVI, created)
    job |= {
        "name": NAME, "model": MODEL, "project_ref": "policy-qa",
        "dataset_ref": {"name": "acme/policy-qa", "version": "2.0.0"},
        "capability": capability("acme/policy-qa", "2.0.0"),
        "config": {"steps": NAN_PLANNED, "batch_size": 8, "learning_rate": 3e-4, "warmup_steps": 200,
                   "lora_rank": 64, "eval_interval": 1000, "checkpoint_interval": 2000},
        "tags": ["long-run"],
    }
    return job


def _started(started: float) -> dict[str, Any]:
    """The entry a policy-qa run logs when training starts."""
    return entry(started, "info", f"Training started on {MODEL}",
                 {"trainer_type": "sft", "backend": "tinker"})


def good_run(start: float) -> DemoJob:
    """`policy-qa-sft-20k` four days ago: all 20,000 steps, loss settling at 0.85, final checkpoint."""
    created = start - 4 * DAY
    started = created + 60
    ended = started + NAN_PLANNED * NAN_STEP_SECONDS
    series = _good_series()
    eval_steps = list(range(1000, NAN_PLANNED + 1, 1000))
    eval_losses = [round(1.06 * _trend(s), 4) for s in eval_steps]
    checkpoints = [f"tinker://{GOOD_ID}:train:0/sampler_weights/checkpoint-{n}-step{s}"
                   for n, s in enumerate(range(2000, NAN_PLANNED + 1, 2000), 1)]
    checkpoints.append(f"tinker://{GOOD_ID}:train:0/sampler_weights/final")
    job = _policy_qa(GOOD_ID, created)
    job |= {
        "status": "completed", "started_at": iso(started), "completed_at": iso(ended + 5),
        "metrics": {
            "train/steps": NAN_PLANNED, "steps": list(range(1, NAN_PLANNED + 1)),
            "train/loss": list(series["loss"]), "train_loss": list(series["loss"]),
            "train/learning_rate": list(series["learning_rate"]),
            "learning_rate": list(series["learning_rate"]), "train/grad_norm": list(series["grad_norm"]),
            "eval/steps": eval_steps, "eval/loss_history": eval_losses, "eval/loss": eval_losses[-1],
            "train/loss_last": series["loss"][-1], "eval/num_examples": 400,
        },
        "artifacts": {"capability": "acme/policy-qa@2.0.0", "dataset": DATASET,
                      "eval_dataset": "acme/policy-qa-eval@2.0.0", "checkpoints": checkpoints,
                      "latest_checkpoint": checkpoints[-1], **worker_fields(GOOD_ID)},
    }
    logs = [*preamble(job, created, started), _started(started)]
    logs += [entry(started + s * NAN_STEP_SECONDS, "info", f"step {s}/{NAN_PLANNED} loss={loss:.3f}",
                   {"step": s, "loss": loss})
             for s, loss in zip(eval_steps, (series["loss"][s - 1] for s in eval_steps), strict=True)]
    logs += [entry(ended, "info", "final checkpoint saved", {"latest_checkpoint": checkpoints[-1]}),
             entry(ended + 5, "info", "Training complete", {})]
    return DemoJob(job, logs, created)


def failed_attempt(start: float) -> DemoJob:
    """`policy-qa-sft-20k` two days ago: the Tinker session expired at step 180."""
    created = start - 2 * DAY
    started = created + 45
    ended = started + ATTEMPT_STEPS * NAN_STEP_SECONDS
    losses = list(_good_series()["loss"][:ATTEMPT_STEPS])
    job = _policy_qa(ATTEMPT_ID, created)
    job |= {
        "status": "failed", "started_at": iso(started), "completed_at": iso(ended + 1),
        "error": "Tinker session expired (401 from the sampling service) at step 180.",
        "metrics": {"train/steps": ATTEMPT_STEPS, "steps": list(range(1, ATTEMPT_STEPS + 1)),
                    "train/loss": losses, "train_loss": list(losses)},
        "artifacts": {"capability": "acme/policy-qa@2.0.0", "dataset": DATASET, **worker_fields(ATTEMPT_ID)},
    }
    logs = [*preamble(job, created, started), _started(started),
            entry(ended, "error", "Tinker session expired: 401 Unauthorized from the sampling service",
                  {"step": ATTEMPT_STEPS}),
            entry(ended + 1, "error", "Training ended with status=failed", {})]
    return DemoJob(job, logs, created)


def unrelated_run(start: float) -> DemoJob:
    """A completed run of another name and dataset (same model), a day ago: never a baseline."""
    created = start - DAY
    started = created + 50
    steps = 400
    noise = seeded(311)
    losses = [round((0.6 + 1.6 * math.exp(-s / 90)) * (1 + noise.gauss(0, 0.02)), 4)
              for s in range(1, steps + 1)]
    job = base_job(UNRELATED_ID, JONAS, created)
    job |= {
        "status": "completed", "name": "phishing-replies-sft", "model": MODEL, "project_ref": "mail",
        "dataset_ref": {"name": "acme/phishing-replies", "version": "1.3.0"},
        "capability": capability("acme/mail-triage", "1.3.0"),
        "config": {"steps": steps, "batch_size": 16, "learning_rate": 1e-4},
        "started_at": iso(started), "completed_at": iso(started + 2 * HOUR),
        "metrics": {"train/steps": steps, "steps": list(range(1, steps + 1)), "train/loss": losses,
                    "train_loss": list(losses)},
        "artifacts": {"capability": "acme/mail-triage@1.3.0", "dataset": "acme/phishing-replies@1.3.0",
                      "checkpoints": [f"tinker://{UNRELATED_ID}:train:0/sampler_weights/final"],
                      **worker_fields(UNRELATED_ID)},
    }
    logs = [*preamble(job, created, started),
            entry(started + 2 * HOUR, "info", "Training complete", {})]
    return DemoJob(job, logs, created)


def history_jobs(start: float) -> list[DemoJob]:
    """The earlier runs, times relative to `start`."""
    return [good_run(start), failed_attempt(start), unrelated_run(start)]

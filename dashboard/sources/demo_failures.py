"""The demo's failure jobs, each made to show its cause on the first screen: a NaN blow-up partway
through a long run, a running job that stalled, and a completed job with no final checkpoint.

(The demo's other two failures are in `demo_jobs`: `failed_sft`, a bad dataset that fails at
start, and `cancelled_sft`, a job cancelled midway after one checkpoint.)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from dashboard.sources.demo_jobs import (
    HOUR,
    JONAS,
    MAYA,
    RAVI,
    DemoJob,
    SftRun,
    base_job,
    capability,
    entry,
    iso,
    preamble,
    seeded,
    worker_fields,
)

NAN_ID = "5d0f7a3e-2c1b-4e8f-9a6d-3b7c1e2f4a90"
STALLED_ID = "c7e2a915-6b3d-4f0a-8e21-9d4b5c6a7f13"
NO_FINAL_ID = "f3b8d4c2-1a9e-4c7b-b5d6-2e8f0a1c3d57"

# The NaN blow-up: planned for 20,000 steps; the loss climbs from step 11,940, is NaN from
# step 12,001, and the trainer gives up after 50 non-finite steps.
NAN_PLANNED = 20_000
NAN_CLIMB = 11_940
NAN_FIRST = 12_001
NAN_LAST = 12_050
NAN_STEP_SECONDS = 1.25

# The stalled job: a step (and a log entry) every 8 s, silent for the last 14 minutes.
STALL_STEP_SECONDS = 8.0
STALL_QUIET = 14 * 60.0
STALL_DONE = 870


def _climb(step: int, scale: float) -> float:
    """How many times above normal a value is while the run blows up."""
    return 1 + ((step - NAN_CLIMB) / scale) ** 3 if step > NAN_CLIMB else 1.0


@lru_cache(maxsize=1)
def _nan_series() -> dict[str, tuple[Any, ...]]:
    """The blow-up's per-step series: loss and grad norm go NaN at NAN_FIRST (made once)."""
    loss_noise, grad_noise = seeded(201), seeded(202)
    series: dict[str, list[Any]] = {"loss": [], "grad_norm": [], "learning_rate": []}
    for step in range(1, NAN_LAST + 1):
        trend = 0.85 + (2.3 - 0.85) * math.exp(-(step - 1) / 1500)
        loss = trend * (1 + loss_noise.gauss(0, 0.03)) * _climb(step, 20)
        grad = (0.9 + grad_noise.gauss(0, 0.08)) * _climb(step, 12)
        bad = step >= NAN_FIRST  # written as "NaN", as trainers do to keep the payload JSON
        series["loss"].append("NaN" if bad else round(loss, 4))
        series["grad_norm"].append("NaN" if bad else round(grad, 4))
        series["learning_rate"].append(float(f"{3e-4 * min(1.0, step / 200):.6g}"))
    return {key: tuple(values) for key, values in series.items()}


def _fmt(value: float | str) -> str:
    """A logged number: `nan` for NaN."""
    return f"{value:.3f}" if isinstance(value, float) else "nan"


def nan_blowup(start: float) -> DemoJob:
    """A long SFT run whose loss blew up to NaN at step 12,001 of 20,000; it failed at 12,050."""
    created = start - 14 * HOUR
    started = created + 60

    def at(step: int) -> float:
        return started + step * NAN_STEP_SECONDS

    series = _nan_series()
    losses, grads, rates = (list(series[k]) for k in ("loss", "grad_norm", "learning_rate"))
    run_id = "8c1f5e2a-77d4-5b0e-9f3a-6a2d4c8b1e07"
    checkpoint_steps = list(range(2000, NAN_LAST + 1, 2000))
    checkpoints = [f"tinker://{run_id}:train:0/sampler_weights/checkpoint-{n}-step{s}"
                   for n, s in enumerate(checkpoint_steps, 1)]
    eval_steps = list(range(1000, NAN_LAST + 1, 1000))
    eval_losses = [round(1.06 * (0.85 + 1.45 * math.exp(-(s - 1) / 1500)) * _climb(s, 20), 4)
                   for s in eval_steps]
    finite = [v for v in losses if isinstance(v, float)]
    ended = at(NAN_LAST) + 0.6
    model, dataset = "Qwen/Qwen3-8B", "acme/policy-qa@2.0.0"
    job = base_job(NAN_ID, RAVI, created)
    job |= {
        "status": "failed", "name": "policy-qa-sft-20k", "model": model, "project_ref": "policy-qa",
        "dataset_ref": {"name": "acme/policy-qa", "version": "2.0.0"},
        "capability": capability("acme/policy-qa", "2.0.0"),
        "config": {"steps": NAN_PLANNED, "batch_size": 8, "learning_rate": 3e-4, "warmup_steps": 200,
                   "lora_rank": 64, "eval_interval": 1000, "checkpoint_interval": 2000},
        "metrics": {
            "train/steps": NAN_LAST, "train/num_examples": NAN_LAST * 8,
            "train/num_tokens_processed": NAN_LAST * 8 * 1160,
            "train/num_sequences_processed": NAN_LAST * 8,
            "train/epochs_completed": round(NAN_LAST * 8 / 48_000, 4),
            "steps": list(range(1, NAN_LAST + 1)), "train/loss": losses, "train_loss": list(losses),
            "train/learning_rate": rates, "learning_rate": list(rates), "train/grad_norm": grads,
            "eval/steps": eval_steps, "eval/loss_history": eval_losses,
            "train/loss_last": "NaN", "train/loss_mean": "NaN", "train/loss_best": min(finite),
            "eval/num_examples": 400, "eval/loss": eval_losses[-1],
        },
        "artifacts": {"capability": "acme/policy-qa@2.0.0", "dataset": dataset,
                      "eval_dataset": "acme/policy-qa-eval@2.0.0", "checkpoints": checkpoints,
                      "latest_checkpoint": checkpoints[-1], **worker_fields(NAN_ID)},
        "error": "Non-finite loss (NaN) for 50 consecutive steps; training aborted at step 12,050.",
        "tags": ["long-run"], "started_at": iso(started), "completed_at": iso(ended + 2),
    }
    logs = [*preamble(job, created, started),
            entry(started, "info", f"Training started on {model}",
                  {"trainer_type": "sft", "backend": "tinker"}),
            entry(started + 0.4, "info", f"Loaded 48000 conversations from {dataset}",
                  {"num_examples": 48_000, "eval/num_examples": 400})]
    for step in range(1, NAN_LAST + 1):
        ts, loss, grad = at(step), losses[step - 1], grads[step - 1]
        if step == 1 or step % 20 == 0:
            logs.append(entry(ts, "info", f"step {step}/{NAN_PLANNED} loss={_fmt(loss)}", {
                "step": step, "loss": loss, "learning_rate": rates[step - 1], "grad_norm": grad}))
        if step in (11_960, 11_990):
            logs.append(entry(ts, "warning", f"grad_norm {grad:.1f} at step {step:,} is above the clip "
                              "threshold (1.0); the update was clipped", {"step": step, "grad_norm": grad}))
        if step in eval_steps:
            logs.append(entry(ts, "info", "evaluation complete", {
                "step": step, "eval/loss": eval_losses[eval_steps.index(step)], "eval/num_examples": 400}))
        if step in checkpoint_steps:
            number = checkpoint_steps.index(step) + 1
            logs.append(entry(ts, "info", f"checkpoint {number} saved", {
                "checkpoint_num": number, "latest_checkpoint": checkpoints[number - 1]}))
        if NAN_FIRST <= step < NAN_FIRST + 3:
            logs.append(entry(ts, "warning", f"non-finite loss (nan) at step {step:,}; the optimizer "
                              "update was skipped", {"step": step, "loss": "NaN"}))
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/opt/dreadnode/training/tinker/sft.py", line 301, in run\n'
        "    self._check_finite(loss, step)\n"
        '  File "/opt/dreadnode/training/tinker/sft.py", line 188, in _check_finite\n'
        "    raise FloatingPointError(message)\n"
        "FloatingPointError: non-finite loss for 50 consecutive steps (since step 12001)"
    )
    logs += [
        entry(ended, "error", "Non-finite loss for 50 consecutive steps (since step 12,001); aborting "
              "training. Lower the learning rate or enable loss scaling, then resume from a checkpoint "
              "saved before step 12,001.", {"step": NAN_LAST, "first_non_finite_step": NAN_FIRST}),
        entry(ended, "error", traceback, {"exception": "FloatingPointError"}),
        entry(ended + 2, "error", "Training ended with status=failed", {}),
    ]
    return DemoJob(job, logs, created)


def _stalled_run() -> SftRun:
    """The stalled job's run: a step every 8 s, one log entry per step."""
    return SftRun(model="meta-llama/Llama-3.1-8B-Instruct", total_steps=2000,
                  duration=2000 * STALL_STEP_SECONDS, seed=301, dataset="acme/exploit-writeups@1.2.0",
                  batch_size=16, num_examples=6400, eval_every=100, eval_examples=128,
                  checkpoint_every=200, progress_every=1, loss_start=2.0, loss_floor=0.7,
                  decay_steps=180.0)


@lru_cache(maxsize=1)
def _stalled_parts() -> tuple[dict[str, Any], tuple[tuple[float, str, str, dict[str, Any]], ...]]:
    """What does not depend on the time of the request: the metrics, and each log entry with its
    time from the start of training."""
    run = _stalled_run()
    done = STALL_DONE
    timeline = [(ts, item["level"], item["message"], item["data"])
                for ts, item in run.schedule(0.0) if ts <= run.step_time(0.0, done)]
    last = run.step_time(0.0, done)
    timeline += [(last + 30, "warning", "Tinker sampling request timed out after 30 s; retrying (1/5)",
                  {"step": done + 1, "attempt": 1}),
                 (last + 60, "warning", "Tinker sampling request timed out after 30 s; retrying (2/5)",
                  {"step": done + 1, "attempt": 2})]
    return run.metrics(done), tuple(timeline)


def stalled_sft(now: float) -> DemoJob:
    """A running job whose logs and metrics stopped 14 minutes before `now` (entries every 8 s)."""
    run = _stalled_run()
    metrics, timeline = _stalled_parts()
    started = now - STALL_QUIET - timeline[-1][0]
    created = started - 90
    checkpoints = run.checkpoints(STALL_DONE)
    job = base_job(STALLED_ID, JONAS, created)
    job |= {
        "status": "running", "name": "exploit-writer-sft", "model": run.model,
        "project_ref": "exploit-writer",
        "dataset_ref": {"name": "acme/exploit-writeups", "version": "1.2.0"},
        "capability": capability("acme/exploit-writer", "0.3.0"),
        "config": {"steps": 2000, "batch_size": 16, "learning_rate": 1e-4, "lora_rank": 32,
                   "eval_interval": 100, "checkpoint_interval": 200},
        "metrics": dict(metrics),
        "artifacts": {"capability": "acme/exploit-writer@0.3.0", "dataset": "acme/exploit-writeups@1.2.0",
                      "checkpoints": checkpoints, "latest_checkpoint": checkpoints[-1],
                      **worker_fields(STALLED_ID)},
        "started_at": iso(started),
    }
    logs = [*preamble(job, created, started),
            *(entry(started + ts, level, message, data) for ts, level, message, data in timeline)]
    return DemoJob(job, logs, created, live=stalled_sft)


NO_FINAL_EVALS = {50: 1.31, 100: 1.02, 150: 0.94, 200: 0.97, 250: 1.06, 300: 1.19}


def no_final_checkpoint(start: float) -> DemoJob:
    """A completed job that is not fit to ship: its final checkpoint failed to save, and its val
    loss rose over the last evals while the train loss kept falling."""
    created = start - 30 * HOUR
    started = created + 75
    run = SftRun(model="Qwen/Qwen3-8B", total_steps=300, duration=2700, seed=401,
                 dataset="acme/contract-clauses@1.0.0", batch_size=16, num_examples=1600, eval_every=50,
                 eval_examples=160, checkpoint_every=100, progress_every=10, loss_start=2.2,
                 loss_floor=0.35, decay_steps=60.0)
    finished = run.step_time(started, run.total_steps)
    metrics = run.metrics(run.total_steps)
    metrics |= {"eval/loss_history": list(NO_FINAL_EVALS.values()), "eval/loss": NO_FINAL_EVALS[300]}
    checkpoints = [c for c in run.checkpoints(run.total_steps) if not c.endswith("/final")]
    job = base_job(NO_FINAL_ID, MAYA, created)
    job |= {
        "status": "completed", "name": "contract-clauses-sft", "model": run.model,
        "project_ref": "contracts",
        "dataset_ref": {"name": "acme/contract-clauses", "version": "1.0.0"},
        "capability": capability("acme/contract-review", "1.1.0"),
        "config": {"steps": 300, "batch_size": 16, "learning_rate": 1e-4, "lora_rank": 32,
                   "eval_interval": 50, "checkpoint_interval": 100},
        "metrics": metrics,
        "artifacts": {"capability": "acme/contract-review@1.1.0", "checkpoints": checkpoints,
                      "dataset": "acme/contract-clauses@1.0.0", **worker_fields(NO_FINAL_ID)},
        "tags": ["contracts", "v1"], "started_at": iso(started), "completed_at": iso(finished + 40),
    }
    logs = [*preamble(job, created, started)]
    for _, item in run.schedule(started):
        if item["message"] == "final checkpoint saved":
            logs += [entry(finished + 10, "warning", "Saving the final sampler weights failed: Tinker "
                           "returned 503 Service Unavailable (3 attempts); the last saved checkpoint is "
                           "checkpoint-2-step200", {"step": 300, "attempts": 3})]
            continue
        if item["message"] == "evaluation complete":
            item["data"]["eval/loss"] = NO_FINAL_EVALS[item["data"]["step"]]
        if item["message"] == "Training complete":
            item = entry(finished + 40, "info", "Training complete", {})
        logs.append(item)
    return DemoJob(job, logs, created)


def failure_jobs(start: float) -> list[DemoJob]:
    """The failure jobs, times relative to `start` (the stalled one to each request's time)."""
    return [nan_blowup(start), stalled_sft(start), no_final_checkpoint(start)]

"""The demo source's sample jobs: fixed ids, payloads shaped like the platform's, times relative
to when the source started."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Stable ids, so tests and docs can link to a sample job.
SFT_OLD_ID = "dd3ae363-0d90-471f-8be3-9497133ce28b"
SFT_NEW_ID = "0b98318e-4a68-4049-972e-757225d0604d"
RL_TINKER_ID = "fa74b896-ed1a-44fb-b0e1-a28663c3b37d"
RAY_RL_ID = "84257066-7f27-4466-8706-95264afee1cd"
FAILED_ID = "2aa90f53-6020-403c-9ad2-fd65123bd46c"
QUEUED_ID = "e941219d-20bc-44bd-a305-3473824c97ec"
CANCELLED_ID = "8ef8f61e-479e-4d11-9382-078855bafd17"
RUNNING_NAMESPACE = uuid.UUID("40e315fe-54b5-4159-94fd-01d7219bf445")

ORGANIZATION_ID = "e52e0b3c-6f17-46c8-a098-b020430195a7"
WORKSPACE_ID = "3e6807ea-c4de-43e6-81fe-d8f9e273e385"
_NAMESPACE = uuid.UUID("a3a1816c-a82e-4db3-a797-231ca4dba268")

RUNNING_STEPS = 60
HOUR = 3600.0
DAY = 24 * HOUR

MAYA = {
    "id": "25845a2e-3ebb-4759-85dd-4f65fcf095d9",
    "email": "maya.chen@acme.example",
    "username": "mchen",
    "full_name": "Maya Chen",
}
RAVI = {
    "id": "2c4953f6-2356-40f4-84c5-69f40ba76987",
    "email": "ravi.patel@acme.example",
    "username": "rpatel",
    "full_name": "Ravi Patel",
}
JONAS = {
    "id": "832678b0-f6e8-4e5e-af93-561cd2bfbd86",
    "email": "jonas.k@acme.example",
    "username": "jonas.k",
    "full_name": None,
}


def running_job_id(generation: int) -> str:
    """The id of one generation of the always-running demo job."""
    return str(uuid.uuid5(RUNNING_NAMESPACE, f"running-sft/{generation}"))


RUNNING_FIRST_ID = running_job_id(0)


@dataclass
class DemoJob:
    """One sample job: its `TrainingJob` payload (artifacts included) and its log entries."""

    job: dict[str, Any]
    logs: list[dict[str, Any]]
    created: float
    # Rebuilds the job as of a moment while it runs (times relative to the request, not the start).
    live: Callable[[float], DemoJob] | None = None


def iso(ts: float, *, precise: bool = False) -> str:
    """An ISO 8601 UTC timestamp with a `Z`, as the platform writes them."""
    moment = datetime.fromtimestamp(ts, UTC)
    spec = "milliseconds" if precise else "seconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def entry(ts: float, level: str, message: str, data: dict[str, Any] | None = None,
          *, precise: bool = False) -> dict[str, Any]:
    """A `LogEntry` payload."""
    return {"timestamp": iso(ts, precise=precise), "level": level, "message": message,
            "data": data or {}}


def seeded(seed: int) -> random.Random:
    """A deterministic generator for demo noise (not for anything secret)."""
    return random.Random(seed)  # noqa: S311


def _stable_id(label: str) -> str:
    """A deterministic UUID for a label (artifact ids, run ids)."""
    return str(uuid.uuid5(_NAMESPACE, label))


def base_job(job_id: str, user: dict[str, Any], created: float, *, precise: bool = False,
             ) -> dict[str, Any]:
    """A `TrainingJob` payload with every field present and empty."""
    return {
        "id": job_id, "organization_id": ORGANIZATION_ID, "workspace_id": WORKSPACE_ID,
        "status": "queued", "name": None, "backend": "tinker", "trainer_type": "sft",
        "algorithm": None, "model": None, "project_ref": None, "run_ref": None, "task_ref": None,
        "world_manifest_id": None, "world_runtime_id": None, "world_agent_name": None,
        "world_goal": None, "dataset_ref": None, "prompt_dataset_ref": None,
        "trajectory_dataset_refs": [], "capability": None, "config": {}, "metrics": {},
        "artifacts": {}, "tags": [], "error": None, "created_at": iso(created, precise=precise),
        "started_at": None, "completed_at": None, "cancel_requested_at": None,
        "created_by": user["id"], "created_by_email": user["email"], "created_by_user": dict(user),
    }


def capability(name: str, version: str) -> dict[str, Any]:
    """A capability reference as the platform returns it."""
    digest = uuid.uuid5(_NAMESPACE, f"digest/{name}@{version}").hex
    return {"artifact_id": _stable_id(f"capability/{name}@{version}"), "name": name,
            "version": version, "runtime_digest": f"sha256:{digest}{digest}"}


def worker_fields(job_id: str) -> dict[str, Any]:
    """The internal fields the control plane adds to every started job's artifacts."""
    short = job_id.split("-")[0]
    return {
        "sandbox_id": f"sbx-{short}",
        "provider_sandbox_id": f"sb-{uuid.uuid5(_NAMESPACE, 'sandbox/' + job_id).hex[:22]}",
        "worker_id": f"training-worker-{short[:4]}-{short[4:]}",
        "payload_path": f"s3://dn-training-jobs/{ORGANIZATION_ID}/{job_id}/payload.json",
        "result_path": f"s3://dn-training-jobs/{ORGANIZATION_ID}/{job_id}/result.json",
    }


def created_entry(job: dict[str, Any], ts: float, *, precise: bool = False) -> dict[str, Any]:
    """The first entry of every job's log."""
    data = {"job_id": job["id"], "trainer_type": job["trainer_type"], "backend": job["backend"],
            "model": job["model"]}
    return entry(ts, "info", "Training job created", data, precise=precise)


@dataclass(frozen=True)
class SftRun:
    """The shape of one SFT run, enough to replay its metrics and logs at any step."""

    model: str
    total_steps: int
    duration: float  # seconds from started_at to the last step
    seed: int
    dataset: str
    batch_size: int = 16
    num_examples: int = 480  # the dataset's size, for `train/epochs_completed`
    eval_every: int | None = 10  # None: one evaluation, after the last step
    eval_examples: int = 64
    checkpoint_every: int = 20
    checkpoint_name: str = "checkpoint-{n}-step{step}"
    progress_every: int = 3
    lr_peak: float = 1e-4
    warmup_steps: int = 0  # 0: a constant learning rate
    loss_start: float = 2.4
    loss_floor: float = 0.6
    decay_steps: float = 14.0
    tokens_per_example: tuple[int, int] = (900, 1400)
    precise: bool = False

    def step_time(self, started: float, step: int) -> float:
        """When a step finished; the only formula for it, so metrics and logs always agree."""
        return started + step * self.duration / self.total_steps

    def steps_done(self, started: float, stop: float) -> int:
        """How many steps had finished by `stop`."""
        return sum(1 for s in range(1, self.total_steps + 1) if self.step_time(started, s) <= stop)

    def _trend(self, step: int) -> float:
        return self.loss_floor + (self.loss_start - self.loss_floor) * math.exp(
            -(step - 1) / self.decay_steps)

    def loss(self, step: int) -> float:
        """The training loss at a step: a decaying curve with seeded noise."""
        rng = seeded(self.seed * 1_000_003 + step)
        return round(self._trend(step) * (1 + rng.gauss(0, 0.035)), 4)

    def eval_loss(self, step: int) -> float:
        """The held-out loss at an eval step, a little above the training trend."""
        rng = seeded(self.seed * 1_000_003 + 500_000 + step)
        return round(self._trend(step) * 1.07 + abs(rng.gauss(0, 0.015)), 4)

    def learning_rate(self, step: int) -> float:
        """Constant, or linear warm-up then cosine decay to 1% of the peak."""
        if not self.warmup_steps:
            return self.lr_peak
        if step <= self.warmup_steps:
            return float(f"{self.lr_peak * step / self.warmup_steps:.6g}")
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        low = self.lr_peak * 0.01
        return float(f"{low + (self.lr_peak - low) * 0.5 * (1 + math.cos(math.pi * progress)):.6g}")

    def tokens(self, step: int) -> int:
        """Tokens processed in one step."""
        rng = seeded(self.seed * 1_000_003 + 900_000 + step)
        return sum(rng.randint(*self.tokens_per_example) for _ in range(self.batch_size))

    def eval_steps(self, done: int) -> list[int]:
        """The steps, up to `done`, after which the run evaluated."""
        if self.eval_every is None:
            return [self.total_steps] if done >= self.total_steps else []
        return list(range(self.eval_every, done + 1, self.eval_every))

    def checkpoint(self, number: int | None, step: int | None = None) -> str:
        """A Tinker sampler-weights path; `None` is the final one."""
        run_id = _stable_id(f"tinker-run/{self.model}/{self.dataset}/{self.seed}")
        name = "final" if number is None else self.checkpoint_name.format(n=number, step=step)
        return f"tinker://{run_id}:train:0/sampler_weights/{name}"

    def checkpoints(self, done: int) -> list[str]:
        """Checkpoints saved after `done` steps; a finished run ends with `/final`."""
        steps = range(self.checkpoint_every, min(done, self.total_steps - 1) + 1,
                      self.checkpoint_every)
        saved = [self.checkpoint(n, s) for n, s in enumerate(steps, 1)]
        return [*saved, self.checkpoint(None)] if done >= self.total_steps else saved

    def metrics(self, done: int, *, old_style: bool = False) -> dict[str, Any]:
        """The job's `metrics` after `done` steps, in the old or the namespaced key style."""
        steps = list(range(1, done + 1))
        losses = [self.loss(s) for s in steps]
        rates = [self.learning_rate(s) for s in steps]
        evals = self.eval_steps(done)
        eval_losses = [self.eval_loss(s) for s in evals]
        metrics: dict[str, Any] = {
            "train/steps": done,
            "train/num_examples": done * self.batch_size,
            "train/num_tokens_processed": sum(self.tokens(s) for s in steps),
        }
        if old_style:
            by_step = dict(zip(evals, eval_losses, strict=True))
            metrics |= {"train/gradient_accumulation_steps": 1, "steps": steps,
                        "train_loss": losses, "learning_rate": rates,
                        "val_loss": [by_step.get(s) for s in steps]}
        else:
            metrics |= {
                "train/num_sequences_processed": done * self.batch_size,
                "train/epochs_completed": round(done * self.batch_size / self.num_examples, 4),
                "steps": steps, "train/loss": losses, "train_loss": list(losses),
                "train/learning_rate": rates, "learning_rate": list(rates),
                "eval/steps": evals, "eval/loss_history": eval_losses,
            }
        if losses:
            metrics |= {"train/loss_last": losses[-1],
                        "train/loss_mean": round(sum(losses) / len(losses), 4),
                        "train/loss_best": min(losses)}
        if evals:
            metrics |= {"eval/num_examples": self.eval_examples, "eval/loss": eval_losses[-1]}
        return metrics

    def schedule(self, started: float) -> list[tuple[float, dict[str, Any]]]:
        """Every log entry of the whole run with its time, in order."""
        p = self.precise
        at = self.step_time
        timeline = [
            (started, entry(started, "info", f"Training started on {self.model}",
                            {"trainer_type": "sft", "backend": "tinker"}, precise=p)),
        ]
        loaded = at(started, 0) + 0.25 * (at(started, 1) - started)
        timeline.append((loaded, entry(
            loaded, "info", f"Loaded {self.num_examples} conversations from {self.dataset}",
            {"num_examples": self.num_examples, "eval/num_examples": self.eval_examples},
            precise=p)))
        evals = set(self.eval_steps(self.total_steps))
        checkpoint_steps = range(self.checkpoint_every, self.total_steps, self.checkpoint_every)
        checkpoints = {s: n for n, s in enumerate(checkpoint_steps, 1)}
        for step in range(1, self.total_steps + 1):
            ts = at(started, step)
            if step == 1 or step % self.progress_every == 0 or step == self.total_steps:
                loss, rate = self.loss(step), self.learning_rate(step)
                timeline.append((ts, entry(
                    ts, "info", f"step {step}/{self.total_steps} loss={loss:.3f}",
                    {"step": step, "loss": loss, "learning_rate": rate}, precise=p)))
            if step in evals:
                timeline.append((ts, entry(ts, "info", "evaluation complete", {
                    "step": step, "eval/loss": self.eval_loss(step),
                    "eval/num_examples": self.eval_examples}, precise=p)))
            if step in checkpoints:
                number = checkpoints[step]
                timeline.append((ts, entry(ts, "info", f"checkpoint {number} saved", {
                    "checkpoint_num": number,
                    "latest_checkpoint": self.checkpoint(number, step)}, precise=p)))
        end = at(started, self.total_steps)
        timeline.append((end, entry(end, "info", "final checkpoint saved",
                                    {"latest_checkpoint": self.checkpoint(None)}, precise=p)))
        timeline.append((end, entry(end, "info", "Training complete", {}, precise=p)))
        return timeline

    def logs(self, started: float, stop: float) -> list[dict[str, Any]]:
        """The entries written by `stop`: always a prefix of the whole run's log."""
        return [item for ts, item in self.schedule(started) if ts <= stop]


def cancel_entries(requested: float, stopped: float, status: str, step: int | None = None,
                   *, precise: bool = True) -> list[dict[str, Any]]:
    """What a job logs when it is cancelled."""
    data = {"step": step} if step is not None else {}
    return [entry(requested, "warning", "Cancellation requested", {"status": status},
                  precise=precise),
            entry(stopped, "info", "Training cancelled", data, precise=precise)]


def running_sft(generation: int, started: float, stop: float, run_seconds: float,
                *, cancelled: bool = False) -> DemoJob:
    """One generation of the live SFT job, as it stands at `stop` (`inf`: finished)."""
    run = SftRun(model="Qwen/Qwen3-8B", total_steps=RUNNING_STEPS, duration=run_seconds,
                 seed=generation, dataset="acme/support-conversations@1.4.0", lr_peak=2e-4,
                 warmup_steps=6, precise=True)
    job = base_job(running_job_id(generation), MAYA, started, precise=True)
    done = run.steps_done(started, stop)
    status = "cancelled" if cancelled else ("completed" if done >= run.total_steps else "running")
    checkpoints = run.checkpoints(done)
    artifacts = {"capability": "acme/support-agent@0.9.2",
                 "dataset": "acme/support-conversations@1.4.0",
                 "eval_dataset": "acme/support-conversations-eval@1.4.0",
                 "checkpoints": checkpoints, **worker_fields(job["id"])}
    if status != "completed" and checkpoints:
        artifacts["latest_checkpoint"] = checkpoints[-1]
    job |= {
        "status": status, "name": f"support-agent-sft-live-{generation + 1}",
        "model": run.model, "project_ref": "support-agent",
        "dataset_ref": {"name": "acme/support-conversations", "version": "1.4.0"},
        "capability": capability("acme/support-agent", "0.9.2"),
        "config": {"steps": RUNNING_STEPS, "batch_size": 16, "learning_rate": 2e-4,
                   "lr_schedule": "cosine", "warmup_steps": 6, "lora_rank": 32,
                   "eval_interval": 10, "checkpoint_interval": 20},
        "metrics": run.metrics(done), "artifacts": artifacts, "tags": ["demo", "live"],
        "started_at": iso(started, precise=True),
    }
    logs = [created_entry(job, started, precise=True), *run.logs(started, stop)]
    if status == "completed":
        job["completed_at"] = iso(run.step_time(started, run.total_steps), precise=True)
    if cancelled:
        job["cancel_requested_at"] = job["completed_at"] = iso(stop, precise=True)
        logs += cancel_entries(stop, stop, "running", done)
    return DemoJob(job, logs, started)


def preamble(job: dict[str, Any], created: float, started: float) -> list[dict[str, Any]]:
    """The entries every started job logs before training: created, worker ready, capability."""
    cap = job["capability"]
    return [
        created_entry(job, created),
        entry(started - 25, "info", "Worker sandbox ready",
              {"sandbox_id": job["artifacts"]["sandbox_id"]}),
        entry(started - 8, "info", f"Pulled capability {cap['name']}@{cap['version']}",
              {"runtime_digest": cap["runtime_digest"]}),
    ]


def sft_old(start: float) -> DemoJob:
    """A completed SFT job in the old key style, exactly like the Outputs doc's example."""
    created = start - 3 * DAY
    started = created + 95
    run = SftRun(model="meta-llama/Llama-3.1-8B-Instruct", total_steps=100, duration=1800,
                 seed=101, dataset="dreadnode/sqli-agent-trajectories@1.0.0", batch_size=50,
                 num_examples=5000, eval_every=None, eval_examples=500, checkpoint_every=10,
                 checkpoint_name="check{n}-step{step}", progress_every=10, loss_start=4.2,
                 loss_floor=0.8, decay_steps=20.0, tokens_per_example=(200, 300))
    finished = run.step_time(started, run.total_steps)
    job = base_job(SFT_OLD_ID, RAVI, created)
    job |= {
        "status": "completed", "name": "sqli-agent-sft", "model": run.model,
        "project_ref": "webapp-audit",
        "trajectory_dataset_refs": [{"name": "dreadnode/sqli-agent-trajectories",
                                     "version": "1.0.0"}],
        "capability": capability("dreadnode/sqli-agent", "1.2.0"),
        "config": {"steps": 100, "batch_size": 50, "learning_rate": 1e-4, "lora_rank": 32,
                   "checkpoint_interval": 10},
        "metrics": run.metrics(run.total_steps, old_style=True),
        "artifacts": {"capability": "dreadnode/sqli-agent@1.2.0",
                      "checkpoints": run.checkpoints(run.total_steps),
                      "trajectory_datasets": ["dreadnode/sqli-agent-trajectories@1.0.0"],
                      **worker_fields(SFT_OLD_ID)},
        "started_at": iso(started), "completed_at": iso(finished),
    }
    return DemoJob(job, [*preamble(job, created, started), *run.logs(started, finished)], created)


def sft_new(start: float) -> DemoJob:
    """A completed SFT job in the namespaced key style written by newer SDK trainers."""
    created = start - DAY - 4 * HOUR
    started = created + 70
    run = SftRun(model="Qwen/Qwen3-8B", total_steps=200, duration=1900, seed=102,
                 dataset="acme/vuln-explanations@3.1.0", batch_size=32, num_examples=3200,
                 eval_every=50, eval_examples=200, checkpoint_every=50, progress_every=10,
                 loss_start=1.95, loss_floor=0.52, decay_steps=38.0)
    finished = run.step_time(started, run.total_steps)
    job = base_job(SFT_NEW_ID, MAYA, created)
    job |= {
        "status": "completed", "name": "vuln-explainer-sft-v3", "model": run.model,
        "project_ref": "vuln-explainer",
        "dataset_ref": {"name": "acme/vuln-explanations", "version": "3.1.0"},
        "capability": capability("acme/vuln-explainer", "3.0.1"),
        "config": {"steps": 200, "batch_size": 32, "learning_rate": 1e-4, "lora_rank": 64,
                   "eval_interval": 50, "checkpoint_interval": 50},
        "metrics": run.metrics(run.total_steps),
        "artifacts": {"capability": "acme/vuln-explainer@3.0.1",
                      "checkpoints": run.checkpoints(run.total_steps),
                      "dataset": "acme/vuln-explanations@3.1.0",
                      "eval_dataset": "acme/vuln-explanations-eval@3.1.0",
                      **worker_fields(SFT_NEW_ID)},
        "tags": ["v3"], "started_at": iso(started), "completed_at": iso(finished),
    }
    return DemoJob(job, [*preamble(job, created, started), *run.logs(started, finished)], created)


def cancelled_sft(start: float) -> DemoJob:
    """An SFT job cancelled at step 47 of 120, with partial metrics and one checkpoint."""
    created = start - 9 * HOUR
    started = created + 50
    run = SftRun(model="meta-llama/Llama-3.1-8B", total_steps=120, duration=1440, seed=103,
                 dataset="acme/phishing-emails@2.3.0", num_examples=960, eval_every=20,
                 checkpoint_every=40, progress_every=5, loss_start=2.1, loss_floor=0.7)
    requested = run.step_time(started, 47) + 4
    stopped = requested + 6
    done = run.steps_done(started, requested)
    checkpoints = run.checkpoints(done)
    job = base_job(CANCELLED_ID, JONAS, created)
    job |= {
        "status": "cancelled", "name": "phishing-triage-sft", "model": run.model,
        "project_ref": "mail-triage",
        "dataset_ref": {"name": "acme/phishing-emails", "version": "2.3.0"},
        "capability": capability("acme/mail-triage", "0.4.0"),
        "config": {"steps": 120, "batch_size": 16, "learning_rate": 1e-4, "lora_rank": 16,
                   "eval_interval": 20, "checkpoint_interval": 40},
        "metrics": run.metrics(done),
        "artifacts": {"capability": "acme/mail-triage@0.4.0", "checkpoints": checkpoints,
                      "latest_checkpoint": checkpoints[-1],
                      "dataset": "acme/phishing-emails@2.3.0", **worker_fields(CANCELLED_ID)},
        "started_at": iso(started), "cancel_requested_at": iso(requested),
        "completed_at": iso(stopped),
    }
    logs = [*preamble(job, created, started), *run.logs(started, requested),
            *cancel_entries(requested, stopped, "running", done, precise=False)]
    return DemoJob(job, logs, created)


def failed_sft(start: float) -> DemoJob:
    """An SFT job that failed on a dataset without `messages` lists; no checkpoints."""
    created = start - 5 * HOUR
    started = created + 40
    failed = started + 33
    model = "meta-llama/Llama-3.1-8B"
    job = base_job(FAILED_ID, RAVI, created)
    job |= {
        "status": "failed", "name": "ticket-triage-sft", "model": model,
        "project_ref": "helpdesk",
        "dataset_ref": {"name": "acme/support-tickets-raw", "version": "0.2.0"},
        "capability": capability("acme/ticket-triage", "0.4.0"),
        "config": {"steps": 150, "batch_size": 16, "learning_rate": 1e-4, "lora_rank": 32},
        "artifacts": {"capability": "acme/ticket-triage@0.4.0",
                      "dataset": "acme/support-tickets-raw@0.2.0", **worker_fields(FAILED_ID)},
        "error": "Training inputs did not produce any usable conversations.",
        "started_at": iso(started), "completed_at": iso(failed),
    }
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "/opt/dreadnode/training/tinker/sft.py", line 214, in run\n'
        "    batches = self._build_batches(rows)\n"
        '  File "/opt/dreadnode/training/tinker/sft.py", line 162, in _build_batches\n'
        "    raise ValueError(NO_CONVERSATIONS)\n"
        "ValueError: Training inputs did not produce any usable conversations."
    )
    logs = [
        *preamble(job, created, started),
        entry(started, "info", f"Training started on {model}",
              {"trainer_type": "sft", "backend": "tinker"}),
        entry(started + 21, "warning",
              "Skipped 1204 of 1204 dataset rows without a `messages` list",
              {"skipped_rows": 1204, "total_rows": 1204,
               "row_keys": ["ticket_id", "subject", "body", "resolution"]}),
        entry(failed, "error", "Training inputs did not produce any usable conversations. Each "
              "dataset row must contain a `messages` list of {role, content} turns.", {}),
        entry(failed, "error", traceback, {"exception": "ValueError"}),
    ]
    return DemoJob(job, logs, created)


def queued_rl(start: float) -> DemoJob:
    """An RL job waiting for a worker: no started_at, no metrics, no artifacts."""
    created = start - 7 * 60
    job = base_job(QUEUED_ID, MAYA, created)
    job |= {
        "name": "dvwa-xss-grpo", "trainer_type": "rl", "algorithm": "grpo",
        "model": "meta-llama/Llama-3.1-8B-Instruct", "project_ref": "webapp-audit",
        "task_ref": "security-dvwa-xss-stored",
        "prompt_dataset_ref": {"name": "seed-prompts", "version": "xss-v2"},
        "capability": capability("dreadnode/web-pentest", "0.7.0"),
        "config": {"steps": 50, "group_size": 8, "groups_per_batch": 16, "learning_rate": 4e-5,
                   "max_tokens": 2048, "execution_mode": "fully_async"},
    }
    logs = [created_entry(job, created),
            entry(created + 2, "info", "Waiting for an available training worker",
                  {"queue_position": 2})]
    return DemoJob(job, logs, created)


def _reward(rng: random.Random, step: int, scale: float) -> float:
    """A per-step mean reward that rises with training, clipped to [0, 1]."""
    value = 0.12 + 0.6 * (1 - math.exp(-step / scale)) + rng.gauss(0, 0.04)
    return round(min(1.0, max(0.0, value)), 4)


def rl_tinker(start: float) -> DemoJob:
    """A completed Tinker RL job: scalar reward summaries only, so its Reward chart is empty."""
    created = start - 20 * HOUR
    started = created + 140
    steps, step_seconds, rollouts = 40, 45.0, 64
    finished = started + steps * step_seconds + 20
    rewards = [_reward(seeded(104_000 + s), s, 14.0) for s in range(1, steps + 1)]
    run_id = _stable_id("tinker-run/rl-tinker")
    checkpoints = [f"tinker://{run_id}:train:0/sampler_weights/check{n}-step{n * 10}"
                   for n in (1, 2, 3)] + [f"tinker://{run_id}:train:0/sampler_weights/final"]
    manifest = _stable_id("world-manifest/mutillidae")
    world_url = f"https://worlds.dreadnode.io/runtime/{_stable_id('world-runtime/mutillidae')}"
    job = base_job(RL_TINKER_ID, RAVI, created)
    job |= {
        "status": "completed", "name": "mutillidae-sqli-rl", "trainer_type": "rl",
        "algorithm": "importance_sampling", "model": "Qwen/Qwen3-8B",
        "project_ref": "webapp-audit", "task_ref": "security-mutillidae-sqli-login-bypass",
        "world_manifest_id": manifest, "world_runtime_id": _stable_id("world-runtime/mutillidae"),
        "world_agent_name": "sqli-operator",
        "world_goal": "Bypass the Mutillidae login form with SQL injection and reach the "
                      "admin page.",
        "prompt_dataset_ref": {"name": "seed-prompts", "version": "sqli-v1"},
        "capability": capability("dreadnode/web-pentest", "0.7.0"),
        "config": {"steps": steps, "group_size": 8, "groups_per_batch": 8,
                   "learning_rate": 4e-5, "max_tokens": 2048, "execution_mode": "fully_async",
                   "max_staleness": 2, "checkpoint_interval": 10},
        "metrics": {
            "train/steps": steps, "train/num_rollouts": steps * rollouts,
            "train/reward_mean": round(sum(rewards) / steps, 4), "train/reward_max": 1.0,
            "train/reward_min": 0.0, "async/generation_step": steps + 1,
            "async/training_step": steps, "async/model_version": steps,
            "async/last_synced_model_version": steps - 1, "async/weight_sync_count": steps,
            "async/max_staleness_observed": 2, "async/max_pending_generation_groups": 4,
        },
        "artifacts": {
            "capability": "dreadnode/web-pentest@0.7.0", "execution_mode": "fully_async",
            "checkpoints": checkpoints, "prompt_dataset": "seed-prompts@sqli-v1",
            "trajectory_datasets": ["acme/mutillidae-sqli-rollouts@0.1.0"],
            "task": "security-mutillidae-sqli-login-bypass", "world_manifest_id": manifest,
            "world_server_url": world_url,
            "world_sampled_dataset_ref": "acme/mutillidae-sqli-sampled@0.1.0",
            "world_server_auth_token": "wst_demo_secret_do_not_show",
            **worker_fields(RL_TINKER_ID),
        },
        "started_at": iso(started), "completed_at": iso(finished),
    }
    logs = [*preamble(job, created, started),
            entry(started - 3, "info", "World server ready",
                  {"world_manifest_id": manifest, "world_server_url": world_url}),
            entry(started, "info", "Training started on Qwen/Qwen3-8B",
                  {"trainer_type": "rl", "backend": "tinker", "algorithm": "importance_sampling"})]
    for step in range(1, steps + 1):
        ts = started + step * step_seconds
        if step % 5 == 0:
            reward = rewards[step - 1]
            logs.append(entry(ts, "info", f"step {step}/{steps} reward_mean={reward:.3f}",
                              {"step": step, "reward_mean": reward,
                               "num_rollouts": step * rollouts}))
        if step % 10 == 0 and step < steps:
            logs.append(entry(ts, "info", f"checkpoint {step // 10} saved",
                              {"checkpoint_num": step // 10,
                               "latest_checkpoint": checkpoints[step // 10 - 1]}))
    logs += [entry(finished, "info", "final checkpoint saved",
                   {"latest_checkpoint": checkpoints[-1]}),
             entry(finished, "info", "Training complete", {})]
    return DemoJob(job, logs, created)


def ray_rl(start: float) -> DemoJob:
    """A completed Ray GRPO job with un-namespaced per-step series, rewards included."""
    created = start - 2 * DAY - 3 * HOUR
    started = created + 210
    steps, step_seconds = 80, 30.0
    finished = started + steps * step_seconds + 15
    series: dict[str, list[Any]] = {key: [] for key in (
        "loss", "pg_loss", "kl_loss", "reward_mean", "reward_std", "learning_rate",
        "tokens_per_second")}
    for step in range(1, steps + 1):
        rng = seeded(105_000 + step)
        pg, kl = rng.gauss(-0.02, 0.015), 0.0005 + 0.004 * step / steps + abs(rng.gauss(0, 5e-4))
        series["pg_loss"].append(round(pg, 5))
        series["kl_loss"].append(round(kl, 6))
        series["loss"].append(round(pg + 0.04 * kl, 5))
        series["reward_mean"].append(_reward(rng, step, 25.0))
        series["reward_std"].append(round(0.38 - 0.12 * step / steps + rng.gauss(0, 0.02), 4))
        series["learning_rate"].append(1e-6)
        series["tokens_per_second"].append(round(2300 + rng.gauss(0, 120), 1))
    prefix = f"s3://acme-ray-checkpoints/{RAY_RL_ID}"
    checkpoints = [f"{prefix}/checkpoint_{s:06d}" for s in (20, 40, 60)] + [f"{prefix}/final"]
    model = "Qwen/Qwen2.5-7B-Instruct"
    job = base_job(RAY_RL_ID, JONAS, created)
    job |= {
        "status": "completed", "name": "ctf-crypto-grpo", "backend": "ray",
        "trainer_type": "rl", "algorithm": "grpo", "model": model, "project_ref": "ctf",
        "task_ref": "ctf-crypto-warmups",
        "prompt_dataset_ref": {"name": "acme/ctf-prompts", "version": "1.1.0"},
        "capability": capability("acme/ctf-solver", "0.2.0"),
        "config": {"steps": steps, "num_generations": 8, "learning_rate": 1e-6,
                   "kl_coef": 0.04, "num_nodes": 2, "gpus_per_node": 4},
        "metrics": {"steps": list(range(1, steps + 1)), **series},
        "artifacts": {"capability": "acme/ctf-solver@0.2.0", "checkpoints": checkpoints,
                      "prompt_dataset": "acme/ctf-prompts@1.1.0", "task": "ctf-crypto-warmups",
                      **worker_fields(RAY_RL_ID)},
        "started_at": iso(started), "completed_at": iso(finished),
    }
    logs = [*preamble(job, created, started),
            entry(started - 2, "info", "Ray cluster ready", {"nodes": 2, "gpus": 8}),
            entry(started, "info", f"Training started on {model}",
                  {"trainer_type": "rl", "backend": "ray", "algorithm": "grpo"})]
    for step in range(10, steps + 1, 10):
        ts = started + step * step_seconds
        logs.append(entry(ts, "info", f"step {step}/{steps} reward_mean="
                          f"{series['reward_mean'][step - 1]:.3f}",
                          {"step": step, "reward_mean": series["reward_mean"][step - 1],
                           "kl_loss": series["kl_loss"][step - 1]}))
        if step % 20 == 0 and step < steps:
            logs.append(entry(ts, "info", f"checkpoint {step // 20} saved",
                              {"checkpoint_num": step // 20,
                               "latest_checkpoint": checkpoints[step // 20 - 1]}))
    logs += [entry(finished, "info", "final checkpoint saved",
                   {"latest_checkpoint": checkpoints[-1]}),
             entry(finished, "info", "Training complete", {})]
    return DemoJob(job, logs, created)


def sample_jobs(start: float) -> list[DemoJob]:
    """Every fixed sample job, with times relative to `start`."""
    builders = (sft_old, sft_new, rl_tinker, ray_rl, failed_sft, queued_rl, cancelled_sft)
    return [build(start) for build in builders]

"""A finished job for the logs-tools and URL-state browser tests, served by the fake platform:
1,500 log entries (errors at ERRORS, the first one older than the newest 500 the page opens
with), and metrics with `epochs`, per-step `timestamps` and a series that dips below zero."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.browser.conftest import Server, platform_server, stop_server
from tests.fake_platform import FakePlatform

KEY = "dn_key_browser_tools_job"
JOB_ID = "7001b0a7-0000-4000-8000-0000000000a1"
ENTRIES = 1500
ERRORS = (120, 700, 1300)
TIMEOUTS = (333, 1400)  # entries whose message says "timeout"
STEPS = 400
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def log_entries() -> list[dict[str, Any]]:
    """Progress lines, a warning every 50th, three errors and two timeouts."""
    items = []
    for i in range(ENTRIES):
        level = "error" if i in ERRORS else "warning" if i % 50 == 49 else "info"
        message = f"progress {i}"
        if i in ERRORS:
            message = f"worker crashed at entry {i}"
        elif i in TIMEOUTS:
            message = f"Timeout waiting for rollout {i}"
        items.append({"timestamp": (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                      "level": level, "message": message, "data": {"entry": i}})
    return items


def loss(step: int) -> float:
    """A decaying, noisy loss."""
    return round(2.0 * math.exp(-step / 80) + 0.3 + 0.15 * math.sin(step * 1.7), 6)


def metrics() -> dict[str, Any]:
    steps = list(range(1, STEPS + 1))
    return {
        "steps": steps,
        "epochs": [s / 100 for s in steps],
        "timestamps": [(START + timedelta(seconds=30 * s)).isoformat().replace("+00:00", "Z")
                       for s in steps],
        "train/loss": [loss(s) for s in steps],
        "train/learning_rate": [1e-4] * STEPS,
        "train/kl": [round(0.02 * math.sin(s / 9), 6) for s in steps],  # below zero half the time
        "eval/steps": list(range(50, STEPS + 1, 50)),
        "eval/loss_history": [round(loss(s) + 0.05, 6) for s in range(50, STEPS + 1, 50)],
        "train/steps": STEPS, "train/loss_last": loss(STEPS),
    }


def tools_job() -> dict[str, Any]:
    return {
        "id": JOB_ID, "status": "completed", "name": "tools-run", "backend": "tinker",
        "trainer_type": "sft", "model": "Qwen/Qwen3-8B",
        "created_at": "2026-11-20T09:59:00Z", "started_at": "2026-11-20T10:00:00Z",
        "completed_at": "2026-11-20T13:20:00Z", "metrics": metrics(),
    }


@contextmanager
def tools_server(logs: Path) -> Iterator[Server]:
    """A dashboard reading the tools job from a fake platform."""
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization("acme")
        fake.add_workspace("acme", "research", is_default=True)
        fake.add_job("acme", "research", tools_job(), logs=log_entries())
        server = platform_server(logs, fake.url, key=KEY)
        try:
            yield server
        finally:
            stop_server(server)

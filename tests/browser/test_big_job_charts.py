"""A 200,000-step job in Chromium: the downsampled charts keep the spike and mark the NaNs, and
zooming in shows the visible range at full resolution."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, platform_server, stop_server
from tests.fake_platform import FakePlatform

KEY = "dn_key_browser_big_job"
JOB_ID = "b16b16b1-0000-4000-8000-00000000b16b"
STEPS = 200_000
SPIKE = 123_457  # the one step whose loss jumps to 50
NANS = (40_000, 40_001, 150_000)


def big_job() -> dict:
    """An SFT job with a smooth loss, one one-step spike and three NaNs."""
    loss: list[float | str] = [round(2.0 * math.exp(-i / 60_000) + 0.3, 6) for i in range(STEPS)]
    loss[SPIKE - 1] = 50.0
    for step in NANS:
        loss[step - 1] = "NaN"
    return {
        "id": JOB_ID, "status": "completed", "name": "big-run", "backend": "tinker",
        "trainer_type": "sft", "model": "Qwen/Qwen3-8B",
        "created_at": "2026-11-20T10:00:00Z", "started_at": "2026-11-20T10:00:05Z",
        "completed_at": "2026-11-21T10:00:00Z",
        "metrics": {"steps": list(range(1, STEPS + 1)), "train/loss": loss,
                    "train/learning_rate": [1e-4] * STEPS},
    }


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization("acme")
        fake.add_workspace("acme", "research", is_default=True)
        fake.add_job("acme", "research", big_job())
        logs: Path = tmp_path_factory.mktemp("big-server")
        server = platform_server(logs, fake.url, key=KEY)
        try:
            yield server
        finally:
            stop_server(server)


def loss_points(page: Page) -> dict:
    """What the loss chart draws: its line's x and y, and its NaN markers' x."""
    return page.evaluate("""() => {
        const plot = document.querySelector('[data-testid=chart-loss] .plot');
        const line = plot._fullData[0], marks = plot._fullData[1];
        return {x: Array.from(line.x), y: Array.from(line.y),
                nanX: marks ? Array.from(marks.x) : [], nanName: marks ? marks.name : null};
    }""")


@pytest.mark.browser
def test_the_downsampled_loss_chart_keeps_the_spike_and_marks_every_nan(
    page: Page, big_server: Server
) -> None:
    page.goto(big_server.job_url(JOB_ID))
    chart = page.locator("[data-testid=chart-loss]")
    expect(chart.locator(".main-svg").first).to_be_visible()
    badge = chart.locator("[data-testid=chart-badge]")
    expect(badge).to_contain_text(f"of {STEPS - len(NANS):,} points · min/max kept · 3 NaN/Inf")
    drawn = loss_points(page)
    assert len(drawn["x"]) <= 4000
    assert SPIKE in drawn["x"] and max(v for v in drawn["y"] if v == v) == 50.0
    assert sorted(drawn["nanX"]) == list(NANS)
    # The NaN markers are on screen, not just in the data: three red crosses.
    expect(chart.locator(".scatterlayer .trace").nth(1).locator("path.point")).to_have_count(3)


@pytest.mark.browser
def test_zooming_in_shows_every_step_of_the_visible_range(page: Page, big_server: Server) -> None:
    page.goto(big_server.job_url(JOB_ID))
    chart = page.locator("[data-testid=chart-loss]")
    expect(chart.locator(".main-svg").first).to_be_visible()
    before = loss_points(page)
    assert not any(SPIKE - 10 < x < SPIKE and x != SPIKE for x in before["x"])  # downsampled
    page.evaluate(f"""() => Plotly.relayout(
        document.querySelector('[data-testid=chart-loss] .plot'),
        {{'xaxis.range': [{SPIKE - 100}, {SPIKE + 100}]}})""")
    expect(chart).to_have_attribute("data-range", re.compile(rf"^{SPIKE - 100},{SPIKE + 100}$"))
    expect(chart.locator("[data-testid=chart-badge]")).to_have_text(re.compile(r"^20[13] points$"))
    after = loss_points(page)
    visible = [x for x in after["x"] if SPIKE - 100 <= x <= SPIKE + 100]
    assert visible == list(range(SPIKE - 100, SPIKE + 101))
    assert after["y"][after["x"].index(SPIKE)] == 50.0

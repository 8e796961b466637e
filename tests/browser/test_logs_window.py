"""The live logs keep the server's window of entries (data-log-window): older ones go behind a
"load earlier" control the server renders (logs/span), which loads them back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from dashboard.viewmodels.logs import LOG_WINDOW
from tests.browser.conftest import Server, platform_server, stop_server
from tests.fake_platform import DEFAULT_KEY, FakePlatform

pytestmark = pytest.mark.browser

JOB_ID = "7001b0a7-0000-4000-8000-0000000000c3"
OPENING = LOG_WINDOW - 2  # the page opens with every entry, no "load earlier"
ARRIVING = 10


def entry(i: int) -> dict[str, str]:
    return {"timestamp": datetime.now(UTC).isoformat(), "level": "info", "message": f"line {i}"}


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=DEFAULT_KEY) as platform:
        now = datetime.now(UTC).isoformat()
        platform.add_job("acme", "research", {
            "id": JOB_ID, "name": "window-drill", "status": "running", "trainer_type": "sft",
            "created_at": now, "started_at": now, "metrics": {}}, logs=[entry(i) for i in range(OPENING)])
        yield platform


@pytest.fixture
def server(fake: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = platform_server(tmp_path_factory.mktemp("window"), fake.url, key=DEFAULT_KEY)
    yield running
    stop_server(running)


def test_a_followed_tail_keeps_the_servers_window_and_loads_the_rest_back(
    page: Page, server: Server, fake: FakePlatform
) -> None:
    page.goto(server.url(f"/acme/research/training/jobs/{JOB_ID}"))
    entries = page.get_by_test_id("log-entry")
    expect(entries).to_have_count(OPENING)
    expect(page.locator("#logs-body")).to_have_attribute("data-log-window", str(LOG_WINDOW))
    expect(page.get_by_test_id("logs-load-earlier")).to_have_count(0)

    for i in range(OPENING, OPENING + ARRIVING):
        fake.append_log(JOB_ID, entry(i))
    extra = OPENING + ARRIVING - LOG_WINDOW
    earlier = page.get_by_test_id("logs-load-earlier")
    expect(earlier).to_have_text(f"Load earlier entries ({extra} before these)", timeout=15_000)
    expect(entries).to_have_count(LOG_WINDOW)
    expect(entries.first).to_have_attribute("data-index", str(extra))
    expect(entries.last).to_have_attribute("data-index", str(OPENING + ARRIVING - 1))
    expect(page.get_by_test_id("logs-count")).to_have_text(f"{OPENING + ARRIVING} entries")

    earlier.click()  # the server's control, processed by htmx
    expect(entries).to_have_count(OPENING + ARRIVING)
    expect(entries.first).to_have_attribute("data-index", "0")
    expect(earlier).to_have_count(0)

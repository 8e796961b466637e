"""The platform goes down for many polls while a job runs: the page keeps what it shows, says
"Reconnecting…" quietly, and then resumes with every log entry exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageLog, Server, platform_server, stop_server
from tests.fake_platform import DEFAULT_KEY, FakePlatform

pytestmark = pytest.mark.browser

JOB_ID = "0c7a55e2-9d41-4b7e-8f0e-3a2b1c4d5e66"
OUTAGE_SECONDS = 9  # several 2 s log polls, and the backoff grows past one poll


class Trainer:
    """Writes one log entry every 0.4 s to the fake platform until stopped."""

    def __init__(self, fake: FakePlatform) -> None:
        self.fake, self.written = fake, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.4):
            self.fake.append_log(JOB_ID, {"timestamp": datetime.now(UTC).isoformat(), "level": "info",
                                          "message": f"step {self.written}", "data": {}})
            self.written += 1

    def __enter__(self) -> Trainer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=DEFAULT_KEY) as platform:
        now = datetime.now(UTC).isoformat()
        platform.add_job("acme", "research", {
            "id": JOB_ID, "name": "outage-drill", "status": "running", "trainer_type": "sft",
            "created_at": now, "started_at": now, "metrics": {}})
        yield platform


@pytest.fixture
def server(fake: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = platform_server(tmp_path_factory.mktemp("outage"), fake.url, key=DEFAULT_KEY)
    yield running
    stop_server(running)


def messages(page: Page) -> list[str]:
    return page.locator("[data-testid=log-entry] .message").all_inner_texts()


def test_the_live_page_rides_out_an_outage_and_resumes_without_gaps_or_duplicates(
    page: Page, page_log: PageLog, server: Server, fake: FakePlatform
) -> None:
    with Trainer(fake) as trainer:
        page.goto(server.url(f"/acme/research/training/jobs/{JOB_ID}"))
        page.wait_for_function("() => document.querySelectorAll('[data-testid=log-entry]').length >= 3")
        connection = page.locator("#connection")
        expect(connection).to_be_hidden()

        fake.fail("/api/v1/", 503, headers={"Retry-After": "1"})  # every call, for a while
        expect(connection).to_be_visible(timeout=8_000)
        shown = messages(page)
        time.sleep(OUTAGE_SECONDS)  # the outage itself: a fixed wait is the point
        expect(page.get_by_test_id("job-status")).to_have_text("running")  # still on screen
        assert messages(page)[: len(shown)] == shown
        fake.reset()

        resumed = time.monotonic()
        expect(connection).to_be_hidden(timeout=20_000)
        assert time.monotonic() - resumed < 17  # the backoff stayed at a few polls
        target = trainer.written
        page.wait_for_function(
            "n => document.querySelectorAll('[data-testid=log-entry]').length >= n", arg=target,
            timeout=15_000)
    got = messages(page)
    assert got == [f"step {i}" for i in range(len(got))], got
    # What the browser saw during the outage were the expected 503s, nothing else.
    assert all("503" in e for e in page_log.console_errors), page_log.console_errors
    page_log.console_errors.clear()

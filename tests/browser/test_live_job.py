"""The demo's running job, watched live in the browser until it completes (its own server)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from dashboard.sources.demo_jobs import RUNNING_STEPS
from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

CHART_POLL_SECONDS = 10  # js/charts.js CHART_POLL_MS; the slowest poller (artifacts also polls every 10 s)
QUIET_SECONDS = 12  # longer than the slowest poll interval
LOSS_PLOT = "[data-testid=chart-loss] .plot"


def log_indexes(page: Page) -> list[int]:
    """The data-index of every log entry on screen, in order."""
    return page.locator("[data-testid=log-entry]").evaluate_all(
        "els => els.map(el => Number(el.dataset.index))")


def assert_contiguous(indexes: list[int]) -> None:
    """Entries are exactly positions 0..N-1: no gap, no duplicate, in order."""
    assert indexes == list(range(len(indexes))), indexes


def drawn(plot: Locator) -> int:
    """How many drawable points the plot's first trace holds (typed arrays, NaN for gaps)."""
    return plot.evaluate("el => Array.from(el._fullData[0].y).filter(Number.isFinite).length")


def test_zoom_on_the_loss_chart_survives_a_chart_refresh(page: Page, server: Server) -> None:
    job_id = server.running_job(min_remaining=CHART_POLL_SECONDS + 5, min_elapsed=3)
    page.goto(server.job_url(job_id))
    expect(page.get_by_test_id("job-status")).to_have_text("running")
    page.wait_for_function(
        "sel => { const el = document.querySelector(sel);"
        " return el && el._fullData && el._fullData.length; }",
        arg=LOSS_PLOT)
    chart = page.get_by_test_id("chart-loss")
    plot = page.locator(LOSS_PLOT)

    # Zoom onto a window that reaches past the steps done so far, as a person watching the
    # tail would; the app re-reads that window at full resolution.
    zoom = [2, RUNNING_STEPS - 10]
    plot.evaluate("(el, range) => Plotly.relayout(el, {'xaxis.range': range})", zoom)
    expect(chart).to_have_attribute("data-range", ",".join(map(str, zoom)))
    expect(chart).not_to_have_attribute("data-zooming", "true")
    before = drawn(plot)
    assert plot.evaluate("el => el._fullLayout.xaxis.range") == zoom

    # The next chart poll (every 10 s) brings more steps; the zoom must stay where it was.
    page.wait_for_function(
        "([sel, n]) => Array.from(document.querySelector(sel)._fullData[0].y)"
        ".filter(Number.isFinite).length > n",
        arg=[LOSS_PLOT, before], timeout=(CHART_POLL_SECONDS + 5) * 1000)
    after = drawn(plot)
    assert after > before
    assert plot.evaluate("el => el._fullLayout.xaxis.range") == zoom
    assert plot.evaluate("el => el.layout.xaxis.autorange") is False
    expect(chart.get_by_test_id("chart-badge")).to_contain_text(
        re.compile(rf"\b{after:,} points?\b"))


def test_running_job_streams_logs_ticks_then_completes_and_stops_polling(
    page: Page, server: Server
) -> None:
    job_id = server.running_job(min_remaining=12)
    job_path = server.job_path(job_id)
    page.goto(server.job_url(job_id))
    expect(page.get_by_test_id("job-status")).to_have_text("running")
    expect(page.get_by_test_id("action-cancel")).to_be_visible()

    # New log entries arrive without a reload, appended in order.
    entries = page.get_by_test_id("log-entry")
    first = entries.count()
    assert first > 0
    assert_contiguous(log_indexes(page))
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=log-entry]').length > n", arg=first)
    assert_contiguous(log_indexes(page))

    # The duration tile keeps ticking between polls.
    duration = page.get_by_test_id("tile-duration").locator(".tile-value")
    shown = duration.inner_text()
    expect(duration).not_to_have_text(shown, timeout=5_000)
    assert re.fullmatch(r"(\d+m )?\d+s", duration.inner_text()), duration.inner_text()

    # The job completes on its own; the page follows.
    expect(page.get_by_test_id("job-status")).to_have_text(
        "completed", timeout=int((server.run_seconds + 10) * 1000))
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)
    expect(page.get_by_test_id("action-retry")).to_be_visible()

    # Every poller makes one last fetch (HTTP 286) and then stops.
    page.wait_for_function(
        """() => !document.querySelector('#summary[hx-get]')
              && !document.querySelector('#logs-poller[hx-get]')
              && !document.querySelector('[data-testid=artifacts-card][hx-get]')
              && document.querySelector('#charts').dataset.terminal === 'true'""",
        timeout=(CHART_POLL_SECONDS + 5) * 1000)
    expect(entries.last).to_contain_text("Training complete")
    live = log_indexes(page)
    assert_contiguous(live)
    # The live list is exactly what a fresh load of the finished job shows.
    fresh = server.get(job_path)
    assert len(live) == fresh.count('data-testid="log-entry"')
    assert navigations == [], f"the page reloaded: {navigations}"

    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    time.sleep(QUIET_SECONDS)  # asserting that nothing happens: a fixed wait is the point
    page.remove_listener("request", record)
    to_job = [url for url in requests if urlparse(url).path.startswith(job_path)]
    assert to_job == [], f"polling went on after the job completed: {to_job}"
    assert requests == [], f"unexpected requests after completion: {requests}"
    expect(page.get_by_test_id("job-status")).to_have_text("completed")
    assert log_indexes(page) == live

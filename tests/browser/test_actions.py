"""Cancel and Retry, clicked through their confirmation pages (their own server: they change jobs)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.sources.demo_jobs import CANCELLED_ID
from tests.browser.conftest import SCOPE, Server

pytestmark = pytest.mark.browser


def test_cancel_on_a_running_job_asks_first_then_shows_it_cancelled(
    page: Page, server: Server
) -> None:
    job_id = server.running_job(min_remaining=10)
    page.goto(server.job_url(job_id))
    expect(page.get_by_test_id("job-status")).to_have_text("running")

    page.get_by_test_id("action-cancel").click()
    expect(page).to_have_url(server.job_url(job_id) + "/cancel")
    confirm = page.get_by_test_id("confirm-cancel")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Cancel this job?")
    expect(page.get_by_test_id("job-status")).to_have_count(0)  # nothing has happened yet

    page.get_by_test_id("confirm-cancel-submit").click()
    expect(page).to_have_url(server.job_url(job_id))
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)
    expect(page.get_by_test_id("action-retry")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Cancellation requested")).to_be_visible()
    expect(page.get_by_test_id("log-entry").last).to_contain_text("Training cancelled")


def test_retry_on_a_finished_job_opens_a_new_queued_job(page: Page, server: Server) -> None:
    page.goto(server.job_url(CANCELLED_ID))
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")

    page.get_by_test_id("action-retry").click()
    expect(page.get_by_test_id("confirm-retry")).to_be_visible()
    page.get_by_test_id("confirm-retry-submit").click()

    # The new job opens compared with the original (`?compare=`).
    expect(page).to_have_url(re.compile(re.escape(server.url(SCOPE)) + r"/[0-9a-f-]{36}\?compare="
                                        + re.escape(CANCELLED_ID) + "$"))
    new_id = page.url.split("?")[0].rsplit("/", 1)[1]
    assert new_id != CANCELLED_ID
    expect(page.get_by_test_id("job-status")).to_have_text("queued")
    expect(page.get_by_test_id("job-name")).to_have_text("phishing-triage-sft")
    expect(page.get_by_role("status").filter(has_text=new_id)).to_be_visible()
    expect(page.get_by_test_id("action-cancel")).to_be_visible()
    expect(page.get_by_test_id("action-retry")).to_have_count(0)
    expect(page.get_by_test_id("compare-run")).to_have_attribute("data-job-id", CANCELLED_ID)

    # The original job is untouched.
    page.goto(server.job_url(CANCELLED_ID))
    expect(page.get_by_test_id("job-status")).to_have_text("cancelled")

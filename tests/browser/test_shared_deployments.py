"""A shared dashboard in the browser: a link opened signed out goes to sign-in and back to the
same job; sign-out ends it; a service-mode dashboard is read-only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageLog, Server, platform_server, stop_server
from tests.fake_platform import DEFAULT_KEY, RL_JOB_ID, SFT_JOB_ID, FakePlatform, add_sample_jobs

pytestmark = pytest.mark.browser

SCOPE = "/acme/research/training/jobs"
SECRET = "browser-test-secret-0123456789-abcdefghij"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=DEFAULT_KEY) as platform:
        add_sample_jobs(platform)
        yield platform


def allow_status(page_log: PageLog, status: int) -> None:
    """Accept the console's note about a response that is meant to fail with `status`."""
    page_log.console_errors[:] = [e for e in page_log.console_errors if f"status of {status}" not in e]


@pytest.fixture(scope="module")
def viewer_server(fake: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = platform_server(tmp_path_factory.mktemp("viewer"), fake.url, "--auth", "viewer",
                             env={"DASHBOARD_SECRET_KEY": SECRET})
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def service_server(fake: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = platform_server(tmp_path_factory.mktemp("service"), fake.url, "--auth", "service",
                             key=DEFAULT_KEY)
    yield server
    stop_server(server)


def test_a_shared_link_opened_signed_out_signs_in_and_lands_on_the_same_job(
    page: Page, page_log: PageLog, viewer_server: Server, fake: FakePlatform
) -> None:
    link = viewer_server.url(f"{SCOPE}/{SFT_JOB_ID}")
    page.goto(link)
    expect(page.get_by_test_id("signin")).to_be_visible()
    page.get_by_test_id("signin-key").fill("dn_key_wrong_999")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_contain_text("rejected that API key")
    allow_status(page_log, 401)

    page.get_by_test_id("signin-key").fill(DEFAULT_KEY)
    page.get_by_test_id("signin-submit").click()
    expect(page).to_have_url(link)
    expect(page.get_by_test_id("job-status")).to_be_visible()
    expect(page.get_by_test_id("signout")).to_contain_text("ada")

    # The cookie holds (HttpOnly, Secure on loopback) across pages and reloads.
    cookie = next(c for c in page.context.cookies() if c["name"] == "dashboard_viewer")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert DEFAULT_KEY not in cookie["value"]
    assert page.evaluate("document.cookie").find("dashboard_viewer") == -1
    page.goto(viewer_server.url(f"{SCOPE}/{RL_JOB_ID}"))
    expect(page.get_by_test_id("job-status")).to_have_text("running")

    page.get_by_test_id("signout").get_by_role("button", name="Sign out").click()
    expect(page.get_by_test_id("signin")).to_be_visible()
    expect(page.get_by_text("Signed out.")).to_be_visible()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/signin\?next="))


def test_a_service_mode_dashboard_is_read_only(page: Page, page_log: PageLog, service_server: Server) -> None:
    page.goto(service_server.url(f"{SCOPE}/{RL_JOB_ID}"))
    expect(page.get_by_test_id("job-status")).to_have_text("running")
    expect(page.get_by_test_id("read-only-badge")).to_be_visible()
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)
    page.goto(service_server.url(f"{SCOPE}/{RL_JOB_ID}/cancel"))
    expect(page.get_by_text("service mode")).to_be_visible()
    allow_status(page_log, 405)

"""The last good run in Chromium at 1280x800 (issue 15): a failed run whose workspace also holds
its last good run, a more recent failed attempt of the same name and a more recent unrelated run
names and links the good run on the first screen, with the step where it left it; the comparison
link draws both curves; a failed run with nothing to compare still shows its cause and claims
nothing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard.sources.demo import ATTEMPT_ID, FAILED_ID, GOOD_ID, NAN_ID, STALLED_ID, UNRELATED_ID
from dashboard.sources.demo_failures import NAN_CLIMB, NAN_LAST
from tests.browser.conftest import SCOPE, Server
from tests.browser.test_triage import on_first_screen

pytestmark = pytest.mark.browser

# The x values of each trace of the loss chart with a finite y (`_fullData` holds them decoded).
LOSS_TRACES = """() => {
  const plot = document.querySelector('[data-testid=chart-loss] .plot');
  if (!plot || !plot._fullData || !plot.querySelector('.main-svg')) return null;
  return plot._fullData.map(t => Array.from(t.x || []).filter((x, i) => Number.isFinite(t.y[i])).map(Number));
}"""


def test_a_failed_run_names_its_last_good_run_and_where_it_left_it_on_the_first_screen(
    page: Page, server: Server
) -> None:
    page.goto(server.job_url(NAN_ID))
    part = page.get_by_test_id("lastgood")
    link = part.get_by_test_id("lastgood-link")
    expect(link).to_have_text("policy-qa-sft-20k")
    assert link.get_attribute("href") == f"{SCOPE}/{GOOD_ID}"
    on_first_screen(page, link)
    left = part.locator("li[data-series=loss]")
    expect(left).to_contain_text("Loss left policy-qa-sft-20k at step")
    on_first_screen(page, left)
    step = int(re.search(r"at step ([\d,]+)", left.inner_text()).group(1).replace(",", ""))
    assert NAN_CLIMB <= step <= NAN_CLIMB + 20  # the climb starts after step 11,940
    failed = part.get_by_test_id("lastgood-failed")
    expect(failed).to_contain_text("The last run of this name failed as well")
    assert failed.locator("a").get_attribute("href") == f"{SCOPE}/{ATTEMPT_ID}"
    assert UNRELATED_ID not in part.inner_html() and "phishing-replies-sft" not in part.inner_text()
    on_first_screen(page, page.get_by_test_id("triage-error"))


def test_the_comparison_link_draws_both_curves_around_the_step(page: Page, server: Server) -> None:
    page.goto(server.job_url(NAN_ID))
    compare = page.get_by_test_id("lastgood-compare")
    expect(compare).to_have_attribute("href", re.compile(rf"\?compare={GOOD_ID}&zoom=\d+:\d+$"))
    compare.click()
    expect(page).to_have_url(re.compile(rf"compare={GOOD_ID}"))
    page.wait_for_function(LOSS_TRACES)
    traces = [xs for xs in page.evaluate(LOSS_TRACES) if xs]
    # This run's curve stops at its last step; the good run's goes on past it, through the range.
    assert any(NAN_CLIMB - 100 < min(xs) and max(xs) <= NAN_LAST for xs in traces), traces
    assert any(min(xs) < NAN_CLIMB and max(xs) > NAN_LAST for xs in traces), "the good run is not drawn"


def test_a_failed_run_with_nothing_to_compare_keeps_its_cause_and_claims_nothing(
    page: Page, server: Server
) -> None:
    page.goto(server.job_url(FAILED_ID))
    part = page.get_by_test_id("lastgood")
    expect(part).to_contain_text("No earlier completed run of this name")
    expect(part.get_by_test_id("lastgood-link")).to_have_count(0)
    expect(part.get_by_test_id("lastgood-compare")).to_have_count(0)
    expect(part.locator("li[data-series]")).to_have_count(0)
    on_first_screen(page, page.get_by_test_id("triage-error"))
    on_first_screen(page, page.get_by_test_id("triage-first-error"))


def test_the_summary_of_a_running_job_polls_around_the_part_without_reloading_it(
    page: Page, server: Server
) -> None:
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/lastgood" in r.url else None)
    page.goto(server.job_url(STALLED_ID))
    part = page.get_by_test_id("lastgood")
    expect(part).to_contain_text("No earlier completed run")
    for _ in range(2):  # two polls of the summary re-render the card around the part
        with page.expect_response(lambda r: r.url.endswith(f"{STALLED_ID}/summary")):
            pass
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
        expect(part).to_contain_text("No earlier completed run")
    assert len(asked) == 1, asked  # hx-preserve kept it: loaded once, then every 60 s on its own

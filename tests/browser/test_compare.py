"""Comparing runs in Chromium: the overlaid traces with a legend naming each job, the deltas on
the tiles, the strip's notes for bad ids, "add a run" inline, the list's Compare selected form,
a zoom refetching every compared trace, the link reopening the same comparison, and a live job
compared with finished ones."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCOPE, Server

pytestmark = pytest.mark.browser

MINE = "0b98318e-4a68-4049-972e-757225d0604d"  # vuln-explainer-sft-v3, completed
OTHER = "f3b8d4c2-1a9e-4c7b-b5d6-2e8f0a1c3d57"  # contract-clauses-sft, completed
OLD_STYLE = "dd3ae363-0d90-471f-8be3-9497133ce28b"  # sqli-agent-sft: train_loss, not train/loss
MISSING = "00000000-0000-4000-8000-000000000000"
LOSS = "[data-testid=chart-loss] .plot"


def wait_drawn(page: Page, selector: str = LOSS) -> None:
    page.wait_for_function("sel => { const el = document.querySelector(sel);"
                           " return el && el._fullData && el._fullData.length; }", arg=selector)


def drawn(page: Page, selector: str = LOSS) -> list[dict[str, Any]]:
    """Each drawn trace's name, owner (a compared job's id, or '') and colour."""
    return page.evaluate("""sel => document.querySelector(sel)._fullData.map(t => ({
        name: t.name, meta: t.meta, color: t.line && t.line.color, points: t.x.length}))""", selector)


def compare_of(page: Page) -> list[str]:
    return parse_qs(urlparse(page.url).query).get("compare", [])


def test_every_chart_overlays_the_compared_jobs_with_a_legend_naming_each(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE) + f"?compare={OTHER},{OLD_STYLE}")
    wait_drawn(page)
    lines = [t for t in drawn(page) if not t["name"].startswith("NaN/Inf")]
    assert [t["name"] for t in lines] == [
        "vuln-explainer-sft-v3 (0b98318e, completed) · train/loss",
        "contract-clauses-sft (f3b8d4c2, completed) · train/loss",
        "sqli-agent-sft (dd3ae363, completed) · train_loss"]
    assert len({t["color"] for t in lines}) == 3
    legend = page.locator(f"{LOSS} .legendtext")
    expect(legend).to_have_count(3)
    expect(legend.nth(1)).to_have_text("contract-clauses-sft (f3b8d4c2, completed) · train/loss")
    badges = page.locator("[data-testid=chart-loss] [data-testid=chart-badge-compare]")
    expect(badges).to_have_text(["contract-clauses-sft (f3b8d4c2, completed): 300 points",
                                 "sqli-agent-sft (dd3ae363, completed): 100 points"])
    val = "[data-testid=chart-val-loss] .plot"
    wait_drawn(page, val)
    assert {t["meta"] for t in drawn(page, val)} == {"", OTHER, OLD_STYLE}


def test_the_tiles_show_the_compared_value_and_the_difference(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE) + f"?compare={OTHER}")
    tile = page.locator("[data-testid=metric-tile][data-key='train/loss_last']")
    delta = tile.get_by_test_id("tile-delta")
    expect(delta).to_have_count(1)
    expect(delta).to_contain_text(
        re.compile(r"vs f3b8d4c2: [0-9.]+ · Δ [+−][0-9.]+ \([+−][0-9.]+ %\) · (better|worse)"))
    expect(page.get_by_test_id("compare-strip").get_by_test_id("compare-run")).to_have_count(1)
    expect(page.get_by_test_id("compare-status")).to_have_text("completed")


def test_the_strip_notes_each_bad_entry_and_still_shows_the_first_job(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE) + f"?compare=<b>x</b>,{MINE},{MISSING},{OTHER},{OTHER}")
    expect(page.get_by_test_id("job-name")).to_have_text("vuln-explainer-sft-v3")
    expect(page.get_by_test_id("compare-note")).to_have_text([
        "'<b>x</b>' is not a job id (a UUID), so it is not compared.",
        "this job is not compared with itself.",
        "f3b8d4c2 is listed twice; it is compared once.",
        "00000000 was not found in this workspace (404), so it is not compared."])
    expect(page.get_by_test_id("compare-run")).to_have_count(1)
    page.get_by_test_id("compare-remove").click()
    expect(page.get_by_test_id("compare-run")).to_have_count(0)
    assert compare_of(page) == []


def test_add_a_run_searches_inline_and_adds_the_run(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE))
    before = page.url
    page.locator("#compare-find").fill("contract")
    page.get_by_test_id("compare-add").get_by_role("button", name="Find").click()
    candidate = page.get_by_test_id("compare-candidate")
    expect(candidate).to_have_count(1)
    assert page.url == before  # swapped in by htmx, no navigation
    candidate.get_by_role("link").click()
    expect(page.get_by_test_id("compare-run")).to_have_attribute("data-job-id", OTHER)
    assert compare_of(page) == [OTHER]


def test_the_list_compare_form_opens_the_first_selected_job_compared_with_the_others(
        page: Page, server: Server) -> None:
    page.goto(server.url(SCOPE))
    for job_id in (MINE, OTHER, OLD_STYLE):
        page.locator(f"[data-testid=job-row][data-job-id='{job_id}'] [data-testid=compare-select]").check()
    page.get_by_test_id("compare-submit").click()
    expect(page.get_by_test_id("job-name")).to_have_text(re.compile("vuln-explainer-sft-v3|contract-clauses-sft|"
                                                                    "sqli-agent-sft"))
    first = urlparse(page.url).path.rsplit("/", 1)[1]
    assert first in (MINE, OTHER, OLD_STYLE)
    assert sorted([first, *compare_of(page)[0].split(",")]) == sorted([MINE, OTHER, OLD_STYLE])
    expect(page.get_by_test_id("compare-run")).to_have_count(2)


def test_a_zoom_refetches_every_compared_trace_and_the_link_reopens_it(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE) + f"?compare={OTHER}&smooth=0.6")
    wait_drawn(page)
    with page.expect_response(lambda r: "/charts/zoom" in r.url and "chart-loss" in r.url):
        page.locator(LOSS).evaluate("el => Plotly.relayout(el, {'xaxis.range': [10, 40]})")
    badge = page.locator(f"[data-testid=chart-loss] [data-testid=chart-badge-compare][data-job='{OTHER}']")
    expect(badge).to_have_text("contract-clauses-sft (f3b8d4c2, completed): 33 points")
    expect(page).to_have_url(re.compile(r"zoom=10(\.0*)?%3A40|zoom=10:40"))
    link = page.url
    assert compare_of(page) == [OTHER]

    again = page.context.new_page()
    again.goto(link)
    wait_drawn(again)
    expect(again.get_by_test_id("compare-run")).to_have_attribute("data-job-id", OTHER)
    expect(again.locator("[data-testid=chart-loss] [data-testid=chart-badge-compare]")).to_have_text(
        "contract-clauses-sft (f3b8d4c2, completed): 33 points")
    assert {t["meta"] for t in drawn(again)} == {"", OTHER}
    assert again.locator("[data-testid=chart-smoothing]").input_value() == "0.6"
    again.close()


def test_chart_options_keep_the_comparison(page: Page, server: Server) -> None:
    page.goto(server.job_url(MINE) + f"?compare={OTHER}")
    wait_drawn(page)
    page.get_by_test_id("chart-logy").check()
    expect(page).to_have_url(re.compile("logy=1"))
    wait_drawn(page)
    page.wait_for_function("sel => document.querySelector(sel)._fullLayout.yaxis.type === 'log'", arg=LOSS)
    assert {t["meta"] for t in drawn(page)} == {"", OTHER}
    assert compare_of(page) == [OTHER]


def test_a_live_job_compared_with_a_finished_one_keeps_polling_and_keeps_its_traces(
        page: Page, server: Server) -> None:
    live = server.running_job(min_remaining=18)
    page.goto(server.job_url(live) + f"?compare={OTHER}")
    wait_drawn(page)
    page.locator(LOSS).evaluate("el => { el._drawnBefore = el.data; }")
    with page.expect_response(lambda r: f"/{live}/charts?" in r.url, timeout=15_000) as polled:
        pass
    assert "live=&" in polled.value.url + "&" and f"compare={OTHER}" in polled.value.url
    # The poll's figure is merged in (new data), and the finished job's traces are still drawn.
    page.wait_for_function("sel => { const el = document.querySelector(sel);"
                           " return el.data !== el._drawnBefore; }", arg=LOSS)
    owners = [t["meta"] for t in drawn(page)]
    assert OTHER in owners and "" in owners
    expect(page.get_by_test_id("compare-run")).to_have_attribute("data-job-id", OTHER)

"""The URL carries the view: chart options (smoothing, log-y, x-axis) change what Chromium draws
and go into the URL; a zoom goes there too (one range for every chart); a pasted link opens
the same charts, filters and selected entry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from dashboard.sources.demo_jobs import SFT_NEW_ID
from tests.browser.conftest import Server
from tests.browser.tools_job import JOB_ID, STEPS, loss, tools_server
from tests.ema_reference import ema_reference

pytestmark = pytest.mark.browser

LOSS = "[data-testid=chart-loss] .plot"
CHART_POLL_SECONDS = 10  # js/charts.js CHART_POLL_MS


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dashboard serving the tools job (epochs, per-step times, a series below zero)."""
    with tools_server(tmp_path_factory.mktemp("url-state-server")) as running:
        yield running


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def wait_drawn(page: Page, selector: str = LOSS) -> None:
    page.wait_for_function(
        "sel => { const el = document.querySelector(sel);"
        " return el && el._fullData && el._fullData.length; }", arg=selector)


def traces(page: Page, selector: str = LOSS) -> list[dict[str, Any]]:
    """What a plot draws: each trace's name, opacity, x and y (NaN for gaps)."""
    return page.evaluate("""sel => document.querySelector(sel)._fullData.map(t => ({
        name: t.name, opacity: t.opacity, x: Array.from(t.x),
        y: Array.from(t.y, v => v === null ? NaN : v)}))""", selector)


def layout(page: Page, path: str, selector: str = LOSS) -> Any:
    return page.evaluate("([sel, path]) => path.split('.').reduce((o, k) => o && o[k],"
                         " document.querySelector(sel)._fullLayout)", [selector, path])


EVERY_PLOT = "Array.from(document.querySelectorAll('#charts .plot'))"


def all_ranges(page: Page) -> list[Any]:
    return page.evaluate(f"() => {EVERY_PLOT}.map(p => p._fullLayout.xaxis.range)")


def test_smoothing_draws_the_ema_over_a_faint_raw_line_and_keeps_it_in_zooms(
    page: Page, tools: Server
) -> None:
    page.goto(tools.job_url(JOB_ID))
    wait_drawn(page)
    assert [t["name"] for t in traces(page)] == ["train/loss"]

    page.get_by_test_id("chart-smoothing").select_option("0.9")
    expect(page).to_have_url(re.compile(r"\?smooth=0\.9$"))
    page.wait_for_function("sel => document.querySelector(sel)._fullData.length === 2", arg=LOSS)
    raw, smooth = traces(page)
    assert raw["name"] == "train/loss (raw)" and raw["opacity"] == pytest.approx(0.3)
    assert smooth["name"] == "train/loss" and smooth["opacity"] == 1
    values = [loss(s) for s in range(1, STEPS + 1)]
    assert np.allclose(raw["y"], values, rtol=1e-6)
    assert np.allclose(smooth["y"], ema_reference(values, 0.9), rtol=1e-5)
    badge = page.get_by_test_id("chart-loss").get_by_test_id("chart-badge")
    expect(badge).to_contain_text("smoothed (EMA 0.9)")

    # A zoom asks the server again, still smoothed on the whole series.
    page.locator(LOSS).evaluate("el => Plotly.relayout(el, {'xaxis.range': [300, 320]})")
    expect(page.get_by_test_id("chart-loss")).to_have_attribute("data-range", "300,320")
    raw, smooth = traces(page)
    full = ema_reference(values, 0.9)
    assert min(smooth["x"]) >= 299 and max(smooth["x"]) <= 321
    assert np.allclose(smooth["y"], [full[int(x) - 1] for x in smooth["x"]], rtol=1e-5)


def test_log_y_and_the_x_axis_change_what_is_drawn(page: Page, tools: Server) -> None:
    page.goto(tools.job_url(JOB_ID))
    wait_drawn(page)
    assert layout(page, "yaxis.type") == "linear"

    page.get_by_test_id("chart-logy").check()
    expect(page).to_have_url(re.compile(r"\?logy=1$"))
    page.wait_for_function("sel => document.querySelector(sel)._fullLayout.yaxis.type === 'log'", arg=LOSS)
    expect(page.locator("[data-series=train\\/kl]").get_by_test_id("chart-badge")).to_contain_text(
        re.compile(r"log y: \d+ values ≤ 0 cannot be drawn"))

    page.get_by_test_id("chart-x-axis").select_option("epoch")
    expect(page).to_have_url(re.compile(r"\?logy=1&x=epoch$"))
    page.wait_for_function("sel => document.querySelector(sel)._fullLayout.xaxis.title.text"
                           " === 'Epoch'", arg=LOSS)
    (line,) = traces(page)
    assert np.allclose(line["x"], [s / 100 for s in range(1, STEPS + 1)])
    assert layout(page, "yaxis.type") == "log"

    page.get_by_test_id("chart-x-axis").select_option("time")
    expect(page).to_have_url(re.compile(r"\?logy=1&x=time$"))
    page.wait_for_function("sel => document.querySelector(sel)._fullLayout.xaxis.title.text"
                           " === 'Hours since the first step'", arg=LOSS)  # 3 h 19 m 30 s in all
    (line,) = traces(page)
    assert line["x"][0] == 0 and line["x"][-1] == pytest.approx((STEPS - 1) * 30 / 3600)

    # The same view from the URL alone.
    pasted = page.url
    page.goto("about:blank")
    page.goto(pasted)
    wait_drawn(page)
    assert layout(page, "xaxis.title.text") == "Hours since the first step"
    assert layout(page, "yaxis.type") == "log"
    expect(page.get_by_test_id("chart-x-axis")).to_have_value("time")
    expect(page.get_by_test_id("chart-logy")).to_be_checked()


def test_an_axis_the_job_cannot_draw_is_disabled_and_says_why(page: Page, server: Server) -> None:
    page.goto(server.job_url(SFT_NEW_ID) + "?x=epoch")
    wait_drawn(page)
    menu = page.get_by_test_id("chart-x-axis")
    expect(menu.locator("option[value=epoch]")).to_be_disabled()
    expect(menu.locator("option[value=time]")).to_be_disabled()
    expect(menu).to_have_value("step")
    expect(page.locator("#x-axis-reasons")).to_contain_text(
        "Epoch is not available: this job publishes no per-step `epochs` series.")
    expect(page.get_by_test_id("param-note")).to_contain_text("x=epoch was ignored")
    assert layout(page, "xaxis.title.text") == "Step"


def test_a_zoom_zooms_every_chart_and_survives_a_pasted_link(page: Page, tools: Server) -> None:
    page.goto(tools.job_url(JOB_ID) + "?smooth=0.6")
    wait_drawn(page)
    page.locator(LOSS).evaluate("el => Plotly.relayout(el, {'xaxis.range': [100, 200]})")
    expect(page).to_have_url(re.compile(r"\?smooth=0\.6&zoom=100%3A200$"))
    for testid in ("chart-loss", "chart-learning-rate", "chart-val-loss"):
        expect(page.get_by_test_id(testid)).to_have_attribute("data-range", "100,200")
    assert all(r == [100, 200] for r in all_ranges(page))
    expect(page.get_by_test_id("chart-zoom-state")).to_have_text(
        "Zoomed to 100 \u2013 200 (double-click a chart to see all)")
    zoomed = traces(page)

    pasted = page.url
    page.goto("about:blank")
    page.goto(pasted)
    wait_drawn(page)
    page.wait_for_function(f"() => {EVERY_PLOT}.every(p => p._fullLayout)")
    assert all(r == [100, 200] for r in all_ranges(page))
    expect(page.get_by_test_id("chart-loss")).to_have_attribute("data-range", "100,200")
    opened = traces(page)
    assert [t["name"] for t in opened] == ["train/loss (raw)", "train/loss"]
    xs = opened[1]["x"]
    assert min(xs) == 99 and max(xs) == 201 and len(xs) == 103  # full resolution, one step of margin
    assert opened[1]["y"] == pytest.approx(zoomed[1]["y"], rel=1e-6)
    expect(page.get_by_test_id("chart-loss").get_by_test_id("chart-badge")).to_contain_text("103 points")

    # Seeing everything again takes the zoom out of the URL, for every chart.
    page.locator(LOSS).evaluate("el => Plotly.relayout(el, {'xaxis.autorange': true})")
    expect(page).to_have_url(re.compile(r"\?smooth=0\.6$"))
    page.wait_for_function(f"() => {EVERY_PLOT}.every(p => p._fullLayout.xaxis.autorange)")
    expect(page.get_by_test_id("chart-zoom-state")).to_be_hidden()


def test_a_pasted_link_opens_the_whole_view(page: Page, tools: Server) -> None:
    link = (tools.job_url(JOB_ID) + "?level=error&q=crashed&smooth=0.9&logy=1&x=epoch&zoom=1:2#log-700")
    page.goto(link)
    wait_drawn(page)
    expect(page.locator("#log-700")).to_have_class(re.compile(r"\bselected\b"))
    assert page.locator("[data-testid=log-entry]").evaluate_all(
        "els => els.map(el => Number(el.dataset.index))") == [120, 700, 1300]
    expect(page.get_by_test_id("logs-level-filter")).to_have_value("error")
    expect(page.get_by_test_id("logs-search")).to_have_value("crashed")
    expect(page.get_by_test_id("chart-smoothing")).to_have_value("0.9")
    expect(page.get_by_test_id("chart-logy")).to_be_checked()
    expect(page.get_by_test_id("chart-x-axis")).to_have_value("epoch")
    assert layout(page, "xaxis.range") == [1, 2]
    assert layout(page, "xaxis.title.text") == "Epoch"
    assert layout(page, "yaxis.type") == "log"
    assert [t["name"] for t in traces(page)] == ["train/loss (raw)", "train/loss"]
    assert page.url == link


def test_the_chart_poll_keeps_the_options_of_the_url(page: Page, server: Server) -> None:
    job_id = server.running_job(min_remaining=CHART_POLL_SECONDS + 5, min_elapsed=3)
    page.goto(server.job_url(job_id) + "?smooth=0.8&logy=1")
    wait_drawn(page)
    before = len(traces(page)[1]["x"])
    page.wait_for_function("([sel, n]) => document.querySelector(sel)._fullData[1].x.length > n",
                           arg=[LOSS, before], timeout=(CHART_POLL_SECONDS + 5) * 1000)
    raw, smooth = traces(page)[:2]
    assert raw["name"] == "train/loss (raw)" and smooth["name"] == "train/loss"
    assert np.allclose(smooth["y"], ema_reference(raw["y"], 0.8), rtol=1e-5, equal_nan=True)
    assert layout(page, "yaxis.type") == "log"

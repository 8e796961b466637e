"""Comfort: axe finds no serious or critical problem on any page, in the light and the dark
colour scheme; the charts follow the scheme; the pages read well on a laptop and work on a phone.

axe (axe-core, bundled by `axe-playwright-python`) checks the whole page, Plotly's charts
included: nothing is excluded. It does not judge the contrast of SVG text, so the charts' own
text is measured here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from dashboard.sources.demo_jobs import CANCELLED_ID, FAILED_ID, QUEUED_ID, RL_TINKER_ID, SFT_OLD_ID
from tests import canary
from tests.browser.conftest import SCOPE, PageLog, Server, platform_server, stop_server
from tests.fake_platform import DEFAULT_KEY, SFT_JOB_ID, FakePlatform, add_sample_jobs

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING = ("serious", "critical")
SCHEMES = ("light", "dark")
# What the page's background is in each scheme (app.css --bg), to prove the scheme applied.
BACKGROUND = {"light": "rgb(247, 248, 250)", "dark": "rgb(17, 20, 24)"}
MISSING_JOB = "00000000-0000-4000-8000-000000000000"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


# --- helpers --------------------------------------------------------------------------------


def axe_problems(page: Page) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one readable line each."""
    results = AXE.run(page).response
    problems = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            summary = " ".join((node.get("failureSummary") or "").split())
            problems.append(f"{violation['id']} ({violation['impact']}) {node['target']}: "
                            f"{violation['help']} — {summary[:300]}")
    return problems


def assert_accessible(page: Page, what: str) -> None:
    """No serious or critical axe violation; the message lists each one."""
    problems = axe_problems(page)
    assert not problems, f"axe on {what} ({page.url}):\n" + "\n".join(problems)


def wait_for_charts(page: Page) -> None:
    """Every chart that has data is drawn by Plotly."""
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.plot')).every(p => p.querySelector('.main-svg'))")


def allow_status(page_log: PageLog, status: int) -> None:
    """Accept the console's note about a response that is meant to fail with `status`."""
    page_log.console_errors[:] = [e for e in page_log.console_errors if f"status of {status}" not in e]


def luminance(rgb: str) -> float:
    """WCAG relative luminance of a CSS `rgb(r, g, b)` colour."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS colours."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def open_context(browser: Browser, page_log: PageLog) -> Iterator[Callable[..., Page]]:
    """Open a page in a browser context with the given options (a phone, a colour scheme), held
    to the same rules as the `page` fixture: console errors fail the test, responses are
    checked for the API key."""
    opened: list[tuple[BrowserContext, str]] = []

    def open_page(**options: Any) -> Page:
        har = canary.har_path()
        context = browser.new_context(record_har_path=har, record_har_content="embed", **options)
        context.set_default_timeout(10_000)
        opened.append((context, har))
        page = context.new_page()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                where = message.location.get("url", "") if message.location else ""
                page_log.console_errors.append(f"{message.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
        return page

    yield open_page
    for context, har in opened:
        context.close()
        canary.check_har(har)


# --- axe on every kind of page, light and dark ----------------------------------------------


PAGES = {
    "job list": lambda s: s.url(SCOPE),
    "completed SFT job": lambda s: s.job_url(SFT_OLD_ID),
    "failed job": lambda s: s.job_url(FAILED_ID),
    "running job": lambda s: s.job_url(s.running_job(min_remaining=8)),
    "RL job": lambda s: s.job_url(RL_TINKER_ID),
    "cancelled job": lambda s: s.job_url(CANCELLED_ID),
    "queued job": lambda s: s.job_url(QUEUED_ID),
    "retry confirmation": lambda s: s.job_url(SFT_OLD_ID) + "/retry",
    "cancel confirmation": lambda s: s.job_url(QUEUED_ID) + "/cancel",
    "404 error page": lambda s: s.job_url(MISSING_JOB),
    "compared jobs": lambda s: s.job_url(SFT_OLD_ID) + f"?compare={FAILED_ID},{CANCELLED_ID},x&find=",
}


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("what", PAGES)
def test_axe_finds_nothing_serious(page: Page, page_log: PageLog, server: Server, what: str,
                                   scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto(PAGES[what](server))
    if what == "404 error page":
        expect(page.get_by_test_id("error-page")).to_be_visible()
        allow_status(page_log, 404)
    wait_for_charts(page)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUND[scheme]
    assert_accessible(page, f"the {what} ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_nothing_serious_on_any_demo_job(page: Page, server: Server, scheme: str) -> None:
    """Every job on the demo's list, demo jobs added after this test was written included."""
    page.emulate_media(color_scheme=scheme)
    page.goto(server.url(SCOPE))
    links = page.get_by_test_id("job-row").locator("td:first-child a").evaluate_all(
        "links => links.map(a => [a.textContent.trim(), a.href])")
    assert len(links) >= 8
    problems = []
    for title, link in links:
        page.goto(link)
        wait_for_charts(page)
        problems += [f"{title}: {problem}" for problem in axe_problems(page)]
    assert not problems, f"axe on the demo's job pages ({scheme}):\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakePlatform]:
    with FakePlatform(api_key=DEFAULT_KEY) as platform:
        add_sample_jobs(platform)
        yield platform


@pytest.fixture(scope="module")
def viewer_server(fake: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A shared dashboard where each person signs in with their own key."""
    logs: Path = tmp_path_factory.mktemp("a11y-viewer")
    server = platform_server(logs, fake.url, "--auth", "viewer", env={"DASHBOARD_SECRET_KEY": "x" * 40})
    yield server
    stop_server(server)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_nothing_serious_on_sign_in(page: Page, page_log: PageLog, viewer_server: Server,
                                              scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    page.goto(viewer_server.url(f"{SCOPE}/{SFT_JOB_ID}"))
    expect(page.get_by_test_id("signin")).to_be_visible()
    assert_accessible(page, f"the sign-in page ({scheme})")

    page.get_by_test_id("signin-key").fill("dn_key_wrong_999")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_be_visible()
    allow_status(page_log, 401)
    assert_accessible(page, f"the sign-in page with its error ({scheme})")

    page.get_by_test_id("signin-key").fill(DEFAULT_KEY)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signout")).to_be_visible()
    wait_for_charts(page)
    assert_accessible(page, f"a job signed in, with the sign-out button ({scheme})")

    page.get_by_test_id("signout").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("Signed out.")).to_be_visible()
    assert_accessible(page, f"the sign-in page after signing out ({scheme})")


# --- the charts follow the scheme ------------------------------------------------------------


def chart_colours(page: Page) -> dict[str, str]:
    """The loss chart's tick-label colour and the card it sits on."""
    return page.evaluate("""() => {
        const chart = document.querySelector('[data-testid=chart-loss]');
        return {
            tick: getComputedStyle(chart.querySelector('.xtick text')).fill,
            grid: getComputedStyle(chart.querySelector('.xgrid')).stroke,
            card: getComputedStyle(chart).backgroundColor,
        };
    }""")


def test_charts_follow_the_colour_scheme_and_switch_with_it(page: Page, server: Server) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(server.job_url(SFT_OLD_ID))
    wait_for_charts(page)
    light = chart_colours(page)
    assert contrast(light["tick"], light["card"]) >= 4.5, light
    # Plotly's own backgrounds are transparent: the chart sits on the card's colour.
    assert page.locator("[data-testid=chart-loss] .main-svg").first.evaluate(
        "svg => getComputedStyle(svg).backgroundColor") == "rgba(0, 0, 0, 0)"

    page.emulate_media(color_scheme="dark")  # the system switches while the page is open
    page.wait_for_function("""before => {
        const tick = document.querySelector('[data-testid=chart-loss] .xtick text');
        return getComputedStyle(tick).fill !== before;
    }""", arg=light["tick"])
    dark = chart_colours(page)
    assert luminance(dark["card"]) < 0.05, dark
    assert contrast(dark["tick"], dark["card"]) >= 4.5, dark
    assert dark["grid"] != light["grid"]
    assert luminance(dark["grid"]) < 0.1, "the grid stays light on a dark card"

    # A dark page opened fresh draws its charts dark from the start.
    page.reload()
    wait_for_charts(page)
    assert chart_colours(page) == dark


# --- a phone and a laptop --------------------------------------------------------------------


def horizontal_overflow(page: Page) -> list[str]:
    """Whether the page scrolls sideways, and the outermost elements that make it.

    The screen's width is the root's clientWidth: on a phone, `innerWidth` grows with a page
    that is too wide (the browser zooms out to fit it), so it cannot be the yardstick.
    """
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth <= width) return [];
        const out = [`page scrollWidth ${document.documentElement.scrollWidth} > ${width}, because of:`];
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            const parent = el.parentElement.getBoundingClientRect();
            if (box.width && box.right > width + 0.5 && parent.right <= width + 0.5)
                out.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(box.right)}`);
        }
        return out.slice(0, 10);
    }""")


def small_text(page: Page) -> list[str]:
    """Visible text set smaller than 12px (Plotly's SVG text included)."""
    return page.evaluate("""() => {
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const el = node.parentElement;
            if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
            if (el.closest('.visually-hidden, [hidden], script, style')) continue;
            const size = parseFloat(getComputedStyle(el).fontSize);
            const text = node.textContent.trim().slice(0, 30);
            if (size < 12) out.push(`${size}px: ${el.tagName.toLowerCase()}.${el.className} "${text}"`);
        }
        return out.slice(0, 10);
    }""")


def small_controls(page: Page) -> list[str]:
    """Visible buttons, button-like links, inputs and selects smaller than 32x32 px."""
    return page.evaluate("""() => {
        const out = [];
        const controls = 'button, a.button, input:not([type=hidden]), select, [data-testid=job-row] a';
        for (let el of document.querySelectorAll(controls)) {
            // a check box is tapped through its label
            if (el.matches('[type=checkbox], [type=radio]') && el.closest('label')) el = el.closest('label');
            const box = el.getBoundingClientRect();
            if (!box.width || !box.height) continue;
            const name = (el.textContent || el.name).trim().slice(0, 20);
            const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
            if (box.height < 32 || box.width < 32)
                out.push(`${el.tagName.toLowerCase()}.${el.className} "${name}" ${size}`);
        }
        return out;
    }""")


def boxes(page: Page, selector: str) -> list[dict[str, float]]:
    """Where each element matching `selector` sits on the screen."""
    return page.locator(selector).evaluate_all(
        "els => els.map(e => { const b = e.getBoundingClientRect();"
        " return {x: b.x, y: b.y, right: b.right, width: b.width}; })")


def assert_phone_friendly(page: Page, what: str) -> None:
    assert not horizontal_overflow(page), f"{what} scrolls sideways: {horizontal_overflow(page)}"
    assert not small_text(page), f"{what} has text under 12px: {small_text(page)}"
    assert not small_controls(page), f"{what} has controls under 32px: {small_controls(page)}"


def assert_stacked(page: Page, selector: str) -> None:
    """The elements sit in one column, each below the last, inside the screen."""
    found = boxes(page, selector)
    assert len(found) >= 2, selector
    width = page.evaluate("document.documentElement.clientWidth")
    assert {round(b["x"]) for b in found} == {round(found[0]["x"])}, (selector, found)
    assert all(a["y"] < b["y"] for a, b in itertools.pairwise(found)), (selector, found)
    assert all(b["right"] <= width for b in found), (selector, found)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_job_works_on_a_phone(open_context: Callable[..., Page], server: Server, scheme: str) -> None:
    page = open_context(color_scheme=scheme, **PHONE)

    page.goto(server.job_url(FAILED_ID))
    for testid in ("job-header", "job-name", "job-status", "job-error", "action-retry"):
        expect(page.get_by_test_id(testid)).to_be_in_viewport()
    assert_phone_friendly(page, "the failed job")
    assert_stacked(page, ".tile")
    assert_accessible(page, f"the failed job on a phone ({scheme})")

    page.goto(server.job_url(SFT_OLD_ID))
    wait_for_charts(page)
    expect(page.get_by_test_id("job-status")).to_be_in_viewport()
    assert_phone_friendly(page, "the completed SFT job")
    assert_stacked(page, "figure.chart")
    assert_stacked(page, ".tile")
    # the logs: an entry's message gets most of the panel's width, not a one-letter column
    entry = page.get_by_test_id("log-entry").last
    message = entry.locator(".message").bounding_box()
    panel = page.get_by_test_id("logs-panel").bounding_box()
    assert message and panel and message["width"] > panel["width"] * 0.7, (message, panel)
    assert_accessible(page, f"the completed SFT job on a phone ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_job_list_works_on_a_phone(open_context: Callable[..., Page], server: Server,
                                       scheme: str) -> None:
    page = open_context(color_scheme=scheme, **PHONE)
    page.goto(server.url(SCOPE))
    expect(page.get_by_test_id("job-list")).to_be_visible()
    assert_phone_friendly(page, "the job list")
    assert_stacked(page, "[data-testid=job-row]")
    # each row says what its values are, since the table head is hidden
    labels = page.get_by_test_id("job-row").first.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels[1:] == ['"Model"', '"Status"', '"Duration"', '"Created"'], labels
    assert_accessible(page, f"the job list on a phone ({scheme})")

    # the search still works with the thumb
    page.get_by_label("Search jobs").fill("sqli")
    page.get_by_role("button", name="Search").tap()
    expect(page).to_have_url(re.compile(r"[?&]q=sqli"))
    expect(page.get_by_test_id("job-row").first).to_be_visible()
    assert not horizontal_overflow(page)


def test_a_laptop_keeps_the_wide_layout(page: Page, server: Server) -> None:
    page.goto(server.job_url(SFT_OLD_ID))
    wait_for_charts(page)
    assert not horizontal_overflow(page)
    tiles = boxes(page, ".tile")
    assert len(tiles) == 4 and len({round(t["y"]) for t in tiles}) == 1, "four tiles in one row"
    charts = boxes(page, "figure.chart")
    assert len({round(c["y"]) for c in charts}) < len(charts), "charts sit side by side"
    logs = boxes(page, "[data-testid=logs-panel]")[0]
    artifacts = boxes(page, "[data-testid=artifacts-card]")[0]
    assert artifacts["x"] > logs["right"], "artifacts beside the logs"
    assert not small_text(page), small_text(page)

    page.goto(server.url(SCOPE))
    headers = page.locator(".job-list thead th")
    expect(headers).to_have_count(5)
    expect(headers.first).to_be_visible()
    rows = boxes(page, "[data-testid=job-row] td")
    assert len({round(c["y"]) for c in rows[:5]}) == 1, "a job's cells sit in one table row"

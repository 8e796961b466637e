"""Logs tools in Chromium: the level filter and search (in the URL, applied by the server),
links to entries (#log-N scrolls to and highlights the entry, loading it when it is older than
the page's window; "link" copies the URL), and the keyboard (e, n, p, f)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from dashboard.sources.demo_jobs import FAILED_ID
from tests.browser.conftest import Server
from tests.browser.tools_job import ENTRIES, ERRORS, JOB_ID, TIMEOUTS, tools_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dashboard serving the 1,500-entry tools job."""
    with tools_server(tmp_path_factory.mktemp("tools-server")) as running:
        yield running


def shown(page: Page) -> list[int]:
    """The data-index of every log entry on screen, in order."""
    return page.locator("[data-testid=log-entry]").evaluate_all(
        "els => els.map(el => Number(el.dataset.index))")


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def selected(page: Page) -> list[int]:
    return page.locator(".log-entry.selected").evaluate_all("els => els.map(el => Number(el.dataset.index))")


def in_view(page: Page, index: int) -> bool:
    """Whether entry `index` is inside the visible part of the logs list and of the window."""
    return page.evaluate("""i => {
        const el = document.getElementById('log-' + i), list = document.getElementById('log-list');
        const r = el.getBoundingClientRect(), l = list.getBoundingClientRect();
        return r.top >= l.top - 1 && r.bottom <= l.bottom + 1 && r.top >= 0 && r.bottom <= innerHeight;
    }""", index)


def expect_selected(page: Page, index: int) -> None:
    expect(page.locator(f"#log-{index}")).to_have_class(re.compile(r"\bselected\b"))
    assert selected(page) == [index]
    assert urlparse(page.url).fragment == f"log-{index}"
    assert in_view(page, index), f"entry {index} is not scrolled into view"


def test_level_filter_and_search_go_in_the_url_and_a_pasted_url_opens_the_same_view(
    page: Page, server: Server
) -> None:
    page.goto(server.job_url(FAILED_ID))
    entries = page.get_by_test_id("log-entry")
    expect(entries).to_have_count(7)
    count = page.get_by_test_id("logs-count")
    expect(count).to_have_text("7 entries")
    expect(page.get_by_test_id("logs-download")).to_be_visible()

    page.get_by_test_id("logs-level-filter").select_option("error")
    expect(entries).to_have_count(2)
    assert shown(page) == [5, 6]
    expect(count).to_have_text("Showing 2 of 7 entries")
    expect(page).to_have_url(re.compile(r"\?level=error$"))

    page.get_by_test_id("logs-search").fill("traceback")
    expect(entries).to_have_count(1)
    assert shown(page) == [6]
    expect(page).to_have_url(re.compile(r"\?level=error&q=traceback$"))
    expect(count).to_have_text("Showing 1 of 7 entries")
    expect(page.get_by_test_id("logs-clear")).to_be_visible()

    # The link, pasted: the same filtered view, from the server.
    pasted = page.url
    page.goto("about:blank")
    page.goto(pasted)
    expect(entries).to_have_count(1)
    assert shown(page) == [6]
    expect(page.get_by_test_id("logs-level-filter")).to_have_value("error")
    expect(page.get_by_test_id("logs-search")).to_have_value("traceback")
    expect(count).to_have_text("Showing 1 of 7 entries")

    page.get_by_test_id("logs-clear").click()
    expect(entries).to_have_count(7)
    assert "level" not in query(page) and "q" not in query(page)
    expect(count).to_have_text("7 entries")
    expect(page.get_by_test_id("logs-clear")).to_be_hidden()


def test_search_looks_through_the_whole_log_not_only_the_loaded_entries(page: Page, tools: Server) -> None:
    page.goto(tools.job_url(JOB_ID))
    assert shown(page) == list(range(ENTRIES - 500, ENTRIES))
    expect(page.locator("#logs-search-scope")).to_contain_text("every entry of this job")
    page.get_by_test_id("logs-search").fill("TIMEOUT")
    page.get_by_test_id("logs-search").press("Enter")
    expect(page.get_by_test_id("log-entry")).to_have_count(len(TIMEOUTS))
    assert shown(page) == list(TIMEOUTS)  # 333 is far older than the 500 the page opened with
    expect(page.get_by_test_id("logs-count")).to_have_text(f"Showing 2 of {ENTRIES:,} entries")


def test_an_anchor_scrolls_to_and_highlights_its_entry_even_one_not_loaded_yet(
    page: Page, tools: Server
) -> None:
    page.goto(tools.job_url(JOB_ID) + "#log-1300")
    expect(page.locator("#log-1300")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, 1300)
    assert page.locator("#log-list").get_attribute("data-following") == "false"

    # Older than the 500 entries the page opens with: loaded around it, with controls either side.
    page.goto(tools.job_url(JOB_ID) + "#log-120")
    expect(page.locator("#log-120")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, 120)
    expect(page.get_by_test_id("logs-load-earlier")).to_contain_text("(70 before these)")
    gap = page.get_by_test_id("logs-load-gap")
    expect(gap).to_contain_text("Load 829 more entries here")
    gap.click()
    expect(page.locator("#log-171")).to_be_attached()
    expect(page.locator("#log-999")).to_be_attached()
    indexes = shown(page)
    assert indexes == sorted(indexes) and len(indexes) == len(set(indexes))
    assert indexes == list(range(70, ENTRIES))

    # A new hash (typed, or a link on the page) goes there too.
    page.evaluate("location.hash = '#log-1450'")
    expect(page.locator("#log-1450")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, 1450)
    expect(page.locator(".log-entry.selected")).to_have_count(1)

    page.evaluate("location.hash = '#log-99999'")
    expect(page.get_by_test_id("log-target-note")).to_have_text(
        f"There is no entry #99999: this job has {ENTRIES:,} entries.")

    # An entry the filter hides says so, rather than showing something else.
    page.goto(tools.job_url(JOB_ID) + "?level=error#log-5")
    expect(page.get_by_test_id("log-target-note")).to_have_text(
        "Entry #5 is hidden by the current filter: clear the filters to see it.")
    assert selected(page) == []


def test_clicking_an_entry_selects_it_in_the_url(page: Page, tools: Server) -> None:
    page.goto(tools.job_url(JOB_ID) + "?level=warning")
    entry = page.locator("#log-1399")
    entry.locator(".message").click()
    expect(entry).to_have_class(re.compile(r"\bselected\b"))
    assert page.url.endswith("?level=warning#log-1399")


def test_copy_link_copies_the_absolute_url_of_this_view_and_entry(page: Page, tools: Server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tools.base_url)
    page.goto(tools.job_url(JOB_ID) + "?level=warning&smooth=0.9")
    entry = page.locator("#log-1349")
    link = entry.get_by_test_id("log-copy-link")
    assert link.evaluate("el => getComputedStyle(el).opacity") == "0"  # revealed on hover / focus
    link.focus()
    assert link.evaluate("el => getComputedStyle(el).opacity") == "1"
    entry.hover()
    link.click()
    expect(link).to_have_text("copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == tools.job_url(JOB_ID) + "?level=warning&smooth=0.9#log-1349"
    assert page.url == copied
    expect(entry).to_have_class(re.compile(r"\bselected\b"))

    page.goto("about:blank")
    page.goto(copied)
    expect(page.locator("#log-1349")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, 1349)
    assert all(level == "warning" or level == "error"
               for level in page.locator("[data-testid=log-entry]").evaluate_all(
                   "els => els.map(el => el.dataset.level)"))


def test_keyboard_e_n_p_walk_the_errors_and_f_toggles_follow(page: Page, tools: Server) -> None:
    page.goto(tools.job_url(JOB_ID))
    help_line = page.get_by_test_id("shortcuts-help")
    expect(help_line).to_be_visible()
    expect(help_line).to_contain_text("first error")
    list_ = page.locator("#log-list")
    expect(list_).to_have_attribute("data-following", "true")

    page.locator("body").press("e")  # the first error is older than the page's window
    expect(page.locator(f"#log-{ERRORS[0]}")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, ERRORS[0])
    page.keyboard.press("n")  # the next one sits in the gap below: loaded too
    expect(page.locator(f"#log-{ERRORS[1]}")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, ERRORS[1])
    page.keyboard.press("n")
    expect(page.locator(f"#log-{ERRORS[2]}")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, ERRORS[2])
    page.keyboard.press("n")  # wraps to the first
    expect(page.locator(f"#log-{ERRORS[0]}")).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("p")  # and back round to the last
    expect(page.locator(f"#log-{ERRORS[2]}")).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("p")
    expect(page.locator(f"#log-{ERRORS[1]}")).to_have_class(re.compile(r"\bselected\b"))
    expect_selected(page, ERRORS[1])

    # Keys typed into a form control are not shortcuts.
    page.get_by_test_id("logs-level-filter").focus()
    page.keyboard.press("n")
    page.keyboard.press("e")
    assert selected(page) == [ERRORS[1]]
    page.locator("body").click(position={"x": 5, "y": 5})

    expect(list_).to_have_attribute("data-following", "false")  # a selected entry holds the view
    page.keyboard.press("f")
    expect(list_).to_have_attribute("data-following", "true")
    assert list_.evaluate("el => el.scrollHeight - el.scrollTop - el.clientHeight < 40")
    expect(page.locator("#jump-latest")).to_be_hidden()
    page.keyboard.press("f")
    expect(list_).to_have_attribute("data-following", "false")
    expect(page.locator("#jump-latest")).to_be_visible()
    page.locator("#jump-latest").click()
    expect(list_).to_have_attribute("data-following", "true")


def test_error_keys_on_the_failed_demo_job(page: Page, server: Server) -> None:
    page.goto(server.job_url(FAILED_ID))
    page.keyboard.press("e")
    expect(page.locator("#log-5")).to_have_class(re.compile(r"\bselected\b"))
    assert page.url.endswith("#log-5")
    page.keyboard.press("n")
    expect(page.locator("#log-6")).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("n")
    expect(page.locator("#log-5")).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("p")
    expect(page.locator("#log-6")).to_have_class(re.compile(r"\bselected\b"))
    assert page.url.endswith("#log-6")


def test_a_filter_on_a_running_job_gets_each_new_matching_entry_once(page: Page, server: Server) -> None:
    job_id = server.running_job(min_remaining=15)
    page.goto(server.job_url(job_id))
    expect(page.get_by_test_id("job-status")).to_have_text("running")
    page.get_by_test_id("logs-search").fill("loss")
    page.get_by_test_id("logs-search").press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=loss$"))
    page.wait_for_function("() => document.getElementById('logs-body').dataset.filter === 'q=loss'")
    first = shown(page)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=log-entry]').length > n", arg=len(first))

    # The job completes; the last poll comes and goes; the list is what the server filters.
    expect(page.get_by_test_id("job-status")).to_have_text(
        "completed", timeout=int((server.run_seconds + 10) * 1000))
    page.wait_for_function("() => !document.querySelector('#logs-poller[hx-get]')", timeout=15_000)
    live = shown(page)
    assert live == sorted(set(live)), "an entry came twice or out of order"
    fresh = server.get(server.job_path(job_id) + "?q=loss")
    assert live == [int(i) for i in re.findall(r'data-index="(\d+)"', fresh)]
    total = re.search(r'data-total="(\d+)"', fresh).group(1)
    expect(page.get_by_test_id("logs-count")).to_have_text(f"Showing {len(live)} of {total} entries")

"""On-call triage in Chromium at 1280x800: each demo failure shows its cause on the first screen,
jump links and chart markers scroll the logs, the ship checklist, the publish helper's model.yaml
and the incident summary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from playwright.sync_api import Locator, Page, expect

from dashboard.sources.demo import (
    CANCELLED_ID,
    FAILED_ID,
    NAN_ID,
    NO_FINAL_ID,
    SFT_NEW_ID,
    SFT_OLD_ID,
    STALLED_ID,
)
from tests.browser.conftest import Server, platform_server, stop_server
from tests.fake_platform import DEFAULT_KEY, FakePlatform

pytestmark = pytest.mark.browser

VIEWPORT_HEIGHT = 800
ALL_DRAWN = """() => {
  const plots = [...document.querySelectorAll('figure.chart .plot')];
  return plots.length > 0 && plots.every(p => p.layout && p.querySelector('.main-svg'));
}"""


def on_first_screen(page: Page, element: Locator) -> None:
    """The element is visible without scrolling: its box lies inside the 1280x800 viewport."""
    expect(element).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    box = element.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT_HEIGHT, (
        f"{element} is at y={box['y']:.0f}..{box['y'] + box['height']:.0f}, below the first screen")


def in_view(page: Page, element: Locator) -> None:
    """The element is scrolled into the viewport (and into its scrolling list)."""
    page.wait_for_function("""(el) => {
      const box = el.getBoundingClientRect(), list = el.closest('.log-list');
      const outer = list ? list.getBoundingClientRect() : {top: 0, bottom: innerHeight};
      return box.height > 0 && box.top >= Math.max(0, outer.top) - 1
        && box.bottom <= Math.min(innerHeight, outer.bottom) + 1;
    }""", arg=element.element_handle())


FIRST_SCREEN = {
    FAILED_ID: [("triage-error", "Training inputs did not produce any usable conversations."),
                ("triage-first-error", "Each dataset row must contain a `messages` list"),
                ("triage-last-checkpoint", "No checkpoint"),
                ("triage-last-step", "no step was recorded")],
    NAN_ID: [("triage-error", "Non-finite loss (NaN) for 50 consecutive steps"),
             ("triage-first-error", "Non-finite loss for 50 consecutive steps (since step 12,001)"),
             ("triage-anomalies", "first NaN/Inf in train/loss at step 12,001"),
             ("triage-last-step", "12,050 of 20,000 planned"),
             ("triage-last-checkpoint", "saved after the first bad step")],
    STALLED_ID: [("triage-stall", "no progress for 14 min; entries usually every 8 s"),
                 ("triage-last-entries", "Tinker sampling request timed out"),
                 ("triage-last-checkpoint", "checkpoint-4-step800")],
    CANCELLED_ID: [("triage-cancelled", "requested at"), ("triage-last-step", "47 of 120 planned"),
                   ("triage-last-checkpoint", "checkpoint-1-step40 (step 40; 7 steps before the last)")],
}


@pytest.mark.parametrize("job_id", list(FIRST_SCREEN))
def test_each_failure_shows_its_cause_on_the_first_screen(page: Page, server: Server, job_id: str) -> None:
    page.goto(server.job_url(job_id))
    card = page.get_by_test_id("triage-card")
    on_first_screen(page, card.locator("h2"))
    for testid, text in FIRST_SCREEN[job_id]:
        line = page.get_by_test_id(testid)
        expect(line).to_contain_text(text)
        on_first_screen(page, line)
    on_first_screen(page, page.get_by_test_id("triage-since-last-log"))
    expect(page.get_by_test_id("triage-since-last-log")).to_contain_text(" ago")
    on_first_screen(page, page.get_by_test_id("copy-incident-summary"))


def test_the_completed_job_with_no_final_checkpoint_says_so_on_the_first_screen(
    page: Page, server: Server
) -> None:
    page.goto(server.job_url(NO_FINAL_ID))
    expect(page.get_by_test_id("ship-verdict")).to_have_text("Not ready to ship")
    on_first_screen(page, page.get_by_test_id("ship-verdict"))
    final = page.locator("[data-testid=ship-item][data-key=final-checkpoint]")
    expect(final).to_have_attribute("data-state", "fail")
    expect(final).to_contain_text("no final checkpoint among 2; the latest is checkpoint-2-step200")
    on_first_screen(page, final)
    diverging = page.locator("[data-testid=ship-item][data-key=eval]")
    expect(diverging).to_have_attribute("data-state", "warn")
    expect(diverging).to_contain_text("the val loss diverges from step 200")
    on_first_screen(page, diverging)


def test_checklist_states(page: Page, server: Server) -> None:
    page.goto(server.job_url(NO_FINAL_ID))
    items = page.get_by_test_id("ship-item")
    expect(items).to_have_count(5)
    states = {i.get_attribute("data-key"): i.get_attribute("data-state") for i in items.all()}
    assert states == {"final-checkpoint": "fail", "trend": "pass", "eval": "warn", "no-errors": "pass",
                      "no-nan": "pass"}
    page.goto(server.job_url(SFT_NEW_ID))
    expect(page.get_by_test_id("ship-verdict")).to_have_text("Ready to ship")
    expect(page.locator("[data-testid=ship-item][data-state=pass]")).to_have_count(5)
    trend = page.locator("[data-testid=ship-item][data-key=trend]")
    expect(trend).to_contain_text("train/loss 1.654 → 0.5285")


def test_jump_links_scroll_the_logs_to_the_entry(page: Page, server: Server) -> None:
    page.goto(server.job_url(NAN_ID))
    first_error = page.get_by_test_id("triage-first-error").locator("a.log-jump")
    href = first_error.get_attribute("href")
    assert href and re.fullmatch(r"#log-\d+", href)
    first_error.click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    entry = page.locator(href)
    expect(entry).to_have_attribute("data-level", "error")
    expect(entry).to_contain_text("Non-finite loss for 50 consecutive steps")
    in_view(page, entry)

    page.evaluate("window.scrollTo(0, 0)")
    last = page.get_by_test_id("triage-last-entries").locator("a.log-jump").last
    last_href = last.get_attribute("href")
    last.click()
    in_view(page, page.locator(last_href))
    expect(page.locator(last_href)).to_contain_text("Training ended with status=failed")


def marker_steps(page: Page) -> dict[str, list[float]]:
    """Each drawn chart's marker lines (Plotly layout shapes), by chart."""
    page.wait_for_function(ALL_DRAWN)
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('figure.chart')]
      .filter(f => f.querySelector('.plot'))
      .map(f => [f.dataset.testid + ':' + f.querySelector('h3').textContent,
                 (f.querySelector('.plot').layout.shapes || []).map(s => s.x0)]))""")


def test_markers_are_at_the_same_step_on_every_chart(page: Page, server: Server) -> None:
    page.goto(server.job_url(NAN_ID))
    listed = page.get_by_test_id("anomaly-marker")
    expect(listed).to_have_count(2)
    steps = [float(m.get_attribute("data-step")) for m in listed.all()]
    assert steps[1] == 12001 and 11940 < steps[0] < 12001
    charts = marker_steps(page)
    assert set(charts) == {"chart-loss:Loss", "chart-val-loss:Validation loss",
                           "chart-learning-rate:Learning rate", "chart:grad norm"}
    for name, shapes in charts.items():
        assert shapes == steps, name

    page.goto(server.job_url(NO_FINAL_ID))
    expect(page.get_by_test_id("anomaly-marker")).to_have_text(["val ↑ at step 200"])
    assert set(map(tuple, marker_steps(page).values())) == {(200,)}


def test_clicking_a_marker_on_a_chart_scrolls_the_logs_to_that_moment(page: Page, server: Server) -> None:
    page.goto(server.job_url(NAN_ID))
    page.wait_for_function(ALL_DRAWN)
    nan = page.locator("[data-testid=anomaly-marker][data-kind=nan]")
    href = nan.get_attribute("href")
    assert href and href.startswith("#log-")
    chart = page.get_by_test_id("chart-loss")
    chart.scroll_into_view_if_needed()
    label = chart.locator(".annotation", has_text="NaN/Inf")
    expect(label).to_have_count(1)
    label.locator(".annotation-text-g").click()
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    entry = page.locator(href)
    expect(entry).to_contain_text("non-finite loss (nan) at step 12,001")
    in_view(page, entry)


def test_the_stalled_card_survives_the_summary_polls(page: Page, server: Server) -> None:
    page.goto(server.job_url(STALLED_ID))
    expect(page.get_by_test_id("triage-stall")).to_be_visible()
    with page.expect_response(re.compile(r"/summary$")):
        pass  # the summary fragment (polled every 3 s) has been swapped in at least once
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("triage-card")).to_have_count(1)
    expect(page.get_by_test_id("triage-stall")).to_contain_text("no progress for")
    expect(page.locator("#oncall")).to_have_count(1)


def test_publish_helper_model_yaml_download_and_the_checkpoint_chooser(page: Page, server: Server) -> None:
    page.goto(server.job_url(SFT_OLD_ID))
    helper = page.get_by_test_id("publish-helper")
    expect(helper).to_contain_text("dn model push ./sqli-agent-sft")
    shown = yaml.safe_load(page.get_by_test_id("model-yaml").inner_text())
    assert shown["name"] == "sqli-agent-sft" and "checkpoint final" in shown["summary"]

    page.get_by_test_id("publish-checkpoint").select_option("2")
    helper.get_by_role("button", name="Use this checkpoint").click()
    expect(page).to_have_url(re.compile(r"\?checkpoint=2#publish$"))
    expect(page.get_by_test_id("publish-path")).to_have_text(re.compile(r"/sampler_weights/check2-step20$"))
    with page.expect_download() as download:
        page.get_by_test_id("model-yaml-download").click()
    assert download.value.suggested_filename == "model.yaml"
    manifest = yaml.safe_load(open(download.value.path(), encoding="utf-8").read())
    assert manifest == {
        "name": "sqli-agent-sft", "version": "0.1.0",
        "summary": "meta-llama/Llama-3.1-8B-Instruct fine-tuned with SFT on "
                   f"dreadnode/sqli-agent-trajectories@1.0.0 (training job {SFT_OLD_ID}, checkpoint "
                   "check2-step20).",
        "base_model": "meta-llama/Llama-3.1-8B-Instruct",
        "dataset_refs": ["dreadnode/sqli-agent-trajectories@1.0.0"], "tags": ["sft", "tinker"]}
    commands = page.get_by_test_id("publish-command")
    expect(commands).to_have_count(5)
    expect(commands.nth(1)).to_contain_text("cat > sqli-agent-sft/model.yaml <<'MODEL_YAML'")
    expect(commands.nth(1).get_by_role("button", name="Copy")).to_be_visible()


def test_copy_incident_summary_writes_markdown_to_the_clipboard(page: Page, server: Server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page.goto(server.job_url(NAN_ID))
    button = page.get_by_test_id("copy-incident-summary")
    button.click()
    expect(button).to_have_text("Copied")
    text = page.evaluate("navigator.clipboard.readText()")
    assert text.startswith(f"**Training job failed: policy-qa-sft-20k** (`{NAN_ID}`)")
    assert "- Error: Non-finite loss (NaN) for 50 consecutive steps; training aborted at step 12,050." in text
    assert "- First bad step: first spike in train/loss at step 11,9" in text
    assert f"- Link: <{server.job_url(NAN_ID)}>" in text
    lines = text.split("Key log lines:\n", 1)[1].splitlines()
    assert lines[0] == "```text" and lines[-1] == "```"
    assert any("ERROR   Non-finite loss for 50 consecutive steps" in line for line in lines)
    page.get_by_test_id("incident-summary").locator("summary").click()
    expect(page.get_by_test_id("incident-summary").locator("pre")).to_have_text(text)


# --- a job that fails while its page is open --------------------------------------------------

WATCHED_ID = "5f0c2a4e-8d1b-4c3a-9e7f-2b6d1a0c9e31"
CAUSE = "RuntimeError: CUDA out of memory while allocating the optimizer state"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, FakePlatform]]:
    """The dashboard on a fake platform holding one healthy running job (recent logs, falling loss)."""
    now = datetime.now(UTC)
    steps = list(range(1, 41))
    with FakePlatform(api_key=DEFAULT_KEY) as fake:
        fake.add_organization("acme")
        fake.add_workspace("acme", "research", is_default=True)
        fake.add_job("acme", "research", {
            "id": WATCHED_ID, "status": "running", "name": "watched-sft",
            "started_at": stamp(now - timedelta(minutes=4)),
            "metrics": {"steps": steps, "train/loss": [2.0 - s / 40 for s in steps]}}, logs=[
            {"timestamp": stamp(now - timedelta(seconds=5 * (40 - s))), "level": "info",
             "message": f"step {s}", "data": {"step": s}} for s in steps])
        server = platform_server(tmp_path_factory.mktemp("watched-server"), fake.url, key=DEFAULT_KEY)
        try:
            yield server, fake
        finally:
            stop_server(server)


def test_it_shows_the_cause_when_a_watched_job_fails(page: Page,
                                                     watched: tuple[Server, FakePlatform]) -> None:
    server, fake = watched
    page.goto(server.job_url(WATCHED_ID))
    expect(page.get_by_test_id("job-status")).to_have_text("running")
    expect(page.get_by_test_id("triage-card")).to_have_count(0)
    now = datetime.now(UTC)
    traceback = f"Traceback (most recent call last):\n  File \"train.py\"\n{CAUSE}"
    fake.append_log(WATCHED_ID, {"timestamp": stamp(now), "level": "error", "data": {"step": 41},
                                 "message": traceback})
    fake.append_log(WATCHED_ID, {"timestamp": stamp(now), "level": "info", "message": "worker exiting"})
    fake.job(WATCHED_ID).update(status="failed", error="Worker exited with code 1", completed_at=stamp(now))
    card = page.get_by_test_id("triage-card")
    expect(card).to_be_visible(timeout=20_000)  # the next summary poll (every 3 s), no reload
    expect(page.get_by_test_id("job-status")).to_have_text("failed")
    on_first_screen(page, card.locator("h2"))
    first_error = page.get_by_test_id("triage-first-error")
    expect(first_error).to_contain_text(CAUSE)
    on_first_screen(page, first_error)
    expect(page.get_by_test_id("triage-error")).to_contain_text("Worker exited with code 1")
    on_first_screen(page, page.get_by_test_id("triage-error"))
    expect(page.get_by_test_id("job-error")).to_have_count(1)  # inside the card, not twice

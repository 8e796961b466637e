"""What a person sees on finished demo jobs and on the job list (one shared server)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from dashboard.sources.demo_jobs import FAILED_ID, RL_TINKER_ID, SFT_OLD_ID, rl_tinker, sft_old
from tests.browser.conftest import SCOPE, Server

pytestmark = pytest.mark.browser

HIDDEN_ARTIFACT_KEYS = ("provider_sandbox_id", "worker_id", "payload_path", "result_path")


def drawn_points(page: Page, testid: str) -> int:
    """How many drawable values (not gaps) the first trace of a chart holds, once Plotly drew it.

    Traces arrive as typed arrays (gaps are NaN); `_fullData` holds them decoded.
    """
    plot = page.locator(f"[data-testid={testid}] .plot")
    expect(plot.locator(".main-svg").first).to_be_attached()
    page.wait_for_function("el => el._fullData && el._fullData.length > 0",
                           arg=plot.element_handle())
    return plot.evaluate("el => Array.from(el._fullData[0].y).filter(Number.isFinite).length")


def test_old_style_sft_job_shows_tiles_sentence_charts_and_clean_artifacts(
    page: Page, server: Server
) -> None:
    metrics = sft_old(time.time()).job["metrics"]
    page.goto(server.job_url(SFT_OLD_ID))

    expect(page.get_by_test_id("job-name")).to_have_text("sqli-agent-sft")
    expect(page.get_by_test_id("job-status")).to_have_text("completed")
    expect(page.get_by_test_id("tile-backend")).to_contain_text("tinker")
    expect(page.get_by_test_id("tile-trainer")).to_contain_text("SFT")
    expect(page.get_by_test_id("tile-dataset")).to_contain_text(
        "dreadnode/sqli-agent-trajectories@1.0.0")
    expect(page.get_by_test_id("tile-duration")).to_contain_text("30m 00s")
    expect(page.get_by_test_id("job-summary")).to_have_text(
        "Training meta-llama/Llama-3.1-8B-Instruct with SFT on "
        "dreadnode/sqli-agent-trajectories@1.0.0 from dreadnode/sqli-agent@1.2.0.")

    expected = {
        "chart-loss": len(metrics["train_loss"]),
        "chart-val-loss": sum(v is not None for v in metrics["val_loss"]),
        "chart-learning-rate": len(metrics["learning_rate"]),
    }
    assert expected == {"chart-loss": 100, "chart-val-loss": 1, "chart-learning-rate": 100}
    for testid, points in expected.items():
        chart = page.get_by_test_id(testid)
        expect(chart).to_be_visible()
        expect(chart).to_have_attribute("data-empty", "false")
        assert drawn_points(page, testid) == points, testid
        expect(chart.get_by_test_id("chart-badge")).to_contain_text(
            re.compile(rf"\b{points:,} points?\b"))

    # The single evaluation is a drawn marker, not an invisible one-point line.
    lone = page.get_by_test_id("chart-val-loss").locator("path.point")
    expect(lone).to_have_count(1)
    expect(lone).to_be_visible()

    card = page.get_by_test_id("artifacts-card")
    keys = [a.get_attribute("data-key") for a in card.get_by_test_id("artifact").all()]
    assert "checkpoints" in keys
    for hidden in HIDDEN_ARTIFACT_KEYS:
        assert hidden not in keys
        expect(card.locator(f"[data-key={hidden}]")).to_have_count(0)
    shown = card.inner_text()  # the closed "raw" details are not part of what a person sees
    for hidden in HIDDEN_ARTIFACT_KEYS:
        assert hidden not in shown
    checkpoints = card.locator("[data-testid=artifact][data-key=checkpoints]")
    expect(checkpoints).to_be_visible()
    expect(checkpoints.locator("li")).to_have_count(len(sft_old(0).job["artifacts"]["checkpoints"]))
    expect(checkpoints).to_contain_text(re.compile(r"tinker://\S+/sampler_weights/final"))


def test_tinker_rl_job_explains_its_empty_reward_chart_and_hides_the_world_token(
    page: Page, server: Server
) -> None:
    token = rl_tinker(0).job["artifacts"]["world_server_auth_token"]
    page.goto(server.job_url(RL_TINKER_ID))

    reward = page.get_by_test_id("chart-reward")
    expect(reward).to_be_visible()
    expect(reward).to_have_attribute("data-empty", "true")
    reason = reward.locator("p.empty")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("train/reward_mean")
    expect(reward.locator(".plot")).to_have_count(0)
    # The summaries the sentence names are on screen above it.
    expect(page.locator("[data-testid=metric-tile][data-key='train/reward_mean']")).to_be_visible()

    goal = page.get_by_test_id("world-goal")
    expect(goal).to_be_visible()
    expect(goal).to_contain_text("Bypass the Mutillidae login form with SQL injection")

    page.get_by_test_id("artifacts-card").locator("summary").click()  # open the raw map too
    expect(page.get_by_test_id("artifacts-card").locator("details pre")).to_be_visible()
    assert token not in page.content()


def test_failed_job_shows_the_error_callout_and_the_error_log_entry(
    page: Page, server: Server
) -> None:
    page.goto(server.job_url(FAILED_ID))

    expect(page.get_by_test_id("job-status")).to_have_text("failed")
    callout = page.get_by_test_id("job-error")
    expect(callout).to_be_visible()
    expect(callout).to_contain_text("Training inputs did not produce any usable conversations.")

    errors = page.locator("[data-testid=log-entry][data-level=error]")
    expect(errors.first).to_be_visible()
    expect(errors.first).to_contain_text(
        "Each dataset row must contain a `messages` list of {role, content} turns.")
    expect(errors.last).to_contain_text("ValueError")
    expect(page.get_by_test_id("action-retry")).to_be_visible()
    expect(page.get_by_test_id("action-cancel")).to_have_count(0)


def test_job_list_links_to_jobs_filters_by_search_and_shows_the_demo_banner(
    page: Page, server: Server
) -> None:
    page.goto(server.url("/"))
    expect(page).to_have_url(server.url(SCOPE))
    expect(page.get_by_test_id("demo-banner")).to_be_visible()

    rows = page.get_by_test_id("job-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 8
    for row in rows.all():
        job_id = row.get_attribute("data-job-id")
        expect(row.locator("a").first).to_have_attribute("href", f"{SCOPE}/{job_id}")

    page.locator(f"[data-testid=job-row][data-job-id='{SFT_OLD_ID}'] a").first.click()
    expect(page).to_have_url(server.job_url(SFT_OLD_ID))
    expect(page.get_by_test_id("job-name")).to_have_text("sqli-agent-sft")
    page.go_back()

    page.get_by_role("searchbox", name="Search jobs").fill("ticket-triage-sft")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"\?q=ticket-triage-sft"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-job-id", FAILED_ID)
    expect(rows.first).to_contain_text("ticket-triage-sft")
    expect(page.get_by_test_id("demo-banner")).to_be_visible()

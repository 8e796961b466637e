"""Flask test-client tests of the on-call parts of the job page and the model.yaml download."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources.demo import (
    CANCELLED_ID,
    FAILED_ID,
    NAN_ID,
    NO_FINAL_ID,
    RUNNING_FIRST_ID,
    SFT_NEW_ID,
    SFT_OLD_ID,
    STALLED_ID,
    DemoSource,
)

JOBS = "/acme/research/training/jobs"


@pytest.fixture(scope="module")
def app() -> Flask:
    # The real clock: the stalled job is stalled relative to the time of the request.
    app = create_app(Settings("demo", organization="acme", workspace="research"), DemoSource(run_seconds=600))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, job_id: str, query: str = "") -> str:
    response = client.get(f"{JOBS}/{job_id}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def hooks(text: str) -> list[str]:
    return re.findall(r'data-testid="([^"]+)"', text)


@pytest.mark.parametrize(("job_id", "reason"), [(FAILED_ID, "failed"), (NAN_ID, "failed"),
                                                (CANCELLED_ID, "cancelled"), (STALLED_ID, "stalled")])
def test_failed_cancelled_and_stalled_jobs_get_the_triage_card_right_after_the_header(client, job_id, reason):
    text = page(client, job_id)
    assert f'data-testid="triage-card" data-reason="{reason}"' in text
    ids = hooks(text)
    assert ids.index("job-summary") < ids.index("triage-card") < ids.index("tile-backend")
    for hook in ("triage-last-step", "triage-last-checkpoint", "triage-since-last-log", "triage-last-entries",
                 "copy-incident-summary", "incident-summary"):
        assert hook in ids, hook
    assert "ship-checklist" not in ids and "publish-helper" not in ids


def test_the_error_is_shown_once_inside_the_card(client):
    for job_id in (FAILED_ID, NAN_ID):
        ids = hooks(page(client, job_id))
        assert ids.count("job-error") == 1
        assert ids.index("triage-error") + 1 == ids.index("job-error")


def test_the_stall_and_the_anomalies_are_on_the_page(client):
    assert "no progress for 14 min; entries usually every 8 s" in page(client, STALLED_ID)
    text = page(client, NAN_ID)
    markers = re.findall(r'data-testid="anomaly-marker" data-kind="(\w+)"\s+data-step="(\d+)"', text)
    assert markers[-1] == ("nan", "12001") and markers[0][0] == "spike"
    assert 'data-testid="triage-first-error"><a class="log-jump" href="#log-' in text


def test_completed_jobs_get_the_checklist_and_the_publish_helper(client):
    text = page(client, NO_FINAL_ID)
    states = dict(re.findall(r'data-testid="ship-item" data-key="([\w-]+)" data-state="(\w+)"', text))
    assert states == {"final-checkpoint": "fail", "trend": "pass", "eval": "warn", "no-errors": "pass",
                      "no-nan": "pass"}
    ids = hooks(text)
    assert ids.index("job-summary") < ids.index("ship-checklist") < ids.index("tile-backend")
    assert "triage-card" not in ids and "publish-helper" in ids
    assert "there is no final checkpoint: the latest one is chosen" in text


# The only parts a polled summary keeps across polls (hx-preserve): small leaves that refresh
# themselves (the "last good run" part) or hold what a person is typing (the compare search).
PRESERVED = {"lastgood", "lastgood-watch", "compare-add"}


def preserved(fragment: str) -> set[str]:
    """The ids of the elements a summary keeps across polls: never the on-call slot or the card."""
    return set(re.findall(r'<[a-z]+ id="([^"]+)"[^>]*hx-preserve', fragment))


def test_a_healthy_running_job_gets_no_card(client):
    ids = hooks(page(client, RUNNING_FIRST_ID))
    assert "triage-card" not in ids and "ship-checklist" not in ids
    fragment = client.get(f"{JOBS}/{RUNNING_FIRST_ID}/summary").get_data(as_text=True)
    assert '<div id="oncall" class="oncall" hidden>' in fragment
    assert preserved(fragment) <= PRESERVED


def test_the_polled_summary_of_a_stalled_job_carries_its_card(client):
    fragment = client.get(f"{JOBS}/{STALLED_ID}/summary").get_data(as_text=True)
    assert 'data-testid="triage-card" data-reason="stalled"' in fragment
    assert preserved(fragment) <= PRESERVED
    assert 'id="incident-summary"' in fragment  # app.js keeps it open across swaps


def test_the_summary_fragment_of_a_failed_job_carries_the_triage_card_and_the_first_error(client):
    response = client.get(f"{JOBS}/{FAILED_ID}/summary")
    assert response.status_code == 286  # terminal: the last poll
    text = response.get_data(as_text=True)
    ids = hooks(text)
    assert 'data-testid="triage-card" data-reason="failed"' in text
    assert ids.index("triage-error") + 1 == ids.index("job-error") and ids.count("job-error") == 1
    first = re.search(r'data-testid="triage-first-error">(.*?)</dd>', text, re.S).group(1)
    assert "Each dataset row must contain a `messages` list" in html.unescape(first)
    copied = html.unescape(re.search(r'data-copy="([^"]*)"[^>]*data-testid="copy-incident-summary"', text,
                                     re.S).group(1))
    assert f"- Link: <http://localhost{JOBS}/{FAILED_ID}>" in copied


def test_the_summary_fragment_of_a_completed_job_carries_its_checklist(client):
    ids = hooks(client.get(f"{JOBS}/{NO_FINAL_ID}/summary").get_data(as_text=True))
    assert "ship-checklist" in ids and "triage-card" not in ids


def test_the_charts_fragment_marks_the_anomalies(client):
    text = html.unescape(client.get(f"{JOBS}/{NAN_ID}/charts").get_data(as_text=True))
    assert text.count('"shapes":[{') == 4  # loss, val loss, learning rate, grad norm
    assert '"x0":12001' in text.replace(".0,", ",")


def test_the_incident_summary_is_in_the_copy_button(client):
    text = page(client, NAN_ID)
    copied = html.unescape(re.search(r'data-copy="([^"]*)"[^>]*data-testid="copy-incident-summary"', text,
                                     re.S).group(1))
    assert copied.startswith(f"**Training job failed: policy-qa-sft-20k** (`{NAN_ID}`)")
    assert f"- Link: <http://localhost{JOBS}/{NAN_ID}>" in copied
    assert "\n```text\n" in copied


def test_the_publish_helper_takes_the_chosen_checkpoint(client):
    text = page(client, SFT_OLD_ID, "?checkpoint=3")
    assert '<option value="3" selected>check3-step30 (step 30)</option>' in text
    assert "checkpoint check3-step30" in html.unescape(text)
    assert f'href="{JOBS}/{SFT_OLD_ID}/model.yaml?checkpoint=3"' in text
    fallback = page(client, SFT_OLD_ID, "?checkpoint=99")
    assert "checkpoint &#39;99&#39; does not exist; the final checkpoint is chosen" in fallback


def test_model_yaml_download(client):
    response = client.get(f"{JOBS}/{SFT_NEW_ID}/model.yaml")
    assert response.status_code == 200
    assert response.mimetype == "text/yaml"
    assert response.headers["Content-Disposition"] == 'attachment; filename="model.yaml"'
    data = yaml.safe_load(response.get_data(as_text=True))
    assert data["name"] == "vuln-explainer-sft-v3" and data["version"] == "0.1.0"
    assert data["base_model"] == "Qwen/Qwen3-8B" and "checkpoint final" in data["summary"]
    first = yaml.safe_load(client.get(f"{JOBS}/{SFT_NEW_ID}/model.yaml?checkpoint=1").get_data(as_text=True))
    assert "checkpoint checkpoint-1-step50" in first["summary"]


@pytest.mark.parametrize(("path", "status"), [
    (f"{SFT_NEW_ID}/model.yaml?checkpoint=9", 404), (f"{SFT_NEW_ID}/model.yaml?checkpoint=x", 404),
    (f"{SFT_NEW_ID}/model.yaml?checkpoint=0", 404), (f"{FAILED_ID}/model.yaml", 404),
    ("not-a-uuid/model.yaml", 404), ("00000000-0000-4000-8000-000000000000/model.yaml", 404),
])
def test_model_yaml_refuses_what_does_not_exist(client, path, status):
    assert client.get(f"{JOBS}/{path}").status_code == status


def test_a_failing_triage_part_does_not_break_the_streamed_page(client, monkeypatch):
    from dashboard.analysis import anomalies, progress

    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(progress, "checkpoint_list", broken)
    monkeypatch.setattr(anomalies, "first_spike", broken)
    text = page(client, NAN_ID)
    ids = hooks(text)
    assert "oncall-failed" in ids and "triage-card" not in ids
    assert "logs-panel" in ids and "artifacts-card" in ids and text.rstrip().endswith("</html>")
    assert ids.count("job-error") == 1  # the summary's callout is back


@pytest.mark.parametrize("chosen", ["²", "٣", "1" * 40, "-1", "0"])
def test_a_checkpoint_number_that_is_not_plain_digits_is_refused_not_a_crash(client, chosen):
    download = client.get(f"{JOBS}/{SFT_NEW_ID}/model.yaml", query_string={"checkpoint": chosen})
    assert download.status_code == 404
    assert "final checkpoint is chosen" in page(client, SFT_NEW_ID, f"?checkpoint={chosen}")

"""A job whose every string is a script payload, in Chromium: nothing runs, nothing is fetched
from an injected URL, and every payload is shown as plain text, on the job page (including its
polled fragments, a chart zoom and the opened raw-data views) and on the job list."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import SCOPE, Server, platform_server, stop_server
from tests.fake_platform import FakePlatform

pytestmark = pytest.mark.browser

KEY = "dn_key_browser_hostile_scripts"
JOB_ID = "0bad0bad-0000-4000-8000-00000000bad0"
INJECTED = "/injected-by-a-payload"
SCRIPT = "<script>window.__pwned=1</script>"
ONERROR = '<img src=x onerror="window.__pwned=1">'
BREAKOUT = '"><svg onload=alert(1)>'
JS_URL = "javascript:alert(1)"
FRAGMENTS = ("/summary", "/logs?after=", "/artifacts", "/charts")


@dataclass
class Listener:
    """A tiny HTTP server that records every request: a payload reaching it was loaded."""

    hits: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> Listener:
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads `hits`."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{INJECTED}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass
class Hostile:
    """The running dashboard, the fake platform behind it, and where an injection would land."""

    server: Server
    fake: FakePlatform
    listener: Listener
    payload: str  # every payload in one string


def hostile_job(payload: str) -> tuple[dict, dict, list[dict]]:
    """A running job (so every fragment polls) with `payload` in every string field."""
    job = {
        "id": JOB_ID, "status": "running", "name": payload, "backend": payload,
        "trainer_type": payload, "algorithm": payload, "model": payload, "world_goal": payload,
        "project_ref": payload, "error": payload, "tags": [payload, SCRIPT],
        "capability": {"name": payload, "version": SCRIPT},
        "dataset_ref": {"name": payload, "version": ONERROR},
        "created_by_user": {"full_name": payload, "username": SCRIPT, "email": BREAKOUT},
        "created_at": "2026-11-20T10:00:00Z", "started_at": "2026-11-20T10:00:05Z",
        "metrics": {
            "steps": [1, 2, 3, 4], "train/loss": [2.0, 1.5, 1.2, 1.0],
            f"train/{SCRIPT}": [0.1, 0.2, 0.3, 0.4],
            f"train/{ONERROR}": [1.0, "NaN", 3.0, {"x": SCRIPT}],
            f"<a href=\"{JS_URL}\">%{{x}}</a>": [4.0, 3.0, 2.0, 1.0],
            f"eval/{BREAKOUT}": 1.5, "train/note": payload,
        },
    }
    artifacts = {
        "world_server_url": JS_URL, "latest_checkpoint": f" JaVaScRiPt:{SCRIPT}",
        "checkpoints": [JS_URL, f"tinker://{BREAKOUT}"], "capability": payload,
        SCRIPT: ONERROR, "nested": {ONERROR: [SCRIPT, payload]},
    }
    logs = [
        {"timestamp": "2026-11-20T10:00:06Z", "level": SCRIPT, "message": payload,
         "data": {SCRIPT: ONERROR, "url": JS_URL, "html": payload}},
        {"timestamp": "2026-11-20T10:00:07Z", "level": "error", "message": ONERROR,
         "data": [SCRIPT, BREAKOUT]},
    ]
    return job, artifacts, logs


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    listener = Listener().start()
    with FakePlatform(api_key=KEY) as fake:
        payload = " ".join((SCRIPT, ONERROR, BREAKOUT, JS_URL, f'<img src="{listener.url}">',
                            f'<script src="{fake.url}{INJECTED}.js"></script>'))
        fake.add_organization("acme")
        fake.add_workspace("acme", "research", is_default=True)
        job, artifacts, logs = hostile_job(payload)
        fake.add_job("acme", "research", job, artifacts=artifacts, logs=logs)
        logs_dir: Path = tmp_path_factory.mktemp("hostile-server")
        server = platform_server(logs_dir, fake.url, key=KEY)
        try:
            yield Hostile(server, fake, listener, payload)
        finally:
            stop_server(server)
            listener.stop()


@dataclass
class Watch:
    """What the page did: dialogs it opened and every request it made."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def watch(page: Page) -> Watch:
    seen = Watch()

    def on_dialog(dialog: object) -> None:
        seen.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    page.on("request", lambda request: seen.requests.append(request.url))
    return seen


def assert_nothing_ran(page: Page, watch: Watch, hostile: Hostile) -> None:
    """No dialog, no flag set by a payload, no element or handler a payload could have made,
    no request anywhere but the dashboard, and nothing reached the injected URLs."""
    assert watch.dialogs == []
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    planted = page.evaluate("""() => ({
        img: document.querySelectorAll('img').length,
        iframe: document.querySelectorAll('iframe, object, embed').length,
        handlers: document.querySelectorAll('[onerror], [onload], [onclick], [onmouseover]').length,
        jsLinks: Array.from(document.querySelectorAll('[href], [src]')).filter(
            e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || '')).length,
        scripts: Array.from(document.scripts).filter(s => !s.src.includes('/static/')).length,
    })""")
    assert planted == {"img": 0, "iframe": 0, "handlers": 0, "jsLinks": 0, "scripts": 0}
    foreign = [url for url in watch.requests
               if not url.startswith((hostile.server.base_url, "data:"))]
    assert foreign == []
    assert not [url for url in watch.requests if INJECTED in url or url.endswith("/x")]
    assert hostile.listener.hits == []
    assert hostile.fake.requests_to(INJECTED) == []


def wait_for_polls(page: Page, hostile: Hostile, seconds: float = 25.0) -> None:
    """Wait until every fragment of the pane has been polled and swapped in at least once."""
    polled: set[str] = set()

    def on_response(response: object) -> None:
        url = response.url  # type: ignore[attr-defined]
        polled.update(f for f in FRAGMENTS if f in url)

    page.on("response", on_response)
    deadline = time.monotonic() + seconds
    while polled != set(FRAGMENTS) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert polled == set(FRAGMENTS), f"only {sorted(polled)} polled\n{hostile.server.output()}"
    page.wait_for_timeout(500)  # let the last swap settle


def test_script_payloads_never_execute_on_the_job_page(
    page: Page, watch: Watch, hostile: Hostile
) -> None:
    page.goto(hostile.server.job_url(JOB_ID))
    payload = hostile.payload

    # Every payload is on screen as the text it is.
    expect(page.get_by_test_id("job-name")).to_have_text(payload)
    expect(page.get_by_test_id("world-goal")).to_contain_text(payload)
    expect(page.get_by_test_id("job-error")).to_contain_text(payload)
    expect(page.get_by_test_id("job-summary")).to_contain_text(payload)
    expect(page.get_by_test_id("tile-backend")).to_contain_text(payload)
    note = page.get_by_test_id("metric-tile").filter(has_text="note")
    expect(note).to_have_attribute("title", re.compile(re.escape(SCRIPT)))
    card = page.get_by_test_id("artifacts-card")
    expect(card.locator(f'[data-testid=artifact][data-key="{SCRIPT}"]')).to_contain_text(ONERROR)
    expect(card.locator("[data-testid=artifact][data-key=world_server_url] dd")).to_have_text(JS_URL)
    expect(page.get_by_test_id("log-entry")).to_have_count(2)
    expect(page.get_by_test_id("log-entry").first).to_contain_text(payload)

    # The charts are drawn, metric keys included, as text.
    for chart in (page.get_by_test_id("chart-loss"),
                  page.locator(f'[data-testid=chart][data-series="train/{SCRIPT}"]')):
        expect(chart.locator(".main-svg").first).to_be_attached()
    odd = page.locator("[data-testid=chart]").filter(has_text="%{x}")
    expect(odd.locator(".main-svg").first).to_be_attached()
    odd.locator(".nsewdrag").first.hover()  # hover labels render the names too

    # Open every raw-data view a person can open.
    for summary in page.locator("details > summary").all():
        summary.click()
    expect(card.locator("details pre")).to_contain_text(SCRIPT)
    expect(page.get_by_test_id("log-entry").first.locator("details pre")).to_contain_text(JS_URL)

    # A zoom fetches the chart again; the live pollers swap every fragment in once more.
    with page.expect_response(lambda r: "/charts/zoom" in r.url):
        page.evaluate("""() => window.Plotly.relayout(
            document.querySelector('[data-testid=chart-loss] .plot'), {'xaxis.range': [1, 3]})""")
    wait_for_polls(page, hostile)
    expect(page.get_by_test_id("job-name")).to_have_text(payload)
    expect(page.get_by_test_id("log-entry")).to_have_count(2)
    assert_nothing_ran(page, watch, hostile)


def test_script_payloads_never_execute_on_the_job_list(
    page: Page, watch: Watch, hostile: Hostile
) -> None:
    page.goto(hostile.server.url(SCOPE))
    row = page.get_by_test_id("job-row")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link")).to_have_text(hostile.payload)
    expect(row).to_contain_text(hostile.payload)  # the model column
    page.get_by_role("searchbox").fill(SCRIPT)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("job-row")).to_have_count(1)
    assert_nothing_ran(page, watch, hostile)
    # Following the link opens the job page, still inert.
    page.get_by_test_id("job-row").get_by_role("link").click()
    expect(page.get_by_test_id("job-name")).to_have_text(hostile.payload)
    assert_nothing_ran(page, watch, hostile)


"""Browser-test fixtures: a real `dashboard serve --demo` on a free port, Debian's Chromium
driven by Playwright, and a page that fails the test on any page error or console error.

Never run `playwright install` here: the browser is `/usr/bin/chromium`, and a machine
without it fails these tests (CI must not silently skip them).
"""

from __future__ import annotations

import html
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests import canary

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCOPE = "/acme/research/training/jobs"
# How long one run of the demo's live job lasts: short, so it completes during the tests.
RUN_SECONDS = 30.0
STARTUP_TIMEOUT = 20.0


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running `python -m dashboard serve --demo`."""

    base_url: str
    run_seconds: float
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def url(self, path: str = "/") -> str:
        """An absolute URL on this server."""
        return self.base_url + path

    def job_path(self, job_id: str) -> str:
        """The path of a job's page in the demo scope."""
        return f"{SCOPE}/{job_id}"

    def job_url(self, job_id: str) -> str:
        """The absolute URL of a job's page."""
        return self.url(self.job_path(job_id))

    def output(self) -> str:
        """What the server printed, for failure messages."""
        out = self.stdout.read_text(errors="replace")
        err = self.stderr.read_text(errors="replace")
        return f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-8000:]}"

    def get(self, path: str) -> str:
        """GET a page's HTML (outside the browser), failing with the server's output."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=10) as response:
                body = response.read()
                canary.check_direct_response(f"GET {path} (outside the browser)",
                                             response.headers.items(), body)
                return body.decode()
        except (urllib.error.URLError, OSError) as exc:
            pytest.fail(f"GET {path} failed: {exc}\n{self.output()}")

    def running_job(self, min_remaining: float, min_elapsed: float = 0.0) -> str:
        """The id of the live demo job, once it has run `min_elapsed` seconds and has at least
        `min_remaining` seconds to go.

        The demo restarts its live job as a new job every `run_seconds`; when the current one
        is about to finish, this waits for the next one to start.
        """
        deadline = time.monotonic() + self.run_seconds + 15
        while time.monotonic() < deadline:
            listing = self.get(f"{SCOPE}?status=running")
            found = re.search(r'data-testid="job-row" data-job-id="([0-9a-f-]{36})"', listing)
            if found:
                job_id = found.group(1)
                page = self.get(self.job_path(job_id))
                since = re.search(r'data-ticking-since="([^"]+)"', page)
                assert since, f"running job {job_id} has no ticking duration tile"
                started = datetime.fromisoformat(html.unescape(since.group(1)).replace("Z", "+00:00"))
                elapsed = time.time() - started.timestamp()
                remaining = self.run_seconds - elapsed
                if remaining >= min_remaining and elapsed >= min_elapsed:
                    return job_id
                if elapsed < min_elapsed and remaining - (min_elapsed - elapsed) >= min_remaining:
                    time.sleep(min_elapsed - elapsed)
                    return job_id
                time.sleep(max(0.2, remaining + 0.3))  # the next generation starts then
            else:
                time.sleep(0.3)
        pytest.fail(f"no running demo job with {min_remaining}s to go\n{self.output()}")


def start_server(logs: Path, run_seconds: float = RUN_SECONDS, *, args: tuple[str, ...] = ("--demo",),
                 extra_env: dict[str, str] | None = None) -> Server:
    """Start the dashboard on a free port and wait for /healthz; fail with its output if not.

    Its stdout and stderr go to files in `logs`; `args` and `extra_env` choose the job source.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREADNODE_")}
    env |= {"DASHBOARD_DEMO_RUN_SECONDS": str(run_seconds), "PYTHONUNBUFFERED": "1",
            "HOME": str(logs)} | (extra_env or {})
    canary.watch_server(args, env)  # its key, if any, is a canary too
    stdout, stderr = logs / "stdout.txt", logs / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard", "serve", *args, "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=err,
        )
    server = Server(f"http://127.0.0.1:{port}", run_seconds, process, stdout, stderr)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited with {process.returncode} before it was ready\n"
                        f"{server.output()}")
        try:
            with urllib.request.urlopen(server.url("/healthz"), timeout=2) as response:
                if response.status == 200 and process.poll() is None:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            pytest.fail(f"the dashboard did not answer /healthz within {STARTUP_TIMEOUT:.0f}s\n"
                        f"{server.output()}")
        time.sleep(0.1)


def platform_server(logs: Path, fake_url: str, *args: str, key: str | None = None,
                    env: dict[str, str] | None = None) -> Server:
    """The dashboard on acme/research of a fake platform, with `key` (viewers bring their own)."""
    scope = ("--server", fake_url, "--organization", "acme", "--workspace", "research")
    return start_server(logs, args=(*scope, *args),
                        extra_env=(env or {}) | ({"DREADNODE_API_KEY": key} if key else {}))


def stop_server(server: Server) -> None:
    """Stop the server process this fixture started."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)
    canary.check_server_output(f"dashboard server {server.base_url}", server.stdout, server.stderr)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh demo server per test module (so each module gets a fresh live job)."""
    running = start_server(tmp_path_factory.mktemp("dashboard-server"))
    try:
        yield running
    finally:
        stop_server(running)


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    """The Playwright driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium. Missing Chromium is a failure, never a skip."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's `chromium` package (`make setup`). "
                    "Browser tests never download a browser and never skip.")
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM),
                                                 args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class PageLog:
    """What went wrong inside the page while a test ran."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"page error: {e}" for e in self.page_errors] + [
            f"console error: {e}" for e in self.console_errors]


PAGE_LOG = pytest.StashKey[PageLog]()


@pytest.fixture
def page_log(request: pytest.FixtureRequest) -> PageLog:
    """Page and console errors of this test's page (clear `console_errors` to allow some)."""
    log = PageLog()
    request.node.stash[PAGE_LOG] = log
    return log


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A fresh 1280x800 page; any uncaught page error or console error fails the test."""
    har = canary.har_path()  # every response the browser gets is checked for the API key
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  record_har_path=har, record_har_content="embed")
    context.set_default_timeout(10_000)
    opened = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            page_log.console_errors.append(f"{message.text} ({where})")

    opened.on("console", on_console)
    opened.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    yield opened
    context.close()
    canary.check_har(har)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a browser test whose page reported errors, even if its assertions passed."""
    log = item.stash.get(PAGE_LOG, None)
    try:
        result = yield
    except BaseException as exc:
        if log and log.problems():
            exc.add_note("the page also reported:\n" + "\n".join(log.problems()))
        raise
    if log and log.problems():
        pytest.fail("the page reported errors:\n" + "\n".join(log.problems()), pytrace=False)
    return result

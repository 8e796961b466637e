"""How the page's script loads: an async module that draws each chart while the page still
streams in, whichever of it and plotly.js (also async) arrives first."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from dashboard.sources.demo import SFT_OLD_ID
from tests.browser.conftest import Server

pytestmark = pytest.mark.browser

ALL_DRAWN = """() => {
    const plots = document.querySelectorAll('#charts .plot');
    return plots.length > 0 && Array.from(plots).every(p => p.classList.contains('js-plotly-plot'));
}"""
HOLD_AT = b'<div class="lower">'  # the job page is sent up to here (its charts), then held


class HeldPage:
    """A proxy in front of the dashboard that sends the job page up to its logs panel and holds
    the rest until `release`: the page is still loading (streaming) while the test looks."""

    def __init__(self, upstream: str) -> None:
        self.released = threading.Event()
        target, released = urlparse(upstream), self.released

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                skip = {"host", "accept-encoding", "connection"}
                conn.request("GET", self.path, headers={k: v for k, v in self.headers.items()
                                                        if k.lower() not in skip})
                response = conn.getresponse()
                body = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(name, value)
                self.end_headers()  # HTTP/1.0: the body ends when the connection closes
                page = "/training/jobs/" in self.path
                head, held, rest = body.partition(HOLD_AT) if page else (body, b"", b"")
                self.wfile.write(head)
                self.wfile.flush()
                if held:
                    released.wait(20)
                self.wfile.write(held + rest)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def held(server: Server) -> Iterator[HeldPage]:
    proxy = HeldPage(server.base_url)
    yield proxy
    proxy.close()


def test_charts_are_drawn_while_the_page_still_streams_in(page: Page, server: Server, held: HeldPage) -> None:
    page.goto(held.url + server.job_path(SFT_OLD_ID), wait_until="commit")
    page.wait_for_function(ALL_DRAWN, timeout=20_000)
    assert page.evaluate("document.readyState") == "loading"
    assert page.get_by_test_id("log-entry").count() == 0  # not sent yet
    held.released.set()
    expect(page.get_by_test_id("log-entry").first).to_be_visible()
    page.wait_for_function("document.readyState === 'complete'")
    expect(page.locator("html")).to_have_class("dn-js")
    expect(page.get_by_test_id("shortcuts-help")).to_be_visible()


@pytest.mark.parametrize("late", ["**/vendor/plotly-basic-*", "**/static/js/main.js*"])
def test_the_charts_are_drawn_whichever_script_arrives_last(page: Page, server: Server, late: str) -> None:
    held: list[Route] = []
    page.route(late, lambda route: held.append(route))
    page.goto(server.job_url(SFT_OLD_ID), wait_until="domcontentloaded")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # the other script has run by now
    assert len(held) == 1
    assert page.locator("#charts .plot.js-plotly-plot").count() == 0
    held[0].continue_()
    page.wait_for_function(ALL_DRAWN)
    expect(page.locator("html")).to_have_class("dn-js")
    expect(page.get_by_test_id("shortcuts-help")).to_be_visible()

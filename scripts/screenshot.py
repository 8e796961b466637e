"""Take the README's screenshot of the job pane: serve the demo, open a job, save a PNG."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    """Serve the demo, screenshot one job's pane, stop the server."""
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--status", default="running", help="status of the demo job to show")
    args.add_argument("--out", default="docs/screenshot.png")
    args.add_argument("--wait", type=float, default=20.0, help="seconds to let the running job grow")
    opts = args.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dashboard", "serve", "--demo", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(opts.wait)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800}, color_scheme="light")
            page.goto(base + "/")
            page.locator(f"[data-testid=job-row]:has-text('{opts.status}') a").first.click()
            page.wait_for_selector("[data-testid=chart-loss] .main-svg")
            page.wait_for_timeout(500)
            Path(opts.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=opts.out, full_page=True)
            browser.close()
        print(f"wrote {opts.out}")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the dashboard on big jobs against a naive baseline measured in the same run.

    python scripts/benchmark.py            # full size: 1,000,000 steps, 100,000 log entries
    python scripts/benchmark.py --small    # the quick version CI runs so this cannot rot

It generates synthetic jobs, serves them from the fake platform (tests/fake_platform.py) with
configurable latency, runs the real dashboard against it, measures every figure of the
"big jobs" targets for the dashboard and for the naive way, prints a table and writes it to
docs/BENCHMARKS.md (or --out). Timings are medians; ratios compare numbers from this run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import http.client
import io
import math
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import plotly.graph_objects as go

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard import create_app  # noqa: E402
from dashboard.columns import Column, column  # noqa: E402
from dashboard.config import Settings  # noqa: E402
from dashboard.models import Job  # noqa: E402
from dashboard.sources import load_pane  # noqa: E402
from dashboard.sources.platform import PlatformSource  # noqa: E402
from dashboard.viewmodels.charts import chart_for, plan_charts  # noqa: E402
from dashboard.viewmodels.pane import PageLinks, job_pane, page_head  # noqa: E402
from tests.fake_platform import FakePlatform  # noqa: E402

KEY = "dn_key_benchmark"
ORG, WS = "acme", "research"
BIG_ID = "b1b1b1b1-0000-4000-8000-000000000001"
LOGS_ID = "b1b1b1b1-0000-4000-8000-000000000002"
SMALL_ID = "b1b1b1b1-0000-4000-8000-000000000003"
LIVE_ID = "b1b1b1b1-0000-4000-8000-000000000004"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
EXTRA_SERIES = ("train/grad_norm", "train/tokens_per_second", "train/perplexity", "train/kl",
                "train/entropy")
ALL_DRAWN = """() => {
  const plots = [...document.querySelectorAll('figure.chart .plot')];
  return plots.length > 0 && plots.every(p => p.querySelector('.main-svg') && p.data);
}"""


# ---- synthetic jobs -------------------------------------------------------------------------

def big_sft_job(steps: int) -> dict[str, Any]:
    """A completed SFT job with `steps` steps: 8 series, a one-step spike and three NaNs."""
    rng = random.Random(7)
    spike = steps // 2
    loss = [round(2.5 * math.exp(-i / (steps / 4)) + 0.3 + rng.random() * 0.05, 5)
            for i in range(steps)]
    loss[spike] = 25.0
    for i in (steps // 3, steps // 3 + 1, 2 * steps // 3):
        loss[i] = float("nan")
    metrics: dict[str, Any] = {
        "steps": list(range(1, steps + 1)),
        "train_loss": loss,
        "learning_rate": [round(1e-4 * min(1.0, (i + 1) / 1000), 9) for i in range(steps)],
        "val_loss": [round(loss[i] + 0.1, 5) if i % 1000 == 999 else None for i in range(steps)],
        "train/steps": steps, "train/loss_last": loss[-1], "eval/loss": 0.42,
    }
    for n, key in enumerate(EXTRA_SERIES):
        metrics[key] = [round(n + 1 + math.sin(i / 5000) + rng.random() * 0.1, 4) for i in range(steps)]
    return job_payload(BIG_ID, "big-sft-1m", "completed", metrics)


def job_payload(job_id: str, name: str, status: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """A TrainingJob payload around some metrics."""
    now = datetime.now(UTC)
    return {
        "id": job_id, "organization_id": "o", "workspace_id": "w", "status": status, "name": name,
        "backend": "tinker", "trainer_type": "sft", "model": "Qwen/Qwen3-8B",
        "dataset_ref": {"name": "bench-data", "version": "1"},
        "capability": {"name": "bench", "version": "1.0.0"}, "config": {}, "metrics": metrics,
        "artifacts": {}, "tags": [], "error": None,
        "created_at": (now - timedelta(hours=30)).isoformat(),
        "started_at": (now - timedelta(hours=29)).isoformat(),
        "completed_at": None if status == "running" else now.isoformat(),
    }


def log_entries(count: int, start: datetime | None = None) -> list[dict[str, Any]]:
    """`count` realistic log entries."""
    start = start or datetime(2026, 11, 20, 10, tzinfo=UTC)
    return [{"timestamp": (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
             "level": "warning" if i % 97 == 0 else "info",
             "message": f"step {i} loss={2.0 / (1 + i / 1000):.4f}",
             "data": {"step": i, "loss": round(2.0 / (1 + i / 1000), 4)}} for i in range(count)]


# ---- servers --------------------------------------------------------------------------------

def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dashboard:
    """The dashboard as a real server process pointed at the fake platform."""

    def __init__(self, fake: FakePlatform, cache_ttl: float = 1.0, args: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        environ = os.environ | {"DREADNODE_SERVER": fake.url, "DREADNODE_API_KEY": KEY,
                                "DREADNODE_ORGANIZATION": ORG, "DREADNODE_WORKSPACE": WS,
                                "DASHBOARD_CACHE_TTL": str(cache_ttl), "HOME": tempfile.mkdtemp()}
        self.log = tempfile.TemporaryFile()
        args = args or ["--workers", "1", "--worker-class", "gthread", "--threads", "32", "--timeout", "300"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{self.port}",
             "dashboard:create_app()"], cwd=ROOT, env=environ | (env or {}), stdout=self.log,
            stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError("the dashboard died:\n" + self.log.read().decode(errors="replace"))
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the dashboard did not start in 30 s")

    def job_url(self, job_id: str) -> str:
        """The job page's URL."""
        return f"{self.url}/{ORG}/{WS}/training/jobs/{job_id}"

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        self.process.wait(timeout=10)


def serve_fixed(fake: FakePlatform, job: dict[str, Any], logs: list[dict[str, Any]]) -> None:
    """Make the fake answer one job's three reads with pre-encoded bytes (as a real API would)."""
    base = f"/training/jobs/{job['id']}"
    fake.fail(base + "/logs", 200, orjson.dumps({"items": logs}))
    fake.fail(base + "/artifacts", 200, orjson.dumps({"artifacts": {"checkpoints": []}}))
    fake.fail(base, 200, orjson.dumps(job))
    fake.add_job(ORG, WS, {k: v for k, v in job.items() if k != "metrics"})


# ---- the naive way --------------------------------------------------------------------------

def naive_figures(job: Job) -> list[str]:
    """Every point of every chart through go.Figure(...).to_json(), as a naive page would."""
    out = []
    for chart in (chart_for(job, plan) for plan in plan_charts(job)):
        fig = go.Figure()
        for item in chart.series:
            ys = [None if math.isnan(v) else v for v in item.y.tolist()]
            fig.add_trace(go.Scatter(x=item.x.tolist(), y=ys, name=item.key))
        out.append(fig.to_json())
    return out


def naive_html(figures: list[str]) -> bytes:
    """A page drawing the naive figures with the app's own plotly.js and script (js/main.js)."""
    from html import escape

    charts = "".join(f'<figure class="chart"><div class="plot" data-figure="{escape(f)}"></div></figure>'
                     for f in figures)
    return ('<!doctype html><html><head><script src="vendor/plotly-basic-4.1.1.min.js" defer></script>'
            f'<script type="module" src="js/main.js"></script></head><body>{charts}</body></html>').encode()


def serve_naive(fake: FakePlatform) -> tuple[ThreadingHTTPServer, str]:
    """The naive page as a server: per request it reads the job upstream, puts every point
    through go.Figure(...).to_json() and sends the page (gzip); plus the app's scripts."""
    source = PlatformSource(Settings("platform", server=fake.url, api_key=KEY))

    class Naive(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                body, kind = gzip.compress(b'{"status": "ok"}'), "application/json"
            elif self.path.startswith("/job"):
                job = Job.from_api(source.get_job(ORG, WS, BIG_ID))
                body = gzip.compress(naive_html(naive_figures(job)), 6)
                kind = "text/html"
            else:
                body = gzip.compress((ROOT / "static" / self.path.lstrip("/")).read_bytes(), 6)
                kind = "text/javascript"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            """Say nothing."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Naive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# ---- measurements ---------------------------------------------------------------------------

def median_time(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict[str, str]]:
    """One GET with gzip accepted: status, body as sent on the wire, headers."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                 headers={"Accept-Encoding": "gzip"} | (headers or {}))
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body, {k.lower(): v for k, v in response.getheaders()}


def ttfb(url: str) -> float:
    """Seconds to the first byte of a GET."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    start = time.perf_counter()
    conn.request("GET", parts.path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    first = time.perf_counter() - start
    response.read()
    conn.close()
    return first


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    target: str
    ours: str
    naive: str
    ratio: str
    ok: bool | None


def build_times(fake: FakePlatform, repeat: int, naive_repeat: int) -> dict[str, float | Job]:
    """Server time to build the job page from the parsed upstream job: ours with the cached job's
    arrays (warm, and cold: arrays nothing was derived from yet), the list way (series held as
    Python lists, turned into arrays on every request, as before), and naive."""
    settings = Settings("platform", server=fake.url, api_key=KEY, organization=ORG, workspace=WS)
    source = PlatformSource(settings)
    pane = load_pane(source, ORG, WS, BIG_ID)  # fetched and parsed once, outside the timing
    app = create_app(settings, source)
    listed = dataclasses.replace(pane.job, metrics={
        k: v.y.tolist() if isinstance(v, Column) else v for k, v in pane.job.metrics.items()})

    def build(job: Job) -> None:
        with app.test_request_context(f"/{ORG}/{WS}/training/jobs/{BIG_ID}"):
            from flask import render_template

            base = f"/{ORG}/{WS}/training/jobs/{BIG_ID}"
            links = PageLinks(base, f"http://localhost{base}", BIG_ID)
            render_template("job.html", org=ORG, workspace=WS, head=page_head(job),
                            panes=[job_pane(dataclasses.replace(pane, job=job), links, datetime.now(UTC))])

    colds = []
    for _ in range(repeat):  # fresh copies of the arrays: nothing derived from them is remembered
        fresh = dataclasses.replace(pane.job, metrics={k: column(v.y.tolist()) if isinstance(v, Column) else v
                                                       for k, v in pane.job.metrics.items()})
        start = time.perf_counter()
        build(fresh)
        colds.append(time.perf_counter() - start)
    build(pane.job)
    return {"warm": median_time(lambda: build(pane.job), repeat), "cold": statistics.median(colds),
            "lists": median_time(lambda: build(listed), max(1, repeat // 2)),
            "naive": median_time(lambda: naive_figures(pane.job), naive_repeat), "job": pane.job}


def browser_times(urls: dict[str, str], repeat: int, timeout_s: float) -> dict[str, float | None]:
    """Median seconds from navigation to every chart drawn, per URL (None: timed out)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    results: dict[str, float | None] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, url in urls.items():
            times: list[float] = []
            for _ in range(repeat if name != "naive" else 1):
                time.sleep(1.1)  # past the upstream cache's lifetime: a cold page every time
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                # A tab already on the site (as after the job list), so Chromium's start-up of a
                # renderer for the origin is not counted; the HTTP cache stays cold.
                page.goto(origin(url) + "/healthz")
                start = time.perf_counter()
                try:
                    page.goto(url, timeout=timeout_s * 1000)
                    page.wait_for_function(ALL_DRAWN, timeout=timeout_s * 1000, polling=50)
                    times.append(time.perf_counter() - start)
                except PlaywrightTimeout:
                    times = []
                    page.close()
                    break
                page.close()
            results[name] = statistics.median(times) if times else None
        browser.close()
    return results


def origin(url: str) -> str:
    """`http://host:port` of a URL."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def transfer_sizes(url: str, repeat_count: int) -> tuple[int, int, int, int]:
    """Bytes on the wire for a first and a repeat visit in Chromium; the logs panel's DOM size
    and median time to open."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        client = context.new_cdp_session(page)
        client.send("Network.enable")
        received: list[float] = []
        client.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
        page.goto(url)
        page.wait_for_function(ALL_DRAWN, timeout=60_000)
        page.wait_for_timeout(300)
        first = int(sum(received))
        received.clear()
        page.goto(url)
        page.wait_for_function(ALL_DRAWN, timeout=60_000)
        page.wait_for_timeout(300)
        repeat = int(sum(received))
        opens, logs_dom = [], 0
        for _ in range(repeat_count):
            logs_page = browser.new_page(viewport={"width": 1280, "height": 800})  # empty HTTP cache
            logs_page.goto(origin(url) + "/healthz")  # a tab already on the site, as in browser_times
            time.sleep(1.1)  # a cold upstream cache
            start = time.perf_counter()
            logs_page.goto(url.replace(BIG_ID, LOGS_ID), wait_until="commit")
            logs_page.locator("[data-testid=log-entry]").last.wait_for()
            opens.append(time.perf_counter() - start)
            logs_page.wait_for_load_state("domcontentloaded")  # the whole panel, not the part parsed so far
            logs_dom = logs_page.locator("[data-testid=log-entry]").count()
            logs_page.close()
        logs_open = statistics.median(opens)
        browser.close()
    return first, repeat, logs_dom, int(logs_open * 1000)


def poll_load(dashboard: Dashboard, fake: FakePlatform, viewers: int, seconds: float) -> float:
    """Upstream logs calls per second while `viewers` browsers poll one running job's logs."""
    stop = time.monotonic() + seconds
    url = dashboard.job_url(LIVE_ID) + "/logs?after=0"
    before = len(fake.requests_to(f"{LIVE_ID}/logs"))

    def viewer() -> None:
        time.sleep(random.random() * 2)
        while time.monotonic() < stop:
            get(url)
            time.sleep(2)

    threads = [threading.Thread(target=viewer) for _ in range(viewers)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (len(fake.requests_to(f"{LIVE_ID}/logs")) - before) / (time.monotonic() - start)


def run(args: argparse.Namespace) -> list[Row]:
    """Measure everything; return the table rows."""
    rows: list[Row] = []
    print(f"generating a {args.steps:,}-step job and {args.logs:,} log entries…", flush=True)
    big = big_sft_job(args.steps)
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization(ORG)
        fake.add_workspace(ORG, WS, is_default=True)
        serve_fixed(fake, big, log_entries(50))
        serve_fixed(fake, job_payload(LOGS_ID, "many-logs", "completed", {}), log_entries(args.logs))
        small = job_payload(SMALL_ID, "small-sft", "completed",
                            {k: v[:1000] if isinstance(v, list) else v
                             for k, v in big_sft_job(1000)["metrics"].items()})
        fake.add_job(ORG, WS, small, logs=log_entries(200))
        fake.add_job(ORG, WS, job_payload(LIVE_ID, "live", "running", {}), logs=log_entries(100))
        del big

        print("server build time (ours vs naive)…", flush=True)
        builds = build_times(fake, args.repeat, args.naive_repeat)
        job = builds["job"]
        assert isinstance(job, Job)
        ours_build, cold_build, list_build, naive_build = (
            float(builds[k]) for k in ("warm", "cold", "lists", "naive"))  # type: ignore[arg-type]
        rows.append(Row("server time to build the big job's page (parsed job in hand)", "≤ 10 % of naive",
                        f"{ours_build * 1000:,.0f} ms", f"{naive_build * 1000:,.0f} ms",
                        f"{ours_build / naive_build:.1%}", ours_build <= 0.10 * naive_build))
        rows.append(Row("the same, against series held as lists (the way before arrays)",
                        "≤ 10 % of the list way", f"{ours_build * 1000:,.0f} ms",
                        f"{list_build * 1000:,.0f} ms (lists)", f"{ours_build / list_build:.1%}",
                        ours_build <= 0.10 * list_build))
        rows.append(Row("the same, first build from fresh arrays (nothing derived yet)",
                        "≤ 10 % of the list way", f"{cold_build * 1000:,.0f} ms",
                        f"{list_build * 1000:,.0f} ms (lists)", f"{cold_build / list_build:.1%}",
                        cold_build <= 0.10 * list_build))

        dashboard = Dashboard(fake)
        uncached = Dashboard(fake, cache_ttl=0)
        naive_server = None
        try:
            print("chart bytes…", flush=True)
            status, body, _headers = get(dashboard.job_url(BIG_ID))
            assert status == 200, status
            naive_gz = len(gzip.compress(naive_html(naive_figures(job)), 6))
            rows.append(Row("bytes to draw the big job's charts (page + chart data, gzip)", "≤ 300 KB",
                            kb(len(body)), kb(naive_gz), f"{len(body) / naive_gz:.1%}",
                            len(body) <= 300_000))

            print("Chromium: navigation to every chart drawn…", flush=True)
            naive_server, naive_base = serve_naive(fake)
            times = browser_times({"ours": dashboard.job_url(BIG_ID), "naive": naive_base + "/job"},
                                  args.repeat, args.browser_timeout)
            ours_nav, naive_nav = times["ours"], times["naive"]
            naive_text = f"{naive_nav:.2f} s" if naive_nav else f"> {args.browser_timeout:.0f} s (gave up)"
            speedup = (naive_nav or args.browser_timeout) / ours_nav if ours_nav else 0
            rows.append(Row("Chromium: navigation → all charts drawn (big job)", "≤ 1 s and ≥ 5× faster",
                            f"{ours_nav:.2f} s" if ours_nav else "timed out", naive_text,
                            f"{'≥ ' if not naive_nav else ''}{speedup:.1f}× faster",
                            bool(ours_nav and ours_nav <= 1 and speedup >= 5)))

            print("time to first byte with upstream latency…", flush=True)
            fake.latency = args.latency
            settings = Settings("platform", server=fake.url, api_key=KEY)
            source = PlatformSource(settings)
            sequential = median_time(lambda: [source.get_job(ORG, WS, SMALL_ID),
                                              source.get_artifacts(ORG, WS, SMALL_ID),
                                              source.get_logs(ORG, WS, SMALL_ID)], 3)
            firsts = []
            for _ in range(5):
                time.sleep(1.1)  # past the cache's lifetime: every read goes upstream
                firsts.append(ttfb(dashboard.job_url(SMALL_ID)))
            first = statistics.median(firsts)
            rows.append(Row(f"job page time to first byte, {args.latency * 1000:.0f} ms upstream latency",
                            "≤ 450 ms", f"{first * 1000:.0f} ms",
                            f"{sequential * 1000:.0f} ms (3 reads in turn)",
                            f"{first / sequential:.0%}", first <= 0.45))
            fake.latency = 0.0

            print(f"{args.viewers} viewers polling one running job…", flush=True)
            stop_growing = threading.Event()

            def grow() -> None:
                n = 100
                while not stop_growing.wait(0.5):
                    fake.append_log(LIVE_ID, log_entries(1, datetime.now(UTC))[0] | {"message": f"e{n}"})
                    n += 1

            grower = threading.Thread(target=grow, daemon=True)
            grower.start()
            shared = poll_load(dashboard, fake, args.viewers, args.poll_seconds)
            unshared = poll_load(uncached, fake, args.viewers, args.poll_seconds)
            stop_growing.set()
            rows.append(Row(f"upstream logs calls/s, {args.viewers} browsers polling one job",
                            "≈ 1 per s", f"{shared:.2f}/s", f"{unshared:.2f}/s (no sharing)",
                            f"{shared / unshared:.0%}", shared <= 1.2))

            print("logs…", flush=True)
            time.sleep(1.6)  # the running job's logs have stopped growing; let the cache expire
            _, empty, _ = get(dashboard.job_url(LIVE_ID) + f"/logs?after={len(fake.logs[LIVE_ID])}")
            rows.append(Row("logs poll of a running job that finds nothing new (bytes)", "≤ 1 KB",
                            f"{len(empty)} B", "—", "—", len(empty) <= 1024))
            print("first and repeat visit in Chromium…", flush=True)
            first_visit, repeat_visit, logs_dom, logs_open_ms = transfer_sizes(
                dashboard.job_url(BIG_ID), args.repeat)
            rows.append(Row(f"logs panel of a {args.logs:,}-entry job: entries in the DOM", "≤ 5,000",
                            f"{logs_dom:,}", f"{args.logs:,} (all)", "—", logs_dom <= 5000))
            rows.append(Row(f"logs panel of a {args.logs:,}-entry job opens", "≤ 1 s",
                            f"{logs_open_ms} ms", "—", "—", logs_open_ms <= 1000))
            rows.append(Row("first visit, total transfer (compressed)", "≤ 700 KB", kb(first_visit), "—",
                            "—", first_visit <= 700_000))
            rows.append(Row("repeat visit, total transfer", "≤ 50 KB", kb(repeat_visit), "—", "—",
                            repeat_visit <= 50_000))
        finally:
            dashboard.stop()
            uncached.stop()
            if naive_server:
                naive_server.shutdown()
    return rows


SECTION = re.compile(r"<!-- (\w+) -->.*?<!-- /\1 -->", re.S)


def write_section(path: Path, name: str, text: str) -> None:
    """Put `text` into BENCHMARKS.md between `<!-- name -->` markers (replaced, else appended)."""
    block = f"<!-- {name} -->\n{text.strip()}\n<!-- /{name} -->"
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    found = [m for m in SECTION.finditer(current) if m.group(1) == name]
    if found:
        current = current[: found[0].start()] + block + current[found[0].end():]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


def captured(run: Callable[[], int], path: Path, name: str, title: str, command: str) -> int:
    """Run a benchmark that prints its figures, and keep what it printed as a section."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run()
    sys.stdout.write(buffer.getvalue())
    write_section(path, name, f"## {title}\n\nMade by `{command}`:\n\n```\n{buffer.getvalue().strip()}\n```")
    return code


def kb(size: float) -> str:
    """Bytes as KB (1 KB = 1,000 bytes)."""
    return f"{size / 1000:,.1f} KB"


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = ["| measure | target | dashboard | naive baseline | ratio | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        met = "—" if r.ok is None else ("yes" if r.ok else "**no**")
        lines.append(f"| {r.measure} | {r.target} | {r.ours} | {r.naive} | {r.ratio} | {met} |")
    return "\n".join(lines)


def main() -> int:
    """Parse the options, run, print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="small sizes, for CI")
    parser.add_argument("--steps", type=int, help="steps of the big job (default 1,000,000)")
    parser.add_argument("--logs", type=int, help="entries of the logs job (default 100,000)")
    parser.add_argument("--latency", type=float, default=0.3, help="upstream latency, s")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--poll-seconds", type=float, help="how long the viewers poll")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    parser.add_argument("--naive-repeat", type=int, help="runs of the naive build (it is slow)")
    parser.add_argument("--browser-timeout", type=float, default=120.0)
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args()
    args.steps = args.steps or (20_000 if args.small else 1_000_000)
    args.logs = args.logs or (6_000 if args.small else 100_000)
    args.poll_seconds = args.poll_seconds or (4.0 if args.small else 20.0)
    args.naive_repeat = args.naive_repeat or (3 if args.small else 1)
    if args.small:
        args.repeat = min(args.repeat, 2)
        args.viewers = min(args.viewers, 10)
    rows = run(args)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"# Benchmarks\n\nMade by `{' '.join(['python', 'scripts/benchmark.py', *sys.argv[1:]])}` on "
            f"{when} ({machine}).\nBig job: {args.steps:,} steps, 8 series; logs job: {args.logs:,} "
            f"entries; medians of {args.repeat} runs (naive build: {args.naive_repeat}).\n"
            "Browser timings: Debian's Chromium, headless, 1280×800, an empty HTTP cache and a cold "
            "upstream cache every run, from a tab already on the site (as after the job list). The "
            "naive page is served per request the naive way: every point through "
            "`go.Figure(...).to_json()`.\n\n"
            f"{table(rows)}\n")
    print("\n" + text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = "".join(f"\n{m.group(0)}\n" for m in SECTION.finditer(out.read_text(encoding="utf-8"))) \
        if out.exists() else ""  # the other scripts' sections (memory, compare, lastgood) stay
    out.write_text(text + kept, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

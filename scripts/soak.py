"""Soak test: the production server under a bounded load of live viewers, on loopback.

    python scripts/soak.py                      # 60 s, 50 + 10 viewers; writes docs/RELIABILITY.md
    python scripts/soak.py --seconds 8 --viewers 10 --big-viewers 2 --check --out /tmp/r.md

It starts the fake platform (tests/fake_platform.py) with a running job whose logs and metrics
grow (one entry and one step every 0.5-1 s) and a completed 1,000,000-step SFT job (the
benchmark's), then gunicorn exactly as the Procfile's `web:` line runs it (only the bind host
becomes 127.0.0.1). Viewers behave like browser tabs:

- each of `--viewers` opens the running job's page (every byte, and its static files), then
  polls what the page polls at the page's pace: summary every 3 s, logs?after=N every 2 s
  (following the cursor each answer carries), artifacts and charts every 10 s; the next poll
  of a fragment is scheduled when its answer is in, as htmx and the page's script do;
- each of `--big-viewers` opens the big job's page, makes the page's one last logs poll, then
  every 10-20 s zooms into a random range of a random chart (one time in three it fetches the
  charts fragment instead).

After `--seconds` the running job completes; its viewers go on until every poller has had
its last answer (HTTP 286), so each viewer's log entries can be checked against the job's
final list: every position from the page's first on, once. Measured: every request's status
and latency, the server's memory (VmRSS of the gunicorn master and workers, every second),
CPU, and the upstream calls per endpoint. The results go between the `soak` markers of
docs/RELIABILITY.md (or --out); --check makes a missed target exit 1.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.client
import itertools
import math
import os
import platform
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchmark import BIG_ID, ORG, WS, big_sft_job, free_port, job_payload, log_entries  # noqa: E402
from scripts.benchmark import serve_fixed as serve_fixed_bytes  # noqa: E402
from tests.fake_platform import FakePlatform  # noqa: E402

KEY = "dn_key_soak"
LIVE_ID = "5e5e5e5e-0000-4000-8000-000000000001"
START = "<!-- soak:start -->"
END = "<!-- soak:end -->"
MET = {True: "yes", False: "**no**", None: "—"}
P95_TARGET_MS = 250.0
# Memory is flat when RSS at the end of the load is within FLAT_MB or FLAT_SHARE of RSS halfway.
FLAT_MB, FLAT_SHARE, FLAT_WINDOW, MIN_FLAT_SECONDS = 20.0, 0.10, 10.0, 30.0
POLL_EVERY = {"summary": 3.0, "logs": 2.0, "artifacts": 10.0, "charts": 10.0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- the platform -----------------------------------------------------------------------------

def live_metrics(steps: int) -> dict[str, Any]:
    """An SFT job's metrics after `steps` steps."""
    loss = [round(2.5 * math.exp(-i / 400) + 0.3 + 0.02 * math.sin(i), 5) for i in range(steps)]
    return {"steps": list(range(1, steps + 1)), "train_loss": loss,
            "learning_rate": [round(1e-4 * min(1.0, (i + 1) / 100), 9) for i in range(steps)],
            "train/steps": steps, "train/loss_last": loss[-1]}


class LiveJob:
    """The running job: a thread adds a log entry and a training step every 0.5-1 s."""

    def __init__(self, fake: FakePlatform, steps: int = 200) -> None:
        self.fake = fake
        self.steps = steps
        fake.add_job(ORG, WS, job_payload(LIVE_ID, "live-sft", "running", live_metrics(steps)),
                     artifacts={"checkpoints": []}, logs=log_entries(steps))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._grow, name="live-job", daemon=True)

    def start(self) -> None:
        """Start growing."""
        self._thread.start()

    def _grow(self) -> None:
        rng = random.Random(3)
        while not self._stop.wait(rng.uniform(0.5, 1.0)):
            self.steps += 1
            entry = log_entries(1, datetime.now(UTC))[0]
            entry["message"] = f"step {self.steps} done"
            self.fake.append_log(LIVE_ID, entry)
            # A fresh metrics dict swapped in whole: the fake copies the job while serving it.
            self.fake.job(LIVE_ID)["metrics"] = live_metrics(self.steps)
            if self.steps % 20 == 0:
                self.fake.artifacts[LIVE_ID] = {
                    "checkpoints": [f"tinker://live:train:0/weights/step-{s}"
                                    for s in range(20, self.steps + 1, 20)]}

    def complete(self) -> int:
        """Stop growing and mark the job completed; return its final number of log entries."""
        self._stop.set()
        self._thread.join()
        now = datetime.now(UTC).isoformat()
        self.fake.job(LIVE_ID).update(status="completed", completed_at=now)
        return len(self.fake.logs[LIVE_ID])


# ---- the server: the Procfile's web process ------------------------------------------------------

def procfile_command() -> str:
    """The Procfile's `web:` command, bound to 127.0.0.1 instead of 0.0.0.0 ($PORT stays: the
    shell that runs it fills it in, as a Procfile runner's does)."""
    line = next(line for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
                if line.startswith("web:"))
    return re.sub(r"(--bind[= ]|-b ?)0\.0\.0\.0:", r"\g<1>127.0.0.1:", line.removeprefix("web:").strip())


def proc_stat(pid: int) -> tuple[int, int]:
    """(ppid, utime + stime in clock ticks) of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        fields = f.read().rpartition(")")[2].split()  # after the command name, which may hold spaces
    return int(fields[1]), int(fields[11]) + int(fields[12])


def vm_rss(pid: int) -> int:
    """VmRSS of a process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def runs_gunicorn(pid: int) -> bool:
    """Whether a process is gunicorn itself (`gunicorn …` or `python …/gunicorn …`), not a shell
    whose command line mentions it."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return any(Path(arg.decode(errors="replace")).name == "gunicorn" for arg in argv[:2])


def children() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat."""
    tree: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                tree[proc_stat(int(entry))[0]].append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return tree


class Server:
    """gunicorn as the Procfile starts it, in its own process group, pointed at the fake."""

    def __init__(self, fake: FakePlatform, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.command = procfile_command()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DREADNODE_", "DASHBOARD_"))}  # production defaults only
        env |= {"PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
                "PORT": str(self.port), "HOME": tempfile.mkdtemp(prefix="soak-home-"),
                "DASHBOARD_AUTH": "service", "DASHBOARD_SECRET_KEY": secrets.token_hex(32),
                "DREADNODE_SERVER": fake.url, "DREADNODE_API_KEY": KEY,
                "DREADNODE_ORGANIZATION": ORG, "DREADNODE_WORKSPACE": WS} | (extra_env or {})
        self.log = tempfile.NamedTemporaryFile(prefix="soak-gunicorn-", suffix=".log", delete=False)
        # As a Procfile runner does: the line goes to a shell.
        self.process = subprocess.Popen(["/bin/sh", "-c", self.command], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer /healthz in 60 s:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        self.master = self._find_master()

    def _find_master(self) -> int:
        """The gunicorn master: the first process under the shell that runs gunicorn."""
        tree, queue = children(), [self.process.pid]
        while queue:
            pid = queue.pop(0)
            if runs_gunicorn(pid):
                return pid
            queue.extend(tree.get(pid, []))
        raise RuntimeError("no gunicorn process under the Procfile's shell")

    def pids(self) -> tuple[int, list[int]]:
        """The master and its workers now."""
        return self.master, sorted(children().get(self.master, []))

    def log_text(self) -> str:
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM to the process group this script started, then wait (SIGKILL after 30 s)."""
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


# ---- the viewers -------------------------------------------------------------------------------

@dataclass
class Sample:
    """One request: when it ended (s since the load started), what, its status and seconds."""

    at: float
    kind: str
    status: int
    seconds: float
    error: str = ""


class Client:
    """GETs with gzip, like a browser's, one fresh loopback connection each (no stale keep-alive
    connection can fail a request for the client's own reasons)."""

    def __init__(self, port: int, samples: list[Sample], t0: float) -> None:
        self.port = port
        self.samples = samples
        self.t0 = t0

    def get(self, kind: str, path: str, htmx: bool = False) -> tuple[int, bytes]:
        """Status and decoded body (status 0 and b"" when the request failed)."""
        headers = {"Accept-Encoding": "gzip", "Connection": "close"}
        if htmx:
            headers["HX-Request"] = "true"
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                status = response.status
                encoding = response.getheader("Content-Encoding")
            finally:
                conn.close()
            seconds = time.perf_counter() - start
            self.samples.append(Sample(time.perf_counter() - self.t0, kind, status, seconds))
            return status, gzip.decompress(body) if encoding == "gzip" else body
        except Exception as exc:
            seconds = time.perf_counter() - start
            self.samples.append(Sample(time.perf_counter() - self.t0, kind, 0, seconds, repr(exc)))
            return 0, b""


INDEX = re.compile(rb'data-index="(\d+)"')
POLLER = re.compile(rb'<div id="logs-poller"[^>]*?hx-get="([^"]+)"')
STATIC = re.compile(rb'(?:src|href)="(/static/[^"]+)"')
IMPORT = re.compile(rb'^import .* from "\./([^"]+)";$', re.MULTILINE)  # a module's imports
CHART_ID = re.compile(rb'data-chart-id="([^"]+)"')


def attr_url(raw: bytes) -> str:
    return html.unescape(raw.decode())


@dataclass
class LiveResult:
    """What one viewer of the running job saw."""

    opened: bool = False
    first_index: int | None = None
    received: Counter[int] = field(default_factory=Counter)
    stopped: set[str] = field(default_factory=set)


def open_page(client: Client, kind: str, path: str) -> bytes:
    """The page, read to the end, then its stylesheet and scripts and the modules they import
    (a first visit)."""
    status, body = client.get(kind, path)
    if status == 200:
        urls = list(dict.fromkeys(attr_url(url) for url in STATIC.findall(body)))
        for url in urls:  # grows by each module's imports, fetched as a browser does
            _, text = client.get("static", url)
            base = url.split("?")[0].rsplit("/", 1)[0]
            urls += [f"{base}/{name.decode()}" for name in IMPORT.findall(text)
                     if f"{base}/{name.decode()}" not in urls]
    return body if status == 200 else b""


def live_viewer(client: Client, path: str, start_at: float, give_up_at: float,
                result: LiveResult) -> None:
    """A browser tab on the running job: the page, then its pollers until each one stops."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    page = open_page(client, "page: running job", path)
    if not page:
        return
    result.opened = True
    indexes = [int(i) for i in INDEX.findall(page)]
    result.first_index = indexes[0] if indexes else None
    result.received.update(indexes)
    poller = POLLER.search(page)
    logs_url = attr_url(poller.group(1)) if poller else None
    now = time.monotonic()
    due = {name: now + every for name, every in POLL_EVERY.items()}
    if logs_url is None:
        due.pop("logs")
        result.stopped.add("logs")
    while due and time.monotonic() < give_up_at:
        name = min(due, key=due.__getitem__)
        time.sleep(max(0.0, due[name] - time.monotonic()))
        url = logs_url if name == "logs" else f"{path}/{name}"
        status, body = client.get(f"poll: {name}", url, htmx=True)
        if name == "logs" and status in (200, 286):
            got = [int(i) for i in INDEX.findall(body)]
            result.first_index = got[0] if result.first_index is None and got else result.first_index
            result.received.update(got)
            poller = POLLER.search(body)
            logs_url = attr_url(poller.group(1)) if poller else None
            if logs_url is None:
                status = 286
        if status == 286:  # htmx (and static/js/charts.js) stops polling
            del due[name]
            result.stopped.add(name)
        else:  # the next poll is timed from this answer, as htmx and the page's script do
            due[name] = time.monotonic() + POLL_EVERY[name]


def big_viewer(client: Client, path: str, steps: int, start_at: float, stop_at: float,
               seed: int) -> None:
    """A browser tab on the 1,000,000-step job: the page, its last logs poll, zooms now and then."""
    rng = random.Random(seed)
    time.sleep(max(0.0, start_at - time.monotonic()))
    page = open_page(client, "page: 1M-step job", path)
    if not page:
        return
    charts = [attr_url(c) for c in CHART_ID.findall(page)]
    poller = POLLER.search(page)
    if poller:  # a finished job's page polls its logs once more, 2 s after loading
        time.sleep(2)
        client.get("1M-step job: logs (last poll)", attr_url(poller.group(1)), htmx=True)
    action = 0
    while True:
        wait = rng.uniform(10, 20)
        if time.monotonic() + wait >= stop_at:
            return
        time.sleep(wait)
        action += 1
        if action % 3 == 0 or not charts:
            client.get("1M-step job: charts fragment", f"{path}/charts", htmx=True)
        else:
            width = min(steps - 1, rng.choice((1_000, 10_000, 100_000)))
            x0 = rng.randint(1, steps - width)
            chart = urllib.parse.quote(rng.choice(charts), safe="")
            client.get("1M-step job: zoom",
                       f"{path}/charts/zoom?chart={chart}&x0={x0}&x1={x0 + width}&px=900")


# ---- sampling ------------------------------------------------------------------------------------

@dataclass
class Tick:
    """One second's sample."""

    at: float
    rss: int  # bytes, master + workers
    workers: tuple[int, ...]
    server_cpu: float  # CPU seconds so far, master + workers (live ones)
    own_cpu: float  # CPU seconds so far of this script (fake platform + viewers)
    busy: float  # CPU seconds so far of the whole machine
    upstream: int  # requests the fake has received so far


def machine_busy() -> float:
    """CPU seconds the machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLK_TCK  # minus idle and iowait


def sample(server: Server, fake: FakePlatform, t0: float) -> Tick:
    master, workers = server.pids()
    rss, cpu = 0, 0.0
    for pid in (master, *workers):
        try:
            cpu += proc_stat(pid)[1] / CLK_TCK
        except (OSError, IndexError, ValueError):
            continue
        rss += vm_rss(pid)
    own = os.times()
    return Tick(time.perf_counter() - t0, rss, tuple(workers), cpu, own.user + own.system,
                machine_busy(), len(fake.requests))


class Sampler(threading.Thread):
    """Samples every second until stopped."""

    def __init__(self, server: Server, fake: FakePlatform, t0: float) -> None:
        super().__init__(name="sampler", daemon=True)
        self.server, self.fake, self.t0 = server, fake, t0
        self.ticks: list[Tick] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while True:
            self.ticks.append(sample(self.server, self.fake, self.t0))
            if self.halt.wait(1.0):
                self.ticks.append(sample(self.server, self.fake, self.t0))
                return


# ---- the run -------------------------------------------------------------------------------------

@dataclass
class Check:
    """One line of the results table."""

    measure: str
    target: str
    result: str
    ok: bool | None  # None: not judged


@dataclass
class Outcome:
    checks: list[Check]
    details: str


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def mb(size: float) -> str:
    return f"{size / 1e6:,.0f} MB"


def endpoint(path: str) -> str:
    """A fake platform path as a short endpoint name."""
    for job_id, name in ((LIVE_ID, "running job"), (BIG_ID, "1M-step job")):
        if f"/training/jobs/{job_id}" in path:
            tail = path.split(job_id, 1)[1] or ""
            return f"{name}: {tail.strip('/') or 'job'}"
    return path.removeprefix("/api/v1")


def run(args: argparse.Namespace) -> Outcome:
    """Start everything, load it, measure; return the checks and the detail tables."""
    print(f"building the {args.steps:,}-step job…", flush=True)
    big = big_sft_job(args.steps)
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization(ORG)
        fake.add_workspace(ORG, WS, is_default=True)
        serve_fixed_bytes(fake, big, log_entries(1000))
        del big
        live = LiveJob(fake)
        print("starting gunicorn from the Procfile…", flush=True)
        server = Server(fake)
        try:
            return load(args, fake, live, server)
        finally:
            server.stop()


def load(args: argparse.Namespace, fake: FakePlatform, live: LiveJob, server: Server) -> Outcome:
    """The load itself, and the figures."""
    samples: list[Sample] = []
    live_path = f"/{ORG}/{WS}/training/jobs/{LIVE_ID}"
    big_path = f"/{ORG}/{WS}/training/jobs/{BIG_ID}"
    fake.requests.clear()
    t0 = time.perf_counter()
    client = Client(server.port, samples, t0)
    sampler = Sampler(server, fake, t0)
    sampler.start()
    live.start()
    print(f"{args.viewers} viewers of the running job and {args.big_viewers} of the "
          f"{args.steps:,}-step job for {args.seconds:g} s…", flush=True)
    begin = time.monotonic()
    ramp = min(5.0, args.seconds / 4)
    stop_at = begin + args.seconds
    give_up_at = stop_at + args.drain
    results = [LiveResult() for _ in range(args.viewers)]
    threads = [threading.Thread(target=live_viewer, name=f"viewer-{i}", daemon=True,
                                args=(client, live_path, begin + ramp * i / max(1, args.viewers),
                                      give_up_at, results[i]))
               for i in range(args.viewers)]
    threads += [threading.Thread(target=big_viewer, name=f"big-viewer-{i}", daemon=True,
                                 args=(client, big_path, args.steps,
                                       begin + ramp * (i + 0.5) / max(1, args.big_viewers), stop_at, i))
                for i in range(args.big_viewers)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    load_end = time.perf_counter() - t0
    total = live.complete()
    print(f"the running job completed with {total:,} log entries; waiting for the last polls…", flush=True)
    for thread in threads:
        thread.join(timeout=max(0.1, give_up_at + 5 - time.monotonic()))
    drain_end = time.perf_counter() - t0
    sampler.halt.set()
    sampler.join()
    return figures(args, samples, results, total, sampler.ticks, fake, server, ramp, load_end, drain_end)


def figures(args: argparse.Namespace, samples: list[Sample], results: list[LiveResult], total: int,
            ticks: list[Tick], fake: FakePlatform, server: Server, ramp: float, load_end: float,
            drain_end: float) -> Outcome:
    """The checks and the detail tables from everything recorded."""
    checks: list[Check] = []
    details: list[str] = []

    # Errors: a failed request or any status but 2xx (286 included).
    failed = [s for s in samples if not 200 <= s.status < 300]
    log = server.log_text()
    server_errors = [line for line in log.splitlines()
                     if "[ERROR]" in line or "Traceback" in line or "WORKER TIMEOUT" in line]
    # A worker that was there and is gone later died or was killed (a timeout, memory).
    last_workers = set(ticks[-1].workers) if ticks else set()
    restarts = len({pid for t in ticks for pid in t.workers} - last_workers)
    kinds = Counter(f"{s.kind} → {s.status or s.error}" for s in failed)
    checks.append(Check("requests that failed or were not 2xx", "0",
                        f"{len(failed):,} of {len(samples):,}"
                        + (f" ({'; '.join(f'{k}: {n}' for k, n in kinds.most_common(4))})" if failed else ""),
                        not failed))
    checks.append(Check("errors in the server's log; workers restarted", "0; 0",
                        f"{len(server_errors)}; {restarts}", not server_errors and restarts == 0))
    if server_errors:
        details.append("The server's log says:\n\n```\n" + "\n".join(server_errors[:10]) + "\n```")

    # Latency.
    polls = [s.seconds for s in samples if s.kind.startswith("poll: ") and s.status]
    p95 = percentile(polls, 0.95) if polls else math.inf
    checks.append(Check(f"poll latency of the running job, p95 ({len(polls):,} polls)",
                        f"< {P95_TARGET_MS:.0f} ms",
                        f"{ms(p95)} (p50 {ms(percentile(polls, 0.5))}, p99 {ms(percentile(polls, 0.99))})"
                        if polls else "no polls", p95 * 1000 < P95_TARGET_MS))
    lines = ["| requests | count | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|"]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        if s.status:
            by_kind[s.kind].append(s.seconds)
    by_kind["all polls of the running job"] = polls
    for kind in sorted(by_kind, key=lambda k: (not k.startswith(("poll", "all")), k)):
        values = by_kind[kind]
        lines.append(f"| {kind} | {len(values):,} | {ms(percentile(values, 0.5))} | "
                     f"{ms(percentile(values, 0.95))} | {ms(percentile(values, 0.99))} | "
                     f"{ms(max(values))} |")
    details.append("Latency, client side (request sent → last byte read):\n\n" + "\n".join(lines))
    # Where the slow polls come from: were they waiting while the server worked on the big job?
    big = [(s.at - s.seconds, s.at) for s in samples if s.kind.startswith(("1M", "page: 1M"))]
    slow = [s for s in samples if s.kind.startswith("poll: ") and s.seconds * 1000 >= P95_TARGET_MS]
    overlapping = sum(1 for s in slow if any(a < s.at and s.at - s.seconds < b for a, b in big))
    in_ramp = sum(1 for s in slow if s.at - s.seconds < ramp + 1)
    details.append(f"Polls of the running job that took {P95_TARGET_MS:.0f} ms or more: {len(slow)} of "
                   f"{len(polls):,}; {overlapping} of them overlapped a request for the "
                   f"{args.steps:,}-step job, {in_ramp} began during the first {ramp + 1:g} s "
                   "(the page opens).")

    # Memory: the median of the last 10 s of each half of the load (a median, so one big-job
    # request in flight at a sampling moment does not decide it). Too short a run is not judged.
    middle = load_end / 2
    first = sorted(t.rss for t in ticks if middle - FLAT_WINDOW <= t.at < middle)
    second = sorted(t.rss for t in ticks if load_end - FLAT_WINDOW <= t.at <= load_end)
    measure = (f"server memory (VmRSS, master + workers): median of the last {FLAT_WINDOW:.0f} s of the "
               "load's second half vs of its first half")
    target = f"growth ≤ {FLAT_MB:.0f} MB or ≤ {FLAT_SHARE:.0%}"
    if load_end >= MIN_FLAT_SECONDS and first and second:
        before, after = first[len(first) // 2], second[len(second) // 2]
        growth = after - before
        checks.append(Check(measure, target, f"{mb(before)} → {mb(after)} ({growth / 1e6:+,.0f} MB, "
                            f"{growth / before:+.1%})",
                            growth <= max(FLAT_MB * 1e6, FLAT_SHARE * before)))
    else:
        checks.append(Check(measure, target, f"not judged: needs {MIN_FLAT_SECONDS:.0f} s of load or more",
                            None))
    start_rss = ticks[0].rss if ticks else 0
    end_rss = ticks[-1].rss if ticks else 0
    marks = [t for t in ticks if t.at <= load_end]
    step = max(1, len(marks) // 12)
    details.append("Server memory (VmRSS of the gunicorn master and workers, summed; sampled every "
                   f"second): {mb(start_rss)} before the first request, {mb(end_rss)} after the last. "
                   "Over the load: " + ", ".join(f"{t.at:.0f} s {mb(t.rss)}" for t in marks[::step]) + ".")

    # CPU.
    window = [t for t in ticks if t.at <= load_end]
    if len(window) >= 2:
        span = window[-1].at - window[0].at
        server_cores = (window[-1].server_cpu - window[0].server_cpu) / span
        own_cores = (window[-1].own_cpu - window[0].own_cpu) / span
        busy = (window[-1].busy - window[0].busy) / span
        details.append(f"CPU over the load, in cores of {os.cpu_count()}: gunicorn {server_cores:.2f}, "
                       f"this script (fake platform, viewers, sampling) {own_cores:.2f}, everything else "
                       f"on the machine {max(0.0, busy - server_cores - own_cores):.2f}.")

    # Upstream calls per endpoint, against what the cache allows: one call per TTL per worker.
    workers = max((len(t.workers) for t in ticks), default=1)
    bound = workers / 1.0
    in_load = [t for t in ticks if t.at <= load_end]
    recorded = [r.path for r in fake.requests_to("")]
    seconds_of: list[Counter[str]] = []
    for before, after in itertools.pairwise(in_load):
        seconds_of.append(Counter(endpoint(p) for p in recorded[before.upstream:after.upstream]))
    upto = in_load[-1].upstream if in_load else 0
    calls = Counter(endpoint(p) for p in recorded[:upto])
    span = max(1e-9, in_load[-1].at - in_load[0].at) if len(in_load) >= 2 else 1.0
    lines = ["| upstream endpoint | calls | per second | most in one second |", "|---|---|---|---|"]
    worst = 0.0
    for name in sorted(calls):
        rate = calls[name] / span
        peak = max((c[name] for c in seconds_of), default=0)
        worst = max(worst, rate)
        lines.append(f"| {name} | {calls[name]:,} | {rate:.2f} | {peak} |")
    served = sum(1 for s in samples if s.at <= load_end and s.kind != "static")
    everything = sum(calls.values())
    lines.append(f"| all (the viewers made {served:,} page and fragment requests) | {everything:,} | "
                 f"{everything / span:.2f} | "
                 f"{max((sum(c.values()) for c in seconds_of), default=0)} |")
    details.append(f"Upstream calls during the {load_end:.0f} s of load (the fake platform's log):\n\n"
                   + "\n".join(lines))
    checks.append(Check("upstream calls per second, per endpoint (mean over the load)",
                        f"≤ {bound:.0f} (1 per cache TTL of 1 s per worker, {workers} workers)",
                        f"at most {worst:.2f}", worst <= bound * 1.05))

    # Logs: every viewer has every entry from its page's first one on, once.
    opened = [r for r in results if r.opened]
    complete = dupes = missing = 0
    for r in opened:
        start = r.first_index or 0
        extra = sum(n - 1 for n in r.received.values() if n > 1)
        lost = sum(1 for i in range(start, total) if i not in r.received)
        beyond = sum(1 for i in r.received if i >= total)
        dupes += extra
        missing += lost
        complete += not (extra or lost or beyond)
    checks.append(Check(f"log entries each viewer of the running job received ({total:,} in the end)",
                        "all from the page's first on, each once",
                        f"{complete} of {len(results)} viewers complete; {missing} missing, {dupes} twice",
                        complete == len(results)))
    stopped = sum(1 for r in opened if r.stopped >= set(POLL_EVERY))
    checks.append(Check("pollers stopped after the job completed (HTTP 286)", "all four, every viewer",
                        f"{stopped} of {len(results)} viewers, within {drain_end - load_end:.1f} s",
                        stopped == len(results)))
    return Outcome(checks, "\n\n".join(details))


# ---- the report ----------------------------------------------------------------------------------

def section(args: argparse.Namespace, outcome: Outcome, server_command: str) -> str:
    """The Markdown between the soak markers."""
    command = " ".join(["python", "scripts/soak.py", *map(shlex.quote, sys.argv[1:])])
    via = " (`make soak`)" if os.environ.get("MAKELEVEL") else ""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores (nproc), Python {platform.python_version()}, "
               f"load average before the run {args.loadavg}")
    rows = ["| measure | target | result | met |", "|---|---|---|---|"]
    rows += [f"| {c.measure} | {c.target} | {c.result} | {MET[c.ok]} |"
             for c in outcome.checks]
    return (f"## Soak test\n\nMade by `{command}`{via} on {when} ({machine}).\n\n"
            f"Server: the Procfile's `web:` line, `{server_command}`, bound to 127.0.0.1 on a free port, "
            "with `DASHBOARD_AUTH=service` and the default cache TTL (1 s), against the fake platform "
            "on loopback (no added latency).\n"
            f"Load: {args.viewers} viewers of one running job for {args.seconds:g} s (its logs and "
            "metrics grow by one entry and one step every 0.5-1 s), each opening the page and its "
            "static files, then polling summary every 3 s, logs every 2 s (following the cursor) "
            "and artifacts and charts every 10 s, each poll timed from the previous answer as "
            f"htmx does; plus {args.big_viewers} viewers of a completed {args.steps:,}-step job "
            "opening its page, then zooming (or, one time in three, fetching the charts fragment) "
            "every 10-20 s. Page opens are spread over the first "
            f"{min(5.0, args.seconds / 4):g} s. Then the running job completes and its viewers poll "
            "until every poller has had its last answer.\n\n"
            + "\n".join(rows) + "\n\n" + outcome.details + "\n")


def write_section(path: Path, text: str, start: str = START, end: str = END) -> None:
    """Put `text` between the markers (the soak's unless given) of `path` (created with a
    heading if missing)."""
    if path.exists():
        current = path.read_text(encoding="utf-8")
    else:
        current = f"# Reliability\n\n{start}\n{end}\n"
    if start not in current or end not in current:
        current = current.rstrip("\n") + f"\n\n{start}\n{end}\n"
    head, rest = current.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{head}{start}\n{text}{end}{tail}", encoding="utf-8")


def arguments() -> argparse.Namespace:
    """The soak's options (scripts/soak_redis.py takes the same)."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the job runs under load")
    parser.add_argument("--viewers", type=int, default=50, help="viewers of the running job")
    parser.add_argument("--big-viewers", type=int, default=10, help="viewers of the big job")
    parser.add_argument("--steps", type=int, default=1_000_000, help="steps of the big job")
    parser.add_argument("--drain", type=float, default=20.0,
                        help="at most this long for the last polls after the job completes, s")
    parser.add_argument("--out", default=str(ROOT / "docs" / "RELIABILITY.md"),
                        help="Markdown file whose soak section is (re)written")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    args.loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    outcome = run(args)
    text = section(args, outcome, procfile_command())
    print("\n" + text)
    write_section(Path(args.out), text)
    print(f"written to {args.out}")
    missed = [c.measure for c in outcome.checks if c.ok is False]
    if missed:
        print("missed: " + "; ".join(missed), file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure the server's resident memory on big jobs: held per job, given back, and under ten viewers.

    python scripts/bench_memory.py            # 1,000,000-step jobs (about a minute to generate)
    python scripts/bench_memory.py --small    # 50,000-step jobs, for a quick look

1. Held and given back: one gunicorn worker (the Procfile's worker class and threads, a cache
   budget that holds all four jobs), warmed up on a small job's page, opens four
   different finished 1M-step, 8-series jobs one after the other, each as a browser would (the page,
   then every fragment it loads); the worker's VmRSS is read after each. Then nobody looks, and
   VmRSS is sampled for 90 s: the finished-job cache (60 s) lets go and memory goes back.
2. Ten viewers: gunicorn exactly as the Procfile runs it (2 workers, --preload), ten viewers each
   opening a different 1M-step job within one minute; the master's and workers' VmRSS summed,
   sampled every 0.2 s; every response must be a 200 (or htmx's 286).

Writes its table into docs/BENCHMARKS.md between the `memory` markers (or --out).
"""

from __future__ import annotations

import argparse
import html
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchmark import (  # noqa: E402
    BIG_ID,
    KEY,
    ORG,
    SMALL_ID,
    WS,
    Dashboard,
    big_sft_job,
    log_entries,
    serve_fixed,
    write_section,
)
from tests.fake_platform import FakePlatform  # noqa: E402

PROCFILE_ARGS = ["--preload", "--workers", "2", "--worker-class", "gthread", "--threads", "8",
                 "--timeout", "60"]
HX_GET = re.compile(r'hx-get="([^"]+)"')
OK = {200, 286}  # 286: a fragment of a finished job telling htmx to stop polling


def rss_mb(pid: int) -> float:
    """A process's resident memory (VmRSS), in MB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The pids of a process's children (gunicorn's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(p) for p in text]
    return found


@contextmanager
def gunicorn(fake: FakePlatform, args: list[str],
             env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The dashboard under gunicorn (the Procfile's config hook), pointed at the fake platform;
    yields (process, base URL)."""
    dashboard = Dashboard(fake, args=["--config", "python:dashboard.gunicorn_conf", *args], env=env)
    try:
        yield dashboard.process, dashboard.url
    finally:
        dashboard.stop()


def open_like_a_browser(base: str, job_id: str) -> list[int]:
    """GET the job page and every fragment it loads; the status of each response."""
    url = f"{base}/{ORG}/{WS}/training/jobs/{job_id}"
    statuses = []
    with urllib.request.urlopen(url, timeout=120) as response:
        page = response.read().decode()
        statuses.append(response.status)
    for target in dict.fromkeys(html.unescape(u) for u in HX_GET.findall(page)):
        request = urllib.request.Request(base + target if target.startswith("/") else target,
                                         headers={"HX-Request": "true"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
    return statuses


def big_jobs(fake: FakePlatform, steps: int, count: int) -> tuple[list[str], int]:
    """Serve `count` distinct finished jobs of `steps` steps (and a small one); their ids and the
    size of one."""
    small = orjson.loads(orjson.dumps(big_sft_job(1000)).replace(BIG_ID.encode(), SMALL_ID.encode()))
    serve_fixed(fake, small, log_entries(50))
    body = orjson.dumps(big_sft_job(steps))
    ids = []
    for n in range(count):
        job_id = BIG_ID[:-3] + f"{100 + n:03d}"
        job = orjson.loads(body.replace(BIG_ID.encode(), job_id.encode()))
        job["name"] = f"big-sft-{n}"
        serve_fixed(fake, job, log_entries(50))
        ids.append(job_id)
    return ids, len(body)


def held_and_given_back(fake: FakePlatform, ids: list[str], wait: float) -> list[str]:
    """Phase 1: per-job growth of one worker, and where it is `wait` seconds after the last view."""
    lines = []
    # A budget that holds all four, so each one measured is one held.
    with gunicorn(fake, ["--workers", "1", "--worker-class", "gthread", "--threads", "8",
                         "--timeout", "120"], {"DASHBOARD_CACHE_MB": "1000"}) as (process, base):
        open_like_a_browser(base, SMALL_ID)  # warm: code, templates and pools every page uses
        worker = children(process.pid)[0]
        before = rss_mb(worker)
        lines.append(f"| worker before the first job | {before:,.0f} MB |")
        for n, job_id in enumerate(ids, 1):
            statuses = open_like_a_browser(base, job_id)
            now = rss_mb(worker)
            lines.append(f"| after job {n} (page + {len(statuses) - 1} fragments, all "
                         f"{'answered' if set(statuses) <= OK else statuses}) | {now:,.0f} MB "
                         f"(+{(now - before) / n:,.0f} MB per job held) |")
        held = rss_mb(worker)
        start = time.monotonic()
        samples = []
        while (elapsed := time.monotonic() - start) < wait:
            time.sleep(5)
            samples.append((elapsed + 5, rss_mb(worker)))
        after = rss_mb(worker)
        trail = ", ".join(f"{t:.0f} s {m:,.0f}" for t, m in samples[::3])
        lines.append(f"| {wait:.0f} s after the last view | {after:,.0f} MB ({after - before:+,.0f} MB "
                     f"from before the first; it held {held:,.0f}); samples: {trail} |")
        per_job = (held - before) / len(ids)
        lines.append(f"| **per job held** (target ≤ 80 MB) | **{per_job:,.0f} MB** "
                     f"{'met' if per_job <= 80 else 'MISSED'} |")
        lines.append(f"| **given back** (target: within 50 MB of before, 90 s after) | "
                     f"**{after - before:+,.0f} MB** {'met' if after - before <= 50 else 'MISSED'} |")
    return lines


def ten_viewers(fake: FakePlatform, ids: list[str], spread: float) -> list[str]:
    """Phase 2: the Procfile's gunicorn, one viewer per job within `spread` seconds."""
    statuses: list[int] = []
    errors: list[str] = []
    with gunicorn(fake, PROCFILE_ARGS) as (process, base):
        pids = [process.pid, *children(process.pid)]
        before = sum(map(rss_mb, pids))
        peak = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.2):
                peak.append(sum(rss_mb(p) for p in [process.pid, *children(process.pid)]))

        def viewer(job_id: str, delay: float) -> None:
            time.sleep(delay)
            try:
                statuses.extend(open_like_a_browser(base, job_id))
            except Exception as exc:  # a refused or reset connection is an error too
                errors.append(f"{job_id}: {exc}")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rng = random.Random(11)
        viewers = [threading.Thread(target=viewer, args=(job_id, rng.uniform(0, spread)))
                   for job_id in ids]
        start = time.monotonic()
        for v in viewers:
            v.start()
        for v in viewers:
            v.join()
        took = time.monotonic() - start
        done.set()
        sampler.join()
    bad = [s for s in statuses if s not in OK] + errors
    top = max(peak)
    return [f"| workers + master before | {before:,.0f} MB |",
            f"| {len(ids)} viewers, {len(ids)} different jobs, opened within {spread:.0f} s (all done in "
            f"{took:.0f} s) | {len(statuses)} responses, {len(bad)} errors |",
            f"| **peak resident memory, all processes** (target ≤ 1 GB, zero errors) | **{top:,.0f} MB** "
            f"{'met' if top <= 1024 and not bad else 'MISSED'} |"]


def main() -> int:
    """Run both phases and write the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--wait", type=float, default=90.0, help="seconds to watch after the last view")
    parser.add_argument("--spread", type=float, default=60.0,
                        help="seconds over which the ten viewers arrive")
    parser.add_argument("--only", choices=("held", "crowd"), help="run one phase (and write nothing)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = parser.parse_args()
    steps = 50_000 if args.small else 1_000_000
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization(ORG)
        fake.add_workspace(ORG, WS, is_default=True)
        print(f"generating ten {steps:,}-step jobs…", flush=True)
        ids, size = big_jobs(fake, steps, 10)
        print("held and given back…", flush=True)
        held = held_and_given_back(fake, ids[:4], args.wait) if args.only != "crowd" else []
        print("ten viewers…", flush=True)
        crowd = ten_viewers(fake, ids, args.spread) if args.only != "held" else []
    if args.only:
        print("\n".join(held + crowd))
        return 0
    text = "\n".join([
        "## Memory of big jobs", "",
        f"Made by `python scripts/bench_memory.py{' --small' if args.small else ''}` "
        f"({steps:,}-step jobs, 8 series, {size / 1e6:,.0f} MB of JSON each). "
        "Resident memory is VmRSS from /proc.", "",
        "| one gunicorn worker, four jobs in turn | VmRSS |", "|---|---|", *held, "",
        "| the Procfile's gunicorn (2 workers, --preload) | measured |", "|---|---|", *crowd])
    print(text)
    write_section(Path(args.out), "memory", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

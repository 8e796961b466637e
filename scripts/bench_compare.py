"""Benchmark comparing runs (`?compare=`): a big job compared with four other big jobs.

    python scripts/bench_compare.py            # 1,000,000 steps a job
    python scripts/bench_compare.py --small    # 20,000 steps, a quick check

Serves five synthetic jobs (8 series each) from the fake platform, runs the real dashboard
against it (gunicorn, as scripts/benchmark.py does) and measures, in one run: the bytes of the
page with its chart data (gzip) alone and compared, and Chromium's navigation to every chart
drawn alone and compared (medians, a cold upstream cache every time). Prints the figures and
whether the targets hold: compared ≤ 600 KB, ≤ 2.5 s, ≤ 2.5× the job alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from benchmark import (  # noqa: E402
    BIG_ID,
    KEY,
    ORG,
    WS,
    Dashboard,
    big_sft_job,
    browser_times,
    captured,
    get,
    kb,
    log_entries,
    serve_fixed,
)

from tests.fake_platform import FakePlatform  # noqa: E402

OTHER_IDS = tuple(f"b1b1b1b1-0000-4000-8000-00000000010{n}" for n in range(1, 5))
MAX_BYTES, MAX_SECONDS, MAX_RATIO = 600_000, 2.5, 2.5


def other_job(base: dict[str, Any], job_id: str, n: int) -> dict[str, Any]:
    """Another big job: the same shape, its values scaled (so no two traces are the same bytes)."""
    scale = 1 + 0.07 * n
    metrics = {key: [v * scale if isinstance(v, float) else v for v in value]
               if isinstance(value, list) and key != "steps" else value
               for key, value in base["metrics"].items()}
    return base | {"id": job_id, "name": f"big-sft-1m-run-{n + 1}", "metrics": metrics}


def main() -> int:
    """Serve the jobs, measure, print; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="20,000 steps a job")
    parser.add_argument("--steps", type=int, help="steps of each job (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="navigations per timing (median)")
    parser.add_argument("--browser-timeout", type=float, default=120.0)
    args = parser.parse_args()
    steps = args.steps or (20_000 if args.small else 1_000_000)
    print(f"generating five {steps:,}-step jobs…", flush=True)
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization(ORG)
        fake.add_workspace(ORG, WS, is_default=True)
        big = big_sft_job(steps)
        serve_fixed(fake, big, log_entries(50))
        for n, job_id in enumerate(OTHER_IDS):
            serve_fixed(fake, other_job(big, job_id, n), log_entries(50))
        del big
        dashboard = Dashboard(fake)
        try:
            alone = dashboard.job_url(BIG_ID)
            compared = alone + "?compare=" + ",".join(OTHER_IDS)
            print("Chromium: the comparison's first visit (no other job drawn before)…", flush=True)
            first = browser_times({"first": compared}, 1, args.browser_timeout)["first"]
            sizes = {}
            for name, url in (("alone", alone), ("compared", compared)):
                status, body, _ = get(url)
                assert status == 200, (name, status)
                sizes[name] = len(body)
            print("Chromium: navigation to every chart drawn…", flush=True)
            times = browser_times({"alone": alone, "compared": compared}, args.repeat, args.browser_timeout)
        finally:
            dashboard.stop()
    return report(steps, args.repeat, sizes, times | {"first": first})


def report(steps: int, repeat: int, sizes: dict[str, int], times: dict[str, float | None]) -> int:
    """Print the figures and the targets; 0 when every target holds."""
    alone_s, compared_s = times["alone"], times["compared"]
    ratio = compared_s / alone_s if alone_s and compared_s else None
    print(f"\n{steps:,} steps a job, one job compared with {len(OTHER_IDS)}; medians of {repeat} navigations")
    print(f"page + chart data (gzip): alone {kb(sizes['alone'])}, compared {kb(sizes['compared'])}")
    print(f"navigation → all charts drawn: alone {alone_s or float('nan'):.2f} s, "
          f"compared {compared_s or float('nan'):.2f} s, ratio {ratio or float('nan'):.2f}×")
    first = times["first"] or float("nan")
    print(f"  (the comparison's first visit, every other job read and parsed: {first:.2f} s; the finished"
          " jobs' traces are then remembered, as for every later visit above)")
    checks = {f"compared bytes ≤ {kb(MAX_BYTES)}": sizes["compared"] <= MAX_BYTES,
              f"compared navigation ≤ {MAX_SECONDS} s": bool(compared_s and compared_s <= MAX_SECONDS),
              f"compared ≤ {MAX_RATIO}× alone": bool(ratio and ratio <= MAX_RATIO)}
    for name, ok in checks.items():
        print(f"  {'met' if ok else 'MISSED'}: {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(captured(main, ROOT / "docs" / "BENCHMARKS.md", "compare", "Comparing runs",
                      " ".join(["python", "scripts/bench_compare.py", *sys.argv[1:]])))

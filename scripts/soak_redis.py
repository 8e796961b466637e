"""The shared cache's soak: `python scripts/soak_redis.py` (`make soak-redis`), same options as soak.py.

Three runs, each with a fresh fake platform whose running job grows as in the soak
(scripts/soak.py), and `--viewers` viewers polling it like browser tabs for `--seconds`:

1. baseline: one instance (gunicorn exactly as the Procfile runs it: two workers), no Redis;
2. shared: two such instances, both with DASHBOARD_REDIS_URL naming one redis-server (Debian's,
   on a free loopback port, no persistence); viewers alternate between the instances;
3. outage: as 2, with redis-server stopped for 20 s in the middle of the load, then started
   again (empty).

Targets: in run 2, at most 1.2 upstream logs calls per second in total (run 1 gives today's
figure, per process), zero errors, poll p95 no worse than run 1's; in run 3, zero errors and
every viewer's logs panel with every entry exactly once; in both, one warning per process
when Redis goes and one when it is back, and no error in the servers' logs. The results go
between the soak-redis markers of docs/RELIABILITY.md (or --out); --check exits 1 on a miss.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.soak import (
    KEY,
    LIVE_ID,
    MET,
    ORG,
    WS,
    Check,
    Client,
    LiveJob,
    LiveResult,
    Sample,
    Server,
    arguments,
    live_viewer,
    ms,
    percentile,
    procfile_command,
    write_section,
)
from tests.fake_platform import FakePlatform
from tests.redis_server import RedisServer

START = "<!-- soak-redis:start -->"
END = "<!-- soak-redis:end -->"
OUTAGE = 20.0  # seconds redis-server is stopped in the outage run
UPSTREAM_TARGET = 1.2  # upstream logs calls per second, all instances together
GONE, BACK = "shared cache (Redis) unavailable", "shared cache (Redis) is back"


@dataclass
class Run:
    """What one run measured."""

    name: str
    instances: int
    workers: int
    samples: list[Sample]
    results: list[LiveResult]
    total: int  # the running job's log entries at the end
    logs_calls: int  # upstream logs calls of the running job during the load
    seconds: float
    server_log: str
    outage: str = ""

    def polls(self) -> list[float]:
        return [s.seconds for s in self.samples if s.kind.startswith("poll: ") and s.status]

    def p95(self) -> float:
        return percentile(self.polls(), 0.95)

    def failed(self) -> list[Sample]:
        return [s for s in self.samples if not 200 <= s.status < 300]

    def calls_per_second(self) -> float:
        return self.logs_calls / self.seconds

    def complete(self) -> int:
        """Viewers whose panel got every entry from the page's first on, each once."""
        done = 0
        for r in self.results:
            start = r.first_index or 0
            done += r.opened and all(r.received.get(i) == 1 for i in range(start, self.total)) \
                and all(i < self.total for i in r.received)
        return done

    def errors(self) -> list[str]:
        return [line for line in self.server_log.splitlines()
                if "[ERROR]" in line or "Traceback" in line or "WORKER TIMEOUT" in line]

    def warnings(self, text: str) -> int:
        return sum(text in line for line in self.server_log.splitlines())


def run(args: argparse.Namespace, name: str, instances: int, redis: RedisServer | None,
        outage: bool = False) -> Run:
    """One run: a fresh fake platform and running job, `instances` servers, the load."""
    print(f"{name}: {instances} instance(s){' behind one Redis' if redis else ''}…", flush=True)
    with FakePlatform(api_key=KEY) as fake:
        fake.add_organization(ORG)
        fake.add_workspace(ORG, WS, is_default=True)
        live = LiveJob(fake)
        env = {"DASHBOARD_REDIS_URL": redis.url} if redis else {}
        servers: list[Server] = []
        try:
            for _ in range(instances):
                servers.append(Server(fake, env))
            return load(args, name, fake, live, servers, redis if outage else None)
        finally:
            for server in servers:
                server.stop()


def stop_redis_midway(redis: RedisServer, at: float, seconds: float, note: list[str], t0: float) -> None:
    """Stop redis-server at monotonic time `at` for `seconds`, then start it again."""
    time.sleep(max(0.0, at - time.monotonic()))
    redis.stop()
    stopped = time.monotonic() - t0
    time.sleep(seconds)
    redis.start()
    note.append(f"Redis stopped {stopped:.0f} s into the load, started again (empty) "
                f"{time.monotonic() - t0:.0f} s in")


def load(args: argparse.Namespace, name: str, fake: FakePlatform, live: LiveJob, servers: list[Server],
         outage: RedisServer | None) -> Run:
    """Viewers alternate between the servers; Redis goes away midway if `outage`."""
    samples: list[Sample] = []
    t0 = time.perf_counter()
    clients = [Client(server.port, samples, t0) for server in servers]
    path = f"/{ORG}/{WS}/training/jobs/{LIVE_ID}"
    fake.requests.clear()
    live.start()
    begin = time.monotonic()
    ramp = min(5.0, args.seconds / 4)
    stop_at, give_up_at = begin + args.seconds, begin + args.seconds + args.drain
    results = [LiveResult() for _ in range(args.viewers)]
    threads = [threading.Thread(target=live_viewer, daemon=True,
                                args=(clients[i % len(clients)], path, begin + ramp * i / args.viewers,
                                      give_up_at, results[i]))
               for i in range(args.viewers)]
    note: list[str] = []
    if outage is not None:
        seconds = min(OUTAGE, args.seconds / 3)  # a short run (the test's) has a shorter outage
        at = begin + (args.seconds - seconds) / 2
        threads.append(threading.Thread(target=stop_redis_midway, args=(outage, at, seconds, note, begin),
                                        daemon=True))
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    calls = len(fake.requests_to(f"/training/jobs/{LIVE_ID}/logs"))
    total = live.complete()
    for thread in threads:
        thread.join(timeout=max(0.1, give_up_at + 5 - time.monotonic()))
    workers = sum(len(server.pids()[1]) for server in servers)
    return Run(name, len(servers), workers, samples, results, total, calls, args.seconds,
               "\n".join(server.log_text() for server in servers), "; ".join(note))


def checks(baseline: Run, shared: Run, outage: Run) -> list[Check]:
    """The targets, judged."""
    found: list[Check] = []
    for r in (shared, outage):
        found.append(Check(f"{r.name}: requests that failed or were not 2xx", "0",
                           f"{len(r.failed()):,} of {len(r.samples):,}", not r.failed()))
        found.append(Check(f"{r.name}: errors in the servers' logs", "0", str(len(r.errors())),
                           not r.errors()))
    found.append(Check("shared: upstream logs calls per second, all instances together",
                       f"≤ {UPSTREAM_TARGET} (baseline: {baseline.calls_per_second():.2f}/s from one "
                       f"instance, {baseline.calls_per_second() / max(1, baseline.workers):.2f} per process)",
                       f"{shared.calls_per_second():.2f} from {shared.workers} processes",
                       shared.calls_per_second() <= UPSTREAM_TARGET))
    found.append(Check("shared: poll latency p95", f"≤ baseline's ({ms(baseline.p95())})",
                       ms(shared.p95()), shared.p95() <= baseline.p95()))
    found.append(Check(f"outage: log entries each viewer received ({outage.total:,} in the end)",
                       "all from the page's first on, each once",
                       f"{outage.complete()} of {len(outage.results)} viewers complete",
                       outage.complete() == len(outage.results)))
    gone, back = outage.warnings(GONE), outage.warnings(BACK)
    found.append(Check("outage: warnings in the servers' logs", "one per process as Redis goes, "
                       "one as it is back", f"{gone} gone, {back} back ({outage.workers} processes)",
                       0 < gone == back <= outage.workers))
    return found


def table(runs: list[Run]) -> str:
    """Every run side by side."""
    lines = ["| run | instances (processes) | requests (failed) | poll p50 / p95 / p99 | "
             "upstream logs calls/s | viewers with every entry once | Redis warnings (gone, back) |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        polls = r.polls()
        lines.append(f"| {r.name} | {r.instances} ({r.workers}) | {len(r.samples):,} ({len(r.failed())}) | "
                     f"{ms(percentile(polls, 0.5))} / {ms(percentile(polls, 0.95))} / "
                     f"{ms(percentile(polls, 0.99))} | {r.calls_per_second():.2f} | "
                     f"{r.complete()} of {len(r.results)} | {r.warnings(GONE)}, {r.warnings(BACK)} |")
    return "\n".join(lines)


def section(args: argparse.Namespace, runs: list[Run], found: list[Check], loadavg: str) -> str:
    """The Markdown between the soak-redis markers."""
    command = " ".join(["python", "scripts/soak.py", *map(shlex.quote, sys.argv[1:])])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores (nproc), Python {platform.python_version()}, "
               f"load average before the run {loadavg}")
    rows = ["| measure | target | result | met |", "|---|---|---|---|"]
    rows += [f"| {c.measure} | {c.target} | {c.result} | {MET[c.ok]} |" for c in found]
    outage = next((r.outage for r in runs if r.outage), "")
    return (f"## Shared cache (Redis) soak\n\nMade by `{command}` on {when} ({machine}).\n\n"
            f"Each instance: the Procfile's `web:` line, `{procfile_command()}`, on a free loopback port "
            "with `DASHBOARD_AUTH=service`; in the shared and outage runs with `DASHBOARD_REDIS_URL` "
            "naming one redis-server (Debian's, loopback, no persistence). Load: "
            f"{args.viewers} viewers of one running job for {args.seconds:g} s (it grows by a log entry "
            "and a step every 0.5-1 s), opening the page and polling as htmx does (summary 3 s, logs "
            "2 s, artifacts and charts 10 s), alternating between the instances; then the job "
            f"completes and every poller has its last answer. Outage run: {outage or 'not run'}.\n\n"
            + "\n".join(rows) + "\n\n" + table(runs) + "\n")


def main(args: argparse.Namespace) -> int:
    """Run the three runs, write the section, say what missed."""
    loadavg = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    baseline = run(args, "baseline", 1, None)
    with RedisServer() as redis:
        shared = run(args, "shared", 2, redis)
    with RedisServer() as redis:
        outage = run(args, "outage", 2, redis, outage=True)
    runs = [baseline, shared, outage]
    found = checks(baseline, shared, outage)
    text = section(args, runs, found, loadavg)
    print("\n" + text)
    out = Path(args.out)
    write_section(out, text, START, END)
    print(f"written to {out}")
    missed = [c.measure for c in found if c.ok is False]
    if missed:
        print("missed: " + "; ".join(missed), file=sys.stderr)
    for r in runs:
        if r.errors():
            print(f"{r.name}: " + "\n".join(r.errors()[:10]), file=sys.stderr)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main(arguments()))

"""The "last good run" part of the triage card: which earlier run of this kind worked, where this
run left it on each main series (loss, eval loss, reward), and links to it and to the comparison.

Built by the `lastgood` fragment. Everything about the other runs comes from the platform and is
untrusted: names are shortened text, and every URL is built by the web layer from validated ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from dashboard.analysis.baseline import Baseline
from dashboard.analysis.divergence import Divergence, compare
from dashboard.analysis.series import is_series, series, step_text
from dashboard.models import Job
from dashboard.viewmodels import format as fmt
from dashboard.viewmodels.charts import LOSS_KEYS, REWARD_KEYS, VAL_LOSS_KEYS

# (what a person calls it, its keys as the charts read them, the side that is worse)
MAIN_SERIES = (("loss", LOSS_KEYS, 1), ("eval loss", VAL_LOSS_KEYS, 1), ("reward", REWARD_KEYS, -1))
MAX_NAME = 80
SAME_SPEC = "of this kind (same trainer, model and dataset)"
ZOOM_SHARE = 0.05  # the comparison opens zoomed to the step ± this share of the run's steps


@dataclass(frozen=True)
class RunLink:
    """Another run of this kind: its name, where its pane is, when it was created."""

    name: str
    url: str
    created: str


@dataclass(frozen=True)
class Claim:
    """One main series: where this run left the good one, or that it followed it."""

    label: str  # "loss", "eval loss", "reward"
    verb: str  # "left" or "followed" (the good run's name goes after it)
    rest: str  # the step and the values
    compare_url: str  # the comparison, zoomed around the step when there is one
    behind: bool  # it is beyond the good run on the worse side, and still is at its last step


@dataclass(frozen=True)
class LastGoodView:
    """What the card says about the last good run (every part may be empty)."""

    good: RunLink | None
    failed: tuple[RunLink, ...]  # attempts of this kind since the good run, newest first
    failed_sentence: str
    claims: tuple[Claim, ...]
    note: str  # a muted line when there is nothing (or nothing more) to say
    compare_url: str  # the comparison with the good run, zoomed on the first step where it left it
    running: bool  # the job still runs: a claim that it is behind is a warning
    poll_url: str | None  # a running job's part refreshes itself, slowly

    @property
    def behind(self) -> bool:
        """A running job is already clearly behind the good run at the same step."""
        return self.running and any(claim.behind for claim in self.claims)


def short(name: str) -> str:
    """A run's name cut to MAX_NAME characters."""
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def run_link(job: Job, urls: Mapping[str, str]) -> RunLink:
    """A link to another run (its URL was built from its validated id)."""
    return RunLink(short(job.title), urls.get(job.id, ""), fmt.utc(job.created_at))


UNREADABLE = "The job list could not be read, so this run is not compared with an earlier one."


def unreadable(job: Job, poll_url: str | None, note: str = UNREADABLE) -> LastGoodView:
    """The part when the job list (or the good run) could not be read: only a muted line."""
    return LastGoodView(None, (), "", (), note, "", not job.terminal, poll_url)


def lastgood_view(job: Job, found: Baseline, good: Job | None, urls: Mapping[str, str], base: str,
                  poll_url: str | None) -> LastGoodView:
    """The part for `job`: `found` is the search's answer, `good` the good run read in full,
    `urls` the pane of each run by id, `base` this job's pane."""
    failed = tuple(run_link(r, urls) for r in found.failed)
    of_kind = "of this name" if found.kind in ("name", "retry") else SAME_SPEC
    failed_sentence = failed_text(len(failed), of_kind, found.good is not None)
    if found.good is None or good is None:
        note = "" if failed else f"No earlier completed run {of_kind} to compare with."
        if not found.kind:
            note = f"No earlier completed run of this name, or {SAME_SPEC}, to compare with."
        return LastGoodView(None, failed, failed_sentence, (), note, "", not job.terminal, poll_url)
    plain = f"{base}?{urlencode({'compare': good.id})}"
    axes: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # each run's axes, read once for all its series
    claims = tuple(c for c in (claim(job, good, plain, axes, *main) for main in MAIN_SERIES) if c)
    note = "" if claims else "No series both runs logged on the same steps could be compared."
    zoomed = next((c.compare_url for c in claims if c.verb == "left"), plain)
    return LastGoodView(run_link(found.good, urls), failed, failed_sentence, claims, note, zoomed,
                        not job.terminal, poll_url)


def failed_text(count: int, of_kind: str, found: bool) -> str:
    """`the last 2 runs of this name failed as well`, or ""."""
    if not count:
        return ""
    runs = "the last run" if count == 1 else f"the last {count} runs"
    return f"{runs} {of_kind} failed as well" + ("" if found else ", and none before them completed")


def claim(job: Job, good: Job, plain: str, axes: tuple[dict[str, Any], dict[str, Any]], label: str,
          keys: tuple[str, ...], worse: int) -> Claim | None:
    """The sentence for one main series both runs logged, or None (nothing shared, or no claim)."""
    key = next((k for k in keys if k in job.metrics and k in good.metrics
                and is_series(job.metrics[k]) and is_series(good.metrics[k])), None)
    if key is None:
        return None
    found = compare(key, series(good.metrics, key, axes[1]), series(job.metrics, key, axes[0]))
    if found is None:
        return None
    if found.step is None:
        return Claim(label, "followed", followed_text(found, job.terminal), plain, False)
    span = max(10.0, ZOOM_SHARE * abs(found.last_step))
    zoom = f"{max(0.0, found.step - span):g}:{found.step + span:g}"
    return Claim(label, "left", left_text(found), f"{plain}&{urlencode({'zoom': zoom}, safe=':')}",
                 found.side == worse and found.still_off)


def left_text(found: Divergence) -> str:
    """`at step 11,944 and kept rising: 24.36 vs 0.8593 at step 12,000`."""
    assert found.step is not None
    if not found.still_off:
        how = "then came back to it"
    elif found.kept_going:
        how = "and kept rising" if found.side > 0 else "and kept falling"
    else:
        how = "and stayed above it" if found.side > 0 else "and stayed below it"
    return (f"at step {step_text(found.step)} {how}: {values_at(found)}")


def followed_text(found: Divergence, terminal: bool) -> str:
    """`up to step 20,000, where this run stopped (…)`, or a word on a tail too short to judge."""
    if found.unsure_tail:
        points = "point is" if found.unsure_tail == 1 else f"{found.unsure_tail} points are"
        return (f"up to step {step_text(found.last_step)} ({values_at(found)}); "
                f"its last {points} off, too few to tell")
    where = ", where this run stopped" if terminal else " so far"
    return f"up to step {step_text(found.last_step)}{where} ({values_at(found)})"


def values_at(found: Divergence) -> str:
    """`24.36 vs 0.8593 at step 12,000`."""
    return f"{fmt.number(found.ours)} vs {fmt.number(found.theirs)} at step {step_text(found.last_step)}"

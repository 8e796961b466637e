"""The on-call parts of the job page, built in one go for the page and for its polled summary:
the triage card (failed, cancelled, stalled or anomalous jobs), the "ready to ship?" checklist
(completed jobs) and the anomalies marked on the charts.

A part that fails is logged and left out (`failed`): the page must never become an error page
because of the triage.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from dashboard.analysis import progress
from dashboard.analysis.progress import stall
from dashboard.models import Job, parse_logs
from dashboard.viewmodels import triage_card as triage
from dashboard.viewmodels.checklist import Checklist, checklist
from dashboard.viewmodels.logs_panel import LOG_WINDOW
from dashboard.viewmodels.markers import Markers
from dashboard.viewmodels.triage_card import Card, Evidence, Marked

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class OnCallView:
    """The on-call parts of one job page (each None when the job needs none)."""

    card: Card | None
    checklist: Checklist | None
    marked: tuple[Marked, ...]  # the anomalies marked on the charts, each with its log entry
    failed: bool  # a part could not be computed (the page says so; the log has the error)
    holds_error: bool  # the card shows the job's error, so the summary's callout is left out


def oncall_view(job: Job, items: Sequence[Any], on_page: Container[int], artifacts: dict[str, Any],
                now: datetime, markers: Markers, link: str) -> OnCallView:
    """The on-call parts of a job page: `items` are every raw log entry, `on_page` the positions
    of those the logs panel shows, `markers` the page's series reader (shared with the charts),
    `link` the job page's absolute URL (for the incident summary)."""
    failures: list[str] = []

    def part(name: str, build: Callable[[], T], fallback: T) -> T:
        try:
            return build()
        except Exception:
            log.exception("on-call %s of job %s failed", name, job.id)
            failures.append(name)
            return fallback

    entries = parse_logs(items, max(0, len(items) - LOG_WINDOW))  # the newest: its last signs of life
    found, ended = markers.anomalies, triage.ended_at(job, entries)
    shown = part("marked", lambda: triage.marked(job, items, found, ended, on_page), ())
    halted = part("stall", lambda: stall(job, entries, now), None)
    reason = triage.triage_reason(job, halted, found)
    if reason is None and job.status != "completed":  # nothing to show but the markers
        return OnCallView(None, None, shown, bool(failures), False)
    seen = part("checkpoints", lambda: Evidence(items, entries, on_page, found, shown, halted,
                                                progress.checkpoint_list(artifacts or job.artifacts)), None)
    card = checks = None
    if seen and reason is not None:
        card = part("card", lambda: triage.triage_card(job, reason, seen, now), None)
    if card:
        text = part("incident", lambda: triage.incident_markdown(job, card, link), "")
        card = dataclasses.replace(card, incident=text)
    if seen and job.status == "completed":
        checks = part("checklist", lambda: checklist(job, seen, markers.keys, markers.read), None)
    return OnCallView(card, checks, shown, bool(failures), bool(job.terminal and job.error and card))

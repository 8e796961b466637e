"""The triage card of a failed, cancelled, stalled or anomalous job: what went wrong and where,
each log line a jump into the logs panel; and its incident summary, Markdown for a chat or a ticket.

Every value in the summary comes from the job, so it is escaped: inline text loses its Markdown
meaning, and log lines go into a fenced block whose fence is longer than any run of backticks inside.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashboard.analysis import logscan, progress
from dashboard.analysis.anomalies import Anomalies, Anomaly
from dashboard.analysis.progress import Checkpoint, Stall
from dashboard.analysis.series import step_text
from dashboard.models import Job, LogEntry
from dashboard.viewmodels import format as fmt

TITLES = {"failed": "Why it failed", "cancelled": "Why it stopped: cancelled",
          "stalled": "Stalled: no progress", "anomaly": "Something looks wrong"}
MAX_INLINE = 500
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
BACKTICKS = re.compile(r"`+")


@dataclass(frozen=True)
class LogLink:
    """A jump to one log entry: on this page (`#log-N`) or, when older, in the full download."""

    index: int
    level: str
    time: datetime | None
    line: str  # what the entry says, in one line
    href: str
    on_page: bool
    time_utc: str  # `2026-11-20 10:00:02 UTC`
    time_iso: str  # for `<time datetime>`
    clock: str  # `10:00:02` (UTC), the date being in the title


def log_link(items: Sequence[Any], index: int, on_page: Container[int]) -> LogLink:
    """A link to entry `index` of the job's raw log items (`on_page`: the entries the page shows)."""
    entry = LogEntry.from_api(index, items[index])
    when = entry.timestamp
    return LogLink(index, entry.level, when, logscan.headline(entry.message) or "(no message)",
                   f"#log-{index}", index in on_page,  # js/logpanel.js loads one older than the page's window
                   fmt.utc(when), fmt.iso(when), when.strftime("%H:%M:%S") if when else "—")


@dataclass(frozen=True)
class Marked:
    """An anomaly and the log entry of its moment."""

    anomaly: Anomaly
    link: LogLink | None

    @property
    def step_attr(self) -> str:
        """The x value as the chart's annotation holds it (for js/charts.js to match)."""
        x = self.anomaly.x
        return str(int(x)) if float(x).is_integer() else repr(float(x))


def marked(job: Job, items: Sequence[Any], anomalies: Anomalies, ended: datetime | None,
           on_page: Container[int]) -> tuple[Marked, ...]:
    """Each anomaly with the log entry of its moment (the card and the chart list share it)."""
    steps = logscan.StepIndex.of(items) if anomalies.found else None
    found = [(a, logscan.entry_for(job, items, a, ended, steps)) for a in anomalies.found]
    return tuple(Marked(a, log_link(items, i, on_page) if i is not None else None) for a, i in found)


@dataclass(frozen=True)
class Card:
    """What went wrong with a failed, cancelled or suspicious running job, and where."""

    reason: str  # "failed", "cancelled", "stalled" or "anomaly"
    error: str | None
    first_error: LogLink | None
    errors: int
    last_entries: tuple[LogLink, ...]
    last_step: float | None
    planned: int | None
    checkpoint: Checkpoint | None
    stall: Stall | None
    marked: tuple[Marked, ...]
    first_bad: Marked | None
    ended: datetime | None
    before_bad: Checkpoint | None = None  # the last checkpoint saved before the first bad step
    cancel_requested_at: datetime | None = None
    incident: str = ""  # the Markdown incident summary, for a chat or a ticket
    cancel_utc: str = ""  # when the cancellation was asked for, in UTC
    since_sentence: str = "—"  # '3h 02m ago' since the last entry ...
    last_log_utc: str = ""  # ... its time in UTC ...
    last_log_iso: str = ""  # ... and in ISO 8601, "" without one (the browser keeps "… ago" current)

    @property
    def title(self) -> str:
        """The card's heading."""
        return TITLES[self.reason]

    @property
    def step_sentence(self) -> str:
        """'12,050 of 20,000 planned (60 %)', or what is known."""
        if self.last_step is None:
            return "no step was recorded"
        text = step_text(self.last_step)
        if self.planned:
            return f"{text} of {self.planned:,} planned ({100 * self.last_step / self.planned:.0f} %)"
        return text

    @property
    def checkpoint_sentence(self) -> str:
        """'checkpoint-6-step12000 (step 12,000; 50 steps before the last)', or a warning."""
        found = self.checkpoint
        if found is None:
            return "none saved: there is nothing to resume from or publish"
        parts = []
        if found.step is not None:
            parts.append(f"step {found.step:,}")
            if self.last_step is not None and self.last_step > found.step:
                parts.append(f"{step_text(self.last_step - found.step)} steps before the last")
        text = found.name + (f" ({'; '.join(parts)})" if parts else "")
        bad = self.first_bad.anomaly if self.first_bad else None
        if bad and bad.axis == "Step" and found.step is not None and found.step >= bad.x:
            text += f", saved after the first bad step ({step_text(bad.x)})"
            if self.before_bad:
                text += f": {self.before_bad.name} is the last one saved before it"
        return text


def triage_reason(job: Job, stall: Stall | None, anomalies: Anomalies) -> str | None:
    """Why the job gets a triage card, or None when it does not need one."""
    if job.status in ("failed", "cancelled"):
        return job.status
    if job.status == "running" and stall:
        return "stalled"
    if job.status == "running" and anomalies.found:
        return "anomaly"
    return None


def ended_at(job: Job, entries: Sequence[LogEntry]) -> datetime | None:
    """When the job stopped, or its latest sign of life."""
    times = [e.timestamp for e in entries if e.timestamp]
    return job.completed_at or job.cancel_requested_at or (max(times) if times else None)


@dataclass(frozen=True)
class Evidence:
    """What the card is built from: the job's logs (raw, newest parsed, shown), anomalies, checkpoints."""

    items: Sequence[Any]
    entries: Sequence[LogEntry]
    on_page: Container[int]
    anomalies: Anomalies
    marked: tuple[Marked, ...]
    stall: Stall | None
    checkpoints: tuple[Checkpoint, ...]


def triage_card(job: Job, reason: str, seen: Evidence, now: datetime) -> Card:
    """The triage card of a job that needs one (`reason`: why)."""
    items = seen.items
    times = [e.timestamp for e in seen.entries if e.timestamp]
    last_log = max(times) if times else None
    first_error = logscan.first_error(items)
    last = tuple(log_link(items, i, seen.on_page)
                 for i in range(max(0, len(items) - 3), len(items)))  # the last 3 entries
    first = seen.anomalies.first
    before = [c for c in seen.checkpoints if first and c.step is not None and c.step < first.x]
    return Card(
        reason=reason, error=job.error,
        first_error=log_link(items, first_error, seen.on_page) if first_error is not None else None,
        errors=logscan.error_count(items) if first_error is not None else 0,
        last_entries=last, last_step=progress.last_step(job), planned=progress.planned_steps(job),
        checkpoint=seen.checkpoints[-1] if seen.checkpoints else None, stall=seen.stall, marked=seen.marked,
        first_bad=next((m for m in seen.marked if first and m.anomaly == first), None),
        ended=ended_at(job, seen.entries), before_bad=before[-1] if before else None,
        cancel_requested_at=job.cancel_requested_at, cancel_utc=fmt.utc(job.cancel_requested_at),
        since_sentence=f"{fmt.duration((now - last_log).total_seconds())} ago" if last_log else "—",
        last_log_utc=fmt.utc(last_log), last_log_iso=fmt.iso(last_log),
    )


def inline(text: str | None, limit: int = MAX_INLINE) -> str:
    """Untrusted text as plain inline Markdown: one line, cut to `limit`, special characters escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", fmt.one_line(text or "", limit))


def code_span(text: str) -> str:
    """Text as an inline code span, whatever backticks it holds."""
    flat = " ".join(text.split())
    fence = "`" * (max(map(len, BACKTICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(lines: list[str], info: str = "text") -> str:
    """Lines in a fenced code block that nothing inside can close."""
    body = "\n".join(lines)
    fence = "`" * max(3, max(map(len, BACKTICKS.findall(body)), default=0) + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def incident_markdown(job: Job, card: Card, link: str) -> str:
    """The incident summary of a job: title, id, status, error, first bad step, link, key log lines."""
    out = [f"**Training job {inline(job.status)}: {inline(job.title)}** ({code_span(job.id)})", ""]
    when = "ended" if job.terminal else "last log entry"
    out.append(f"- Status: {inline(job.status)}" + (f", {when} {fmt.utc(card.ended)}" if card.ended else ""))
    if card.error:
        out.append(f"- Error: {inline(card.error)}")
    if card.stall:
        out.append(f"- Stalled: {inline(card.stall.sentence)}")
    if card.first_bad:
        out.append(f"- First bad step: {inline(card.first_bad.anomaly.sentence)}")
    elif job.status == "failed" and card.first_error and card.first_error.time:
        out.append(f"- First error: {card.first_error.time_utc}")
    out.append(f"- Last step: {inline(card.step_sentence)}")
    out.append(f"- Last checkpoint: {inline(card.checkpoint_sentence)}")
    out.append(f"- Link: <{link}>")
    lines: dict[int, str] = {}  # by entry, each once
    for entry in (card.first_error, *(m.link for m in card.marked), *card.last_entries):
        if entry is not None:
            lines.setdefault(entry.index,
                             f"{entry.time_utc} {entry.level.upper():<7} {logscan.headline(entry.line)}")
    if lines:
        out += ["", "Key log lines:", fenced([lines[index] for index in sorted(lines)])]
    return "\n".join(out) + "\n"

"""The incident summary: a job's triage card as Markdown for a chat or a ticket.

Every value comes from the job, so it is escaped: inline text loses its Markdown meaning, and
log lines go into a fenced block whose fence is longer than any run of backticks inside it.
"""

from __future__ import annotations

import re

from dashboard.analysis.logscan import headline
from dashboard.models import Job
from dashboard.viewmodels import format as fmt
from dashboard.viewmodels.triage_card import Card

MAX_INLINE = 500
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
BACKTICKS = re.compile(r"`+")


def inline(text: str | None, limit: int = MAX_INLINE) -> str:
    """Untrusted text as plain inline Markdown: one line, cut to `limit`, special characters escaped."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", fmt.one_line(text or "", limit))


def code_span(text: str) -> str:
    """Text as an inline code span, whatever backticks it holds."""
    flat = " ".join(text.split())
    longest = max((len(run) for run in BACKTICKS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def fenced(lines: list[str], info: str = "text") -> str:
    """Lines in a fenced code block that nothing inside can close."""
    body = "\n".join(lines)
    longest = max((len(run) for run in BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def markdown(job: Job, card: Card, link: str) -> str:
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
    lines = []
    seen = set()
    for entry in (card.first_error, *(m.link for m in card.marked), *card.last_entries):
        if entry is None or entry.index in seen:
            continue
        seen.add(entry.index)
        lines.append((entry.index, f"{entry.time_utc} {entry.level.upper():<7} {headline(entry.line)}"))
    if lines:
        out += ["", "Key log lines:", fenced([text for _, text in sorted(lines)])]
    return "\n".join(out) + "\n"

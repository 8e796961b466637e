"""The search for a job's last good run, answered at most once a minute per job, and the runs that
Retry started here (so a retried run is compared with the run it was retried from).

The search reads the job list (pages of 100, at most MAX_PAGES of them, through the app's cached
source) and keeps only its answer: the few runs it names, without their metrics. So a workspace
of 10,000 jobs costs at most MAX_PAGES list reads per job and minute, however many people look;
the comparison of two 10^6-step runs is likewise made once a minute per job.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable

from flask import current_app

from dashboard.analysis.baseline import Baseline, last_good
from dashboard.models import Job
from dashboard.sources import JobSource, SourceError, parse_page
from dashboard.validation import valid_job_id
from dashboard.viewmodels.lastgood import LastGoodView, lastgood_view, unreadable
from dashboard.web.kept import Kept

log = logging.getLogger(__name__)
SEARCH_SECONDS = 60.0  # how long one search's answer is used
FAILED_SECONDS = 10.0  # how long a list that could not be read is not asked again
MAX_PAGES = 10
PAGE_SIZE = 100
MAX_KEPT = 1024  # answers (and retries) kept, the oldest let go first

Key = tuple[str, str, str, str]  # (credentials' fingerprint, org, workspace, job id)
UNREADABLE = Baseline(None, (), "unreadable")  # the answer when the job list could not be read


class Searches:
    """One app's kept answers, and the runs its Retry started."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.answers: Kept[Baseline] = Kept(MAX_KEPT, clock)
        self.retried_from: Kept[str] = Kept(MAX_KEPT, clock)
        # The comparison itself, a minute per job, status and poll: a running 10^6-step job costs
        # one comparison a minute however many watch it (its warning is at most a minute late).
        self.views: Kept[tuple[str, LastGoodView]] = Kept(MAX_KEPT, clock)


def kept() -> Searches:
    """This app's searches (each app has its own)."""
    return current_app.extensions.setdefault("lastgood", Searches())


def remember_retry(source: JobSource, org: str, workspace: str, new_id: str, original_id: str) -> None:
    """Note that Retry started `new_id` from `original_id` (while this process lives; bounded)."""
    if valid_job_id(new_id) and valid_job_id(original_id):
        kept().retried_from.put((source.cache_scope, org, workspace, new_id), original_id, math.inf)


def search(memo: Searches, source: JobSource, org: str, workspace: str, job: Job) -> Baseline:
    """The job's baseline as found within the last minute, or found now (UNREADABLE when the job
    list could not be read)."""
    key = (source.cache_scope, org, workspace, job.id)
    found = memo.answers.get(key)
    if found is not None:
        return found
    try:
        found = _search(source, org, workspace, job, memo.retried_from.get(key))
    except SourceError as exc:
        log.warning("the last good run of job %s: the job list could not be read (%s)", job.id, exc.kind)
        found = UNREADABLE
    memo.answers.put(key, found, FAILED_SECONDS if found is UNREADABLE else SEARCH_SECONDS)
    return found


def _search(source: JobSource, org: str, workspace: str, job: Job, original: str | None) -> Baseline:
    """Read the list page by page until a completed run of this name turns up (the list is newest
    first, so nothing further can be more recent) or MAX_PAGES were read."""
    origin = None
    if original is not None:
        try:
            read = Job.from_api(source.get_job(org, workspace, original))
            origin = slim(dataclasses.replace(read, id=original))  # the id asked for, not the payload's
        except SourceError:
            origin = None  # gone or unreadable: the list decides
    rows: list[Job] = []
    for number in range(1, MAX_PAGES + 1):
        page = parse_page(source.list_jobs(org, workspace, page=number, page_size=PAGE_SIZE), number,
                          PAGE_SIZE)
        rows.extend(slim(row) for row in page.items if valid_job_id(row.id))  # only valid ids go on
        found = last_good(job, rows, origin)
        if found.good is not None and found.kind in ("name", "retry"):
            return found
        if number * PAGE_SIZE >= page.total or not page.items:
            break
    return last_good(job, rows, origin)


def slim(job: Job) -> Job:
    """A list row without its payload maps (a list can carry whole metrics): what an answer keeps."""
    return dataclasses.replace(job, metrics={}, artifacts={}, config={})


def part(memo: Searches, source: JobSource, org: str, workspace: str, job: Job,
         url_of: Callable[[str], str], poll_url: str | None) -> LastGoodView:
    """The triage card's part about the last good run; never an error: a muted line instead."""
    found = search(memo, source, org, workspace, job)
    if found is UNREADABLE:
        return unreadable(job, poll_url)
    key = (source.cache_scope, org, workspace, f"{job.id} {job.status} {poll_url}")
    done = memo.views.get(key)
    if done is not None and found.good is not None and done[0] == found.good.id:
        return done[1]
    good = None
    if found.good is not None:
        try:
            good = Job.from_api(source.get_job(org, workspace, found.good.id))
        except SourceError as exc:
            log.warning("the last good run of job %s could not be read (%s)", job.id, exc.kind)
            return unreadable(job, poll_url)
    urls = {run.id: url_of(run.id) for run in (*found.failed, *([found.good] if found.good else []))}
    try:
        view = lastgood_view(job, found, good, urls, url_of(job.id), poll_url)
    except Exception:  # hostile data the rule did not foresee: say nothing rather than break the card
        log.exception("comparing job %s with its last good run failed", job.id)
        return unreadable(job, poll_url, "The comparison with the last good run could not be computed; "
                          "the error is in the dashboard's log.")
    if good is not None:
        memo.views.put(key, (good.id, view), SEARCH_SECONDS)
    return view

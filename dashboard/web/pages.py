"""Full pages: the job list, the job pane, and the Cancel / Retry actions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    stream_template,
    url_for,
)
from werkzeug.wrappers import Response

from dashboard.models import Job
from dashboard.sources import Pane, SourceError, load_pane, parse_page, read_only
from dashboard.validation import valid_job_id, valid_slug
from dashboard.viewmodels.chart_controls import parse_options
from dashboard.viewmodels.joblist import job_rows, matches
from dashboard.viewmodels.logs import parse_filter
from dashboard.viewmodels.pane import pane_view
from dashboard.web import csrf, current

bp = Blueprint("pages", __name__)
JOB = "/<org>/<workspace>/training/jobs/<job_id>"
PAGE_SIZE = 100
SEARCH_PAGES = 20  # search reads at most this many pages of 100 jobs
FLUSH = "<!--flush-->"  # templates mark where a streamed page may go out
LIST_STATUSES = ("queued", "running", "completed", "failed", "cancelled")


@bp.url_value_preprocessor
def validate_path(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Refuse malformed organization, workspace or job id before any upstream call."""
    check_path(values)


def check_path(values: dict[str, Any] | None) -> None:
    """Abort with 404 when a path parameter is not a slug or a UUID."""
    values = values or {}
    for key in ("org", "workspace"):
        if key in values and not valid_slug(values[key]):
            abort(404, description=f"{key} {values[key]!r} is not a valid slug")
    if "job_id" in values and not valid_job_id(values["job_id"]):
        abort(404, description=f"{values['job_id']!r} is not a job id (a UUID)")


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness probe."""
    return jsonify(status="ok")


@bp.get("/")
def index() -> Response:
    """Open the default scope's job list."""
    org, workspace = current.default_scope()
    return redirect(url_for(".job_list", org=org, workspace=workspace))


@bp.get("/jobs/<job_id>")
def job_shortcut(job_id: str) -> Response:
    """Redirect a bare job id to its full URL in the default scope."""
    org, workspace = current.default_scope()
    return redirect(url_for(".job_page", org=org, workspace=workspace, job_id=job_id))


@bp.get("/<org>/<workspace>/training/jobs")
def job_list(org: str, workspace: str) -> str:
    """The job list, with search over the visible fields and pages of 100."""
    query = request.args.get("q", "").strip()
    status = request.args.get("status", "").strip() or None
    if status not in (None, *LIST_STATUSES):
        abort(400, description=f"unknown status {status!r}: use one of {', '.join(LIST_STATUSES)}")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    source = current.source()
    if query:
        jobs: list[Job] = []
        for number in range(1, SEARCH_PAGES + 1):
            result = parse_page(source.list_jobs(org, workspace, page=number, page_size=PAGE_SIZE,
                                                 status=status), number, PAGE_SIZE)
            jobs.extend(result.items)
            if number * PAGE_SIZE >= result.total or not result.items:
                break
        found = [job for job in jobs if matches(job, query)]
        total, shown = len(found), found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    else:
        result = parse_page(source.list_jobs(org, workspace, page=page, page_size=PAGE_SIZE,
                                             status=status), page, PAGE_SIZE)
        total, shown = result.total, result.items
    return render_template(
        "jobs.html", org=org, workspace=workspace, query=query, status=status or "", page=page,
        pages=max(1, -(-total // PAGE_SIZE)), total=total,
        rows=job_rows(shown, datetime.now(UTC)),
    )


@bp.get(JOB)
def job_page(org: str, workspace: str, job_id: str) -> Response:
    """The job pane, streamed: the head goes out first, then each chart as it is built, so the
    browser loads scripts and draws while the server works. A finished job's page revalidates
    with an ETag, so a repeat visit is a 304."""
    options, chart_notes = parse_options(request.args)  # unusable values: ignored, with a note
    log_filter, log_notes = parse_filter(request.args)
    pane = load_pane(current.source(), org, workspace, job_id)
    # A page with a flash message waiting (after Cancel / Retry) must be rendered, not a 304.
    etag = finished_etag(pane) if pane.job.terminal and not session.get("_flashes") else None
    if etag and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        # Flashes are read now: the session cookie goes out with the head, before the body.
        csrf.token()  # made now: the session cookie goes out with the head, before the forms
        link = url_for(".job_page", org=org, workspace=workspace, job_id=job_id, _external=True)
        view = pane_view(pane, datetime.now(UTC), options, log_filter, tuple(chart_notes), tuple(log_notes),
                         link=link, base=current.job_url(), chosen=request.args.get("checkpoint"),
                         job_id=job_id)
        chunks = stream_template("job.html", org=org, workspace=workspace,
                                 flashes=get_flashed_messages(with_categories=True), **view)
        response = Response(in_parts(chunks), mimetype="text/html")
    if etag:
        response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def finished_etag(pane: Pane) -> str:
    """A validator for a finished job's page: what could still change, and this app's build."""
    job, last = pane.job, pane.logs[-1] if pane.logs else None
    parts = (job.id, job.status, str(job.completed_at), job.error, pane.log_total,
             last and (last.message, str(last.timestamp)), json.dumps(pane.artifacts, default=str),
             sorted((k, len(v) if isinstance(v, list) else str(v)) for k, v in job.metrics.items()),
             current_app.config["BUILD_ID"], viewer_name())
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def viewer_name() -> str | None:
    """Who the page is for (its header names them): one browser, two viewers, two ETags."""
    from dashboard.web import auth

    person = auth.viewer()
    return person.name if person else None


def in_parts(chunks: Iterator[str]) -> Iterator[str]:
    """Regroup a template stream into the parts between FLUSH markers (few, large writes)."""
    buffer: list[str] = []
    for chunk in chunks:
        buffer.append(chunk)
        if FLUSH in chunk:
            yield "".join(buffer)
            buffer = []
    yield "".join(buffer)


@bp.route(JOB + "/<any(cancel, retry):action>", methods=["GET", "POST"])
def job_action(org: str, workspace: str, job_id: str, action: str) -> Response | str:
    """Confirm (GET) and then perform (POST) a Cancel or Retry."""
    source = current.source()
    if source.read_only:
        shared = current.settings().auth == "service"
        raise read_only("this shared dashboard (service mode)" if shared else f"the {source.kind} source")
    if request.method == "POST":
        csrf.check()
    job = Job.from_api(source.get_job(org, workspace, job_id))
    if request.method == "GET":
        return render_template("confirm.html", org=org, workspace=workspace, job=job, action=action)
    back = url_for(".job_page", org=org, workspace=workspace, job_id=job_id)
    try:
        result = Job.from_api(getattr(source, action)(org, workspace, job_id))
    except SourceError as exc:
        if exc.status != 409:
            raise
        flash(f"Could not {action}: {exc.message}. The job changed meanwhile; this is its current state.",
              "warning")
        return redirect(back, code=303)
    if action == "retry" and result.id not in ("unknown", job_id):
        flash(f"Retry started a new job, {result.id}.", "info")
        return redirect(url_for(".job_page", org=org, workspace=workspace, job_id=result.id), code=303)
    flash("Cancellation requested." if action == "cancel" else "Retry requested.", "info")
    return redirect(back, code=303)

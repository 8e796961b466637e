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

from dashboard.columns import is_column
from dashboard.models import LIST_STATUSES, Job, LogEntry, Pane
from dashboard.sources import SourceError, load_pane, read_jobs, read_only_error
from dashboard.validation import valid_job_id, valid_slug
from dashboard.viewmodels.chart_controls import parse_options, settle
from dashboard.viewmodels.compare import compare_query
from dashboard.viewmodels.joblist import PAGE_SIZE, list_page
from dashboard.viewmodels.logs import parse_filter
from dashboard.viewmodels.pane import job_pane, page_head
from dashboard.web import compare, csrf, current, lastgood
from dashboard.web.viewer import viewer

bp = Blueprint("pages", __name__)
JOB = "/<org>/<workspace>/training/jobs/<job_id>"
FLUSH = "<!--flush-->"  # templates mark where a streamed page may go out


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
    found = read_jobs(current.source(), org, workspace, status, page, PAGE_SIZE, every=bool(query))
    listed = list_page(found.items, found.total, query, status, page, datetime.now(UTC))
    return render_template("jobs.html", org=org, workspace=workspace, jobs=listed)


@bp.get("/<org>/<workspace>/training/jobs/compare")
def compare_selected(org: str, workspace: str) -> Response:
    """The job list's "Compare selected": the first selected job's pane, compared with the others."""
    chosen = [i for i in request.args.getlist("job") if valid_job_id(i)]
    if not chosen:
        flash("Select at least one job to compare (tick its box in the list).", "warning")
        return redirect(url_for(".job_list", org=org, workspace=workspace), code=303)
    rest = [i for i in dict.fromkeys(chosen) if i != chosen[0]]
    query = compare_query(rest)
    return redirect(current.job_url(org, workspace, chosen[0]) + (f"?{query}" if query else ""), code=303)


@bp.get(JOB)
def job_page(org: str, workspace: str, job_id: str) -> Response:
    """The job pane, streamed: the head goes out first, then each chart as it is built, so the
    browser loads scripts and draws while the server works. A finished job's page revalidates
    with an ETag, so a repeat visit is a 304."""
    options, chart_notes = parse_options(request.args)  # unusable values: ignored, with a note
    log_filter, log_notes = parse_filter(request.args)
    pane = load_pane(current.source(), org, workspace, job_id)
    comparing = bool(request.args.get("compare", "").strip()) or "find" in request.args
    # A page with a flash message waiting (after Cancel / Retry) must be rendered, not a 304;
    # nor a comparison, whose other jobs may still change.
    fixed = pane.job.terminal and not session.get("_flashes") and not comparing
    etag = finished_etag(pane) if fixed else None
    if etag and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        # Flashes are read now: the session cookie goes out with the head, before the body.
        csrf.token()  # made now: the session cookie goes out with the head, before the forms
        links, checkpoint = current.page_links(org, workspace, job_id), request.args.get("checkpoint")
        # The template reads `panes` (one pane, built when read) after the head has gone out, so
        # the browser fetches the scripts while the triage and the charts are computed.
        panes = (job_pane(pane, links, datetime.now(UTC), options, log_filter, tuple(chart_notes),
                          tuple(log_notes), checkpoint,
                          compare.comparison(org, workspace, pane.job, job_id, items=pane.items,
                                             view=settle(pane.job.metrics, options)[0]))
                 for _ in range(1))
        chunks = stream_template("job.html", org=org, workspace=workspace,
                                 head=page_head(pane.job, comparing), panes=panes,
                                 flashes=get_flashed_messages(with_categories=True))
        response = Response(in_parts(chunks), mimetype="text/html")
    if etag:
        response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def finished_etag(pane: Pane) -> str:
    """A validator for a finished job's page: what could still change, and this app's build."""
    job, total, person = pane.job, len(pane.items), viewer()
    last = LogEntry.from_api(total - 1, pane.items[-1]) if total else None
    parts = (job.id, job.status, str(job.completed_at), job.error, total,
             last and (last.message, str(last.timestamp)),
             json.dumps(pane.artifacts, default=str),
             sorted((k, len(v) if is_column(v) else str(v)) for k, v in job.metrics.items()),
             current_app.config["BUILD_ID"], person and person.name)  # one browser, two viewers, two ETags
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


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
        raise read_only_error("this shared dashboard (service mode)" if shared
                              else f"the {source.kind} source")
    if request.method == "POST":
        csrf.check()
    job = Job.from_api(source.get_job(org, workspace, job_id))
    back = current.job_url(org, workspace, job_id)
    if request.method == "GET":
        return render_template("confirm.html", org=org, workspace=workspace, job=job, action=action,
                               back=back)
    try:
        result = Job.from_api(getattr(source, action)(org, workspace, job_id))
    except SourceError as exc:
        if exc.status != 409:
            raise
        flash(f"Could not {action}: {exc.message}. The job changed meanwhile; this is its current state.",
              "warning")
        return redirect(back, code=303)
    if action == "retry" and result.id not in ("unknown", job_id) and valid_job_id(result.id):
        lastgood.remember_retry(source, org, workspace, result.id, job_id)
        flash(f"Retry started a new job, {result.id}; it is compared with the original.", "info")
        return redirect(current.job_url(org, workspace, result.id) + "?" + compare_query([job_id]), code=303)
    flash("Cancellation requested." if action == "cancel" else "Retry requested.", "info")
    return redirect(back, code=303)

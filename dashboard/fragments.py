"""htmx fragments of the job pane; each one stops its poller once the job is terminal.

Under the job URL:
- `summary`   header, actions, tiles, error callout and scalar grid (every 3 s)
- `artifacts` the Artifacts & refs card (every 10 s)
- `logs?after=N` log entries from position N on, and the next poller (every 2 s)
- `charts`    the charts section; app.js updates plots in place so zoom survives (every 10 s)
A response for a terminal job carries HTTP 286, which tells htmx to stop polling.

Asked for on demand: `charts/zoom` (one chart's x range at full resolution), `logs/earlier`
("load earlier") and `logs.jsonl` (every entry, as a download).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, make_response, render_template, request
from werkzeug.wrappers import Response

from dashboard import current
from dashboard.models import Job, log_items, parse_artifacts, parse_logs
from dashboard.pages import JOB, validate_path
from dashboard.sources import gather
from dashboard.views.charts import build_charts
from dashboard.views.figures import zoom_json
from dashboard.views.pane import artifacts_view, charts_view, logs_view, summary_view

bp = Blueprint("fragments", __name__)
bp.url_value_preprocessor(validate_path)
STOP_POLLING = 286


def polled(template: str, stop: bool | None = None, **context: Any) -> Response:
    """Render a fragment; 286 (the last poll) once `stop`, by default once the job is terminal."""
    response = make_response(render_template(template, **context))
    response.status_code = STOP_POLLING if (context["job"].terminal if stop is None else stop) else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def job_and_logs(org: str, workspace: str, job_id: str) -> tuple[Job, list[Any]]:
    """The job and its raw log entries, read concurrently."""
    source = current.source()
    raw_job, raw_logs = gather(lambda: source.get_job(org, workspace, job_id),
                               lambda: source.get_logs(org, workspace, job_id))
    return Job.from_api(raw_job), log_items(raw_logs)


@bp.get(JOB + "/summary")
def summary(org: str, workspace: str, job_id: str) -> Response:
    """The top of the pane."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    return polled("_summary.html", org=org, workspace=workspace,
                  **summary_view(job, datetime.now(UTC)))


@bp.get(JOB + "/artifacts")
def artifacts(org: str, workspace: str, job_id: str) -> Response:
    """The Artifacts & refs card."""
    source = current.source()
    raw_job, raw = gather(lambda: source.get_job(org, workspace, job_id),
                          lambda: source.get_artifacts(org, workspace, job_id))
    job = Job.from_api(raw_job)
    return polled("_artifacts.html", org=org, workspace=workspace,
                  **artifacts_view(job, parse_artifacts(raw)))


@bp.get(JOB + "/logs")
def logs(org: str, workspace: str, job_id: str) -> Response:
    """Log entries the browser has not seen yet, and the poller for the next ones."""
    after = max(0, request.args.get("after", 0, type=int) or 0)
    final = request.args.get("final") == "1"
    job, items = job_and_logs(org, workspace, job_id)
    view = logs_view(job, parse_logs(items, after), len(items), after, final)
    return polled("_logs_update.html", stop=view["log_next"] is None, org=org, workspace=workspace,
                  **view)


@bp.get(JOB + "/charts")
def charts(org: str, workspace: str, job_id: str) -> Response:
    """The charts section, for app.js to merge into the plots on screen."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    return polled("_charts.html", org=org, workspace=workspace, **charts_view(job))


def finite_arg(name: str) -> float | None:
    """A finite float query argument, or None."""
    value = request.args.get(name, type=float)
    return value if value is not None and math.isfinite(value) else None


@bp.get(JOB + "/charts/zoom")
def chart_zoom(org: str, workspace: str, job_id: str) -> Response:
    """One chart's traces over an x range at full resolution within the point budget."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    wanted = request.args.get("chart", "")
    chart = next((c for c in build_charts(job) if c.id == wanted and c.series), None)
    if chart is None:
        abort(404, description=f"no chart {wanted!r} with data in this job")
    pixels = request.args.get("px", 600, type=int) or 600
    body = zoom_json(chart, finite_arg("x0"), finite_arg("x1"), budget=2 * pixels)
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


EARLIER_PAGE = 1000


@bp.get(JOB + "/logs/earlier")
def logs_earlier(org: str, workspace: str, job_id: str) -> Response:
    """The page of log entries just before position `before`, for "load earlier"."""
    before = max(0, request.args.get("before", 0, type=int) or 0)
    job, items = job_and_logs(org, workspace, job_id)
    before = min(before, len(items))
    start = max(0, before - EARLIER_PAGE)
    entries = parse_logs(items[:before], start)
    return polled("_logs_earlier.html", stop=False, org=org, workspace=workspace,
                  **logs_view(job, entries, len(items)))


def jsonl_line(item: object) -> str:
    """One log entry as a JSON line, whatever it holds."""
    try:
        return json.dumps(item, ensure_ascii=False, default=str) + "\n"
    except (RecursionError, ValueError):
        return json.dumps({"unreadable_entry": "nested too deep to write out"}) + "\n"


@bp.get(JOB + "/logs.jsonl")
def logs_download(org: str, workspace: str, job_id: str) -> Response:
    """Every log entry of the job, one JSON object a line, as a download."""
    items = log_items(current.source().get_logs(org, workspace, job_id))
    body = "".join(jsonl_line(item) for item in items)
    response = make_response(body)
    response.mimetype = "application/x-ndjson"
    response.headers["Content-Disposition"] = f'attachment; filename="{job_id}-logs.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response

"""htmx fragments of the job pane; each one stops its poller once the job is terminal.

Under the job URL:
- `summary`   header, actions, tiles, error callout and scalar grid (every 3 s)
- `artifacts` the Artifacts & refs card (every 10 s)
- `logs?after=N` log entries from position N on, and the next poller (every 2 s)
- `charts`    the charts section; app.js updates plots in place so zoom survives (every 10 s)
A response for a terminal job carries HTTP 286, which tells htmx to stop polling.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, make_response, render_template, request
from werkzeug.wrappers import Response

from dashboard import current
from dashboard.models import Job, parse_artifacts, parse_logs
from dashboard.pages import JOB, validate_path
from dashboard.sources import gather
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
    """Log entries the browser has not seen yet, and the poller for the next ones.

    The job and its logs are read concurrently (and may come from the short cache), so the
    first poll that sees a terminal job may hold logs from just before the end. It asks for
    one more poll (`final=1`); that one reads logs younger than the terminal status and stops.
    """
    after = max(0, request.args.get("after", 0, type=int) or 0)
    final = request.args.get("final") == "1"
    source = current.source()
    raw_job, raw_logs = gather(lambda: source.get_job(org, workspace, job_id),
                               lambda: source.get_logs(org, workspace, job_id))
    job = Job.from_api(raw_job)
    done = job.terminal and final
    return polled("_logs_update.html", stop=done, org=org, workspace=workspace, log_done=done,
                  log_final=job.terminal, **logs_view(job, parse_logs(raw_logs), after))


@bp.get(JOB + "/charts")
def charts(org: str, workspace: str, job_id: str) -> Response:
    """The charts section, for app.js to merge into the plots on screen."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    return polled("_charts.html", org=org, workspace=workspace, **charts_view(job))

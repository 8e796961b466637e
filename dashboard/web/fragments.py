"""htmx fragments of the job pane; each one stops its poller once the job is terminal.

Under the job URL:
- `summary`   header, actions, tiles, error callout, on-call card and scalar grid (every 3 s)
- `artifacts` the Artifacts & refs card (every 10 s)
- `logs?after=N` log entries from position N on, and the next poller (every 2 s)
- `charts`    the charts section; app.js updates plots in place so zoom survives (every 10 s)
A response for a terminal job carries HTTP 286, which tells htmx to stop polling.

Asked for on demand: `charts/zoom` (one chart's x range at full resolution), `logs/earlier`
("load earlier", a gap's entries, or the entries around a linked one), `logs/panel` (the logs
list under a new filter), `logs.jsonl` (every entry, as a download) and `metrics.csv` (every
series, one row per step).

The logs fragments take the panel's filter (`level`, `q`); the chart ones its options
(`smooth`, `logy`, `x`). Values the page would ignore with a note are a 400 here: app.js only
asks with values the page settled on.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, make_response, render_template, request, url_for
from werkzeug.wrappers import Response

from dashboard.models import Job, LogEntry, log_items, parse_artifacts, parse_logs
from dashboard.sources import gather, load_pane
from dashboard.viewmodels import logs as log_tools
from dashboard.viewmodels.chart_controls import ChartOptions, parse_options, settle
from dashboard.viewmodels.charts import chart_for, plan_charts
from dashboard.viewmodels.figures import zoom_json
from dashboard.viewmodels.metrics_csv import metrics_csv
from dashboard.viewmodels.pane import artifacts_view, charts_view, logs_view, opening_logs, summary_part
from dashboard.web import current
from dashboard.web.pages import JOB, validate_path

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


def job_and_artifacts(org: str, workspace: str, job_id: str) -> tuple[Job, dict[str, Any]]:
    """The job and its parsed artifacts, read concurrently."""
    source = current.source()
    raw_job, raw = gather(lambda: source.get_job(org, workspace, job_id),
                          lambda: source.get_artifacts(org, workspace, job_id))
    return Job.from_api(raw_job), parse_artifacts(raw)


@bp.get(JOB + "/summary")
def summary(org: str, workspace: str, job_id: str) -> Response:
    """The top of the pane, with its on-call card: a job that fails (or completes) while watched
    shows its cause (or its checklist) without a reload. Job, logs and artifacts are read
    concurrently."""
    pane = load_pane(current.source(), org, workspace, job_id)
    link = url_for("pages.job_page", org=org, workspace=workspace, job_id=job_id, _external=True)
    return polled("_summary.html", org=org, workspace=workspace,
                  **summary_part(pane, datetime.now(UTC), link))


@bp.get(JOB + "/artifacts")
def artifacts(org: str, workspace: str, job_id: str) -> Response:
    """The Artifacts & refs card."""
    job, parsed = job_and_artifacts(org, workspace, job_id)
    return polled("_artifacts.html", org=org, workspace=workspace, **artifacts_view(job, parsed))


def log_filter() -> log_tools.LogFilter:
    """The logs filter of this request; 400 when a value is unusable."""
    found, notes = log_tools.parse_filter(request.args)
    if notes:
        abort(400, description="; ".join(notes))
    return found


def chart_options(job: Job) -> ChartOptions:
    """The chart options of this request, as this job can honour them; 400 when they can't."""
    found, notes = parse_options(request.args)
    found, _, more = settle(job.metrics, found)
    if notes or more:
        abort(400, description="; ".join(notes + more))
    return found


def count_arg(name: str) -> int | None:
    """A whole number >= 0 from the query, or None."""
    value = request.args.get(name, type=int)
    return value if value is not None and value >= 0 else None


@bp.get(JOB + "/logs")
def logs(org: str, workspace: str, job_id: str) -> Response:
    """Log entries the browser has not seen yet (those the filter keeps), and the poller for
    the next ones. `after` counts every entry, so nothing is lost or repeated when the filter
    changes; `matched` carries how many entries the filter kept before `after`."""
    after = max(0, request.args.get("after", 0, type=int) or 0)
    final = request.args.get("final") == "1"
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    entries = parse_logs(items, after)
    matched = None
    if keep.active:
        entries = [e for e in entries if keep.keeps(items[e.index])]
        before = count_arg("matched")
        if before is None:
            before = len(log_tools.positions(items[:after], keep))
        matched = before + len(entries)
    view = logs_view(job, entries, len(items), after, final, log_filter=keep, matched=matched)
    return polled("_logs_update.html", stop=view["log_next"] is None, org=org, workspace=workspace,
                  **view)


@bp.get(JOB + "/logs/panel")
def logs_panel(org: str, workspace: str, job_id: str) -> Response:
    """The logs list as the page opens it, under the filter asked for (app.js swaps it in
    when the filter changes, and puts the filter in the page's URL)."""
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    return polled("_logs_body.html", stop=False, org=org, workspace=workspace,
                  **opening_logs(job, items, keep))


@bp.get(JOB + "/charts")
def charts(org: str, workspace: str, job_id: str) -> Response:
    """The charts section, for app.js to merge into the plots on screen."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    return polled("_charts.html", org=org, workspace=workspace,
                  **charts_view(job, chart_options(job)))


def finite_arg(name: str) -> float | None:
    """A finite float query argument, or None."""
    value = request.args.get(name, type=float)
    return value if value is not None and math.isfinite(value) else None


@bp.get(JOB + "/charts/zoom")
def chart_zoom(org: str, workspace: str, job_id: str) -> Response:
    """One chart's traces over an x range at full resolution within the point budget."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    options = chart_options(job)
    wanted = request.args.get("chart", "")
    # Only the chart asked for is read: a 1M-step job has eight, each seconds of series work.
    plan = next((p for p in plan_charts(job) if f"{p.testid}:{p.title}" == wanted), None)
    chart = chart_for(job, plan) if plan else None
    if chart is None or not chart.series:
        abort(404, description=f"no chart {wanted!r} with data in this job")
    _, x_axis, _ = settle(job.metrics, options)
    if x_axis is not None:
        chart = x_axis.apply(chart)
    pixels = request.args.get("px", 600, type=int) or 600
    body = zoom_json(chart, finite_arg("x0"), finite_arg("x1"), budget=2 * pixels,
                     smooth=options.smooth, logy=options.logy)
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(JOB + "/logs/earlier")
def logs_earlier(org: str, workspace: str, job_id: str) -> Response:
    """Entries not loaded yet, of positions [`since`, `before`), that the filter keeps: the
    newest page of them ("load earlier", `since` 0), the first page of a gap (`since` > 0),
    or those around position `around` (a linked entry), with controls for what is left."""
    before = count_arg("before") or 0
    since = count_arg("since") or 0
    around = count_arg("around")
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    before = min(before, len(items))
    shown = log_tools.window(log_tools.positions(items, keep), before, min(since, before), around)
    entries = [LogEntry.from_api(i, items[i]) for i in shown.shown]
    return polled("_logs_earlier.html", stop=False, org=org, workspace=workspace,
                  **logs_view(job, entries, len(items), log_filter=keep, above=shown.above,
                              below=shown.below))


def jsonl_line(item: object) -> str:
    """One log entry as a JSON line, whatever it holds."""
    try:
        return json.dumps(item, ensure_ascii=False, default=str) + "\n"
    except (RecursionError, ValueError):
        return json.dumps({"unreadable_entry": "nested too deep to write out"}) + "\n"


@bp.get(JOB + "/logs.jsonl")
def logs_download(org: str, workspace: str, job_id: str) -> Response:
    """Every log entry of the job (or those the filter keeps), one JSON object a line, as a
    download."""
    keep = log_filter()
    items = log_items(current.source().get_logs(org, workspace, job_id))
    body = "".join(jsonl_line(item) for item in items if not keep.active or keep.keeps(item))
    response = make_response(body)
    response.mimetype = "application/x-ndjson"
    response.headers["Content-Disposition"] = f'attachment; filename="{job_id}-logs.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(JOB + "/metrics.csv")
def metrics_download(org: str, workspace: str, job_id: str) -> Response:
    """Every metric series of the job at full resolution, one row per step, as a download."""
    job = Job.from_api(current.source().get_job(org, workspace, job_id))
    table = metrics_csv(job.metrics)
    response = Response(table.lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{job_id}-metrics.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response

"""htmx fragments of the job pane; each one stops its poller once the job is terminal.

Under the job URL:
- `summary`   header, actions, tiles, error callout, on-call card and scalar grid (every 3 s)
- `artifacts` the Artifacts & refs card (every 10 s)
- `logs?after=N` log entries from position N on, and the next poller (every 2 s)
- `charts`    the charts section; js/charts.js updates plots in place so zoom survives (every 10 s)
- `lastgood`  the triage card's "last good run" part (loaded once; a running job's every 60 s;
              opened without htmx, a page of its own)
A response for a terminal job carries HTTP 286, which tells htmx to stop polling.

With `compare=<job_id>[,…]` (see web/compare.py), `summary` adds the tile deltas, and `charts` /
`charts/zoom` draw each compared job's traces too (the compare strip is the page's own).

Asked for on demand: `compare/find` (the "add a run" results), `charts/zoom` (one chart's x range
at full resolution), `logs/earlier`
("load earlier", a gap's entries, or the entries around a linked one), `logs/span?before=N`
(the "load earlier" control, when the page lets entries before N go) and `logs/panel` (the logs
list under a new filter). Downloads are in downloads.py.

The logs fragments take the panel's filter (`level`, `q`); the chart ones its options
(`smooth`, `logy`, `x`). Values the page would ignore with a note are a 400 here: the scripts only
ask with values the page settled on.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, make_response, render_template, request
from werkzeug.wrappers import Response

from dashboard.models import Job, log_items, parse_artifacts
from dashboard.sources import gather, load_pane
from dashboard.viewmodels import logs as logs_panel
from dashboard.viewmodels.artifacts import artifacts_view
from dashboard.viewmodels.chart_controls import ChartOptions, parse_options, settle
from dashboard.viewmodels.charts_section import charts_view, zoomed
from dashboard.viewmodels.logs import LogFilter, parse_filter
from dashboard.viewmodels.pane import Comparison, summary_part
from dashboard.web import compare, current, lastgood
from dashboard.web.pages import JOB, validate_path

bp = Blueprint("fragments", __name__)
bp.url_value_preprocessor(validate_path)
STOP_POLLING = 286


def polled(template: str, stop: bool, **context: Any) -> Response:
    """Render a fragment, never cached; 286 (the last poll, htmx stops polling) once `stop`."""
    response = make_response(render_template(template, **context))
    response.status_code = STOP_POLLING if stop else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def read_job(org: str, workspace: str, job_id: str) -> Job:
    """The job."""
    return Job.from_api(current.source().get_job(org, workspace, job_id))


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


def log_filter() -> LogFilter:
    """The logs filter of this request; 400 when a value is unusable."""
    found, notes = parse_filter(request.args)
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


def finite_arg(name: str) -> float | None:
    """A finite float query argument, or None."""
    value = request.args.get(name, type=float)
    return value if value is not None and math.isfinite(value) else None


@bp.get(JOB + "/summary")
def summary(org: str, workspace: str, job_id: str) -> Response:
    """The top of the pane, with its on-call card: a job that fails (or completes) while watched
    shows its cause (or its checklist) without a reload. Job, logs and artifacts are read
    concurrently."""
    pane = load_pane(current.source(), org, workspace, job_id)
    comparison = compare.comparison(org, workspace, pane.job, job_id, whole=(), items=pane.items)
    view = summary_part(pane, current.page_links(org, workspace, job_id), datetime.now(UTC),
                        comparison=comparison)
    return polled("_summary.html", pane.job.terminal, summary=view)


@bp.get(JOB + "/artifacts")
def artifacts(org: str, workspace: str, job_id: str) -> Response:
    """The Artifacts & refs card."""
    job, parsed = job_and_artifacts(org, workspace, job_id)
    return polled("_artifacts.html", job.terminal,
                  artifacts=artifacts_view(job, current.job_url(org, workspace, job_id), parsed))


@bp.get(JOB + "/logs")
def logs(org: str, workspace: str, job_id: str) -> Response:
    """Log entries the browser has not seen yet (those the filter keeps), and the poller for
    the next ones (`after` counts every entry; `matched` carries the filter's count so far)."""
    after = max(0, request.args.get("after", 0, type=int) or 0)
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    view = logs_panel.update(job, current.job_url(org, workspace, job_id), items, after,
                             request.args.get("final") == "1", keep, count_arg("matched"))
    return polled("_logs_update.html", view.next_poll is None, logs=view)


@bp.get(JOB + "/logs/panel")
def logs_panel_fragment(org: str, workspace: str, job_id: str) -> Response:
    """The logs list as the page opens it, under the filter asked for (js/logpanel.js swaps it in
    when the filter changes, and puts the filter in the page's URL)."""
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    return polled("_logs_body.html", False,
                  logs=logs_panel.opening(job, current.job_url(org, workspace, job_id), items, keep))


@bp.get(JOB + "/logs/earlier")
def logs_earlier(org: str, workspace: str, job_id: str) -> Response:
    """Entries not loaded yet, of positions [`since`, `before`), that the filter keeps: the
    newest page of them ("load earlier", `since` 0), the first page of a gap (`since` > 0),
    or those around position `around` (a linked entry), with controls for what is left."""
    keep = log_filter()
    job, items = job_and_logs(org, workspace, job_id)
    view = logs_panel.earlier(job, current.job_url(org, workspace, job_id), items, count_arg("before") or 0,
                              count_arg("since") or 0, count_arg("around"), keep)
    return polled("_logs_earlier.html", False, logs=view)


@bp.get(JOB + "/logs/span")
def logs_span(org: str, workspace: str, job_id: str) -> Response:
    """The "load earlier" control for the entries before position `before` that the filter
    keeps (the page asks for it when it lets its oldest entries go), or nothing when none is."""
    keep = log_filter()
    items = log_items(current.source().get_logs(org, workspace, job_id))
    base = current.job_url(org, workspace, job_id)
    span = logs_panel.span_before(base, items, count_arg("before") or 0, keep)
    return polled("_logs_span.html", False, span=span)


@bp.get(JOB + "/lastgood")
def last_good(org: str, workspace: str, job_id: str) -> Response | str:
    """Where this run left the last good run of its kind (web/lastgood.py finds it, once a minute)."""
    job, watch = read_job(org, workspace, job_id), request.args.get("watch") == "1"
    base = current.job_url(org, workspace, job_id)
    view = lastgood.part(lastgood.kept(), current.source(), org, workspace, job,
                         lambda other: current.job_url(org, workspace, other),
                         None if job.terminal else f"{base}/lastgood" + ("?watch=1" if watch else ""))
    if request.headers.get("HX-Request"):
        return polled("_lastgood.html", job.terminal, lastgood=view, watch=watch)
    return render_template("lastgood.html", org=org, workspace=workspace, job=job, back=base, lastgood=view,
                           watch=False)


def charts_comparison(org: str, workspace: str, job: Job, job_id: str,
                      view: ChartOptions | None = None) -> Comparison:
    """The compared jobs the charts draw: all of them, or on a poll (`live=`) only those it names
    (the others had finished, and the browser keeps what it drew of them); with `view`, finished
    ones drawn before under these chart options are drawn again as they were, not read."""
    live = request.args.get("live")
    whole = None if live is None else set(live.split(","))
    return compare.comparison(org, workspace, job, job_id, whole, others=live is None, view=view)


@bp.get(JOB + "/charts")
def charts(org: str, workspace: str, job_id: str) -> Response:
    """The charts section, for js/charts.js to merge into the plots on screen. With `compare`,
    each compared job's traces too; with `live` (a poll), only those of the compared jobs it
    names are read and sent (the others had finished: the browser keeps what it drew)."""
    job = read_job(org, workspace, job_id)
    options = chart_options(job)
    comparison = charts_comparison(org, workspace, job, job_id, options)
    view = charts_view(job, current.job_url(org, workspace, job_id), options,
                       compared=comparison.charts, own=comparison.own, keep=comparison.keep)
    return polled("_charts.html", job.terminal, charts=view)


@bp.get(JOB + "/charts/zoom")
def chart_zoom(org: str, workspace: str, job_id: str) -> Response:
    """One chart's traces over an x range at full resolution within the point budget (with
    `compare`, every compared job's traces of that chart as well; with `live`, as `charts`)."""
    job = read_job(org, workspace, job_id)
    wanted = request.args.get("chart", "")
    comparison = charts_comparison(org, workspace, job, job_id)
    body = zoomed(job, chart_options(job), wanted, finite_arg("x0"), finite_arg("x1"),
                  request.args.get("px", 600, type=int) or 600, comparison.charts, comparison.own)
    if body is None:
        abort(404, description=f"no chart {wanted!r} with data in this job")
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(JOB + "/compare/find")
def compare_find(org: str, workspace: str, job_id: str) -> Response:
    """The "add a run" results (`find`: name or id; empty: the suggested runs), swapped into the
    compare strip by htmx; without JavaScript the form asks for the page with `find` instead."""
    job, items = job_and_logs(org, workspace, job_id)
    comparison = compare.comparison(org, workspace, job, job_id, whole=(), others=False, items=items)
    return polled("_compare_found.html", False, strip=comparison.strip)

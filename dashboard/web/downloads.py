"""Downloads under the job URL: `logs.jsonl` (every log entry), `metrics.csv` (every series, one
row per step) and `model.yaml?checkpoint=N` (the publish helper's manifest for one of a job's
checkpoints, the final one by default)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, abort, request
from werkzeug.wrappers import Response

from dashboard.analysis.progress import checkpoint_list
from dashboard.models import log_items
from dashboard.viewmodels.metrics_csv import metrics_csv, side_by_side
from dashboard.viewmodels.publish import helper
from dashboard.web import compare, current
from dashboard.web.fragments import job_and_artifacts, log_filter, read_job
from dashboard.web.pages import JOB, validate_path

bp = Blueprint("publish", __name__)
bp.url_value_preprocessor(validate_path)


@bp.get(JOB + "/model.yaml")
def model_yaml(org: str, workspace: str, job_id: str) -> Response:
    """The `model.yaml` of a checkpoint of the job; 404 when it has none, or not that one."""
    job, artifacts = job_and_artifacts(org, workspace, job_id)
    checkpoints = checkpoint_list(artifacts or job.artifacts)
    if not checkpoints:
        abort(404, description=f"job {job_id} saved no checkpoint, so there is nothing to publish")
    chosen = request.args.get("checkpoint")
    if chosen is not None and not (re.fullmatch(r"[0-9]{1,6}", chosen)
                                   and 1 <= int(chosen) <= len(checkpoints)):
        abort(404, description=f"job {job_id} has no checkpoint {chosen!r}: "
                               f"choose 1 to {len(checkpoints)}")
    return attachment(helper(job, job_id, checkpoints, chosen).manifest, "text/yaml", "model.yaml")


def jsonl_line(item: object) -> str:
    """One log entry as a JSON line, whatever it holds."""
    try:
        return json.dumps(item, ensure_ascii=False, default=str) + "\n"
    except (RecursionError, ValueError):
        return json.dumps({"unreadable_entry": "nested too deep to write out"}) + "\n"


@bp.get(JOB + "/logs.jsonl")
def logs_download(org: str, workspace: str, job_id: str) -> Response:
    """Every log entry of the job (or those the filter keeps), one JSON object a line."""
    keep = log_filter()
    items = log_items(current.source().get_logs(org, workspace, job_id))
    body = "".join(jsonl_line(item) for item in items if not keep.active or keep.keeps(item))
    return attachment(body, "application/x-ndjson", f"{job_id}-logs.jsonl")


@bp.get(JOB + "/metrics.csv")
def metrics_download(org: str, workspace: str, job_id: str) -> Response:
    """Every metric series of the job at full resolution, one row per step; with `compare`, one
    column set per job (ids that cannot be read are left out, as the page's strip says)."""
    table = metrics_csv(read_job(org, workspace, job_id).metrics)
    ids = compare.requested(job_id).ids
    if ids:
        jobs = compare.read(org, workspace, ids, None).jobs
        table = side_by_side([(job_id[:8], table),
                              *((i[:8], metrics_csv(jobs[i].metrics)) for i in ids if i in jobs)])
    return attachment(table.lines(), "text/csv", f"{job_id}-metrics.csv")


def attachment(body: Any, mimetype: str, filename: str) -> Response:
    """A download that no cache keeps."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response

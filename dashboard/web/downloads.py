"""The publish helper's download: `<job>/model.yaml?checkpoint=N`, the manifest for one of a
job's checkpoints (the final one by default) as a `text/yaml` attachment."""

from __future__ import annotations

import re

from flask import Blueprint, abort, make_response, request
from werkzeug.wrappers import Response

from dashboard.analysis.progress import checkpoint_list
from dashboard.viewmodels.publish import helper
from dashboard.web.fragments import job_and_artifacts
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
    response = make_response(helper(job, job_id, checkpoints, chosen).manifest)
    response.mimetype = "text/yaml"
    response.headers["Content-Disposition"] = 'attachment; filename="model.yaml"'
    response.headers["Cache-Control"] = "no-store"
    return response

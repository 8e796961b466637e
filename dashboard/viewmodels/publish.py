"""The publish helper: a checkpoint of a job into the Models registry, as the platform docs say
(download it, lay it out next to a `model.yaml`, `dn model push <dir>`).

Everything taken from the job is untrusted text: the manifest is written by `yaml.safe_dump`,
and every value in a shell command is quoted with `shlex.quote`.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from dashboard.analysis import progress
from dashboard.analysis.progress import Checkpoint
from dashboard.models import Job
from dashboard.viewmodels.format import one_line

DEFAULT_VERSION = "0.1.0"
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """One step of the publish path: what it does and the command to copy."""

    label: str
    text: str


@dataclass(frozen=True)
class PublishView:
    """The publish helper for one chosen checkpoint."""

    checkpoints: tuple[Checkpoint, ...]
    chosen: Checkpoint
    note: str  # why this checkpoint was chosen, when it was not asked for
    manifest: str  # model.yaml
    commands: tuple[Command, ...]
    base: str = ""  # the job page's URL (the form's action, and model.yaml's)


def slug(text: str | None, fallback: str) -> str:
    """A registry name from a job name: lower case, `a-z0-9` words joined by `-`."""
    words = re.findall(r"[a-z0-9]+", (text or "").lower())
    name = "-".join(words)[:63].strip("-")
    return name or fallback


def version(value: str | None) -> str:
    """A fixed semver X.Y.Z (pre-release and build suffixes are refused): the value, or 0.1.0."""
    return value if value and SEMVER.fullmatch(value) else DEFAULT_VERSION


def choose(checkpoints: Sequence[Checkpoint], chosen: str | None) -> tuple[Checkpoint, str]:
    """The checkpoint asked for (`?checkpoint=N`, from 1), else the final one, else the latest."""
    if chosen and re.fullmatch(r"[0-9]{1,6}", chosen) and 1 <= int(chosen) <= len(checkpoints):
        return checkpoints[int(chosen) - 1], ""
    note = f"checkpoint {chosen!r} does not exist; " if chosen else ""
    final = next((c for c in reversed(checkpoints) if c.final), None)
    if final:
        return final, (note + "the final checkpoint is chosen") if note else ""
    return checkpoints[-1], note + "there is no final checkpoint: the latest one is chosen"


def dataset_refs(job: Job) -> list[str]:
    """The datasets the job trained on, as pinned `org/name@version` references."""
    out: list[str] = []
    for ref in (job.dataset_ref, job.prompt_dataset_ref, *job.trajectory_dataset_refs):
        if ref and str(ref) not in out:
            out.append(one_line(str(ref), 200))
    return out


def manifest(job: Job, job_id: str, checkpoint: Checkpoint, name: str, semver: str = DEFAULT_VERSION) -> str:
    """The `model.yaml` for a checkpoint of a job (fields from the manifest reference)."""
    trainer = (job.trainer_type or "").upper() or "training"
    summary = f"{job.model or 'A model'} fine-tuned with {trainer}"
    if job.dataset:
        summary += f" on {job.dataset}"
    summary += f" (training job {job_id}, checkpoint {checkpoint.name})."
    tags = list(dict.fromkeys(one_line(t, 100) for t in (*job.tags, job.trainer_type, job.backend) if t))
    data: dict[str, object] = {"name": name, "version": version(semver),
                               "summary": one_line(summary, 300)}
    if job.model:
        data["base_model"] = one_line(job.model, 200)
    if refs := dataset_refs(job):
        data["dataset_refs"] = refs
    if tags:
        data["tags"] = tags
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def download_command(checkpoint: Checkpoint, directory: str) -> Command:
    """How to fetch a checkpoint's files into `directory`, by where it lives."""
    path = checkpoint.path
    if path.startswith("tinker://"):
        script = ("import tinker, urllib.request\n"
                  "rest = tinker.ServiceClient().create_rest_client()\n"
                  f"url = rest.get_checkpoint_archive_url_from_tinker_path({path!r}).result().url\n"
                  "urllib.request.urlretrieve(url, 'archive.tar')\n")
        return Command("Download the checkpoint archive with Tinker's SDK (needs TINKER_API_KEY), "
                       "then unpack it into the model directory",
                       f"python3 - <<'PY'\n{script}PY\n"
                       f"mkdir -p {directory} && tar -xf archive.tar -C {directory}")
    if path.startswith("s3://"):
        return Command("Copy the checkpoint's files into the model directory",
                       f"aws s3 cp --recursive {shlex.quote(path)} {directory}/")
    return Command("Fetch the checkpoint's files into the model directory with your backend's tools",
                   f"mkdir -p {directory}  # then put the files of {shlex.quote(one_line(path, 500))} in it")


def heredoc_marker(text: str) -> str:
    """A here-document delimiter that is not a line of `text`."""
    marker, lines = "MODEL_YAML", set(text.splitlines())
    while marker in lines:
        marker += "_"
    return marker


def commands(checkpoint: Checkpoint, manifest_text: str, directory: str) -> tuple[Command, ...]:
    """The steps from a checkpoint to a model version in the registry, each a command to copy."""
    marker = heredoc_marker(manifest_text)
    return (
        download_command(checkpoint, directory),
        Command("Write model.yaml into it (or download it above)",
                f"cat > {directory}/model.yaml <<'{marker}'\n{manifest_text}{marker}"),
        Command("Check what the registry would record (local, no upload)", f"dn model inspect ./{directory}"),
        Command("Push it as a version of the model", f"dn model push ./{directory}"),
        Command("Or push it and make it discoverable to other organizations",
                f"dn model push ./{directory} --publish"),
    )


def helper(job: Job, job_id: str, checkpoints: Sequence[Checkpoint], chosen: str | None,
           base: str = "") -> PublishView:
    """The publish helper for one of a job's checkpoints (`chosen`: the `?checkpoint=` text)."""
    checkpoint, note = choose(checkpoints, chosen)
    name = slug(job.name or job.title, f"model-{job_id[:8]}")
    text = manifest(job, job_id, checkpoint, name)
    return PublishView(tuple(checkpoints), checkpoint, note, text, commands(checkpoint, text, name), base)


def publish_view(job: Job, job_id: str, artifacts: dict[str, Any], chosen: str | None,
                 base: str) -> PublishView | None:
    """The publish helper of a completed job with checkpoints, or None (also when it fails: logged)."""
    if job.status != "completed":
        return None
    try:
        checkpoints = progress.checkpoint_list(artifacts or job.artifacts)
        return helper(job, job_id, checkpoints, chosen, base) if checkpoints else None
    except Exception:
        log.exception("publish helper of job %s failed", job.id)
        return None

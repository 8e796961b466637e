"""Checks on path parameters, made before anything reaches the platform."""

from __future__ import annotations

import re
import uuid

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def valid_slug(value: object) -> bool:
    """Whether `value` is an organization or workspace slug (`[a-z0-9][a-z0-9-]{0,62}`)."""
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def valid_job_id(value: object) -> bool:
    """Whether `value` is a job id: a UUID in its lowercase canonical form."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False

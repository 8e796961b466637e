"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fake_platform import DEFAULT_KEY, FakePlatform, add_sample_jobs

# The canary-key check over the whole suite: no response, header, log line or server output
# of the dashboard contains an API key (see tests/canary.py).
pytest_plugins = ["tests.canary"]


@pytest.fixture
def fake_platform() -> Iterator[FakePlatform]:
    """A started fake platform (key `dn_key_test_canary_123`) with acme/research's two jobs."""
    with FakePlatform(api_key=DEFAULT_KEY) as fake:
        add_sample_jobs(fake)
        yield fake

"""The cache's settings: DASHBOARD_CACHE_MB, DASHBOARD_REDIS_URL / --redis-url, DASHBOARD_REDIS_MB."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import cli, create_app
from dashboard.config import ConfigError, Settings, resolve
from dashboard.sources.cache import DEFAULT_BUDGET, CachedSource
from dashboard.sources.shared import DEFAULT_BUDGET as REDIS_BUDGET
from dashboard.sources.shared import RedisTier

URL = "redis://:hunter2-redis-password@127.0.0.1:6390/0"


def test_the_redis_url_comes_from_the_flag_then_the_environment(tmp_path: Path) -> None:
    none = tmp_path / "none.yaml"
    assert resolve({"demo": True}, {}, none).redis_url is None
    assert resolve({"demo": True}, {"DASHBOARD_REDIS_URL": URL}, none).redis_url == URL
    flagged = resolve({"demo": True, "redis_url": "redis://flag"}, {"DASHBOARD_REDIS_URL": URL}, none)
    assert flagged.redis_url == "redis://flag"
    platform = resolve({}, {"DREADNODE_API_KEY": "dn_key_x", "DASHBOARD_REDIS_URL": URL}, none)
    assert platform.source == "platform" and platform.redis_url == URL
    assert cli.parser().parse_args(["serve", "--redis-url", URL]).redis_url == URL


@pytest.mark.parametrize("url", ["http://:hunter2-redis-password@cache:6379", "redis://cache:port/0",
                                 "hunter2-redis-password"])
def test_an_unusable_redis_url_is_refused_without_repeating_it(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        resolve({"demo": True}, {"DASHBOARD_REDIS_URL": url}, tmp_path / "none.yaml")
    assert "hunter2" not in str(refused.value) and "redis://" in str(refused.value)


def test_the_redis_url_never_shows_in_a_repr() -> None:
    settings = Settings("demo", redis_url=URL)
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(RedisTier(URL))


def test_without_redis_the_cache_stays_in_process_at_200_mb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHBOARD_CACHE_MB", raising=False)
    source = create_app(Settings("demo")).config["SOURCE"]
    assert isinstance(source, CachedSource) and source.shared is None
    assert source._store.budget == DEFAULT_BUDGET == 200 * 2**20


def test_the_budgets_and_the_shared_tier_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_CACHE_MB", "50")
    monkeypatch.setenv("DASHBOARD_REDIS_MB", "64")
    source = create_app(Settings("demo", redis_url=URL)).config["SOURCE"]
    assert source._store.budget == 50 * 2**20
    assert isinstance(source.shared, RedisTier) and source.shared.budget == 64 * 2**20
    monkeypatch.setenv("DASHBOARD_CACHE_MB", "lots")
    monkeypatch.delenv("DASHBOARD_REDIS_MB")
    source = create_app(Settings("demo", redis_url=URL)).config["SOURCE"]
    assert source._store.budget == DEFAULT_BUDGET and source.shared.budget == REDIS_BUDGET

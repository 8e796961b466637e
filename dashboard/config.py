"""Settings resolved like the `dn` CLI: flags, then DREADNODE_* variables, then the profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_SERVER = "https://app.dreadnode.io"
CONFIG_PATH = Path("~/.dreadnode/config.yaml")
FIELDS = ("server", "api_key", "organization", "workspace", "project")
ENV = {name: f"DREADNODE_{name.upper()}" for name in FIELDS}
PROFILE_KEYS = {
    "server": "url",
    "api_key": "api_key",
    "organization": "default_organization",
    "workspace": "default_workspace",
    "project": "default_project",
}
DEMO_SCOPE = ("acme", "research")
DIRECTORY_SCOPE = ("local", "exported")


class ConfigError(Exception):
    """The configuration cannot be used (bad file, unknown profile)."""


@dataclass(frozen=True)
class Settings:
    """Where jobs come from and with which credentials; the key never shows in a repr."""

    source: str  # "platform", "demo" or "directory"
    server: str = DEFAULT_SERVER
    api_key: str | None = field(default=None, repr=False)
    organization: str | None = None
    workspace: str | None = None
    project: str | None = None
    network: str = "public"
    profile: str | None = None
    jobs_dir: Path | None = None
    auth: str = "none"  # "none" (loopback only), "viewer" or "service"; see dashboard/auth.py
    redis_url: str | None = field(default=None, repr=False)  # the shared read cache; may hold a password


def api_base(server: str) -> str:
    """The API base for a server URL: the web root plus `/api/v1`, unless already given."""
    url = server.strip().rstrip("/")
    if url.endswith(("/api/v1", "/api")):
        return url
    return f"{url}/api/v1"


def load_profiles(path: Path) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """Read `config.yaml`: the active profile's name and every profile."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(raw, dict):
        return None, {}
    servers = raw.get("servers")
    profiles = {
        str(name): value
        for name, value in (servers.items() if isinstance(servers, dict) else [])
        if isinstance(value, dict)
    }
    active = raw.get("active")
    return (str(active) if active is not None else None), profiles


def resolve(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_path: Path | None = None,
) -> Settings:
    """Resolve settings from flags, then the environment, then the saved profile."""
    redis_url = str(flags.get("redis_url") or env.get("DASHBOARD_REDIS_URL") or "").strip() or None
    if redis_url:
        check_redis_url(redis_url)
    return replace(resolve_source(flags, env, config_path), redis_url=redis_url)


def check_redis_url(url: str) -> None:
    """Refuse a shared-cache URL Redis cannot use, without repeating it (it may hold a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("the Redis URL (DASHBOARD_REDIS_URL or --redis-url) must look like "
                          "redis://[:password@]host:port/db, rediss://… or unix:///path")


def resolve_source(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_path: Path | None = None,
) -> Settings:
    """Where jobs come from and with which credentials: flags, then the environment, then the
    saved profile."""
    path = (config_path or CONFIG_PATH).expanduser()
    auth = str(flags.get("auth") or env.get("DASHBOARD_AUTH") or "none").strip().lower()
    if flags.get("jobs_dir"):
        org = flags.get("organization") or env.get(ENV["organization"]) or DIRECTORY_SCOPE[0]
        ws = flags.get("workspace") or env.get(ENV["workspace"]) or DIRECTORY_SCOPE[1]
        jobs_dir = Path(flags["jobs_dir"])
        return Settings("directory", organization=str(org), workspace=str(ws), jobs_dir=jobs_dir, auth=auth)
    if flags.get("demo"):
        return Settings("demo", organization=DEMO_SCOPE[0], workspace=DEMO_SCOPE[1], auth=auth)

    active, profiles = load_profiles(path)
    wanted = flags.get("profile") or env.get("DREADNODE_PROFILE")
    if wanted and wanted not in profiles:
        raise ConfigError(f"no profile {wanted!r} in {path}")
    name = wanted or (active if active in profiles else next(iter(profiles), None))
    profile = profiles.get(name, {}) if name else {}

    values: dict[str, str | None] = {}
    for key in FIELDS:
        saved = profile.get(PROFILE_KEYS[key])
        values[key] = flags.get(key) or env.get(ENV[key]) or (str(saved) if saved else None)
    if auth == "viewer":
        values["api_key"] = None  # every call carries the signed-in viewer's own key instead
    elif not values["api_key"]:
        return Settings("demo", organization=DEMO_SCOPE[0], workspace=DEMO_SCOPE[1], auth=auth)
    return Settings(
        "platform",
        auth=auth,
        server=values["server"] or DEFAULT_SERVER,
        api_key=values["api_key"],
        organization=values["organization"],
        workspace=values["workspace"],
        project=values["project"],
        network=env.get("DREADNODE_NETWORK") or "public",
        profile=name,
    )


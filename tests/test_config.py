"""Unit tests of settings resolution: flags, then environment, then the saved profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.config import DEFAULT_SERVER, ConfigError, Settings, resolve

PROFILES = """\
active: work
servers:
  home:
    url: https://home.example
    api_key: dn_key_home
    default_organization: homeorg
    default_workspace: homews
  work:
    url: https://work.example
    api_key: dn_key_work
    default_organization: acme
    default_workspace: research
    default_project: webapp-audit
"""


def write(tmp_path: Path, text: str) -> Path:
    """A config.yaml with `text` in `tmp_path`."""
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write(tmp_path, PROFILES)


@pytest.fixture
def missing(tmp_path: Path) -> Path:
    return tmp_path / "nothing-here.yaml"


def test_the_active_profile_is_used(config: Path) -> None:
    settings = resolve({}, {}, config)

    assert settings.source == "platform"
    assert settings.profile == "work"
    assert (settings.server, settings.api_key) == ("https://work.example", "dn_key_work")
    assert (settings.organization, settings.workspace) == ("acme", "research")
    assert settings.project == "webapp-audit"


def test_env_beats_the_profile(config: Path) -> None:
    env = {"DREADNODE_SERVER": "https://env.example", "DREADNODE_WORKSPACE": "envws"}
    settings = resolve({}, env, config)

    assert settings.server == "https://env.example"
    assert settings.workspace == "envws"
    assert settings.organization == "acme"
    assert settings.api_key == "dn_key_work"


def test_flags_beat_env(config: Path) -> None:
    env = {"DREADNODE_API_KEY": "dn_key_env", "DREADNODE_ORGANIZATION": "envorg"}
    flags = {"api_key": "dn_key_flag", "organization": "flagorg"}
    settings = resolve(flags, env, config)

    assert settings.api_key == "dn_key_flag"
    assert settings.organization == "flagorg"


def test_unset_flags_fall_through_to_env(missing: Path) -> None:
    flags = {"server": None, "api_key": None, "demo": False, "jobs_dir": None, "profile": None}
    settings = resolve(flags, {"DREADNODE_API_KEY": "dn_key_env"}, missing)

    assert settings.source == "platform"
    assert settings.api_key == "dn_key_env"
    assert settings.server == DEFAULT_SERVER


def test_the_profile_flag_picks_another_profile(config: Path) -> None:
    settings = resolve({"profile": "home"}, {}, config)

    assert settings.profile == "home"
    assert settings.api_key == "dn_key_home"
    assert settings.project is None


def test_an_active_naming_no_profile_uses_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, PROFILES.replace("active: work", "active: gone"))
    settings = resolve({}, {}, path)

    assert settings.profile == "home"
    assert settings.server == "https://home.example"


def test_no_active_line_uses_the_first_profile(tmp_path: Path) -> None:
    path = write(tmp_path, PROFILES.replace("active: work\n", ""))
    assert resolve({}, {}, path).profile == "home"


def test_an_unknown_profile_flag_is_an_error(config: Path) -> None:
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        resolve({"profile": "nope"}, {}, config)


def test_an_unknown_profile_flag_is_an_error_without_a_config_file(missing: Path) -> None:
    with pytest.raises(ConfigError):
        resolve({"profile": "nope"}, {}, missing)


def test_no_key_anywhere_gives_the_demo(missing: Path) -> None:
    settings = resolve({}, {"DREADNODE_SERVER": "https://x.example"}, missing)

    assert settings.source == "demo"
    assert settings.api_key is None
    assert (settings.organization, settings.workspace) == ("acme", "research")


def test_a_disconnected_profile_gives_the_demo(tmp_path: Path) -> None:
    path = write(tmp_path, "active: a\nservers:\n  a:\n    url: https://a.example\n")
    assert resolve({}, {}, path).source == "demo"


def test_the_demo_flag_gives_the_demo_even_with_a_key(config: Path) -> None:
    settings = resolve({"demo": True}, {"DREADNODE_API_KEY": "dn_key_env"}, config)
    assert settings.source == "demo"
    assert settings.api_key is None


def test_jobs_dir_gives_the_directory_source(tmp_path: Path, config: Path) -> None:
    settings = resolve({"jobs_dir": str(tmp_path)}, {"DREADNODE_API_KEY": "dn_key_env"}, config)

    assert settings.source == "directory"
    assert settings.jobs_dir == tmp_path
    assert settings.api_key is None
    assert (settings.organization, settings.workspace) == ("local", "exported")


def test_jobs_dir_takes_the_scope_from_flags_or_env(tmp_path: Path, missing: Path) -> None:
    flags = {"jobs_dir": str(tmp_path), "organization": "acme"}
    settings = resolve(flags, {"DREADNODE_WORKSPACE": "research"}, missing)
    assert (settings.organization, settings.workspace) == ("acme", "research")


def test_the_network_comes_from_the_environment(missing: Path) -> None:
    env = {"DREADNODE_API_KEY": "k", "DREADNODE_NETWORK": "cluster"}
    assert resolve({}, env, missing).network == "cluster"
    assert resolve({}, {"DREADNODE_API_KEY": "k"}, missing).network == "public"


def test_the_key_is_not_in_the_settings_repr(config: Path) -> None:
    settings = resolve({}, {}, config)
    assert "dn_key_work" not in repr(settings)
    assert "dn_key_work" not in str(settings)


@pytest.mark.parametrize("text", ["", "just a string\n", "servers: [1, 2]\n", "servers:\n  a: 3\n"])
def test_a_config_without_profiles_is_ignored(tmp_path: Path, text: str) -> None:
    assert resolve({}, {}, write(tmp_path, text)).source == "demo"


def test_a_broken_config_is_a_config_error_that_does_not_quote_it(tmp_path: Path) -> None:
    path = write(tmp_path, "servers:\n  a:\n    api_key: dn_key_secret\n  - [unbalanced\n")
    with pytest.raises(ConfigError) as info:
        resolve({}, {}, path)
    assert "dn_key_secret" not in str(info.value)


def test_a_numeric_key_in_the_profile_is_read_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "servers:\n  a:\n    api_key: 12345\n")
    assert resolve({}, {}, path).api_key == "12345"


def test_settings_default_to_the_public_server() -> None:
    assert Settings("platform").server == "https://app.dreadnode.io"


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"servers:\n  a:\n    api_key: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read"):
        resolve({}, {}, path)

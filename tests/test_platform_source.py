"""HTTP tests of PlatformSource against the fake platform (real sockets, no mocks)."""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from dashboard.config import Settings, api_base
from dashboard.sources import SourceError, load_pane
from dashboard.sources.platform import PlatformSource
from dashboard.validation import valid_job_id, valid_slug
from tests.fake_platform import DEFAULT_KEY, RL_JOB_ID, SFT_JOB_ID, FakePlatform

KEY = DEFAULT_KEY
JOBS = "/api/v1/org/acme/ws/research/training/jobs"


def settings_for(server: str, *, key: str = KEY, network: str = "public") -> Settings:
    """Platform settings pointing at `server`."""
    return Settings("platform", server=server, api_key=key, network=network)


@pytest.fixture
def source(fake_platform: FakePlatform) -> PlatformSource:
    return PlatformSource(settings_for(fake_platform.url))


def error_of(call, *args, **kwargs) -> SourceError:
    """The SourceError a call raises."""
    with pytest.raises(SourceError) as info:
        call(*args, **kwargs)
    return info.value


def assert_no_key(exc: SourceError) -> None:
    assert KEY not in exc.message
    assert KEY not in str(exc)


# -- base URL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://x", "https://x/api/v1"),
        ("https://x/", "https://x/api/v1"),
        ("https://x/api/v1", "https://x/api/v1"),
        ("https://x/api/v1/", "https://x/api/v1"),
        ("https://x/api", "https://x/api"),
        (" https://x ", "https://x/api/v1"),
    ],
)
def test_api_base_adds_api_v1_to_a_web_root_only(server: str, expected: str) -> None:
    assert api_base(server) == expected


def test_it_calls_the_api_under_api_v1_of_a_web_root_with_a_trailing_slash(fake_platform):
    PlatformSource(settings_for(fake_platform.url + "/")).get_job("acme", "research", SFT_JOB_ID)
    assert [r.path for r in fake_platform.requests] == [f"{JOBS}/{SFT_JOB_ID}"]


def test_it_uses_a_server_url_that_already_ends_in_api_v1_as_is(fake_platform):
    PlatformSource(settings_for(fake_platform.api_url)).get_job("acme", "research", SFT_JOB_ID)
    assert [r.path for r in fake_platform.requests] == [f"{JOBS}/{SFT_JOB_ID}"]


# -- headers ------------------------------------------------------------------------------


def test_it_sends_the_api_key_header(source, fake_platform):
    source.get_job("acme", "research", SFT_JOB_ID)
    assert fake_platform.requests[0].headers["x-api-key"] == KEY


def test_it_asks_for_json(source, fake_platform):
    source.get_job("acme", "research", SFT_JOB_ID)
    assert fake_platform.requests[0].headers["accept"] == "application/json"


def test_it_sends_the_network_header_from_the_settings(fake_platform):
    cluster = PlatformSource(settings_for(fake_platform.url, network="cluster"))
    cluster.get_logs("acme", "research", SFT_JOB_ID)
    assert fake_platform.requests[0].headers["x-dreadnode-network"] == "cluster"


def test_it_sends_the_public_network_header_by_default(source, fake_platform):
    source.get_logs("acme", "research", SFT_JOB_ID)
    assert fake_platform.requests[0].headers["x-dreadnode-network"] == "public"


# -- paths and payloads -------------------------------------------------------------------


def test_it_reads_a_job_artifacts_and_logs_at_the_documented_paths(source, fake_platform):
    job = source.get_job("acme", "research", SFT_JOB_ID)
    artifacts = source.get_artifacts("acme", "research", SFT_JOB_ID)
    logs = source.get_logs("acme", "research", SFT_JOB_ID)

    assert [(r.method, r.path) for r in fake_platform.requests] == [
        ("GET", f"{JOBS}/{SFT_JOB_ID}"),
        ("GET", f"{JOBS}/{SFT_JOB_ID}/artifacts"),
        ("GET", f"{JOBS}/{SFT_JOB_ID}/logs"),
    ]
    assert job["id"] == SFT_JOB_ID
    assert job["metrics"]["eval/loss_history"] == [1.27]
    assert artifacts["artifacts"]["capability"] == "webapp-auditor@0.3.1"
    assert logs["items"][-1]["message"] == "Training complete"


def test_it_cancels_with_a_post_and_no_body(source, fake_platform):
    job = source.cancel("acme", "research", RL_JOB_ID)

    request = fake_platform.requests[0]
    assert (request.method, request.path) == ("POST", f"{JOBS}/{RL_JOB_ID}/cancel")
    assert request.body == b""
    assert job["status"] == "cancelled"


def test_it_returns_the_new_job_a_retry_creates(source, fake_platform):
    job = source.retry("acme", "research", SFT_JOB_ID)

    request = fake_platform.requests[0]
    assert (request.method, request.path) == ("POST", f"{JOBS}/{SFT_JOB_ID}/retry")
    assert job["id"] != SFT_JOB_ID
    assert job["status"] == "queued"


def test_it_sends_paging_params_when_listing_jobs(source, fake_platform):
    payload = source.list_jobs("acme", "research", page=2, page_size=1)

    request = fake_platform.requests[0]
    assert request.path == JOBS
    assert request.query == {"page": "2", "page_size": "1"}
    assert payload["total"] == 2
    assert [j["id"] for j in payload["items"]] == [SFT_JOB_ID]


def test_it_sends_the_status_filter_only_when_given(source, fake_platform):
    payload = source.list_jobs("acme", "research", page=1, page_size=20, status="running")

    assert fake_platform.requests[0].query == {"page": "1", "page_size": "20", "status": "running"}
    assert [j["id"] for j in payload["items"]] == [RL_JOB_ID]


def test_it_lists_organizations_and_workspaces(source, fake_platform):
    orgs = source.list_organizations()
    workspaces = source.list_workspaces("acme")

    assert [r.path for r in fake_platform.requests] == [
        "/api/v1/user/organizations",
        "/api/v1/org/acme/ws",
    ]
    assert [o["key"] for o in orgs] == ["acme", "globex"]
    assert [w["key"] for w in workspaces] == ["sandbox", "research"]


def test_it_accepts_organizations_wrapped_in_items(source, fake_platform):
    fake_platform.fail("/user/organizations", 200, {"items": [{"key": "initech"}, "junk"]})
    assert source.list_organizations() == [{"key": "initech"}]


# -- default scope ------------------------------------------------------------------------


def test_default_scope_takes_the_first_org_and_its_default_workspace(source):
    assert source.default_scope(None, None) == ("acme", "research")


def test_default_scope_takes_the_default_workspace_of_the_given_org(source, fake_platform):
    assert source.default_scope("globex", None) == ("globex", "main")
    assert [r.path for r in fake_platform.requests] == ["/api/v1/org/globex/ws"]


def test_default_scope_takes_the_first_workspace_when_none_is_default(source, fake_platform):
    fake_platform.fail("/org/acme/ws", 200, [{"key": "alpha"}, {"key": "beta"}])
    assert source.default_scope("acme", None) == ("acme", "alpha")


def test_default_scope_asks_nothing_when_both_are_known(source, fake_platform):
    assert source.default_scope("acme", "sandbox") == ("acme", "sandbox")
    assert fake_platform.requests == []


def test_default_scope_says_so_when_the_key_sees_no_organization(source, fake_platform):
    fake_platform.fail("/user/organizations", 200, [])
    exc = error_of(source.default_scope, None, None)
    assert exc.status == 404
    assert "no organization" in exc.message


def test_default_scope_says_so_when_the_org_has_no_workspace(source, fake_platform):
    fake_platform.fail("/org/acme/ws", 200, {"items": []})
    exc = error_of(source.default_scope, "acme", None)
    assert exc.status == 404
    assert "no workspace" in exc.message


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("org", "workspace"),
    [
        ("Acme", "research"),
        ("acme", "re/search"),
        ("-acme", "research"),
        ("acme", "a" * 64),
        ("acme\n", "research"),
        ("..", "research"),
        ("", "research"),
        ("acme", ""),
        ("acme", None),
    ],
)
def test_an_invalid_org_or_workspace_fails_before_any_request(
    source, fake_platform, org, workspace
):
    exc = error_of(source.get_job, org, workspace, SFT_JOB_ID)
    assert exc.status == 404
    assert error_of(source.list_jobs, org, workspace, page=1, page_size=20).status == 404
    assert fake_platform.requests == []


@pytest.mark.parametrize(
    "job_id",
    [
        "not-a-uuid",
        SFT_JOB_ID.upper(),
        SFT_JOB_ID.replace("-", ""),
        "{" + SFT_JOB_ID + "}",
        f"urn:uuid:{SFT_JOB_ID}",
        SFT_JOB_ID + "/../../user",
        "",
    ],
)
def test_an_invalid_job_id_fails_before_any_request(source, fake_platform, job_id):
    for call in (
        source.get_job,
        source.get_artifacts,
        source.get_logs,
        source.cancel,
        source.retry,
    ):
        exc = error_of(call, "acme", "research", job_id)
        assert exc.status == 404
        assert exc.kind == "not_found"
    assert fake_platform.requests == []


def test_an_invalid_org_for_workspaces_fails_before_any_request(source, fake_platform):
    assert error_of(source.list_workspaces, "ACME").status == 404
    assert fake_platform.requests == []


def test_valid_slug_and_valid_job_id_accept_canonical_values() -> None:
    assert valid_slug("acme") and valid_slug("a") and valid_slug("0-team-9")
    assert valid_slug("a" * 63) and not valid_slug("a" * 64)
    assert not valid_slug(None) and not valid_slug("acme\n") and not valid_slug("ac me")
    assert valid_job_id(str(uuid.uuid4()))
    assert not valid_job_id(None) and not valid_job_id(uuid.uuid4())


# -- upstream errors ----------------------------------------------------------------------


def test_a_wrong_key_gives_401_with_what_to_do(fake_platform):
    wrong = PlatformSource(settings_for(fake_platform.url, key="dn_key_wrong"))
    exc = error_of(wrong.get_job, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (401, "auth")
    assert f"rejected by {fake_platform.url}" in exc.message
    assert "DREADNODE_API_KEY" in exc.message and "dn login" in exc.message
    assert "dn_key_wrong" not in exc.message


def test_a_403_names_the_scope_and_the_detail(source, fake_platform):
    fake_platform.fail("/training/jobs", 403, {"code": 403, "detail": "Not a member", "type": "x"})
    exc = error_of(source.list_jobs, "acme", "research", page=1, page_size=20)

    assert (exc.status, exc.kind) == (403, "forbidden")
    assert exc.message == "Your API key may not see acme/research: Not a member"


def test_a_missing_job_gives_the_not_found_message(source):
    missing = str(uuid.uuid4())
    exc = error_of(source.get_job, "acme", "research", missing)

    assert (exc.status, exc.kind) == (404, "not_found")
    assert exc.message == f"no job {missing} in acme/research"


def test_a_missing_workspace_gives_not_found_with_the_detail(source):
    exc = error_of(source.list_jobs, "acme", "nowhere", page=1, page_size=20)

    assert (exc.status, exc.kind) == (404, "not_found")
    assert exc.message == "not found: Workspace 'nowhere' not found"


def test_cancelling_a_finished_job_gives_a_conflict_with_the_detail(source):
    exc = error_of(source.cancel, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (409, "conflict")
    assert "completed" in exc.message


def test_retrying_a_running_job_gives_a_conflict(source):
    exc = error_of(source.retry, "acme", "research", RL_JOB_ID)
    assert (exc.status, exc.kind) == (409, "conflict")


def test_a_429_about_credits_says_out_of_credits(source, fake_platform):
    body = {"code": 429, "detail": "Insufficient credits for training", "type": "payment"}
    fake_platform.fail("/training/jobs", 429, body)
    exc = error_of(source.retry, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (429, "credits")
    assert "out of credits" in exc.message
    assert "Insufficient credits for training" in exc.message


def test_a_plain_429_says_rate_limited(source, fake_platform):
    fake_platform.fail("/training/jobs", 429, {"code": 429, "detail": "Slow down", "type": "rate"})
    exc = error_of(source.get_logs, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (429, "rate_limit")
    assert exc.message == "rate limited by the platform; try again shortly"


def test_a_422_lists_its_errors_briefly(source):
    exc = error_of(source.list_jobs, "acme", "research", page=1, page_size=500)

    assert (exc.status, exc.kind) == (422, "invalid")
    assert exc.message.startswith("422: Request validation failed")
    assert "query.page_size: Input should be between 1 and 100" in exc.message


def test_a_422_with_many_errors_shows_the_first_few(source, fake_platform):
    errors = [{"field": f"f{i}", "message": "bad"} for i in range(10)]
    fake_platform.fail("/training/jobs", 422, {"code": 422, "detail": "Invalid", "errors": errors})
    exc = error_of(source.list_jobs, "acme", "research", page=1, page_size=20)

    assert "f0: bad; f1: bad; f2: bad; and 7 more" in exc.message
    assert "f3" not in exc.message


def test_a_detail_that_is_a_list_is_turned_into_text(source, fake_platform):
    detail = [{"loc": ["body", "name"], "msg": "Field required", "type": "missing"}]
    fake_platform.fail("/training/jobs", 400, {"code": 400, "detail": detail, "type": "bad"})
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (502, "upstream")
    assert exc.message == "400: body.name: Field required"


def test_a_detail_that_is_a_map_is_turned_into_text(source, fake_platform):
    fake_platform.fail("/training/jobs", 426, {"code": 426, "detail": {"message": "Upgrade dn"}})
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)
    assert exc.message == "426: Upgrade dn"


@pytest.mark.parametrize(("upstream", "shown"), [(500, 502), (502, 502), (503, 503), (504, 504)])
def test_a_server_error_keeps_the_upstream_code_in_the_message(
    source, fake_platform, upstream, shown
):
    body = {"code": upstream, "detail": "database is sad", "type": "internal"}
    fake_platform.fail("/training/jobs", upstream, body)
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (shown, "upstream" if upstream == 500 else "unavailable")
    assert exc.message == f"{upstream}: database is sad"


def test_an_error_body_that_is_not_json_is_shown_raw_and_truncated(source, fake_platform):
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 1000 + "</body></html>"
    fake_platform.fail("/training/jobs", 502, page, content_type="text/html")
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert exc.status == 502
    assert exc.message.startswith("502: <html><body><h1>502 Bad Gateway</h1>xxx")
    assert len(exc.message) <= len("502: ") + 300


def test_an_empty_error_body_shows_the_reason(source, fake_platform):
    fake_platform.fail("/training/jobs", 500, b"", content_type="text/plain")
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)
    assert exc.message == "500: Internal Server Error"


def test_a_success_that_is_not_json_gives_502(source, fake_platform):
    fake_platform.fail("/training/jobs", 200, "<html>login page</html>", content_type="text/html")
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (502, "upstream")
    assert exc.message == "the platform answered with text/html, not JSON; is the server URL the platform's?"


def test_a_redirect_is_not_followed(source, fake_platform):
    fake_platform.fail("/training/jobs", 302, b"", content_type="text/plain")
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert exc.status == 502
    assert exc.message.startswith("302: the platform redirected")
    assert len(fake_platform.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 503])
def test_an_echoed_key_never_reaches_the_message(source, fake_platform, status):
    echo = f"bad key {KEY} for credit " + "y" * 280 + KEY
    fake_platform.fail("/training/jobs", status, {"code": status, "detail": echo, "errors": [echo]})
    exc = error_of(source.list_jobs, "acme", "research", page=1, page_size=20)

    assert_no_key(exc)
    assert exc.__cause__ is None and exc.__suppress_context__


def test_an_echoed_key_in_a_raw_body_is_redacted_before_truncation(source, fake_platform):
    fake_platform.fail("/training/jobs", 500, "z" * 290 + KEY, content_type="text/plain")
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert_no_key(exc)
    assert KEY[:8] not in exc.message


# -- network failures ---------------------------------------------------------------------


def test_a_slow_platform_gives_504_within_the_timeout(fake_platform):
    slow = PlatformSource(settings_for(fake_platform.url), timeout=(1, 0.5))
    fake_platform.fail("/training/jobs", None, delay=3)
    started = time.monotonic()
    exc = error_of(slow.get_job, "acme", "research", SFT_JOB_ID)
    elapsed = time.monotonic() - started

    assert (exc.status, exc.kind) == (504, "timeout")
    assert exc.message == "the platform did not answer within 0.5 s"
    assert elapsed < 1.5


def test_latency_below_the_timeout_is_fine(fake_platform):
    fake_platform.latency = 0.2
    patient = PlatformSource(settings_for(fake_platform.url), timeout=(1, 1))
    assert patient.get_job("acme", "research", SFT_JOB_ID)["id"] == SFT_JOB_ID


def test_a_refused_connection_gives_502_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    exc = error_of(PlatformSource(settings_for(server)).get_job, "acme", "research", SFT_JOB_ID)

    assert (exc.status, exc.kind) == (502, "unreachable")
    assert exc.message == f"cannot reach {server}"


def test_a_server_url_without_a_scheme_gives_a_clear_error() -> None:
    source = PlatformSource(settings_for("app.dreadnode.example"))
    exc = error_of(source.get_job, "acme", "research", SFT_JOB_ID)

    assert exc.status == 502
    assert "app.dreadnode.example" in exc.message


def test_a_key_pasted_into_a_path_parameter_is_not_echoed(source, fake_platform):
    exc = error_of(source.get_job, "acme", "research", KEY)
    assert_no_key(exc)
    assert "is not a job id" in exc.message
    assert fake_platform.requests == []


def test_the_key_is_not_in_the_source_repr(source):
    assert KEY not in repr(source)


# -- the fake itself ----------------------------------------------------------------------


def test_the_fake_rejects_a_missing_key_with_a_json_401(fake_platform):
    import requests

    response = requests.get(f"{fake_platform.api_url}/user", timeout=5)
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_a_fault_with_times_fires_only_that_often(source, fake_platform):
    fake_platform.fail("/logs", 500, times=1)
    assert error_of(source.get_logs, "acme", "research", SFT_JOB_ID).status == 502
    assert source.get_logs("acme", "research", SFT_JOB_ID)["items"]


def test_reset_forgets_faults_latency_and_requests(source, fake_platform):
    fake_platform.fail("/training/jobs", 500)
    fake_platform.latency = 5
    fake_platform.reset()
    assert source.get_job("acme", "research", SFT_JOB_ID)["id"] == SFT_JOB_ID
    assert len(fake_platform.requests) == 1


def test_a_pane_loads_its_three_reads_concurrently(source, fake_platform):
    fake_platform.latency = 0.3
    started = time.monotonic()
    pane = load_pane(source, "acme", "research", RL_JOB_ID)

    assert time.monotonic() - started < 0.8
    assert pane.job.status == "running"
    assert pane.artifacts["execution_mode"] == "async"
    assert [e["level"] for e in pane.items] == ["info", "warning", "info"]


def test_lone_surrogate_escapes_become_replacement_characters():
    from dashboard.sources import parse_json

    parsed = parse_json(rb'{"a": "x\ud800y", "b": "\ud83d\ude00", "c": "\udc00", "n": NaN}')
    assert parsed["a"] == "x\ufffdy" and parsed["b"] == "\U0001f600" and parsed["c"] == "\ufffd"
    assert parsed["n"] != parsed["n"]  # NaN literals still read

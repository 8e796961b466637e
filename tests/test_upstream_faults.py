"""Every upstream fault the platform can throw, injected by the fake: the right status, a clear
message, within the timeout plus a second; reads retried only where that is safe."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from email.utils import formatdate
from html import escape as html_escape

import pytest

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources import SourceError
from dashboard.sources.platform import PlatformSource
from dashboard.sources.upstream_errors import retry_after
from tests.fake_platform import DEFAULT_KEY, SFT_JOB_ID, FakePlatform

TIMEOUT = (0.5, 1.0)
JOB = ("acme", "research", SFT_JOB_ID)
CREDITS = {"code": 429, "detail": "Out of credits for this organization", "type": "payment"}

# (name, fail() arguments, expected status, kind, words in the message)
FAULTS = [
    ("read timeout", {"status": None, "delay": 3}, 504, "timeout", "did not answer within 1 s"),
    ("connection reset", {"status": None, "cut": "reset"}, 502, "unreachable", "cannot reach"),
    ("401", {"status": 401}, 401, "auth", "API key was rejected"),
    ("403", {"status": 403}, 403, "forbidden", "may not see acme/research"),
    ("404", {"status": 404}, 404, "not_found", f"no job {SFT_JOB_ID}"),
    ("409", {"status": 409, "body": {"detail": "job is completed"}}, 409, "conflict", "job is completed"),
    ("422", {"status": 422, "body": {"detail": "Invalid", "errors": [{"msg": "bad id"}]}},
     422, "invalid", "bad id"),
    ("429 rate limit", {"status": 429}, 429, "rate_limit", "rate limited by the platform"),
    ("429 out of credits", {"status": 429, "body": CREDITS}, 429, "credits", "out of credits"),
    ("500", {"status": 500}, 502, "upstream", "500: injected failure"),
    ("502", {"status": 502}, 502, "unavailable", "502: injected failure"),
    ("503 with Retry-After", {"status": 503, "headers": {"Retry-After": "30"}}, 503, "unavailable",
     "asks to wait 30 s"),
    ("504", {"status": 504}, 504, "unavailable", "504: injected failure"),
    ("non-JSON body", {"status": 200, "body": "{not json", "content_type": "application/json"},
     502, "upstream", "not JSON"),
    ("truncated body", {"status": 200, "body": {"id": SFT_JOB_ID, "name": "x" * 5000},
                        "cut": "truncate"}, 502, "cut_off", "was cut off"),
    ("wrong content type", {"status": 200, "body": "<html>sign in</html>", "content_type": "text/html"},
     502, "upstream", "answered with text/html, not JSON"),
    ("body over the limit", {"status": 200, "body": {"blob": "x" * 300_000}}, 502, "too_large",
     "over 0.25 MB"),
]


@pytest.fixture
def source(fake_platform: FakePlatform) -> Iterator[PlatformSource]:
    source = PlatformSource(
        Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY),
        timeout=TIMEOUT, max_body=2**18,
    )
    yield source
    source.close()


def failure(call, *args) -> tuple[SourceError, float]:
    """The SourceError a call raises and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        call(*args)
    return info.value, time.monotonic() - started


@pytest.mark.parametrize(("name", "fault", "status", "kind", "words"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_surfaces_with_its_status_and_a_clear_message_in_time(
    source, fake_platform, name, fault, status, kind, words
):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", **fault)
    error, took = failure(source.get_job, *JOB)

    assert (error.status, error.kind) == (status, kind)
    assert words in error.message
    assert took < sum(TIMEOUT) + 1.0
    assert DEFAULT_KEY not in error.message


def test_a_connect_timeout_surfaces_as_504_in_time(fake_platform):
    # A listener whose backlog is full drops new SYNs: the connect never completes.
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        filler.connect(listener.getsockname())
        host, port = listener.getsockname()
        source = PlatformSource(Settings("platform", server=f"http://{host}:{port}", api_key=DEFAULT_KEY),
                                timeout=TIMEOUT)
        error, took = failure(source.get_job, *JOB)

    assert (error.status, error.kind) == (504, "timeout")
    assert error.message == "the platform did not answer within 0.5 s"
    assert took < sum(TIMEOUT) + 1.0


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_read_is_retried_after_a_transient_failure(source, fake_platform, status):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", status, times=2)
    assert source.get_job(*JOB)["id"] == SFT_JOB_ID
    assert len(fake_platform.requests_to(SFT_JOB_ID)) == 3


def test_a_read_is_retried_after_a_connection_reset(source, fake_platform):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", None, cut="reset", times=1)
    assert source.get_job(*JOB)["id"] == SFT_JOB_ID


def test_a_read_is_retried_at_most_three_times(source, fake_platform):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", 503)
    failure(source.get_job, *JOB)
    assert len(fake_platform.requests_to(SFT_JOB_ID)) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
def test_a_failure_that_will_not_change_is_not_retried(source, fake_platform, status):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", status)
    failure(source.get_job, *JOB)
    assert len(fake_platform.requests_to(SFT_JOB_ID)) == 1


def test_running_out_of_credits_is_not_retried(source, fake_platform):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", 429, CREDITS)
    failure(source.get_job, *JOB)
    assert len(fake_platform.requests_to(SFT_JOB_ID)) == 1


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_a_write_is_never_retried(source, fake_platform, action):
    fake_platform.fail(f"/{action}", 503)
    error, _ = failure(getattr(source, action), *JOB)
    assert error.status == 503
    assert len(fake_platform.requests_to(f"/{action}")) == 1


def test_a_short_retry_after_is_honoured(fake_platform):
    patient = PlatformSource(Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY),
                             timeout=(1, 5))
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", 503, headers={"Retry-After": "1"}, times=1)
    started = time.monotonic()
    assert patient.get_job(*JOB)["id"] == SFT_JOB_ID
    assert time.monotonic() - started >= 1.0
    first, second = fake_platform.requests_to(SFT_JOB_ID)
    assert first.path == second.path


def test_a_long_retry_after_is_reported_not_waited_out(source, fake_platform):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", 429, headers={"Retry-After": "120"})
    error, took = failure(source.get_job, *JOB)

    assert error.retry_after == 120
    assert "try again in 120 s" in error.message
    assert took < 0.5
    assert len(fake_platform.requests_to(SFT_JOB_ID)) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("", None), ("5", 5.0), ("-3", 0.0), ("soon", None), ("nan", None),
     ("1e9", 86400.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after_reads_seconds_and_dates(header, expected):
    assert retry_after(header) == expected


def test_retry_after_reads_a_future_http_date():
    assert 8 < retry_after(formatdate(time.time() + 10, usegmt=True)) <= 10


def test_a_body_over_the_limit_by_its_declared_length_is_not_read(source, fake_platform):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", 200, {"blob": "x" * 10_000_000})
    error, took = failure(source.get_job, *JOB)
    assert error.kind == "too_large"
    assert took < 1.0


# -- through the dashboard -------------------------------------------------------------------

JOB_PATH = f"/acme/research/training/jobs/{SFT_JOB_ID}"


@pytest.fixture
def client(fake_platform: FakePlatform):
    settings = Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY,
                        organization="acme", workspace="research")
    return create_app(settings).test_client()


# The app's read timeout (20 s) and body limit (256 MB) are too big to hit here.
ROUTE_FAULTS = [f for f in FAULTS if f[0] not in ("read timeout", "body over the limit")]


@pytest.mark.parametrize(("name", "fault", "status", "kind", "words"), ROUTE_FAULTS,
                         ids=[f[0] for f in ROUTE_FAULTS])
def test_each_fault_is_a_clear_page_and_a_quiet_fragment(client, fake_platform, name, fault, status, kind,
                                                         words):
    fake_platform.fail(f"/jobs/{SFT_JOB_ID}", **fault)
    page = client.get(JOB_PATH)
    fragment = client.get(f"{JOB_PATH}/summary", headers={"HX-Request": "true"})

    for response in (page, fragment):
        html = response.get_data(as_text=True)
        assert response.status_code == status
        assert html_escape(words) in html
        assert "Traceback" not in html
    assert "<html" not in fragment.get_data(as_text=True)


def test_the_platforms_retry_after_reaches_the_browser(client, fake_platform):
    fake_platform.fail("/logs", 503, headers={"Retry-After": "30"})
    response = client.get(f"{JOB_PATH}/logs?after=0", headers={"HX-Request": "true"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"

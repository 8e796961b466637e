"""Shared deployments: the auth modes, sign-in with each viewer's own key, sign-out, expiry,
and the refusal to serve beyond loopback without an auth mode."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashboard import cli, create_app
from dashboard.config import Settings
from dashboard.web import auth, viewer
from tests.fake_platform import DEFAULT_KEY, RL_JOB_ID, SFT_JOB_ID, FakePlatform

SECRET = "s" * 40
OTHER_KEY = "dn_key_test_canary_other_456"
JOBS = "/acme/research/training/jobs"
JOB = f"{JOBS}/{SFT_JOB_ID}"


def viewer_app(fake: FakePlatform, monkeypatch: pytest.MonkeyPatch, secret: str = SECRET, **scope) -> Flask:
    monkeypatch.setenv("DASHBOARD_SECRET_KEY", secret)
    scope = scope or {"organization": "acme", "workspace": "research"}
    return create_app(Settings("platform", server=fake.url, auth="viewer", **scope))


@pytest.fixture
def app(fake_platform: FakePlatform, monkeypatch: pytest.MonkeyPatch) -> Flask:
    return viewer_app(fake_platform, monkeypatch)


def csrf_of(client: FlaskClient, path: str = "/signin") -> str:
    html = client.get(path).get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def sign_in(client: FlaskClient, key: str = DEFAULT_KEY, next_path: str = JOB):
    return client.post("/signin", data={"api_key": key, "next": next_path, "csrf_token": csrf_of(client)})


def signed_in(app: Flask, key: str = DEFAULT_KEY) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, key).status_code == 303
    return client


# -- binding and settings --------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_auth_mode(host):
    auth.check_bind([host], "none")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "dashboard.example", ""])
def test_anything_but_loopback_needs_an_auth_mode(host):
    with pytest.raises(auth.AuthConfigError, match="--auth viewer"):
        auth.check_bind([host], "none")
    auth.check_bind([host], "viewer")
    auth.check_bind([host], "service")


def test_serve_refuses_a_public_bind_without_an_auth_mode(capsys, monkeypatch):
    monkeypatch.delenv("DASHBOARD_AUTH", raising=False)
    assert cli.main(["serve", "--demo", "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0" in capsys.readouterr().err


def test_serve_refuses_viewer_mode_without_a_secret(capsys, monkeypatch, fake_platform):
    monkeypatch.delenv("DASHBOARD_SECRET_KEY", raising=False)
    code = cli.main(["serve", "--auth", "viewer", "--server", fake_platform.url, "--host", "0.0.0.0"])
    assert code == 2
    assert "DASHBOARD_SECRET_KEY" in capsys.readouterr().err


def test_viewer_mode_refuses_the_demo_source(monkeypatch):
    monkeypatch.setenv("DASHBOARD_SECRET_KEY", SECRET)
    with pytest.raises(auth.AuthConfigError, match="against a platform"):
        create_app(Settings("demo", auth="viewer"))


def test_an_unknown_auth_mode_is_refused():
    with pytest.raises(auth.AuthConfigError, match="unknown auth mode"):
        create_app(Settings("demo", auth="everyone"))


# -- viewer mode: sign-in --------------------------------------------------------------------


def test_a_link_opened_signed_out_goes_to_sign_in_and_remembers_the_job(app):
    response = app.test_client().get(JOB)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/signin"
    assert unquote(location.query) == f"next={JOB}"


def test_a_poll_signed_out_asks_htmx_to_load_sign_in(app):
    response = app.test_client().get(f"{JOB}/summary", headers={
        "HX-Request": "true", "HX-Current-URL": f"http://localhost{JOB}"})
    assert response.status_code == 401
    assert unquote(response.headers["HX-Redirect"]) == f"/signin?next={JOB}"


def test_signing_in_goes_back_to_the_job(app):
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 303
    assert response.headers["Location"] == JOB
    page = client.get(JOB)
    assert page.status_code == 200
    assert SFT_JOB_ID in page.get_data(as_text=True)


def test_the_cookie_is_encrypted_httponly_secure_and_samesite(app):
    response = sign_in(app.test_client())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(viewer.COOKIE))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert DEFAULT_KEY not in cookie
    assert "Max-Age=43200" in cookie  # 12 hours by default


def test_every_upstream_call_carries_the_viewers_own_key(app, fake_platform):
    fake_platform.api_keys.add(OTHER_KEY)
    first, second = signed_in(app), signed_in(app, OTHER_KEY)
    fake_platform.reset()
    first.get(JOB)
    assert {r.headers["x-api-key"] for r in fake_platform.requests} == {DEFAULT_KEY}
    fake_platform.reset()
    second.get(f"{JOBS}/{RL_JOB_ID}")
    assert {r.headers["x-api-key"] for r in fake_platform.requests} == {OTHER_KEY}


def test_one_viewers_cached_reads_never_reach_another(app, fake_platform):
    fake_platform.api_keys.add(OTHER_KEY)
    first, second = signed_in(app), signed_in(app, OTHER_KEY)
    assert first.get(JOB).status_code == 200
    fake_platform.api_keys.discard(OTHER_KEY)  # the platform now refuses the second viewer
    response = second.get(JOB)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/signin"


def test_a_rejected_key_is_not_signed_in(app):
    client = app.test_client()
    response = sign_in(client, "dn_key_wrong_999")
    assert response.status_code == 401
    assert "rejected that API key" in response.get_data(as_text=True)
    assert not any(c.startswith(viewer.COOKIE) for c in response.headers.getlist("Set-Cookie"))
    assert client.get(JOB).status_code == 302


def test_sign_in_needs_the_csrf_token(app):
    response = app.test_client().post("/signin", data={"api_key": DEFAULT_KEY, "next": JOB})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", ""])
def test_sign_in_never_sends_people_off_site(app, target):
    response = sign_in(app.test_client(), next_path=target)
    assert response.headers["Location"] == "/"


def test_the_page_names_the_viewer_and_offers_sign_out(app):
    html = signed_in(app).get(JOB).get_data(as_text=True)
    assert 'data-testid="signout"' in html
    assert ">ada<" in html


def test_sign_out_forgets_the_key(app):
    client = signed_in(app)
    response = client.post("/signout", data={"csrf_token": csrf_of(client, JOB)})
    assert response.status_code == 303
    assert client.get(JOB).status_code == 302


def test_sign_out_needs_the_csrf_token(app):
    client = signed_in(app)
    assert client.post("/signout").status_code == 400
    assert client.get(JOB).status_code == 200


def test_a_sign_in_expires(app):
    client = signed_in(app)
    with app.test_request_context():
        old = viewer._fernet().encrypt_at_time(
            json.dumps({"k": DEFAULT_KEY, "n": "ada", "s": None}).encode(), int(time.time()) - 13 * 3600)
    client.set_cookie(viewer.COOKIE, old.decode())
    assert client.get(JOB).status_code == 302


def test_a_forged_cookie_is_ignored(app):
    client = app.test_client()
    client.set_cookie(viewer.COOKIE, "gAAAAABforged")
    assert client.get(JOB).status_code == 302


def test_another_instance_with_the_same_secret_reads_the_sign_in(app, fake_platform, monkeypatch):
    client = signed_in(app)
    cookie = client.get_cookie(viewer.COOKIE)
    twin = viewer_app(fake_platform, monkeypatch).test_client()
    twin.set_cookie(viewer.COOKIE, cookie.value)
    assert twin.get(JOB).status_code == 200
    stranger = viewer_app(fake_platform, monkeypatch, secret="t" * 40).test_client()
    stranger.set_cookie(viewer.COOKIE, cookie.value)
    assert stranger.get(JOB).status_code == 302


def test_a_key_revoked_after_sign_in_ends_the_sign_in(app, fake_platform):
    client = signed_in(app)
    fake_platform.api_keys.clear()
    response = client.get(JOB)
    assert response.status_code == 302
    assert "no longer accepts your API key" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_default_scope_is_the_viewers(fake_platform, monkeypatch):
    app = viewer_app(fake_platform, monkeypatch, organization=None, workspace=None)
    fake_platform.add_workspace("acme", "research", is_default=True)
    client = signed_in(app)
    response = client.get("/")
    assert response.headers["Location"] == JOBS


def test_a_signed_in_viewer_can_cancel_with_a_confirmation(app, fake_platform):
    client = signed_in(app)
    token = csrf_of(client, f"{JOBS}/{RL_JOB_ID}/cancel")
    response = client.post(f"{JOBS}/{RL_JOB_ID}/cancel", data={"csrf_token": token})
    assert response.status_code == 303
    cancel = fake_platform.requests_to("/cancel")
    assert [r.headers["x-api-key"] for r in cancel] == [DEFAULT_KEY]


# -- service mode -----------------------------------------------------------------------------


@pytest.fixture
def service(fake_platform: FakePlatform) -> FlaskClient:
    settings = Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY, auth="service",
                        organization="acme", workspace="research")
    return create_app(settings).test_client()


def test_service_mode_needs_no_sign_in_and_says_read_only(service):
    html = service.get(f"{JOBS}/{RL_JOB_ID}").get_data(as_text=True)
    assert 'data-testid="read-only-badge"' in html
    assert 'data-testid="action-cancel"' not in html
    assert service.get("/signin").status_code == 404


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_service_mode_refuses_cancel_and_retry(service, fake_platform, action):
    assert service.get(f"{JOBS}/{RL_JOB_ID}/{action}").status_code == 405
    response = service.post(f"{JOBS}/{RL_JOB_ID}/{action}")
    assert response.status_code == 405
    assert "service mode" in response.get_data(as_text=True)
    assert not fake_platform.requests_to(f"/{action}")


def test_local_mode_has_no_sign_in():
    client = create_app(Settings("demo", organization="acme", workspace="research")).test_client()
    assert client.get("/signin").status_code == 404
    assert client.get("/").status_code == 302


# -- review fixes ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\n/evil.example", "/\r\n//evil.example",
                                    "/ /evil.example", "/\x7f/evil.example"])
def test_sign_in_refuses_targets_a_browser_would_read_as_another_site(app, target):
    response = sign_in(app.test_client(), next_path=target)
    assert response.headers["Location"] == "/"


def test_one_viewers_platform_cookies_never_reach_another(app, fake_platform):
    fake_platform.api_keys.add(OTHER_KEY)
    fake_platform.fail("/user", 200, fake_platform.user, headers={"Set-Cookie": "access_token=alice; Path=/"},
                       times=1)
    signed_in(app)
    signed_in(app, OTHER_KEY).get(JOB)
    assert all("cookie" not in r.headers for r in fake_platform.requests)


def test_sign_out_works_from_a_page_opened_without_a_session_cookie(app):
    client = signed_in(app)
    client.delete_cookie("session")
    token = csrf_of(client, JOB)  # the streamed job page: its token must be in its cookie
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303


def test_a_key_with_characters_no_key_has_is_refused_at_sign_in(app):
    response = sign_in(app.test_client(), "dn_key_\u200babc")
    assert response.status_code == 400
    assert "not an API key" in response.get_data(as_text=True)


def test_the_viewers_key_is_not_in_the_viewers_repr():
    assert DEFAULT_KEY not in repr(viewer.Viewer(DEFAULT_KEY, "ada", None))


def test_viewer_mode_does_not_keep_finished_jobs_a_minute(app):
    assert app.config["SOURCE"].finished_ttl == 0.0


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example:8050", "10.0.0.5"])
def test_without_sign_in_only_loopback_host_names_are_answered(host):
    client = create_app(Settings("demo", organization="acme", workspace="research")).test_client()
    response = client.get(JOBS, headers={"Host": host})
    assert response.status_code == 400
    assert "answers only to localhost" in response.get_data(as_text=True)
    assert client.get(JOBS, headers={"Host": "127.0.0.1:8050"}).status_code == 200


def test_a_finished_jobs_etag_differs_between_viewers(app, fake_platform):
    fake_platform.api_keys.add(OTHER_KEY)
    fake_platform.user = fake_platform.user | {"username": "ada"}
    first = signed_in(app).get(JOB).headers["ETag"]
    fake_platform.user = fake_platform.user | {"username": "grace"}
    second = signed_in(app, OTHER_KEY).get(JOB).headers["ETag"]
    assert first != second

"""The canary-key check itself (tests/canary.py) can fail: each way a key can leave is caught."""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask, Response, session, stream_with_context

from tests import canary
from tests.fake_platform import DEFAULT_KEY

OTHER_KEY = "dn_key_self_test/+=&\"<é"  # characters that each encoding changes


def test_the_key_in_a_body_is_a_leak() -> None:
    body = f"<p>key: {DEFAULT_KEY}</p>".encode()
    assert canary.scan(body) == [f"{DEFAULT_KEY!r} (verbatim)"]


@pytest.mark.parametrize("before", [b"", b"x", b"xy", b"Bearer ", b"user:"])
@pytest.mark.parametrize("alphabet", ["standard", "urlsafe"])
def test_the_key_inside_a_base64_blob_is_a_leak(before: bytes, alphabet: str) -> None:
    encode = base64.b64encode if alphabet == "standard" else base64.urlsafe_b64encode
    blob = encode(before + DEFAULT_KEY.encode() + b"\x00\xff tail")
    assert DEFAULT_KEY.encode() not in blob
    assert canary.scan(b"Authorization: Basic " + blob), blob


@pytest.mark.parametrize("encoded", [
    quote(OTHER_KEY, safe=""),
    json.dumps(OTHER_KEY),
    json.dumps(OTHER_KEY, ensure_ascii=False),
    "&lt;".join(OTHER_KEY.replace("&", "&amp;").replace('"', "&quot;").split("<")),
])
def test_the_key_url_json_or_html_encoded_is_a_leak(encoded: str) -> None:
    assert OTHER_KEY not in encoded
    assert canary.scan(f"...{encoded}...", [OTHER_KEY])


def test_text_without_the_key_is_clean() -> None:
    almost = DEFAULT_KEY[:-1]
    clean = f"{almost} {base64.b64encode(almost.encode()).decode()} DREADNODE_API_KEY {DEFAULT_KEY[::-1]}"
    assert canary.scan(clean) == []


def test_a_session_cookie_holding_the_key_is_a_leak_even_deflated() -> None:
    app = Flask(__name__)
    app.secret_key = "s" * 32

    @app.route("/small")
    def small() -> str:
        session["k"] = DEFAULT_KEY
        return "ok"

    @app.route("/big")
    def big() -> str:
        session["k"] = DEFAULT_KEY + " " * 500  # compressible: itsdangerous deflates it
        return "ok"

    with canary.expected_leaks() as leaks:
        small_cookie = app.test_client().get("/small").headers["Set-Cookie"]
        big_cookie = app.test_client().get("/big").headers["Set-Cookie"]
    assert big_cookie.split("=", 1)[1].startswith(".")  # really deflated
    assert DEFAULT_KEY not in small_cookie and DEFAULT_KEY not in big_cookie
    plain, deflated = leaks
    assert plain.startswith("GET /small: header Set-Cookie: 'dn_key_test_canary_123' (base64)")
    assert "decoded cookie in Set-Cookie" in plain
    assert deflated.startswith("GET /big: decoded cookie in Set-Cookie: 'dn_key_test_canary_123' (verbatim)")


def leaky_app() -> Flask:
    app = Flask(__name__)

    @app.route("/body")
    def body() -> str:
        return f"<p>{DEFAULT_KEY}</p>"

    @app.route("/header")
    def header() -> Response:
        return Response("ok", headers={"X-Debug": quote(DEFAULT_KEY)})

    @app.route("/gzip")
    def gzipped() -> Response:
        return Response(gzip.compress(DEFAULT_KEY.encode()), headers={"Content-Encoding": "gzip"})

    @app.route("/stream")
    def stream() -> Response:
        half = len(DEFAULT_KEY) // 2

        def chunks() -> Iterator[str]:
            yield "<p>" + DEFAULT_KEY[:half]  # split across chunks
            yield DEFAULT_KEY[half:] + "</p>"

        return Response(stream_with_context(chunks()))

    @app.route("/clean-stream")
    def clean_stream() -> Response:
        return Response(stream_with_context(iter(["one", "two", "three"])))

    @app.route("/redirect")
    def redirect() -> Response:
        return Response(DEFAULT_KEY, status=302, headers={"Location": "/clean-stream"})

    @app.route("/log")
    def log() -> str:
        logging.getLogger("dashboard.canary_self_test").debug("calling with %s", DEFAULT_KEY)
        return "ok"

    return app


@pytest.mark.parametrize(("path", "found"), [
    ("/body", "GET /body: body: 'dn_key_test_canary_123' (verbatim)"),
    ("/header", "GET /header: header X-Debug: 'dn_key_test_canary_123' (verbatim)"),
    ("/gzip", "GET /gzip: body: 'dn_key_test_canary_123' (verbatim)"),
    ("/log", "log record of logger 'dashboard.canary_self_test' (DEBUG): 'dn_key_test_canary_123'"),
])
def test_a_test_client_response_or_log_record_with_the_key_is_a_leak(path: str, found: str) -> None:
    with canary.expected_leaks() as leaks:
        assert leaky_app().test_client().get(path).status_code == 200
    assert [leak.startswith(found) for leak in leaks] == [True]


def test_a_streamed_body_is_checked_as_read_and_what_the_test_leaves_unread_at_the_end() -> None:
    client = leaky_app().test_client()
    with canary.expected_leaks() as leaks:
        response = client.get("/stream", buffered=False)
        assert response.is_streamed
        chunks = iter(response.response)
        assert next(chunks) == b"<p>" + DEFAULT_KEY[:11].encode()  # chunks as they come
        assert leaks == []  # the key is whole only once both chunks are read
    assert [leak.startswith("GET /stream: body:") for leak in leaks] == [True]


def test_the_recorded_body_changes_nothing_a_test_sees() -> None:
    client = leaky_app().test_client()
    with canary.expected_leaks() as leaks:
        streamed = client.get("/clean-stream", buffered=False)
        assert streamed.is_streamed
        assert list(streamed.response) == [b"one", b"two", b"three"]
        assert client.get("/clean-stream").get_data() == b"onetwothree"
        followed = client.get("/redirect", follow_redirects=True)
        assert followed.text == "onetwothree"
    assert [leak.startswith("GET /redirect (redirect): body:") for leak in leaks] == [True]


def test_a_logger_that_does_not_propagate_is_checked_too() -> None:
    lonely = logging.getLogger("dashboard.canary_self_test.lonely")
    lonely.propagate = False
    try:
        canary.cover_every_logger()
        with canary.expected_leaks() as leaks:
            lonely.error("failed", exc_info=RuntimeError(f"token={DEFAULT_KEY}"))
        assert len(leaks) == 1 and "'dashboard.canary_self_test.lonely' (ERROR)" in leaks[0]
    finally:
        lonely.removeHandler(canary.LOG_CHECK)
        lonely.propagate = True


def test_browser_traffic_and_server_output_with_the_key_are_leaks(tmp_path: Path) -> None:
    har = tmp_path / "page.har"
    secret = base64.b64encode(b'{"key": "' + DEFAULT_KEY.encode() + b'"}').decode()
    har.write_text(json.dumps({"log": {"entries": [
        {"request": {"method": "GET", "url": "http://127.0.0.1:1/ok"},
         "response": {"headers": [{"name": "Content-Type", "value": "text/html"}],
                      "content": {"text": "<p>fine</p>"}}},
        {"request": {"method": "GET", "url": "http://127.0.0.1:1/leak"},
         "response": {"headers": [], "content": {"text": base64.b64encode(secret.encode()).decode(),
                                                 "encoding": "base64"}}},
    ]}}))
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    stdout.write_text("Serving on http://127.0.0.1:1/\n")
    stderr.write_text(f"GET /?key={quote(DEFAULT_KEY)} 200\n")
    with canary.expected_leaks() as leaks:
        canary.check_har(har)
        canary.check_server_output("server", stdout, stderr)
        canary.check_direct_response("GET /x", [("Location", f"/x?k={DEFAULT_KEY}")], b"")
    assert not har.exists()
    assert [leak.split(":")[0] for leak in leaks] == [
        "browser", "server output stderr.txt", "GET /x"]
    assert "/leak" in leaks[0] and "(base64)" in leaks[0]


def test_a_key_a_server_is_started_with_is_a_canary() -> None:
    flag, env = "dn_key_" + "from_a_flag_77", "dn_key_" + "from_env_77"  # not literals: see below
    canary.watch_server(["--api-key", flag, "--demo"], {"DREADNODE_API_KEY": env})
    canary.watch_server([], {})
    try:
        assert {flag, env} <= set(canary.TALLY.canaries())
    finally:
        canary.TALLY.keys -= {flag, env}


def test_every_key_literal_in_the_tests_is_a_canary() -> None:
    keys = canary.source_keys()
    assert {DEFAULT_KEY, "dn_key_wrong_999", "dn_key_browser_big_job", "dn_key_home"} <= keys
    assert not any("from_a_flag" in key for key in keys)  # built at run time, not a literal
    assert keys <= set(canary.TALLY.canaries())

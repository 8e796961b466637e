"""The canary-key check: across the whole suite, the API key never leaves the dashboard.

Registered from tests/conftest.py. The canaries are `DEFAULT_KEY` (the fake platform's key,
which most tests configure), every quoted `dn_key_...` literal in the test sources, and every
key configured at run time: each `Settings` built in the test process, each key a dashboard
server process is started with (`watch_server`), each `api_key` a test-client sign-in posts.
Keys shorter than `MIN_KEY` characters (the config tests' `"k"`) would match by chance and are
not canaries.

A canary is looked for verbatim and URL-encoded, JSON-escaped, HTML-escaped and base64-encoded
(standard and URL-safe alphabets, at each of the three byte alignments, so the key is found
inside a longer base64 blob), in what the DASHBOARD sends out, never in what a test sends it:

- every Flask test-client response: every header (a Flask session cookie also decoded), the
  body (gzip decoded too) and each followed redirect; a streamed body is checked as the test
  reads it, and whatever a test leaves unread is read to the end once the test body returns, so
  a test sees exactly the response it saw before; an exception the app lets propagate
  (TESTING=True) is checked too, since a server would log it;
- every log record of any logger (the root logger is set to DEBUG, and a logger that does not
  propagate gets the checking handler itself): message, exception and stack text;
- what each test printed (its captured stdout and stderr);
- each browser test's traffic: the `page` fixture records a HAR (headers, cookies, redirect
  target and body of every response the browser received) that is checked when its context
  closes; pages read outside the browser (`Server.get`); and a dashboard server process's
  stdout and stderr once it stops.

A leak fails the test that caused it (at teardown for the browser's traffic and the server's
output), naming the URL or logger; the terminal summary says how much was checked.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import tempfile
import threading
import traceback
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.fake_platform import DEFAULT_KEY

MIN_KEY = 8


# --- the checker ----------------------------------------------------------------------------


def _base64_forms(raw: bytes) -> Iterator[bytes]:
    """The base64 text that encodes `raw` wherever it sits in a longer string: for each of the
    three alignments, only the characters that depend on `raw`'s bytes alone."""
    for skip in range(3):
        encoded = base64.b64encode(b"\0" * skip + raw).rstrip(b"=")
        start = -(-4 * skip // 3)  # the first character no padding byte reaches
        end = 4 * (skip + len(raw)) // 3  # the last one with no following byte in it
        yield encoded[start:end]


def forms(key: str) -> dict[bytes, str]:
    """Every form of `key` looked for, each with its name."""
    found: dict[bytes, str] = {}
    candidates = [
        (key, "verbatim"),
        (quote(key, safe=""), "URL-encoded"),
        (quote_plus(key), "URL-encoded"),
        (json.dumps(key)[1:-1], "JSON-escaped"),
        (json.dumps(key, ensure_ascii=False)[1:-1], "JSON-escaped"),
        (html.escape(key), "HTML-escaped"),
    ]
    for text, name in candidates:
        found.setdefault(text.encode(), name)
    for piece in _base64_forms(key.encode()):
        found.setdefault(piece, "base64")
        found.setdefault(piece.replace(b"+", b"-").replace(b"/", b"_"), "URL-safe base64")
    return found


_FORMS: dict[str, dict[bytes, str]] = {}


def scan(data: bytes | str, keys: Iterable[str] = (DEFAULT_KEY,)) -> list[str]:
    """Which canaries `data` holds, in which form: `[]` when it holds none."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    hits = []
    for key in keys:
        key_forms = _FORMS.get(key)
        if key_forms is None:
            key_forms = _FORMS[key] = forms(key)
        hits += [f"{key!r} ({name})" for needle, name in key_forms.items() if needle in data]
    return hits


def session_cookie_payload(value: str) -> bytes | None:
    """The decoded data of a Flask (itsdangerous) session cookie, or None: signed, not
    encrypted, so whatever the session holds travels to the browser base64'd, maybe deflated."""
    value = value.strip('"')
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    if not payload:
        return None
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return zlib.decompress(data) if compressed else data
    except (ValueError, zlib.error):
        return None


def decoded_bodies(body: bytes, content_encoding: str | None) -> list[bytes]:
    """The body as sent, and gunzipped when it is gzip (a truncated stream as far as it goes)."""
    if (content_encoding or "").strip().lower() != "gzip" or not body:
        return [body]
    try:
        return [body, zlib.decompressobj(31).decompress(body)]
    except zlib.error:
        return [body]


def header_hits(headers: Iterable[tuple[str, str]], keys: Iterable[str]) -> list[str]:
    """Canaries in headers, Set-Cookie session payloads decoded."""
    keys = list(keys)
    hits = []
    for name, value in headers:
        hits += [f"header {name}: {hit}" for hit in scan(f"{name}: {value}", keys)]
        if name.lower() == "set-cookie":
            cookie_value = value.split(";", 1)[0].partition("=")[2]
            payload = session_cookie_payload(cookie_value)
            if payload:
                hits += [f"decoded cookie in {name}: {hit}" for hit in scan(payload, keys)]
    return hits


# --- the tally ------------------------------------------------------------------------------


@dataclass
class Tally:
    """The canaries, what was checked, and leaks not yet reported to a test."""

    keys: set[str] = field(default_factory=lambda: {DEFAULT_KEY})
    client_responses: int = 0
    browser_responses: int = 0
    direct_responses: int = 0
    log_records: int = 0
    server_logs: int = 0
    unread_bodies: int = 0  # streamed bodies a test closed before their end: checked as read
    leaks: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    streams: list[RecordedBody] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def responses(self) -> int:
        return self.client_responses + self.browser_responses + self.direct_responses

    def add_key(self, key: object) -> None:
        if isinstance(key, str) and len(key) >= MIN_KEY:
            with self.lock:
                self.keys.add(key)

    def canaries(self) -> list[str]:
        with self.lock:
            return sorted(self.keys)

    def leak(self, where: str, hits: list[str], *, pending: bool = True) -> str | None:
        """Count a leak (if `hits`); `pending`: for the running test phase to fail on."""
        if not hits:
            return None
        message = f"{where}: {', '.join(dict.fromkeys(hits))}"
        with self.lock:
            self.leaks.append(message)
            if pending:
                self.pending.append(message)
        return message

    def take_pending(self) -> list[str]:
        with self.lock:
            pending, self.pending = self.pending, []
            return pending


TALLY = Tally()
COUNTERS = ("client_responses", "browser_responses", "direct_responses", "log_records", "server_logs",
            "unread_bodies")


@contextmanager
def expected_leaks() -> Iterator[list[str]]:
    """For the plugin's own tests: the leaks found inside (streams read to their end on the way
    out) go to the caller instead of failing the test, and nothing inside is counted."""
    read_open_streams()
    with TALLY.lock:
        counts = {name: getattr(TALLY, name) for name in COUNTERS}
        leaks, pending = len(TALLY.leaks), len(TALLY.pending)
    caught: list[str] = []
    try:
        yield caught
    finally:
        read_open_streams()
        with TALLY.lock:
            caught += TALLY.leaks[leaks:]
            del TALLY.leaks[leaks:]
            del TALLY.pending[pending:]
            for name, value in counts.items():
                setattr(TALLY, name, value)


KEY_LITERAL = re.compile(r"""["'](dn_key_[A-Za-z0-9_-]+)["']""")


def source_keys(folder: Path = Path(__file__).parent) -> set[str]:
    """Every quoted `dn_key_...` literal in the test sources: the keys tests configure."""
    return {key for path in folder.rglob("*.py")
            for key in KEY_LITERAL.findall(path.read_text(encoding="utf-8", errors="replace"))}


def add_key(key: object) -> None:
    """Make `key` a canary too (a key a test configured somewhere the plugin cannot see)."""
    TALLY.add_key(key)


# --- Flask test-client responses ------------------------------------------------------------


class RecordedBody:
    """A streamed test-client body passed through to the test chunk by chunk, with a copy kept
    and checked whole (a key split across chunks included) once the end is reached."""

    def __init__(self, inner: Any, where: str, content_encoding: str | None) -> None:
        self._inner = inner
        self._chunks = iter(inner)
        self._copy: list[bytes] = []
        self._where = where
        self._encoding = content_encoding
        self.finished = False

    def __iter__(self) -> RecordedBody:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._finish(complete=True)
            raise
        except BaseException as exc:
            self._finish(complete=False, error=exc)
            raise
        self._copy.append(chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8", "surrogatepass"))
        return chunk

    def close(self) -> None:
        if not self.finished:
            self._finish(complete=False)
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    def read_rest(self) -> None:
        """Read what the test left unread (the dashboard would have sent it all)."""
        try:
            for _ in self:
                pass
        except Exception:  # already checked and counted by __next__
            return

    def _finish(self, complete: bool, error: BaseException | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        body = b"".join(self._copy)
        self._copy = []
        keys = TALLY.canaries()
        hits = [f"body: {hit}" for part in decoded_bodies(body, self._encoding) for hit in scan(part, keys)]
        if error is not None:
            hits += [f"exception while streaming: {hit}" for hit in scan(_exception_text(error), keys)]
        TALLY.leak(self._where, hits)
        with TALLY.lock:
            TALLY.client_responses += 1
            if not complete and error is None:
                TALLY.unread_bodies += 1
            if self in TALLY.streams:
                TALLY.streams.remove(self)


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _check_client_response(response: Any, where: str) -> None:
    keys = TALLY.canaries()
    TALLY.leak(where, header_hits(response.headers.items(), keys))
    encoding = response.headers.get("Content-Encoding")
    if response.is_sequence:
        body = response.get_data()
        TALLY.leak(where, [f"body: {hit}" for part in decoded_bodies(body, encoding)
                           for hit in scan(part, keys)])
        with TALLY.lock:
            TALLY.client_responses += 1
    else:
        recorded = RecordedBody(response.response, where, encoding)
        response.response = recorded
        with TALLY.lock:
            TALLY.streams.append(recorded)


def read_open_streams() -> None:
    """Read to their end the test-client bodies nobody has read or closed yet."""
    with TALLY.lock:
        streams = list(TALLY.streams)
    for recorded in streams:
        recorded.read_rest()


def _describe(request: Any) -> str:
    try:
        return f"{request.method} {request.full_path.rstrip('?')}"
    except Exception:
        return "a test-client request"


def _wrap_flask_client() -> Any:
    from flask.testing import FlaskClient

    original = FlaskClient.open

    def open(self: FlaskClient, *args: Any, **kwargs: Any) -> Any:
        settings = self.application.config.get("SETTINGS")
        TALLY.add_key(getattr(settings, "api_key", None))
        data = kwargs.get("data")
        if isinstance(data, Mapping):  # a viewer signing in with their own key
            TALLY.add_key(data.get("api_key"))
        try:
            response = original(self, *args, **kwargs)
        except BaseException as exc:
            TALLY.leak("an exception the app raised into the test client",
                       scan(_exception_text(exc), TALLY.canaries()))
            raise
        for earlier in response.history:
            _check_client_response(earlier, f"{_describe(earlier.request)} (redirect)")
        _check_client_response(response, _describe(response.request))
        return response

    FlaskClient.open = open  # type: ignore[method-assign]
    return original


def _wrap_settings() -> Any:
    from dashboard import config

    original = config.Settings.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        TALLY.add_key(self.api_key)

    config.Settings.__init__ = init  # type: ignore[method-assign]
    return original


# --- logs -----------------------------------------------------------------------------------


class LogCheck(logging.Handler):
    """Checks every log record: its message, its exception and its stack."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            try:
                parts = [record.getMessage()]
            except Exception:
                parts = [repr(record.msg), repr(record.args)]
            if record.exc_info and record.exc_info[1] is not None:
                parts.append(_exception_text(record.exc_info[1]))
            elif record.exc_text:
                parts.append(record.exc_text)
            if record.stack_info:
                parts.append(record.stack_info)
            with TALLY.lock:
                TALLY.log_records += 1
            TALLY.leak(f"log record of logger {record.name!r} ({record.levelname})",
                       scan("\n".join(parts), TALLY.canaries()))
        except Exception:
            self.handleError(record)


LOG_CHECK = LogCheck(level=logging.DEBUG)


def cover_every_logger() -> None:
    """Put the handler on each logger that does not propagate to the root."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and not logger.propagate and LOG_CHECK not in logger.handlers:
            logger.addHandler(LOG_CHECK)


# --- browser traffic and server processes ---------------------------------------------------


def har_path() -> str:
    """A fresh file for a browser context to record its HAR into (`check_har` deletes it)."""
    handle, path = tempfile.mkstemp(prefix="canary-", suffix=".har")
    os.close(handle)
    return path


def check_har(path: str | Path) -> None:
    """Check every response of a closed browser context's HAR, then delete the file."""
    path = Path(path)
    try:
        har = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        TALLY.leak(f"browser HAR {path}", [f"unreadable, so unchecked: {exc}"])
        return
    finally:
        path.unlink(missing_ok=True)
    keys = TALLY.canaries()
    for entry in har.get("log", {}).get("entries", []):
        response = entry.get("response", {})
        request = entry.get("request", {})
        where = f"browser: {request.get('method', 'GET')} {request.get('url')}"
        headers = [(h.get("name", ""), h.get("value", "")) for h in response.get("headers", [])]
        hits = header_hits(headers, keys)
        hits += [f"cookie: {hit}" for cookie in response.get("cookies", [])
                 for hit in scan(json.dumps(cookie), keys)]
        hits += [f"redirect URL: {hit}" for hit in scan(response.get("redirectURL") or "", keys)]
        content = response.get("content", {})
        text = content.get("text")
        if text:
            body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()
            hits += [f"body: {hit}" for hit in scan(body, keys)]
        TALLY.leak(where, hits)
        with TALLY.lock:
            TALLY.browser_responses += 1


def check_direct_response(where: str, headers: Iterable[tuple[str, str]], body: bytes) -> None:
    """Check a response a test read from a server outside the browser (urllib)."""
    keys = TALLY.canaries()
    hits = header_hits(headers, keys)
    encoding = dict((k.lower(), v) for k, v in headers).get("content-encoding")
    hits += [f"body: {hit}" for part in decoded_bodies(body, encoding) for hit in scan(part, keys)]
    TALLY.leak(where, hits)
    with TALLY.lock:
        TALLY.direct_responses += 1


def watch_server(args: Iterable[str], env: Mapping[str, str]) -> None:
    """Make the key a dashboard server process is started with a canary."""
    args = list(args)
    TALLY.add_key(env.get("DREADNODE_API_KEY"))
    for n, flag in enumerate(args):
        if flag == "--api-key" and n + 1 < len(args):
            TALLY.add_key(args[n + 1])
        elif flag.startswith("--api-key="):
            TALLY.add_key(flag.partition("=")[2])


_CHECKED_SERVERS: set[tuple[str, ...]] = set()


def check_server_output(where: str, *files: Path) -> None:
    """Check a stopped dashboard server's output files (once per server)."""
    name = tuple(str(f) for f in files)
    if name in _CHECKED_SERVERS:
        return
    _CHECKED_SERVERS.add(name)
    keys = TALLY.canaries()
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as exc:
            TALLY.leak(f"server output {file}", [f"unreadable, so unchecked: {exc}"])
            continue
        TALLY.leak(f"{where} output {file.name}", scan(data, keys))
    with TALLY.lock:
        TALLY.server_logs += 1


# --- the plugin -----------------------------------------------------------------------------

_originals: dict[str, Any] = {}
_root_level: list[int] = []


def pytest_configure(config: pytest.Config) -> None:
    for key in source_keys():
        TALLY.add_key(key)
    _originals["open"] = _wrap_flask_client()
    _originals["settings"] = _wrap_settings()
    _root_level.append(logging.root.level)
    logging.root.setLevel(logging.DEBUG)
    logging.root.addHandler(LOG_CHECK)
    cover_every_logger()


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.root.removeHandler(LOG_CHECK)
    if _root_level:
        logging.root.setLevel(_root_level.pop())
    if "open" in _originals:
        from flask.testing import FlaskClient

        FlaskClient.open = _originals.pop("open")  # type: ignore[method-assign]
    if "settings" in _originals:
        from dashboard import config as dashboard_config

        dashboard_config.Settings.__init__ = _originals.pop("settings")  # type: ignore[method-assign]


def _fail_on_leaks(phase: str) -> None:
    leaks = TALLY.take_pending()
    if leaks:
        pytest.fail(f"the API key leaked ({phase}):\n  " + "\n  ".join(leaks), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    cover_every_logger()
    result = yield
    _fail_on_leaks("during setup")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        result = yield
    except BaseException as exc:
        read_open_streams()
        leaks = TALLY.take_pending()
        if leaks:
            exc.add_note("the API key also leaked:\n  " + "\n  ".join(leaks))
        raise
    read_open_streams()
    _fail_on_leaks("during the test")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield
    read_open_streams()
    _fail_on_leaks("during teardown")
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """What a test printed (its captured stdout and stderr) is checked too."""
    report = yield
    keys = TALLY.canaries()
    phase = [(title, text) for title, text in report.sections
             if title in (f"Captured stdout {call.when}", f"Captured stderr {call.when}")]
    for title, text in phase:
        message = TALLY.leak(title.lower(), scan(text, keys), pending=False)
        if message:
            report.sections.append(("the API key leaked", message))
            if report.passed:
                report.outcome = "failed"
                report.longrepr = f"the API key leaked: {message}"
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    read_open_streams()
    late = TALLY.take_pending()
    if late:
        session.config.stash[LATE] = late
        if session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


LATE = pytest.StashKey[list[str]]()


def summary_line() -> str:
    """The one-line result, exact figures."""
    t = TALLY
    detail = f"{t.client_responses} test-client, {t.browser_responses} browser, {t.direct_responses} direct"
    if t.unread_bodies:
        detail += f"; {t.unread_bodies} bodies closed unread by their test, checked as far as read"
    return (f"canary key: {len(t.leaks)} leaks in {t.responses} responses ({detail}), "
            f"{t.log_records} log records, {t.server_logs} server logs checked")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for late in config.stash.get(LATE, []):
        terminalreporter.write_line(f"canary key leaked outside any test: {late}", red=True)
    terminalreporter.write_line(summary_line(), red=bool(TALLY.leaks), green=not TALLY.leaks)
    if config.option.verbose > 0:
        terminalreporter.write_line(f"canary keys: {', '.join(TALLY.canaries())}")

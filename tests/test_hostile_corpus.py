"""Every case of the hostile corpus (tests/data/hostile/) served by the fake platform over real
sockets: each page and fragment answers, nothing in it can run, and unusable data is noted."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from dashboard import create_app
from dashboard.config import Settings
from dashboard.sources import parse_json
from tests.fake_platform import API_PREFIX, DEFAULT_KEY, FakePlatform

CORPUS = Path(__file__).parent / "data" / "hostile"
JOB_ID = "5e5e5e5e-0000-4000-8000-0000000000aa"
JOBS = "/acme/research/training/jobs"
PAGE = f"{JOBS}/{JOB_ID}"
UPSTREAM_JOBS = f"{API_PREFIX}/org/acme/ws/research/training/jobs"
FRAGMENTS = ("/summary", "/artifacts", "/logs?after=0", "/logs?after=0&final=1", "/charts",
             "/logs/earlier?before=5", "/logs?after=0&level=warning&q=a", "/logs/panel?q=a",
             "/logs/earlier?before=5&around=2&level=info", "/charts?smooth=0.9&logy=1", "/lastgood")
MEGABYTES = 3 * 2**20
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "data",
                            "background", "srcset"})
FOREIGN_TAGS = frozenset({"img", "svg", "iframe", "object", "embed", "base", "frame", "math",
                          "video", "audio", "image"})
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text")


@dataclass(frozen=True)
class Case:
    """One hostile job: the three bodies the platform sends, and what the page must show."""

    name: str
    job: bytes
    artifacts: bytes
    logs: bytes
    notes: tuple[str, ...] = ()
    text: tuple[str, ...] = ()


def body(case: dict, part: str) -> bytes:
    """A reply body: the raw text when the case has one (NaN literals), else its JSON."""
    raw = case.get("raw", {})
    return raw[part].encode() if part in raw else json.dumps(case[part]).encode()


def load(path: Path) -> Case:
    """A corpus file as a Case."""
    case = json.loads(path.read_text(encoding="utf-8"))
    return Case(path.stem, body(case, "job"), body(case, "artifacts"), body(case, "logs"),
                tuple(case["notes"]), tuple(case["text"]))


def huge_strings() -> Case:
    """Multi-megabyte strings (built here, not stored): a name, an error, an artifact value,
    a metric key, and a log message with data."""
    big = ("<b>x</b>" * (MEGABYTES // 8))[:MEGABYTES]
    job = {"id": JOB_ID, "status": "failed", "name": big, "error": big, "model": big[:2**20],
           "metrics": {"steps": [1, 2], "train/" + big[:2**20]: [1.0, 2.0]}}
    logs = {"items": [{"timestamp": "2026-11-20T10:00:00Z", "level": "error", "message": big,
                       "data": {"blob": big}}]}
    return Case("huge-strings", json.dumps(job).encode(),
                json.dumps({"artifacts": {"blob": big, big[:1000]: "key"}}).encode(),
                json.dumps(logs).encode(),
                notes=("`name` is 3,145,728 characters long; only the first 20,000 are shown",
                       "(3,125,728 more characters)"))


CASES = [load(path) for path in sorted(CORPUS.glob("*.json"))]


class Audit(HTMLParser):
    """Reads HTML as a browser would and collects what could run, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            link = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name in URL_ATTRIBUTES and link.startswith(DANGEROUS_SCHEMES):
                self.problems.append(f"<{tag} {name}={value[:60]!r}>")
        if tag == "script" and not (dict(attrs).get("src") or "").startswith("/static/"):
            self.problems.append(f"<script {attrs!r}> not from /static/")
        if tag in FOREIGN_TAGS:
            self.problems.append(f"<{tag}> element")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


def audit(html: str) -> Audit:
    """Parse a page; fail on anything that could run."""
    parsed = Audit()
    parsed.feed(html)
    parsed.close()
    assert not parsed.problems, parsed.problems[:5]
    assert not re.search(r"<script[^>]*>\s*alert", html, re.IGNORECASE)
    return parsed


@pytest.fixture(params=[*CASES, huge_strings()], ids=lambda case: case.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def client(case: Case, fake_platform: FakePlatform) -> Iterator[FlaskClient]:
    """The dashboard on the fake platform, which answers with the case's bodies for its job."""
    base = f"{UPSTREAM_JOBS}/{JOB_ID}"
    # Faults match by path substring, first added first: the job's own path comes after its
    # sub-paths, and the list (a prefix of every job path) comes last.
    fake_platform.fail(f"{base}/artifacts", 200, case.artifacts)
    fake_platform.fail(f"{base}/logs", 200, case.logs)
    fake_platform.fail(base, 200, case.job)
    listing = b'{"items": [' + case.job + b'], "total": 1, "page": 1, "page_size": 100}'
    fake_platform.fail(UPSTREAM_JOBS, 200, listing)
    settings = Settings("platform", server=fake_platform.url, api_key=DEFAULT_KEY,
                        organization="acme", workspace="research")
    yield create_app(settings).test_client()


def get(client: FlaskClient, path: str) -> str:
    """The whole body of a page or fragment (a streamed page is read to its end)."""
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 286), (path, response.status_code, html[:500])
    assert response.mimetype == "text/html", path
    return html


def test_the_corpus_bodies_are_what_the_platform_parser_reads() -> None:
    assert len(CASES) >= 15
    for case in CASES:
        for part in (case.job, case.artifacts, case.logs):
            parse_json(part)  # NaN literals included: the source's own parser reads every body


def test_the_job_page_answers_runs_nothing_and_notes_unusable_data(
    client: FlaskClient, case: Case
) -> None:
    html = get(client, PAGE)
    assert html.rstrip().endswith("</html>"), "the streamed page stopped early"
    assert 'data-testid="logs-panel"' in html and 'data-testid="artifacts-card"' in html
    text = audit(html).text.lower()
    for note in case.notes:
        assert note.lower() in text, f"{case.name}: no note {note!r} on the page"
    for shown in case.text:
        assert " ".join(shown.split()).lower() in text, f"{case.name}: {shown!r} not shown as text"


def test_every_fragment_answers_and_runs_nothing(client: FlaskClient, case: Case) -> None:
    for fragment in FRAGMENTS:
        audit(get(client, PAGE + fragment))
    charts = get(client, PAGE + "/charts")
    for chart_id in re.findall(r'data-chart-id="([^"]*)" data-empty="false"', charts):
        zoom = client.get(PAGE + "/charts/zoom", query_string={"chart": unescape(chart_id)})
        assert zoom.status_code == 200, (chart_id, zoom.get_data(as_text=True)[:300])
        assert zoom.mimetype == "application/json"


def test_the_job_list_answers_and_runs_nothing(client: FlaskClient, case: Case) -> None:
    audit(get(client, JOBS))
    audit(get(client, JOBS + "?q=a"))


def test_the_logs_download_is_every_entry_as_json_never_html(client: FlaskClient, case: Case) -> None:
    response = client.get(PAGE + "/logs.jsonl")
    assert response.status_code == 200
    assert response.mimetype == "application/x-ndjson"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    for line in response.get_data(as_text=True).splitlines():
        json.loads(line)


def test_the_artifacts_and_logs_fragments_carry_their_own_notes(client: FlaskClient, case: Case) -> None:
    artifacts = audit(get(client, PAGE + "/artifacts")).text.lower()
    for note in case.notes:
        if note.startswith("the artifacts"):
            assert note in artifacts, f"{case.name}: the artifacts fragment lacks {note!r}"

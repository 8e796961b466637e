"""Reading big job payloads without holding every number as a Python float at once.

A 1M-step, 8-series job is about 30 MB of JSON; parsed whole, it is some 9M float objects
(about 300 MB) before its series can become arrays. Here each long list of plain numbers is cut
out of the text first, the rest is parsed, and each list is read on its own and turned into an
array straight away: the server's peak is then about one list, not all of them.
"""

from __future__ import annotations

import re
import secrets
import threading
from typing import Any

import orjson

from dashboard.columns import column

BIG_BODY = 1 << 20  # smaller bodies are parsed whole: nothing to gain
# A long JSON list of numbers and nulls (no text, no map): a string cannot hide in these characters.
NUMBER_LIST = re.compile(rb"\[[-0-9.eE+,\snul]{65536,}\]")
HOLDERS = frozenset({"items", "v"})  # keys under which job payloads sit (a list page, the Redis tier)
# One big body parsed at a time per process: parses side by side would add their peaks up.
ONE_AT_A_TIME = threading.Lock()


def parse_big(body: bytes) -> Any | None:
    """The parsed body, its `metrics` lists of numbers already Columns; None to parse it whole
    (no long list, or one that sat inside a string: then the cut text is not JSON)."""
    spans: list[memoryview] = []
    whole = memoryview(body)  # the lists are read where they are, not copied out
    tag = f"\x00list {secrets.token_hex(8)} "  # unguessable: a trainer cannot write it

    def hold(match: re.Match[bytes]) -> bytes:
        spans.append(whole[match.start():match.end()])
        return orjson.dumps(f"{tag}{len(spans) - 1}")

    stripped = NUMBER_LIST.sub(hold, body)
    if not spans:
        return None
    try:
        doc = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    del stripped
    restored: list[int] = []

    def take(value: str, as_column: bool) -> Any:
        index = int(value[len(tag):])
        restored.append(index)
        numbers, spans[index] = orjson.loads(spans[index]), whole[:0]  # each list goes as it is read
        return column(numbers) if as_column else numbers

    def restore(value: Any, job: bool = False) -> Any:
        """`job`: a job payload, or what holds them (a list page's `items`, the Redis tier's
        `v`): only a job's own `metrics` are series, not a `metrics` key anywhere else."""
        if isinstance(value, str) and value.startswith(tag):
            return take(value, False)
        if isinstance(value, dict):
            return {k: series(v) if job and k == "metrics" and isinstance(v, dict)
                    else restore(v, job and k in HOLDERS) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v, job) for v in value]
        return value

    def series(metrics: dict[str, Any]) -> dict[str, Any]:
        """A metrics map: its lists of numbers as Columns; its other values are not walked."""
        return {k: take(v, True) if isinstance(v, str) and v.startswith(tag) else v
                for k, v in metrics.items()}

    try:
        result = restore(doc, True)
    except orjson.JSONDecodeError:  # a number past a double's range (1e999): the whole parse reads it
        return None
    return result if sorted(restored) == list(range(len(spans))) else None

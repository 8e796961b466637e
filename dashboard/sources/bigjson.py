"""Reading big job payloads without holding every number as a Python float at once.

A 1M-step, 8-series job is about 30 MB of JSON; parsed whole, it is some 9M float objects
(about 300 MB) before its series can become arrays. Here each long list of plain numbers is cut
out of the text first, the rest is parsed, and each list is read on its own and turned into an
array straight away: the server's peak is then about one list, not all of them.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson

from dashboard.columns import column

BIG_BODY = 1 << 20  # smaller bodies are parsed whole: nothing to gain
# A long JSON list of plain numbers (no null, no text): nothing else can match these characters.
NUMBER_LIST = re.compile(rb"\[[-0-9.eE+,\s]{65536,}\]")


def parse_big(body: bytes) -> Any | None:
    """The parsed body, its `metrics` lists of numbers already Columns; None to parse it whole
    (no long list, or one that sat inside a string: then the cut text is not JSON)."""
    spans: list[bytes] = []
    tag = f"\x00list {secrets.token_hex(8)} "  # unguessable: a trainer cannot write it

    def hold(match: re.Match[bytes]) -> bytes:
        spans.append(match.group())
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

    def restore(value: Any, as_column: bool = False) -> Any:
        if isinstance(value, str) and value.startswith(tag):
            index = int(value[len(tag):])
            restored.append(index)
            numbers, spans[index] = orjson.loads(spans[index]), b""  # each list goes as it is read
            return column(numbers) if as_column else numbers
        if isinstance(value, dict):
            return {k: restore(v) for k, v in value.items()}
        if isinstance(value, list):
            return [restore(v) for v in value]
        return value

    metrics = doc.pop("metrics", None) if isinstance(doc, dict) else None
    result = restore(doc)
    if isinstance(metrics, dict):  # its series become arrays; its other lists are not walked
        result["metrics"] = {k: restore(v, True) if isinstance(v, str) else v for k, v in metrics.items()}
    elif metrics is not None:
        result["metrics"] = restore(metrics)
    return result if sorted(restored) == list(range(len(spans))) else None

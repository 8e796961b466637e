"""The benchmark's small version runs end to end, so the script cannot rot (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.browser
def test_the_small_benchmark_measures_every_row(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    result = subprocess.run(
        [sys.executable, "scripts/benchmark.py", "--small", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = out.read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 11, table  # the header and ten measures
    for measure in ("server time to build", "bytes to draw", "navigation", "time to first byte",
                    "upstream logs calls", "nothing new", "entries in the DOM", "opens",
                    "first visit", "repeat visit"):
        assert any(measure in row for row in rows), measure
    assert "timed out" not in table

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
    assert len(rows) == 13, table  # the header and twelve measures
    for measure in ("server time to build", "the way before arrays", "first build from fresh arrays",
                    "bytes to draw", "navigation", "time to first byte",
                    "upstream logs calls", "nothing new", "entries in the DOM", "opens",
                    "first visit", "repeat visit"):
        assert any(measure in row for row in rows), measure
    assert "timed out" not in table


def test_the_small_memory_benchmark_measures_every_phase(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\n<!-- memory -->old<!-- /memory -->\n\nkept\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "scripts/bench_memory.py", "--small", "--wait", "5", "--spread", "3",
         "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = out.read_text(encoding="utf-8")
    assert "old" not in table and table.rstrip().endswith("kept")  # its own section, replaced
    assert "per job held" in table and "given back" in table
    assert "10 viewers" in table and ", 0 errors" in table

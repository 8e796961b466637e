"""A job's metric series as CSV: one row per step, one column per series, at full resolution.

Rows are the union of every series' steps (`steps`, and `eval/steps` for `eval/*` series), in
order; a series with no value at a step leaves its cell empty, as does a null. NaN and ±Infinity
are written as `NaN`, `Infinity` and `-Infinity`. Text cells (the metric keys, ISO times) that
a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage return) get a
leading `'`. A series that cannot be put on steps (its length matches no step axis) is left
out, like the chart that draws it against positions says.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dashboard.analysis.series import TIME_KEYS, axis, is_series, values
from dashboard.columns import Column, word_of

ROW_KEYS = ("steps", "eval/steps")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000  # rows written at a time


def safe_text(value: str) -> str:
    """Text for a cell: encodable, and never read as a formula by a spreadsheet."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def number_text(value: float) -> str:
    """A number as short as it round-trips: 3 as '3', 0.1 as '0.1', 1e-07 as '1e-07'."""
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


@dataclass
class CsvColumn:
    """One series on the rows: numbers (NaN where empty) and the cells that are text."""

    key: str
    numbers: np.ndarray
    texts: dict[int, str] = field(default_factory=dict)

    def cell(self, row: int) -> str:
        text = self.texts.get(row)
        if text is not None:
            return text
        value = self.numbers[row]
        return "" if math.isnan(value) else number_text(float(value))


@dataclass
class Table:
    """The CSV of a job's metrics."""

    axis_name: str
    rows: np.ndarray
    columns: list[CsvColumn]
    skipped: list[str]

    def lines(self) -> Iterator[str]:
        """The CSV text, a few thousand rows at a time."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([self.axis_name, *(safe_text(c.key) for c in self.columns)])
        for start in range(0, len(self.rows), CHUNK):
            for row in range(start, min(start + CHUNK, len(self.rows))):
                writer.writerow([number_text(float(self.rows[row])),
                                 *(c.cell(row) for c in self.columns)])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()


def metrics_csv(metrics: dict[str, Any]) -> Table:
    """Every per-step series of a job's metrics as one table on the union of their steps."""
    keys = [k for k, v in metrics.items() if isinstance(k, str) and k not in ROW_KEYS and (
        is_series(v) or (k in TIME_KEYS and isinstance(v, list) and v))]
    known: dict[str, Any] = {}
    found = {key: (*axis(metrics, key, len(metrics[key]), known), metrics[key]) for key in keys}
    labels = {label for _, label, _ in found.values()}
    label = "Step" if "Step" in labels or not labels else sorted(labels)[0]
    kept = [k for k in keys if found[k][1] == label]
    skipped = [k for k in keys if found[k][1] != label]
    xs = [found[k][0] for k in kept]
    rows = np.unique(np.concatenate(xs)) if xs else np.zeros(0)
    columns = []
    for key in kept:
        x, _, raw = found[key]
        at = np.searchsorted(rows, x)
        ys, bad, _ = values(raw)
        numbers = np.full(len(rows), np.nan)
        numbers[at] = ys
        words = [raw.word(i) for i in range(len(bad))] if isinstance(raw, Column) else [
            word_of(raw[p]) for p in bad.tolist()]
        texts = dict(zip(at[bad].tolist(), words, strict=True))
        if key in TIME_KEYS and isinstance(raw, list):  # ISO times are text; keep them as written
            texts |= {int(at[p]): safe_text(item) for p, item in enumerate(raw) if isinstance(item, str)}
        columns.append(CsvColumn(key, numbers, texts))
    return Table(label.lower(), rows, columns, skipped)


def side_by_side(tables: list[tuple[str, Table]]) -> Table:
    """Several jobs' tables (`?compare=`) on the union of their rows, one column set per job, each
    column named `<key> [<job>]`; a job whose rows are on another axis than the first's is left out."""
    axis_name = tables[0][1].axis_name
    same = [(name, table) for name, table in tables if table.axis_name == axis_name]
    rows = np.unique(np.concatenate([table.rows for _, table in same]))
    columns = []
    for name, table in same:
        at = np.searchsorted(rows, table.rows)
        for column in table.columns:
            numbers = np.full(len(rows), np.nan)
            numbers[at] = column.numbers
            texts = {int(at[row]): text for row, text in column.texts.items()}
            columns.append(CsvColumn(f"{column.key} [{name}]", numbers, texts))
    skipped = [f"[{name}] (its rows are {table.axis_name}s)" for name, table in tables
               if table.axis_name != axis_name]
    return Table(axis_name, rows, columns, skipped)

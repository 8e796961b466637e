"""The layout docs/ARCHITECTURE.md describes, held against the code: who may import whom, and
modules and functions small enough to hold in one's head."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dashboard"
# Layers from the bottom up; a module may import its own layer and those below it.
LAYERS = {"models": 0, "columns": 0, "config": 0, "validation": 0, "analysis": 1, "sources": 1,
          "viewmodels": 2, "web": 3, "__init__": 4, "cli": 4, "gunicorn_conf": 4, "__main__": 5}
# Side by side on one floor, and never to be mixed.
APART = {("analysis", "sources"), ("sources", "analysis")}
DEMO_DATA = {"demo_jobs.py", "demo_failures.py"}  # data builders: long by nature
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def modules() -> list[Path]:
    """Every module of the app."""
    return sorted(PACKAGE.rglob("*.py"))


def part(module: str) -> str:
    """The top-level part of the app a dotted module name belongs to (`__init__` for the
    package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(dotted: str) -> bool:
    """Whether a dotted name is a module or package of the app."""
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(path: Path) -> set[str]:
    """The app's modules a file imports, at its top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "dashboard":
            names = {f"{node.module}.{a.name}" for a in node.names}
            found |= {n for n in names if is_module(n)} or {str(node.module)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "dashboard"}
    return found


def name_of(path: Path) -> str:
    """`dashboard.viewmodels.logs` for dashboard/viewmodels/logs.py, `dashboard.web` for its
    __init__.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    here = part(name_of(path))
    for target in imported(path):
        there = part(target)
        assert LAYERS[there] <= LAYERS[here] and (here, there) not in APART, f"{here} imports {target}"


def test_there_is_no_import_circle() -> None:
    graph = {name_of(p): {t for t in imported(p) if t != name_of(p)} for p in modules()}
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != "open", " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("path", [p for p in modules() if p.name not in DEMO_DATA],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno - node.lineno + 1 <= MAX_FUNCTION_LINES, f"{node.name} is too long"

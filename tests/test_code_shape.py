"""The core is code a student reads: no function in it longer than 60 lines (ruff checks the
cyclomatic complexity, at most 12, for the whole package)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "tinygrad_edu"
CORE = [
    PACKAGE / "autograd.py",
    PACKAGE / "tensor.py",
    PACKAGE / "graph.py",
    PACKAGE / "optim" / "optimizer.py",
    *sorted((PACKAGE / "ops").glob("*.py")),
]
MAX_LINES = 60


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_of_the_core_is_longer_than_60_lines(path: Path) -> None:
    tree = ast.parse(path.read_text())
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_LINES
    ]
    assert not long, f"{path.name}: {', '.join(long)}"

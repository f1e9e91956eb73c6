"""The chain-rule example reproduces the published numbers, and the docs quote what the code prints.

The expected values below are the literature's (the back-propagation chapter
of the course notes and the worked network it follows, rounded to 9 decimals
there), never values computed by the library.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_edu

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "chain_rule.py"
AUTODIFF_DOC = ROOT / "docs" / "autodiff.md"
README = ROOT / "README.md"

# The course notes: df/dw of 1 / (exp(-(w*x + b)) + 1) at x = 1, w = 0, b = 0, and the two-layer
# sigmoid network's dE/dw5, dE/dw1 and the weights after one step with learning rate 0.5.
PUBLISHED = {
    "df/dw": 0.25,
    "dE/dw5": 0.082167041,
    "w5 after one step": 0.35891648,
    "dE/dw1": 0.000438568,
    "w1 after one step": 0.149780716,
}
# The literature rounds to 9 decimals; the example prints 9 decimals.
TOLERANCE = 1e-9

DECIMAL = re.compile(r"-?\d+\.\d+")  # what the doc quotes; integers in prose (x = 1, w1..w8) are not quotes
ANY_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")  # what the example prints (it prints 1.0 as 1)


@pytest.fixture(scope="module")
def example_output() -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, f"chain_rule.py failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _computed_column(output: str, name: str) -> float:
    """The 'computed' number of one row of the example's final table (row name, computed, literature)."""
    table = output[output.index("== The published numbers") :]
    match = re.search(rf"^\s*{re.escape(name)}\s+(-?\d+(?:\.\d+)?)\s+", table, flags=re.MULTILINE)
    assert match, f"no row {name!r} in the example's output"
    return float(match.group(1))


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_example_computes_the_published_numbers(example_output: str, name: str) -> None:
    assert abs(_computed_column(example_output, name) - PUBLISHED[name]) <= TOLERANCE


def test_example_backward_matches_the_literature(example_output: str) -> None:
    """The .grad values printed by backward() and by the Tensor engine, not only the summary table."""
    out = example_output
    assert "backward w.grad = 0.25" in out
    assert "backward b.grad = 0.25" in out
    assert "backward w5.grad = 0.08216704" in out
    assert "backward w1.grad = 0.00043856" in out
    assert "-> 0.35891648" in out  # w5 after one step
    assert "-> 0.14978071" in out  # w1 after one step
    assert "df/dw = 0.25" in out  # Tensor engine, composite function
    assert "W2.grad[0, 0] = 0.08216704" in out
    assert "W1.grad[0, 0] = 0.00043856" in out


def test_example_prints_the_forward_pass_of_the_network(example_output: str) -> None:
    # out_h1, out_o1, out_o2 and E_total as the literature prints them
    for value in ["0.593269992", "0.75136507", "0.772928465", "0.298371109"]:
        assert value in example_output


def test_example_reports_every_agreement(example_output: str) -> None:
    assert "DIFFERS" not in example_output
    assert re.search(r"\bNO\b", example_output) is None
    assert example_output.count("agrees") == len(PUBLISHED)
    assert "Value == Tensor for all 10 gradients of E" in example_output


def test_autodiff_doc_quotes_only_numbers_the_example_prints(example_output: str) -> None:
    """Every decimal in the doc's worked examples is a number the example prints."""
    doc = AUTODIFF_DOC.read_text(encoding="utf-8")
    start = doc.index("<!-- numbers checked against examples/chain_rule.py -->")
    end = doc.index("<!-- end of checked numbers -->")
    quoted = DECIMAL.findall(doc[start:end])
    printed = {float(n) for n in ANY_NUMBER.findall(example_output)}
    assert len(quoted) > 50, "the checked part of docs/autodiff.md lost its numbers"
    for key in ["0.25", "0.082167041", "0.35891648", "0.000438568", "0.149780716"]:
        assert key in quoted
    missing = sorted({n for n in quoted if float(n) not in printed})
    assert not missing, f"docs/autodiff.md quotes numbers the example does not print: {missing}"


def _run_doctests(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registered = set(tinygrad_edu.OPS)
    result = doctest.testfile(
        str(path), module_relative=False, optionflags=doctest.ELLIPSIS, report=False, verbose=False
    )
    report = capsys.readouterr().out
    assert result.attempted > 0, f"{path.name} has no >>> examples"
    assert result.failed == 0, f"{path.name}: {result.failed} failing snippet(s)\n{report}"
    # Functions defined in the docs are the reader's, not the library's: they must not register as ops.
    assert set(tinygrad_edu.OPS) == registered


def test_autodiff_doc_snippets_print_what_the_doc_says(capsys: pytest.CaptureFixture[str]) -> None:
    _run_doctests(AUTODIFF_DOC, capsys)


def test_adding_an_op_doc_snippets_print_what_the_doc_says(capsys: pytest.CaptureFixture[str]) -> None:
    _run_doctests(ROOT / "docs" / "adding_an_op.md", capsys)


def test_readme_example_prints_what_the_readme_says() -> None:
    """The README's first python block, run as a script, prints the text block that follows it."""
    readme = README.read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```\s*\n.*?```text\n(.*?)```", readme, flags=re.DOTALL)
    assert match, "README.md needs a ```python example followed by a ```text block of its output"
    code, expected = match.groups()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected


def test_readme_training_example_runs_and_learns():
    """The README's training example (the second python block) trains to a useful accuracy and
    its gradient check passes."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    code = next(b for b in blocks if "train.fit" in b)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    loss, accuracy = map(float, result.stdout.splitlines()[0].split())
    assert loss < 0.3 and accuracy >= 0.9
    assert "PASSED" in result.stdout

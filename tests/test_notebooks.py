"""The notebooks in examples/notebooks/ run from top to bottom in a real Jupyter kernel (the
test's own Python), without an error, and their graph cells show a picture or the player.

Cells tagged "graph" must produce ``image/svg+xml`` or ``text/html`` output. The notebooks are
stored without outputs. Also checked in a kernel: a plot returned as a cell's last value shows
once, not twice.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
# ipykernel runs in the kernel's process only: importing it here would make this process look like
# a notebook to code that asks (train.fit's progress bar checks sys.modules for it)
if importlib.util.find_spec("ipykernel") is None:
    pytest.skip("ipykernel is not installed (pip install -e '.[dev]')", allow_module_level=True)

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "examples" / "notebooks").glob("*.ipynb"))
KERNEL = "tinygrad-edu-tests"

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz's dot is not installed"
)


@pytest.fixture
def kernel(tmp_path, monkeypatch) -> str:
    """A kernelspec that starts this test's own Python (the venv's), found first on the Jupyter path."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return KERNEL


def run(book, kernel: str, cwd: Path):
    client = nbclient.NotebookClient(
        book, timeout=600, kernel_name=kernel, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return book


def test_there_are_the_four_notebooks() -> None:
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_chain_rule.ipynb",
        "02_tensors_and_linear.ipynb",
        "03_gradient_check.ipynb",
        "04_optimizers.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name} is stored with outputs"


@needs_dot
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_its_graph_cells_show_pictures(path: Path, kernel: str, tmp_path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    run(book, kernel, tmp_path)  # raises CellExecutionError on the first error
    graph_cells = [c for c in book.cells if "graph" in c.get("metadata", {}).get("tags", [])]
    assert graph_cells, f"{path.name} has no graph cell"
    for cell in graph_cells:
        kinds = {k for out in cell.outputs for k in out.get("data", {})}
        assert kinds & {"image/svg+xml", "text/html"}, (
            f"a graph cell of {path.name} shows {kinds}:\n{cell.source}"
        )
    for cell in book.cells:
        errors = [out for out in cell.get("outputs", []) if out.output_type == "error"]
        assert not errors


def test_a_plot_as_the_last_line_shows_once(kernel: str, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    source = (
        "from tinygrad_edu import plot\n"
        "runs = {'gd': {'loss': [0.7, 0.6, 0.5]}, 'adam': {'loss': [0.7, 0.4, 0.2]}}\n"
    )
    book = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(source),
            nbformat.v4.new_code_cell("plot.plot_history(runs)"),
            nbformat.v4.new_code_cell("fig = plot.plot_history(runs)\nfig"),
            nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                "plot.plot_history(runs['gd'], metrics='loss', ax=ax);"
            ),
        ]
    )
    run(book, kernel, tmp_path)
    for cell in book.cells[1:]:
        pictures = [out for out in cell.outputs if "image/png" in out.get("data", {})]
        assert len(pictures) == 1, f"{cell.source!r} showed {len(pictures)} pictures"

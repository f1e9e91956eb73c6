"""The documents: every public name in the API reference, no broken links, runnable snippets, pictures."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import subprocess
import sys

import pytest

import tinygrad_edu as tg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")

# The public submodules whose public names the reference must list (beside tinygrad_edu.__all__).
SUBMODULES = [
    "tinygrad_edu.nn",
    "tinygrad_edu.nn.functional",
    "tinygrad_edu.nn.init",
    "tinygrad_edu.optim",
    "tinygrad_edu.optim.schedules",
    "tinygrad_edu.gradcheck",
    "tinygrad_edu.data",
    "tinygrad_edu.train",
    "tinygrad_edu.viz",
    "tinygrad_edu.plot",
    "tinygrad_edu.serialization",
    "tinygrad_edu.scalar",
    "tinygrad_edu.checkmodel",
]
# Classes whose own public methods and properties must be listed as Class.name.
CLASSES = [tg.Tensor, tg.Value, tg.Function]


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def public_names(module) -> set[str]:
    """``__all__``, and the callables and classes not starting with ``_`` that are defined in the
    package and bound under their own name (``import grad as autograd_grad`` is an import, not API)."""
    names = set(getattr(module, "__all__", ()))
    for name, obj in vars(module).items():
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__module__.startswith("tinygrad_edu") and obj.__name__ == name:
            names.add(name)
    return names


def documented_names(text: str) -> set[str]:
    """Every identifier written inside backticks (`name`, `tg.nn.Linear(...)`, `Tensor.sum(...)`)."""
    names = set()
    text = re.sub(r"```.*?```", "", text, flags=re.S).replace("``", "`")
    for code in re.findall(r"`([^`]+)`", text):
        names.update(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", code))
    return names


API = read(os.path.join(DOCS, "api.md"))


@pytest.mark.parametrize("module_name", ["tinygrad_edu", *SUBMODULES])
def test_every_public_name_is_in_the_api_reference(module_name):
    module = importlib.import_module(module_name)
    names = public_names(module)
    assert names, f"{module_name} has no public names?"
    missing = sorted(names - documented_names(API))
    assert not missing, f"docs/api.md lacks {missing} from {module_name}: run python docs/make_api.py"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_public_method_and_property_is_in_the_api_reference(cls):
    members = {n for n in vars(cls) if not n.startswith("_")}
    assert members
    missing = sorted(n for n in members if f"`{cls.__name__}.{n}" not in API)
    assert not missing, f"docs/api.md does not list {cls.__name__}.{missing}"


def test_api_reference_has_a_description_for_every_entry():
    # an entry with an empty description is a name listed but not documented
    bare = re.compile(r"^\* `[^`]+`( \((property|attribute)\))?:?\s*$")
    empty = [line for line in API.splitlines() if bare.match(line)]
    headings = re.findall(r"^### (.+)\n\n(?=\n|###|\* )", API, flags=re.M)
    assert not empty and not headings, (empty, headings)


def test_the_api_check_notices_a_missing_name():
    # the check above must be able to fail
    assert "Tensor" in documented_names(API)
    assert "no_such_name" not in documented_names(API.replace("`Tensor", "`Xyz"))
    assert "Tensor" in public_names(tg)


# --- links ----------------------------------------------------------------------------------------

DOCUMENTS = sorted(
    [os.path.join(DOCS, f) for f in os.listdir(DOCS) if f.endswith(".md")] + [os.path.join(ROOT, "README.md")]
)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code are not links
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("path", DOCUMENTS, ids=os.path.basename)
def test_relative_links_point_to_existing_files(path):
    broken = []
    for target in relative_links(read(path)):
        file = target.split("#")[0]
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(path), file))):
            broken.append(target)
    assert not broken, f"{os.path.relpath(path, ROOT)}: broken links {broken}"


def test_link_check_sees_links():
    assert relative_links("see [a](a.md) and ![p](images/x.svg), not [w](https://x.org) or [s](#top)") == [
        "a.md",
        "images/x.svg",
    ]


def test_index_lists_every_document():
    index = read(os.path.join(DOCS, "index.md"))
    for path in DOCUMENTS:
        name = os.path.basename(path)
        if name not in ("index.md", "README.md"):
            assert f"({name})" in index, f"docs/index.md does not link {name}"


# --- snippets -------------------------------------------------------------------------------------


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("name", ["quickstart.md", "schedules.md", "data.md"])
def test_python_snippets_run(name, tmp_path, monkeypatch):
    """The blocks of a page run in order in one namespace, as a reader would paste them."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    blocks = python_blocks(read(os.path.join(DOCS, name)))
    assert blocks, f"{name} has no python blocks"
    monkeypatch.chdir(tmp_path)  # anything a snippet writes lands here
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{name} block {i + 1}", "exec"), namespace)
        except Exception as e:  # name the block that failed
            raise AssertionError(f"{name}, python block {i + 1} fails: {e!r}\n{block}") from e
    import matplotlib.pyplot as plt

    plt.close("all")


# --- pictures -------------------------------------------------------------------------------------


def test_make_pictures_quick_writes_every_picture(tmp_path):
    pytest.importorskip("matplotlib")
    from shutil import which

    if which("dot") is None and not os.environ.get("CI"):
        pytest.skip("Graphviz's dot is not installed")
    out = tmp_path / "images"
    proc = subprocess.run(
        [sys.executable, os.path.join(DOCS, "make_pictures.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    sys.path.insert(0, DOCS)
    try:
        expected = importlib.import_module("make_pictures").EXPECTED
    finally:
        sys.path.remove(DOCS)
    assert sorted(os.listdir(out)) == sorted(expected)
    for name in expected:
        head = (out / name).read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in head or b"<?xml" in head
    committed = os.path.join(DOCS, "images")
    # performance.png comes from benchmarks/plot_results.py, not from make_pictures.py
    from_script = sorted(n for n in os.listdir(committed) if n != "performance.png")
    assert from_script == sorted(expected), "run python docs/make_pictures.py"
    assert sum(os.path.getsize(os.path.join(committed, n)) for n in expected) < 2 * 1024 * 1024


QUOTE = re.compile(r"<!-- quoted: (\S+) (\w+) -->\n```python\n(.*?)```", re.S)


def _function_body(path: str, name: str) -> str:
    """The source lines of a module-level function's body, after its docstring."""
    with open(path) as f:
        source = f.read()
    tree = ast.parse(source)
    fn = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == name)
    body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body  # skip the docstring
    lines = source.splitlines(keepends=True)
    return "".join(lines[body[0].lineno - 1 : fn.end_lineno])


def test_code_quoted_in_the_docs_matches_the_source() -> None:
    quotes = []
    for doc in sorted(os.listdir(DOCS)):
        if doc.endswith(".md"):
            with open(os.path.join(DOCS, doc)) as f:
                quotes += [(doc, m) for m in QUOTE.finditer(f.read())]
    assert any(doc == "design.md" for doc, _ in quotes), "design.md no longer quotes the walk"
    for doc, match in quotes:
        path, name, quoted = match.groups()
        assert quoted == _function_body(os.path.join(ROOT, path), name), f"{doc} quotes an old {path} {name}"


def test_the_readme_asks_for_the_python_that_the_package_requires():
    """The README's "python3 (3.X or newer ...)" is pyproject's requires-python (it once said 3.9
    while the package required 3.10)."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        required = re.search(r'requires-python = ">=(3\.\d+)"', f.read()).group(1)
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert re.findall(r"`python3` \((3\.\d+) or newer", readme) == [required]

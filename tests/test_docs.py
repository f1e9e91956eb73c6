"""The documents: every public name in the API reference, no broken links, runnable snippets, pictures."""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import os
import re
import subprocess
import sys

import numpy as np
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


FRAGMENT = "<!-- fragment"  # a line "<!-- fragment: why -->" just above a block: shown, not run


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a page, without those marked as fragments (code that is not this
    library's, such as the course's own functions)."""
    blocks = re.finditer(r"(?:^(<!-- fragment[^\n]*-->)\n)?```python\n(.*?)```", text, flags=re.S | re.M)
    return [m.group(2) for m in blocks if not m.group(1)]


def test_python_blocks_leave_out_marked_fragments():
    page = "```python\na = 1\n```\n<!-- fragment: the course's code -->\n```python\nb = f(a)\n```\n"
    assert python_blocks(page) == ["a = 1\n"]
    optimizers = read(os.path.join(DOCS, "optimizers.md"))  # quotes the course's update_parameters_with_adam
    assert len(python_blocks(optimizers)) == optimizers.count("```python") - optimizers.count(FRAGMENT) == 5


def run_page(name: str, tmp_path, monkeypatch) -> dict:
    """Run a page's blocks in order in one namespace, as a reader would paste them."""
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
    return namespace


@pytest.mark.parametrize("name", ["quickstart.md", "schedules.md", "data.md", "optimizers.md"])
def test_python_snippets_run(name, tmp_path, monkeypatch):
    """The blocks of a page run in order in one namespace, as a reader would paste them."""
    run_page(name, tmp_path, monkeypatch)


def test_plots_page_snippets_run_after_its_set_up_and_write_their_pictures(tmp_path, monkeypatch):
    # before: every block stopped at a NameError (model, train, data, plot) for want of a set-up
    run_page("plots.md", tmp_path, monkeypatch)
    for name in ("loss.png", "adam.png", "schedules.svg"):
        assert (tmp_path / name).stat().st_size > 1000, name


def test_course_page_snippets_run_and_print_the_notes_costs(tmp_path, monkeypatch, capsys):
    """course.md's training loop is the course's model(): its first three printed costs are seed 001's."""
    namespace = run_page("course.md", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    # seed 001 prints (Adam): 0.690552 at epoch 0, 0.185501 at 1000, 0.150830 at 2000
    assert re.findall(r"^Cost after epoch (\d+): (\S+)$", out, flags=re.M) == [
        ("0", "0.690552"), ("1000", "0.185501"), ("2000", "0.150830")]
    assert "[[0.36974721 0.00305176 0.04565099 0.49683389 0.36974721]]" in out  # the dropout block
    assert {p.dtype for p in namespace["net"].parameters()} == {np.dtype(np.float64)}


# --- the formulas docs/optimizers.md maps ----------------------------------------------------------


def _section(name: str, start: str, end: str) -> str:
    text = read(os.path.join(DOCS, name))
    return text[text.index(start) : text.index(end, text.index(start))]


def _adagrad_rows() -> dict[str, str]:
    """optimizers.md's AdaGrad table: {source: the "Here" expression}."""
    rows = re.findall(r"^\| (.+?) \| .+? \| `(optim\.Adagrad\(.+?\))` \|$",
                      _section("optimizers.md", "## AdaGrad", "## RMSProp"), flags=re.M)
    return dict(rows)


def _numpy_adagrad(p0, grads, lr, eps, s0, inside):
    """s = s0; s = s + g * g; p = p - lr * g / sqrt(s + eps) (inside) or / (sqrt(s) + eps)."""
    p, s = p0.copy(), np.full_like(p0, s0)
    for g in grads:
        s = s + g * g
        p = p - lr * g / (np.sqrt(s + eps) if inside else np.sqrt(s) + eps)
    return p


# source row -> (eps, s_0, eps inside the root): seed 004's text starts at 0 with eps inside the root
ADAGRAD_FORMS = {
    "seed 002 (DLFS `AdaGrad`)": (1e-7, 0.0, False),
    "seed 004's formula": (1e-6, 0.0, True),
    "PyTorch": (1e-10, 0.0, False),
    "Keras 3 (seed 004's code example)": (1e-7, 0.1, True),
}


@pytest.mark.parametrize("source", list(ADAGRAD_FORMS))
def test_each_adagrad_row_of_optimizers_md_computes_its_formula(source):
    rows = _adagrad_rows()
    expression = next(e for name, e in rows.items() if name.startswith(source))
    eps, s0, inside = ADAGRAD_FORMS[source]
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 10.0 ** rng.uniform(-4, 0) for _ in range(20)]
    param = tg.nn.Parameter(p0.copy())
    names = {"optim": tg.optim, "params": [param], "lr": 0.01, "alpha": 0.01, "epsilon": eps}
    opt = eval(expression, names)
    for g in grads:
        param.grad = tg.Tensor(g)
        opt.step()
    np.testing.assert_allclose(param.data, _numpy_adagrad(p0, grads, 0.01, eps, s0, inside), rtol=1e-13)


def test_seed_004s_two_adagrads_give_the_numbers_optimizers_md_states():
    """On var**2 / 2 from 1.0, lr 0.1, eps 1e-7, float32: Keras's example 0.9046537, the formula 0.9."""
    def one_step(**options):
        var = tg.Tensor(np.float32(1.0), requires_grad=True)
        opt = tg.optim.Adagrad([var], lr=0.1, eps=1e-7, eps_mode="inside", **options)
        (var**2 / 2.0).backward()
        opt.step()
        return str(var.data)

    keras, formula = one_step(initial_accumulator_value=0.1), one_step()
    f = np.float32
    assert keras == str(f(1) - f(0.1) / np.sqrt(f(0.1) + f(1) + f(1e-7))) == "0.9046537"
    assert formula == str(f(1) - f(0.1) / np.sqrt(f(1) + f(1e-7))) == "0.9"
    text = _section("optimizers.md", "## AdaGrad", "## RMSProp")
    assert "= 0.9046537` in float32" in text and "(0.9 in\nfloat32)" in text
    assert f"{1 - 0.1 / np.sqrt(1 + 1e-7):.9f}" in text


def _per_epoch_rules() -> dict[str, str]:
    """The two other epoch counts of optimizers.md, as the bullets write them: {bullet start: lambda}."""
    text = re.sub(r"```.*?```", "", _section("optimizers.md", "### The course's per-epoch decays", "## Step"),
                  flags=re.S)
    bullets = re.findall(r"^\* (.+?)(?=^\* |^\n)", text, flags=re.M | re.S)
    return {b[:30]: re.findall(r"`(lambda step: [^`]+)`", b)[-1] for b in bullets}


def _lecture_rates(alpha0, decay_rate, batches_per_epoch, epochs):
    """The lecture: epoch_num = 1, 2, ...; alpha = alpha0 / (1 + decay_rate * epoch_num) for that epoch."""
    return [alpha0 / (1 + decay_rate * epoch_num)
            for epoch_num in range(1, epochs + 1) for _ in range(batches_per_epoch)]


def _notebook_rates(alpha0, decay_rate, batches_per_epoch, epochs):
    """The notebook: train epoch i at learning_rate, then learning_rate = update_lr(alpha0, i, decay_rate)."""
    rates, learning_rate = [], alpha0
    for i in range(epochs):
        rates += [learning_rate] * batches_per_epoch
        learning_rate = alpha0 / (1 + decay_rate * i)  # update_lr
    return rates


@pytest.mark.parametrize("alpha0, decay_rate, m, mini_batch_size", [(0.2, 1.0, 300, 64), (0.1, 0.5, 7, 3)])
def test_optimizers_md_other_epoch_counts_are_the_lecture_and_the_notebook(alpha0, decay_rate, m,
                                                                          mini_batch_size):
    rules = _per_epoch_rules()
    (from_1,) = [r for start, r in rules.items() if start.startswith("The lecture's worked table")]
    (after,) = [r for start, r in rules.items() if start.startswith("The course's notebook sets")]
    batches_per_epoch, epochs = math.ceil(m / mini_batch_size), 6
    for rule, loop in ((from_1, _lecture_rates), (after, _notebook_rates)):
        schedule = eval(rule, {"alpha0": alpha0, "decay_rate": decay_rate,
                               "batches_per_epoch": batches_per_epoch, "max": max})
        param = tg.nn.Parameter(np.zeros(1))
        opt = tg.optim.SGD([param], lr=schedule)
        used = []
        for _ in range(epochs * batches_per_epoch):
            param.grad = tg.Tensor(np.ones(1))
            opt.step()
            used.append(opt.last_lr[0])
        np.testing.assert_allclose(used, loop(alpha0, decay_rate, batches_per_epoch, epochs), rtol=1e-15)


def test_optimizers_md_epoch_count_table_is_the_three_loops():
    """The printed table (alpha0 = 0.2, decay_rate = 1) against the course's formula, the lecture's
    and the notebook's loops, each rounded to 4 decimals as printed."""
    table = _section("optimizers.md", "| epoch trained (from 0)", "\n\n")
    cells = ([c.strip() for c in line.strip().strip("|").split("|")] for line in table.splitlines()[2:])
    rows = {r[0]: [float(v) for v in r[1:]] for r in cells}
    from_0 = [0.2 / (1 + 1.0 * epoch) for epoch in range(4)]
    expected = {
        "counted from 0 (`InverseTimeDecay`)": from_0,
        "the lecture's table, counted from 1": _lecture_rates(0.2, 1.0, 1, 4),
        "the notebook, set after each epoch": _notebook_rates(0.2, 1.0, 1, 4),
    }
    assert rows.keys() == expected.keys()
    for name, values in expected.items():
        assert rows[name] == [round(v, 4) for v in values], name
    assert [round(v, 3) for v in _lecture_rates(0.2, 1.0, 1, 4)] == [0.1, 0.067, 0.05, 0.04]


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

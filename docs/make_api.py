"""Write docs/api.md, the API reference, from the package's docstrings and signatures.

    python docs/make_api.py            # rewrites docs/api.md
    python docs/make_api.py --check    # exit 1 if docs/api.md is not what this script writes

A name is public when it does not start with ``_``. For a module with ``__all__`` the
reference lists ``__all__``; otherwise the functions, classes and constants the module defines
itself. Each entry is the signature and the first paragraph of the docstring.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import sys
import typing
from typing import Any, Optional

import tinygrad_edu as tg

# (module, why a reader looks there), in reading order.
MODULES = [
    ("tinygrad_edu", "the top level: Tensor, Value, Function, creation functions, gradient mode, save/load"),
    ("tinygrad_edu.autograd", "the backward engine and the op base class"),
    ("tinygrad_edu.graph", "the topological sort that every backward walk follows"),
    ("tinygrad_edu.scalar", "the scalar engine and micrograd's Neuron, Layer, MLP"),
    ("tinygrad_edu.nn", "modules, layers and losses (PyTorch's names)"),
    ("tinygrad_edu.nn.functional", "the same as functions"),
    ("tinygrad_edu.nn.init", "weight initialisers (numpy arrays)"),
    ("tinygrad_edu.optim", "optimizers and moving averages"),
    ("tinygrad_edu.optim.schedules", "learning-rate schedules (Keras's names)"),
    ("tinygrad_edu.data", "toy data sets, mini-batches, standardisation"),
    ("tinygrad_edu.train", "fit, evaluate, predict, callbacks, compare_optimizers"),
    ("tinygrad_edu.gradcheck", "numerical gradients and gradient checks"),
    ("tinygrad_edu.checkmodel", "the course's gradient check over a whole model (also in gradcheck)"),
    ("tinygrad_edu.exercises", "exercises that check themselves: start, check, solution, grade"),
    ("tinygrad_edu.exercises.feedback", "comparing a student's numbers and naming the mistake"),
    ("tinygrad_edu.viz", "pictures of the computation graph and of backprop"),
    ("tinygrad_edu.plot", "curves, decision boundaries, trajectories, schedules, moving averages"),
    ("tinygrad_edu.serialization", "checkpoints (tg.save, tg.load)"),
    ("tinygrad_edu.interop", "PyTorch, ONNX and safetensors (optional packages)"),
    ("tinygrad_edu.cli", "the tinygrad-edu command"),
    ("tinygrad_edu.cli.common", "what the commands share: data sets, networks, optimizers, argument types"),
]

# Classes whose methods and properties are listed one by one.
DETAILED = {
    "Tensor", "Value", "Function", "Module", "Optimizer", "History", "Comparison", "Frame", "ParityReport"
}

ATTRIBUTES = {  # instance attributes worth knowing, by class
    "Tensor": {
        "data": "the numpy array",
        "grad": "the gradient (a Tensor) after `backward()`, None before; kept by leaves only",
        "requires_grad": "whether ops on it are recorded",
        "name": "an optional name, shown by `viz.draw_graph`",
    },
    "Value": {
        "data": "the number (a float)",
        "grad": "d(root)/d(this value) after `root.backward()`",
        "label": "an optional name, shown by `viz.draw_graph`",
    },
    "Optimizer": {
        "elementwise": "class attribute, False: True, written in a class's own body (a subclass does not "
        "inherit it), lets a small group be updated as one flat array; the built-in optimizers set it",
    },
    "Function": {
        "inputs": "the input Tensors (the graph's edges); inside an ordinary `backward`, their ndarrays",
        "grad_output": "the gradient (an ndarray) that reached the op's output in the last backward",
        "grad_walk": "the number of that backward (each backward gets the next number; 0: none yet)",
        "started_walk": "the number of the last backward started from this op's output alone (0: none), "
        "so that a picture of that output shows only its own backward's gradients",
        "promotes": "class attribute, False by default; True for arithmetic ops: integer inputs beside "
        "a float input take its dtype (PyTorch's rule)",
        "float_inputs": "class attribute, False by default; True for a one-input op defined on real "
        "numbers (exp, log, tanh, softmax, ...): an integer or bool input becomes the default float dtype",
        "freed": "True once a backward without `retain_graph` has released what the op kept for it",
        "recorded_at": "the number of the latest in-place change when the op was recorded "
        "(see `autograd.mark_modified`)",
        "saved": "what `save_for_backward` kept",
        "needs_input_grad": "one bool per input: does that input need a gradient?",
    },
}

FALLBACK = {  # names without a docstring of their own
    "SUPPORTED": "The modules that `to_torch`, `from_torch` and `export_onnx` convert, by class name.",
    "SUPPORTED_OPTIMIZERS": "The optimizers that `optimizer_to_torch` and `optimizer_from_torch` convert.",
    "OPS": "Every built-in op: op name -> its Function subclass (filled when the class is defined).",
    "is_grad_enabled": "True unless inside `no_grad()`: whether ops record the graph.",
    "ones": "A Tensor of ones of the given shape (default dtype unless `dtype`).",
    "zeros": "A Tensor of zeros of the given shape (default dtype unless `dtype`).",
    "tg.nn.functional.check_reduction": "`reduction` if 'mean', 'sum' or 'none'; else a ValueError.",
    "tg.cli.build_parser": (
        "The argparse parser of the tinygrad-edu command: one subcommand per module of tinygrad_edu.cli."
    ),
    "Function.forward": "The output from the inputs' ndarrays; `save_for_backward` what backward needs.",
    "Function.backward": (
        "From the output's gradient (an ndarray; a Tensor under create_graph), "
        "one gradient per input (or None)."
    ),
    "Tensor.numpy": "The data as an ndarray (the Tensor's own array, not a copy).",
    "Tensor.item": "The value of a one-element Tensor as a Python float.",
    "Tensor.exp": "e**x, elementwise; gradient exp(x).",
    "Tensor.log": "Natural logarithm, elementwise; gradient 1/x.",
    "Tensor.sqrt": "Square root, elementwise; gradient 1/(2 sqrt(x)).",
    "Tensor.abs": "|x|, elementwise; gradient sign(x) (0 at 0).",
    "Tensor.tanh": "tanh(x), elementwise; gradient 1 - tanh(x)**2.",
    "Tensor.sigmoid": "1/(1 + e**-x), elementwise (stable for large |x|); gradient s(1 - s).",
    "Tensor.relu": "max(x, 0), elementwise; gradient 1 where x > 0, else 0.",
    "Tensor.leaky_relu": "x where x > 0, else negative_slope * x.",
    "Tensor.clip": "Clamp to [lo, hi] (None: no bound); gradient 1 inside, 0 where clipped.",
    "Tensor.sum": "Sum over `axis` (all axes by default); the gradient is broadcast back.",
    "Tensor.max": "Maximum over `axis`; the gradient goes to the maxima (split evenly between ties).",
    "Tensor.min": "Minimum over `axis`; the gradient goes to the minima (split evenly between ties).",
    "Tensor.logsumexp": "log(sum(exp(x))) over `axis`, stably (max subtracted); gradient softmax(x).",
    "Tensor.softmax": "exp(x) / sum(exp(x)) along `axis`, stable.",
    "Tensor.log_softmax": "x - logsumexp(x) along `axis`, stable.",
    "Tensor.reshape": "The same elements in a new shape (ints or a tuple, one -1 allowed).",
    "Tensor.flatten": "Reshape to one dimension.",
    "Tensor.transpose": "Permute the axes (reverse them when none are given).",
    "Tensor.broadcast_to": "Broadcast to `shape`; the gradient is summed back to the original shape.",
    "Tensor.shape": "The shape, a tuple of ints.",
    "Tensor.ndim": "The number of dimensions.",
    "Tensor.size": "The number of elements.",
    "Tensor.dtype": "The numpy dtype of the data.",
    "Tensor.T": "The transpose (axes reversed).",
    "Module.forward": "The computation of the module; `module(x)` calls it. Subclasses define it.",
    "Module.named_children": "(name, module) for each direct submodule, in registration order.",
    "Module.children": "The direct submodules.",
    "Module.modules": "This module and every submodule, depth first.",
    "Module.parameters": "Every Parameter (the submodules' too with `recurse`), each once.",
    "Module.named_buffers": "(dotted name, tensor) for each buffer (state not trained, e.g. running means).",
    "Module.buffers": "Every buffer tensor.",
    "Module.zero_grad": "Set every parameter's grad to 0 before the next backward.",
    "Comparison.table": "The result table as text: optimizer, final loss, accuracy, epochs, time.",
    "Comparison.best": "The name of the optimizer with the lowest final loss.",
    "ModelCheckReport.verdict": "The course's verdict for the worst relative error.",
    "ModelCheckReport.n_kinks": "How many elements were skipped: a kink lay inside the finite difference.",
    "ElementCheck.abs_error": "|analytic - numerical| for this element.",
    "ParameterCheck.verdict": "The course's verdict for this parameter's relative error.",
    "ParameterCheck.n_kinks": "How many of this parameter's elements sat on a kink.",
}


def first_paragraph(obj: Any) -> str:
    doc = (inspect.getdoc(obj) or "").replace("``", "`")
    para = doc.strip().split("\n\n")[0]
    return " ".join(line.strip() for line in para.splitlines())


class _Text:
    """An annotation written as text (``from __future__ import annotations``), shown without quotes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _unquoted(annotation: Any) -> Any:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    return _Text(annotation.replace("'", "").replace('"', "")) if isinstance(annotation, str) else annotation


def description(obj: Any, fallback: str = "") -> list[str]:
    """The first paragraph; when it ends in ':' or ',' (a formula follows), the next one too, as code."""
    doc = (inspect.getdoc(obj) or "").strip().replace("``", "`")  # reST code to Markdown code
    paragraphs = doc.split("\n\n")
    first = " ".join(line.strip() for line in paragraphs[0].splitlines()) or fallback
    if first.endswith("::"):
        first = first[:-1]
    lines = [first]
    if not first.endswith((".", ")")) and len(paragraphs) > 1:
        lines += ["", "```text", *paragraphs[1].splitlines(), "```"]
    return lines


def signature(obj: Any) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    params = [
        p.replace(annotation=_unquoted(p.annotation))
        for p in sig.parameters.values()
        if p.name != "pytorch_words"  # (it only refuses dim= and the like: see the page's top)
    ]
    return str(sig.replace(parameters=params, return_annotation=_unquoted(sig.return_annotation)))


def assigned_names(module: Any) -> list[str]:
    """Names given a value at the top level of the module's source (constants, aliases)."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return []
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def public_names(module: Any) -> list[str]:
    """``__all__``, or what the module defines itself (functions, classes, UPPERCASE constants)."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module.__name__:
            names.append(name)
        elif name.isupper() and name in assigned_names(module):
            names.append(name)
    if module.__name__ == "tinygrad_edu.gradcheck":
        names += ["check_model", "ModelCheckReport"]  # re-exported from checkmodel, part of this API
    return sorted(set(names), key=lambda n: (not n[0].isupper(), n.lower()))


def class_members(cls: type) -> tuple[list[str], list[str], list[str]]:
    """Own public methods, properties/attributes, and operators (dunder methods) of a class."""
    methods, properties, operators = [], [], []
    for name, attr in vars(cls).items():
        if name.startswith("__") and name.endswith("__"):
            if callable(attr) and name not in ("__init__", "__init_subclass__", "__repr__"):
                operators.append(name)
            continue
        if name.startswith("_"):
            continue
        if isinstance(attr, property) and name not in ATTRIBUTES.get(cls.__name__, {}):
            properties.append(name)
        elif (callable(attr) or isinstance(attr, (staticmethod, classmethod))) and not inspect.isclass(attr):
            methods.append(name)
    return methods, properties, sorted(operators)


def describe_class(cls: type, qual: str, lines: list[str]) -> None:
    bases = [b.__name__ for b in cls.__bases__ if b is not object]
    base = f" (a {', '.join(bases)})" if bases else ""
    lines.append(f"### `{qual}{signature(cls)}`{base}")
    lines.append("")
    lines += description(cls, FALLBACK.get(qual, ""))
    lines.append("")
    methods, properties, operators = class_members(cls)
    if cls.__name__ not in DETAILED:
        methods = [m for m in methods if first_paragraph(getattr(cls, m))]
    for name in methods:
        attr = getattr(cls, name)
        text = first_paragraph(attr) or FALLBACK.get(f"{cls.__name__}.{name}", "")
        lines.append(f"* `{cls.__name__}.{name}{signature(attr)}`: {text}".rstrip(": "))
    for name in properties:
        text = first_paragraph(vars(cls)[name]) or FALLBACK.get(f"{cls.__name__}.{name}", "")
        lines.append(f"* `{cls.__name__}.{name}` (property): {text}".rstrip(": "))
    for name, text in ATTRIBUTES.get(cls.__name__, {}).items():
        lines.append(f"* `{cls.__name__}.{name}` (attribute): {text}")
    if operators and cls.__name__ in DETAILED:
        ops = ", ".join(f"`{o}`" for o in operators)
        lines.append(f"* operators and protocols: {ops}")
    lines.append("")


def describe(module: Any, name: str, lines: list[str], seen: dict[int, str]) -> None:
    obj = getattr(module, name)
    short = module.__name__.replace("tinygrad_edu", "tg", 1)
    qual = name if module.__name__ == "tinygrad_edu" else f"{short}.{name}"
    canonical = getattr(obj, "__name__", name)
    if inspect.isclass(obj) and canonical != name and canonical in public_names(module):
        lines.append(f"* `{qual}`: another name for `{canonical}` (below).")
        lines.append("")
        return
    if (inspect.isclass(obj) or inspect.isfunction(obj)) and id(obj) in seen:
        lines.append(f"* `{qual}`: the same object as `{seen[id(obj)]}` above.")
        lines.append("")
        return
    if inspect.isclass(obj) or inspect.isfunction(obj):
        seen[id(obj)] = qual
    if inspect.ismodule(obj):
        anchor = obj.__name__.replace(".", "")
        lines.append(f"* `{qual}`: the module [{obj.__name__}](#{anchor}).")
        lines.append("")
    elif inspect.isclass(obj):
        describe_class(obj, qual, lines)
    elif callable(obj) and not isinstance(obj, dict):
        lines.append(f"### `{qual}{signature(obj)}`")
        lines.append("")
        lines += description(obj, FALLBACK.get(qual, ""))
        lines.append("")
    else:
        kind = type(obj).__name__
        text = FALLBACK.get(name) or _constant_text(obj)
        lines.append(f"* `{qual}` ({kind}): {text}")
        lines.append("")


def _constant_text(obj: Any) -> str:
    if isinstance(obj, dict):
        return "keys " + ", ".join(f"`{k}`" for k in obj)
    text = repr(obj)
    return f"`{text}`" if len(text) < 80 else ""


def ops_table(lines: list[str]) -> None:
    lines += ["## Built-in ops (`tg.OPS`)", ""]
    lines.append("Each op is a `Function` subclass in `src/tinygrad_edu/ops/`; Tensor's methods call them.")
    lines += ["", "| op | what it computes |", "|---|---|"]
    for name in sorted(tg.OPS):
        lines.append(f"| `{name}` | {first_paragraph(tg.OPS[name]).replace('|', '/')} |")
    lines.append("")


def build() -> str:
    lines = [
        "# API reference",
        "",
        "Every public name of tinygrad_edu, with its signature and the first paragraph of its",
        "docstring (`help(name)` shows the rest). `tg` is `import tinygrad_edu as tg`. This page is",
        "written by `python docs/make_api.py` from the code; run it again after changing a docstring.",
        "The methods and functions that take numpy's `axis=` and `keepdims=` refuse PyTorch's `dim=` and",
        "`keepdim=` (and `var`, `std` PyTorch's `unbiased=` and `correction=`) with a TypeError that says",
        "what to write; the `**pytorch_words` that catches them is left out of the signatures below.",
        "",
    ]
    for module_name, why in MODULES:
        anchor = module_name.replace(".", "")
        lines.append(f"* [{module_name}](#{anchor}): {why}")
    lines.append("* [built-in ops](#built-in-ops-tgops): the `Function` subclasses behind Tensor's methods")
    lines.append("")
    seen: dict[int, str] = {}
    for module_name, why in MODULES:
        module = importlib.import_module(module_name)
        lines += [f"## {module_name}", "", f"{why[0].upper()}{why[1:]}. {first_paragraph(module)}", ""]
        for name in public_names(module):
            describe(module, name, lines, seen)
    ops_table(lines)
    text = "\n".join(lines).rstrip() + "\n"
    return text.replace("\n\n\n", "\n\n")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/api.md from the docstrings.")
    parser.add_argument("--check", action="store_true", help="only check that docs/api.md is up to date")
    args = parser.parse_args(argv)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api.md")
    text = build()
    if args.check:
        with open(path, encoding="utf-8") as f:
            same = f.read() == text
        print("docs/api.md is up to date" if same else "docs/api.md is out of date: python docs/make_api.py")
        return 0 if same else 1
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

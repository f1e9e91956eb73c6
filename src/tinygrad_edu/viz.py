"""Pictures of computation graphs, and of back-propagation one op at a time.

``draw_graph(root)`` turns the graph behind a ``Tensor`` or a ``Value`` into a
``graphviz.Digraph`` in the style of micrograd's ``draw_dot``: one box per
value (name, shape and dtype, data, grad) and one oval per op, with an arrow
from every input of an op to the op and from the op to its output. Boxes are
coloured by role (input data, parameter, leaf, intermediate, output) and a
small legend says which colour is which. In Jupyter the Digraph shows itself;
elsewhere ``render`` writes it to an SVG or PNG file.

``trace_backward(root)`` records the backward pass as the engine runs it: one
``Frame`` per op, in the engine's order, each with a caption (``Step 3 of 5:
* received 0.5; sends ...``), the gradient the op sent along every input edge
and the gradients known so far. Every frame is drawn with the same layout, so
nothing moves from one step to the next. The ``Frames`` list shows itself in
a notebook as a player (Previous / Next, a slider, Play, the arrow keys),
``frames.to_html(path)`` writes the same player as one self-contained page,
and ``save_frames`` writes numbered pictures.

Nothing here draws by itself: Graphviz's ``dot`` program does, when a Digraph
is rendered (``render``, ``pipe``, Jupyter's display). The ``graphviz`` Python
package is imported only when a picture is made.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import os
import re
import sys
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import _files, autograd
from tinygrad_edu.graph import toposort
from tinygrad_edu.ops.fused import LOG_CLAMP, Linear, LinearReLU
from tinygrad_edu.scalar import Value
from tinygrad_edu.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "Frame",
    "Frames",
    "GraphvizNotFoundError",
    "draw_graph",
    "pipe",
    "render",
    "save_frames",
    "trace_backward",
]

Node = Union[Tensor, Value]

MAX_ELEMENTS = 16
"""Tensors with more elements than this show min / mean / max instead of every number."""

MAX_WIDTH = 1000
"""The widest a picture is drawn, in pixels at 96 per inch: a larger graph is scaled down to fit."""

MAX_PLAYER_BYTES = 20_000_000
"""The player (``Frames`` in a notebook, ``to_html``, ``save_frames(..., format="html")``) warns
when its page would be larger than this. It holds one picture per step, so it grows as steps x
boxes: 0.1 MB for the neuron, 22 MB for a 2-8-1 ``scalar.MLP`` on 4 samples, 135 MB when its
neurons are written as sums of products, which a notebook may hang on."""

SMALL_VALUE_GRAPH = 30
"""A Value graph with at most this many values is drawn left to right (micrograd's look), a larger one
top to bottom."""

FONT_SIZE = 11

# Colours of the pictures.
ROLE_FILL = {
    "input": "#e6e6e6",  # data or a constant (3 in x * 3, n - 1 in a var): a leaf that needs no gradient
    "parameter": "#cfe2ff",  # a model's parameter
    "leaf": "#d5f0d5",  # any other leaf that needs a gradient
    "intermediate": "#ffffff",
    "output": "#ffd8a8",  # the root: the output, usually the loss
    "op": "#efe6fa",
}
ROLE_TEXT = {
    "input": "input data or constant",
    "parameter": "parameter",
    "leaf": "leaf (needs grad)",
    "intermediate": "intermediate",
    "output": "output / loss",
    "op": "op",
}
NONFINITE_FILL = "#ff9c9c"  # a value or gradient holding NaN or Inf
NONFINITE_TEXT = "NaN or Inf"
"""The legend's words for the red of ``NONFINITE_FILL`` (in the legend only when a box is red)."""
CURRENT_OP_FILL = "#ffd966"  # the op a backprop frame is processing
NEW_GRAD_FILL = "#fff2b3"  # a grad that changed in this frame
CURRENT_EDGE = "#d62728"  # gradients that op is sending right now
DONE_EDGE = "#1f77b4"  # gradients sent by earlier ops
WAITING_EDGE = "#b0b0b0"  # no gradient on this edge yet

NO_GRAD_NEEDED = "not needed"
"""What a frame shows as the grad of a value that needs none (data, constants)."""

FROM_ANOTHER_BACKWARD = "from another backward"
"""What ``draw_graph(root)`` shows for an intermediate whose stored gradient came from a backward
that did not start at ``root`` alone, once backward has freed the graph (so it cannot be worked out
again for root)."""

CHANGED_GRAD = "? (changed in place since)"
"""What ``draw_graph(root)`` shows for an intermediate whose gradient cannot be worked out again
because a tensor the graph was computed from changed in place since (an ``optimizer.step()``)."""

CHANGED_NOTE = (
    "? (changed in place since): a tensor the graph was computed from changed in place (e.g. "
    "optimizer.step()) after the forward, so this gradient cannot be worked out again; draw before"
)
"""The legend's line when a box shows ``CHANGED_GRAD``."""

UNREPEATABLE_GRAD = "? (cannot be worked out again)"
"""What ``draw_graph(root)`` shows for an intermediate when the walk that works its gradient out
again fails for any other reason (an op's backward raised)."""

UNREPEATABLE_NOTE = "? (cannot be worked out again): a backward through this graph raises now"
"""The legend's line when a box shows ``UNREPEATABLE_GRAD``."""

_UNKNOWN_NOTES = {CHANGED_GRAD: CHANGED_NOTE, UNREPEATABLE_GRAD: UNREPEATABLE_NOTE}

GRAD_NOTE = (
    "grad: a leaf's .grad (adds up over backward calls); any other box's, the gradient the last backward "
    "from the output sent there, from the seed it started with (d output / d value for backward()'s 1)"
)
"""The legend's line on what the grads in a picture of Tensors are."""

VALUE_GRAD_NOTE = (
    "grad: each value's .grad (backward() sets the others to d output / d value; a leaf's adds up)"
)
"""The legend's line on what the grads in a picture of Values are."""

NOT_THIS_ROOT = "(not this output's)"
"""The mark after a Value's grad that no walk from the output leaves there, finished or still
going by hand (see ``_not_this_root``): another output's backward left it, or a step by hand ran
twice."""

NOT_THIS_ROOT_NOTE = (
    "(not this output's): not d output / d value, nor what a walk from this output leaves: a backward "
    "from another output, through a shared value, left it, or a step by hand ran twice (a cell run again)"
)
"""The legend's line when a box has the ``NOT_THIS_ROOT`` mark."""

INSTALL_GRAPHVIZ = (
    "Graphviz's `dot` program, which turns the graph into a picture, was not found on PATH. "
    "Install Graphviz (the Python package `graphviz` alone is not enough): "
    "Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install -c conda-forge graphviz; Windows: winget install graphviz "
    "(then open a new terminal). See https://graphviz.org/download/"
)


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is missing, so a Digraph cannot be rendered."""


# --- the graph, independent of the engine it came from ------------------------------------------


@dataclass
class _Value:
    """One value box: its key, name, role, data, and the object it stands for (None when drawn only
    because a ``Linear`` is expanded)."""

    key: str
    name: str
    role: str
    data: Any  # a float (Value) or an ndarray (Tensor)
    needs_grad: bool
    obj: Any = None
    grad: Any = None  # the gradient after the last backward (None when there is none)
    marked: bool = False  # a Value's .grad that no walk from root leaves there (NOT_THIS_ROOT)


@dataclass
class _Op:
    """One op node: its key, the name shown, its inputs' keys (a repeated input repeats), its output's
    key, and the Function (or Value) whose backward it stands for."""

    key: str
    name: str
    inputs: list[str]
    output: str
    source: Any = None
    part: str = ""  # for an expanded Linear: "matmul", "bias" or "relu"


@dataclass
class _Graph:
    """The values and ops reachable from a root, in topological order (inputs first).

    Values are keyed ``v0, v1, ...`` in that order and the op making ``vi`` is
    ``opi``, so the DOT source is the same on every run.
    """

    values: list[_Value]
    keys: dict[int, str]  # id(object) -> key
    ops: list[_Op]
    tensor: bool

    def key(self, value: Node) -> str:
        try:
            return self.keys[id(value)]
        except KeyError:
            raise KeyError(f"viz: {_short(value)} is not part of this graph") from None

    def value(self, key: str) -> _Value:
        return next(v for v in self.values if v.key == key)

    def label(self, key: str, depth: int = 0) -> str:
        """How a caption refers to a value: its name, else the expression that made it (``x1*w1``)."""
        v = self.value(key)
        if v.name:
            return v.name
        op = next((o for o in self.ops if o.output == key), None)
        if op is None:
            if not self.tensor or (np.size(v.data) == 1 and not v.needs_grad):
                return _number(v.data)  # (a number that gets a gradient is named as a leaf, not a constant)
            what = {"input": "the input", "parameter": "the parameter"}.get(v.role, "the leaf")
            return f"{what} {v.data.shape}" + (f" = {_number(v.data)}" if np.size(v.data) == 1 else "")
        if depth >= 3:
            return "…"
        args = [self.label(k, depth + 1) for k in op.inputs]
        args = [f"({a})" if " " in a and not a.startswith("the ") and not _one_call(a) else a for a in args]
        if self.tensor:
            args = self._with_options(op, args)
        elif op.name == "sum":  # Value.sum([w1, w2, 3.0]): the numbers among the terms have no box
            terms = [self.value(k).data for k in op.inputs]
            constant = v.data - math.fsum(terms)
            if abs(constant) > 1e-12 * (abs(v.data) + math.fsum(map(abs, terms))):
                args.append(_number(constant))
        form = FORMS.get(op.name)
        constant = None if self.tensor or len(args) != 1 else _constant_op(op.name)
        if form and len(args) == 2:
            text = form.format(*args)
        elif constant:  # a Value op with a constant: x*2, 1 - x, -3/x, x - (-2)
            symbol, c, left = constant
            text = FORMS[symbol].format(c, args[0]) if left else FORMS[symbol].format(args[0], _paren(c))
        else:
            text = f"{op.name.split()[0].lower()}({', '.join(args)})"
        if depth == 0 and (len(text) > 32 or "…" in text):
            return f"the output of {op.name}"
        return text

    def _with_options(self, op: _Op, args: list[str]) -> list[str]:
        """A label's arguments with what else decides the op's result: the condition of a where,
        the axis of a reduction (read off the shapes, which a backward does not free)."""
        if op.name == "Where":
            return ["cond", *args]
        if op.name in REDUCTIONS_BY_AXIS:
            before = np.shape(self.value(op.inputs[0]).data)
            axes = _reduced_axes(before, np.shape(self.value(op.output).data))
            if axes:
                return [*args, *axes]
        return args


REDUCTIONS_BY_AXIS = frozenset({"Sum", "Mean", "Max", "Min", "LogSumExp"})


def _reduced_axes(before: tuple[int, ...], after: tuple[int, ...]) -> list[str]:
    """``["axis=0"]`` (and ``"keepdims=True"``) for a reduction from shape ``before`` to ``after``,
    or [] when every axis went (the default) or the shapes do not tell which did."""
    if not after:
        return []
    if len(after) == len(before):  # keepdims: the reduced axes are the ones that became 1
        axes = [i for i, (b, a) in enumerate(zip(before, after)) if a == 1 and b != 1]
        return [_axis_words(axes), "keepdims=True"] if axes else []
    fits = [
        axes for axes in itertools.combinations(range(len(before)), len(before) - len(after))
        if tuple(n for i, n in enumerate(before) if i not in axes) == after
    ]
    return [_axis_words(list(fits[0]))] if len(fits) == 1 else []


def _axis_words(axes: list[int]) -> str:
    return f"axis={axes[0]}" if len(axes) == 1 else f"axis={tuple(axes)}"


FORMS = {
    "**": "{0}**{1}",
    "+": "{0} + {1}",
    "-": "{0} - {1}",
    "*": "{0}*{1}",
    "/": "{0}/{1}",
    "Add": "{0} + {1}",
    "Sub": "{0} - {1}",
    "Mul": "{0}*{1}",
    "Div": "{0}/{1}",
    "MatMul": "{0} @ {1}",
    "MatMul x @ W.T": "{0} @ {1}.T",
    "Add bias": "{0} + {1}",
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _constant_op(op: str) -> Optional[tuple[str, str, bool]]:
    """A Value op with a constant, as (symbol, constant, constant on the left): ``*2`` -> ("*", "2",
    False), ``1-`` -> ("-", "1", True), ``-2-`` (-2 - x) -> ("-", "-2", True), ``--2`` (x - (-2))
    -> ("-", "-2", False); None for any other op. The constant is what parses as a number."""
    if op.startswith("**") and _is_number(op[2:]):
        return "**", op[2:], False
    if op.endswith("**") and _is_number(op[:-2]):
        return "**", op[:-2], True
    if len(op) > 1 and op[0] in "+-*/" and _is_number(op[1:]):
        return op[0], op[1:], False
    if len(op) > 1 and op[-1] in "+-*/" and _is_number(op[:-1]):
        return op[-1], op[:-1], True
    return None


def _paren(c: str) -> str:
    """A negative constant in brackets, so that x - (-2) does not read x - -2."""
    return f"({c})" if c.startswith("-") else c


def _tensor_parents(t: Tensor) -> Sequence[Tensor]:
    """Every input of the op that made ``t`` (the graph's structure outlives backward)."""
    return () if t._ctx is None else t._ctx.inputs


def _parameter_names(model: Any, where: str) -> dict[int, str]:
    if model is None:
        return {}
    if not hasattr(model, "named_parameters"):
        raise TypeError(
            f"{where}: model must have named_parameters() (an nn.Module), got {type(model).__name__}"
        )
    return {id(p): name for name, p in model.named_parameters()}


def _tensor_role(t: Tensor, root: Tensor, params: dict[int, str]) -> str:
    from tinygrad_edu.nn import Parameter

    if t is root:
        return "output"
    if t._ctx is not None:
        return "intermediate"
    if not t.requires_grad:
        return "input"
    return "parameter" if id(t) in params or isinstance(t, Parameter) else "leaf"


def _build(root: Any, model: Any, where: str, expand: bool = False, grads: bool = False) -> _Graph:
    """Walk the graph from ``root`` with the shared ``toposort`` and number its nodes; with
    ``grads``, each value also gets the gradient ``draw_graph`` shows (see ``_tensor_grads``)."""
    if isinstance(root, Value):
        if model is not None:
            raise TypeError(f"{where}: model= names Tensor parameters; a Value graph uses each Value's label")
        return _build_values(root, grads)
    if not isinstance(root, Tensor):
        raise TypeError(f"{where}: expected a Tensor or a Value, got {type(root).__name__}")
    params = _parameter_names(model, where)
    order = toposort((root,), _tensor_parents)
    keys = {id(t): f"v{i}" for i, t in enumerate(order)}
    shown = _tensor_grads(root, order) if grads else {}
    graph = _Graph([], keys, [], tensor=True)
    for i, t in enumerate(order):
        key = keys[id(t)]
        ctx = t._ctx
        grad = shown.get(id(t))
        name = t.name or params.get(id(t), "")
        graph.values.append(
            _Value(key, name, _tensor_role(t, root, params), t.data, t.requires_grad, t, grad)
        )
        if ctx is None:
            continue
        inputs = [keys[id(x)] for x in ctx.inputs]
        if expand and isinstance(ctx, Linear):
            _expand_linear(graph, i, ctx, inputs, grad)
        else:
            graph.ops.append(_Op(f"op{i}", type(ctx).__name__, inputs, key, ctx))
    return graph


def _expand_linear(graph: _Graph, i: int, ctx: Linear, inputs: list[str], grad: Any) -> None:
    """A Linear as what it computes: z = x @ W.T (matmul), then z + b, then relu for a LinearReLU;
    ``grad`` is the gradient shown for its output."""
    relu = isinstance(ctx, LinearReLU)
    z = ctx.inputs[0].data @ ctx.inputs[1].data.T
    pre = z + ctx.inputs[2].data if len(inputs) == 3 else z  # before the relu
    g = _pre_activation_grad(ctx, grad)
    out = graph.values.pop()  # the Linear's output: its box comes after the ones made here
    steps = [("matmul", "MatMul x @ W.T", inputs[:2], z)]
    if len(inputs) == 3:
        steps.append(("bias", "Add bias", None, pre))
    if relu:
        steps.append(("relu", "ReLU", None, None))
    previous = ""
    for n, (part, name, ins, data) in enumerate(steps):
        last = n == len(steps) - 1
        key = out.key if last else f"v{i}{part[0]}"
        if not last:  # (the value a ReLU follows is named z, as the course names it)
            label = "z" if relu and n == len(steps) - 2 else ""
            graph.values.append(_Value(key, label, "intermediate", data, True, None, g))
        if ins is None:
            ins = [previous, inputs[2]] if part == "bias" else [previous]
        graph.ops.append(_Op(f"op{i}" if last else f"op{i}{part[0]}", name, ins, key, ctx, part))
        previous = key
    graph.values.append(out)


def _pre_activation_grad(ctx: Linear, g: Any) -> Any:
    """The gradient of a LinearReLU's z = x @ W.T + b from that of its output: g where z > 0, else 0."""
    if g is None or isinstance(g, str) or not isinstance(ctx, LinearReLU):
        return g
    x, w = ctx.inputs[0].data, ctx.inputs[1].data
    z = x @ w.T + (ctx.inputs[2].data if len(ctx.inputs) == 3 else 0)
    return g * (z > 0)


def _build_values(root: Value, grads: bool = False) -> _Graph:
    """A Value graph: every box shows the Value's own ``.grad`` (marked where another backward left it)."""
    order = toposort((root,), lambda v: v._prev)
    keys = {id(v): f"v{i}" for i, v in enumerate(order)}
    marked = _not_this_root(root, order) if grads else set()
    graph = _Graph([], keys, [], tensor=False)
    for i, v in enumerate(order):
        role = "output" if v is root else ("intermediate" if v._prev else "leaf")
        graph.values.append(
            _Value(keys[id(v)], v.label, role, float(v.data), True, v, v.grad, id(v) in marked)
        )
        if v._prev:
            inputs = [keys[id(x)] for x in v._prev]
            graph.ops.append(_Op(f"op{i}", v._op or "?", inputs, keys[id(v)], v))
    return graph


# --- which gradient a picture shows ---------------------------------------------------------------
#
# draw_graph(root) shows, for a leaf, its .grad: what every backward since the last zero_grad added
# up (as PyTorch keeps it: two backwards give twice the gradient). For every other box, the
# root's included, it shows what the last backward from root sent there, from the seed that
# backward started with (root.backward(np.array(2.0)) sends twice d root / d value, and the
# leaves' .grad has twice theirs), not an older gradient that another loss's backward left on a
# shared op (op.grad_output keeps the last one, whichever root that walk started from). None
# before any backward has gone through root. The engine numbers its walks: an op keeps the
# number of the walk that wrote its grad_output (grad_walk), and a root's op the number of the
# last walk started from it alone and finished (started_walk). A stored gradient whose number is
# root's is shown as it is. Any other is worked out again for root while the graph is alive,
# with the engine's own walk (nothing stored changes), from root's seed: its op's grad_output
# while that is still its own walk's, else (a later walk through root wrote over it, or root had
# no walk of its own) 1 for a scalar root, what backward() starts from, and "from another
# backward" for any other. Once backward has freed the graph the box says "from another
# backward": a loss built on root (l2 = l1 + (10 * y).sum()) passes through it with the same 1
# that root's own backward starts from, so only the number tells the two apart.

_OP_STATE = ("grad_output", "grad_walk", "started_walk")  # what an engine walk writes on an op


@contextmanager
def _keeping_op_state(ops: Sequence[Any]) -> Iterator[None]:
    """Run a walk for a picture without a trace: every op's ``grad_output`` (and the walk numbers,
    on an engine that records them) is put back afterwards."""
    missing = object()
    saved = [[vars(op).get(name, missing) for name in _OP_STATE] for op in ops]
    try:
        yield
    finally:
        for op, values in zip(ops, saved):
            for name, value in zip(_OP_STATE, values):
                if value is missing:
                    vars(op).pop(name, None)
                else:
                    setattr(op, name, value)


def _tensor_grads(root: Tensor, order: Sequence[Tensor]) -> dict[int, Any]:
    """id(tensor) -> the grad its box shows in ``draw_graph(root)`` (the rule above)."""
    shown: dict[int, Any] = {id(t): t.grad.data for t in order if t._ctx is None and t.grad is not None}
    inner = [t for t in order if t._ctx is not None]
    root_op = root._ctx
    if root_op is None or root_op.grad_output is None:
        return shown  # no backward has gone through root: intermediates have no gradient yet
    started = root_op.started_walk
    fresh, why = _gradients_for(root, inner)
    for t in inner:
        op = t._ctx
        if op.grad_walk == started:
            shown[id(t)] = op.grad_output  # written by the last backward from root
        elif fresh is not None:
            shown[id(t)] = fresh.get(id(t))
        elif t is root and root.data.size == 1 and started != 0:
            shown[id(t)] = np.ones_like(root.data)  # its seed is not known: backward()'s, d root / d root
        elif op.grad_output is not None and started != 0:
            shown[id(t)] = why  # a word, never the stored gradient: it is another backward's
    return shown


def _gradients_for(root: Tensor, inner: Sequence[Tensor]) -> tuple[Optional[dict[int, np.ndarray]], str]:
    """What a backward from root sends every non-leaf ``t``, by the engine's walk from root (no
    ``.grad`` or ``grad_output`` changes), from the seed root's last backward started with (kept
    on root's op while no later walk wrote over it; else 1 for a scalar root), and ""; or None and
    what a box says instead: the graph was freed, changed in place since (an optimizer step),
    cannot be walked again, or a non-scalar root's seed is not known."""
    ops = [t._ctx for t in inner]
    if any(op.freed for op in ops):
        return None, FROM_ANOTHER_BACKWARD
    if _changed_in_place(inner):
        return None, CHANGED_GRAD
    root_op = root._ctx
    if root_op.grad_walk == root_op.started_walk:  # the root's own last backward wrote its seed there
        seed = np.array(np.asarray(root_op.grad_output), dtype=root.dtype)
    elif root.data.size == 1:
        seed = np.ones_like(root.data)  # its seed is not known: backward()'s
    else:
        return None, FROM_ANOTHER_BACKWARD  # its stored gradient, the seed, is another backward's
    try:
        with _keeping_op_state(ops):
            found = autograd.run_backward((root,), (seed,), True, False, wanted=set(inner))
    except Exception:  # noqa: BLE001 (an op's backward raising, an anomaly check): not this picture's to raise
        return None, UNREPEATABLE_GRAD
    return {id(t): g.data for t, g in found.items()}, ""


def _changed_in_place(inner: Sequence[Tensor]) -> bool:
    """Whether a tensor some op of the graph was computed from changed in place after the op was
    recorded (the engine's own check, which a backward through it would raise)."""
    last = autograd._CHANGES.last
    for t in inner:
        if t._ctx.recorded_at >= last:  # nothing changed since this op (as the engine skips it)
            continue
        try:
            autograd._check_versions(t._ctx, t)
        except RuntimeError:
            return True
    return False


MAX_SUMMED_PATHS = 16
"""The most paths into one Value whose partial sums ``_not_this_root`` tries (2**16 sums); a value
used by more of the steps taken so far is never marked."""


def _not_this_root(root: Value, order: Sequence[Value]) -> set[int]:
    """The ids of the intermediates whose ``.grad`` no walk from root, finished or by hand, leaves
    there: another root's backward through a shared value did.

    A walk from root (``backward()``, or ``o.grad = 1.0``, then ``o._backward()`` ... in an order
    backward could take: a value's step after the steps of every value that uses it) leaves each
    value either its whole gradient, ``root.grad`` times d root / d value, or, while the walk is
    still on its way, the sum of what the steps taken so far sent it, each from a value that already
    had its whole gradient (0 before any). So a grad is root's when it is the whole gradient, or
    the sum of what some of its users that could have taken their step (their gradients whole, and
    their users' too, up to root) send it; marked otherwise. d root / d value comes from root's own
    backward, and what a step sends from that step run alone, both on saved and restored grads
    (nothing stored changes)."""
    inner = [v for v in order if v._backward_fn is not None and v is not root]
    if not inner or all(v.grad == 0.0 for v in inner):
        return set()
    saved = [v.grad for v in order]
    try:
        for v in order:
            v.grad = 0.0
        root.backward()
        exact = {id(v): v.grad for v in inner}
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    scale = root.grad
    whole = {id(v) for v in inner if _same_number(v.grad, scale * exact[id(v)])}
    odd = [v for v in inner if v.grad != 0.0 and id(v) not in whole]
    if not odd:
        return set()
    users: dict[int, list[Value]] = {}  # id(value) -> the values of the graph computed from it
    for u in order:
        for child in dict.fromkeys(u._prev):
            users.setdefault(id(child), []).append(u)
    stepped = set()  # the values whose step may have been taken: root, and whole ones all of whose users may
    for u in reversed(order):  # (users first)
        if u is root or (id(u) in whole and all(id(w) in stepped for w in users.get(id(u), ()))):
            stepped.add(id(u))
    marked = set()
    for v in odd:
        parts = [_sent_alone(u)[id(v)] for u in users.get(id(v), ()) if id(u) in stepped]
        if not _a_partial_sum(v.grad, parts):
            marked.add(id(v))
    return marked


def _sent_alone(node: Value) -> dict[int, float]:
    """id(child) -> what ``node._backward()`` adds to each of its children's grads, with node's
    grad as it is now (the children's grads are put back afterwards)."""
    children = list(dict.fromkeys(node._prev))
    saved = [c.grad for c in children]
    try:
        for c in children:
            c.grad = 0.0
        if node._backward_fn is not None:
            node._backward_fn(node)
        return {id(c): c.grad for c in children}
    finally:
        for c, g in zip(children, saved):
            c.grad = g


def _a_partial_sum(target: float, parts: Sequence[float]) -> bool:
    """Whether ``target`` is the sum of some of ``parts`` (up to rounding: the steps may add them
    in any order); True when there are too many parts to try (``MAX_SUMMED_PATHS``)."""
    parts = [p for p in parts if p != 0.0]
    if len(parts) > MAX_SUMMED_PATHS:
        return True
    sums = np.zeros(1)
    with np.errstate(all="ignore"):
        for p in parts:
            sums = np.concatenate([sums, sums + p])
        tolerance = 1e-9 * float(np.sum(np.abs(parts))) + 1e-300
        near = np.abs(sums - target) <= tolerance
    return bool(np.any(near | (sums == target) | (np.isnan(sums) & math.isnan(target))))


def _same_number(a: float, b: float) -> bool:
    """Equal up to rounding (a walk by hand may add the paths in another order); NaN equals NaN."""
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) or (math.isnan(a) and math.isnan(b))


# --- text inside the nodes -----------------------------------------------------------------------


def _nonfinite(x: Any) -> bool:
    if x is None or isinstance(x, str):
        return False
    if isinstance(x, float):
        return not math.isfinite(x)
    x = np.asarray(x)
    return x.dtype.kind in "fc" and not np.isfinite(x).all()


def _digits(x: Any) -> str:
    """A number in a box: at least 4 significant digits and 4 decimals (0.5000, 0.001341,
    24.7041), in scientific notation when tiny or huge (1e-05, 1.5e+09), so that a small
    gradient never looks like 0 and a big one is not a row of digits."""
    x = float(x) + 0.0  # (+ 0.0: -0.0 is written 0.0000)
    if x == 0.0 or not math.isfinite(x):
        return f"{x:.4f}"
    if not 1e-4 <= abs(x) < 1e5:
        return f"{x:.4g}"
    decimals = max(4, 3 - math.floor(math.log10(abs(x))))
    return f"{x:.{decimals}f}"


def _array_text(a: np.ndarray, digits: Any) -> str:
    """A small array as numpy prints it, each float written by ``digits``."""
    if a.dtype.kind != "f":
        return np.array2string(a, separator=", ")
    return np.array2string(a, separator=", ", formatter={"float_kind": digits})


def _format_array(a: np.ndarray, max_elements: int) -> str:
    """A small array in full, a large one as min / mean / max: floats written by ``_digits``, as
    every other number in a box (an integer array's min and max stay integers)."""
    if a.ndim == 0:
        return _digits(a.item()) if a.dtype.kind == "f" else str(a)
    if a.size <= max_elements:
        return _array_text(a, _digits)
    if a.dtype.kind not in "fiub":
        return f"{a.size} elements"
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    if finite.size:
        ends = _digits if a.dtype.kind == "f" else str
        text = f"min {ends(finite.min())}  mean {_digits(finite.mean())}  max {ends(finite.max())}"
    else:
        text = "no finite values"
    bad = a.size - finite.size
    if bad:
        text += f"\n{int(np.isnan(a).sum())} NaN, {int(np.isinf(a).sum())} Inf"
    return text


def _format_gradient(g: Any, max_elements: int) -> str:
    if g is None:
        return "None"
    if isinstance(g, str):  # FROM_ANOTHER_BACKWARD
        return g
    if isinstance(g, float):
        return _digits(g)
    return _format_array(np.asarray(g), max_elements)


def _number(x: Any) -> str:
    """A number or a small array for a caption: 4 significant digits; a big array by its shape."""
    if isinstance(x, (float, int)):
        return f"{x + 0:.4g}"  # (+ 0: -0.0 is written 0)
    a = np.asarray(x)
    if a.dtype.kind == "f":
        a = a + 0.0  # -0.0 becomes 0.0
    if a.ndim == 0:
        return f"{a.item():.4g}"
    if a.size <= 6:
        return _array_text(a, lambda v: f"{v:.4g}").replace("\n", "")
    return f"a {a.shape} array (largest |value| {np.abs(a).max():.4g})"


def _html_lines(text: str) -> str:
    """Text for a box: HTML-escaped, backslashes doubled (graphviz expands \\N and the like even in
    an HTML label), one line per line."""
    return "<br/>".join(html.escape(line).replace("\\", "\\\\") for line in text.split("\n"))


def _value_cells(v: _Value, show_data: bool, grad_text: Optional[str], max_elements: int) -> list[str]:
    """The texts of a value's box, in order: name, shape and dtype, data, grad."""
    cells = [v.name] if v.name else []
    if isinstance(v.data, np.ndarray):
        cells.append(f"{v.data.shape} {v.data.dtype}")
        if show_data:
            cells.append("data " + _format_array(v.data, max_elements))
    elif show_data:
        cells.append("data " + _digits(v.data))
    if grad_text is not None:
        cells.append("grad " + grad_text)
    return cells


def _box(cells: list[str], fill: str, last_cell: str = "") -> str:
    """An HTML-like label: a table of ``cells``, one above the other (narrow boxes keep a left to
    right graph short)."""
    tds = []
    for i, text in enumerate(cells):
        body = _html_lines(text)
        if i == 0 and not text.startswith(("(", "data ", "grad ")):  # the name
            body = f"<b>{body}</b>"
        tds.append(f"<td{last_cell if i == len(cells) - 1 else ''}>{body}</td>")
    rows = "".join(f"<tr>{td}</tr>" for td in tds)
    table = f'border="0" cellborder="1" cellspacing="0" cellpadding="3" bgcolor="{fill}"'
    return f"<<table {table}>{rows}</table>>"


def _legend(roles: Sequence[str], note: str = "", nonfinite: bool = False) -> str:
    """The graph's label: one coloured cell per role in the picture, a red one when a box is red
    (``nonfinite``: so that the red is explained where it is seen), and ``note`` under them (a
    row per line)."""
    colours = [(ROLE_FILL[r], ROLE_TEXT[r]) for r in roles]
    if nonfinite:
        colours.append((NONFINITE_FILL, NONFINITE_TEXT))
    cells = "".join(f'<td bgcolor="{fill}" border="1">{html.escape(text)}</td>' for fill, text in colours)
    rows = f"<tr>{cells}</tr>"
    for line in note.split("\n") if note else []:
        rows += f'<tr><td colspan="{len(colours)}" border="0" align="left">{html.escape(line)}</td></tr>'
    return f'<<table border="0" cellspacing="4" cellpadding="2">{rows}</table>>'


# --- drawing -------------------------------------------------------------------------------------


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as exc:  # a dependency of the package, but an environment may lack it
        raise ModuleNotFoundError(
            "viz: graph pictures need the graphviz Python package: pip install graphviz", name="graphviz"
        ) from exc
    return graphviz


@dataclass
class _Style:
    """How a picture is drawn: the options of ``draw_graph`` once checked."""

    show_data: bool
    show_grad: bool
    rankdir: str
    max_elements: int
    max_width: Optional[float]


def _style(
    graph: _Graph,
    show_data: bool,
    show_grad: bool,
    rankdir: Optional[str],
    max_elements: int,
    max_width: Optional[float],
    where: str,
) -> _Style:
    if rankdir is None:
        rankdir = "LR" if not graph.tensor and len(graph.values) <= SMALL_VALUE_GRAPH else "TB"
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"{where}: rankdir must be None, 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(max_elements, int) or max_elements < 0:
        raise ValueError(f"{where}: max_elements must be an int >= 0, got {max_elements!r}")
    if max_width is not None and not (isinstance(max_width, (int, float)) and max_width > 0):
        raise ValueError(f"{where}: max_width must be a number of pixels > 0 or None, got {max_width!r}")
    return _Style(show_data, show_grad, rankdir, max_elements, max_width)


def _new_digraph(
    graph: _Graph, style: _Style, engine: str = "dot", note: str = "", nonfinite: bool = False
) -> graphviz.Digraph:
    """An empty Digraph with the picture's settings; its legend names the roles present (and the
    red of NaN / Inf when ``nonfinite``: some box is filled red)."""
    graphviz = _import_graphviz()
    roles = [r for r in ROLE_FILL if r == "op" and graph.ops or any(v.role == r for v in graph.values)]
    attrs = {
        "rankdir": style.rankdir,
        "label": _legend(roles, note, nonfinite),
        "fontsize": "10",
        "labelloc": "b",
        "labeljust": "l",
        "fontname": "Helvetica",
        "nodesep": "0.3",
        "ranksep": "0.35",
    }
    if style.max_width is not None:
        attrs["size"] = f"{style.max_width / 96:.3g},1000"  # inches: at most max_width px wide
        attrs["pad"] = "0.1"  # room for dot's rounding of the scale it writes into the SVG
    return graphviz.Digraph(
        format="svg",
        engine=engine,
        graph_attr=attrs,
        node_attr={
            "fontsize": str(FONT_SIZE),
            "fontname": "Helvetica",
            "shape": "none",
            "margin": "0",
            "width": "0",
            "height": "0",
        },
        edge_attr={"fontsize": "10", "fontname": "Helvetica"},
    )


def _op_attrs(op: _Op) -> dict[str, str]:
    return {
        "shape": "ellipse",
        "style": "filled",
        "fillcolor": ROLE_FILL["op"],
        "margin": "0.05",
        "width": "0.6",
        "height": "0.35",
        "id": f"node_{op.key}",
        "class": "op",
    }


def draw_graph(
    root: Node,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: Optional[str] = None,
    model: Any = None,
    max_elements: int = MAX_ELEMENTS,
    expand: bool = False,
    max_width: Optional[float] = MAX_WIDTH,
) -> graphviz.Digraph:
    """The computation graph behind ``root`` (a Tensor or a Value) as a ``graphviz.Digraph``.

    One box per value: its name (``tensor.name``; a parameter's name in
    ``model``, such as ``0.weight``; a Value's ``label``), for tensors the
    shape and dtype, then ``data`` and ``grad`` (tensors with more than
    ``max_elements`` numbers show min / mean / max). Boxes are coloured by
    role (input data, parameter, other leaf, intermediate, output), explained
    by the legend at the bottom. One oval per op (the Function's class name,
    or the Value's ``_op``), with one arrow per input, so ``x * x`` has two
    arrows from ``x``. Values or gradients holding NaN or Inf are filled red,
    and the legend then says what the red means.

    ``rankdir=None`` draws Tensor graphs top to bottom and small Value graphs
    left to right; ``max_width`` (pixels) scales a bigger picture down to fit.
    ``expand=True`` draws each ``Linear`` as its matmul ``x @ W.T`` and the
    bias add (and the ReLU of a fused ``LinearReLU``), so that the gradient of
    the product, ``dW = dZ.T @ x``, has an arrow of its own.

    Works before and after ``backward()``. A leaf shows its ``.grad``, summed
    over every backward since it was zeroed (as PyTorch keeps it); every other
    box shows the gradient the last backward from this root sent there, from
    the seed it started with (d root / d value after a plain ``backward()``,
    twice that after ``backward(np.array(2.0))``, as the leaves' ``.grad``),
    worked out again from the graph while it is alive, so that another loss's
    backward through a shared op cannot show up here (``None`` before any
    backward through root). Once backward has freed the graph, a box shows the
    gradient the last backward from root alone left there (the engine numbers
    its walks), and says "from another backward" for one another loss's
    backward left. A Value graph shows each
    Value's own ``.grad`` (also in a walk by hand: ``o.grad = 1.0``, then
    ``o._backward()`` ...); one that another output's backward left on a shared
    value is marked "(not this output's)". Numbers have at least 4
    significant digits. Nothing is rendered here: display the result in Jupyter, or write
    it with ``render(dot, "graph.svg")``.
    """
    graph = _build(root, model, "draw_graph", expand, grads=show_grad)
    style = _style(graph, show_data, show_grad, rankdir, max_elements, max_width, "draw_graph")
    red = {v.key for v in graph.values if _nonfinite(v.data) or (show_grad and _nonfinite(v.grad))}
    note = _grad_note(graph) if show_grad else ""
    dot = _new_digraph(graph, style, note=note, nonfinite=bool(red))
    for v in graph.values:
        grad_text = None
        if show_grad:
            grad_text = _format_gradient(v.grad, max_elements) if v.needs_grad else NO_GRAD_NEEDED
            grad_text += f" {NOT_THIS_ROOT}" if v.marked else ""
        fill = NONFINITE_FILL if v.key in red else ROLE_FILL[v.role]
        cells = _value_cells(v, show_data, grad_text, max_elements)
        dot.node(v.key, _box(cells, fill), id=f"node_{v.key}", **{"class": v.role})
    for op in graph.ops:
        dot.node(op.key, op.name, **_op_attrs(op))
        for inp in op.inputs:
            dot.edge(inp, op.key)
        dot.edge(op.key, op.output)
    return dot


def _grad_note(graph: _Graph) -> str:
    """The legend's lines on the grads shown: what they are, and what a ``?`` or a mark means."""
    if not graph.ops:
        return ""
    lines = [GRAD_NOTE if graph.tensor else VALUE_GRAD_NOTE]
    texts = {v.grad for v in graph.values if isinstance(v.grad, str)}
    lines += [note for text, note in _UNKNOWN_NOTES.items() if text in texts]
    if any(v.marked for v in graph.values):
        lines.append(NOT_THIS_ROOT_NOTE)
    return "\n".join(lines)


# --- running dot ---------------------------------------------------------------------------------


def pipe(digraph: graphviz.Digraph, format: str = "svg") -> bytes:
    """The picture as bytes (``format`` svg, png, pdf ...), made by Graphviz's ``dot``.

    Raises ``GraphvizNotFoundError`` with install instructions when ``dot`` is missing.
    """
    graphviz = _import_graphviz()
    try:
        return digraph.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        what = "lay out the backprop frames" if format == "json" else f"render the graph as {format}"
        raise GraphvizNotFoundError(f"viz: cannot {what}: {INSTALL_GRAPHVIZ}") from exc


def render(digraph: graphviz.Digraph, path: Union[str, os.PathLike], format: Optional[str] = None) -> str:
    """Write the picture to ``path``; the format is ``format`` or else the file's suffix (default svg).

    Returns the path written. Only the picture is written (no DOT source file next to it):
    ``dot`` draws it in memory (``pipe``) and the bytes go to a temporary file that replaces
    ``path`` at the end, so a failure leaves a previous picture intact. (A Digraph's own
    ``.render()``, the graphviz package's, writes the source and the picture directly: use
    this function for an all-or-nothing write.)
    """
    path = os.fspath(path)
    if format is None:
        suffix = os.path.splitext(path)[1].lstrip(".").lower()
        format = suffix or "svg"
    data = pipe(digraph, format)
    with _files.atomic_write(path, "wb", where="viz.render") as f:
        f.write(data)
    return path


def _svg_text(digraph: graphviz.Digraph) -> str:
    """The SVG of a picture without its XML header, ready to put inside an HTML page."""
    svg = pipe(digraph, "svg").decode("utf-8")
    return svg[svg.index("<svg") :]


# --- backprop step by step: what each op sends, and why ------------------------------------------

# What an op sends to each of its inputs, with ``grad`` for the gradient it received and {a}, {b},
# {out} for the names of its inputs and output, {n} for how many input elements make one output element:
# the local derivative times the upstream gradient.
TENSOR_LOCAL: dict[str, tuple[str, ...]] = {
    "Add": ("1 × grad", "1 × grad"),
    "Sub": ("1 × grad", "−1 × grad"),
    "Mul": ("{b} × grad", "{a} × grad"),
    "Div": ("(1/{b}) × grad", "(−{a}/{b}²) × grad"),
    "Neg": ("−1 × grad",),
    "MatMul": ("grad @ {b}.T", "{a}.T @ grad"),
    "Sum": ("1 × grad, copied to every element",),
    "Mean": ("(1/{n}) × grad, copied to each of the {n} elements averaged",),
    "Tanh": ("(1 − {out}²) × grad",),
    "Sigmoid": ("{out}·(1 − {out}) × grad",),
    "ReLU": ("({a} > 0) × grad",),
    "Exp": ("{out} × grad",),
    "Log": ("(1/{a}) × grad",),
    "Linear": ("grad @ {b}", "grad.T @ {a}", "grad summed over the rows"),
    # ({out} > 0 exactly where the pre-activation z = x @ W.T + b is: out = relu(z), and z has no box)
    "LinearReLU": (
        "(grad·({out} > 0)) @ {b}", "(grad·({out} > 0)).T @ {a}", "grad·({out} > 0) summed over the rows"
    ),
    "matmul": ("grad @ {b}", "grad.T @ {a}"),  # an expanded Linear: z = x @ W.T
    "bias": ("1 × grad", "grad summed over the rows"),
    # a 1-d operand (one sample, W @ x): .T leaves a vector as it is, so the weight's is an outer product
    "MatMul matrix @ vector": ("outer(grad, {b})", "{a}.T @ grad"),
    "MatMul vector @ matrix": ("grad @ {b}.T", "outer({a}, grad)"),
    "MatMul vector @ vector": ("grad × {b}", "grad × {a}"),
    "Linear one sample": ("grad @ {b}", "outer(grad, {a})", "1 × grad"),
    "LinearReLU one sample": ("(grad·({out} > 0)) @ {b}", "outer(grad·({out} > 0), {a})", "grad·({out} > 0)"),
    "matmul one sample": ("grad @ {b}", "outer(grad, {a})"),
    "bias one sample": ("1 × grad", "1 × grad"),
    # x of 3 or more axes: every leading axis holds samples
    "Linear batched": (
        "grad @ {b}",
        "grad.T @ {a}, the leading axes taken as rows",
        "grad summed over every axis but the last",
    ),
    "LinearReLU batched": (
        "(grad·({out} > 0)) @ {b}",
        "(grad·({out} > 0)).T @ {a}, the leading axes taken as rows",
        "grad·({out} > 0) summed over every axis but the last",
    ),
    "matmul batched": ("grad @ {b}", "grad.T @ {a}, the leading axes taken as rows"),
    "bias batched": ("1 × grad", "grad summed over every axis but the last"),
    "relu": ("({a} > 0) × grad",),
    "Abs": ("sign({a}) × grad",),
    "Sqrt": ("1/(2·{out}) × grad",),
    "Pow": ("{b}·{a}^({b} − 1) × grad", "{out}·ln({a}) × grad"),
    "Clip": ("({a} inside [lo, hi]) × grad",),
    "LeakyReLU": ("(1 where {a} > 0, else the slope) × grad",),
    "Maximum": ("({a} > {b}, ½ on a tie) × grad", "({b} > {a}, ½ on a tie) × grad"),
    "Minimum": ("({a} < {b}, ½ on a tie) × grad", "({b} < {a}, ½ on a tie) × grad"),
    "Where": ("cond × grad", "(not cond) × grad"),
    "Cast": ("1 × grad, in the input's dtype",),
    "Max": ("grad to the largest element (1/k each for k equal ones), 0 elsewhere",),
    "Min": ("grad to the smallest element (1/k each for k equal ones), 0 elsewhere",),
    "LogSumExp": ("softmax({a}) × grad",),
    "Softmax": ("{out}·(grad − sum(grad·{out})) along the axis",),
    "LogSoftmax": ("grad − softmax({a})·sum(grad) along the axis",),
    "GetItem": ("grad put back where it was taken from, 0 elsewhere",),
    "ScatterAdd": ("grad read where it was added",),
    "Reshape": ("grad reshaped back",),
    "Transpose": ("grad with its axes put back",),
    "BroadcastTo": ("grad summed over the repeated axes",),
    "Concatenate": ("the input's slice of grad",),  # (one template for any number of inputs)
    "Stack": ("the input's slice of grad",),
    # (for 3-d and more: .T would reverse every axis, swapaxes turns the last two)
    "batched MatMul": ("grad @ {b}.swapaxes(-1, -2)", "{a}.swapaxes(-1, -2) @ grad"),
    # a vector times a batch of matrices: the vector is a row (or a column) of each product
    "batched MatMul vector @ matrices": (
        "grad[..., None, :] @ {b}.swapaxes(-1, -2)", "{a}[:, None] × grad[..., None, :]"
    ),
    "batched MatMul matrices @ vector": ("grad[..., None] × {b}", "grad[..., None, :] @ {a}"),
}
_LIBRARY_TEMPLATES = frozenset(TENSOR_LOCAL)
"""The entries written for the library's ops (an op of one's own under one of these names gets none)."""

# Ops that broadcast their inputs: the engine sums an input's gradient back to its shape, and the
# caption's formula says so (``(1 × grad) summed to shape (1,)``).
BROADCASTING = {"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Where", "MatMul"}
# The fused losses (ops.fused): the local derivative of one element's (for CrossEntropy, one
# sample's) loss. ``_loss_how`` adds the reduction: "/n" for a mean of n losses, nothing for a sum
# or for "none" (where grad holds one number per loss).
LOSS_LOCAL: dict[str, tuple[str, ...]] = {
    "SquaredError": ("2({a} − {b})", "−2({a} − {b})"),
    "BCEWithLogits": ("(σ({a}) − {b})", "−{a}"),
    "BCE": ("((1 − {b})/(1 − {a}) − {b}/{a})", "(log(1 − {a}) − log {a})"),
    "CrossEntropy": ("(softmax({a}) − onehot({b}))",),
}
# BCE where a log was clamped at -100 (p = 0 or 1): that term is constant, its derivative 0.
BCE_CLAMPED = (
    "((1 − {b})/(1 − {a})·[log(1 − {a}) > −100] − {b}/{a}·[log {a} > −100])",
    "(max(log(1 − {a}), −100) − max(log {a}, −100))",
)
REDUCTIONS = ("mean", "sum", "none")
DEFAULT_NAMES = {
    "BCEWithLogits": ("z", "y"),
    "BCE": ("p", "y"),
    "SquaredError": ("p", "y"),
    "CrossEntropy": ("z", "target"),
    "Linear": ("x", "W", "b"),
    "LinearReLU": ("x", "W", "b"),
    "matmul": ("x", "W"),
    "bias": ("z", "b"),
}


def _value_local(op: str, names: Sequence[str], out: str, i: int) -> str:
    """The local derivative d out / d input ``i`` of a Value op, written with the values' names."""
    x = names[0]
    fixed = {
        "neg": "−1",
        "ReLU": f"({x} > 0)",
        "tanh": f"(1 − {out}²)",
        "sigmoid": f"{out}·(1 − {out})",
        "exp": out,
        "log": f"1/{x}",
        "+": "1",
        "-": ("1", "−1")[i % 2],
        "*": names[1 - i] if len(names) > 1 else x,
        "/": (f"1/{names[-1]}", f"−{x}/{names[-1]}²")[i % 2],
        "sum": "1",
        "dot": "(its coefficient)",  # d/dw_i = x_i, d/dx_i = w_i, d/db = 1
    }
    if op in fixed:
        return fixed[op]
    constant = _constant_op(op)
    if constant is None:
        return "the local derivative"
    return _constant_local(*constant, x, out)


def _constant_local(symbol: str, c: str, left: bool, x: str, out: str) -> str:
    """The local derivative of a Value op with the constant ``c``: x*c, c - x, x**c, c**x ..."""
    negative = c.startswith("-")
    if symbol == "**":
        if left:
            return f"ln({c})·{out}"
        power = float(c) - 1  # d(x**c)/dx = c·x^(c − 1): 2·x for a square, 1 for x**1
        if power == 0:
            return _number(float(c))
        return f"{c}·{x}" if power == 1 else f"{c}·{x}^{_number(power)}"
    if symbol == "+" or (symbol == "-" and not left):
        return "1"
    if symbol == "-":
        return "−1"
    if symbol == "*":
        return c
    if not left:
        return f"1/{_paren(c)}"
    return f"{c[1:]}/{x}²" if negative else f"−{c}/{x}²"  # d(c/x)/dx = -c/x²


def _needs_brackets(label: str) -> bool:
    """Whether a label put into a formula needs brackets: an expression (a*b) or a negative number,
    but not one call, whose own brackets hold it together (``sum(x, axis=0) × grad``)."""
    return any(c in label for c in " +-*/@^·×") and not _one_call(label)


def _one_call(label: str) -> bool:
    """Whether ``label`` is a single call, ``name(...)``, its first bracket closed by its last."""
    if not re.fullmatch(r"[A-Za-z_]\w*\(.*\)", label):
        return False
    depth = 0
    for i, c in enumerate(label):
        depth += (c == "(") - (c == ")")
        if depth == 0 and c == ")":
            return i == len(label) - 1
    return False


def _is_leaf(graph: _Graph, key: str) -> bool:
    return not any(o.output == key for o in graph.ops)


def _names(graph: _Graph, op: _Op) -> tuple[list[str], str]:
    """The names a formula uses for an op's inputs and output."""
    defaults = DEFAULT_NAMES.get(op.part or op.name)
    names = []
    for i, key in enumerate(op.inputs):
        v = graph.value(key)
        if v.name:
            names.append(v.name)
        elif not graph.tensor or (defaults is None and np.size(v.data) == 1 and _is_leaf(graph, key)):
            number = _number(v.data)  # (a one-number leaf: its value, in a formula)
            names.append(f"({number})" if number.startswith("-") else number)  # 3·(-0.5)^2, not 3·-0.5^2
        elif defaults is not None:  # the usual letters of a loss or a Linear: z, y, x, W, b
            names.append(defaults[i] if i < len(defaults) else f"input {i}")
        else:  # what the caption calls it too: an expression (x*w), a number, "the input (2,)"
            label = graph.label(key)
            names.append(f"({label})" if _needs_brackets(label) else label)
    out = graph.value(op.output).name or "out"
    return names, out


def _sends(
    graph: _Graph, op: _Op, received: Any, sent: Sequence[Any], shared: bool
) -> list[tuple[str, str, str]]:
    """For each input edge: how the caption and the edge label write the gradient sent along it, and
    its value; ("", "", "") for an input that needs none."""
    names, out = _names(graph, op)
    up = _number(received)
    if np.size(received) > 1:  # an array: formulas say "grad", the caption says what it is
        up = "grad"
    result = []
    for i, g in enumerate(sent):
        if g is None:
            result.append(("", "", ""))
            continue
        if graph.tensor:
            how = _loss_how(op, i, names, up)
            if how is None:
                templates = TENSOR_LOCAL.get(_template_key(graph, op), (f"{op.name}.backward(grad)",))
                how = templates[min(i, len(templates) - 1)]  # (Concatenate's one template serves every input)
                # grad first: a name with "grad" in it stays as it is
                b = names[1] if len(names) > 1 else ""
                n = _averaged(graph, op)
                how = _summed(graph, op, i, how.replace("grad", up).format(a=names[0], b=b, out=out, n=n))
            result.append((how, how, _number(g)))
            continue
        locals_ = [_value_local(op.name, names, out, j) for j, k in enumerate(op.inputs) if k == op.inputs[i]]
        local = locals_[0] if len(locals_) == 1 else _shared_local(op.name, locals_)
        formula = f"{local} × {up}"  # local × upstream, as micrograd writes it: (1 - t**2) * out.grad
        how = formula
        number = _number(_local_number(received, g))
        same = local.replace("−", "-").strip("()") == number  # (a bracketed constant, "(-0.35)")
        if (len(locals_) == 1 or op.name == "dot") and not same and number != "nan":
            how += f" = {number} × {up}"
        result.append((how, formula, _number(g)))
    return result


def _averaged(graph: _Graph, op: _Op) -> int:
    """How many input elements make one output element (Mean's n)."""
    size_in = np.size(graph.value(op.inputs[0]).data)
    return size_in // max(np.size(graph.value(op.output).data), 1)


VECTOR_MATMUL = {
    (2, 1): "MatMul matrix @ vector", (1, 2): "MatMul vector @ matrix", (1, 1): "MatMul vector @ vector"
}


def _template_key(graph: _Graph, op: _Op) -> str:
    """Which TENSOR_LOCAL entry writes the op's derivatives: a matmul of a vector, a batched one,
    and a Linear on one sample or on more than 2 axes have their own."""
    dims = tuple(np.ndim(graph.value(k).data) for k in op.inputs)
    name = op.part or op.name
    if not _built_in(op):  # (a formula given for it in TENSOR_LOCAL, or none: its backward is named)
        return "" if name in _LIBRARY_TEMPLATES else name
    if op.name == "MatMul" and not op.part:
        if dims[0] > 2 or dims[1] > 2:  # a batch of matrices, times a batch, a matrix or a vector
            vector = " vector @ matrices" if dims[0] == 1 else " matrices @ vector" if dims[1] == 1 else ""
            return "batched MatMul" + vector
        return VECTOR_MATMUL.get(dims[:2], name)
    if name in ("Linear", "LinearReLU", "matmul", "bias") and dims[0] != 2:
        return f"{name} one sample" if dims[0] == 1 else f"{name} batched"
    return name


def _built_in(op: _Op) -> bool:
    """Whether the op is the library's own. An op of one's own named like one (an exercise's
    ``Sigmoid``) has its own backward, maybe a wrong one, so the caption must not write the
    built-in's formula beside its numbers."""
    kind = type(op.source)
    return not issubclass(kind, autograd.Function) or autograd.OPS.get(kind.__name__) is kind


def _summed(graph: _Graph, op: _Op, i: int, how: str) -> str:
    """The formula for input ``i``, with the sum the engine applies where broadcasting repeated the
    input (a bias added to a batch; a matrix multiplied with every matrix of a batch)."""
    if op.part or op.name not in BROADCASTING:
        return how
    shape = np.shape(graph.value(op.inputs[i]).data)
    out_shape = np.shape(graph.value(op.output).data)
    if op.name == "MatMul":  # only the batch axes broadcast; a vector, in every product of a batch
        repeated = len(shape) == 1 and len(out_shape) >= 2 or (
            len(shape) >= 2 and len(out_shape) > 2 and shape[:-2] != out_shape[:-2]
        )
    else:
        repeated = shape != out_shape
    return f"({how}) summed to shape {shape}" if repeated else how


def _loss_reduction(op: _Op) -> Optional[tuple[str, int, str]]:
    """For a fused loss: the reduction it was given, the number n of losses it reduces, and what
    they are ("elements", or "samples" for CrossEntropy); None for any other op."""
    source = op.source
    if op.name not in LOSS_LOCAL or not isinstance(source, autograd.Function) or not _built_in(op):
        return None
    # the reduction is the one string the op saved for its backward
    reduction = next((s for s in source.saved if isinstance(s, str) and s in REDUCTIONS), None)
    if reduction is None:
        return None
    if op.name == "CrossEntropy":
        return reduction, source.inputs[0].shape[0], "samples"
    return reduction, math.prod(np.broadcast_shapes(*(x.shape for x in source.inputs))), "elements"


def _loss_how(op: _Op, i: int, names: Sequence[str], up: str) -> Optional[str]:
    """What a fused loss sends to its input ``i``, as a formula that gives the value shown:
    ``2(p − y)/4 × 1`` for the mean of 4 squared errors, ``2(p − y) × 1`` for their sum."""
    found = _loss_reduction(op)
    if found is None:
        return None
    reduction, n, _ = found
    templates = LOSS_LOCAL[op.name]
    if op.name == "BCE" and _bce_clamped(op.source.inputs[0]):
        templates = BCE_CLAMPED
    b = names[1] if len(names) > 1 else DEFAULT_NAMES[op.name][1]  # CrossEntropy: target is no input
    local = templates[i].format(a=names[0], b=b)
    if reduction == "mean" and n:
        local += f"/{n}"  # the mean shares the gradient out: grad / n to each loss
    if reduction == "none" and op.name == "CrossEntropy" and up == "grad":
        up = "grad[:, None]"  # one number per sample, times its row
    return f"{local} × {up}"


def _bce_clamped(p: Tensor) -> bool:
    """Whether BCE clamped log p or log(1 − p) at −100 for some element (p at or next to 0 or 1)."""
    with np.errstate(divide="ignore"):
        return bool((np.log(p.data) <= LOG_CLAMP).any() or (np.log1p(-p.data) <= LOG_CLAMP).any())


def _reduction_note(graph: _Graph, op: _Op) -> str:
    """After a fused loss's name in a caption: " (mean over n = 4 elements)", " (sum over 4 elements)";
    nothing for reduction="none" or any other op."""
    found = _loss_reduction(op) if graph.tensor else None
    if found is None or found[0] == "none":
        return ""
    reduction, n, what = found
    return f" (mean over n = {n} {what})" if reduction == "mean" else f" (sum over {n} {what})"


def _shared_local(op: str, locals_: list[str]) -> str:
    """The local derivative for an input used several times by one Value op: the sum of one term per
    use (``x * x``: x + x; ``Value.sum([x, x])``: 2)."""
    if op == "sum":
        return str(len(locals_))
    if op == "dot":
        return "(its coefficients, added)"
    return "(" + " + ".join(locals_) + ")"


def _local_number(received: float, sent: float) -> float:
    return sent / received if received else math.nan


def _caption(graph: _Graph, op: _Op, received: Any, sent: Sequence[Any], shared: bool, k: int, n: int) -> str:
    """``Step K of N: <op> received <g>; sends <how> = <value> to <input> and ...``."""
    parts = []
    seen: set[str] = set()
    for key, (how, _, value) in zip(op.inputs, _sends(graph, op, received, sent, shared)):
        if shared and key in seen:
            continue
        seen.add(key)
        target = graph.label(key)
        if not how:
            parts.append(f"nothing to {target} (it needs no gradient)")
        else:
            parts.append(f"{how} = {value} to {target}")
    name = op.name + _constant_note(op.name) + _reduction_note(graph, op)
    text = f"Step {k} of {n}: {name} received {_number(received)}; sends " + " and ".join(parts)
    if np.size(received) > 1:
        text = text.replace(" received ", " received grad = ", 1)
    return text


# How a caption reads a Value op with a constant: (symbol, constant on the left) -> words.
CONSTANT_WORDS = {
    ("+", False): "add {c}", ("+", True): "add {c}",
    ("-", False): "subtract {c}", ("-", True): "{c} minus",
    ("*", False): "multiply by {c}", ("*", True): "multiply by {c}",
    ("/", False): "divide by {c}", ("/", True): "{c} divided by",
    ("**", False): "to the power {c}", ("**", True): "{c} to the power",
}


def _constant_note(name: str) -> str:
    """`` (subtract 1)`` for the op ``-1``: the short name alone reads as the number -1."""
    constant = _constant_op(name)
    if constant is None:
        return ""
    symbol, c, left = constant
    return " (" + CONSTANT_WORDS[symbol, left].format(c=c) + ")"


def _edge_label(how: str, value: str) -> str:
    """What an edge carrying a gradient says: "local × upstream = value" on two lines."""
    if not how:
        return ""
    if value.startswith("a ("):  # a big array: its shape only
        value = value[2:].split(" (largest")[0]
    if len(value) > 40:
        value = value[:37] + "..."
    # DOT reads a backslash in a label as an escape (\N is the node's name): a name's own is doubled
    return f"{how}\n= {value}".replace("\\", "\\\\")


@dataclass
class Frame:
    """One step of the backward pass: the op processed and the gradients known at that moment.

    ``caption`` says it in words (``Step 3 of 5: * received 0.5; sends ...``).
    ``edge_grads[i]`` is what the op sent to its input ``i`` (``None`` for an
    input that needs no gradient); ``grad_output`` is the gradient that had
    arrived at the op's output. ``grads`` maps every value reached so far to
    its gradient summed over the ops processed up to and including this one.
    Gradients are floats for a Value graph and ndarrays for a Tensor graph.

    A Value op adds into each input object, so for an op that uses the same
    Value twice (``x * x``) only the sum is seen: every edge of that input
    then carries that total (``shared_edges`` is True). A Tensor op returns one
    gradient per input position, so each of its edges has its own.
    """

    step: int
    op: str
    op_key: str
    output: str
    grad_output: Any
    inputs: list[str]
    edge_grads: list[Any]
    grads: dict[str, Any]
    shared_edges: bool = False
    caption: str = ""
    _trace: Any = field(repr=False, default=None)

    def grad_of(self, value: Node) -> Any:
        """The gradient of ``value`` known at this step (``None`` when none has arrived yet)."""
        return self.grads.get(self._trace.graph.key(value))

    def draw(
        self, show_data: bool = True, rankdir: Optional[str] = None, max_elements: int = MAX_ELEMENTS
    ) -> graphviz.Digraph:
        """This step as a picture, laid out exactly as every other frame of the same trace.

        The op being processed is filled yellow, the gradients it sends are red labels
        ("local × upstream = value") on its input arrows, earlier ones blue, arrows still
        waiting grey and dashed; each box shows the grad known at this step (``?`` before
        any arrived, "not needed" for a value that needs none).
        """
        return self._trace.draw(self.step, show_data, rankdir, max_elements)

    def _repr_svg_(self) -> str:
        return _svg_text(self.draw())

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.caption)}</p>\n{self._repr_svg_()}"


class Frames(list):
    """The frames of ``trace_backward``: a list of ``Frame`` that a notebook shows as a player.

    ``frames.to_html(path)`` writes the same player as one self-contained page
    (the pictures inline, no network access, no external script). It holds one
    picture per step, so a big graph makes a big page: above ``MAX_PLAYER_BYTES``
    (20 MB) the player warns, and says how to make it smaller.
    """

    def _repr_html_(self) -> str:
        return _player(self, page=False)

    def to_html(
        self, path: Union[str, os.PathLike], show_data: bool = True, rankdir: Optional[str] = None
    ) -> str:
        """Write the player to ``path`` as one HTML file; return the path.

        It opens at ``Step 1 of N``; Previous / Next, the slider, Play and the arrow
        keys move through the steps. Needs Graphviz's ``dot`` program. The page is made
        in memory and written all or nothing (a failure leaves a previous file intact).
        """
        page = _player(self, page=True, show_data=show_data, rankdir=rankdir)
        path = os.fspath(path)
        with _files.atomic_write(path, "w", encoding="utf-8", where="to_html") as f:
            f.write(page)
        return path


def trace_backward(root: Node, gradient: Any = None, model: Any = None, expand: bool = False) -> Frames:
    """The backward pass from ``root`` as ``Frames``, one ``Frame`` per op, in the engine's order.

    For a Tensor the frames are recorded from the engine's own walk
    (``autograd.run_backward`` calls back once per op), asked for the
    gradients instead of accumulating them: no ``.grad`` changes and the graph
    stays, so ``draw_graph`` and ``backward`` still work afterwards. For a
    Value each op's ``_backward`` runs in the order ``Value.backward`` uses.
    ``gradient`` seeds a non-scalar Tensor root (as in ``backward``);
    ``model`` names the parameters; ``expand`` shows each ``Linear`` as its
    matmul and bias add (two frames for its one step). The last frame's
    ``grads`` hold what ``backward()`` on fresh gradients leaves in ``.grad``.
    """
    graph = _build(root, model, "trace_backward", expand)
    if isinstance(root, Value):
        if gradient is not None:
            raise TypeError("trace_backward: gradient= is for Tensor roots; a Value root's gradient is 1")
        steps = _value_steps(graph, root)
        seed: Any = 1.0
    else:
        if not root.requires_grad:
            raise RuntimeError(
                f"trace_backward: this tensor (shape {root.shape}) does not require grad and has no graph. "
                "Create the inputs with requires_grad=True (and not under no_grad())."
            )
        seed = np.array(autograd._maybe_array(autograd._root_gradient(root, gradient, "trace_backward")))
        steps = _tensor_steps(graph, root, seed)
    return _Trace(graph, graph.key(root), seed, steps).frames()


def _tensor_steps(graph: _Graph, root: Tensor, seed: np.ndarray) -> list[tuple[_Op, Any, list[Any]]]:
    """(op, gradient received, gradient sent per input) for every op, from the engine's walk."""
    parts: dict[int, list[_Op]] = {}
    for op in graph.ops:
        parts.setdefault(id(op.source), []).append(op)
    steps: list[tuple[_Op, Any, list[Any]]] = []

    def on_step(step: Any) -> None:
        received = np.array(step.grad_output)
        sent = [None if g is None else np.array(g) for g in step.input_grads]
        for op in reversed(parts[id(step.op)]):  # an expanded Linear: relu, bias, then matmul
            steps.append((op, *_part_grads(op, received, sent)))

    leaves = {v.obj for v in graph.values if v.obj is not None and v.obj._ctx is None and v.needs_grad}
    with _keeping_op_state([op.source for op in graph.ops if op.source is not None]):
        try:
            autograd.run_backward((root,), (seed,), True, False, wanted=leaves, on_step=on_step)
        except RuntimeError as exc:
            if "was freed by the first backward" not in str(exc):
                raise
            raise RuntimeError(
                f"trace_backward: {str(exc).rstrip('.')}. To step through a backward, call "
                "trace_backward(loss) before loss.backward(), or give that backward retain_graph=True"
            ) from None
    return steps


def _part_grads(op: _Op, received: np.ndarray, sent: list[Any]) -> tuple[Any, list[Any]]:
    """What one part of an expanded Linear receives and sends, from the Linear's own step."""
    if not op.part:
        return received, sent
    if op.part == "relu":
        return received, [_pre_activation_grad(op.source, received)]
    g = _pre_activation_grad(op.source, received)
    if op.part == "bias":
        return g, [g, sent[2]]
    return g, sent[:2]


def _value_steps(graph: _Graph, root: Value) -> list[tuple[_Op, Any, list[Any]]]:
    """``Value.backward``'s own walk, watched step by step through its ``on_step`` hook;
    every ``.grad`` is restored afterwards."""
    ops = {op.output: op for op in graph.ops}
    nodes = [v.obj for v in graph.values]
    saved = [v.grad for v in nodes]
    steps: list[tuple[_Op, Any, list[Any]]] = []

    def record(node: Value, sent: list[float]) -> None:
        steps.append((ops[graph.key(node)], node.grad, sent))

    try:
        for v in nodes:
            v.grad = 0.0  # so the leaves' gradients are this walk's alone
        root.backward(on_step=record)
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g
    return steps


# --- the frames and their one layout -------------------------------------------------------------


class _Trace:
    """The graph and the steps of one backward pass: makes the frames and draws them all alike."""

    def __init__(self, graph: _Graph, root_key: str, seed: Any, steps: list[tuple[_Op, Any, list[Any]]]):
        self.graph = graph
        self.steps = steps
        self.layouts: dict[tuple, dict[str, Any]] = {}
        grads: dict[str, Any] = {root_key: seed}
        self.grads: list[dict[str, Any]] = []  # after each step
        self.changed: list[set[str]] = []  # the values whose grad a step changed
        self.labels: dict[str, str] = {}  # edge id -> its "local × upstream" label
        n = len(steps)
        self.captions = []
        for k, (op, received, sent) in enumerate(steps):
            shared = not graph.tensor and len(set(op.inputs)) < len(op.inputs)
            self.captions.append(_caption(graph, op, received, sent, shared, k + 1, n))
            for pos, ((_, how, value), key, g) in enumerate(
                zip(_sends(graph, op, received, sent, shared), op.inputs, sent)
            ):
                if g is None:
                    continue
                label = _edge_label(how, value)
                self.labels[f"{op.key}:{pos}"] = ("total over the edges: " + label) if shared else label
                if shared and key in op.inputs[:pos]:
                    continue  # a Value op's total for this input is already counted
                grads[key] = g if key not in grads else grads[key] + g
            self.grads.append(dict(grads))
            self.changed.append({k for k, g in zip(op.inputs, sent) if g is not None})
        # a box red in any frame puts NaN / Inf in every frame's legend: one legend, so one layout
        self.nonfinite = any(_nonfinite(v.data) for v in graph.values) or any(
            _nonfinite(g) for known in self.grads for g in known.values()
        )

    def frames(self) -> Frames:
        result = Frames()
        for k, (op, received, sent) in enumerate(self.steps):
            shared = not self.graph.tensor and len(set(op.inputs)) < len(op.inputs)
            result.append(
                Frame(
                    k,
                    op.name,
                    op.key,
                    op.output,
                    received,
                    list(op.inputs),
                    list(sent),
                    self.grads[k],
                    shared,
                    self.captions[k],
                    self,
                )
            )
        return result

    # -- what frame k shows --------------------------------------------------------------------------

    def _grad_text(self, v: _Value, k: int, style: _Style) -> str:
        if not v.needs_grad:
            return NO_GRAD_NEEDED
        grads = self.grads[k]
        return _format_gradient(grads[v.key], style.max_elements) if v.key in grads else "?"

    def _node_label(self, v: _Value, k: int, style: _Style) -> str:
        """Box ``v`` in frame ``k``: its grad cell as large as its largest text in any frame, so the
        box has the same size in every frame; filled yellow when this step changed it."""
        cells = _value_cells(v, style.show_data, self._grad_text(v, k, style), style.max_elements)
        grads = self.grads[k] if k < len(self.grads) else {}
        bad = _nonfinite(v.data) or _nonfinite(grads.get(v.key))
        texts = [self._grad_text(v, j, style) for j in range(len(self.steps))]
        lines = [line for text in texts for line in ("grad " + text).split("\n")]
        rows = max(text.count("\n") + 1 for text in texts) if texts else 1
        # at least as large as the text: Helvetica's digits are 0.56 em wide, its minus 0.58 em
        width = int(max(map(len, lines), default=6) * 0.62 * FONT_SIZE) + 8
        height = int(rows * 1.25 * FONT_SIZE) + 8
        last = f' width="{width}" height="{height}"'
        if k < len(self.changed) and v.key in self.changed[k]:
            last += f' bgcolor="{NEW_GRAD_FILL}"'
        return _box(cells, NONFINITE_FILL if bad else ROLE_FILL[v.role], last)

    def _edges(self, k: int) -> list[tuple[str, str, str, dict[str, str]]]:
        """(tail, head, id, attributes) of every edge in frame ``k``; labels are there in every frame
        (so the layout never changes) but drawn only from the step that sends them on."""
        result = []
        current = self.steps[k][0].key if k >= 0 else None
        sent_by = {op.key: j for j, (op, _, _) in enumerate(self.steps)}
        for op in self.graph.ops:
            done = op.key in sent_by and sent_by[op.key] <= k
            for pos, inp in enumerate(op.inputs):
                eid = f"{op.key}:{pos}"
                label = self.labels.get(eid, "")
                attrs = {"id": f"edge_{eid}", "label": label}
                if done and label:
                    colour = CURRENT_EDGE if op.key == current else DONE_EDGE
                    attrs.update(color=colour, fontcolor=colour, penwidth="2" if op.key == current else "1")
                else:
                    attrs.update(color=WAITING_EDGE, style="dashed", fontcolor="transparent")
                result.append((inp, op.key, eid, attrs))
            known = k >= 0 and op.output in self.grads[k]
            result.append(
                (
                    op.key,
                    op.output,
                    f"{op.key}:out",
                    {"id": f"edge_{op.key}:out", "color": DONE_EDGE if known else WAITING_EDGE},
                )
            )
        return result

    def _digraph(self, k: int, style: _Style, layout: Optional[dict[str, Any]]) -> graphviz.Digraph:
        """Frame ``k`` (with ``layout``: pinned where the layout put everything); without a layout,
        the graph the layout is computed from, each box with its widest text of all frames."""
        if layout is None:
            dot = _new_digraph(self.graph, style, nonfinite=self.nonfinite)
        else:
            dot = _pinned_digraph(self.graph, style, layout, self.nonfinite)
        where = (lambda key: {}) if layout is None else (lambda key: layout[key])
        for v in self.graph.values:
            label = self._node_label(v, k, style)
            dot.node(v.key, label, id=f"node_{v.key}", **{"class": v.role}, **where(v.key))
        current = self.steps[k][0].key if k >= 0 else None
        for op in self.graph.ops:
            attrs = _op_attrs(op)
            if op.key == current:
                attrs.update(fillcolor=CURRENT_OP_FILL, penwidth="2", **{"class": "op current"})
            attrs.update(where(op.key))
            dot.node(op.key, op.name, **attrs)
        for tail, head, eid, attrs in self._edges(k):
            dot.edge(tail, head, **attrs, **where(eid))
        return dot

    def layout(self, style: _Style) -> dict[str, Any]:
        """Where ``dot`` puts every node and edge, computed once for all frames (``dot -Tjson``)."""
        key = (style.show_data, style.rankdir, style.max_elements, style.max_width)
        if key not in self.layouts:
            laid_out = json.loads(pipe(self._digraph(0, style, None), "json"))
            self.layouts[key] = _positions(laid_out)
        return self.layouts[key]

    def draw(self, k: int, show_data: bool, rankdir: Optional[str], max_elements: int) -> graphviz.Digraph:
        style = _style(self.graph, show_data, True, rankdir, max_elements, MAX_WIDTH, "Frame.draw")
        return self._digraph(k, style, self.layout(style))


def _positions(laid_out: dict[str, Any]) -> dict[str, Any]:
    """node name / edge id -> the attributes that pin it where ``dot`` put it."""
    where: dict[str, Any] = {"_bb": laid_out["bb"]}
    for node in laid_out.get("objects", []):
        if "pos" in node:
            where[node["name"]] = {
                "pos": node["pos"] + "!",
                "width": node["width"],
                "height": node["height"],
                "fixedsize": "true",
            }
    for edge in laid_out.get("edges", []):
        attrs = {"pos": edge["pos"]}
        if "lp" in edge:
            attrs["lp"] = edge["lp"]
        where[edge["id"][len("edge_") :]] = attrs
    return where


_PINNED: Any = None


def _pinned_digraph(
    graph: _Graph, style: _Style, layout: dict[str, Any], nonfinite: bool = False
) -> graphviz.Digraph:
    """A Digraph whose nodes and edges carry their positions: rendered by ``neato -n2``, which keeps them."""
    global _PINNED
    graphviz = _import_graphviz()
    if _PINNED is None:

        class PinnedDigraph(graphviz.Digraph):
            """A Digraph laid out in advance: rendered with ``neato -n2``, which keeps every position."""

            def pipe(self, *args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("neato_no_op", 2)
                kwargs.setdefault("quiet", True)
                return super().pipe(*args, **kwargs)

            def render(self, *args: Any, **kwargs: Any) -> Any:
                kwargs.setdefault("neato_no_op", 2)
                kwargs.setdefault("quiet", True)
                return super().render(*args, **kwargs)

        _PINNED = PinnedDigraph
    base = _new_digraph(graph, style, engine="neato", nonfinite=nonfinite)
    dot = _PINNED(
        format="svg",
        engine="neato",
        graph_attr=dict(base.graph_attr, bb=layout["_bb"]),
        node_attr=base.node_attr,
        edge_attr=base.edge_attr,
    )
    return dot


# --- the player ------------------------------------------------------------------------------------

_PLAYER_CSS = """
.tge-player { font-family: Helvetica, Arial, sans-serif; max-width: 100%; outline: none; }
.tge-player:focus { box-shadow: 0 0 0 2px #9ec5fe; }
.tge-bar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 4px 0; }
.tge-bar button { font-size: 14px; padding: 3px 10px; cursor: pointer; }
.tge-bar input[type=range] { flex: 1; min-width: 120px; }
.tge-caption { font-size: 15px; margin: 6px 0; min-height: 2.4em; }
.tge-frame svg { max-width: 100%; height: auto; }
"""

_PLAYER_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var frames = root.querySelectorAll(".tge-frame");
  var captions = JSON.parse(root.querySelector(".tge-captions").textContent);
  var caption = root.querySelector(".tge-caption");
  var slider = root.querySelector(".tge-slider");
  var play = root.querySelector(".tge-play");
  var k = 0, timer = null;
  function show(i) {
    k = Math.max(0, Math.min(frames.length - 1, i));
    for (var j = 0; j < frames.length; j++) { frames[j].style.display = j === k ? "" : "none"; }
    caption.textContent = captions[k];
    slider.value = k + 1;
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = "\\u25B6 Play"; }
  root.querySelector(".tge-prev").onclick = function () { stop(); show(k - 1); };
  root.querySelector(".tge-next").onclick = function () { stop(); show(k + 1); };
  slider.oninput = function () { stop(); show(parseInt(slider.value, 10) - 1); };
  play.onclick = function () {
    if (timer) { stop(); return; }
    if (k === frames.length - 1) { show(0); }
    play.textContent = "\\u275A\\u275A Pause";
    timer = setInterval(function () { if (k >= frames.length - 1) { stop(); } else { show(k + 1); } }, 1500);
  };
  function key(e) {
    if (e.key === "ArrowRight") { stop(); show(k + 1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { stop(); show(k - 1); e.preventDefault(); }
  }
  root.addEventListener("keydown", key);
  if (%(page)s) {
    document.addEventListener("keydown", function (e) { if (!root.contains(e.target)) { key(e); } });
    root.focus();
  }
  show(0);
})();
"""


def _player(
    frames: Sequence[Frame], page: bool, show_data: bool = True, rankdir: Optional[str] = None
) -> str:
    """The player: buttons, slider, the caption as text, and every frame's SVG (one shown at a time)."""
    if not frames:
        raise ValueError("Frames: there are no frames to show (the root is a leaf: it has no op)")
    for i, frame in enumerate(frames):
        if not isinstance(frame, Frame):
            raise TypeError(f"Frames: item {i} is a {type(frame).__name__}, expected a Frame")
    pid = f"tge-{uuid.uuid4().hex[:12]}"
    n = len(frames)
    svgs = [_svg_text(frames[0].draw(show_data=show_data, rankdir=rankdir))]
    _warn_if_large(n, len(svgs[0].encode("utf-8")))  # before the wait for the other frames
    svgs += [_svg_text(f.draw(show_data=show_data, rankdir=rankdir)) for f in frames[1:]]
    hidden = ' style="display:none"'
    divs = "\n".join(
        f'<div class="tge-frame" data-step="{i + 1}"{"" if i == 0 else hidden}>{svg}</div>'
        for i, svg in enumerate(svgs)
    )
    captions = _script_json([f.caption for f in frames])
    script = _PLAYER_JS % {"id": pid, "page": "true" if page else "false"}
    body = f"""<div class="tge-player" id="{pid}" tabindex="0">
<style>{_PLAYER_CSS}</style>
<div class="tge-bar">
<button type="button" class="tge-prev">&#9664; Previous</button>
<button type="button" class="tge-play">&#9654; Play</button>
<button type="button" class="tge-next">Next &#9654;</button>
<input type="range" class="tge-slider" min="1" max="{n}" value="1" step="1" aria-label="step">
</div>
<p class="tge-caption" aria-live="polite">{html.escape(frames[0].caption)}</p>
{divs}
<script type="application/json" class="tge-captions">{captions}</script>
<script>{script}</script>
</div>"""
    if not page:
        return body
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Back-propagation, step by step</title>\n</head>\n<body>\n" + body + "\n</body>\n</html>\n"
    )


def _warn_if_large(n: int, frame_bytes: int) -> None:
    """Warn when ``n`` pictures of ``frame_bytes`` each (every frame has the same layout, so about
    the size of the first) make a player larger than ``MAX_PLAYER_BYTES``. The player is still
    made in full; the warning says how to make a smaller one."""
    size, limit = n * frame_bytes, MAX_PLAYER_BYTES
    if size <= limit:
        return
    _, steps = autograd._outside_package(sys._getframe(0))
    warnings.warn(
        f"Frames: the player of {n} steps will be about {size / 1e6:.3g} MB of HTML (a picture of "
        f"{frame_bytes / 1e3:.0f} kB per step), more than viz.MAX_PLAYER_BYTES = {limit / 1e6:g} MB: "
        "a notebook may hang while it shows it. It is made in full all the same. For a smaller player, "
        "draw a smaller graph (fewer samples or hidden units), the same network with Tensors (one step "
        "per layer, not one per number), or fewer steps: viz.Frames(frames[:20]) plays the first 20",
        UserWarning,
        stacklevel=steps + 1,  # (1 is this function)
    )


def _script_json(value: Any) -> str:
    """JSON to put inside a <script> element: every <, > and & written as a \\u escape, so that no
    text in it (a name such as "<!--<script>" or "</script>") can end or change the element."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def save_frames(
    frames: Sequence[Frame],
    directory: Union[str, os.PathLike],
    format: str = "svg",
    show_data: bool = True,
    rankdir: Optional[str] = None,
) -> list[str]:
    """Write every frame as ``directory/frame_000.<format>``, ``frame_001`` ...; return the paths.

    The directory is created if needed. ``format`` is ``"svg"`` or ``"png"``
    (any format ``dot`` knows works), or ``"html"``: the player as one page,
    ``directory/frames.html`` (or ``directory`` itself when it ends in
    ``.html``). Every frame has the same layout. Needs Graphviz's ``dot`` program.
    Frames of this format left in the directory by a longer trace before (``frame_007.svg`` when
    this one has 5) are removed, once every new frame is written: stepping through the folder
    never runs from one graph into another.
    """
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"save_frames: format must be a name such as 'svg', 'png' or 'html', got {format!r}")
    for i, frame in enumerate(frames):
        if not isinstance(frame, Frame):
            raise TypeError(f"save_frames: frame {i} is a {type(frame).__name__}, expected a Frame")
    directory = os.fspath(directory)
    if format == "html":
        path = directory if directory.endswith(".html") else os.path.join(directory, "frames.html")
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return [Frames(frames).to_html(path, show_data=show_data, rankdir=rankdir)]
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = os.path.join(directory, f"frame_{i:03d}.{format}")
        paths.append(render(frame.draw(show_data=show_data, rankdir=rankdir), path, format))
    _remove_older_frames(directory, format, len(paths))
    return paths


def _remove_older_frames(directory: str, format: str, count: int) -> None:
    """Delete ``frame_NNN.<format>`` with NNN >= count: what a longer trace wrote there before."""
    pattern = re.compile(rf"frame_(\d{{3,}})\.{re.escape(format)}")
    for name in os.listdir(directory):
        match = pattern.fullmatch(name)
        if match and int(match.group(1)) >= count:
            os.remove(os.path.join(directory, name))


def _short(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {value.shape}"
    return repr(value)

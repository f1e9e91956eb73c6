"""Pictures of computation graphs, and of backprop one op at a time.

``draw_graph(root)`` turns the graph behind a ``Tensor`` or a ``Value`` into a
``graphviz.Digraph`` in the style of micrograd's ``draw_dot``: one record node
``{ name | shape dtype | data | grad }`` per value and one oval per op, with
an arrow from every input of an op to the op and from the op to its output.
In Jupyter the returned Digraph shows itself inline; elsewhere ``render``
writes it to an SVG or PNG file.

``trace_backward(root)`` replays the backward pass without touching any
``.grad``: one ``Frame`` per op, in the order the engine runs them (reverse
topological order, outputs first), each holding the gradient that op sent
along every input edge and the gradients known so far. ``save_frames`` writes
them as numbered pictures, ``frame_000.svg``, ``frame_001.svg`` ... so
backprop can be stepped through like a slide show.

Nothing here draws by itself: Graphviz's ``dot`` program does, when a Digraph
is rendered (``render``, ``pipe``, ``Digraph.render``, or Jupyter's display).
The ``graphviz`` Python package is imported only when a picture is made.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu.autograd import _root_gradient
from tinygrad_edu.graph import toposort
from tinygrad_edu.scalar import Value
from tinygrad_edu.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "Frame",
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

# Colours of the pictures.
NONFINITE_FILL = "#ff9c9c"  # a value or gradient holding NaN or Inf
CURRENT_OP_FILL = "#ffd966"  # the op a backprop frame is processing
CURRENT_EDGE = "#d62728"  # gradients that op is sending right now
DONE_EDGE = "#1f77b4"  # gradients sent by earlier ops
WAITING_EDGE = "#b0b0b0"  # no gradient on this edge yet

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
class _Op:
    """One op node: its name, its inputs' keys (a repeated input repeats), its output's key."""

    key: str
    name: str
    inputs: list[str]
    output: str


@dataclass
class _Graph:
    """The values and ops reachable from a root, in topological order (inputs first).

    Values are keyed ``v0, v1, ...`` in that order and the op making ``vi`` is
    ``opi``, so the DOT source is the same on every run.
    """

    values: list[Node]
    keys: dict[int, str]  # id(value) -> key
    ops: list[_Op]
    names: dict[str, str]  # key -> name shown in the picture ('' for none)

    def key(self, value: Node) -> str:
        try:
            return self.keys[id(value)]
        except KeyError:
            raise KeyError(f"viz: {_short(value)} is not part of this graph") from None


def _tensor_parents(t: Tensor) -> Sequence[Tensor]:
    """Every input of the op that made ``t`` (the graph's structure outlives backward)."""
    return () if t._ctx is None else t._ctx.inputs


def _value_parents(v: Value) -> Sequence[Value]:
    return v._prev


def _parameter_names(model: Any) -> dict[int, str]:
    if model is None:
        return {}
    if not hasattr(model, "named_parameters"):
        raise TypeError(
            f"draw_graph: model must have named_parameters() (an nn.Module), got {type(model).__name__}"
        )
    return {id(p): name for name, p in model.named_parameters()}


def _build(root: Any, model: Any, where: str) -> _Graph:
    """Walk the graph from ``root`` with the shared ``toposort`` and number its nodes."""
    if isinstance(root, Tensor):
        parents: Any = _tensor_parents
    elif isinstance(root, Value):
        parents = _value_parents
        if model is not None:
            raise TypeError(f"{where}: model= names Tensor parameters; a Value graph uses each Value's label")
    else:
        raise TypeError(f"{where}: expected a Tensor or a Value, got {type(root).__name__}")
    order = toposort((root,), parents)
    keys = {id(v): f"v{i}" for i, v in enumerate(order)}
    model_names = _parameter_names(model)
    names: dict[str, str] = {}
    ops: list[_Op] = []
    for i, v in enumerate(order):
        if isinstance(v, Tensor):
            names[keys[id(v)]] = v.name or model_names.get(id(v), "")
            if v._ctx is not None:
                inputs = [keys[id(x)] for x in v._ctx.inputs]
                ops.append(_Op(f"op{i}", type(v._ctx).__name__, inputs, f"v{i}"))
        else:
            names[keys[id(v)]] = v.label
            if v._prev:
                ops.append(_Op(f"op{i}", v._op or "?", [keys[id(x)] for x in v._prev], f"v{i}"))
    return _Graph(order, keys, ops, names)


# --- text inside the nodes -----------------------------------------------------------------------

_RECORD_ESCAPES = str.maketrans({c: "\\" + c for c in '\\{}|<>"'})


def _record_text(text: str) -> str:
    """Text for one field of a record node: DOT's special characters escaped, lines centred."""
    return text.translate(_RECORD_ESCAPES).replace("\n", "\\n")


def _nonfinite(x: Any) -> bool:
    if x is None:
        return False
    if isinstance(x, float):
        return not math.isfinite(x)
    return x.dtype.kind in "fc" and not np.isfinite(x).all()


def _format_array(a: np.ndarray, max_elements: int) -> str:
    """A small array in full (4 significant digits), a large one as min / mean / max."""
    if a.ndim == 0:
        return np.format_float_positional(a.item(), precision=4, trim="-") if a.dtype.kind == "f" else str(a)
    if a.size <= max_elements:
        return np.array2string(a, precision=4, separator=", ", suppress_small=True)
    if a.dtype.kind not in "fiub":
        return f"{a.size} elements"
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    if finite.size:
        text = f"min {finite.min():.4g}  mean {finite.mean():.4g}  max {finite.max():.4g}"
    else:
        text = "no finite values"
    bad = a.size - finite.size
    if bad:
        text += f"\n{int(np.isnan(a).sum())} NaN, {int(np.isinf(a).sum())} Inf"
    return text


def _format_gradient(g: Any, max_elements: int) -> str:
    if g is None:
        return "None"
    if isinstance(g, float):
        return f"{g:.4f}"
    return _format_array(g, max_elements)


def _value_fields(
    v: Node, name: str, show_data: bool, grad_field: Optional[str], max_elements: int
) -> list[str]:
    fields = [name] if name else []
    if isinstance(v, Tensor):
        fields.append(f"{v.shape} {v.dtype}")
        if show_data:
            fields.append("data " + _format_array(v.data, max_elements))
    elif show_data:
        fields.append(f"data {v.data:.4f}")
    if grad_field is not None:
        fields.append("grad " + grad_field)
    return fields


def _grad_of(v: Node) -> Any:
    """The gradient stored on a value, as a float or an ndarray (None when there is none)."""
    if isinstance(v, Value):
        return v.grad
    if v._ctx is not None:  # an intermediate: what reached it in the last backward
        return v._ctx.grad_output
    return None if v.grad is None else v.grad.data


# --- drawing -------------------------------------------------------------------------------------


def _import_graphviz() -> Any:
    try:
        import graphviz
    except ImportError as exc:  # a dependency of the package, but an environment may lack it
        raise ImportError("viz: graph pictures need the graphviz package: pip install graphviz") from exc
    return graphviz


def _digraph(
    graph: _Graph,
    show_data: bool,
    show_grad: bool,
    rankdir: str,
    max_elements: int,
    grads: Optional[dict[str, Any]] = None,
    frame: Optional[Frame] = None,
    done_edges: Optional[dict[tuple[str, int], Any]] = None,
) -> graphviz.Digraph:
    """The picture of ``graph``; with ``frame``, a step of backprop (see ``Frame.draw``)."""
    graphviz = _import_graphviz()
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not isinstance(max_elements, int) or max_elements < 0:
        raise ValueError(f"draw_graph: max_elements must be an int >= 0, got {max_elements!r}")
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": rankdir}, node_attr={"fontsize": "11"})
    for v in graph.values:
        key = graph.key(v)
        if grads is not None:  # a frame: the gradient known at that moment
            g = grads.get(key)
            grad_field = (_format_gradient(g, max_elements) if key in grads else "?") if show_grad else None
        else:
            g = _grad_of(v)
            grad_field = _format_gradient(g, max_elements) if show_grad else None
        fields = _value_fields(v, graph.names[key], show_data, grad_field, max_elements)
        attrs = {"shape": "record"}
        data = v.data if isinstance(v, Tensor) else float(v.data)
        if _nonfinite(data) or (show_grad and _nonfinite(g)):
            attrs.update(style="filled", fillcolor=NONFINITE_FILL, color="red")
        dot.node(key, "{ " + " | ".join(_record_text(f) for f in fields) + " }", **attrs)
    for op in graph.ops:
        attrs = {}
        if frame is not None and op.key == frame.op_key:
            attrs = {"style": "filled", "fillcolor": CURRENT_OP_FILL, "penwidth": "2"}
        dot.node(op.key, op.name, **attrs)
        for position, inp in enumerate(op.inputs):
            dot.edge(inp, op.key, **_edge_attrs(op, position, frame, done_edges, max_elements))
        out_attrs = {}
        if frame is not None:
            known = grads is not None and op.output in grads
            out_attrs = {"color": DONE_EDGE if known else WAITING_EDGE}
        dot.edge(op.key, op.output, **out_attrs)
    return dot


def _edge_attrs(
    op: _Op,
    position: int,
    frame: Optional[Frame],
    done_edges: Optional[dict[tuple[str, int], Any]],
    max_elements: int,
) -> dict[str, str]:
    """In a frame: the gradient along input edge ``position`` of ``op``, coloured by when it was sent."""
    if frame is None or done_edges is None:
        return {}
    edge = (op.key, position)
    if edge not in done_edges:
        return {"color": WAITING_EDGE, "style": "dashed"}
    g = done_edges[edge]
    label = _format_gradient(g, max_elements)
    if op.inputs.count(op.inputs[position]) > 1 and frame.shared_edges:
        label = f"total over {op.inputs.count(op.inputs[position])} edges: {label}"
    current = op.key == frame.op_key
    attrs = {"label": label, "color": CURRENT_EDGE if current else DONE_EDGE, "fontsize": "10"}
    attrs["fontcolor"] = attrs["color"]
    if current:
        attrs["penwidth"] = "2"
    if _nonfinite(g):
        attrs["color"] = "red"
    return attrs


def draw_graph(
    root: Node,
    show_data: bool = True,
    show_grad: bool = True,
    rankdir: str = "LR",
    model: Any = None,
    max_elements: int = MAX_ELEMENTS,
) -> graphviz.Digraph:
    """The computation graph behind ``root`` (a Tensor or a Value) as a ``graphviz.Digraph``.

    One record node per value: its name (``tensor.name``; a parameter's name
    in ``model``, such as ``0.weight``; a Value's ``label``), for tensors the
    shape and dtype, then ``data`` and ``grad`` (tensors with more than
    ``max_elements`` numbers show min / mean / max). One oval per op (the
    Function's class name, or the Value's ``_op``), with one arrow per input,
    so ``x * x`` has two arrows from ``x``. Values or gradients holding NaN or
    Inf are filled red.

    Nothing is rendered here. Display the result in Jupyter, or write it with
    ``render(dot, "graph.svg")``. Draw before ``backward()`` frees a Tensor
    graph, or use ``backward(retain_graph=True)``: then the leaves' ``grad``
    shows too (intermediate tensors keep no gradient; see ``trace_backward``).
    """
    graph = _build(root, model, "draw_graph")
    return _digraph(graph, show_data, show_grad, rankdir, max_elements)


# --- running dot ---------------------------------------------------------------------------------


def pipe(digraph: graphviz.Digraph, format: str = "svg") -> bytes:
    """The picture as bytes (``format`` svg, png, pdf ...), made by Graphviz's ``dot``.

    Raises ``GraphvizNotFoundError`` with install instructions when ``dot`` is missing.
    """
    graphviz = _import_graphviz()
    try:
        return digraph.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFoundError(f"viz: cannot render the graph as {format}: {INSTALL_GRAPHVIZ}") from exc


def render(digraph: graphviz.Digraph, path: Union[str, os.PathLike], format: Optional[str] = None) -> str:
    """Write the picture to ``path``; the format is ``format`` or else the file's suffix (default svg).

    Returns the path written. Only the picture is written (no DOT source file next to it).
    """
    path = os.fspath(path)
    if format is None:
        suffix = os.path.splitext(path)[1].lstrip(".").lower()
        format = suffix or "svg"
    data = pipe(digraph, format)
    with open(path, "wb") as f:
        f.write(data)
    return path


# --- backprop step by step -----------------------------------------------------------------------


@dataclass
class Frame:
    """One step of the backward pass: the op processed and the gradients known at that moment.

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
    _graph: _Graph = field(repr=False, default=None)  # type: ignore[assignment]
    _edges: dict[tuple[str, int], Any] = field(repr=False, default_factory=dict)

    def grad_of(self, value: Node) -> Any:
        """The gradient of ``value`` known at this step (``None`` when none has arrived yet)."""
        return self.grads.get(self._graph.key(value))

    def draw(
        self, show_data: bool = True, rankdir: str = "LR", max_elements: int = MAX_ELEMENTS
    ) -> graphviz.Digraph:
        """The graph with this step's op filled yellow, the gradients it sends in red along their edges,
        earlier gradients in blue, edges still waiting grey and dashed; each node's grad is the one
        known at this step (``?`` before any arrived)."""
        return _digraph(
            self._graph, show_data, True, rankdir, max_elements, self.grads, self, self._edges
        )


def trace_backward(root: Node, gradient: Any = None) -> list[Frame]:
    """The backward pass from ``root`` as a list of frames, one per op, in the engine's order.

    Each op's own backward computes the gradients, exactly as ``backward()``
    would, but the result goes into the frames only: no ``.grad`` changes and
    a Tensor graph is not freed, so ``draw_graph`` and ``backward`` still work
    afterwards. ``gradient`` seeds a non-scalar Tensor root (as in ``backward``).
    The last frame's ``grads`` hold what ``backward()`` on fresh gradients
    leaves in every leaf's ``.grad``.
    """
    graph = _build(root, None, "trace_backward")
    if isinstance(root, Value):
        if gradient is not None:
            raise TypeError("trace_backward: gradient= is for Tensor roots; a Value root's gradient is 1")
        return _trace_values(graph, root)
    if not root.requires_grad:
        raise RuntimeError(
            f"trace_backward: this tensor (shape {root.shape}) does not require grad and has no graph. "
            "Create the inputs with requires_grad=True (and not under no_grad())."
        )
    return _trace_tensors(graph, root, _root_gradient(root, gradient, "trace_backward").data)


def _new_frame(graph: _Graph, step: int, op: _Op, grad_output: Any, edge_grads: list[Any]) -> Frame:
    return Frame(step, op.name, op.key, op.output, grad_output, list(op.inputs), edge_grads, {}, _graph=graph)


def _trace_tensors(graph: _Graph, root: Tensor, seed: np.ndarray) -> list[Frame]:
    """The engine's own backward walk, watched step by step through its ``on_step`` hook.

    The walk keeps the graph and returns the leaves' gradients instead of accumulating
    them, so no ``.grad`` changes.
    """
    ops = {op.output: op for op in graph.ops}
    grads: dict[str, np.ndarray] = {graph.key(root): seed}
    edges: dict[tuple[str, int], Any] = {}
    frames: list[Frame] = []

    def record(step: autograd.BackwardStep) -> None:
        op = ops[graph.key(step.output)]
        for position, (inp, g) in enumerate(zip(step.op.inputs, step.input_grads)):
            if g is None:
                continue
            edges[(op.key, position)] = g
            k = graph.key(inp)
            grads[k] = g if k not in grads else grads[k] + g
        frame = _new_frame(graph, len(frames), op, step.grad_output, list(step.input_grads))
        frame.grads = dict(grads)
        frame._edges = dict(edges)
        frames.append(frame)

    leaves = {t for t in graph.values if isinstance(t, Tensor) and t._ctx is None and t.requires_grad}
    autograd.run_backward([root], [Tensor._make(seed)], True, False, wanted=leaves, on_step=record)
    return frames


def _trace_values(graph: _Graph, root: Value) -> list[Frame]:
    """Run each Value's ``_backward`` on zeroed gradients, reading what it added; restore ``.grad`` after."""
    ops = {op.output: op for op in graph.ops}
    saved = [v.grad for v in graph.values]
    grads: dict[str, float] = {graph.key(root): 1.0}
    edges: dict[tuple[str, int], Any] = {}
    frames: list[Frame] = []
    try:
        for v in graph.values:
            v.grad = 0.0
        root.grad = 1.0
        for v in reversed(graph.values):
            if v._backward is None:
                continue
            op = ops[graph.key(v)]
            children = list(dict.fromkeys(v._prev))  # each child once, in order
            before = [c.grad for c in children]
            v._backward(v)
            added = {id(c): c.grad - b for c, b in zip(children, before)}
            edge_grads = [added[id(c)] for c in v._prev]
            for position, (c, g) in enumerate(zip(v._prev, edge_grads)):
                edges[(op.key, position)] = g
                grads[graph.key(c)] = c.grad
            frame = _new_frame(graph, len(frames), op, v.grad, edge_grads)
            frame.shared_edges = len(children) < len(v._prev)
            frame.grads = dict(grads)
            frame._edges = dict(edges)
            frames.append(frame)
    finally:
        for v, g in zip(graph.values, saved):
            v.grad = g
    return frames


def save_frames(
    frames: Sequence[Frame],
    directory: Union[str, os.PathLike],
    format: str = "svg",
    show_data: bool = True,
    rankdir: str = "LR",
) -> list[str]:
    """Write every frame as ``directory/frame_000.<format>``, ``frame_001`` ...; return the paths.

    The directory is created if needed. ``format`` is ``"svg"`` or ``"png"``
    (any format ``dot`` knows works). Needs Graphviz's ``dot`` program.
    """
    if not isinstance(format, str) or not format.isalnum():
        raise ValueError(f"save_frames: format must be a name such as 'svg' or 'png', got {format!r}")
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        if not isinstance(frame, Frame):
            raise TypeError(f"save_frames: frame {i} is a {type(frame).__name__}, expected a Frame")
        path = os.path.join(os.fspath(directory), f"frame_{i:03d}.{format}")
        paths.append(render(frame.draw(show_data=show_data, rankdir=rankdir), path, format))
    return paths


def _short(value: Any) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {value.shape}"
    return repr(value)

"""The reverse-mode engine: ``Function`` (one op: forward on ndarrays, backward on
Tensors or, for a first-order backward, on ndarrays), ``run``, the broadcast
reduction, ``grad`` and ``backward``.

Ownership is one-way so that graphs die without the cycle collector: a Tensor
holds the Function that made it, a Function holds its input Tensors, and sees
its output only while its backward runs (the engine hands it over).
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, Union

import numpy as np

from tinygrad_edu._config import STATE

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

OPS: dict[str, type["Function"]] = {}
"""Every built-in op, by class name: the table that tests and docs enumerate."""

# With the separator, so that a sibling such as tinygrad_edu_examples/ is not taken for the package.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class Function:
    """One differentiable op. Subclass it, write ``forward`` and ``backward``, call ``apply``.

    ``forward(*arrays, **params)`` takes ndarrays (and the op's non-tensor
    parameters such as ``axis``) and returns one ndarray. ``backward(grad)``
    takes the gradient of the output as a Tensor and returns one gradient per
    input: a Tensor, an ndarray, or ``None`` for "no gradient". It may use
    ``self.inputs`` (the input Tensors), ``self.output`` and ``self.saved``.
    Written with Tensor ops, a backward is itself differentiable, so
    ``create_graph=True`` gives second derivatives; with ``array_backward``
    the same code also runs on ndarrays when no second derivative is wanted.
    """

    array_backward: bool = False
    """True when ``backward`` uses only what ndarrays and Tensors share (arithmetic,
    ``@``, ``.T``, ``.sum``, ``.reshape``, indexing, and ``run`` for other ops): a
    first-order backward then runs it on the arrays themselves (``grad``,
    ``self.inputs`` and ``self.output`` are ndarrays), skipping a Tensor and the
    graph bookkeeping per operation. The built-in ops are written so; with False
    (the default) ``backward`` always gets Tensors."""

    # Defaults for an op that was run but not recorded; apply sets the rest.
    saved: tuple = ()
    _out: Optional["Tensor"] = None
    _created_at: Optional[str] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("tinygrad_edu.") and not cls.__name__.startswith("_"):
            OPS[cls.__name__] = cls

    # -- to be written by each op -------------------------------------------------
    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, grad: "Tensor") -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    # -- helpers for op authors -----------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep constants (masks, indices, shapes) for ``backward``; read them as ``self.saved``.

        Do not save input or output arrays here: use ``self.inputs`` and
        ``self.output`` so that second derivatives see them as graph nodes.
        """
        self.saved = values

    @property
    def output(self) -> "Tensor":
        """The Tensor this op produced, available inside ``backward``.

        The engine hands it over for the duration of the call: a Function never
        keeps its output, so output -> op -> output is no reference cycle.
        """
        if self._out is None:
            raise RuntimeError(f"{type(self).__name__}.output is only available inside backward")
        return self._out

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> "Tensor":
        """Run ``forward`` on the inputs' arrays and, when a gradient is needed, record the op."""
        for x in inputs:
            if not isinstance(x, Tensor):  # (a Parameter is a Tensor)
                inputs = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
                break
        n = len(inputs)
        fn = _new(cls)
        try:
            # Spelled out for one and two inputs and for no parameters (an empty **params
            # alone costs a fifth of an op): this is the hottest line of the library.
            if params:
                if n == 1:
                    out_data = fn.forward(inputs[0].data, **params)
                else:
                    out_data = fn.forward(*[t.data for t in inputs], **params)
            elif n == 2:
                out_data = fn.forward(inputs[0].data, inputs[1].data)
            elif n == 1:
                out_data = fn.forward(inputs[0].data)
            elif n == 3:  # Linear: x, weight, bias
                out_data = fn.forward(inputs[0].data, inputs[1].data, inputs[2].data)
            else:
                out_data = fn.forward(*[t.data for t in inputs])
        except (ValueError, IndexError, TypeError) as exc:
            raise _op_error(cls.__name__, inputs, exc) from exc
        if type(out_data) is not np.ndarray:  # numpy returns scalars from 0-d arithmetic
            out_data = np.asarray(out_data)
        out = _new(Tensor)
        out.data = out_data
        out.grad = out._ctx = out.name = None
        out.requires_grad = False
        if STATE.grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    out.requires_grad = True
                    out._ctx = fn
                    fn._seq = _next_seq()  # creation order, which the backward walk follows
                    fn.inputs = inputs
                    if n == 2:  # spelled out: the common case, and the cheapest
                        fn.needs_input_grad = (inputs[0].requires_grad, inputs[1].requires_grad)
                    elif n == 1:
                        fn.needs_input_grad = (True,)  # the loop just found it requires grad
                    elif n == 3:  # Linear
                        fn.needs_input_grad = (
                            inputs[0].requires_grad, inputs[1].requires_grad, inputs[2].requires_grad
                        )
                    else:
                        fn.needs_input_grad = tuple([t.requires_grad for t in inputs])
                    break
        if STATE.anomaly:
            if out._ctx is not None:
                fn._created_at = _user_frame()
            _check_forward(cls.__name__, inputs, out_data)
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


_new = object.__new__
_next_seq = itertools.count().__next__


class _Absent:
    """run's second operand when there is none."""

    def __repr__(self) -> str:
        return "<absent>"


_ABSENT: Any = _Absent()


def run(op: type[Function], a: Any, b: Any = _ABSENT, *more: Any, **params: Any) -> Any:
    """``op`` on Tensors, recorded like any op (``op.apply``), or on ndarrays, its
    ``forward`` alone: how a backward that runs in both modes calls another op.

    On Tensors, a number takes the dtype of the first Tensor (as in ``x * 2``).
    """
    # The first two operands are named, not gathered into *args: packing and unpacking
    # an argument tuple was about half of what calling another op from a backward costs
    # (0.4 of 0.7 µs in tanh's backward).
    if isinstance(a, Tensor) or isinstance(b, Tensor) or (more and any(isinstance(x, Tensor) for x in more)):
        args = (a,) if b is _ABSENT else (a, b, *more)
        first = next(x for x in args if isinstance(x, Tensor))
        return op.apply(*[first._operand(x) for x in args], **params)
    fn = _new(op)
    # (no empty **params passed on: it would cost as much as the small op itself)
    if b is _ABSENT:
        return fn.forward(a, **params) if params else fn.forward(a)
    if more:
        return fn.forward(a, b, *more, **params)
    return fn.forward(a, b, **params) if params else fn.forward(a, b)


class OpError(ValueError):
    """An op was given inputs it cannot work with (shapes, dtypes, indices)."""


def _op_error(name: str, tensors: Sequence["Tensor"], exc: Exception) -> Exception:
    """The op's name and its inputs' shapes and dtypes, in front of numpy's reason."""
    if isinstance(exc, OpError):
        return exc
    shapes = ", ".join(f"shape {t.shape} {t.dtype}" for t in tensors)
    return OpError(f"{name}: cannot apply to inputs ({shapes}): {exc}")


# --- broadcasting ---------------------------------------------------------------


def unbroadcast(grad: "Tensor", shape: tuple[int, ...], op_name: str = "op") -> "Tensor":
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting is summation.

    Called only by the engine, once, whenever a gradient's shape differs from
    its input's. A shape that broadcasting could not have produced is a bug in
    the op's backward and raises.
    """
    gshape = grad.shape
    extra = len(gshape) - len(shape)
    if extra < 0 or any(s != 1 and s != g for s, g in zip(shape, gshape[extra:])):
        raise RuntimeError(
            f"{op_name}.backward returned a gradient of shape {gshape} ({grad.dtype}) "
            f"for an input of shape {shape}: it cannot be summed to that shape"
        )
    axes = tuple(range(extra)) + tuple(
        extra + i for i, s in enumerate(shape) if s == 1 and gshape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


# --- the backward pass ------------------------------------------------------------


def _freed_error(t: "Tensor") -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the graph of {type(t._ctx).__name__} "
        "was freed by the first backward. Pass retain_graph=True to the first "
        "backward (or grad) if you need to go through it again."
    )


BIG_GRAPH = 1000
"""Ops after which the backward walk pauses the cycle collector."""


def _run_backward(
    roots: Sequence["Tensor"],
    root_grads: Sequence["Tensor"],
    retain_graph: bool,
    create_graph: bool,
    wanted: Optional[set["Tensor"]] = None,
) -> dict["Tensor", "Tensor"]:
    """Propagate ``root_grads`` from ``roots`` to every tensor that requires grad.

    The order: every recorded op has a sequence number (``Function.apply`` counts
    them), and an op is always created after the ops that made its inputs. So the
    walk visits op outputs from the highest number down, taking the next one from a
    heap of those that have received a gradient: when an output is visited, every op
    that used it has already been, and its gradient is complete (all its uses added
    up). This finds the order while walking, with no separate pass over the graph
    (PyTorch's engine orders its work the same way). Leaves get their ``.grad`` at the
    end, so a walk that fails half-way leaves them as they were.

    Cotangents live in a local dict keyed by tensor (identity hash) and are popped
    once used. With ``wanted`` the gradients of those tensors are returned;
    otherwise leaves accumulate into ``.grad``.

    Two modes, one walk. The usual first-order backward keeps every cotangent
    as a plain ndarray and runs each op's backward on arrays where the op
    allows it (``Function.array_backward``): no Tensor is made and no graph
    bookkeeping is done per operation. Under ``create_graph`` the cotangents
    are Tensors and every backward is recorded like a forward, so the result
    can be differentiated again.
    """
    on_arrays = not create_graph
    grads: dict[Tensor, Any] = {}  # tensor -> the sum of the gradients it has received so far
    pending: list[tuple[int, Tensor]] = []  # heap of (-sequence number, op output) still to visit
    leaves: list[Tensor] = []  # the leaves reached, in the order they were reached
    # given: arrays a leaf must not keep as they are, the caller's own gradient arrays and
    # any array already given to another leaf
    given: set[int] = set()
    if len(roots) == 1 and roots[0]._ctx is not None and roots[0]._ctx.inputs is not None:
        # the usual loss.backward(), spelled out: one root, made by an op
        root, g = roots[0], root_grads[0]
        given.add(id(g.data))
        grads[root] = g.data if on_arrays else g
        pending.append((-root._ctx._seq, root))  # a list of one is a heap
    else:
        for r, g in zip(roots, root_grads):
            given.add(id(g.data))
            g = g.data if on_arrays else g
            prev = grads.get(r)
            if prev is not None:
                grads[r] = _add(prev, g)
            elif r._ctx is None:
                grads[r] = g
                leaves.append(r)
            elif r._ctx.inputs is None:
                raise _freed_error(r)
            else:
                grads[r] = g
                heappush(pending, (-r._ctx._seq, r))
    results: dict[Tensor, Tensor] = {}
    previous_mode = STATE.grad_enabled
    STATE.grad_enabled = create_graph  # the backward is recorded only for create_graph
    # Under detect_anomaly, the ops a backward runs are not checked as forwards: the
    # gradients they add up to are checked once, as that op's backward.
    anomaly = STATE.anomaly
    STATE.anomaly = False
    # The walk makes no reference cycles, yet every object it allocates would count
    # towards cyclic-GC passes over the whole (still alive) graph: on a 100,000-op chain
    # those passes took half the time. The collector is paused once the walk turns out
    # to be long: a small graph is quick to scan, and switching the collector off and on
    # would cost more than it saves.
    countdown = BIG_GRAPH
    gc_paused = False
    try:
        while pending:
            t = heappop(pending)[1]
            g = grads.pop(t)
            if wanted is not None and t in wanted:
                results[t] = Tensor._make(g) if on_arrays else g
            ctx = t._ctx
            tensors = ctx.inputs
            if tensors is None:
                raise _freed_error(t)
            input_grads = _call_backward(ctx, t, g, on_arrays)
            if anomaly:
                _check_backward(ctx, type(ctx).__name__, input_grads)
            if not retain_graph:  # free the op's part of the graph (the loop below has `tensors`)
                ctx.inputs = None
                ctx.saved = ()
            for inp, need, gi in zip(tensors, ctx.needs_input_grad, input_grads):
                if not need or gi is None:
                    continue
                idata = inp.data
                if on_arrays:
                    if type(gi) is not np.ndarray:
                        gi = _as_array(gi, ctx, inp)
                    gshape, gdtype = gi.shape, gi.dtype
                else:
                    if type(gi) is not Tensor:
                        gi = _as_gradient(gi, ctx, inp)
                    gshape, gdtype = gi.data.shape, gi.data.dtype
                if gshape != idata.shape:
                    gi = unbroadcast(gi, idata.shape, type(ctx).__name__)
                if gdtype is not idata.dtype and gdtype != idata.dtype:  # `is`: the usual, quick answer
                    gi = gi.astype(idata.dtype)  # the gradient of an input has its dtype
                prev = grads.get(inp)
                if prev is not None:
                    # a sum is a fresh array (or a recorded op): gi or prev may be shared with another input
                    grads[inp] = _add(prev, gi)
                    continue
                grads[inp] = gi  # the first gradient to reach inp: visit it later
                inp_ctx = inp._ctx
                if inp_ctx is None:
                    leaves.append(inp)
                else:
                    heappush(pending, (-inp_ctx._seq, inp))
            countdown -= 1
            if not countdown and gc.isenabled():
                gc.disable()
                gc_paused = True
        for t in leaves:
            g = grads.pop(t)
            if wanted is not None:
                if t in wanted:
                    results[t] = Tensor._make(g) if on_arrays else g
            elif not t.requires_grad:
                continue
            elif not on_arrays:
                _accumulate_leaf(t, g, given)
            elif t.grad is None and g.base is None and id(g) not in given and g.flags.writeable:
                # the common case, spelled out: a first gradient, a fresh array of its own
                given.add(id(g))
                t.grad = grad = _new(Tensor)  # Tensor._make(g), inlined: once per parameter and step
                grad.data = g
                grad.grad = grad._ctx = grad.name = None
                grad.requires_grad = False
            else:
                _accumulate_leaf_array(t, g, given)
    finally:
        STATE.grad_enabled = previous_mode
        STATE.anomaly = anomaly
        if gc_paused:
            gc.enable()
    return results


def _add(a: Any, b: Any) -> Any:
    """a + b for two cotangents: Tensors (a recorded op) or ndarrays (kept an ndarray when 0-d)."""
    s = a + b
    return s if isinstance(s, (np.ndarray, Tensor)) else np.asarray(s)


def _call_backward(ctx: Function, out: "Tensor", grad: Any, on_arrays: bool = False) -> tuple[Any, ...]:
    """Run one op's backward; one gradient per input.

    With ``on_arrays`` (a first-order backward) ``grad`` is an ndarray. An op
    whose ``array_backward`` is true then sees ``self.inputs`` and
    ``self.output`` as ndarrays too, for the call only; any other op gets
    Tensors, as always. Its output is at hand for the call only: a Function
    never keeps its output, so there is no reference cycle.
    """
    tensors = ctx.inputs
    if on_arrays and ctx.array_backward:
        # spelled out for the usual one, two and three inputs: this runs once per node
        n = len(tensors)
        if n == 2:
            ctx.inputs = (tensors[0].data, tensors[1].data)
        elif n == 1:
            ctx.inputs = (tensors[0].data,)
        elif n == 3:
            ctx.inputs = (tensors[0].data, tensors[1].data, tensors[2].data)
        else:
            ctx.inputs = tuple([x.data for x in tensors])
        ctx._out = out.data
    else:
        ctx._out = out
        if on_arrays:
            grad = Tensor._make(grad)
    try:
        result = ctx.backward(grad)
    finally:
        ctx._out = None
        ctx.inputs = tensors
    if type(result) is not tuple:
        result = tuple(result) if type(result) is list else (result,)
    if len(result) != len(tensors):
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise RuntimeError(
            f"{type(ctx).__name__}.backward returned {len(result)} gradient(s) "
            f"for {len(tensors)} input(s) of shapes {shapes}: return one per input (None for none)"
        )
    return result


def _as_gradient(g: Any, ctx: Function, inp: "Tensor") -> "Tensor":
    """A gradient that a backward returned as an ndarray or a number, as a Tensor."""
    if isinstance(g, Tensor):  # a subclass such as a Parameter: keep it, it may carry a graph
        return g
    return Tensor._make(_as_array(g, ctx, inp))


def _as_array(g: Any, ctx: Function, inp: "Tensor") -> np.ndarray:
    """A gradient that a backward returned as a Tensor, a numpy scalar or a number, as an ndarray."""
    if isinstance(g, Tensor):
        return g.data
    data = np.asarray(g)
    if data.dtype.kind not in "fiub":
        raise TypeError(
            f"{type(ctx).__name__}.backward returned a {type(g).__name__} (dtype {data.dtype}) as the "
            f"gradient of an input of shape {inp.shape} ({inp.dtype}); expected a Tensor, an ndarray or None"
        )
    return data


def _accumulate_leaf_array(t: "Tensor", g: np.ndarray, given: set[int]) -> None:
    """A first-order gradient reaches a leaf: keep the array when it is a fresh one of its own."""
    if t.grad is not None:
        t.grad = Tensor._make(_add(t.grad.data, g))
        return
    # The same array may reach two leaves (add passes its gradient through), be the
    # caller's own gradient array, or be a read-only broadcast view: give each leaf an
    # array of its own.
    if id(g) in given or g.base is not None or not g.flags.writeable:
        g = np.array(g)
    given.add(id(g))
    t.grad = Tensor._make(g)


def _accumulate_leaf(t: "Tensor", g: "Tensor", given: set[int]) -> None:
    """A gradient under create_graph reaches a leaf: it stays a differentiable Tensor."""
    if t.grad is not None:
        t.grad = t.grad + g
        return
    data = g.data
    # As for arrays; the copy is a recorded op (a cast to the same dtype), so the
    # gradient stays differentiable.
    if id(data) in given or data.base is not None or not data.flags.writeable:
        g = g.astype(g.dtype)
    given.add(id(g.data))
    t.grad = g


_ONES: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _ones_like(a: np.ndarray) -> np.ndarray:
    """A fresh array of ones shaped like ``a``: a copy of a cached one (np.ones takes five times as long)."""
    key = (a.shape, a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones(a.shape, dtype=a.dtype)
    return ones.copy()


def _root_gradient(root: "Tensor", gradient: Any, where: str) -> "Tensor":
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {root.shape}; backward() without a gradient "
                "works only for a single-element output. Pass gradient= (same shape as the "
                "output), or reduce it first (e.g. .sum())."
            )
        return Tensor._make(_ones_like(root.data))
    if type(gradient) is np.ndarray and gradient.shape == root.data.shape:
        # the common case: no copy here; _run_backward never lets a leaf keep it
        same = gradient.dtype == root.data.dtype
        return Tensor._make(gradient if same else gradient.astype(root.data.dtype))
    g = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient), dtype=root.dtype)
    if g.shape != root.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {g.shape} ({g.dtype}) but the output has shape "
            f"{root.shape} ({root.dtype}); they must match"
        )
    if g.data.dtype != root.data.dtype:
        g = Tensor._make(g.data.astype(root.data.dtype))
    return g if g.requires_grad else Tensor._make(g.data)


def backward(
    tensor: "Tensor",
    gradient: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {tensor.shape}) does not require grad and has no "
            "graph. Create the inputs with requires_grad=True (and not under no_grad())."
        )
    g = _root_gradient(tensor, gradient, "backward")
    _run_backward((tensor,), (g,), retain_graph or create_graph, create_graph)


def grad(
    outputs: Union["Tensor", Sequence["Tensor"]],
    inputs: Union["Tensor", Sequence["Tensor"]],
    grad_outputs: Any = None,
    retain_graph: Optional[bool] = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Optional["Tensor"], ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into .grad).

    ``grad_outputs`` weights each output (the vector in a vector-Jacobian
    product). With ``create_graph=True`` the result is itself differentiable.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outs: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outs = [grad_outputs]
    else:
        grad_outs = list(grad_outputs)
    if len(grad_outs) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(grad_outs)} grad_outputs")
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, root_grads = [], []
    for i, (o, go) in enumerate(zip(outs, grad_outs)):
        if not o.requires_grad:
            continue
        roots.append(o)
        root_grads.append(_root_gradient(o, go, f"grad (output {i})"))
    if not roots and not allow_unused:
        shapes = ", ".join(str(o.shape) for o in outs)
        raise RuntimeError(
            f"grad: no output (shapes {shapes}) requires grad, so none depends on the inputs. "
            "Was it computed under no_grad(), from tensors that do not require grad, or by a "
            "backward that returned ndarrays (no second derivative)?"
        )
    wanted = set(ins)
    keep = create_graph if retain_graph is None else retain_graph
    found = _run_backward(roots, root_grads, keep, create_graph, wanted) if roots else {}
    result = tuple(found.get(x) for x in ins)
    if not allow_unused:
        for i, (x, r) in enumerate(zip(ins, result)):
            if r is None:
                raise RuntimeError(
                    f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
    return result


# --- anomaly detection --------------------------------------------------------------


class AnomalyError(FloatingPointError):
    """Raised under ``detect_anomaly()`` by the first op that produces a NaN or an Inf."""


class detect_anomaly:
    """Context manager: the first forward or backward producing NaN/Inf raises ``AnomalyError``.

    The error names the op, its input shapes and the line of your code that
    created the op. It costs a stack look-up per op, so use it to debug.
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> "detect_anomaly":
        self._previous.append(STATE.anomaly)
        STATE.anomaly = True
        return self

    def __exit__(self, *exc: object) -> None:
        STATE.anomaly = self._previous.pop()


def _user_frame() -> Optional[str]:
    """'file:line in function: source' of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    import linecache

    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}: {line}"


def _nonfinite(a: np.ndarray) -> bool:
    return a.dtype.kind in "fc" and not np.isfinite(a).all()


def _check_forward(name: str, tensors: Sequence["Tensor"], out: np.ndarray) -> None:
    if not _nonfinite(out):
        return
    shapes = ", ".join(str(t.shape) for t in tensors)
    where = _user_frame() or "unknown location"
    bad_inputs = [i for i, t in enumerate(tensors) if _nonfinite(t.data)]
    kind = "NaN" if np.isnan(out).any() else "Inf"
    if bad_inputs:
        raise AnomalyError(
            f"{name} (inputs of shapes {shapes}) received a non-finite input {bad_inputs[0]} "
            f"that no recorded op produced: check your data. Created at {where}"
        )
    raise AnomalyError(
        f"{name} produced {kind} in its forward from finite inputs of shapes {shapes}. Created at {where}"
    )


def _check_backward(fn: Function, name: str, grads: Iterable[Any]) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g.data if isinstance(g, Tensor) else np.asarray(g)
        if _nonfinite(data):
            shapes = ", ".join(str(t.shape) for t in fn.inputs)
            where = fn._created_at or "an unknown line (it was created outside detect_anomaly())"
            kind = "NaN" if np.isnan(data).any() else "Inf"
            raise AnomalyError(
                f"{name}.backward produced {kind} in the gradient of input {i} "
                f"(inputs of shapes {shapes}). The op was created at {where}"
            )


# tensor.py needs Function, and Function.apply makes Tensors: import it last.
from tinygrad_edu.tensor import Tensor  # noqa: E402

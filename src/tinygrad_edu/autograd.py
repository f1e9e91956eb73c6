"""The reverse-mode engine: ``Function`` (one op: its forward and its backward), the backward
walk, ``grad`` and ``backward``.

The walk, in one sentence: sort the graph so that every tensor comes after the tensors it
was made from, then go through that order backwards, outputs first; each op receives the
gradient of its output, its ``backward`` turns it into one gradient per input (the chain
rule), and gradients that reach the same tensor along several paths are added up.

Ownership is one-way so that graphs die without the cycle collector: a Tensor holds the
Function that made it, a Function holds its input Tensors, and sees its output only while
its backward runs (the engine hands it over).
"""

from __future__ import annotations

import collections
import gc
import inspect
import itertools
import os
import sys
import warnings
import weakref
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, NoReturn, Optional, Sequence, Union

import numpy as np

from tinygrad_edu._config import STATE
from tinygrad_edu.graph import toposort

if TYPE_CHECKING:
    from tinygrad_edu.tensor import Tensor

OPS: dict[str, type["Function"]] = {}
"""Every built-in op, by class name: the table that tests and docs enumerate."""

# With the separator, so that a sibling such as tinygrad_edu_examples/ is not taken for the package.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

NUMERIC_KINDS = "fiub"
"""numpy dtype kinds a Tensor may hold: float, signed and unsigned integer, bool."""


_dtype_of = attrgetter("dtype")

# An op keeps its needs_input_grad; for up to three inputs it keeps one of these shared tuples
# instead of a tuple of its own. The cycle collector runs each time 700 more objects are alive
# than at its last run, so one object fewer per op means fewer runs while a graph is built
# (measured: the 100,000-op chain's forward takes 0.27 s instead of 0.31 s).
_SHARED_FLAGS = {flags: flags for n in (1, 2, 3) for flags in itertools.product((False, True), repeat=n)}


class Function:
    """One differentiable op. Subclass it, write ``forward`` and ``backward``, call ``apply``.

    ``forward(*arrays, **params)`` takes ndarrays (and the op's non-tensor parameters
    such as ``axis``) and returns one ndarray. ``backward(grad)`` takes the gradient of
    the output and returns one gradient per input (``None`` for "no gradient"); it may
    use ``self.inputs``, ``self.output`` and ``self.saved``.

    One backward serves both kinds of backward pass. In an ordinary ``backward()``,
    ``grad``, ``self.inputs`` and ``self.output`` are ndarrays: plain numpy, nothing
    recorded. Under ``create_graph=True`` they are Tensors and every operation of the
    backward is recorded, so the gradient can be differentiated again. A backward is
    therefore written with what ndarrays and Tensors share: arithmetic, ``@``, ``.T``,
    ``.sum``, ``.reshape``, indexing, and ``run(Op, ...)`` to call another op.
    """

    promotes = False
    """True for arithmetic ops: integer inputs beside a float one take its dtype (``promote``).
    An op that takes integer inputs as indices or labels keeps the default, False."""

    float_inputs = False
    """True for a one-input op defined on real numbers (exp, log, tanh, softmax, ...): an integer
    or bool input is converted to the default float dtype first, as PyTorch does
    (``torch.exp`` of an int64 tensor is float32; numpy's would be float64, or float16 for bool)."""

    # Defaults for an op that was run but not recorded; apply and backward set the rest.
    saved: tuple = ()
    freed = False
    grad_output: Optional[np.ndarray] = None
    """The gradient that reached this op's output in the last backward through it."""
    grad_walk = 0
    """The number of that backward (each walk gets the next; 0: none yet). With ``started_walk``
    the pictures tell a gradient the last backward from this output wrote from one that another
    loss's backward, passing through, left here."""
    started_walk = 0
    """The number of the last backward that started from this op's output alone and finished
    (0: none; a backward that fails, on a freed graph say, leaves it as it was)."""
    _out: Any = None
    _created_at: Optional[str] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _check_op_class(cls)
        if cls.__module__.startswith("tinygrad_edu.") and not cls.__name__.startswith("_"):
            OPS[cls.__name__] = cls

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """An op is run with ``Op.apply(x, ...)``, which records it; ``Op(x)`` would not."""
        if args or kwargs:
            raise TypeError(_call_with_apply(type(self).__name__))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_call_with_apply(type(self).__name__))

    # -- to be written by each op -------------------------------------------------
    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__}.forward is not written")

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.backward is not written")

    # -- helpers for op authors -----------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep constants (masks, indices, shapes) for ``backward``; read them as ``self.saved``.

        Do not save input or output arrays here: use ``self.inputs`` and
        ``self.output`` so that second derivatives see them as graph nodes.
        """
        self.saved = values

    @property
    def saved_tensors(self) -> tuple:
        """PyTorch's name for ``self.saved``: what ``save_for_backward`` kept."""
        return self.saved

    @saved_tensors.setter
    def saved_tensors(self, values: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__}: self.saved_tensors is read-only, as in PyTorch; keep values for "
            "backward with self.save_for_backward(x, ...) and read them as self.saved"
        )

    @property
    def output(self) -> Any:
        """The output of this op (an ndarray or a Tensor, like ``grad``), inside ``backward``.

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
            if not isinstance(x, Tensor):  # numbers and arrays become constant Tensors
                inputs = tuple([x if isinstance(x, Tensor) else Tensor(x) for x in inputs])
                break
        # The inputs' arrays and which of them need a gradient, spelled out for the one, two or
        # three inputs of every built-in op: in Python 3.11 a comprehension is a function call.
        # Measured with benchmarks/count_instructions.py: the (2, 2) mul forward takes 17,900
        # instructions, against 23,600 with the general lines below for every op.
        n = len(inputs)
        if n == 2:
            a, b = inputs
            arrays, needs_grad = (a.data, b.data), (a.requires_grad, b.requires_grad)
            mixed = a.data.dtype is not b.data.dtype and a.data.dtype != b.data.dtype  # (`is`: quicker)
        elif n == 1:
            arrays, needs_grad = (inputs[0].data,), (inputs[0].requires_grad,)
            mixed = cls.float_inputs and arrays[0].dtype.kind != "f"  # exp of an integer is a float
        elif n == 3:
            a, b, c = inputs
            arrays, needs_grad = (a.data, b.data, c.data), (a.requires_grad, b.requires_grad, c.requires_grad)
            mixed = a.data.dtype != b.data.dtype or b.data.dtype != c.data.dtype
        else:
            arrays = tuple([t.data for t in inputs])
            needs_grad = tuple([t.requires_grad for t in inputs])
            mixed = len(set(map(_dtype_of, arrays))) > 1
        if mixed and (cls.promotes or cls.float_inputs):
            inputs, arrays = promote(inputs, arrays, cls.__name__, cls.float_inputs)
        fn = object.__new__(cls)
        try:
            data = fn.forward(*arrays, **params) if params else fn.forward(*arrays)
        except (ValueError, IndexError, TypeError, AttributeError) as exc:
            _raise_instead(_op_error(cls, inputs, exc), exc)
        if type(data) is not np.ndarray:  # numpy's 0-d scalars, or Python numbers and lists
            data = _result_array(data, arrays, cls.__name__)
        out = _wrap(data)
        if data.dtype.kind != "f":  # an integer or bool result has no gradient, as in PyTorch
            _check_numeric(cls.__name__, inputs, data)
        elif True in needs_grad and STATE.grad_enabled:  # record: out was made by fn from the inputs
            fn.inputs, fn.recorded_at = inputs, _CHANGES.last
            fn.needs_input_grad = _SHARED_FLAGS.get(needs_grad, needs_grad)
            out._ctx, out.requires_grad = fn, True
        if STATE.anomaly:
            _check_forward(cls.__name__, inputs, out.data)
            fn._created_at = _user_frame()
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _check_op_class(cls: type) -> None:
    """Refuse, when the class is defined, the two ways of writing an op that cannot work here:
    an ``__init__`` (``apply`` makes the op without calling it) and PyTorch's static
    ``forward(ctx, x)`` (here the op itself is the context: ``forward(self, x)``)."""
    name = cls.__name__
    if "__init__" in cls.__dict__:
        raise TypeError(
            f"{name}: a Function has no __init__ of its own (apply makes the op without calling it). "
            f"Pass settings to apply as keywords, {name}.apply(x, k=2.0), and take them in forward: "
            "def forward(self, x, k): ..., keeping what backward needs with self.save_for_backward(k)"
        )
    for method in ("forward", "backward"):
        if isinstance(cls.__dict__.get(method), (staticmethod, classmethod)):
            raise TypeError(
                f"{name}.{method} is a {type(cls.__dict__[method]).__name__}, as in PyTorch's "
                f"torch.autograd.Function; here it is an ordinary method and the op itself is the "
                f"context: def {method}(self, ...), with self.save_for_backward and self.saved "
                "in place of ctx.save_for_backward and ctx.saved_tensors"
            )


def _call_with_apply(name: str) -> str:
    return (
        f"{name}: an op is run with {name}.apply(x, ...), which records it for backward; "
        f"{name}(x) and {name}()(x) do not"
    )


def _forward_misuse_error(name: str, exc: AttributeError) -> Exception:
    """A forward called a Tensor method on one of its arrays: say that forward gets ndarrays."""
    if not isinstance(getattr(exc, "obj", None), np.ndarray) or not hasattr(Tensor, exc.name):
        return exc  # (a typo, x.rehsape: numpy's own message says it best)
    return AttributeError(
        f"{name}.forward called .{exc.name}() on an ndarray: forward gets the inputs' arrays "
        "(ndarrays) and returns one, so it computes with numpy (np.tanh(x), 1 / (1 + np.exp(-x))); "
        "Tensor methods belong in the code that calls the op"
    )


class _Changes:
    """Numbers the in-place changes made through the library, 1, 2, 3, ... (see mark_modified)."""

    KEPT = 4096
    """How many of the latest changes remember their tensors (by weak reference), to find other
    tensors on their memory."""

    ALIVE = 32
    """How many of the latest changes keep their tensors alive: ``w.detach().zero_()`` changes a
    tensor that is gone at once, yet its change must still be found."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.last = 0  # the number of the latest change
        self.recent: collections.deque = collections.deque(maxlen=self.KEPT)  # (number, weak refs)
        self.alive: collections.deque = collections.deque(maxlen=self.ALIVE)  # the tensors themselves


_CHANGES = _Changes()


def mark_modified(*tensors: "Tensor") -> None:
    """Say that these tensors' arrays were just changed in place (an optimizer step, a
    ``load_state_dict``): a backward through an op recorded before the change then raises
    instead of computing gradients from the new values.

    Each call gets the next number, kept as the tensors' ``_version``; an op keeps the
    number of the latest change when it is recorded (``recorded_at``). An input whose
    ``_version`` is larger was changed after the op used it. One number per op, taken
    without looking at the inputs, so recording costs nothing extra; a backward looks at
    them only when some change came after the op (``recorded_at < _CHANGES.last``).
    """
    number = _CHANGES.last = next(_CHANGES.counter)
    for t in tensors:
        t._version = number
    _CHANGES.recent.append((number, tuple(map(weakref.ref, tensors))))  # for p.detach(), views of p
    _CHANGES.alive.append(tensors)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
"""PyTorch's dtype categories: bool < integer < float."""


def result_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    """The dtype PyTorch gives an op on these arrays (numpy's answer differs, and between numpy 1
    and 2, where a 0-d array or an integer meets a float).

    The highest category (bool < integer < float) decides, and within it numpy's promotion; a
    0-d array (``t.mean()``, a numpy scalar) counts only when its category is higher than every
    array with dimensions: ``float32_x * float64_t.mean()`` stays float32, ``int_x * float64_t.mean()``
    is float64, and ``int64_x + float32_y`` is float32.
    """
    group = [a.dtype for a in arrays if a.ndim] or [a.dtype for a in arrays]
    top = max(_CATEGORY[d.kind] for d in group)
    above = [a.dtype for a in arrays if not a.ndim and _CATEGORY[a.dtype.kind] > top]
    if above:
        group, top = above, max(_CATEGORY[d.kind] for d in above)
    return np.result_type(*[d for d in group if _CATEGORY[d.kind] == top])


def promote(
    inputs: tuple["Tensor", ...],
    arrays: tuple[np.ndarray, ...],
    op_name: str = "op",
    to_float: bool = False,
) -> tuple[tuple["Tensor", ...], tuple[np.ndarray, ...]]:
    """The inputs converted where numpy's rule is not PyTorch's (``result_dtype``), so that the op
    computes in PyTorch's dtype: integer and bool inputs beside a float (numpy: int64 with
    float32 gives float64), and 0-d inputs of another dtype. Arrays with dimensions of the result's
    category are left to numpy, which agrees (float32 with float64 gives float64). With
    ``to_float`` (an op defined on real numbers) integers alone become the default float.

    A converted float input that requires grad is converted by a recorded ``astype``, so its
    gradient flows back in its own dtype; an integer or bool input cannot require grad.
    """
    if any(a.dtype.kind not in _CATEGORY for a in arrays):
        return inputs, arrays  # (complex and the like: refused by the op, naming them)
    if to_float and all(a.dtype.kind != "f" for a in arrays):
        target = np.dtype(STATE.default_dtype)
    else:
        target = result_dtype(arrays)
    rank = _CATEGORY[target.kind]
    converted = tuple(
        _converted(t, target, op_name)
        if _CATEGORY[a.dtype.kind] < rank or (a.ndim == 0 and a.dtype != target) else t
        for t, a in zip(inputs, arrays)
    )
    return converted, tuple([t.data for t in converted])


def _converted(t: "Tensor", dtype: np.dtype, op_name: str) -> "Tensor":
    """A copy of an input in the op's dtype, with its name (for the pictures).

    A float input that requires grad is converted by ``astype`` (recorded: its gradient is cast
    back). An integer or bool copy is a constant: an integer tensor has no gradient. One whose
    ``requires_grad`` was set by hand (the constructor and ``requires_grad_`` refuse it) is refused
    here, instead of silently getting no gradient. A 0-d value that the narrower dtype cannot hold
    (int64 300 into int8, 1e5 into float16) is refused, where numpy would wrap it or give inf."""
    if t.requires_grad and t.data.dtype.kind != "f":
        raise TypeError(
            f"{op_name}: an input (shape {t.shape}, {t.dtype}) has requires_grad=True, but an "
            f"integer or bool tensor cannot require grad; make it a float tensor first, e.g. "
            f"Tensor(x.numpy().astype(np.float32), requires_grad=True)"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        data = t.data.astype(dtype)
    if data.ndim == 0 and t.data.dtype.kind != "b" and not _same_value(t.data, data):
        raise OverflowError(
            f"{op_name}: the 0-d operand {t.data.item()!r} ({t.dtype}) does not fit in {dtype}, the dtype "
            f"of the other operands; convert them first, e.g. x.astype(np.{t.dtype})"
        )
    if t.requires_grad:
        return t.astype(dtype)  # (the conversion again, recorded)
    copy = _wrap(data)
    copy.name = t.name
    return copy


def _same_value(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether a 0-d value survived a conversion: no wrap-around, and no finite float became inf."""
    if after.dtype.kind in "iu":  # (from a narrower or wider integer: a float is never made an integer)
        return int(before) == int(after)
    return bool(np.isfinite(after) or not np.isfinite(before))


def _result_array(data: Any, arrays: tuple[np.ndarray, ...], op_name: str = "op") -> np.ndarray:
    """What a forward returned, as an ndarray. numpy gives scalars for 0-d arithmetic
    (``np.float32(2.0)``, its dtype kept); Python numbers or lists of floats take the inputs'
    float dtype (the default float without one), as a Python number beside a tensor does:
    ``float(x.sum())`` of a float32 x stays float32 instead of becoming float64."""
    if isinstance(data, Tensor):  # a forward computing on Tensors: one input's .data was set to one,
        _check_arrays(arrays, op_name)
        raise TypeError(  # or a Tensor was passed to apply as a keyword, which forward gets as it is
            f"{op_name}.forward returned a Tensor: forward computes on ndarrays and returns one, not a "
            f"Tensor (made with Tensor(...), .apply or a Tensor method, or from a Tensor given to apply "
            f"as a keyword, {op_name}.apply(x, b=y), which reaches forward as it is: Tensors go in "
            f"positionally, {op_name}.apply(x, y), and keywords are for settings like axis)"
        )
    if data is None:
        raise TypeError(f"{op_name}.forward returned None: does it forget to return its result?")
    if isinstance(data, (list, tuple)) and any(isinstance(d, (np.ndarray, Tensor)) for d in data):
        raise TypeError(
            f"{op_name}.forward returned a {type(data).__name__} of {len(data)} arrays; a forward returns "
            "one ndarray (an op with several results is several ops, or one that stacks them: np.stack)"
        )
    array = np.asarray(data)
    if isinstance(data, np.generic) or array.dtype.kind != "f":
        return array
    floats = [a.dtype for a in arrays if a.dtype.kind == "f"]
    return array.astype(np.result_type(*floats) if floats else STATE.default_dtype, copy=False)


def _check_arrays(arrays: tuple[Any, ...], op_name: str) -> None:
    """Every input's ``.data`` must be an ndarray; a Tensor there comes from ``p.data = p.data -
    lr * p.grad`` (an ndarray minus a Tensor is a Tensor), and would break the graph silently."""
    for i, a in enumerate(arrays):
        if not isinstance(a, np.ndarray):
            raise TypeError(
                f"{op_name}: input {i} (shape {np.shape(a)}) has a {type(a).__name__} as its .data, "
                "where an ndarray belongs. Was it set by hand, e.g. p.data = p.data - lr * p.grad? "
                "Update a parameter with `with tg.no_grad(): p -= lr * p.grad`, or assign an "
                "array: p.data = p.data - lr * p.grad.data"
            )


def _check_numeric(name: str, inputs: Sequence["Tensor"], data: np.ndarray) -> None:
    """A forward returned strings, objects or complex numbers: a Tensor holds none of them."""
    if data.dtype.kind in NUMERIC_KINDS:
        return
    shapes = ", ".join(f"shape {t.shape} {t.dtype}" for t in inputs)
    raise TypeError(
        f"{name}.forward returned an array of dtype {data.dtype} for inputs ({shapes}); "
        "expected a float, integer or bool ndarray"
    )


def run(op: type[Function], *operands: Any, **params: Any) -> Any:
    """Call another op from a backward: recorded (``op.apply``) when an operand is a Tensor,
    its ``forward`` alone on ndarrays. A number takes the dtype of the first Tensor."""
    first = next((x for x in operands if isinstance(x, Tensor)), None)
    if first is not None:
        return op.apply(*[first._operand(x) for x in operands], **params)
    fn = op.__new__(op)
    return fn.forward(*operands, **params) if params else fn.forward(*operands)


class OpError(ValueError):
    """An op was given inputs it cannot work with (shapes, dtypes, indices)."""


class OpIndexError(OpError, IndexError):
    """An index or an axis out of range: an ``OpError`` that is also the ``IndexError`` numpy and
    PyTorch raise, so ``except IndexError`` catches it."""


class OpTypeError(OpError, TypeError):
    """An argument of the wrong kind (a str for a number): an ``OpError`` that is also a ``TypeError``."""


def _raise_instead(error: Exception, exc: Exception) -> NoReturn:
    """Raise ``error``, caused by ``exc``; or ``exc`` as it was, when it says it best (``error is
    exc``: ``raise exc from exc`` would make it its own cause, and its frames print twice)."""
    if error is exc:
        raise exc
    raise error from exc


def _op_error(op: type[Function], tensors: Sequence["Tensor"], exc: Exception) -> Exception:
    """The op's name and its inputs' shapes and dtypes, in front of numpy's reason; the error
    is an ``OpError`` of the kind numpy raised (an index error stays an ``IndexError``)."""
    name = op.__name__
    if isinstance(exc, OpError):
        return exc
    if isinstance(exc, AttributeError):  # (a Tensor method called on an ndarray, say)
        return _forward_misuse_error(name, exc)
    _check_arrays(tuple([t.data for t in tensors]), name)  # numpy's reason for a Tensor there is no help
    shapes = ", ".join(f"shape {t.shape} {t.dtype}" for t in tensors)
    kind = OpIndexError if isinstance(exc, IndexError) else OpError
    kind = OpTypeError if isinstance(exc, TypeError) else kind
    return kind(f"{name}: cannot apply to inputs ({shapes}): {exc}{_option_by_position(op, tensors)}")


def _option_by_position(op: type[Function], tensors: Sequence["Tensor"]) -> str:
    """A hint for an option (an axis, a slope) given to ``apply`` by position: apply makes every
    positional argument a tensor input, so it reaches forward as a 0-d array, and backward is asked
    for its gradient. Empty when no input after the first is a constant 0-d tensor, and for the
    built-in ops (the library gives their options by keyword, and a 0-d operand is no mistake)."""
    constants = [i for i, t in enumerate(tensors) if i and t.data.ndim == 0 and not t.requires_grad]
    if not constants or op.__module__.startswith("tinygrad_edu."):
        return ""
    i = constants[0]
    try:
        params = list(inspect.signature(op.forward).parameters.values())[1:]  # (without self)
    except (TypeError, ValueError):
        params = []
    positional = i < len(params) and params[i].kind is params[i].POSITIONAL_OR_KEYWORD
    named = params[i].name if positional else "name"
    value = tensors[i].data.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # (a Python int became the default float: show what was written)
    return (
        f". Input {i} is a constant {value!r}: if it is an option ({named}) rather than an input "
        f"to differentiate, give it by keyword, {op.__name__}.apply(x, {named}={value!r}): apply makes "
        "every positional argument a tensor input, so forward gets it as a 0-d array and backward "
        "must return a gradient for it"
    )


# --- broadcasting ---------------------------------------------------------------


def unbroadcast(grad: Any, shape: tuple[int, ...], op_name: str = "op") -> Any:
    """Sum ``grad`` (an ndarray or a Tensor) down to ``shape``: the adjoint of broadcasting.

    Called only by the engine, once, whenever a gradient's shape differs from
    its input's. A shape that broadcasting could not have produced is a bug in
    the op's backward and raises.
    """
    gshape = grad.shape
    extra = len(gshape) - len(shape)
    if extra < 0 or any(s != 1 and s != g for s, g in zip(shape, gshape[extra:])):
        raise RuntimeError(
            f"{op_name}.backward returned a gradient of shape {gshape} ({grad.dtype}) "
            f"for an input of shape {shape}: it cannot be summed to that shape. Return a gradient of "
            "the input's shape (for a reduction, spread grad back over it: grad * np.ones_like(x))"
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


@dataclass
class BackwardStep:
    """One op's turn in a backward walk, as the ``on_step`` hook of ``run_backward`` sees it."""

    op: Function
    output: "Tensor"
    grad_output: np.ndarray
    """The gradient that reached the op's output."""
    input_grads: tuple[Optional[np.ndarray], ...]
    """What the op sends to each of ``op.inputs``, summed to the input's shape (None: nothing)."""


def run_backward(
    roots: Sequence["Tensor"],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    wanted: Optional[set["Tensor"]] = None,
    on_step: Optional[Callable[[BackwardStep], None]] = None,
) -> dict["Tensor", "Tensor"]:
    """Propagate ``root_grads`` (ndarrays or Tensors, one per root) from ``roots`` to every
    tensor that requires grad.

    Leaves accumulate into ``.grad``, or, with ``wanted``, the gradients of those
    tensors are returned and no ``.grad`` changes. ``on_step`` sees each op's turn,
    in the order of the walk. Gradients are ndarrays, or Tensors under ``create_graph``.

    While the walk runs, ops are recorded only for ``create_graph``, and under
    ``detect_anomaly`` the ops a backward calls are not checked as forwards: the
    gradients they add up to are checked once, as that op's backward. The cycle
    collector is paused: the sort and the walk make no reference cycles, yet each object
    they allocate counts towards collections that scan the whole, still alive, graph (on
    a 100,000-op chain those scans took half the backward's time).
    """
    grads, handed_out = _gradients_of_roots(roots, root_grads, create_graph)
    walk = next(_WALK_NUMBERS)
    grad_was, anomaly = STATE.grad_enabled, STATE.anomaly
    STATE.grad_enabled = create_graph
    if anomaly:
        STATE.anomaly = False
    collecting = gc.isenabled()  # (the caller may have switched it off already)
    gc.disable()
    try:
        order = toposort(roots, _parents)  # every tensor after the tensors it was made from
        found = _walk(order, grads, walk, retain_graph, create_graph, anomaly, wanted, on_step)
    finally:
        STATE.grad_enabled = grad_was
        if anomaly:
            STATE.anomaly = True
        if collecting:
            gc.enable()
    for r in roots:  # (a walk from several roots mixes their gradients: -walk matches no op's)
        if r._ctx is not None:
            r._ctx.started_walk = walk if len(roots) == 1 else -walk
    if wanted is not None:
        found.update((t, grads[t]) for t in wanted if t in grads)  # the leaves among them
        return {t: _as_tensor(g) for t, g in found.items()}
    _accumulate_into_leaves(grads, handed_out)
    return {}


_WALK_NUMBERS = itertools.count(1)


def _walk(
    order: list["Tensor"],
    grads: dict["Tensor", Any],
    walk: int,
    retain_graph: bool,
    create_graph: bool,
    anomaly: bool,
    wanted: Optional[set["Tensor"]],
    on_step: Optional[Callable[[BackwardStep], None]],
) -> dict["Tensor", Any]:
    """The backward pass itself: outputs first, each op turns the gradient of its output into
    one gradient per input (its ``backward``, the chain rule), and the gradients reaching a
    tensor along several paths add up. Leaves keep theirs in ``grads``; returns the gradients
    of the ``wanted`` tensors that are not leaves. ``walk`` is this backward's number."""
    found = {}
    call_backward = _call_backward_checked if anomaly else _call_backward
    for t in reversed(order):  # every tensor before the ones it was made from
        op = t._ctx
        if op is None:  # a leaf: its gradient stays in grads
            continue
        g = grads.pop(t, None)
        if g is None:  # no gradient reaches t (e.g. it was made from data that needs none)
            continue
        if wanted is not None and t in wanted:
            found[t] = g
        input_grads = call_backward(op, t, g, create_graph)  # the chain rule, one op
        for x, gx in zip(op.inputs, input_grads):
            if gx is not None:
                before = grads.get(x)
                grads[x] = gx if before is None else _add(before, gx)  # several paths add up
        op.grad_output = g.data if create_graph else g  # kept for the pictures,
        op.grad_walk = walk  # with the number of the walk that wrote it
        if on_step is not None:
            on_step(BackwardStep(op, t, op.grad_output, tuple(map(_maybe_array, input_grads))))
        if not retain_graph:  # free what only this backward needed
            op.saved, op.freed = (), True
    return found


def _parents(t: "Tensor") -> tuple["Tensor", ...]:
    """The tensors ``t`` was made from: the edges the walk follows (none for a leaf)."""
    return () if t._ctx is None else t._ctx.inputs


def _gradients_of_roots(
    roots: Sequence["Tensor"], root_grads: Sequence[Any], create_graph: bool
) -> tuple[dict, set[int]]:
    """The starting gradients, ndarrays (Tensors under create_graph), a root given twice adding
    up; and the ids of the caller's arrays among them, which no leaf may keep as they are.
    (A root whose graph was freed is caught by the walk, when it reaches the root's op.)"""
    grads: dict[Tensor, Any] = {}
    handed_out = set()
    for i, r in enumerate(roots):
        g = root_grads[i]
        if create_graph:
            g = _as_tensor(g)
            handed_out.add(id(g.data))
        else:
            g = _maybe_array(g)
            handed_out.add(id(g))
        grads[r] = g if r not in grads else _add(grads[r], g)
    return grads, handed_out


def _call_backward(op: Function, out: "Tensor", grad: Any, create_graph: bool) -> list[Any]:
    """Run one op's backward and return one gradient per input, each of the input's shape and
    dtype (None where an input needs none).

    In an ordinary backward the op sees ``self.inputs`` and ``self.output`` as the arrays,
    for the call only; under create_graph as the Tensors.
    """
    if op.freed:
        raise _freed_error(out)
    if op.recorded_at < _CHANGES.last:  # something changed in place since the op was recorded
        _check_versions(op, out)
    tensors = op.inputs
    op._out = out if create_graph else out.data
    if not create_graph:
        op.inputs = _arrays_of(tensors)
    try:
        result = op.backward(grad)
    except (AttributeError, TypeError) as exc:
        _raise_instead(_ndarray_misuse_error(op, exc, create_graph), exc)
    except (ValueError, IndexError) as exc:  # numpy's reason, with the op and the shapes in front
        _raise_instead(_backward_error(op, tensors, grad, exc), exc)
    finally:
        op._out = None
        op.inputs = tensors
    if type(result) is not tuple or len(result) != len(tensors):
        # (a one-input op's backward may return its one gradient as it is, not in a tuple)
        result = (result,) if type(result) is np.ndarray and len(tensors) == 1 else _one_per_input(op, result)
    grads = []
    needs_grad = op.needs_input_grad
    for i, x in enumerate(tensors):
        g = result[i]
        if g is None or not needs_grad[i]:
            g = None
        elif create_graph or type(g) is not np.ndarray or g.shape != x.data.shape or g.dtype != x.data.dtype:
            g = _gradient_for(x, g, op, create_graph)  # (an ndarray of x's shape and dtype needs nothing)
        grads.append(g)
    return grads


def _call_backward_checked(op: Function, out: "Tensor", grad: Any, create_graph: bool) -> list[Any]:
    """``_call_backward`` under detect_anomaly: the gradients it returns are checked for NaN and
    Inf, and the op's grad, inputs and output are read-only during the call, so that a backward
    changing one of them in place is named. Such a change is a silent wrong gradient elsewhere:
    ``x + x`` hands one gradient array to both inputs, a reshape passes a view of it on, and the
    picture of the op before shows it as its output's gradient."""
    arrays = [_maybe_array(grad), out.data] + [x.data for x in op.inputs]
    frozen = [a for a in arrays if a.flags.writeable]
    for a in frozen:
        a.flags.writeable = False
    input_grads: list[Any] = []
    try:
        input_grads = _call_backward(op, out, grad, create_graph)
        _check_backward(op, input_grads)
        return input_grads
    except ValueError as exc:
        if "read-only" not in str(exc):
            raise
        raise _changed_in_place_error(type(op).__name__, exc) from exc
    finally:
        _writeable_again(frozen)
        _views_writeable_again(input_grads, frozen)


def _views_writeable_again(grads: list[Any], frozen: list[np.ndarray]) -> None:
    """Gradients that are views of a frozen array (``grad.reshape(...)``, ``grad.T``) were made
    read-only with it: writeable again, as they are outside detect_anomaly."""
    for g in grads:
        a = _maybe_array(g)
        if a is None or a.flags.writeable or a.base is None:
            continue
        if any(np.may_share_memory(a, f) for f in frozen):
            try:
                a.flags.writeable = True
            except ValueError:  # its own base is read-only (a constant): it stays so
                pass


def _changed_in_place_error(op_name: str, exc: Exception) -> RuntimeError:
    """A backward wrote into its grad, an input or its output, which numpy refused as read-only."""
    return RuntimeError(
        f"{op_name}.backward changed its grad, an input or its output in place ({exc}). The "
        "gradient an op receives may be the one another input gets too (x + x hands one array to "
        "both), so changing it changes theirs: compute a new array instead, e.g. grad * (x > 0) "
        "rather than grad[x <= 0] = 0"
    )


def _writeable_again(arrays: list[np.ndarray]) -> None:
    """Make the arrays writeable again. A view can only be once its base is: a view refused in
    the first pass waits for its base to be done."""
    refused = []
    for a in reversed(arrays):  # (made read-only in this order: bases usually come later)
        try:
            a.flags.writeable = True
        except ValueError:
            refused.append(a)
    for a in refused:
        a.flags.writeable = True


def _arrays_of(tensors: tuple["Tensor", ...]) -> tuple[np.ndarray, ...]:
    """The tensors' arrays. Spelled out for the one, two or three inputs of the built-in ops: in
    Python 3.11 a comprehension is a function call (measured: a (2, 2) mul backward 2,000
    instructions less)."""
    n = len(tensors)
    if n == 2:
        return tensors[0].data, tensors[1].data
    if n == 1:
        return (tensors[0].data,)
    if n == 3:
        return tensors[0].data, tensors[1].data, tensors[2].data
    return tuple([x.data for x in tensors])


def _one_per_input(op: Function, result: Any) -> tuple[Any, ...]:
    """A backward's result as a tuple with one entry per input, or a clear error. A bare None for an
    input that requires grad warns: it is what a forgotten ``return`` gives."""
    if result is None and True in op.needs_input_grad:
        warnings.warn(
            f"{type(op).__name__}.backward returned None, so no gradient reaches its input (shape "
            f"{op.inputs[0].shape}), which requires grad: does it forget to return its result? (To say "
            "so on purpose, return (None,))",
            stacklevel=2,
        )
    if type(result) is not tuple:
        result = tuple(result) if type(result) is list else (result,)
    if len(result) != len(op.inputs):
        shapes = ", ".join(str(t.shape) for t in op.inputs)
        hint = _option_by_position(type(op), op.inputs) if len(result) < len(op.inputs) else ""
        raise RuntimeError(
            f"{type(op).__name__}.backward returned {len(result)} gradient(s) "
            f"for {len(op.inputs)} input(s) of shapes {shapes}: return one per input (None for none){hint}"
        )
    return result


def _gradient_for(x: "Tensor", g: Any, op: Function, create_graph: bool) -> Any:
    """What a backward returned for input ``x``, as the engine keeps it: an ndarray (a Tensor
    under create_graph) of x's shape, broadcast dimensions summed (once, here, for every
    op), and of x's dtype."""
    if create_graph:
        g = _as_tensor(g, op, x)
    elif type(g) is not np.ndarray:
        g = _as_array(g, op, x)
    if g.shape != x.data.shape:
        g = unbroadcast(g, x.data.shape, type(op).__name__)
    if g.dtype != x.data.dtype:
        g = g.astype(x.data.dtype)  # the gradient of an input has the input's dtype
    return g


def _as_array(g: Any, op: Function, x: "Tensor") -> np.ndarray:
    """A gradient that a backward returned (Tensor, numpy scalar, number, ndarray) as an ndarray."""
    data = g.data if isinstance(g, Tensor) else np.asarray(g)
    if data.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"{type(op).__name__}.backward returned a {type(g).__name__} (dtype {data.dtype}) as the "
            f"gradient of an input of shape {x.shape} ({x.dtype}); expected an ndarray, a Tensor or None"
        )
    return data


def _as_tensor(g: Any, op: Optional[Function] = None, x: Optional["Tensor"] = None) -> "Tensor":
    """A gradient as a Tensor: kept when it is one (it may carry a graph), else wrapped."""
    if isinstance(g, Tensor):
        return g
    return _wrap(g if op is None else _as_array(g, op, x))


def _add(a: Any, b: Any) -> Any:
    """a + b for two gradients (ndarrays, or Tensors: a recorded op); a 0-d sum stays an ndarray."""
    s = a + b
    return s if isinstance(s, (np.ndarray, Tensor)) else np.asarray(s)


def _maybe_array(g: Any) -> Optional[np.ndarray]:
    """A gradient as an ndarray for the on_step hook (None stays None)."""
    return g.data if isinstance(g, Tensor) else g


def _backward_error(op: Function, inputs: Sequence["Tensor"], grad: Any, exc: Exception) -> Exception:
    """An error inside a backward (``grad @ b`` where ``grad @ b.T`` belongs), as an ``OpError`` of
    numpy's kind, naming the op, the gradient and the inputs it was working with."""
    if type(exc) not in (ValueError, IndexError) or "read-only" in str(exc):  # (numpy's plain errors
        return exc  # only: a subclass keeps its type; a read-only write is named by detect_anomaly)
    shapes = ", ".join(f"shape {t.shape} {t.dtype}" for t in inputs)
    kind = OpIndexError if isinstance(exc, IndexError) else OpError
    name = type(op).__name__
    return kind(f"{name}.backward failed with grad of shape {np.shape(grad)} for inputs ({shapes}): {exc}")


def _ndarray_misuse_error(op: Function, exc: Exception, create_graph: bool) -> Exception:
    """A backward treated an ndarray as a Tensor, or a Tensor as an ndarray: say so, and what to
    write instead."""
    name = type(op).__name__
    if create_graph and isinstance(exc, TypeError) and "does not support ufuncs" in str(exc):
        return TypeError(
            f"{name}.backward called a numpy function on a Tensor: under create_graph=True (tg.grad(..., "
            "create_graph=True), gradgradcheck) grad, self.inputs and self.output are Tensors, so the "
            "backward is recorded and can be differentiated again. Write it with what ndarrays and "
            "Tensors share (arithmetic, @, .T, .sum, .reshape, indexing; run(Tanh, x) for another op), "
            f"or leave create_graph out: a backward on ndarrays has no second derivative ({exc})"
        )
    if not create_graph and isinstance(exc, TypeError) and "memoryview" in str(exc):
        return TypeError(
            f"{name}.backward used .data on an ndarray (numpy's .data is the raw memory): in an "
            "ordinary backward, grad, self.inputs and self.output are ndarrays already; write "
            f"grad * x, not grad.data * x.data ({exc})"
        )
    if create_graph and _ndarray_only_method(exc):
        return AttributeError(
            f"{name}.backward called .{exc.name}() on a Tensor: under create_graph=True (tg.grad(..., "
            "create_graph=True), gradgradcheck) grad, self.inputs and self.output are Tensors, and "
            f".{exc.name}() is an ndarray method that Tensors do not have. Write the backward with what "
            "ndarrays and Tensors share: arithmetic, @, .T, .sum, .reshape, indexing, .copy(), "
            "comparisons (grad * (x > 0) for a mask)"
        )
    if create_graph or not isinstance(getattr(exc, "obj", None), np.ndarray) or not hasattr(Tensor, exc.name):
        return exc  # (a typo, grad.rehsape: numpy's own message says it best)
    return AttributeError(
        f"{name}.backward called .{exc.name}() on an ndarray. In an ordinary backward, grad, "
        "self.inputs and self.output are ndarrays (Tensors only under create_graph=True), so a "
        "backward uses what both have: arithmetic, @, .T, .sum, .reshape, indexing; call another "
        "op with tinygrad_edu.autograd.run, e.g. run(Sigmoid, x) instead of x.sigmoid()"
    )


def _ndarray_only_method(exc: Exception) -> bool:
    """An AttributeError for a method that ndarrays have and Tensors do not (``grad.fill(0)``)."""
    return (
        isinstance(exc, AttributeError) and isinstance(getattr(exc, "obj", None), Tensor)
        and hasattr(np.ndarray, exc.name) and not hasattr(Tensor, exc.name)
    )


def _check_versions(op: Function, out: "Tensor") -> None:
    """Raise if an input of the op was changed in place after the op was recorded: the input
    itself, or a tensor whose memory it shares (``p.detach()``, a view of ``p`` made without
    recording, such as ``frozen.weight.T``), as PyTorch's shared version counters catch. The
    output too, which a backward may use (exp's is its derivative): through ``y.detach()``."""
    for x in op.inputs:
        if x._version > op.recorded_at or _changed_under(x, op.recorded_at):
            raise _modified_error(op, x)
    if _changed_under(out, op.recorded_at):
        raise RuntimeError(
            f"{type(op).__name__}.backward may need its output (shape {out.shape}, {out.dtype}) as the "
            "forward made it, but a tensor sharing its memory (e.g. y.detach()) was modified in place "
            "since. Change a copy instead (y.detach().clone()), or call backward() first."
        )


def _changed_under(x: "Tensor", since: int) -> bool:
    """Whether one of the latest changes after ``since`` wrote into memory that x's array shares."""
    for number, refs in reversed(_CHANGES.recent):
        if number <= since:
            return False
        for ref in refs:
            t = ref()  # (None once that tensor is gone)
            if t is not None and t is not x and np.shares_memory(x.data, t.data):
                return True
    return False


def _modified_error(op: Function, x: "Tensor") -> RuntimeError:
    """An input changed in place between the forward and this backward (PyTorch refuses too)."""
    i = next(i for i, t in enumerate(op.inputs) if t is x)
    return RuntimeError(
        f"{type(op).__name__}.backward needs input {i} (shape {x.shape}, {x.dtype}) as the "
        "forward saw it, but it was modified in place since, e.g. by optimizer.step() or "
        "load_state_dict(). Call backward() before changing the tensors the graph was "
        "computed from."
    )


def _freed_error(t: "Tensor") -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the graph of {type(t._ctx).__name__} "
        "was freed by the first backward. Pass retain_graph=True to the first "
        "backward (or grad) if you need to go through it again."
    )


def _accumulate_into_leaves(grads: dict["Tensor", Any], handed_out: set[int]) -> None:
    """Add each leaf's gradient into its ``.grad``, once the whole walk has succeeded.

    A leaf keeps the array itself when nothing else can see it; an array the caller
    passed in, a view, or one array reaching two leaves (``a + b`` passes its gradient
    to both) is copied first: ``handed_out`` holds the ids of the arrays others can see.

    It reads and writes ``_grad``, the attribute behind the ``grad`` property: the gradients the
    walk made have the leaf's shape and dtype already, which is what assigning ``.grad`` checks.
    """
    for t in grads:  # first, so that a bad .grad leaves every leaf as it was
        if t._grad is not None and t.requires_grad:
            _check_grad_attribute(t)
    for t, g in grads.items():
        if not t.requires_grad:
            continue
        if isinstance(g, Tensor):  # under create_graph: stays differentiable
            if t._grad is not None:
                t._grad = t._grad + g
                continue
            if g.data.base is not None or id(g.data) in handed_out or not g.data.flags.writeable:
                g = g.astype(g.dtype)  # a copy, recorded
            handed_out.add(id(g.data))
            t._grad = g
        elif t._grad is not None:
            _add_into(t, g)
        else:
            if g.base is not None or id(g) in handed_out or not g.flags.writeable:
                g = g.copy()
            handed_out.add(id(g))
            t._grad = _wrap(g)


def _check_grad_attribute(leaf: "Tensor") -> None:
    """A ``.grad`` set by hand must be a Tensor of the leaf's shape, for the gradient to add into
    (PyTorch refuses anything else when it is assigned; here the next backward says so)."""
    old = leaf.grad
    if not isinstance(old, Tensor):
        raise TypeError(
            f"backward: the .grad of a leaf (shape {leaf.shape}, {leaf.dtype}) is of type "
            f"{type(old).__name__}, so the new gradient cannot be added to it; expected a Tensor or None "
            "(set leaf.grad = None, or Tensor(array))"
        )
    if old.shape != leaf.shape:
        raise RuntimeError(
            f"backward: the .grad of a leaf of shape {leaf.shape} ({leaf.dtype}) has shape {old.shape} "
            f"({old.dtype}), so the gradient would be broadcast into the wrong shape; expected .grad "
            "of the leaf's shape, or None"
        )


def _add_into(leaf: "Tensor", g: np.ndarray) -> None:
    """leaf.grad += g, in place as in PyTorch (so ``saved = x.grad`` sees the sum too); a new
    array when the old one cannot take it (read-only, or of another shape or dtype)."""
    old = leaf.grad.data
    if old.flags.writeable and old.shape == g.shape and old.dtype == g.dtype:
        old += g
    else:
        leaf.grad = _wrap(_add(old, g))


_ONES: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _ones_like(a: np.ndarray) -> np.ndarray:
    """A fresh array of ones shaped like ``a``: a copy of a cached one (np.ones takes five times as long)."""
    key = (a.shape, a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        ones = _ONES[key] = np.ones(a.shape, dtype=a.dtype)
    return ones.copy()


def _root_gradient(root: "Tensor", gradient: Any, where: str) -> Any:
    """The gradient a backward starts from, as an ndarray of the root's shape and dtype: ones
    for a one-element root, else the caller's (kept a Tensor when it requires grad, so that
    ``create_graph`` can differentiate through it)."""
    data = root.data
    if type(gradient) is np.ndarray and gradient.dtype == data.dtype and gradient.shape == data.shape:
        return gradient  # the usual case, as it is (no leaf ever keeps it: see _accumulate_into_leaves)
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {root.shape}; backward() without a gradient "
                "works only for a single-element output. Pass gradient= (same shape as the "
                "output), or reduce it first (e.g. .sum())."
            )
        return _ones_like(data)
    array = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(
            f"{where}: gradient has dtype {array.dtype} ({type(gradient).__name__}); "
            f"expected numbers of the output's shape {root.shape}"
        )
    if array.shape != data.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {array.shape} ({array.dtype}) but the output has shape "
            f"{data.shape} ({data.dtype}); they must match"
        )
    if isinstance(gradient, Tensor) and gradient.requires_grad:
        return gradient if array.dtype == data.dtype else gradient.astype(data.dtype)  # (recorded)
    return array.astype(data.dtype, copy=False)


def backward(
    tensor: "Tensor",
    gradient: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensor)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"backward: expected a Tensor, got {type(tensor).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {tensor.shape}) does not require grad and has no "
            "graph. Create the inputs with requires_grad=True (and not under no_grad())."
        )
    g = _root_gradient(tensor, gradient, "backward")
    run_backward((tensor,), (g,), retain_graph or create_graph, create_graph)


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
    grad_outs = _grad_outputs(grad_outputs, len(outs))
    for i, x in enumerate(ins):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots = [o for o in outs if o.requires_grad]
    root_grads = [
        _root_gradient(o, go, f"grad (output {i})")
        for i, (o, go) in enumerate(zip(outs, grad_outs))
        if o.requires_grad
    ]
    if not roots and not allow_unused:
        shapes = ", ".join(str(o.shape) for o in outs)
        raise RuntimeError(
            f"grad: no output (shapes {shapes}) requires grad, so none depends on the inputs. "
            "Was it computed under no_grad(), from tensors that do not require grad, or by a "
            "backward that used saved ndarrays (which then has no second derivative)?"
        )
    keep = create_graph if retain_graph is None else retain_graph
    found = run_backward(roots, root_grads, keep, create_graph, set(ins)) if roots else {}
    result = tuple(found.get(x) for x in ins)
    for i, (x, r) in enumerate(zip(ins, result)):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    return result


def _grad_outputs(grad_outputs: Any, n: int) -> list[Any]:
    """``grad``'s weights, one per output (None: ones)."""
    if grad_outputs is None:
        return [None] * n
    if isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != n:
        raise ValueError(f"grad: {n} outputs but {len(grad_outputs)} grad_outputs")
    return grad_outputs



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


def _outside_package(frame: Any) -> tuple[Any, int]:
    """The first frame, from ``frame`` outwards, that is not this package's code, and how many
    frames out it is (0: ``frame`` itself); None when every frame is the package's."""
    steps = 0
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame, steps = frame.f_back, steps + 1
    return frame, steps


def _user_frame() -> Optional[str]:
    """'file:line in function: source' of the innermost caller outside this package."""
    frame, _ = _outside_package(sys._getframe(1))
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


def _check_backward(fn: Function, grads: Iterable[Any]) -> None:
    name = type(fn).__name__
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
from tinygrad_edu.tensor import Tensor, _wrap  # noqa: E402

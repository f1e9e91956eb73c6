"""The op table: one row per op, read by ``tests/test_ops.py``.

Each row (``OpCase``) pairs a tinygrad_edu callable with a numpy reference
written here, independently, in plain numpy. ``test_ops.py`` turns every row
into the same checks: forward against the reference in float32 and float64,
float64 ``gradcheck`` over random shapes (broadcasting pairs for binary ops),
``gradgradcheck`` for smooth ops, float32 gradients against float64 ones, and,
where the row names a ``Value`` callable, the scalar engine at shape ().

Inputs start as standard normal float64 arrays; a row's ``domain`` moves them
where the op and finite differences make sense (log of positive numbers,
divisors away from zero, values away from the kinks of relu/abs/clip).

To add rows without editing this file, put a module ``tests/op_cases_<topic>.py``
next to it that defines ``CASES: list[OpCase]``; ``all_cases()`` collects it.
"""

from __future__ import annotations

import importlib
import operator
from dataclasses import dataclass
from functools import partial
from operator import methodcaller
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import strategies as S
from hypothesis import strategies as st

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.ops.shape import ScatterAdd

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class OpCase:
    """One op under test.

    name        unique id, shown in test names
    fn          the tinygrad_edu callable: Tensors in, one Tensor out
    ref         the same computation on ndarrays, in numpy alone
    arity       how many array inputs fn and ref take
    domain      a transform applied to every raw N(0, 1) input, or a tuple of
                them (one per input), to move inputs into the op's domain
    smooth      differentiable twice everywhere on the domain: gets gradgradcheck
    broadcast   the inputs broadcast against each other (binary elementwise ops);
                without ``shapes`` this picks the shape strategy
    covers      the ``OPS`` class names this row tests (the meta-test needs every op covered)
    value       the same computation on scalar ``Value`` objects, or None
    shapes      a hypothesis strategy of input-shape tuples (default: any shape,
                or mutually broadcastable shapes when ``broadcast``)
    keeps_dtype the output has the inputs' dtype (False only for casts)
    """

    name: str
    fn: Callable[..., Tensor]
    ref: Callable[..., np.ndarray]
    arity: int = 1
    domain: Union[Transform, tuple[Transform, ...], None] = None
    smooth: bool = True
    broadcast: bool = False
    covers: tuple[str, ...] = ()
    value: Optional[Callable[..., Any]] = None
    shapes: Optional[st.SearchStrategy] = None
    keeps_dtype: bool = True

    def shape_strategy(self) -> st.SearchStrategy:
        if self.shapes is not None:
            return self.shapes
        if self.broadcast:
            return S.broadcastable_shapes(self.arity)
        return S.same_shapes(self.arity)

    def inputs(self, raw: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The raw float64 arrays moved into this op's domain."""
        if self.domain is None:
            return [np.asarray(a) for a in raw]
        transforms = self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(raw)
        return [np.asarray(t(a)) for t, a in zip(transforms, raw)]


# --- input domains ----------------------------------------------------------------


def positive(x: np.ndarray) -> np.ndarray:
    """|x| + 0.5: inside the domain of log, sqrt and of a real power's base."""
    return np.abs(x) + 0.5


def nonzero(x: np.ndarray) -> np.ndarray:
    """x pushed 0.5 away from zero: a divisor whose quotient stays moderate."""
    return x + np.where(x < 0, -0.5, 0.5)


def away_from(*kinks: float, gap: float = 0.1) -> Transform:
    """Push values at least ``gap`` away from each kink, keeping their order (so no ties appear).

    Central differences straddling a kink measure neither one-sided slope.
    """

    def transform(x: np.ndarray) -> np.ndarray:
        for k in kinks:
            x = x + np.where(x >= k, gap, -gap)
        return x

    return transform


# --- numpy helpers shared by fn and ref (they build indices, never expected values) -------


def pattern_mask(shape: tuple[int, ...]) -> np.ndarray:
    """A fixed boolean pattern of the given shape (True for 2 elements in 3, first one True)."""
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 != 1


def where_cond(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> np.ndarray:
    return pattern_mask(np.broadcast_shapes(a_shape, b_shape))


def expanded(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that ``shape`` broadcasts to: a new leading axis of 2, and every 1 grown to 3."""
    return (2,) + tuple(3 if s == 1 else s for s in shape)


SCATTER_INDEX = np.array([1, 0, 1, 2])  # repeats: rows 0 and 2 of g both land on row 1
SCATTER_ROWS = 3


# --- numpy references -------------------------------------------------------------


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def np_leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x > 0, x, negative_slope * x)


def np_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x)  # inputs are N(0, 1): no overflow, so the textbook formula is fine
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def np_logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def np_scatter_add(g: np.ndarray) -> np.ndarray:
    out = np.zeros((SCATTER_ROWS,) + g.shape[1:], dtype=g.dtype)
    for i, row in enumerate(SCATTER_INDEX):
        out[row] += g[i]
    return out


def np_transpose_231(x: np.ndarray) -> np.ndarray:
    """Axes (1, 2, 0) written as two swaps, not as np.transpose(x, (1, 2, 0))."""
    return np.swapaxes(np.swapaxes(x, 0, 1), 1, 2)


# --- reductions: every axis form ---------------------------------------------------

# (axis, keepdims): None, an int, a negative int and a tuple, with both keepdims.
AXIS_FORMS = [(None, False), (0, True), (-1, False), ((0, -1), True)]


def _axis_label(axis: Any) -> str:
    if axis is None:
        return "all"
    if isinstance(axis, tuple):
        return "_".join(str(a) for a in axis).replace("-", "m")
    return str(axis).replace("-", "m")


def reduction_rows(
    name: str,
    fn: Callable[..., Tensor],
    ref: Callable[..., np.ndarray],
    covers: tuple[str, ...],
    smooth: bool,
    min_side: int = 1,
) -> list[OpCase]:
    """One row per entry of ``AXIS_FORMS``; fn and ref take (x, axis=, keepdims=)."""
    rows = []
    for axis, keepdims in AXIS_FORMS:
        min_dims = 0 if axis is None else 2 if isinstance(axis, tuple) else 1
        if min_side > 1:
            min_dims = max(min_dims, 1)  # a 0-d input would reduce just one element
        rows.append(
            OpCase(
                f"{name}_axis_{_axis_label(axis)}{'_keepdims' if keepdims else ''}",
                partial(fn, axis=axis, keepdims=keepdims),
                partial(ref, axis=axis, keepdims=keepdims),
                smooth=smooth,
                covers=covers,
                shapes=S.same_shapes(1, min_dims=min_dims, min_side=min_side),
            )
        )
    return rows


def tg_var1(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    return x.var(axis=axis, keepdims=keepdims, ddof=1)


def np_var1(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.var(x, axis=axis, keepdims=keepdims, ddof=1)


# max/min need no domain: random normals have no ties (ties have dedicated tests in test_ops.py)
REDUCTIONS = (
    reduction_rows("sum", Tensor.sum, np.sum, ("Sum",), smooth=True)
    + reduction_rows("mean", Tensor.mean, np.mean, ("Mean",), smooth=True)
    + reduction_rows("var", Tensor.var, np.var, ("Mean", "Sum", "Sub", "Mul", "Div"), smooth=True)
    + reduction_rows(
        "var_ddof1", tg_var1, np_var1, ("Mean", "Sum", "Sub", "Mul", "Div"), smooth=True, min_side=2
    )
    + reduction_rows("max", Tensor.max, np.max, ("Max",), smooth=False)
    + reduction_rows("min", Tensor.min, np.min, ("Min",), smooth=False)
    + reduction_rows("logsumexp", Tensor.logsumexp, np_logsumexp, ("LogSumExp",), smooth=True)
)


# --- the table ----------------------------------------------------------------------

ELEMENTWISE = [
    # binary arithmetic, broadcasting
    OpCase("add", operator.add, np.add, 2, broadcast=True, covers=("Add",), value=operator.add),
    OpCase("sub", operator.sub, np.subtract, 2, broadcast=True, covers=("Sub",), value=operator.sub),
    OpCase("mul", operator.mul, np.multiply, 2, broadcast=True, covers=("Mul",), value=operator.mul),
    OpCase(
        "div", operator.truediv, np.divide, 2, domain=(np.asarray, nonzero), broadcast=True,
        covers=("Div",), value=operator.truediv,
    ),
    OpCase(
        "pow", operator.pow, np.power, 2, domain=(positive, np.asarray), broadcast=True, covers=("Pow",),
    ),
    # with Python numbers and ndarrays (the number takes the tensor's dtype)
    OpCase("add_number", lambda x: x + 1.5, lambda x: x + 1.5, covers=("Add",), value=lambda a: a + 1.5),
    OpCase("radd_number", lambda x: 1.5 + x, lambda x: 1.5 + x, covers=("Add",), value=lambda a: 1.5 + a),
    OpCase("sub_number", lambda x: x - 1.5, lambda x: x - 1.5, covers=("Sub",), value=lambda a: a - 1.5),
    OpCase("rsub_number", lambda x: 1.5 - x, lambda x: 1.5 - x, covers=("Sub",), value=lambda a: 1.5 - a),
    OpCase("mul_number", lambda x: x * 2.5, lambda x: x * 2.5, covers=("Mul",), value=lambda a: a * 2.5),
    OpCase("rmul_number", lambda x: 2.5 * x, lambda x: 2.5 * x, covers=("Mul",), value=lambda a: 2.5 * a),
    OpCase("div_number", lambda x: x / 2.5, lambda x: x / 2.5, covers=("Div",), value=lambda a: a / 2.5),
    OpCase(
        "rdiv_number", lambda x: 2.5 / x, lambda x: 2.5 / x, domain=nonzero, covers=("Div",),
        value=lambda a: 2.5 / a,
    ),
    OpCase(
        "radd_ndarray", lambda x: np.linspace(-1, 1, x.size, dtype=x.dtype).reshape(x.shape) + x,
        lambda x: np.linspace(-1, 1, x.size, dtype=x.dtype).reshape(x.shape) + x, covers=("Add",),
    ),
    OpCase(
        "rmul_ndarray", lambda x: np.linspace(-1, 1, x.size, dtype=x.dtype).reshape(x.shape) * x,
        lambda x: np.linspace(-1, 1, x.size, dtype=x.dtype).reshape(x.shape) * x, covers=("Mul",),
    ),
    OpCase("pow_number", lambda x: x**3.0, lambda x: x**3.0, covers=("Pow",), value=lambda a: a**3.0),
    OpCase("pow_int", lambda x: x**2, lambda x: x**2, covers=("Pow",), value=lambda a: a**2),
    OpCase(
        "pow_fraction", lambda x: x**1.5, lambda x: x**1.5, domain=positive, covers=("Pow",),
        value=lambda a: a**1.5,
    ),
    OpCase(
        "pow_negative", lambda x: x**-2.0, lambda x: x**-2.0, domain=nonzero, covers=("Pow",),
        value=lambda a: a**-2.0,
    ),
    OpCase("rpow_number", lambda x: 2.0**x, lambda x: 2.0**x, covers=("Pow",)),
    OpCase("neg", operator.neg, np.negative, covers=("Neg",), value=operator.neg),
    # unary functions
    OpCase("exp", methodcaller("exp"), np.exp, covers=("Exp",), value=methodcaller("exp")),
    OpCase("log", methodcaller("log"), np.log, domain=positive, covers=("Log",), value=methodcaller("log")),
    OpCase("sqrt", methodcaller("sqrt"), np.sqrt, domain=positive, covers=("Sqrt",)),
    OpCase("abs", methodcaller("abs"), np.abs, domain=away_from(0.0), smooth=False, covers=("Abs",)),
    OpCase("tanh", methodcaller("tanh"), np.tanh, covers=("Tanh",), value=methodcaller("tanh")),
    OpCase(
        "sigmoid", methodcaller("sigmoid"), np_sigmoid, covers=("Sigmoid",), value=methodcaller("sigmoid"),
    ),
    OpCase(
        "relu", methodcaller("relu"), lambda x: np.where(x > 0, x, 0 * x), domain=away_from(0.0),
        smooth=False, covers=("ReLU",), value=methodcaller("relu"),
    ),
    OpCase(
        "leaky_relu", methodcaller("leaky_relu"), np_leaky_relu, domain=away_from(0.0), smooth=False,
        covers=("LeakyReLU",),
    ),
    OpCase(
        "leaky_relu_slope", lambda x: x.leaky_relu(negative_slope=0.2),
        partial(np_leaky_relu, negative_slope=0.2), domain=away_from(0.0), smooth=False,
        covers=("LeakyReLU",),
    ),
    OpCase(
        "clip", lambda x: x.clip(-0.5, 0.5), lambda x: np.minimum(np.maximum(x, -0.5), 0.5),
        domain=away_from(-0.5, 0.5), smooth=False, covers=("Clip",),
    ),
    OpCase(
        "clip_lo_only", lambda x: x.clip(-0.3, None), lambda x: np.maximum(x, -0.3),
        domain=away_from(-0.3), smooth=False, covers=("Clip",),
    ),
    OpCase(
        "clip_hi_only", lambda x: x.clip(None, 0.3), lambda x: np.minimum(x, 0.3),
        domain=away_from(0.3), smooth=False, covers=("Clip",),
    ),
    # binary selections (random normals: no ties; ties have their own tests in test_ops.py)
    OpCase("maximum", tg.maximum, np.maximum, 2, smooth=False, broadcast=True, covers=("Maximum",)),
    OpCase("minimum", tg.minimum, np.minimum, 2, smooth=False, broadcast=True, covers=("Minimum",)),
    OpCase(
        "maximum_number", lambda x: tg.maximum(x, 0.3), lambda x: np.maximum(x, 0.3),
        domain=away_from(0.3), smooth=False, covers=("Maximum",),
    ),
    OpCase(
        "minimum_number", lambda x: tg.minimum(-0.3, x), lambda x: np.minimum(-0.3, x),
        domain=away_from(-0.3), smooth=False, covers=("Minimum",),
    ),
    OpCase(
        "where", lambda a, b: tg.where(where_cond(a.shape, b.shape), a, b),
        lambda a, b: np.where(where_cond(a.shape, b.shape), a, b), 2, broadcast=True, covers=("Where",),
    ),
    OpCase(
        "where_number", lambda x: tg.where(pattern_mask(x.shape), x, 0.5),
        lambda x: np.where(pattern_mask(x.shape), x, 0.5), covers=("Where",),
    ),
    OpCase(
        # float32 -> float64 in the float32 tests (the gradient comes back as float32), a plain
        # copy in the float64 ones; casting float64 down would blur finite differences
        "astype_float64", lambda x: x.astype(np.float64), lambda x: x.astype(np.float64),
        covers=("Cast",), keeps_dtype=False,
    ),
]

NN = [
    OpCase(
        "softmax", methodcaller("softmax"), np_softmax, covers=("Softmax",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "softmax_axis0", lambda x: x.softmax(axis=0), partial(np_softmax, axis=0), covers=("Softmax",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "log_softmax", methodcaller("log_softmax"), np_log_softmax, covers=("LogSoftmax",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "log_softmax_axis0", lambda x: x.log_softmax(axis=0), partial(np_log_softmax, axis=0),
        covers=("LogSoftmax",), shapes=S.same_shapes(1, min_dims=1),
    ),
]

MATMUL = [
    OpCase(
        "matmul_1d_1d", operator.matmul, np.matmul, 2, covers=("MatMul",),
        shapes=S.matmul_shapes("(k),(k)->()"),
    ),
    OpCase(
        "matmul_2d_1d", operator.matmul, np.matmul, 2, covers=("MatMul",),
        shapes=S.matmul_shapes("(n,k),(k)->(n)"),
    ),
    OpCase(
        "matmul_1d_2d", operator.matmul, np.matmul, 2, covers=("MatMul",),
        shapes=S.matmul_shapes("(k),(k,m)->(m)"),
    ),
    OpCase(
        "matmul_2d_2d", operator.matmul, np.matmul, 2, covers=("MatMul",),
        shapes=S.matmul_shapes("(n,k),(k,m)->(n,m)"),
    ),
    OpCase(
        # one batch axis on either side or both, broadcast: (b, n, k) @ (k, m), (1, n, k) @ (b, k, m), ...
        "matmul_batched", operator.matmul, np.matmul, 2, broadcast=True, covers=("MatMul",),
        shapes=S.matmul_shapes("(n,k),(k,m)->(n,m)", min_dims=1, max_dims=1),
    ),
    OpCase(
        # everything numpy's matmul accepts, up to two batch axes
        "matmul_any", operator.matmul, np.matmul, 2, broadcast=True, covers=("MatMul",),
        shapes=S.matmul_shapes(np.matmul.signature, max_dims=2, max_side=3),
    ),
]

SHAPE = [
    OpCase("reshape_flat", lambda x: x.reshape(-1), np.ravel, covers=("Reshape",)),
    OpCase(
        "reshape_reversed", lambda x: x.reshape(*x.shape[::-1]), lambda x: x.reshape(x.shape[::-1]),
        covers=("Reshape",),
    ),
    OpCase(
        "reshape_tuple", lambda x: x.reshape((x.size, 1)), lambda x: x.reshape(x.size, 1),
        covers=("Reshape",),
    ),
    OpCase("flatten", methodcaller("flatten"), np.ravel, covers=("Reshape",)),
    OpCase("transpose", methodcaller("transpose"), np.transpose, covers=("Transpose",)),
    OpCase("T", lambda x: x.T, lambda x: x.T, covers=("Transpose",)),
    OpCase(
        "transpose_axes", lambda x: x.transpose(1, 2, 0), np_transpose_231, covers=("Transpose",),
        shapes=S.same_shapes(1, min_dims=3, max_dims=3),
    ),
    OpCase(
        "transpose_negative_axes", lambda x: x.transpose((-2, -1, 0)), np_transpose_231,
        covers=("Transpose",), shapes=S.same_shapes(1, min_dims=3, max_dims=3),
    ),
    OpCase(
        "broadcast_to", lambda x: x.broadcast_to(expanded(x.shape)),
        lambda x: np.broadcast_to(x, expanded(x.shape)), covers=("BroadcastTo",), shapes=S.shapes_with_ones(),
    ),
    # indexing: basic
    OpCase(
        "getitem_int", lambda x: x[0], lambda x: x[0], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "getitem_negative_int", lambda x: x[-1, ...], lambda x: x[-1, ...], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "getitem_slice", lambda x: x[1:], lambda x: x[1:], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1, min_side=2),
    ),
    OpCase(
        "getitem_step_slice", lambda x: x[..., ::-2], lambda x: x[..., ::-2], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        "getitem_newaxis", lambda x: x[None, ..., 0], lambda x: x[None, ..., 0], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1),
    ),
    # indexing: integer arrays (a repeated index accumulates in the gradient)
    OpCase(
        "getitem_int_array_repeats", lambda x: x[[0, 0, 1, 0]], lambda x: x[np.array([0, 0, 1, 0])],
        covers=("GetItem",), shapes=S.same_shapes(1, min_dims=1, min_side=2),
    ),
    OpCase(
        "getitem_int_tensor_2d", lambda x: x[Tensor(np.array([[1, 0], [1, 1]]))],
        lambda x: x[np.array([[1, 0], [1, 1]])], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=1, min_side=2),
    ),
    OpCase(
        "getitem_two_int_arrays", lambda x: x[[0, 1, 0], [1, 1, 1]],
        lambda x: x[np.array([0, 1, 0]), np.array([1, 1, 1])], covers=("GetItem",),
        shapes=S.same_shapes(1, min_dims=2, min_side=2),
    ),
    OpCase(
        "getitem_slice_and_int_array", lambda x: x[:, [1, 0, 1]], lambda x: x[:, np.array([1, 0, 1])],
        covers=("GetItem",), shapes=S.same_shapes(1, min_dims=2, min_side=2),
    ),
    # indexing: boolean masks
    OpCase(
        "getitem_mask", lambda x: x[pattern_mask(x.shape)], lambda x: x[pattern_mask(x.shape)],
        covers=("GetItem",),
    ),
    OpCase(
        "getitem_mask_first_axis", lambda x: x[pattern_mask(x.shape[:1])],
        lambda x: x[pattern_mask(x.shape[:1])], covers=("GetItem",), shapes=S.same_shapes(1, min_dims=1),
    ),
    OpCase(
        # x[x > 0]: the mask is computed from the tensor itself
        "getitem_positive", lambda x: x[x > 0], lambda x: x[x > 0], domain=away_from(0.0),
        covers=("GetItem",),
    ),
    OpCase(
        # the backward of getitem, used directly: g's rows added into 3 rows at SCATTER_INDEX
        "scatter_add",
        lambda g: ScatterAdd.apply(g, index=SCATTER_INDEX, shape=(SCATTER_ROWS,) + g.shape[1:]),
        np_scatter_add, covers=("ScatterAdd",),
        shapes=S.leading(len(SCATTER_INDEX), S.shapes(max_dims=2)),
    ),
    # joining
    OpCase(
        "concatenate", lambda a, b: tg.concatenate([a, b]), lambda a, b: np.concatenate([a, b]), 2,
        covers=("Concatenate",), shapes=S.concatenable_shapes(2, axis=0),
    ),
    OpCase(
        "concatenate_last_axis", lambda a, b, c: tg.concatenate([a, b, c], axis=-1),
        lambda a, b, c: np.concatenate([a, b, c], axis=-1), 3, covers=("Concatenate",),
        shapes=S.concatenable_shapes(3, axis=-1),
    ),
    OpCase(
        "stack", lambda a, b: tg.stack([a, b]), lambda a, b: np.stack([a, b]), 2, covers=("Stack",),
    ),
    OpCase(
        "stack_last_axis", lambda a, b, c: tg.stack([a, b, c], axis=-1),
        lambda a, b, c: np.stack([a, b, c], axis=-1), 3, covers=("Stack",),
    ),
]

CASES: list[OpCase] = ELEMENTWISE + REDUCTIONS + NN + MATMUL + SHAPE
"""The rows defined in this file; ``all_cases()`` adds those of ``op_cases_*.py``."""


def all_cases() -> list[OpCase]:
    """This file's rows followed by the ``CASES`` of every ``tests/op_cases_*.py`` module.

    Collected when called rather than at import, so an extra module may itself
    ``from op_cases import OpCase`` without a circular import.
    """
    cases = list(CASES)
    for path in sorted(Path(__file__).parent.glob("op_cases_*.py")):
        name = f"{__package__}.{path.stem}" if __package__ else path.stem
        cases.extend(importlib.import_module(name).CASES)
    return cases

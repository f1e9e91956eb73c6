"""Every op, driven by the table in ``op_cases.py``, plus the cases a table cannot express.

Table-driven, for every row:
  * forward against the numpy reference, float32 and float64 (dtype kept, values close);
  * float64 ``gradcheck`` over hypothesis shapes (broadcasting pairs for binary ops);
  * ``gradgradcheck`` for the smooth rows;
  * float32 backward: float32 gradients close to the float64 ones;
  * the backward run on ndarrays (first order) equals the one recorded on Tensors;
  * the scalar ``Value`` engine at shape (), for rows that name a Value callable.
A meta-test fails when an op in ``tinygrad_edu.autograd.OPS`` has no row.

Dedicated tests below: ties, kinks, repeated indices, masks, every axis form,
matmul shapes, dtypes of Python scalars, ``2.0 ** x`` and comparisons.
Every expected value comes from numpy, finite differences or a hand formula.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_cases import OpCase, all_cases, pattern_mask
from strategies import random_arrays, seeds

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.autograd import OPS
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck
from tinygrad_edu.graph import toposort

CASES = all_cases()
SMOOTH = [c for c in CASES if c.smooth]
SCALAR = [c for c in CASES if c.value is not None]


def by_name(cases: Sequence[OpCase]) -> Any:
    return pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])


# forward tolerances per dtype; references are evaluated in float64 on the same (rounded) inputs
FORWARD_TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}

# second derivatives cost a graph per Jacobian row: fewer examples than the other table tests
FEWER = settings(max_examples=max(2, settings().max_examples // 2))


def draw_inputs(data: st.DataObject, case: OpCase, dtype: Any) -> list[np.ndarray]:
    """Shapes from the row's strategy, filled with seeded normals moved into the row's domain."""
    shapes = data.draw(case.shape_strategy(), label="shapes")
    seed = data.draw(seeds, label="seed")
    return [a.astype(dtype) for a in case.inputs(random_arrays(seed, shapes))]


def leaves(arrays: Sequence[np.ndarray]) -> list[Tensor]:
    return [Tensor(a.copy(), requires_grad=True) for a in arrays]


def backward_grads(fn: Callable[..., Tensor], arrays: Sequence[np.ndarray], cotangent: Any) -> list[Tensor]:
    """The gradients of sum(fn(*arrays) * cotangent) with respect to each input."""
    xs = leaves(arrays)
    out = fn(*xs)
    out.backward(np.asarray(cotangent, dtype=out.dtype).reshape(out.shape))
    return [x.grad for x in xs]


# --- table-driven tests ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@by_name(CASES)
@given(data=st.data())
def test_forward_matches_numpy(case: OpCase, dtype: Any, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case, dtype)
    out = case.fn(*[Tensor(a.copy()) for a in arrays])
    assert isinstance(out, Tensor), f"{case.name} returned {type(out).__name__}"
    # The input dtype, or for casts numpy's. (Not numpy's in general: numpy < 2 turns a 0-d
    # float32 times a Python float into float64, where DESIGN keeps float32.)
    want_dtype = dtype if case.keeps_dtype else np.asarray(case.ref(*[a.copy() for a in arrays])).dtype
    assert out.dtype == want_dtype, f"{case.name}: dtype {out.dtype}, expected {want_dtype}"
    want = case.ref(*[a.astype(np.float64) for a in arrays])
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.data, want, **FORWARD_TOL[dtype], err_msg=case.name)
    assert not out.requires_grad and out.grad_fn is None  # no input requires grad: nothing recorded


@by_name(CASES)
@given(data=st.data())
def test_gradcheck_float64(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case, np.float64)
    assert gradcheck(case.fn, leaves(arrays))


@by_name(SMOOTH)
@FEWER
@given(data=st.data())
def test_gradgradcheck_float64(case: OpCase, data: st.DataObject) -> None:
    arrays = draw_inputs(data, case, np.float64)
    assert gradgradcheck(case.fn, leaves(arrays))


@by_name(CASES)
@given(data=st.data(), cotangent_seed=seeds)
def test_float32_gradients_match_float64(case: OpCase, data: st.DataObject, cotangent_seed: int) -> None:
    arrays32 = draw_inputs(data, case, np.float32)
    arrays64 = [a.astype(np.float64) for a in arrays32]  # the very same numbers
    out_shape = case.fn(*[Tensor(a) for a in arrays64]).shape
    cotangent = np.random.default_rng(cotangent_seed).standard_normal(out_shape)
    grads32 = backward_grads(case.fn, arrays32, cotangent)
    grads64 = backward_grads(case.fn, arrays64, cotangent)
    for i, (g32, g64, a) in enumerate(zip(grads32, grads64, arrays32)):
        assert g32 is not None, f"{case.name}: input {i} got no gradient"
        assert g32.dtype == np.float32 and g32.shape == a.shape
        assert g64.dtype == np.float64
        scale = max(1.0, float(np.max(np.abs(g64.data), initial=0.0)))
        np.testing.assert_allclose(g32.data, g64.data, rtol=1e-4, atol=1e-5 * scale, err_msg=case.name)


@by_name(CASES)
@given(data=st.data(), cotangent_seed=seeds)
def test_backward_on_arrays_matches_backward_on_tensors(
    case: OpCase, data: st.DataObject, cotangent_seed: int
) -> None:
    """The one backward formula, run twice: on ndarrays (a first-order ``backward()``) and
    on recorded Tensors (``create_graph=True``). Both must give the same gradients, each
    an ndarray of its input's shape and dtype."""
    arrays = draw_inputs(data, case, np.float64)
    out_shape = case.fn(*[Tensor(a) for a in arrays]).shape
    cotangent = np.random.default_rng(cotangent_seed).standard_normal(out_shape)
    on_arrays = backward_grads(case.fn, arrays, cotangent)
    xs = leaves(arrays)
    out = case.fn(*xs)
    on_tensors = tg.grad(out, xs, grad_outputs=Tensor(cotangent), create_graph=True, allow_unused=True)
    for i, (ga, gt, x) in enumerate(zip(on_arrays, on_tensors, xs)):
        if gt is None:
            assert ga is None, f"{case.name}: input {i}: a gradient on arrays only"
            continue
        assert type(ga.data) is np.ndarray and ga.shape == x.shape and ga.dtype == x.dtype, case.name
        np.testing.assert_allclose(ga.data, gt.data, rtol=1e-12, atol=1e-12, err_msg=f"{case.name} {i}")


@by_name(SCALAR)
@given(seed=seeds)
def test_value_engine_matches_reference(case: OpCase, seed: int) -> None:
    from tinygrad_edu.scalar import Value  # a missing scalar engine fails here, it is not skipped

    xs = case.inputs(random_arrays(seed, [()] * case.arity))
    values = [Value(float(x)) for x in xs]
    out = case.value(*values)
    out.backward()

    assert isinstance(out.data, float)
    assert out.data == pytest.approx(float(case.ref(*xs)), rel=1e-12, abs=1e-12)
    numeric = central_differences(case.ref, xs)
    tensor_grads = backward_grads(case.fn, xs, 1.0)
    for i, v in enumerate(values):
        assert isinstance(v.grad, float)
        assert v.grad == pytest.approx(numeric[i], rel=1e-6, abs=1e-8), f"{case.name}: d/dx{i}"
        assert v.grad == pytest.approx(float(tensor_grads[i].data), rel=1e-10, abs=1e-12)


def central_differences(f: Callable[..., Any], xs: Sequence[np.ndarray], eps: float = 1e-6) -> list[float]:
    """d f / d x_i at scalar inputs, (f(x + eps) - f(x - eps)) / (2 eps), all in numpy."""
    out = []
    for i in range(len(xs)):
        up = [np.float64(x) + (eps if j == i else 0.0) for j, x in enumerate(xs)]
        down = [np.float64(x) - (eps if j == i else 0.0) for j, x in enumerate(xs)]
        out.append(float(f(*up) - f(*down)) / (2 * eps))
    return out


# --- the table itself ----------------------------------------------------------------------


def test_every_registered_op_has_a_row() -> None:
    covered = set().union(*(c.covers for c in CASES))
    missing = sorted(set(OPS) - covered)
    assert not missing, f"ops with no row in tests/op_cases.py (or an op_cases_*.py module): {missing}"


def test_rows_name_registered_ops() -> None:
    for case in CASES:
        unknown = set(case.covers) - set(OPS)
        assert not unknown, f"row {case.name!r} covers {sorted(unknown)}, which are not in OPS"
        assert case.covers, f"row {case.name!r} covers no op"


def test_row_names_are_unique() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def recorded_ops(out: Tensor) -> set[str]:
    """The names of the Functions in the graph that produced ``out``."""

    def parents(t: Tensor) -> Sequence[Tensor]:
        return () if t.grad_fn is None else t.grad_fn.inputs

    return {type(t.grad_fn).__name__ for t in toposort([out], parents) if t.grad_fn is not None}


@by_name(CASES)
@settings(max_examples=1)
@given(data=st.data())
def test_row_records_the_ops_it_covers(case: OpCase, data: st.DataObject) -> None:
    out = case.fn(*leaves(draw_inputs(data, case, np.float64)))
    missing = set(case.covers) - recorded_ops(out)
    assert not missing, f"row {case.name!r} claims to cover {sorted(missing)} but never records them"


# --- ties and kinks: PyTorch's choices -------------------------------------------------------

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@DTYPES
def test_max_min_split_ties_evenly(dtype: Any) -> None:
    x = Tensor(np.array([1.0, 3.0, 3.0], dtype=dtype), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])
    assert x.grad.dtype == dtype

    x = Tensor(np.array([1.0, 1.0, 3.0], dtype=dtype), requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.5, 0.0])

    # all equal: each of the n elements gets 1/n
    x = Tensor(np.full((2, 2), 7.0, dtype=dtype), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 0.25))


@DTYPES
def test_max_min_ties_along_an_axis_with_a_cotangent(dtype: Any) -> None:
    x = Tensor(np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0], [4.0, 4.0, 4.0]], dtype=dtype), requires_grad=True)
    x.max(axis=1).backward(np.array([1.0, 2.0, 3.0], dtype=dtype))
    np.testing.assert_allclose(x.grad.data, [[0.5, 0.5, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])

    x = Tensor(np.array([[1.0, 1.0], [1.0, 0.0]], dtype=dtype), requires_grad=True)
    x.min(axis=0, keepdims=True).backward(np.array([[4.0, 2.0]], dtype=dtype))
    np.testing.assert_allclose(x.grad.data, [[2.0, 0.0], [2.0, 2.0]])
    x.grad = None
    x.max(axis=-2, keepdims=True).backward(np.array([[4.0, 2.0]], dtype=dtype))
    np.testing.assert_allclose(x.grad.data, [[2.0, 2.0], [2.0, 0.0]])


@DTYPES
def test_maximum_minimum_split_ties_evenly(dtype: Any) -> None:
    a = Tensor(np.array([1.0, 2.0, 3.0], dtype=dtype), requires_grad=True)
    b = Tensor(np.array([3.0, 2.0, 1.0], dtype=dtype), requires_grad=True)
    tg.maximum(a, b).backward(np.ones(3, dtype=dtype))
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 0.5, 0.0])
    a.grad = b.grad = None
    tg.minimum(a, b).backward(np.ones(3, dtype=dtype))
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 0.5, 1.0])


def test_maximum_minimum_ties_under_broadcasting() -> None:
    a = Tensor(np.array([1.0, 2.0, 2.0]), requires_grad=True)
    s = Tensor(np.array(2.0), requires_grad=True)
    tg.maximum(a, s).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.5, 0.5])
    assert s.grad.shape == () and s.grad.item() == 1.0 + 0.5 + 0.5
    a.grad = s.grad = None
    tg.minimum(s, a).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.5, 0.5])
    assert s.grad.item() == 0.0 + 0.5 + 0.5


def grad_at(f: Callable[[Tensor], Tensor], values: Sequence[float], dtype: Any = np.float64) -> np.ndarray:
    x = Tensor(np.array(values, dtype=dtype), requires_grad=True)
    f(x).sum().backward()
    assert x.grad.dtype == dtype
    return x.grad.data


@DTYPES
def test_kinks_take_pytorchs_subgradients(dtype: Any) -> None:
    np.testing.assert_array_equal(grad_at(Tensor.relu, [-1.0, 0.0, 2.0], dtype), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_at(Tensor.abs, [-2.0, 0.0, 3.0], dtype), [-1.0, 0.0, 1.0])
    # leaky_relu: the slope left of the kink applies at 0 (x > 0 is false there)
    slope = grad_at(lambda x: x.leaky_relu(0.25), [-1.0, 0.0, 2.0], dtype)
    np.testing.assert_array_equal(slope, [0.25, 0.25, 1.0])
    # clip passes the gradient where lo <= x <= hi, boundaries included
    g = grad_at(lambda x: x.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0], dtype)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    g = grad_at(lambda x: x.clip(0.0, None), [-1.0, 0.0, 1.0], dtype)
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])


# --- indexing -----------------------------------------------------------------------------------


def test_getitem_repeated_integer_index_accumulates() -> None:
    x = Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0 + 2.0 + 4.0, 0.0, 3.0])


def test_getitem_repeated_index_in_two_dimensions() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x[:, [1, 1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]])
    x.grad = None
    x[[0, 0, 1], [2, 2, 2]].sum().backward()  # element (0, 2) twice, (1, 2) once
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0, 2.0], [0.0, 0.0, 1.0]])
    x.grad = None
    x[Tensor(np.array([[1, 1], [1, 0]]))].sum().backward()  # an index Tensor of ints, 2-D
    np.testing.assert_array_equal(x.grad.data, [[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])


@pytest.mark.parametrize("as_tensor", [True, False], ids=["bool_tensor", "bool_ndarray"])
def test_getitem_boolean_mask(as_tensor: bool) -> None:
    data = np.array([[1.0, -2.0], [3.0, -4.0]])
    x = Tensor(data, requires_grad=True)
    mask = x > 0 if as_tensor else data > 0
    y = x[mask]
    np.testing.assert_array_equal(y.data, [1.0, 3.0])
    y.backward(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(x.grad.data, [[10.0, 0.0], [20.0, 0.0]])


def test_getitem_mask_along_the_first_axis() -> None:
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = x[np.array([True, False, True])]
    np.testing.assert_array_equal(y.data, [[0.0, 1.0], [4.0, 5.0]])
    y.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.data, [[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]])


# --- reductions: every axis form ----------------------------------------------------------------

REDUCTIONS: dict[str, tuple[Callable[..., Tensor], Callable[..., np.ndarray]]] = {
    "sum": (Tensor.sum, np.sum),
    "mean": (Tensor.mean, np.mean),
    "var": (Tensor.var, np.var),
    "var_ddof1": (
        lambda x, **kw: x.var(ddof=1, **kw),
        lambda x, **kw: np.var(x, ddof=1, **kw),
    ),
    "max": (Tensor.max, np.max),
    "min": (Tensor.min, np.min),
    "logsumexp": (Tensor.logsumexp, lambda x, **kw: np.log(np.sum(np.exp(x), **kw))),
}
AXES = [None, 0, 1, 2, -1, -3, (0,), (2, 0), (-1, 0), (0, 1, 2), ()]  # () reduces nothing, as in numpy


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keepdims"])
@pytest.mark.parametrize("axis", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_axis_forms(name: str, axis: Any, keepdims: bool) -> None:
    fn, ref = REDUCTIONS[name]
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    if name == "var_ddof1" and axis == ():
        with pytest.raises(ValueError, match="ddof"):  # numpy: nan and a warning
            fn(Tensor(x), axis=axis, keepdims=keepdims)
        return
    out = fn(Tensor(x), axis=axis, keepdims=keepdims)
    want = ref(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [Tensor(x, requires_grad=True)])


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_of_a_scalar(name: str) -> None:
    fn, ref = REDUCTIONS[name]
    if name == "var_ddof1":
        pytest.skip("one element with ddof=1 has no variance")
    x = np.array(0.75)
    out = fn(Tensor(x))
    np.testing.assert_allclose(out.data, ref(x), rtol=1e-12, atol=1e-12)
    assert out.shape == ()


# --- matmul shapes --------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_shapes(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    want = np.matmul(a, b)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    out.backward(np.ones(out.shape))
    assert ta.grad.shape == a_shape and tb.grad.shape == b_shape
    assert gradcheck(operator.matmul, [ta, tb])


def test_matmul_2d_gradients_by_hand() -> None:
    """d(sum(G * (A @ B)))/dA = G @ B^T and /dB = A^T @ G."""
    rng = np.random.default_rng(2)
    a, b, g = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    grad_a, grad_b = backward_grads(operator.matmul, [a, b], g)
    np.testing.assert_allclose(grad_a.data, g @ b.T, rtol=1e-12)
    np.testing.assert_allclose(grad_b.data, a.T @ g, rtol=1e-12)


def test_matmul_mismatched_inner_dimensions_name_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3\).*\(4, 2\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 2)))


# --- dtypes ------------------------------------------------------------------------------------

SCALAR_OPERAND_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "x * 2.0": lambda x: x * 2.0,
    "2.0 * x": lambda x: 2.0 * x,
    "x + 1": lambda x: x + 1,
    "1 - x": lambda x: 1 - x,
    "x / 2": lambda x: x / 2,
    "2.0 / x": lambda x: 2.0 / x,
    "x ** 2": lambda x: x**2,
    "x ** 0.5": lambda x: x**0.5,
    "2.0 ** x": lambda x: 2.0**x,
    "maximum(x, 0.0)": lambda x: tg.maximum(x, 0.0),
    "minimum(0.0, x)": lambda x: tg.minimum(0.0, x),
    "where(c, x, 0.0)": lambda x: tg.where(pattern_mask(x.shape), x, 0.0),
    "where(c, 1, x)": lambda x: tg.where(pattern_mask(x.shape), 1, x),
    "clip(0, 1)": lambda x: x.clip(0, 1),
    "leaky_relu(0.1)": lambda x: x.leaky_relu(0.1),
    "mean": lambda x: x.mean(),
    "var(ddof=1)": lambda x: x.var(ddof=1),
}


@DTYPES
@pytest.mark.parametrize("shape", [(3,), ()], ids=["1d", "0d"])
@pytest.mark.parametrize("expr", list(SCALAR_OPERAND_OPS))
def test_python_scalars_keep_the_tensor_dtype(expr: str, shape: tuple[int, ...], dtype: Any) -> None:
    # 0-d matters: numpy < 2 promotes a 0-d float32 combined with a Python float to float64
    if expr == "var(ddof=1)" and shape == ():
        pytest.skip("one element has no ddof=1 variance")
    data = np.array([0.5, 1.5, 2.5] if shape else 1.5, dtype=dtype)
    x = Tensor(data, requires_grad=True)
    out = SCALAR_OPERAND_OPS[expr](x)
    assert out.dtype == dtype, f"{expr} on {np.dtype(dtype).name} gave {out.dtype}"
    out.sum().backward()
    assert x.grad.dtype == dtype


UNARY_METHODS = "exp log sqrt abs tanh sigmoid relu leaky_relu sum mean max min logsumexp flatten".split()


@DTYPES
@pytest.mark.parametrize("method", UNARY_METHODS)
def test_methods_keep_the_dtype_of_a_0d_tensor(method: str, dtype: Any) -> None:
    x = Tensor(np.array(1.5, dtype=dtype), requires_grad=True)
    out = getattr(x, method)()
    assert out.dtype == dtype, f"{method} on a 0-d {np.dtype(dtype).name} gave {out.dtype}"
    out.backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize(
    "source, target", [(np.float32, np.float64), (np.float64, np.float32)], ids=["up", "down"]
)
def test_cast_gradient_comes_back_in_the_input_dtype(source: Any, target: Any) -> None:
    x = Tensor(np.array([1.0, -2.0, 3.0], dtype=source), requires_grad=True)
    y = x.astype(target)
    assert y.dtype == target
    np.testing.assert_array_equal(y.data, np.array([1.0, -2.0, 3.0], dtype=target))
    (y * y).sum().backward()
    assert x.grad.dtype == source
    np.testing.assert_allclose(x.grad.data, [2.0, -4.0, 6.0])


@DTYPES
def test_number_to_the_power_of_a_tensor(dtype: Any) -> None:
    values = np.array([-1.0, 0.0, 0.5, 3.0], dtype=dtype)
    x = Tensor(values, requires_grad=True)
    y = 2.0**x
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, np.power(2.0, values.astype(np.float64)), rtol=1e-6)
    y.backward(np.ones(4, dtype=dtype))
    # d/dx 2**x = log(2) * 2**x
    np.testing.assert_allclose(x.grad.data, np.log(2.0) * 2.0 ** values.astype(np.float64), rtol=1e-6)


# --- comparisons -------------------------------------------------------------------------------

COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("other_kind", ["tensor", "number", "ndarray"])
@pytest.mark.parametrize("op", COMPARISONS, ids=[op.__name__ for op in COMPARISONS])
def test_comparisons_return_bool_tensors_without_grad(op: Callable, other_kind: str) -> None:
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    other: Any = {"tensor": Tensor(b, requires_grad=True), "number": 2.0, "ndarray": b}[other_kind]
    x = Tensor(a, requires_grad=True)
    for out, want in [(op(x, other), op(a, b)), (op(other, x), op(b, a))]:
        assert isinstance(out, Tensor)
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.data, want)


@pytest.mark.parametrize("op", COMPARISONS, ids=[op.__name__ for op in COMPARISONS])
def test_comparison_of_a_0d_tensor_holds_an_ndarray(op: Callable) -> None:
    """numpy returns np.bool_ scalars from 0-d comparisons; a Tensor's data is always an ndarray."""
    out = op(Tensor(np.array(1.5)), 1.0)
    assert isinstance(out.data, np.ndarray) and out.shape == () and out.dtype == np.bool_
    assert out.item() == op(1.5, 1.0)

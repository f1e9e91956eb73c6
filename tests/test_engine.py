"""The reverse-mode engine: graph walk, accumulation, freeing, no_grad, higher order,
custom Functions, clear errors and detect_anomaly.

Every expected gradient here is worked out by hand (or with plain numpy), never by
the engine under test.
"""

import gc
import inspect
import os
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu._config import STATE

THIS_FILE = os.path.basename(__file__)


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


@pytest.fixture
def no_cycle_collector():
    """Run a test with the cycle collector off: only reference counting may free objects."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- the graph walk ---------------------------------------------------------------------------


def test_a_100000_op_chain_runs_forward_and_backward_with_the_right_gradient():
    x = leaf([1.0, 2.0])
    y = x
    for i in range(100_000):
        y = y * 1.00001 if i % 2 == 0 else y + 0.5
    y.sum().backward()  # a recursive walk would hit RecursionError here
    factor = 1.00001**50_000
    np.testing.assert_allclose(x.grad.data, [factor, factor], rtol=1e-9)
    # y = factor * x + 0.5 * (sum of the factors applied after each add)
    expected_y = factor * np.array([1.0, 2.0]) + 0.5 * sum(1.00001**k for k in range(50_000))
    np.testing.assert_allclose(y.data, expected_y, rtol=1e-9)


def test_a_100000_op_chain_with_tg_grad_and_create_graph():
    x = leaf([3.0])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [1.0])


def test_dropping_a_deep_graph_without_backward_does_not_recurse():
    x = leaf([1.0])
    y = x
    for _ in range(200_000):
        y = y * 1.0
    w = weakref.ref(y._ctx)
    del y  # deallocation walks the whole chain
    assert w() is None


def test_diamond_accumulates():
    # y = x*x + x: x reaches y along three edges; dy/dx = 2x + 1
    x = leaf([1.0, -2.0, 0.5])
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, -3.0, 2.0])


def test_an_intermediate_reused_in_several_places_accumulates():
    # h = 2x; y = h*h + 3h + exp(h)  ->  dy/dx = 2 * (2h + 3 + exp(h))
    x = leaf([0.1, -0.4])
    h = x * 2.0
    y = h * h + h * 3.0 + h.exp()
    y.sum().backward()
    hv = 2.0 * np.array([0.1, -0.4])
    np.testing.assert_allclose(x.grad.data, 2.0 * (2.0 * hv + 3.0 + np.exp(hv)), rtol=1e-12)


def test_the_same_tensor_as_both_operands_and_through_reshape_and_broadcast():
    x = leaf([[1.0, 2.0, 3.0]])  # (1, 3)
    y = (x + x.reshape(3, 1)) * x  # (3, 3): y_ij = (x_j + x_i) * x_j
    y.sum().backward()
    xv = np.array([1.0, 2.0, 3.0])
    # d/dx_k sum_ij (x_j + x_i) x_j = sum_i (2 x_k + x_i) + sum_j x_j = 3*2 x_k + 2 * sum(x)
    np.testing.assert_allclose(x.grad.data, [6.0 * xv + 2.0 * xv.sum()], rtol=1e-12)


def test_ops_are_visited_in_reverse_creation_order_each_after_all_its_uses():
    """The walk takes op outputs from the highest sequence number down: every use of a tensor
    (created later) has passed its gradient on before the tensor's own op runs."""
    visited = []

    class Tap(tg.Function):
        def forward(self, a, tag=""):
            self.save_for_backward(tag)
            return a.copy()

        def backward(self, grad):
            visited.append(self.saved[0])
            return grad

    x = leaf([2.0])
    a = Tap.apply(x, tag="a")  # used by b, c and the sum
    b = Tap.apply(a * 3.0, tag="b")  # used by c and the sum
    c = Tap.apply(a * b, tag="c")
    (a + b + c).sum().backward()
    assert visited == ["c", "b", "a"]
    # y = a + 3a + 3a^2 with a = x:  dy/dx = 4 + 6x
    np.testing.assert_array_equal(x.grad.data, [16.0])


def test_a_backward_that_fails_half_way_leaves_every_grad_as_it_was():
    class Fails(tg.Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, grad):
            raise ValueError("no gradient today")

    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    w.grad = Tensor(np.array([10.0, 10.0]))
    y = (Fails.apply(x) * w).sum()  # w's gradient is found before Fails.backward runs
    with pytest.raises(ValueError, match="no gradient today"):
        y.backward()
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.data, [10.0, 10.0])
    assert tg.is_grad_enabled() is True and gc.isenabled()


def test_the_walk_pauses_the_cycle_collector_and_switches_it_back_on():
    seen = []

    class Probe(tg.Function):
        def forward(self, a):
            return a * 1.0

        def backward(self, grad):
            seen.append(gc.isenabled())
            return grad

    x = leaf([1.0])
    Probe.apply(x).sum().backward()
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # a collector the caller switched off stays off
        Probe.apply(x).sum().backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_leaf_grad_accumulates_across_two_backward_calls():
    x = leaf([1.0, -2.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, -4.0])
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, -1.0])


@pytest.mark.parametrize("bad, kind, words", [
    (np.zeros(3), TypeError, r"\(float64\), and the grad assigned is of type ndarray; expected a Tensor"),
    (Tensor(np.zeros((1, 3))), ValueError, r"the grad assigned has shape \(1, 3\) \(float64\); it must have"),
    (Tensor(np.zeros(3, np.float32)), TypeError, r"has shape \(3,\) \(float32\); it must have the tensor's"),
])
def test_a_grad_assigned_by_hand_must_be_a_tensor_of_the_shape_and_dtype(bad, kind, words):
    # before: accepted; a float64 grad on a float32 weight (or the reverse) made every later
    # gradient of the other dtype, and an ndarray failed only at the next backward or step
    x = leaf([1.0, -2.0, 0.5])
    with pytest.raises(kind, match=words):
        x.grad = bad
    assert x.grad is None
    x.grad = Tensor(np.ones(3))
    x.grad = None


def test_a_grad_of_another_shape_left_by_a_change_of_data_is_refused_by_backward_and_nothing_changes():
    x, w = leaf([1.0, -2.0, 0.5]), leaf([2.0, 3.0, 4.0])
    w.grad = Tensor(np.array([10.0, 10.0, 10.0]))  # accumulates: allowed
    x.grad = Tensor(np.zeros(3))
    x.data = np.zeros(4)  # (a new array, the grad left as it was)
    with pytest.raises(RuntimeError, match=r"has shape \(3,\) \(float64\), so the gradient would be"):
        (x * Tensor(np.ones(4))).sum().backward()
    x.data = np.array([1.0, -2.0, 0.5])
    np.testing.assert_array_equal(w.grad.data, [10.0, 10.0, 10.0])
    x.grad = Tensor(np.zeros(3))
    (x * w).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(w.grad.data, [11.0, 8.0, 10.5])


def test_backward_on_a_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0
    x.backward()
    assert x.grad.item() == 2.0


def _assert_separate_grads(*tensors):
    for i, a in enumerate(tensors):
        for b in tensors[i + 1 :]:
            assert a.grad is not b.grad
            assert not np.shares_memory(a.grad.data, b.grad.data)


def test_two_leaves_never_share_a_grad_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # add passes the same gradient to both inputs
    _assert_separate_grads(a, b)
    a.grad.data[0] = 100.0  # writing one leaf's grad in place (as optimizers may) ...
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])  # ... leaves the other alone


def test_leaf_grads_do_not_alias_the_given_gradient():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([5.0, 6.0])
    (a + b).backward(g)
    _assert_separate_grads(a, b)
    assert not np.shares_memory(a.grad.data, g)
    assert not np.shares_memory(b.grad.data, g)


def test_leaf_grads_are_writeable_arrays_of_their_own_after_broadcasting():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    x.sum().backward()  # sum's backward is a read-only broadcast view
    x.grad.data *= 2.0
    np.testing.assert_array_equal(x.grad.data, np.full((2, 2), 2.0))


def test_two_leaves_never_share_a_grad_under_create_graph():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward(create_graph=True)
    _assert_separate_grads(a, b)
    a.grad.data[0] = 100.0
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])

    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a * b + a + b).sum().backward(create_graph=True)
    _assert_separate_grads(a, b)
    np.testing.assert_array_equal(a.grad.data, [4.0, 5.0])
    np.testing.assert_array_equal(b.grad.data, [2.0, 3.0])
    assert a.grad.requires_grad  # still differentiable: d(a.grad)/db = 1
    (gb,) = tg.grad(a.grad.sum(), b)
    np.testing.assert_array_equal(gb.data, [1.0, 1.0])


def test_graph_is_freed_after_backward_and_a_second_backward_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*freed.*retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])  # untouched by the failed call


def test_a_new_op_on_a_freed_intermediate_cannot_backward_either():
    x = leaf([1.0, 2.0])
    h = x.exp()
    (h * 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        (h * 3.0).sum().backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 8.0])


def test_tg_grad_frees_the_graph_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    tg.grad(y, x, retain_graph=True)
    (g,) = tg.grad(y, x)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="freed"):
        tg.grad(y, x)


# --- nothing keeps a graph alive -------------------------------------------------------------


def test_intermediates_die_when_the_output_is_dropped(no_cycle_collector):
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2.0
    out = h.exp().sum()
    h_ref, fn_ref = weakref.ref(h), weakref.ref(h._ctx)
    exp_fn_ref = weakref.ref(out._ctx.inputs[0]._ctx)
    del h
    assert h_ref() is not None  # the graph of `out` still needs it
    del out
    assert h_ref() is None, "an intermediate outlived its graph: a reference cycle"
    assert fn_ref() is None and exp_fn_ref() is None, "a Function outlived its graph"
    assert x.grad is None


def test_intermediates_die_with_the_root_after_backward(no_cycle_collector):
    x = leaf([1.0, 2.0, 3.0])
    h = x.tanh()
    out = (h * h).sum()
    h_ref, fn_ref = weakref.ref(h), weakref.ref(h._ctx)
    del h
    out.backward()  # the graph's structure stays for drawing while `out` is alive ...
    assert h_ref() is not None and fn_ref().saved == ()
    del out  # ... and nothing else keeps it: no cycle to wait for
    assert h_ref() is None and fn_ref() is None
    np.testing.assert_allclose(x.grad.data, 2 * np.tanh([1.0, 2.0, 3.0]) / np.cosh([1.0, 2.0, 3.0]) ** 2)


def test_intermediates_die_after_tg_grad_with_create_graph(no_cycle_collector):
    x = leaf([0.5, -1.0])
    h = x.sigmoid()
    h_ref = weakref.ref(h)
    (g,) = tg.grad((h * h).sum(), x, create_graph=True)
    g_fn_ref = weakref.ref(g._ctx)
    del h
    assert h_ref() is not None  # the gradient's own graph uses it
    del g
    assert h_ref() is None and g_fn_ref() is None


def test_the_output_is_only_lent_to_backward():
    x = leaf([1.0])
    y = x.exp()
    fn = y._ctx
    with pytest.raises(RuntimeError, match="only available inside backward"):
        fn.output  # noqa: B018
    y.backward()
    with pytest.raises(RuntimeError, match="only available inside backward"):
        fn.output  # noqa: B018


# --- no_grad -------------------------------------------------------------------------------------


def test_no_grad_as_a_context_manager_records_nothing():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        assert tg.is_grad_enabled() is False
        y = (x * 2.0).exp()
    assert tg.is_grad_enabled() is True
    assert y._ctx is None and y.requires_grad is False
    np.testing.assert_allclose(y.data, np.exp([2.0, 4.0]))
    z = x * 2.0
    assert z._ctx is not None and z.requires_grad  # recording is back on


def test_no_grad_as_a_decorator_records_nothing():
    @tg.no_grad()
    def double(t):
        assert tg.is_grad_enabled() is False
        return t * 2.0

    x = leaf([1.0])
    y = double(x)
    assert y._ctx is None and y.requires_grad is False
    assert tg.is_grad_enabled() is True
    assert double.__name__ == "double"


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            raise ZeroDivisionError("inside no_grad")
    assert tg.is_grad_enabled() is True

    @tg.no_grad()
    def fails():
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fails()
    assert tg.is_grad_enabled() is True


def test_no_grad_nests_and_enable_grad_reenables():
    x = leaf([1.0])
    with tg.no_grad():
        with tg.no_grad():
            pass
        assert tg.is_grad_enabled() is False
        with tg.enable_grad():
            assert (x * 2.0).requires_grad
        assert (x * 2.0)._ctx is None
    assert tg.is_grad_enabled() is True


def test_nothing_is_recorded_when_no_input_requires_grad():
    a = Tensor(np.array([1.0, 2.0]))
    b = Tensor(np.array([3.0, 4.0]))
    y = (a * b + a).exp().sum()
    assert y._ctx is None and y.requires_grad is False
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_one_input_that_requires_grad_is_enough_and_only_it_gets_a_grad():
    a = leaf([1.0, 2.0])
    b = Tensor(np.array([3.0, 4.0]))
    y = a * b
    assert y.requires_grad and y._ctx is not None
    assert y._ctx.needs_input_grad == (True, False)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    assert b.grad is None


# --- higher order ------------------------------------------------------------------------------


def test_second_derivative_of_x_cubed_is_6x():
    xv = np.array([1.0, -2.0, 0.5])
    x = leaf(xv)
    (g,) = tg.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * xv**2)
    assert g.requires_grad
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 6 * xv)


def test_third_derivative_of_x_to_the_4th():
    x = leaf([1.5, -1.0])
    (g1,) = tg.grad((x**4).sum(), x, create_graph=True)
    (g2,) = tg.grad(g1.sum(), x, create_graph=True)
    (g3,) = tg.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.data, 24 * np.array([1.5, -1.0]))


def test_backward_with_create_graph_then_backward_of_the_grad():
    x = leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.data, [3.0, 12.0])
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 12.0])


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    v = rng.standard_normal(4)
    x = leaf(rng.standard_normal(4))
    f = x @ (Tensor(A) @ x)  # x^T A x: gradient (A + A^T) x, Hessian A + A^T
    (g,) = tg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.data, (A + A.T) @ x.data, rtol=1e-12)
    (hv,) = tg.grad(g, x, grad_outputs=Tensor(v), retain_graph=True)
    np.testing.assert_allclose(hv.data, (A + A.T) @ v, rtol=1e-12)
    (hv2,) = tg.grad((g * Tensor(v)).sum(), x)
    np.testing.assert_allclose(hv2.data, (A + A.T) @ v, rtol=1e-12)


# --- tg.grad ---------------------------------------------------------------------------------------


def test_grad_with_several_outputs_inputs_and_grad_outputs():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    o1 = a * b  # vector output, weighted by w
    o2 = (b * b).sum()  # scalar output, weight 1
    w = np.array([1.0, 10.0])
    ga, gb = tg.grad([o1, o2], [a, b], grad_outputs=[w, None])
    np.testing.assert_array_equal(ga.data, w * np.array([3.0, 4.0]))
    np.testing.assert_array_equal(gb.data, w * np.array([1.0, 2.0]) + 2 * np.array([3.0, 4.0]))
    assert a.grad is None and b.grad is None  # grad returns, never accumulates


def test_grad_with_respect_to_an_intermediate():
    a = leaf([1.0, 2.0])
    m = a * 2.0
    gm, ga = tg.grad((m * m).sum(), [m, a])
    np.testing.assert_array_equal(gm.data, [4.0, 8.0])  # 2m
    np.testing.assert_array_equal(ga.data, [8.0, 16.0])  # 2m * 2


def test_grad_of_an_unused_input_raises_unless_allow_unused():
    a, unused = leaf([1.0, 2.0]), leaf([5.0])
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(1,\)\) was not used.*allow_unused=True"):
        tg.grad((a * a).sum(), [a, unused])
    ga, gu = tg.grad((a * a).sum(), [a, unused], allow_unused=True)
    np.testing.assert_array_equal(ga.data, [2.0, 4.0])
    assert gu is None


def test_grad_refuses_an_input_that_does_not_require_grad():
    a = leaf([1.0])
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        tg.grad((a * 2.0).sum(), [a, Tensor(np.ones(1))])


def test_grad_of_an_output_without_a_graph_says_why():
    a = leaf([1.0])
    with tg.no_grad():
        y = (a * 2.0).sum()
    with pytest.raises(RuntimeError, match=r"no output \(shapes \(\)\) requires grad"):
        tg.grad(y, a)
    assert tg.grad(y, a, allow_unused=True) == (None,)


def test_grad_outputs_that_require_grad_stay_in_the_graph_when_cast():
    # a float32 weight on a float64 output is cast to float64, and the cast is recorded: the
    # vector-Jacobian product stays differentiable with respect to the weight
    x = leaf([1.0, -2.0])
    v = Tensor(np.array([3.0, 5.0], dtype=np.float32), requires_grad=True)
    (g,) = tg.grad(x * x, x, grad_outputs=v, create_graph=True)
    np.testing.assert_array_equal(g.data, [6.0, -20.0])  # 2x * v
    assert g.dtype == np.float64
    (gv,) = tg.grad(g.sum(), v)
    np.testing.assert_array_equal(gv.data, [2.0, -4.0])  # d(sum(2x * v))/dv = 2x
    assert gv.dtype == np.float32


def test_a_list_or_a_number_as_the_gradient_takes_the_output_dtype():
    x = leaf([1.0, 2.0])
    (x * 3.0).backward([1, 2])
    np.testing.assert_array_equal(x.grad.data, [3.0, 6.0])
    assert x.grad.dtype == np.float64
    s = leaf([4.0])
    (s * s).sum().backward(2)
    np.testing.assert_array_equal(s.grad.data, [16.0])


def test_grad_outputs_count_must_match():
    a = leaf([1.0])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        tg.grad([a * 2.0, a * 3.0], a, grad_outputs=[np.ones(1)])


# --- your own Function ---------------------------------------------------------------------------


class Cube(tg.Function):
    """x**3; d/dx = 3x**2, written with Tensor ops (so it has a second derivative)."""

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 3 * x**2


class CubeWithArrays(tg.Function):
    """x**3 with a backward on a saved ndarray: right first derivative, no second one."""

    def forward(self, x):
        self.save_for_backward(3 * x**2)  # an ndarray: a constant to the engine
        return x**3

    def backward(self, grad):
        (slope,) = self.saved
        return grad * slope


class MaskedScale(tg.Function):
    """a * scale where mask else 0; keeps the mask with save_for_backward."""

    def forward(self, a, scale=1.0):
        mask = a > 0
        self.save_for_backward(mask, scale)
        return np.where(mask, a * scale, 0.0)

    def backward(self, grad):
        mask, scale = self.saved
        return grad * (mask * scale)


def test_custom_function_first_and_second_derivatives():
    t = leaf([1.0, -2.0, 0.5])
    y = Cube.apply(t)
    np.testing.assert_array_equal(y.data, [1.0, -8.0, 0.125])
    assert type(y._ctx) is Cube
    (g,) = tg.grad(y.sum(), t, create_graph=True)
    np.testing.assert_allclose(g.data, [3.0, 12.0, 0.75])
    (h,) = tg.grad(g.sum(), t)
    np.testing.assert_allclose(h.data, [6.0, -12.0, 3.0])
    # the exercise DESIGN.md sets: check your backward
    assert gradcheck.gradcheck(Cube.apply, [t]) and gradcheck.gradgradcheck(Cube.apply, [t])


def test_custom_function_is_not_added_to_the_builtin_op_table():
    assert "Cube" not in tg.OPS and "MaskedScale" not in tg.OPS
    assert "Mul" in tg.OPS


def test_custom_function_backward_on_ndarrays_gives_first_derivatives():
    t = leaf([1.0, -2.0])
    CubeWithArrays.apply(t).sum().backward()
    np.testing.assert_allclose(t.grad.data, [3.0, 12.0])
    # ... and no second derivative: the gradient carries no graph
    (g,) = tg.grad(CubeWithArrays.apply(t).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    assert g.requires_grad is False
    with pytest.raises(RuntimeError, match="ndarrays"):
        tg.grad(g.sum(), t)


class CubeOnBoth(tg.Function):
    """x**3 with a backward written once for ndarrays and Tensors; it records what it was given."""

    seen: list = []

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        CubeOnBoth.seen.append((type(grad), type(x), type(self.output)))
        return grad * 3 * x**2


def test_a_user_op_gets_ndarrays_first_order_and_tensors_under_create_graph():
    t = leaf([1.0, -2.0])
    CubeOnBoth.seen = []
    CubeOnBoth.apply(t).sum().backward()
    assert CubeOnBoth.seen == [(np.ndarray, np.ndarray, np.ndarray)]
    np.testing.assert_allclose(t.grad.data, [3.0, 12.0])
    (g,) = tg.grad(CubeOnBoth.apply(t).sum(), t, create_graph=True)
    assert CubeOnBoth.seen[1] == (Tensor, Tensor, Tensor)
    (h,) = tg.grad(g.sum(), t)  # the Tensor run was recorded: a second derivative
    np.testing.assert_allclose(h.data, [6.0, -12.0])


def test_built_in_ops_take_the_same_path_as_user_ops():
    seen = []

    class Spy(tg.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            seen.append(type(grad))
            return grad

    x = leaf([0.5, -1.0])
    y = Spy.apply(x.tanh())
    y.sum().backward()
    assert seen == [np.ndarray]
    assert type(y._ctx.inputs[0]._ctx).backward is tg.OPS["Tanh"].backward  # no second implementation
    np.testing.assert_allclose(x.grad.data, 1 - np.tanh([0.5, -1.0]) ** 2)


def test_a_tensor_method_on_an_ndarray_in_backward_names_the_op_the_method_and_the_way_out():
    class Softplus(tg.Function):
        def forward(self, x):
            return np.logaddexp(0, x)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * x.sigmoid()  # a Tensor method: x is an ndarray here

    t = leaf([0.0, 1.0])
    expected = r"Softplus\.backward called \.sigmoid\(\) on an ndarray.*run\(Sigmoid, x\)"
    with pytest.raises(AttributeError, match=expected):
        Softplus.apply(t).sum().backward()


def test_dot_data_on_an_ndarray_in_backward_is_explained():
    class Cube(tg.Function):
        def forward(self, x):
            return x**3

        def backward(self, grad):
            (x,) = self.inputs
            return grad.data * 3 * x.data**2  # .data of an ndarray is its raw buffer

    with pytest.raises(TypeError, match=r"Cube\.backward used \.data on an ndarray"):
        Cube.apply(leaf([1.0])).sum().backward()


def test_a_backward_that_raises_leaves_the_graph_of_tensors_intact():
    class Broken(tg.Function):
        fail = True

        def forward(self, x):
            return x * 2

        def backward(self, grad):
            if Broken.fail:
                raise ZeroDivisionError("in backward")
            return grad * 2

    t = leaf([1.0, 2.0])
    y = Broken.apply(t).sum()
    with pytest.raises(ZeroDivisionError):
        y.backward(retain_graph=True)
    assert all(isinstance(x, Tensor) for x in y._ctx.inputs[0]._ctx.inputs)
    assert t.grad is None
    Broken.fail = False
    y.backward()
    np.testing.assert_array_equal(t.grad.data, [2.0, 2.0])


def test_zero_dimensional_gradients_stay_ndarrays():
    x = Tensor(np.array(2.0), requires_grad=True)
    (x * x + x * 3.0 - x).backward()  # three uses of x: its gradient is added up from 0-d arrays
    assert type(x.grad.data) is np.ndarray and x.grad.shape == () and x.grad.item() == 6.0
    (g,) = tg.grad((x * x).sum(), x)
    assert type(g.data) is np.ndarray and g.item() == 4.0


def test_custom_function_accepts_arrays_and_numbers_as_inputs():
    y = Cube.apply(np.array([2.0]))
    assert y.requires_grad is False and y._ctx is None
    np.testing.assert_array_equal(y.data, [8.0])
    z = Cube.apply(3)  # a Python number becomes a tensor
    assert z.item() == 27.0 and z._ctx is None


def test_save_for_backward_and_saved():
    a = leaf([2.0, -1.0, 3.0])
    y = MaskedScale.apply(a, scale=5.0)
    np.testing.assert_array_equal(y.data, [10.0, 0.0, 15.0])
    fn = y._ctx
    mask, scale = fn.saved
    np.testing.assert_array_equal(mask, [True, False, True])
    assert scale == 5.0
    y.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad.data, [5.0, 0.0, 15.0])
    assert fn.saved == () and fn.freed  # freed with the graph (its structure stays, for pictures)


def test_backward_may_return_a_list():
    class TwoInputs(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            a, b = self.inputs
            return [grad * b, grad * a]

    a, b = leaf([2.0]), leaf([3.0])
    TwoInputs.apply(a, b).sum().backward()
    assert (a.grad.item(), b.grad.item()) == (3.0, 2.0)


def test_backward_returning_the_wrong_number_of_gradients_names_the_op():
    class OneForTwo(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            return grad

    with pytest.raises(RuntimeError, match=r"OneForTwo.backward returned 1 gradient\(s\) for 2 input\(s\)"):
        OneForTwo.apply(leaf([1.0, 2.0]), leaf([3.0, 4.0])).sum().backward()


@pytest.mark.parametrize("bad_shape", [(3,), (2, 5), (2, 1), ()])
def test_backward_returning_an_impossible_shape_names_the_op_and_shapes(bad_shape):
    class BadShape(tg.Function):
        def forward(self, a):
            return a * 2

        def backward(self, grad):
            return Tensor(np.ones(bad_shape))

    shape_text = str(bad_shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(RuntimeError, match=rf"BadShape.backward.*shape {shape_text}.*input of shape \(2,\)"):
        BadShape.apply(leaf([1.0, 2.0])).sum().backward()
    # the engine's switches are put back after the failed walk
    assert tg.is_grad_enabled() is True and gc.isenabled()


def test_backward_returning_a_broadcastable_gradient_is_summed_to_the_input_shape():
    class Spread(tg.Function):
        """a -> a (shape (1,)); its backward sends back a (3, 1) gradient."""

        def forward(self, a):
            return a.copy()

        def backward(self, grad):
            return Tensor(np.array([[1.0], [2.0], [3.0]]))

    a = leaf([1.0])
    Spread.apply(a).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [6.0])


def test_backward_returning_a_non_number_is_a_clear_type_error():
    class ReturnsText(tg.Function):
        def forward(self, a):
            return a * 2

        def backward(self, grad):
            return "oops"

    with pytest.raises(TypeError, match=r"ReturnsText.backward returned a str.*shape \(2,\)"):
        ReturnsText.apply(leaf([1.0, 2.0])).sum().backward()


# --- clear errors ------------------------------------------------------------------------------------


def test_mismatched_shapes_name_the_op_and_both_shapes():
    a = Tensor(np.ones((2, 3)))
    b = Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        a + b
    with pytest.raises(tg.OpError, match=r"Mul.*\(2, 3\).*\(4,\)"):
        a * b


def test_matmul_inner_dimension_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3\).*\(4, 5\).*inner"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_backward_on_a_non_scalar_without_gradient_is_a_runtime_error():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        (x * 2.0).backward()


def test_backward_with_a_gradient_of_the_wrong_shape():
    x = leaf([[1.0, 2.0]])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(2,\).*output has shape \(1, 2\)"):
        (x * 2.0).backward(np.ones(2))


def test_backward_with_a_gradient_of_another_dtype_is_cast():
    x = leaf([1.0, 2.0], dtype=np.float32)
    (x * 2.0).backward(np.array([1.0, 3.0]))  # float64 gradient for a float32 output
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 6.0])


def test_unsupported_operand_type_is_a_type_error():
    x = leaf([1.0])
    with pytest.raises(TypeError, match=r"\+.*Tensor.*str"):
        x + "a"
    with pytest.raises(TypeError):
        "a" + x
    with pytest.raises(TypeError, match=r"\*.*Tensor.*NoneType"):
        x * None
    with pytest.raises(TypeError, match=r"@.*Tensor.*dict"):
        x @ {}


# --- detect_anomaly -------------------------------------------------------------------------------


def _line_below(n: int = 1) -> str:
    """'test_engine.py:<line>' of the caller's line plus n."""
    return f"{THIS_FILE}:{inspect.currentframe().f_back.f_lineno + n}"


def test_anomaly_in_a_forward_names_the_op_shapes_and_line():
    x = leaf([[1.0, -2.0, 3.0]])
    with tg.detect_anomaly(), np.errstate(all="ignore"):
        where = _line_below(2)
        with pytest.raises(tg.AnomalyError, match=r"Log.*NaN.*\(1, 3\)") as info:
            x.log()
    assert where in str(info.value)


def test_anomaly_zero_over_zero():
    z = Tensor(np.zeros(2))
    with tg.detect_anomaly(), np.errstate(all="ignore"):
        where = _line_below(2)
        with pytest.raises(tg.AnomalyError, match=r"Div.*NaN.*\(2,\), \(2,\)") as info:
            z / z
    assert where in str(info.value)


def test_anomaly_in_a_backward_names_the_op_and_where_it_was_created():
    x = leaf([0.0, 4.0])  # sqrt'(0) = inf
    with tg.detect_anomaly(), np.errstate(all="ignore"):
        where = _line_below()
        y = x.sqrt()
        loss = (y * 2.0).sum()
        with pytest.raises(tg.AnomalyError, match=r"Sqrt.backward produced Inf.*\(2,\)") as info:
            loss.backward()  # the Div inside Sqrt.backward is not blamed as a forward
    assert where in str(info.value)
    assert STATE.anomaly is False


def test_outside_detect_anomaly_nothing_is_checked():
    x = leaf([-1.0, 0.0])
    with np.errstate(all="ignore"):
        y = x.log()  # nan and -inf, silently, as in numpy
        assert np.isnan(y.data[0]) and np.isneginf(y.data[1])
        y.sum().backward()
    assert np.isinf(x.grad.data[1])


def test_ops_created_inside_but_run_backward_outside_are_not_checked():
    x = leaf([0.0])
    with tg.detect_anomaly():
        y = x.sqrt()
    with np.errstate(all="ignore"):
        y.sum().backward()
    assert np.isinf(x.grad.data[0])


def test_detect_anomaly_is_restored_after_an_exception_and_nests():
    assert STATE.anomaly is False
    with pytest.raises(KeyError):
        with tg.detect_anomaly():
            assert STATE.anomaly is True
            raise KeyError("boom")
    assert STATE.anomaly is False
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            pass
        assert STATE.anomaly is True
    assert STATE.anomaly is False


def test_finite_graphs_pass_under_detect_anomaly():
    x = leaf([0.5, 2.0])
    with tg.detect_anomaly():
        (g,) = tg.grad((x.sqrt() * x.log()).sum(), x, create_graph=True)
        (h,) = tg.grad(g.sum(), x)
    xv = np.array([0.5, 2.0])
    # f = sqrt(x) log x; f' = log x / (2 sqrt x) + 1/sqrt x; f'' = -log x / (4 x^1.5)
    np.testing.assert_allclose(g.data, np.log(xv) / (2 * np.sqrt(xv)) + 1 / np.sqrt(xv), rtol=1e-12)
    np.testing.assert_allclose(h.data, -np.log(xv) / (4 * xv**1.5), rtol=1e-12)


def test_a_tensor_assigned_to_data_by_hand_is_named_at_the_next_forward():
    w = leaf([[1.0, 2.0]])
    x = Tensor(np.array([[3.0, 4.0]]))
    (x * w).sum().backward()
    w.data = w.data - 0.5 * w.grad  # an ndarray minus a Tensor is a Tensor
    with pytest.raises(TypeError, match=r"Mul: input 1 \(shape \(1, 2\)\) has a Tensor as its \.data"):
        x * w


@pytest.mark.parametrize(
    "op, name, index",
    [
        (lambda w: w.exp(), "Exp", 0),
        (lambda w: w.relu(), "ReLU", 0),
        (lambda w: np.ones((2, 1)) @ w, "MatMul", 1),
        (lambda w: w.tanh(), "Tanh", 0),
    ],
)
def test_a_tensor_assigned_to_data_is_named_by_ops_that_numpy_refuses_it_in(op, name, index):
    w = leaf([[1.0, 2.0]])
    w.grad = Tensor(np.array([[1.0, 1.0]]))
    w.data = w.data - 0.5 * w.grad  # numpy's own error ("does not support ufuncs") says nothing useful
    expected = rf"{name}: input {index} \(shape \(1, 2\)\) has a Tensor as its \.data"
    with pytest.raises(TypeError, match=expected):
        op(w)


def test_a_saved_output_changed_through_a_detached_alias_raises_as_in_pytorch():
    w = leaf([0.5, 1.0])
    y = w.exp()
    alias = y.detach()
    alias += 1.0  # Exp's backward multiplies by its output: it would give exp(w) + 1
    with pytest.raises(RuntimeError, match=r"Exp\.backward may need its output \(shape \(2,\), float64\)"):
        y.sum().backward()
    w2 = leaf([0.5, 1.0])
    y2 = w2.exp()
    copy = y2.detach().clone()
    copy += 1.0  # a copy: the graph is untouched
    y2.sum().backward()
    np.testing.assert_allclose(w2.grad.data, np.exp([0.5, 1.0]), rtol=1e-15)


class _ReLUInPlace(tg.Function):
    """A ReLU whose backward writes into the gradient it receives (a numpy habit)."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        grad[self.inputs[0] <= 0] = 0
        return grad


def test_detect_anomaly_names_a_backward_that_changes_its_grad_in_place():
    a = leaf([-1.0, 2.0])
    b = a * 1.0
    d = _ReLUInPlace.apply(b) + b  # Add hands one gradient array to both of its inputs
    with tg.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"_ReLUInPlace\.backward changed its grad, an input or its "
                           r"output in place \(assignment destination is read-only\)"):
            d.sum().backward(retain_graph=True)
    assert a.grad is None  # nothing accumulated
    assert a.data.flags.writeable and b.data.flags.writeable and d.data.flags.writeable
    d.sum().backward()  # outside detect_anomaly the write happens, and the result is wrong
    assert a.grad.data.tolist() == [0.0, 2.0]  # (the right gradient is [1, 2])


def test_detect_anomaly_leaves_views_and_their_bases_writeable_after_the_backward():
    x = leaf([[1.0, -2.0], [3.0, 4.0]])
    with tg.detect_anomaly():
        y = x.reshape(4)  # y's array is a view of x's
        (y * y).sum().backward()
        z = x * x.T  # Mul's inputs: x's array and a view of it, frozen view first
        (g,) = tg.grad((z * 1.0).sum(), [x])
        (h,) = tg.grad((x.T * 2).sum(), [x])  # Transpose's backward returns a view of its grad
    assert x.data.flags.writeable and y.data.flags.writeable and z.data.flags.writeable
    np.testing.assert_array_equal(x.grad.data, 2 * x.data)
    np.testing.assert_array_equal(g.data, 2 * x.data.T)  # d/dx_ij of sum(x_ij x_ji) = 2 x_ji
    assert g.data.flags.writeable and h.data.flags.writeable
    h.data *= 0.5  # as outside detect_anomaly
    assert h.data.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_a_backward_that_fails_on_a_freed_graph_does_not_renumber_its_root():
    # before: the failed second backward took the root's number, and the picture of the
    # intermediates then said their gradients came from another backward
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    loss = (y * y).sum()
    loss.backward()
    started, passed = loss.grad_fn.started_walk, y.grad_fn.grad_walk
    assert started == passed > 0
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    assert loss.grad_fn.started_walk == started and y.grad_fn.grad_walk == passed
    np.testing.assert_array_equal(y.grad_fn.grad_output, 2 * y.data)  # still loss's own: dl/dy = 2y

"""The scalar engine ``Value``: every op against hand-written formulas, the chain rule on the
worked examples of seed 004, graph shapes (diamond, long chain), memory, errors, and the tiny MLP.

Expected values are computed here with the ``math`` module on plain floats, never with ``Value``.
"""

from __future__ import annotations

import gc
import math
import weakref
from fractions import Fraction
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu.scalar import MLP, Layer, Neuron, Value


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def central_difference(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    """(f(x+h) - f(x-h)) / 2h: the slope of f at x, from two evaluations."""
    return (f(x + h) - f(x - h)) / (2 * h)


# --- one table of unary ops: (name, op on a Value, forward formula, derivative formula, points) ---

UNARY = [
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0, [-1.5, 0.7, 3.0]),
    ("tanh", lambda v: v.tanh(), math.tanh, lambda x: 1 - math.tanh(x) ** 2, [-2.0, 0.0, 0.3, 1.7]),
    ("sigmoid", lambda v: v.sigmoid(), sig, lambda x: sig(x) * (1 - sig(x)), [-3.0, 0.0, 0.5, 4.0]),
    ("exp", lambda v: v.exp(), math.exp, math.exp, [-2.0, 0.0, 1.3]),
    ("log", lambda v: v.log(), math.log, lambda x: 1 / x, [0.2, 1.0, 7.5]),
    ("neg", lambda v: -v, lambda x: -x, lambda x: -1.0, [-1.0, 2.5]),
    ("square", lambda v: v**2, lambda x: x * x, lambda x: 2 * x, [-1.5, 0.0, 2.0]),
    ("cube", lambda v: v**3, lambda x: x * x * x, lambda x: 3 * x * x, [-1.5, 2.0]),
    ("reciprocal", lambda v: v**-1, lambda x: 1 / x, lambda x: -1 / x**2, [-2.0, 0.5, 3.0]),
    ("sqrt", lambda v: v**0.5, math.sqrt, lambda x: 0.5 / math.sqrt(x), [0.25, 2.0]),
    ("pow2.5", lambda v: v**2.5, lambda x: x**2.5, lambda x: 2.5 * x**1.5, [0.3, 1.7]),
    ("add_const", lambda v: v + 3, lambda x: x + 3, lambda x: 1.0, [-1.0, 2.0]),
    ("radd_const", lambda v: 3 + v, lambda x: 3 + x, lambda x: 1.0, [-1.0, 2.0]),
    ("sub_const", lambda v: v - 3, lambda x: x - 3, lambda x: 1.0, [-1.0, 2.0]),
    ("rsub_const", lambda v: 3 - v, lambda x: 3 - x, lambda x: -1.0, [-1.0, 2.0]),
    ("mul_const", lambda v: v * -2.5, lambda x: -2.5 * x, lambda x: -2.5, [-1.0, 2.0]),
    ("rmul_const", lambda v: -2.5 * v, lambda x: -2.5 * x, lambda x: -2.5, [-1.0, 2.0]),
    ("div_const", lambda v: v / 4, lambda x: x / 4, lambda x: 0.25, [-1.0, 2.0]),
    ("rdiv_const", lambda v: 4 / v, lambda x: 4 / x, lambda x: -4 / x**2, [-1.0, 2.0]),
    ("rpow_const", lambda v: 2**v, lambda x: 2.0**x, lambda x: math.log(2) * 2.0**x, [-1.0, 0.5, 3.0]),
]

# --- binary ops, Value with Value: (name, op, forward, d/da, d/db) ---

BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    ("div", lambda a, b: a / b, lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b**2),
]
BINARY_POINTS = [(1.5, -2.0), (-0.3, 0.7), (4.0, 2.5)]


def _unary_cases():
    for name, op, forward, derivative, points in UNARY:
        for x in points:
            yield pytest.param(op, forward, derivative, x, id=f"{name}({x})")


def _binary_cases():
    for name, op, forward, grad_a, grad_b in BINARY:
        for a, b in BINARY_POINTS:
            yield pytest.param(op, forward, grad_a, grad_b, a, b, id=f"{name}({a},{b})")


@pytest.mark.parametrize("op, forward, derivative, x", list(_unary_cases()))
def test_unary_value_and_derivative(op, forward, derivative, x):
    v = Value(x)
    out = op(v)
    assert isinstance(out.data, float)
    assert out.data == pytest.approx(forward(x), rel=1e-12, abs=1e-15)
    out.backward()
    assert isinstance(v.grad, float)
    assert v.grad == pytest.approx(derivative(x), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("op, forward, derivative, x", list(_unary_cases()))
def test_unary_central_difference(op, forward, derivative, x):
    v = Value(x)
    op(v).backward()
    numerical = central_difference(lambda t: op(Value(t)).data, x)
    assert v.grad == pytest.approx(numerical, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("op, forward, grad_a, grad_b, a, b", list(_binary_cases()))
def test_binary_value_and_derivatives(op, forward, grad_a, grad_b, a, b):
    va, vb = Value(a), Value(b)
    out = op(va, vb)
    assert out.data == pytest.approx(forward(a, b), rel=1e-12)
    assert out._prev == (va, vb)  # children in operand order
    out.backward()
    assert va.grad == pytest.approx(grad_a(a, b), rel=1e-12)
    assert vb.grad == pytest.approx(grad_b(a, b), rel=1e-12)
    numerical_a = central_difference(lambda t: op(Value(t), Value(b)).data, a)
    numerical_b = central_difference(lambda t: op(Value(a), Value(t)).data, b)
    assert va.grad == pytest.approx(numerical_a, rel=1e-6)
    assert vb.grad == pytest.approx(numerical_b, rel=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(-3, 3, allow_nan=False),
    b=st.floats(0.2, 3, allow_nan=False),
    which=st.sampled_from(["tanh", "sigmoid", "exp", "log", "relu", "mul", "div", "sub", "pow"]),
)
def test_random_composite_against_central_difference(a, b, which):
    """f(a, b) = g(a * b - a / b) for each g: backward through three ops agrees with the slopes."""

    def f(x: Value | float, y: Value | float) -> Value:
        inner = x * y - x / y
        return {
            "tanh": lambda z: z.tanh(),
            "sigmoid": lambda z: z.sigmoid(),
            "exp": lambda z: (z * 0.3).exp(),
            "log": lambda z: (z * z + 1).log(),
            "relu": lambda z: z.relu() + z * 0.1,
            "mul": lambda z: z * z,
            "div": lambda z: 1 / (z * z + 1),
            "sub": lambda z: 2 - z,
            "pow": lambda z: (z * z + 0.5) ** 1.5,
        }[which](inner)

    inner = a * b - a / b
    if which == "relu" and abs(inner) < 1e-4:
        return  # the kink of relu: no slope to compare with
    va, vb = Value(a), Value(b)
    f(va, vb).backward()
    slope_a = central_difference(lambda t: f(Value(t), Value(b)).data, a)
    slope_b = central_difference(lambda t: f(Value(a), Value(t)).data, b)
    assert va.grad == pytest.approx(slope_a, rel=1e-5, abs=1e-6)
    assert vb.grad == pytest.approx(slope_b, rel=1e-5, abs=1e-6)


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(-800.0).sigmoid().data == 0.0
    assert Value(800.0).sigmoid().data == 1.0
    assert Value(-40.0).sigmoid().data == pytest.approx(math.exp(-40.0) / (1 + math.exp(-40.0)), rel=1e-12)


def test_pow_edges():
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf  # the vertical slope of sqrt at 0
    x = Value(0.0)
    (x**0).backward()
    assert x.grad == 0.0  # x**0 is the constant 1
    x = Value(-2.0)
    out = x**3
    out.backward()
    assert out.data == -8.0 and x.grad == 12.0  # an integer exponent keeps a negative base real


def test_constants_make_no_nodes():
    x = Value(2.0)
    assert (x * 3)._prev == (x,)
    assert (3 - x)._prev == (x,)
    assert (x * 3)._op == "*3" and (3 - x)._op == "3-" and (x**2)._op == "**2"
    assert (x + Fraction(1, 2)).data == 2.5
    assert (x * np.float32(0.5)).data == 1.0
    assert (np.float64(3.0) * x).data == 6.0


def test_repr_and_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    v = Value(3, label="w1")
    assert v.data == 3.0 and isinstance(v.data, float)
    assert v.label == "w1"
    assert repr(v) == "Value(data=3.0, grad=0.0, label='w1')"
    v.label = "w"
    assert repr(v) == "Value(data=3.0, grad=0.0, label='w')"


def test_micrograd_readme_example():
    """micrograd's own README example and the numbers it prints (24.7041, 138.8338, 645.5773)."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


# --- the chain rule on the worked examples of seed 004 ---------------------------------------------


def test_seed_004_composite_decomposed_into_elementary_ops():
    """f(x; w, b) = 1 / (exp(-(w*x + b)) + 1) as h1..h6; at x=1, w=0, b=0: df/dw = df/db = 0.25."""
    x, w, b = Value(1.0, label="x"), Value(0.0, label="w"), Value(0.0, label="b")
    h1 = x * w
    h2 = h1 + b
    h3 = h2 * -1
    h4 = h3.exp()
    h5 = h4 + 1
    f = h5**-1
    assert f.data == 0.5
    f.backward()
    # the chain rule written out: df/dw = df/dh5 * dh5/dh4 * dh4/dh3 * dh3/dh2 * dh2/dh1 * dh1/dw
    df_dh5 = -1 / 2.0**2  # h5 = exp(0) + 1 = 2
    df_dw = df_dh5 * 1.0 * math.exp(0.0) * -1.0 * 1.0 * 1.0  # dh1/dw = x = 1
    assert df_dw == 0.25
    assert w.grad == df_dw
    assert b.grad == 0.25
    assert x.grad == 0.0  # dh1/dx = w = 0
    # the intermediate gradients along the path: df/dh5 = df/dh4 = df/dh3 = -0.25, then the -1 flips it
    assert (h5.grad, h4.grad, h3.grad, h2.grad, h1.grad) == (-0.25, -0.25, -0.25, 0.25, 0.25)
    # the same function as one sigmoid op
    w2, b2 = Value(0.0), Value(0.0)
    (w2 * 1.0 + b2).sigmoid().backward()
    assert (w2.grad, b2.grad) == (0.25, 0.25)


# The classic two-layer sigmoid network of seed 004.
I1, I2 = 0.05, 0.10
W = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
B1, B2 = 0.35, 0.60
T1, T2 = 0.01, 0.99


def _two_layer_by_hand() -> dict[str, float]:
    """Forward and every partial derivative by the chain rule, in plain floats."""
    w = W
    out_h1 = sig(w["w1"] * I1 + w["w2"] * I2 + B1)
    out_h2 = sig(w["w3"] * I1 + w["w4"] * I2 + B1)
    out_o1 = sig(w["w5"] * out_h1 + w["w6"] * out_h2 + B2)
    out_o2 = sig(w["w7"] * out_h1 + w["w8"] * out_h2 + B2)
    # dE/dnet_o = dE/dout_o * dout_o/dnet_o = (out - target) * out * (1 - out)
    delta_o1 = (out_o1 - T1) * out_o1 * (1 - out_o1)
    delta_o2 = (out_o2 - T2) * out_o2 * (1 - out_o2)
    # a hidden unit feeds both outputs: its error is the sum over both paths
    delta_h1 = (delta_o1 * w["w5"] + delta_o2 * w["w7"]) * out_h1 * (1 - out_h1)
    delta_h2 = (delta_o1 * w["w6"] + delta_o2 * w["w8"]) * out_h2 * (1 - out_h2)
    return {
        "E": 0.5 * (T1 - out_o1) ** 2 + 0.5 * (T2 - out_o2) ** 2,
        "w1": delta_h1 * I1, "w2": delta_h1 * I2, "w3": delta_h2 * I1, "w4": delta_h2 * I2,
        "w5": delta_o1 * out_h1, "w6": delta_o1 * out_h2, "w7": delta_o2 * out_h1, "w8": delta_o2 * out_h2,
        "b1": delta_h1 + delta_h2, "b2": delta_o1 + delta_o2,
    }  # fmt: skip


def _two_layer_on_values(fused: bool) -> tuple[Value, dict[str, Value]]:
    p = {name: Value(x, label=name) for name, x in {**W, "b1": B1, "b2": B2}.items()}
    i1, i2 = Value(I1), Value(I2)
    if fused:
        net_h1 = Value.dot([p["w1"], p["w2"]], [i1, i2], p["b1"])
        net_h2 = Value.dot([p["w3"], p["w4"]], [i1, i2], p["b1"])
    else:
        net_h1 = p["w1"] * i1 + p["w2"] * i2 + p["b1"]
        net_h2 = p["w3"] * i1 + p["w4"] * i2 + p["b1"]
    out_h1, out_h2 = net_h1.sigmoid(), net_h2.sigmoid()
    out_o1 = (p["w5"] * out_h1 + p["w6"] * out_h2 + p["b2"]).sigmoid()
    out_o2 = (p["w7"] * out_h1 + p["w8"] * out_h2 + p["b2"]).sigmoid()
    E = 0.5 * (T1 - out_o1) ** 2 + 0.5 * (T2 - out_o2) ** 2
    return E, p


@pytest.mark.parametrize("fused", [False, True], ids=["elementary", "dot"])
def test_seed_004_two_layer_network(fused):
    expected = _two_layer_by_hand()
    E, p = _two_layer_on_values(fused)
    assert E.data == pytest.approx(expected["E"], rel=1e-12)
    E.backward()
    for name, param in p.items():
        assert param.grad == pytest.approx(expected[name], rel=1e-10, abs=1e-16), name
    # the numbers printed in the literature
    assert E.data == pytest.approx(0.298371109, abs=1e-8)
    assert abs(p["w5"].grad - 0.082167041) < 1e-8
    assert abs(p["w1"].grad - 0.000438568) < 1e-8
    # one gradient-descent step with learning rate 0.5, as the literature does next
    assert p["w5"].data - 0.5 * p["w5"].grad == pytest.approx(0.35891648, abs=1e-8)
    assert p["w1"].data - 0.5 * p["w1"].grad == pytest.approx(0.149780716, abs=1e-9)


# --- graph shapes ----------------------------------------------------------------------------------


def test_diamond_accumulates():
    x = Value(3.0)
    y = x * x + x  # x is used three times
    y.backward()
    assert y.data == 12.0
    assert x.grad == 2 * 3.0 + 1
    a = Value(-2.0)
    b = a + a  # both operands the same node
    c = b * b
    c.backward()
    assert a.grad == 8 * -2.0  # c = 4a**2


def test_shared_intermediate():
    x = Value(0.5)
    h = x.tanh()
    y = h * h + h.exp()  # h feeds two ops
    y.backward()
    t = math.tanh(0.5)
    assert x.grad == pytest.approx((2 * t + math.exp(t)) * (1 - t * t), rel=1e-12)


def test_long_chain_100k_ops():
    n = 100_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * 1.000001
    y.backward()
    assert y.data == pytest.approx(1.000001**n, rel=1e-9)
    assert x.grad == pytest.approx(1.000001**n, rel=1e-9)


def test_backward_twice_adds_twice_to_leaves_and_resets_intermediates():
    x = Value(2.0)
    h = x * x
    y = h * h  # x**4
    y.backward()
    assert x.grad == 4 * 2.0**3
    assert h.grad == 2 * 4.0
    y.backward()
    assert x.grad == 2 * 4 * 2.0**3  # leaves accumulate, as in PyTorch
    assert h.grad == 2 * 4.0  # an intermediate holds this backward's gradient only


def test_backward_from_several_roots_through_a_reused_node_counts_each_once():
    """autodiff.md's case: micrograd gives a.grad 10 here (its w.grad, 1 + 2 + 3, is passed on again)."""
    a = Value(0.5)
    w = a * 1.0
    for x in (1.0, 2.0, 3.0):
        (w * x).backward()
    assert a.grad == 6.0  # d(w*1 + w*2 + w*3)/da
    assert w.grad == 3.0  # the last backward's d(w*3)/dw


def test_relu_of_nan_passes_the_gradient_on_as_pytorch_does():
    x = Value(float("nan"))
    y = x.relu()
    y.backward()
    assert math.isnan(y.data) and x.grad == 1.0

def test_backward_on_a_leaf():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0


# --- micrograd's manual walk: o.grad = 1.0; o._backward(); ... ------------------------------------


def lecture_neuron():
    """The micrograd lecture's neuron o = tanh(x1*w1 + x2*w2 + b), every node kept by name."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


# The lecture's numbers: n = 0.8813735870195432 = atanh(1/sqrt(2)), so do/dn = 1 - tanh(n)**2 = 0.5
LECTURE_GRADS = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5}


def test_the_micrograd_lectures_manual_backward_node_by_node():
    v = lecture_neuron()
    assert v["o"].data == pytest.approx(1 / math.sqrt(2), abs=1e-6)
    v["o"].grad = 1.0
    # the lecture's order, b (a leaf) included: its _backward does nothing
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):
        v[name]._backward()
    for name, expected in LECTURE_GRADS.items():
        assert v[name].grad == pytest.approx(expected, abs=1e-6), name


def test_the_lectures_neuron_gives_the_same_gradients_with_backward():
    v = lecture_neuron()
    v["o"].backward()
    for name, expected in LECTURE_GRADS.items():
        assert v[name].grad == pytest.approx(expected, abs=1e-6), name


def test_a_leafs_backward_is_a_no_op():
    x = Value(3.0)
    x.grad = 2.5
    assert x._backward() is None
    assert x.grad == 2.5 and x._prev == ()


@pytest.mark.parametrize("op, forward, derivative, x", list(_unary_cases()))
def test_every_unary_op_runs_its_own_step_by_hand(op, forward, derivative, x):
    v = Value(x)
    out = op(v)
    out.grad = 2.0
    out._backward()
    assert v.grad == pytest.approx(2.0 * derivative(x), rel=1e-12, abs=1e-15)
    out._backward()  # a step adds, as micrograd's +=
    assert v.grad == pytest.approx(4.0 * derivative(x), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("op, forward, grad_a, grad_b, a, b", list(_binary_cases()))
def test_every_binary_op_runs_its_own_step_by_hand(op, forward, grad_a, grad_b, a, b):
    va, vb = Value(a), Value(b)
    out = op(va, vb)
    out.grad = -0.5
    out._backward()
    assert va.grad == pytest.approx(-0.5 * grad_a(a, b), rel=1e-12)
    assert vb.grad == pytest.approx(-0.5 * grad_b(a, b), rel=1e-12)


def test_dot_and_sum_run_their_own_step_by_hand():
    w, xs, b = [Value(0.5), Value(-1.5)], [Value(1.0), Value(2.0)], Value(0.25)
    out = Value.dot(w, xs, b)
    out.grad = 2.0
    out._backward()
    assert [v.grad for v in w] == [2.0, 4.0]  # 2 * x_i
    assert [v.grad for v in xs] == [1.0, -3.0]  # 2 * w_i
    assert b.grad == 2.0
    terms = [Value(1.0), Value(-4.0), Value(2.0)]
    total = Value.sum([*terms, 3])
    total.grad = 1.5
    total._backward()
    assert [v.grad for v in terms] == [1.5, 1.5, 1.5]


def test_a_manual_walk_makes_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        v = lecture_neuron()
        v["o"].grad = 1.0
        for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):
            v[name]._backward()
        refs = [weakref.ref(v[name]) for name in ("x1w1", "x2w2", "x1w1x2w2", "n", "o")]
        for name in ("x1w1", "x2w2", "x1w1x2w2", "n", "o"):
            del v[name]
        assert [r() for r in refs] == [None] * 5  # freed by reference counting alone
    finally:
        gc.enable()


def test_no_reference_cycles():
    gc.collect()
    gc.disable()
    try:
        x = Value(0.3)
        w = [Value(0.1), Value(-0.2)]
        y = (x * 2 + 1).tanh()
        z = Value.dot(w, [y, x], Value(0.5)).sigmoid() / (x - 3) + x**2 - 1 / x
        s = Value.sum([z, y.relu(), y.exp(), (x + 1).log(), -y])
        s.backward()  # backward must not create cycles either
        refs = [weakref.ref(v) for v in (y, z, s)]
        del y, z, s
        assert [r() for r in refs] == [None, None, None]  # freed by reference counting alone
        assert x.grad != 0.0  # the leaves live on with their gradients
    finally:
        gc.enable()


def test_intermediate_lives_while_used():
    gc.disable()
    try:
        x = Value(1.0)
        y = x * 2
        z = y + 1
        ref = weakref.ref(y)
        del y
        assert ref() is not None  # z still needs it
        del z
        assert ref() is None
    finally:
        gc.enable()


# --- fused ops ------------------------------------------------------------------------------------


def test_dot_matches_its_formula():
    w = [Value(0.5), Value(-1.5), Value(2.0)]
    xs = [Value(1.0), Value(2.0), Value(-3.0)]
    b = Value(0.25)
    out = Value.dot(w, xs, b)
    assert out.data == 0.5 * 1.0 - 1.5 * 2.0 + 2.0 * -3.0 + 0.25
    assert out._prev == (*w, *xs, b)
    (out * 3).backward()
    assert [v.grad for v in w] == [3.0, 6.0, -9.0]  # 3 * x_i
    assert [v.grad for v in xs] == [1.5, -4.5, 6.0]  # 3 * w_i
    assert b.grad == 3.0


def test_dot_with_plain_numbers_and_no_bias():
    w = [Value(2.0), Value(3.0)]
    out = Value.dot(w, [0.5, -1], bias=1.0)
    assert out.data == 2.0 * 0.5 + 3.0 * -1 + 1.0
    out.backward()
    assert [v.grad for v in w] == [0.5, -1.0]
    out = Value.dot(w, [Value(1.0), 4])
    assert out.data == 14.0


def test_sum_matches_its_formula():
    vs = [Value(1.0), Value(-2.0), Value(4.5)]
    out = Value.sum([*vs, 10, vs[0]])  # a constant, and vs[0] twice
    assert out.data == 1.0 - 2.0 + 4.5 + 10 + 1.0
    (out * out).backward()
    assert [v.grad for v in vs] == [2 * out.data * 2, 2 * out.data, 2 * out.data]


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr, op",
    [
        (lambda v: v + "a", "+"),
        (lambda v: "a" + v, "+"),
        (lambda v: v - "a", "-"),
        (lambda v: "a" - v, "-"),
        (lambda v: v * "a", "*"),
        (lambda v: "a" * v, "*"),
        (lambda v: v / "a", "/"),
        (lambda v: "a" / v, "/"),
        (lambda v: v + [1.0], "+"),
        (lambda v: v * 1j, "*"),
    ],
)
def test_unsupported_operand_names_the_op_and_type(expr, op):
    with pytest.raises(TypeError) as info:
        expr(Value(1.0))
    message = str(info.value)
    assert f"Value {op}" in message
    assert "Value or a real number" in message


def test_bad_data():
    with pytest.raises(TypeError, match="str"):
        Value("3")
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))


def test_pow_needs_a_number_exponent():
    with pytest.raises(TypeError, match=r"Value \*\*: the exponent must be a number .*not a Value"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match=r"Value \*\*: the exponent must be a number .*got str"):
        Value(2.0) ** "3"
    with pytest.raises(ValueError, match="not a real number"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="negative power of zero"):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match="positive base"):
        (-2) ** Value(0.5)


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive(x):
    with pytest.raises(ValueError, match=rf"Value.log: .*positive.*got {x}"):
        Value(x).log()


def test_division_by_zero_and_overflow():
    with pytest.raises(ZeroDivisionError, match=r"Value /"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError, match=r"Value /"):
        1 / Value(0.0)
    with pytest.raises(OverflowError, match=r"Value exp"):
        Value(1000.0).exp()


def test_dot_length_mismatch():
    with pytest.raises(ValueError, match="Value.dot: 2 weights but 3 inputs"):
        Value.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Value dot"):
        Value.dot([Value(1.0)], ["x"])


# --- the tiny MLP ----------------------------------------------------------------------------------


def test_mlp_shapes_parameters_and_zero_grad():
    tinygrad_edu.manual_seed(0)
    model = MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337
    assert len({id(p) for p in params}) == 337
    assert all(-1.0 <= p.data <= 1.0 for p in params)
    assert isinstance(model([0.5, -0.5]), Value)
    assert len(Layer(3, 4)([1.0, 2.0, 3.0])) == 4
    assert repr(Neuron(3, nonlin=False)) == "LinearNeuron(3)"
    model([0.5, -0.5]).backward()
    assert any(p.grad != 0.0 for p in params)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in params)


def test_mlp_same_seed_same_weights():
    tinygrad_edu.manual_seed(7)
    a = [p.data for p in MLP(3, [4, 1]).parameters()]
    tinygrad_edu.manual_seed(7)
    b = [p.data for p in MLP(3, [4, 1]).parameters()]
    assert a == b


def test_neuron_gradients_match_elementary_ops():
    """The fused neuron and the same neuron written with * and + (micrograd's way) agree."""
    tinygrad_edu.manual_seed(3)
    neuron = Neuron(4)
    xs = [Value(x) for x in (0.3, -1.2, 2.0, 0.7)]
    neuron(xs).backward()
    fused = [p.grad for p in neuron.parameters()] + [x.grad for x in xs]

    ws = [Value(p.data) for p in neuron.w]
    b = Value(neuron.b.data)
    xs2 = [Value(x.data) for x in xs]
    act = b
    for w, x in zip(ws, xs2):
        act = act + w * x
    act.relu().backward()
    elementary = [w.grad for w in ws] + [b.grad] + [x.grad for x in xs2]
    assert fused == pytest.approx(elementary, rel=1e-12)


def test_mlp_trains_on_a_small_problem():
    """micrograd's recipe (max-margin loss + L2, SGD) on 20 points of two blobs: the loss goes down."""
    tinygrad_edu.manual_seed(1)
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-1.0, 0.5, (10, 2)), rng.normal(1.0, 0.5, (10, 2))]).tolist()
    y = [-1.0] * 10 + [1.0] * 10
    model = MLP(2, [8, 8, 1])

    def loss() -> Value:
        scores = [model(x) for x in X]
        data_loss = Value.sum((1 + -yi * s).relu() for yi, s in zip(y, scores)) * (1.0 / len(X))
        return data_loss + 1e-4 * Value.sum(p * p for p in model.parameters())

    losses = []
    for _ in range(30):
        total = loss()
        losses.append(total.data)
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-12 for a, b in zip(losses[:5], losses[1:6]))  # small steps: monotone at first
    accuracy = sum((model(x).data > 0) == (yi > 0) for x, yi in zip(X, y)) / len(X)
    assert accuracy >= 0.9


def test_assigning_a_micrograd_style_backward_says_where_an_op_stores_its_step():
    x = Value(0.5)
    out = Value(x.data * 3, (x,), "*3")
    with pytest.raises(AttributeError, match=r"an op stores that step as out\._backward_fn = step"):
        out._backward = lambda: None  # micrograd's closure over out

    def step(node):
        x.grad += 3 * node.grad

    out._backward_fn = step
    out.grad = 2.0
    out._backward()
    assert x.grad == 6.0


def test_a_name_given_without_label_is_named_at_once():
    """Value(2.0, "x") put the string into the node's inputs; it failed only at backward or drawing."""
    with pytest.raises(TypeError, match=r"Value\(2.0, 'x'\): the second argument is the Values .*label='x'"):
        Value(2.0, "x")
    with pytest.raises(TypeError, match="must be Values, got 3"):
        Value(1.0, [3])
    assert Value(1.0, [Value(2.0)])._prev[0].data == 2.0  # a list of Values is taken, as a tuple

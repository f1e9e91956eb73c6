"""The chain rule and back propagation, one number at a time: the course notes' two worked examples.

1. The composite f(x; w, b) = 1 / (exp(-(w*x + b)) + 1), split into elementary
   functions h1..h6 and evaluated at x = 1, w = 0, b = 0: df/dw is the product
   of the local derivatives along the path from f to w (= 0.25).
2. The two-layer sigmoid network (inputs 0.05, 0.10; targets 0.01, 0.99):
   dE/dw5 and dE/dw1 derived step by step, then one gradient-descent step
   with learning rate 0.5.
3. The same network with the Tensor engine in matrix form: both engines agree.

Every local derivative is computed by the scalar engine on a one-op graph (so
nothing here is differentiated by hand), multiplied out along the path as the
chain rule says, and compared with what ``backward()`` left in ``.grad``.

    python examples/chain_rule.py
"""

from __future__ import annotations

import sys
from typing import Any, Callable

import numpy as np

from tinygrad_edu import Tensor, Value

# The numbers the literature prints for the two examples (the network's rounded to 9 decimals).
LITERATURE = {
    "df/dw": 0.25,
    "dE/dw5": 0.082167041,
    "w5 after one step": 0.35891648,
    "dE/dw1": 0.000438568,
    "w1 after one step": 0.149780716,
}
LEARNING_RATE = 0.5


def fmt(v: float) -> str:
    """A number rounded to 9 decimals, trailing zeros dropped (0.25, 0.082167041, 1)."""
    if abs(v) < 5e-10:
        return "0"  # never "-0"
    return f"{v:.9f}".rstrip("0").rstrip(".")


def fmt_array(a: np.ndarray) -> str:
    """A small array as nested lists of ``fmt`` numbers: [[0.082167041, 0.082667628], ...]."""
    if a.ndim == 0:
        return fmt(float(a))
    return "[" + ", ".join(fmt_array(row) for row in a) + "]"


def labelled(v: Value, label: str) -> Value:
    """Give a node its name (micrograd's ``.label``), so that it prints and draws as that name."""
    v.label = label
    return v


def local_grads(step: Callable[..., Value], *args: float) -> list[float]:
    """The partial derivatives of one step at ``args``: backward on a graph of that step alone."""
    leaves = [Value(a) for a in args]
    step(*leaves).backward()
    return [leaf.grad for leaf in leaves]


def show(name: str, formula: str, value: float) -> None:
    print(f"  {name:<16} {formula:<44} {fmt(value)}")


def show_pair(name: str, chain: float, node: Value) -> None:
    """A gradient by the chain rule next to the same gradient from backward()."""
    print(f"  {name:<16} chain rule {fmt(chain):<14} backward {node.label}.grad = {fmt(node.grad)}")


# --- 1. the chain rule on a composite function ----------------------------------------------


def composite() -> dict[str, Any]:
    print("== 1. The chain rule: f(x; w, b) = 1 / (exp(-(w*x + b)) + 1) at x = 1, w = 0, b = 0")
    x = Value(1.0, label="x")
    w = Value(0.0, label="w")
    b = Value(0.0, label="b")
    h1 = labelled(x * w, "h1")
    h2 = labelled(h1 + b, "h2")
    h3 = labelled(h2 * -1, "h3")  # times -1
    h4 = labelled(h3.exp(), "h4")
    h5 = labelled(h4 + 1, "h5")
    h6 = labelled(h5**-1, "f")  # 1 / h5
    f = h6

    print("forward, one elementary function at a time")
    show("h1", "x * w", h1.data)
    show("h2", "h1 + b", h2.data)
    show("h3", "-1 * h2", h3.data)
    show("h4", "exp(h3)", h4.data)
    show("h5", "h4 + 1", h5.data)
    show("h6 = f", "1 / h5", h6.data)

    print("local derivatives (each step alone)")
    dh1_dx, dh1_dw = local_grads(lambda x_, w_: x_ * w_, x.data, w.data)
    dh2_dh1, dh2_db = local_grads(lambda h1_, b_: h1_ + b_, h1.data, b.data)
    (dh3_dh2,) = local_grads(lambda h2_: h2_ * -1, h2.data)
    (dh4_dh3,) = local_grads(lambda h3_: h3_.exp(), h3.data)
    (dh5_dh4,) = local_grads(lambda h4_: h4_ + 1, h4.data)
    (dh6_dh5,) = local_grads(lambda h5_: h5_**-1, h5.data)
    show("dh6/dh5", "-1 / h5**2", dh6_dh5)
    show("dh5/dh4", "1", dh5_dh4)
    show("dh4/dh3", "exp(h3)", dh4_dh3)
    show("dh3/dh2", "-1", dh3_dh2)
    show("dh2/dh1", "1", dh2_dh1)
    show("dh2/db", "1", dh2_db)
    show("dh1/dw", "x", dh1_dw)
    show("dh1/dx", "w", dh1_dx)

    f.backward()
    print("chain products (multiply along the path from f) and backward()")
    df_dh6 = 1.0  # df/df
    df_dh5 = df_dh6 * dh6_dh5
    df_dh4 = df_dh5 * dh5_dh4
    df_dh3 = df_dh4 * dh4_dh3
    df_dh2 = df_dh3 * dh3_dh2
    df_dh1 = df_dh2 * dh2_dh1
    df_dw = df_dh1 * dh1_dw
    df_db = df_dh2 * dh2_db
    df_dx = df_dh1 * dh1_dx
    for name, chain, node in [
        ("df/dh6", df_dh6, h6),
        ("df/dh5", df_dh5, h5),
        ("df/dh4", df_dh4, h4),
        ("df/dh3", df_dh3, h3),
        ("df/dh2", df_dh2, h2),
        ("df/dh1", df_dh1, h1),
        ("df/dw", df_dw, w),
        ("df/db", df_db, b),
        ("df/dx", df_dx, x),
    ]:
        show_pair(name, chain, node)
    print(
        f"  df/dw = df/dh6 * dh6/dh5 * dh5/dh4 * dh4/dh3 * dh3/dh2 * dh2/dh1 * dh1/dw\n"
        f"        = {fmt(df_dh6)} * ({fmt(dh6_dh5)}) * {fmt(dh5_dh4)} * {fmt(dh4_dh3)} * ({fmt(dh3_dh2)})"
        f" * {fmt(dh2_dh1)} * {fmt(dh1_dw)} = {fmt(df_dw)}"
    )
    return {"df/dw": w.grad, "df/db": b.grad, "chain df/dw": df_dw}


# --- 2. back propagation through the two-layer sigmoid network ------------------------------


def neuron(w_a: Value, x_a: Value, w_b: Value, x_b: Value, bias: Value) -> Value:
    """net = w_a * x_a + w_b * x_b + bias."""
    return w_a * x_a + w_b * x_b + bias


def half_squared_error(target: Value, out: Value) -> Value:
    """E = 1/2 (target - out)**2."""
    return 0.5 * (target - out) ** 2


def network() -> dict[str, Any]:
    print()
    print("== 2. Back propagation: the two-layer sigmoid network, E = sum of 1/2 (target - out)**2")
    i1, i2 = Value(0.05, label="i1"), Value(0.10, label="i2")
    w1, w2, w3, w4 = (Value(v, label=f"w{k}") for k, v in enumerate([0.15, 0.20, 0.25, 0.30], 1))
    w5, w6, w7, w8 = (Value(v, label=f"w{k}") for k, v in enumerate([0.40, 0.45, 0.50, 0.55], 5))
    b1, b2 = Value(0.35, label="b1"), Value(0.60, label="b2")
    t1, t2 = Value(0.01, label="target_o1"), Value(0.99, label="target_o2")
    weights = [w1, w2, w3, w4, w5, w6, w7, w8]
    print(f"  inputs i1 = {fmt(i1.data)}, i2 = {fmt(i2.data)}; targets {fmt(t1.data)}, {fmt(t2.data)}")
    print("  weights w1..w8 = " + ", ".join(fmt(v.data) for v in weights))
    print(f"  biases b1 = {fmt(b1.data)}, b2 = {fmt(b2.data)}")

    net_h1 = labelled(neuron(w1, i1, w2, i2, b1), "net_h1")
    out_h1 = labelled(net_h1.sigmoid(), "out_h1")
    net_h2 = labelled(neuron(w3, i1, w4, i2, b1), "net_h2")
    out_h2 = labelled(net_h2.sigmoid(), "out_h2")
    net_o1 = labelled(neuron(w5, out_h1, w6, out_h2, b2), "net_o1")
    out_o1 = labelled(net_o1.sigmoid(), "out_o1")
    net_o2 = labelled(neuron(w7, out_h1, w8, out_h2, b2), "net_o2")
    out_o2 = labelled(net_o2.sigmoid(), "out_o2")
    e_o1 = labelled(half_squared_error(t1, out_o1), "E_o1")
    e_o2 = labelled(half_squared_error(t2, out_o2), "E_o2")
    e_total = labelled(e_o1 + e_o2, "E_total")

    print("forward")
    show("net_h1", "w1*i1 + w2*i2 + b1", net_h1.data)
    show("out_h1", "sigmoid(net_h1)", out_h1.data)
    show("net_h2", "w3*i1 + w4*i2 + b1", net_h2.data)
    show("out_h2", "sigmoid(net_h2)", out_h2.data)
    show("net_o1", "w5*out_h1 + w6*out_h2 + b2", net_o1.data)
    show("out_o1", "sigmoid(net_o1)", out_o1.data)
    show("net_o2", "w7*out_h1 + w8*out_h2 + b2", net_o2.data)
    show("out_o2", "sigmoid(net_o2)", out_o2.data)
    show("E_o1", "1/2 (target_o1 - out_o1)**2", e_o1.data)
    show("E_o2", "1/2 (target_o2 - out_o2)**2", e_o2.data)
    show("E_total", "E_o1 + E_o2", e_total.data)

    e_total.backward()

    def sigmoid_step(z: Value) -> Value:
        return z.sigmoid()

    print("dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5")
    de_dout_o1 = local_grads(half_squared_error, t1.data, out_o1.data)[1]
    dout_o1_dnet_o1 = local_grads(sigmoid_step, net_o1.data)[0]
    # d net_o1 / d (w5, out_h1, w6, out_h2, b2) = (out_h1, w5, out_h2, w6, 1)
    dnet_o1 = local_grads(neuron, w5.data, out_h1.data, w6.data, out_h2.data, b2.data)
    dnet_o1_dw5, dnet_o1_dout_h1 = dnet_o1[0], dnet_o1[1]
    show("dE/dout_o1", "-(target_o1 - out_o1)", de_dout_o1)
    show("dout_o1/dnet_o1", "out_o1 * (1 - out_o1)", dout_o1_dnet_o1)
    show("dnet_o1/dw5", "out_h1", dnet_o1_dw5)
    de_dnet_o1 = de_dout_o1 * dout_o1_dnet_o1
    de_dw5 = de_dnet_o1 * dnet_o1_dw5
    show_pair("dE/dout_o1", de_dout_o1, out_o1)
    show_pair("dE/dnet_o1", de_dnet_o1, net_o1)
    show_pair("dE/dw5", de_dw5, w5)
    w5_new = w5.data - LEARNING_RATE * w5.grad
    print(f"  w5 - lr * dE/dw5 = {fmt(w5.data)} - {fmt(LEARNING_RATE)} * {fmt(w5.grad)} = {fmt(w5_new)}")

    print("dE/dw1 = (dE_o1/dout_h1 + dE_o2/dout_h1) * dout_h1/dnet_h1 * dnet_h1/dw1  (two paths)")
    de_dout_o2 = local_grads(half_squared_error, t2.data, out_o2.data)[1]
    dout_o2_dnet_o2 = local_grads(sigmoid_step, net_o2.data)[0]
    dnet_o2_dout_h1 = local_grads(neuron, w7.data, out_h1.data, w8.data, out_h2.data, b2.data)[1]
    dout_h1_dnet_h1 = local_grads(sigmoid_step, net_h1.data)[0]
    dnet_h1_dw1 = local_grads(neuron, w1.data, i1.data, w2.data, i2.data, b1.data)[0]
    de_dnet_o2 = de_dout_o2 * dout_o2_dnet_o2
    de_o1_dout_h1 = de_dnet_o1 * dnet_o1_dout_h1
    de_o2_dout_h1 = de_dnet_o2 * dnet_o2_dout_h1
    de_dout_h1 = de_o1_dout_h1 + de_o2_dout_h1
    de_dnet_h1 = de_dout_h1 * dout_h1_dnet_h1
    de_dw1 = de_dnet_h1 * dnet_h1_dw1
    show("dE/dnet_o1", "dE/dout_o1 * dout_o1/dnet_o1", de_dnet_o1)
    show("dnet_o1/dout_h1", "w5", dnet_o1_dout_h1)
    show("dE_o1/dout_h1", "dE/dnet_o1 * dnet_o1/dout_h1", de_o1_dout_h1)
    show("dE/dout_o2", "-(target_o2 - out_o2)", de_dout_o2)
    show("dout_o2/dnet_o2", "out_o2 * (1 - out_o2)", dout_o2_dnet_o2)
    show("dE/dnet_o2", "dE/dout_o2 * dout_o2/dnet_o2", de_dnet_o2)
    show("dnet_o2/dout_h1", "w7", dnet_o2_dout_h1)
    show("dE_o2/dout_h1", "dE/dnet_o2 * dnet_o2/dout_h1", de_o2_dout_h1)
    show("dE/dout_h1", "dE_o1/dout_h1 + dE_o2/dout_h1", de_dout_h1)
    show("dout_h1/dnet_h1", "out_h1 * (1 - out_h1)", dout_h1_dnet_h1)
    show("dnet_h1/dw1", "i1", dnet_h1_dw1)
    show_pair("dE/dnet_o2", de_dnet_o2, net_o2)
    show_pair("dE/dout_h1", de_dout_h1, out_h1)
    show_pair("dE/dnet_h1", de_dnet_h1, net_h1)
    show_pair("dE/dw1", de_dw1, w1)
    w1_new = w1.data - LEARNING_RATE * w1.grad
    print(f"  w1 - lr * dE/dw1 = {fmt(w1.data)} - {fmt(LEARNING_RATE)} * {fmt(w1.grad)} = {fmt(w1_new)}")

    print(f"every gradient from backward(), and one step of gradient descent (lr = {fmt(LEARNING_RATE)})")
    for p in [*weights, b1, b2]:
        print(f"  dE/d{p.label:<3} = {fmt(p.grad):<13}  {p.label} -> {fmt(p.data - LEARNING_RATE * p.grad)}")
    return {
        "dE/dw5": w5.grad,
        "dE/dw1": w1.grad,
        "w5 after one step": w5_new,
        "w1 after one step": w1_new,
        "chain dE/dw5": de_dw5,
        "chain dE/dw1": de_dw1,
        "grads": [p.grad for p in [*weights, b1, b2]],
    }


# --- 3. the same with the Tensor engine -------------------------------------------------------


def tensor_engine() -> dict[str, Any]:
    print()
    print("== 3. The same with the Tensor engine (matrix form, float64)")
    print("  f = 1 / (exp(-(w*x + b)) + 1)")
    x = Tensor(np.array(1.0))
    w = Tensor(np.array(0.0), requires_grad=True)
    b = Tensor(np.array(0.0), requires_grad=True)
    f = 1 / ((-(w * x + b)).exp() + 1)
    f.backward()
    print(f"  f = {fmt(f.item())}   df/dw = {fmt(w.grad.item())}   df/db = {fmt(b.grad.item())}")

    print("  W1 = [[w1, w2], [w3, w4]], W2 = [[w5, w6], [w7, w8]]: shape (out_features, in_features)")
    print("  h = sigmoid(X @ W1.T + b1),  o = sigmoid(h @ W2.T + b2),  E = sum(1/2 (T - o)**2)")
    X = Tensor(np.array([[0.05, 0.10]]))  # one sample, one row
    T = Tensor(np.array([[0.01, 0.99]]))
    W1 = Tensor(np.array([[0.15, 0.20], [0.25, 0.30]]), requires_grad=True, name="W1")
    W2 = Tensor(np.array([[0.40, 0.45], [0.50, 0.55]]), requires_grad=True, name="W2")
    b1 = Tensor(np.array(0.35), requires_grad=True, name="b1")  # one number, broadcast to both neurons
    b2 = Tensor(np.array(0.60), requires_grad=True, name="b2")
    h = (X @ W1.T + b1).sigmoid()
    o = (h @ W2.T + b2).sigmoid()
    E = (0.5 * (T - o) ** 2).sum()
    E.backward()
    print(f"  h = {fmt_array(h.data)}   o = {fmt_array(o.data)}")
    print(f"  E = {fmt(E.item())}")
    print(f"  W1.grad = {fmt_array(W1.grad.data)}")
    print(f"  W2.grad = {fmt_array(W2.grad.data)}")
    print(f"  b1.grad = {fmt(b1.grad.item())}   b2.grad = {fmt(b2.grad.item())}  (summed over the neurons)")
    de_dw5, de_dw1 = W2.grad.data[0, 0], W1.grad.data[0, 0]
    print(f"  dE/dw5 = W2.grad[0, 0] = {fmt(de_dw5)}   dE/dw1 = W1.grad[0, 0] = {fmt(de_dw1)}")
    grads = [*W1.grad.data.ravel(), *W2.grad.data.ravel(), b1.grad.item(), b2.grad.item()]
    return {"df/dw": w.grad.item(), "dE/dw5": de_dw5, "dE/dw1": de_dw1, "grads": grads}


def main() -> int:
    scalar_f = composite()
    scalar_net = network()
    tensor = tensor_engine()

    print()
    print("== The published numbers: computed by backward() vs the literature")
    print(f"  {'':<18} {'computed':<13} literature")
    computed = {**scalar_f, **scalar_net}
    failures: list[str] = []
    for name, expected in LITERATURE.items():
        got = computed[name]
        ok = abs(got - expected) <= 1e-9
        if not ok:
            failures.append(name)
        print(f"  {name:<18} {fmt(got):<13} {fmt(expected):<13} {'agrees' if ok else 'DIFFERS'}")
    print(f"  {'df/db':<18} {fmt(scalar_f['df/db']):<13} (not given)")

    checks = {
        "chain rule == backward for df/dw": abs(scalar_f["chain df/dw"] - scalar_f["df/dw"]) < 1e-12,
        "chain rule == backward for dE/dw5": abs(scalar_net["chain dE/dw5"] - scalar_net["dE/dw5"]) < 1e-12,
        "chain rule == backward for dE/dw1": abs(scalar_net["chain dE/dw1"] - scalar_net["dE/dw1"]) < 1e-12,
        "Value == Tensor for df/dw": abs(scalar_f["df/dw"] - tensor["df/dw"]) < 1e-12,
        "Value == Tensor for all 10 gradients of E": bool(
            np.allclose(scalar_net["grads"], tensor["grads"], rtol=0, atol=1e-12)
        ),
    }
    for name, ok in checks.items():
        if not ok:
            failures.append(name)
        print(f"  {name:<44} {'yes' if ok else 'NO'}")
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Graph pictures: the DOT source of small graphs, backprop frames and their captions, the one
layout of all frames, the player's page, and rendering with the real `dot`.

The neuron is micrograd's tanh(x1*w1 + x2*w2 + b) with x1 = 2, x2 = 0, w1 = -3,
w2 = 1, b = 6.8813735870195432, chosen so that n = 0.8814 and o = tanh(n) =
sqrt(2)/2. By hand: do/dn = 1 - o**2 = 0.5, so dx1 = w1 * 0.5 = -1.5,
dw1 = x1 * 0.5 = 1, dx2 = w2 * 0.5 = 0.5, dw2 = x2 * 0.5 = 0, db = 0.5.
"""

from __future__ import annotations

import html
import math
import os
import re
import shutil
import warnings

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, autograd, nn, viz

B = 6.8813735870195432
HAND = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}  # d o / d leaf, computed above

# In CI the real `dot` must be there (the test command installs it): never skip there.
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz's dot is not installed"
)


def value_neuron() -> tuple[Value, dict[str, Value]]:
    leaves = {
        "x1": Value(2.0, label="x1"),
        "x2": Value(0.0, label="x2"),
        "w1": Value(-3.0, label="w1"),
        "w2": Value(1.0, label="w2"),
        "b": Value(B, label="b"),
    }
    n = leaves["x1"] * leaves["w1"] + leaves["x2"] * leaves["w2"] + leaves["b"]
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, leaves


def tensor_neuron() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x = Tensor([2.0, 0.0], requires_grad=True, name="x", dtype=np.float64)
    w = Tensor([-3.0, 1.0], requires_grad=True, name="w", dtype=np.float64)
    b = Tensor(B, requires_grad=True, name="b", dtype=np.float64)
    o = ((x * w).sum() + b).tanh()
    return o, x, w, b


def statements(source: str) -> dict[str, str]:
    """node name -> its attribute text, for every node statement of a DOT source."""
    found = dict(re.findall(r"^\s*(\w+) \[(.*)\]$", source, flags=re.MULTILINE))
    return {k: v for k, v in found.items() if k not in ("graph", "node", "edge")}  # not the defaults


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.MULTILINE)


def cells(attrs: str) -> list[str]:
    """The texts of a box's cells, tags removed."""
    found = re.findall(r"<td[^>]*>(.*?)</td>", attrs)
    return [html.unescape(re.sub(r"<[^>]+>", "", c.replace("<br/>", "\n"))) for c in found]


def box(source: str, name: str) -> list[str]:
    """The cells of the box whose first cell is ``name``."""
    for attrs in statements(source).values():
        if "<table" in attrs and cells(attrs)[0] == name:
            return cells(attrs)
    raise AssertionError(f"no box named {name} in\n{source}")


def ops(source: str) -> list[str]:
    return sorted(
        re.search(r'label=("[^"]+"|\S+)', a).group(1).strip('"')
        for a in statements(source).values()
        if "<table" not in a
    )


# --- the picture of a graph -------------------------------------------------------------------


def test_value_neuron_has_a_box_per_value_and_an_oval_per_op() -> None:
    o, _ = value_neuron()
    source = viz.draw_graph(o).source
    boxes = [a for a in statements(source).values() if "<table" in a]
    assert len(boxes) == 10  # 5 leaves, x1*w1, x2*w2, their sum, n, o
    assert ops(source) == ["*", "*", "+", "+", "tanh"]
    assert len(edges(source)) == 9 + 5  # 9 input edges (2+2+2+2+1) and one edge per op to its output
    assert "rankdir=LR" in source  # a small Value graph: left to right, as micrograd draws it
    assert box(source, "x1") == ["x1", "data 2.0000", "grad 0.0000"]
    assert box(source, "o") == ["o", "data 0.7071", "grad 0.0000"]


def test_value_neuron_shows_every_gradient_after_backward() -> None:
    o, _ = value_neuron()
    o.backward()
    source = viz.draw_graph(o).source
    for name, g in HAND.items():
        assert box(source, name)[-1] == f"grad {g:.4f}"
    assert box(source, "n")[-1] == "grad 0.5000"  # an intermediate: 1 - o**2
    assert box(source, "o")[-1] == "grad 1.0000"


def test_roles_have_colours_and_a_legend() -> None:
    model = nn.Sequential(nn.Linear(2, 1))
    x = Tensor([[1.0, 2.0]], name="X")
    loss = model(x).sum()
    loss.name = "loss"
    source = viz.draw_graph(loss, model=model).source
    found = statements(source)
    by_name = {cells(a)[0]: a for a in found.values() if "<table" in a}
    assert f'bgcolor="{viz.ROLE_FILL["input"]}"' in by_name["X"] and "class=input" in by_name["X"]
    assert f'bgcolor="{viz.ROLE_FILL["parameter"]}"' in by_name["0.weight"]
    assert "class=parameter" in by_name["0.bias"]
    assert "class=output" in by_name["loss"]
    legend = re.search(r"graph \[.*label=<(.*)> labeljust", source).group(1)
    roles = ["input data or constant", "parameter", "intermediate", "output / loss", "op"]
    assert cells(legend) == [*roles, viz.GRAD_NOTE]
    assert box(source, "X")[-1] == "grad not needed"  # data needs no gradient: says so


def test_layout_is_picked_for_the_graph() -> None:
    o, _ = value_neuron()
    assert "rankdir=LR" in viz.draw_graph(o).source
    assert "rankdir=TB" in viz.draw_graph(tensor_neuron()[0]).source
    big = Value(1.0)
    for _ in range(40):
        big = big * 1.5
    assert "rankdir=TB" in viz.draw_graph(big).source  # a long Value chain: top to bottom
    assert "rankdir=LR" in viz.draw_graph(tensor_neuron()[0], rankdir="LR").source
    assert 'size="10.4,1000"' in viz.draw_graph(o).source  # 1000 px at 96 per inch
    assert ' size="' not in viz.draw_graph(o, max_width=None).source


def test_show_data_and_show_grad_leave_fields_out() -> None:
    o, _ = value_neuron()
    assert box(viz.draw_graph(o, show_data=False).source, "x1") == ["x1", "grad 0.0000"]
    assert box(viz.draw_graph(o, show_grad=False).source, "x1") == ["x1", "data 2.0000"]


def test_tensor_neuron_after_backward_shows_intermediate_gradients() -> None:
    o, x, w, b = tensor_neuron()
    o.backward(retain_graph=True)
    source = viz.draw_graph(o).source  # the graph is kept: intermediates worked out again
    assert ops(source) == ["Add", "Mul", "Sum", "Tanh"]
    assert box(source, "x") == ["x", "(2,) float64", "data [2.0000, 0.0000]", "grad [-1.5000, 0.5000]"]
    assert box(source, "w") == ["w", "(2,) float64", "data [-3.0000, 1.0000]", "grad [1.0000, 0.0000]"]
    assert box(source, "b")[-1] == "grad 0.5000"
    # x * w, unnamed: its gradient is do/dn = 0.5 in both elements (Sum copies it)
    boxes = [a for a in statements(source).values() if "<table" in a]
    mul_out = next(cells(a) for a in boxes if "data [-6.0000, 0.0000]" in a)
    assert mul_out[-1] == "grad [0.5000, 0.5000]"


def test_the_graph_is_drawn_after_backward_with_every_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = (x * 3.0).tanh()
    h.name = "h"
    out = h.sum()
    out.backward()  # frees what backward needed, keeps what the picture needs
    source = viz.draw_graph(out).source
    assert box(source, "h")[-1] == "grad [1.0000, 1.0000]"  # d(sum)/dh, kept by the backward that freed it
    x_grad = 3 * (1 - np.tanh([3.0, 6.0]) ** 2)  # 0.02960 and 7.367e-05: four significant digits
    np.testing.assert_allclose(x.grad.data, x_grad, rtol=1e-3)  # (float32)
    assert box(source, "x")[-1] == "grad [0.02960, 7.367e-05]"  # not 0.0001, nor 0 with 4 decimals
    with pytest.raises(RuntimeError, match="freed"):
        out.backward()  # a second backward through it still says why it cannot
    with pytest.raises(RuntimeError, match="freed"):
        viz.trace_backward(out)  # and so does tracing it: trace before backward


def test_an_input_used_twice_has_two_edges() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    source = viz.draw_graph((x * x).sum()).source
    x_key = next(k for k, a in statements(source).items() if "<b>x</b>" in a)
    mul_key = next(k for k, a in statements(source).items() if "label=Mul" in a)
    assert edges(source).count((x_key, mul_key)) == 2

    v = Value(3.0, label="v")
    source = viz.draw_graph(v * v).source
    assert edges(source).count(("v0", "op1")) == 2


def linear_net() -> tuple[Tensor, nn.Module, np.ndarray, np.ndarray, np.ndarray]:
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    W = np.array([[0.1, -0.2], [0.3, 0.4]])
    bias = np.array([0.05, -0.05])
    model = nn.Sequential(nn.Linear(2, 2))
    model[0].weight.data[...] = W
    model[0].bias.data[...] = bias
    loss = (model(Tensor(X, name="X")) ** 2).sum()
    return loss, model, X, W, bias


def test_expand_draws_linear_as_matmul_and_bias_add() -> None:
    loss, model, X, W, bias = linear_net()
    folded = viz.draw_graph(loss, model=model).source
    assert "Linear" in ops(folded)
    source = viz.draw_graph(loss, model=model, expand=True).source
    assert ops(source) == sorted(["Add bias", "MatMul x @ W.T", "Pow", "Sum"])
    z = X @ W.T  # the product alone, before the bias
    assert any(
        f"data {viz._array_text(z, viz._digits)}" in c
        for a in statements(source).values()
        if "<table" in a
        for c in cells(a)
    )
    frames = viz.trace_backward(loss, model=model, expand=True)
    assert [f.op for f in frames] == ["Sum", "Pow", "Add bias", "MatMul x @ W.T"]
    dZ = 2 * (z + bias)  # d sum(y**2) / dy, and the bias add passes it on
    matmul = frames[-1]
    np.testing.assert_allclose(matmul.grad_output, dZ)
    np.testing.assert_allclose(matmul.grad_of(model[0].weight), dZ.T @ X)  # dW = dZ.T @ x
    np.testing.assert_allclose(frames[2].grad_of(model[0].bias), dZ.sum(axis=0))
    assert "grad.T @ X = " in matmul.caption and "to 0.weight" in matmul.caption


def test_parameter_names_come_from_the_model() -> None:
    model = nn.Sequential(nn.Linear(2, 1))
    loss = model(Tensor([[1.0, 2.0]])).sum()
    source = viz.draw_graph(loss, model=model).source
    assert box(source, "0.weight")[:2] == ["0.weight", "(1, 2) float32"]
    assert box(source, "0.bias")[:2] == ["0.bias", "(1,) float32"]


def test_nan_and_inf_are_filled_red() -> None:
    x = Tensor([1.0, math.nan], requires_grad=True, name="x")
    y = Tensor([1.0, 2.0], requires_grad=True, name="y")
    source = viz.draw_graph(x + y).source
    by_name = {cells(a)[0]: a for a in statements(source).values() if "<table" in a}
    assert f'bgcolor="{viz.NONFINITE_FILL}"' in by_name["x"]
    assert viz.NONFINITE_FILL not in by_name["y"]

    big = Value(1e308, label="big")
    source = viz.draw_graph(big * 10).source  # overflows to inf
    assert sum(viz.NONFINITE_FILL in a for a in statements(source).values()) == 1


def legend(source: str) -> str:
    """The legend: the HTML label of the graph (the picture's own attributes)."""
    return re.search(r"graph \[.*label=<(.*)> labeljust", source).group(1)


RED_CELL = '<td bgcolor="#ff9c9c" border="1">NaN or Inf</td>'  # NONFINITE_FILL, with its words


def overflowing_grad() -> tuple[Value, Value]:
    """L = (w * v) * u with w = 1e300, v = 1e-10, u = 1e10: every value is finite, but
    dL/dv = w * u = 1e310 overflows to inf (in the second backward step)."""
    w, v, u = Value(1e300, label="w"), Value(1e-10, label="v"), Value(1e10, label="u")
    s = w * v
    s.label = "s"
    out = s * u
    out.label = "L"
    return out, v


def test_the_legend_says_what_red_means_only_when_a_box_is_red() -> None:
    x = Tensor([1.0, math.nan], requires_grad=True, name="x")
    y = Tensor([1.0, 2.0], requires_grad=True, name="y")
    source = viz.draw_graph(x + y).source
    assert cells(legend(source)) == ["leaf (needs grad)", "output / loss", "op", "NaN or Inf", viz.GRAD_NOTE]
    assert RED_CELL in legend(source) and 'colspan="4"' in legend(source)  # the note spans the red cell too
    clean = viz.draw_graph(y + y).source
    assert cells(legend(clean)) == ["leaf (needs grad)", "output / loss", "op", viz.GRAD_NOTE]
    assert "#ff9c9c" not in clean

    out, v = overflowing_grad()  # a Value graph: red only once its gradient is inf
    assert "NaN or Inf" not in viz.draw_graph(out).source
    out.backward()
    assert v.grad == math.inf
    source = viz.draw_graph(out).source
    assert RED_CELL in legend(source)
    assert cells(legend(source)) == [
        "leaf (needs grad)",
        "intermediate",
        "output / loss",
        "op",
        "NaN or Inf",
    ] + [viz.VALUE_GRAD_NOTE]
    assert "NaN or Inf" not in viz.draw_graph(out, show_grad=False).source  # the inf is not drawn: no red


def test_every_frame_s_legend_says_what_red_means_when_a_frame_has_a_red_box() -> None:
    out, _ = overflowing_grad()
    frames = viz.trace_backward(out)
    assert [f.grads for f in frames][-1]["v1"] == math.inf  # v is v1: inf from step 2 on
    red = [[k for k, a in statements(f.draw().source).items() if "#ff9c9c" in a] for f in frames]
    assert red == [[], ["v1"]]  # the box turns red in the second frame ...
    assert all(RED_CELL in legend(f.draw().source) for f in frames)  # ... the legend says it in both
    o, _ = value_neuron()
    assert not any("NaN or Inf" in f.draw().source for f in viz.trace_backward(o))
    x = Tensor([1.0, math.nan], requires_grad=True, name="x")
    assert all(RED_CELL in legend(f.draw().source) for f in viz.trace_backward((x * 2).sum()))


def test_large_tensors_show_a_summary() -> None:
    x = Tensor(np.arange(100, dtype=np.float64), requires_grad=True, name="x")
    source = viz.draw_graph(x * 2).source
    assert box(source, "x") == [
        "x",
        "(100,) float64",
        "data min 0.0000  mean 49.5000  max 99.0000",
        "grad None",
    ]
    small = viz.draw_graph(x * 2, max_elements=1000).source
    assert "97.0000, 98.0000, 99.0000]" in box(small, "x")[2]


def test_special_characters_in_names_are_escaped() -> None:
    x = Tensor([1.0], requires_grad=True, name='a|b{c}<d>"e"&')
    source = viz.draw_graph(x * 2).source
    assert "<b>a|b{c}&lt;d&gt;&quot;e&quot;&amp;</b>" in source
    assert box(source, 'a|b{c}<d>"e"&')[0] == 'a|b{c}<d>"e"&'


def test_bad_input_gives_clear_errors() -> None:
    with pytest.raises(TypeError, match="expected a Tensor or a Value, got list"):
        viz.draw_graph([1.0])
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(Value(1.0), rankdir="sideways")
    with pytest.raises(ValueError, match="max_width"):
        viz.draw_graph(Value(1.0), max_width=-3)
    with pytest.raises(TypeError, match="named_parameters"):
        viz.draw_graph(Tensor([1.0], requires_grad=True) * 2, model=object())


# --- backprop step by step --------------------------------------------------------------------


def test_tensor_frames_come_in_the_order_the_engine_runs() -> None:
    x = Tensor([1.0, -2.0], requires_grad=True, name="x", dtype=np.float64)
    a = x * 2
    b = x * 3
    c = (b + a).sum()
    seen = []  # the engine's own order, recorded with its hook
    autograd.run_backward(
        (c,), (Tensor(np.ones(())),), True, False, wanted={x}, on_step=lambda step: seen.append(step.op)
    )
    frames = viz.trace_backward(c)
    assert isinstance(frames, viz.Frames) and isinstance(frames, list)
    assert len(frames) == len(seen) == 4
    by_key = {op.key: op.source for op in frames[0]._trace.graph.ops}
    assert [by_key[f.op_key] for f in frames] == seen
    np.testing.assert_allclose(frames[-1].grad_of(x), [5.0, 5.0])  # d(3x + 2x)/dx
    assert x.grad is None  # tracing accumulates nothing


def test_value_frames_follow_the_engine_and_end_at_the_final_grads() -> None:
    o, leaves = value_neuron()
    frames = viz.trace_backward(o)
    assert [f.op for f in frames] == ["tanh", "+", "+", "*", "*"]  # outputs first
    assert frames[0].edge_grads == [pytest.approx(0.5)]  # 1 - tanh(n)**2
    assert frames[1].edge_grads == [pytest.approx(0.5), pytest.approx(0.5)]  # + passes it on
    for name, g in HAND.items():
        assert frames[-1].grad_of(leaves[name]) == pytest.approx(g, abs=1e-12)
    assert frames[0].grad_of(leaves["x1"]) is None  # not reached yet
    assert all(v.grad == 0.0 for v in leaves.values())  # tracing changes no .grad
    o.backward()
    for v in leaves.values():
        assert frames[-1].grad_of(v) == pytest.approx(v.grad, abs=1e-12)


def test_captions_say_what_each_op_received_and_sends() -> None:
    o, _ = value_neuron()
    captions = [f.caption for f in viz.trace_backward(o)]
    assert [c.split(":")[0] for c in captions] == [f"Step {k} of 5" for k in range(1, 6)]
    assert captions[0] == "Step 1 of 5: tanh received 1; sends (1 − o²) × 1 = 0.5 × 1 = 0.5 to n"
    assert (
        captions[2] == "Step 3 of 5: + received 0.5; sends 1 × 0.5 = 0.5 to x1*w1 and 1 × 0.5 = 0.5 to x2*w2"
    )
    # d(x2*w2)/dx2 = w2 = 1 and d(x2*w2)/dw2 = x2 = 0
    assert captions[3] == (
        "Step 4 of 5: * received 0.5; sends w2 × 0.5 = 1 × 0.5 = 0.5 to x2 and x2 × 0.5 = 0 × 0.5 = 0 to w2"
    )


def test_tensor_frames_name_parameters_and_say_what_needs_no_gradient() -> None:
    model = nn.Sequential(nn.Linear(2, 1))
    loss = model(Tensor([[1.0, 2.0]], name="X")).sum()
    frames = viz.trace_backward(loss, model=model)
    linear = frames[-1]
    assert linear.op == "Linear"
    assert "nothing to X (it needs no gradient)" in linear.caption
    assert "to 0.weight" in linear.caption and "to 0.bias" in linear.caption
    source = linear.draw().source
    assert box(source, "X")[-1] == "grad not needed"
    assert box(source, "0.weight")[-1] == "grad [[1.0000, 2.0000]]"  # d sum(x @ W.T + b) / dW = x
    assert "?" not in "".join(
        cells(a)[-1]
        for a in statements(frames[0].draw().source).values()
        if "<table" in a and "not needed" in a
    )


def test_tensor_frames_give_each_edge_its_gradient() -> None:
    t = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    (mul,) = [f for f in viz.trace_backward((t * t).sum()) if f.op == "Mul"]
    # d(a*b)/da = b and d(a*b)/db = a: each edge of x*x carries x; x's gradient is their sum 2x
    np.testing.assert_allclose(mul.edge_grads[0], [1.0, 2.0])
    np.testing.assert_allclose(mul.edge_grads[1], [1.0, 2.0])
    np.testing.assert_allclose(mul.grad_of(t), [2.0, 4.0])


def test_value_op_using_an_input_twice_reports_the_total() -> None:
    v = Value(3.0, label="v")
    (frame,) = viz.trace_backward(v * v)
    assert frame.shared_edges
    assert frame.edge_grads == [6.0, 6.0]  # d(v*v)/dv = 2v, seen only as a sum
    assert frame.caption == "Step 1 of 1: * received 1; sends (v + v) × 1 = 6 to v"
    assert "total over the edges" in frame.draw().source


def test_a_frame_highlights_its_op_and_labels_its_edges_local_times_upstream() -> None:
    o, _ = value_neuron()
    frames = viz.trace_backward(o)
    source = frames[3].draw().source  # x2 * w2
    current = [a for a in statements(source).values() if viz.CURRENT_OP_FILL in a]
    assert len(current) == 1 and 'label="*"' in current[0] and '"op current"' in current[0]
    red = re.findall(r'label="([^"]*)"[^\]]*fontcolor="' + viz.CURRENT_EDGE, source)
    assert sorted(red) == ["w2 × 0.5\n= 0.5", "x2 × 0.5\n= 0"]  # local × upstream, and the product
    assert source.count("fontcolor=transparent") == 2  # x1*w1's two edges: not sent yet
    assert box(source, "x1")[-1] == "grad ?"
    assert box(source, "x2")[-1] == "grad 0.5000"
    assert box(source, "b")[-1] == "grad 0.5000"


def test_trace_backward_errors() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.trace_backward(Tensor([1.0]) * 2)
    with pytest.raises(RuntimeError, match="shape"):
        viz.trace_backward(Tensor([1.0, 2.0], requires_grad=True) * 2)  # non-scalar, no gradient
    with pytest.raises(TypeError, match="gradient= is for Tensor roots"):
        viz.trace_backward(Value(1.0) * 2, gradient=1.0)
    assert viz.trace_backward(Value(1.0)) == []  # a leaf: no op, no frame
    with pytest.raises(ValueError, match="no frames"):
        viz.trace_backward(Value(1.0))._repr_html_()


# --- rendering with the real dot --------------------------------------------------------------


def _node_boxes(svg: str) -> dict[str, str]:
    """node title -> the coordinates of the first shape drawn for it, from dot's SVG."""
    found = re.findall(
        r'<g id="node_[^"]*" class="[^"]*">\s*<title>([^<]*)</title>\s*<(?:polygon|ellipse)[^>]*?'
        r'(points="[^"]*"|cx="[^"]*" cy="[^"]*")',
        svg,
    )
    return dict(found)


@needs_dot
def test_every_frame_keeps_every_node_in_place() -> None:
    o, _ = value_neuron()
    frames = viz.trace_backward(o)
    svgs = [viz.pipe(f.draw()).decode() for f in frames]
    first = _node_boxes(svgs[0])
    assert len(first) == 15  # 10 values and 5 ops
    for svg in svgs[1:]:
        assert _node_boxes(svg) == first
    sizes = {re.search(r'<svg width="([^"]*)" height="([^"]*)"', s).groups() for s in svgs}
    assert len(sizes) == 1

    loss, model, *_ = linear_net()
    frames = viz.trace_backward(loss, model=model, expand=True)
    boxes = [_node_boxes(viz.pipe(f.draw()).decode()) for f in frames]
    assert all(b == boxes[0] for b in boxes) and len(boxes[0]) == 8 + 4  # X W b z y 2 y² loss, 4 ops


@needs_dot
def test_a_small_network_fits_in_1000_pixels(tmp_path) -> None:
    from tinygrad_edu import data
    from tinygrad_edu.cli import common

    X, y = data.make_moons(4, noise=0.2, seed=0)
    model = common.make_network([2, 3, 1], 0)
    loss = nn.BCEWithLogitsLoss()(model(Tensor(X)), Tensor(y.reshape(-1, 1).astype(np.float64)))
    loss.backward()
    png = viz.pipe(viz.draw_graph(loss, model=model), "png")
    width = int.from_bytes(png[16:20], "big")  # the PNG header's IHDR width
    assert 500 < width <= 1000
    svg = viz.pipe(viz.draw_graph(loss, model=model)).decode()
    pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert pt * 96 / 72 <= 1000  # not scaled down: the layout itself fits (top to bottom)


@needs_dot
def test_frame_and_frames_show_themselves_in_a_notebook(tmp_path) -> None:
    o, _ = value_neuron()
    frames = viz.trace_backward(o)
    assert frames[0]._repr_svg_().startswith("<svg")
    assert frames[0]._repr_html_().startswith("<p>Step 1 of 5: tanh")
    player = frames._repr_html_()
    for part in ("tge-prev", "tge-next", "tge-play", 'type="range"', "ArrowRight", "ArrowLeft"):
        assert part in player
    assert player.count('class="tge-frame"') == 5
    assert '<p class="tge-caption" aria-live="polite">Step 1 of 5: tanh received 1;' in player
    page = open(frames.to_html(tmp_path / "p.html"), encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "<script src" not in page and "https://" not in page and "<link" not in page


@needs_dot
def test_the_red_legend_cell_is_drawn_by_dot() -> None:
    x = Tensor([1.0, math.inf], requires_grad=True, name="x")
    svg = viz.pipe(viz.draw_graph(x * 2)).decode()
    assert ">NaN or Inf</text>" in svg and svg.count('fill="#ff9c9c"') == 3  # x, x * 2 and the legend
    out, _ = overflowing_grad()
    svgs = [viz.pipe(f.draw()).decode() for f in viz.trace_backward(out)]  # pinned, by neato -n2
    assert all(">NaN or Inf</text>" in svg for svg in svgs)
    assert [svg.count('fill="#ff9c9c"') for svg in svgs] == [1, 2]  # the legend; then v's box too
    assert _node_boxes(svgs[0]) == _node_boxes(svgs[1])


WAY_OUT = (
    "For a smaller player, draw a smaller graph (fewer samples or hidden units), the same network "
    "with Tensors (one step per layer, not one per number), or fewer steps: viz.Frames(frames[:20]) "
    "plays the first 20"
)


def micrograd_mlp_loss() -> Value:
    """The squared error of a 2-8-1 MLP of Values on 4 samples, each neuron written as micrograd
    writes it, sum(w*x) + b: per sample 8 * 5 hidden steps (2 *, 2 +, relu), 16 for the output
    neuron and 3 for the loss (-, **2, +): 4 * 59 = 236 backward steps."""
    weights = np.random.default_rng(0).uniform(-1.0, 1.0, 8 * 3 + 9).tolist()
    w1 = [[Value(weights.pop()), Value(weights.pop())] for _ in range(8)]
    b1 = [Value(weights.pop()) for _ in range(8)]
    w2, b2 = [Value(weights.pop()) for _ in range(8)], Value(weights.pop())
    loss = Value(0.0)
    for x, y in [([0.5, -1.0], 0.0), ([1.5, 0.2], 1.0), ([-0.3, 0.8], 0.0), ([1.0, 1.0], 1.0)]:
        hidden = [sum((wi * xi for wi, xi in zip(w, x)), b).relu() for w, b in zip(w1, b1)]
        out = sum((wi * hi for wi, hi in zip(w2, hidden)), b2)
        loss = loss + (out - y) ** 2
    return loss


@needs_dot
def test_a_player_too_big_for_a_notebook_warns_before_it_is_made(tmp_path) -> None:
    frames = viz.trace_backward(micrograd_mlp_loss())
    assert len(frames) == 236
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # stop at the warning: the frames are not all drawn
        with pytest.raises(UserWarning) as info:
            frames.to_html(tmp_path / "big.html")
    message = str(info.value)
    assert message.startswith("Frames: the player of 236 steps will be about ")
    megabytes = float(re.search(r"about ([\d.]+) MB of HTML", message).group(1))
    assert 100 < megabytes < 200  # 1.4 kB a box, 506 boxes and ovals, 236 pictures: about 135 MB
    assert "more than viz.MAX_PLAYER_BYTES = 20 MB" in message and message.endswith(WAY_OUT)
    assert not (tmp_path / "big.html").exists()


@needs_dot
def test_the_size_warning_says_the_size_and_still_makes_the_whole_player(tmp_path, monkeypatch) -> None:
    o, _ = value_neuron()
    frames = viz.trace_backward(o)
    monkeypatch.setattr(viz, "MAX_PLAYER_BYTES", 50_000)  # the neuron's 5 pictures are about 90 kB
    with pytest.warns(UserWarning, match="the player of 5 steps will be about") as record:
        path = frames.to_html(tmp_path / "neuron.html")
    assert len(record) == 1 and record[0].filename == __file__  # the line that asked for the player
    message = str(record[0].message)
    megabytes = float(re.search(r"about ([\d.]+) MB of HTML", message).group(1))
    assert abs(megabytes * 1e6 - os.path.getsize(path)) < 0.1 * os.path.getsize(path)
    assert "more than viz.MAX_PLAYER_BYTES = 0.05 MB" in message
    assert open(path, encoding="utf-8").read().count('class="tge-frame"') == 5  # made in full
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the way out the warning gives: fewer steps, a smaller page
        assert viz.Frames(frames[:2])._repr_html_().count('class="tge-frame"') == 2  # about 35 kB


@needs_dot
def test_the_players_of_the_documents_are_far_below_the_size_limit(tmp_path) -> None:
    o, _ = value_neuron()
    loss, model, *_ = linear_net()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at the real limit
        neuron = viz.trace_backward(o).to_html(tmp_path / "neuron.html")
        network = viz.trace_backward(loss, model=model, expand=True).to_html(tmp_path / "network.html")
    assert os.path.getsize(neuron) < 200_000 and os.path.getsize(network) < 200_000  # 20 MB is 100 times more


@needs_dot
def test_pipe_makes_svg_and_render_writes_a_file(tmp_path) -> None:
    o, _ = value_neuron()
    svg = viz.pipe(viz.draw_graph(o), "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "tanh" in svg
    path = viz.render(viz.draw_graph(o), tmp_path / "neuron.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.png"]  # no DOT source left behind


@needs_dot
def test_save_frames_writes_one_numbered_file_per_op_or_one_page(tmp_path) -> None:
    o, _ = value_neuron()
    paths = viz.save_frames(viz.trace_backward(o), tmp_path / "svg")
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"frame_{i:03d}.svg" for i in range(5)]
    assert all("<svg" in open(p).read() for p in paths)

    t, *_ = tensor_neuron()
    paths = viz.save_frames(viz.trace_backward(t), tmp_path / "png", format="png")
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [f"frame_{i:03d}.png" for i in range(4)]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in paths)

    (page,) = viz.save_frames(viz.trace_backward(o), tmp_path / "html", format="html")
    assert page.endswith("frames.html") and "Step 1 of 5" in open(page, encoding="utf-8").read()
    (page,) = viz.save_frames(viz.trace_backward(o), tmp_path / "mine.html", format="html")
    assert page == str(tmp_path / "mine.html")


@needs_dot
def test_save_frames_removes_the_frames_of_a_longer_trace_before(tmp_path) -> None:
    a = Value(2.0, label="a")
    viz.save_frames(viz.trace_backward(((a * a).tanh() * 3).exp()), tmp_path)  # 4 frames
    (tmp_path / "frame_001.png").write_bytes(b"another format: kept")
    (tmp_path / "notes.svg").write_text("not a frame: kept")
    b = Value(2.0, label="b")
    paths = viz.save_frames(viz.trace_backward(b.tanh()), tmp_path)
    assert paths == [str(tmp_path / "frame_000.svg")]
    # frame_001..003.svg of the old graph stayed, and stepping through the folder ran into them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frame_000.svg", "frame_001.png", "notes.svg"]


def test_missing_dot_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    o, _ = value_neuron()
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.pipe(viz.draw_graph(o))
    message = str(info.value)
    for hint in ["apt-get install graphviz", "brew install graphviz", "conda install"]:
        assert hint in message
    with pytest.raises(viz.GraphvizNotFoundError, match=r"^viz: cannot lay out the backprop frames: "):
        viz.save_frames(viz.trace_backward(o), tmp_path / "frames")  # it said "as json", never asked for
    with pytest.raises(viz.GraphvizNotFoundError, match=r"^viz: cannot lay out the backprop frames: "):
        viz.trace_backward(o).to_html(tmp_path / "player.html")


@needs_dot
def test_the_code_in_pictures_md_runs(tmp_path, monkeypatch) -> None:
    """docs/pictures.md shows each picture with the code that made it: that code runs as printed."""
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "pictures.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 5
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"pictures.md block {i + 1}", "exec"), namespace)
    for name in ("neuron.svg", "network.svg", "network_expanded.svg"):
        assert "<svg" in (tmp_path / name).read_text()
    assert len(list((tmp_path / "backprop").glob("frame_*.svg"))) == 5
    printed = re.search(r"```text\n(.*?)```", page, flags=re.S).group(1).strip().splitlines()
    assert [f.caption for f in namespace["frames"]] == printed  # the captions the page prints


@needs_dot
def test_the_example_writes_the_pictures(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "draw_graph.py"
    result = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    last = ("Step 5 of 5: * received 0.5; "
            "sends w1 × 0.5 = -3 × 0.5 = -1.5 to x1 and x1 × 0.5 = 2 × 0.5 = 1 to w1")
    assert last in result.stdout  # dx1 = -1.5, dw1 = 1
    assert len(list((tmp_path / "backprop_value").glob("frame_*.svg"))) == 5
    assert len(list((tmp_path / "backprop_tensor").glob("frame_*.svg"))) == 4
    assert (tmp_path / "neuron_value.svg").exists() and (tmp_path / "neuron_tensor.svg").exists()


@needs_dot
def test_the_graph_command_writes_the_player(tmp_path, capsys) -> None:
    from tinygrad_edu.cli import main

    page = tmp_path / "sub" / "out.html"
    code = main(
        [
            "graph",
            "tanh(a*b + c)",
            "--values",
            "a=2,b=-3,c=10",
            "--html",
            str(page),
            "--out",
            str(tmp_path / "pictures"),
        ]
    )
    assert code == 0
    text = page.read_text(encoding="utf-8")
    # backward runs tanh, then +, then *: three steps
    assert '<p class="tge-caption" aria-live="polite">Step 1 of 3: tanh received 1;' in text
    assert text.count('class="tge-frame"') == 3
    assert "wrote the backprop player (3 steps)" in capsys.readouterr().out

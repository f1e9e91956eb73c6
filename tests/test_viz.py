"""Graph pictures: the DOT source of small graphs, backprop frames, and rendering with the real `dot`.

The neuron is micrograd's tanh(x1*w1 + x2*w2 + b) with x1 = 2, x2 = 0, w1 = -3,
w2 = 1, b = 6.8813735870195432, chosen so that n = 0.8814 and o = tanh(n) =
sqrt(2)/2. By hand: do/dn = 1 - o**2 = 0.5, so dx1 = w1 * 0.5 = -1.5,
dw1 = x1 * 0.5 = 1, dx2 = w2 * 0.5 = 0.5, dw2 = x2 * 0.5 = 0, db = 0.5.
"""

from __future__ import annotations

import math
import os
import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Tensor, Value, nn, viz

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
    o = n.tanh()
    o.label = "o"
    return o, leaves


def tensor_neuron() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    x = Tensor([2.0, 0.0], requires_grad=True, name="x", dtype=np.float64)
    w = Tensor([-3.0, 1.0], requires_grad=True, name="w", dtype=np.float64)
    b = Tensor(B, requires_grad=True, name="b", dtype=np.float64)
    o = ((x * w).sum() + b).tanh()
    return o, x, w, b


def nodes(source: str) -> dict[str, str]:
    """node name -> its attribute text, for every node statement of a DOT source."""
    found = dict(re.findall(r"^\s*(\w+) \[(.*)\]$", source, flags=re.MULTILINE))
    return {k: v for k, v in found.items() if k not in ("graph", "node", "edge")}  # not the defaults


def edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, flags=re.MULTILINE)


def record(source: str, name: str) -> str:
    """The label of the record node whose first field is ``name``."""
    for attrs in nodes(source).values():
        match = re.search(r'label="\{ (.*) \}"', attrs)
        if match and match.group(1).split(" | ")[0] == name:
            return match.group(1)
    raise AssertionError(f"no node named {name} in\n{source}")


# --- the picture of a graph -------------------------------------------------------------------


def test_value_neuron_has_a_node_per_value_and_per_op() -> None:
    o, _ = value_neuron()
    source = viz.draw_graph(o).source
    attrs = nodes(source)
    records = [a for a in attrs.values() if "shape=record" in a]
    ops = sorted(re.search(r"label=\"?([^\" ]+)\"?", a).group(1) for a in attrs.values() if "record" not in a)
    assert len(records) == 10  # 5 leaves, x1*w1, x2*w2, their sum, n, o
    assert ops == ["*", "*", "+", "+", "tanh"]
    assert len(edges(source)) == 9 + 5  # 9 input edges (2+2+2+2+1) and one edge per op to its output
    assert "rankdir=LR" in source
    assert record(source, "x1") == "x1 | data 2.0000 | grad 0.0000"
    assert record(source, "o") == "o | data 0.7071 | grad 0.0000"


def test_value_neuron_shows_the_gradients_after_backward() -> None:
    o, _ = value_neuron()
    o.backward()
    source = viz.draw_graph(o).source
    for name, g in HAND.items():
        assert record(source, name).endswith(f"grad {g:.4f}")
    assert record(source, "o") == "o | data 0.7071 | grad 1.0000"


def test_show_data_and_show_grad_leave_fields_out() -> None:
    o, _ = value_neuron()
    assert record(viz.draw_graph(o, show_data=False).source, "x1") == "x1 | grad 0.0000"
    assert record(viz.draw_graph(o, show_grad=False).source, "x1") == "x1 | data 2.0000"
    assert "rankdir=TB" in viz.draw_graph(o, rankdir="TB").source


def test_tensor_neuron_shows_names_shapes_dtypes_and_op_classes() -> None:
    o, x, w, b = tensor_neuron()
    o.backward(retain_graph=True)
    source = viz.draw_graph(o).source
    labels = [a for a in nodes(source).values() if "record" not in a]
    assert sorted(re.search(r"label=(\w+)", a).group(1) for a in labels) == ["Add", "Mul", "Sum", "Tanh"]
    assert record(source, "x") == "x | (2,) float64 | data [2., 0.] | grad [-1.5,  0.5]"
    assert record(source, "w") == "w | (2,) float64 | data [-3.,  1.] | grad [1., 0.]"
    assert record(source, "b").startswith("b | () float64 | data 6.8814")
    assert record(source, "b").endswith("grad 0.5")


def test_an_input_used_twice_has_two_edges() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    source = viz.draw_graph((x * x).sum()).source
    x_key = next(k for k, a in nodes(source).items() if "{ x |" in a)
    mul_key = next(k for k, a in nodes(source).items() if "label=Mul" in a)
    assert edges(source).count((x_key, mul_key)) == 2

    v = Value(3.0, label="v")
    source = viz.draw_graph(v * v).source
    assert edges(source).count(("v0", "op1")) == 2


def test_parameter_names_come_from_the_model() -> None:
    model = nn.Sequential(nn.Linear(2, 1))
    loss = model(Tensor([[1.0, 2.0]])).sum()
    source = viz.draw_graph(loss, model=model).source
    assert record(source, "0.weight").startswith("0.weight | (1, 2) ")
    assert record(source, "0.bias").startswith("0.bias | (1,) ")


def test_nan_and_inf_are_filled_red() -> None:
    x = Tensor([1.0, math.nan], requires_grad=True, name="x")
    y = Tensor([1.0, 2.0], requires_grad=True, name="y")
    source = viz.draw_graph(x + y).source
    attrs = nodes(source)
    x_node = next(a for a in attrs.values() if "{ x |" in a)
    y_node = next(a for a in attrs.values() if "{ y |" in a)
    assert f'fillcolor="{viz.NONFINITE_FILL}"' in x_node
    assert "fillcolor" not in y_node

    big = Value(1e308, label="big")
    source = viz.draw_graph(big * 10).source  # overflows to inf
    assert sum(f'fillcolor="{viz.NONFINITE_FILL}"' in a for a in nodes(source).values()) == 1


def test_large_tensors_show_a_summary() -> None:
    x = Tensor(np.arange(100, dtype=np.float64), requires_grad=True, name="x")
    source = viz.draw_graph(x * 2).source
    assert record(source, "x") == "x | (100,) float64 | data min 0  mean 49.5  max 99 | grad None"
    small = viz.draw_graph(x * 2, max_elements=1000).source
    assert "97., 98., 99.]" in record(small, "x")


def test_special_characters_in_names_are_escaped() -> None:
    x = Tensor([1.0], requires_grad=True, name='a|b{c}<d>"e"')
    assert record(viz.draw_graph(x * 2).source, r'a\|b\{c\}\<d\>\"e\"').startswith(r"a\|b")


def test_the_graph_is_drawn_after_backward_with_every_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = (x * 3.0).tanh()
    h.name = "h"
    out = h.sum()
    out.backward()  # frees what backward needed, keeps what the picture needs
    source = viz.draw_graph(out).source
    expected_h_grad = "1., 1."  # d(sum)/dh
    assert expected_h_grad in record(source, "h")
    x_grad = 3 * (1 - np.tanh([3.0, 6.0]) ** 2)  # 0.0296, 0.0001 to four places
    assert f"grad [{x_grad[0]:.4f}, {x_grad[1]:.4f}]" in record(source, "x")
    with pytest.raises(RuntimeError, match="freed"):
        out.backward()  # a second backward through it still says why it cannot


def test_freed_graph_and_bad_input_give_clear_errors() -> None:
    o, *_ = tensor_neuron()
    o.backward()
    with pytest.raises(RuntimeError, match="freed"):
        viz.trace_backward(o)
    with pytest.raises(TypeError, match="expected a Tensor or a Value, got list"):
        viz.draw_graph([1.0])
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(Value(1.0), rankdir="sideways")
    with pytest.raises(TypeError, match="named_parameters"):
        viz.draw_graph(Tensor([1.0], requires_grad=True) * 2, model=object())


# --- backprop step by step --------------------------------------------------------------------


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


def test_tensor_frames_give_each_edge_its_gradient() -> None:
    o, x, w, b = tensor_neuron()
    frames = viz.trace_backward(o)
    assert [f.op for f in frames] == ["Tanh", "Add", "Sum", "Mul"]
    np.testing.assert_allclose(frames[-1].grad_of(x), [-1.5, 0.5])
    np.testing.assert_allclose(frames[-1].grad_of(w), [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(frames[-1].grad_of(b), 0.5)
    assert x.grad is None  # nothing accumulated, and the graph is still there
    o.backward()
    for t in (x, w, b):
        np.testing.assert_allclose(frames[-1].grad_of(t), t.grad.data, atol=1e-12)

    t = Tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    (mul,) = [f for f in viz.trace_backward((t * t).sum()) if f.op == "Mul"]
    # d(a*b)/da = b and d(a*b)/db = a: each edge of x*x carries x; x's gradient is their sum 2x
    np.testing.assert_allclose(mul.edge_grads[0], [1.0, 2.0])
    np.testing.assert_allclose(mul.edge_grads[1], [1.0, 2.0])
    np.testing.assert_allclose(mul.grad_of(t), [2.0, 4.0])


def test_value_op_using_an_input_twice_reports_the_total() -> None:
    v = Value(3.0)
    (frame,) = viz.trace_backward(v * v)
    assert frame.shared_edges
    assert frame.edge_grads == [6.0, 6.0]  # d(v*v)/dv = 2v, seen only as a sum
    assert "total over 2 edges: 6.0000" in frame.draw().source


def test_a_frame_highlights_its_op_and_the_known_edges() -> None:
    o, _ = value_neuron()
    frames = viz.trace_backward(o)
    source = frames[1].draw().source  # the outer +
    current = [a for a in nodes(source).values() if viz.CURRENT_OP_FILL in a]
    assert len(current) == 1 and 'label="+"' in current[0]
    assert source.count(f'fontcolor="{viz.CURRENT_EDGE}"') == 2  # its two input edges, labelled
    assert source.count("style=dashed") == 6  # the four edges into each * and two into the inner +
    assert record(source, "x1") == "x1 | data 2.0000 | grad ?"
    assert record(source, "b") == "b | data 6.8814 | grad 0.5000"


def test_trace_backward_errors() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.trace_backward(Tensor([1.0]) * 2)
    with pytest.raises(RuntimeError, match="shape"):
        viz.trace_backward(Tensor([1.0, 2.0], requires_grad=True) * 2)  # non-scalar, no gradient
    assert viz.trace_backward(Value(1.0)) == []  # a leaf: no op, no frame


# --- rendering with the real dot --------------------------------------------------------------


@needs_dot
def test_pipe_makes_svg_and_render_writes_a_file(tmp_path) -> None:
    o, _ = value_neuron()
    svg = viz.pipe(viz.draw_graph(o), "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "tanh" in svg
    path = viz.render(viz.draw_graph(o), tmp_path / "neuron.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neuron.png"]  # no DOT source left behind


@needs_dot
def test_save_frames_writes_one_numbered_file_per_op(tmp_path) -> None:
    o, _ = value_neuron()
    paths = viz.save_frames(viz.trace_backward(o), tmp_path / "svg")
    assert [p.rsplit("/", 1)[1] for p in paths] == [f"frame_{i:03d}.svg" for i in range(5)]
    assert all("<svg" in open(p).read() for p in paths)

    t, *_ = tensor_neuron()
    paths = viz.save_frames(viz.trace_backward(t), tmp_path / "png", format="png")
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [f"frame_{i:03d}.png" for i in range(4)]
    assert all(open(p, "rb").read(4) == b"\x89PNG" for p in paths)


def test_missing_dot_says_how_to_install_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    o, _ = value_neuron()
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.pipe(viz.draw_graph(o))
    message = str(info.value)
    for hint in ["apt-get install graphviz", "brew install graphviz", "conda install"]:
        assert hint in message
    with pytest.raises(viz.GraphvizNotFoundError):
        viz.save_frames(viz.trace_backward(o), tmp_path / "frames")


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
    assert "step 4: *     receives 0.5000, sends -1.5000, 1.0000" in result.stdout  # dx1 = -1.5, dw1 = 1
    assert len(list((tmp_path / "backprop_value").glob("frame_*.svg"))) == 5
    assert len(list((tmp_path / "backprop_tensor").glob("frame_*.svg"))) == 4
    assert (tmp_path / "neuron_value.svg").exists() and (tmp_path / "neuron_tensor.svg").exists()

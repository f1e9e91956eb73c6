"""The numbers a picture shows, and the scalar engine's edge cases behind them.

Which gradient a box shows (a leaf its accumulated ``.grad``, any other box d root / d value
from a backward of this root, never one another loss left behind), numbers with 4 significant
digits, captions and names of ops with negative constants, and the player's page with names
that look like HTML. Then ``Value``: NaN through relu, ``c ** x``, numpy inputs to the MLP,
and backwards that must not overflow where the forward did not.
"""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import pytest
from test_player_browser import browser  # noqa: F401 (the headless Chromium fixture)
from test_viz import B, box, needs_dot

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, viz
from tinygrad_edu.scalar import MLP


def shared_losses() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Two losses sharing y = 2x: dl1/dy = 1, dl2/dy = 10."""
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2
    y.name = "y"
    l1 = y.sum()
    l1.name = "l1"
    l2 = (y * 10).sum()
    l2.name = "l2"
    return x, y, l1, l2


# --- which gradient a box shows ------------------------------------------------------------------


def test_an_intermediate_shows_the_gradient_for_the_root_drawn_not_another_losses() -> None:
    x, y, l1, l2 = shared_losses()
    l1.backward(retain_graph=True)
    l2.backward(retain_graph=True)  # the last walk through y's op: it keeps 10 there
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad [1.0000, 1.0000]"  # d l1 / d y, not 10
    assert box(source, "l1")[-1] == "grad 1.0000"
    assert box(source, "x")[-1] == "grad [22.0000, 22.0000]"  # a leaf: .grad, both backwards
    assert box(viz.draw_graph(l2).source, "y")[-1] == "grad [10.0000, 10.0000]"
    np.testing.assert_array_equal(y._ctx.grad_output, [10.0, 10.0])  # drawing changed nothing


def test_a_freed_gradient_from_another_backward_is_not_shown_as_a_number() -> None:
    x, y, l1, l2 = shared_losses()
    l1.backward(retain_graph=True)
    l2.backward()  # frees y's op: its gradient for l1 cannot be worked out again
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad " + viz.FROM_ANOTHER_BACKWARD
    assert box(source, "l1")[-1] == "grad 1.0000"


def svg_texts(dot) -> list[str]:
    """The lines of text in the SVG that the real ``dot`` draws."""
    svg = viz.pipe(dot, "svg").decode()
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@needs_dot
def test_a_freed_gradient_that_a_loss_built_on_the_root_sent_is_not_shown_as_the_root_s() -> None:
    x, y, l1, _ = shared_losses()
    l2 = l1 + (y * 10).sum()  # reaches l1 with a 1, and y with 10 more on the way
    l2.backward()  # frees every op: y's op keeps [11, 11], d l2 / d y
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad None"  # no backward started from l1: not 11
    assert box(source, "x")[-1] == "grad [22.0000, 22.0000]"  # a leaf: its .grad
    assert "grad [11.0000, 11.0000]" not in svg_texts(viz.draw_graph(l1))
    x, y, l1, _ = shared_losses()
    l2 = l1 + (y * 10).sum()
    l1.backward(retain_graph=True)
    l2.backward()  # the last walk through y, and the one that freed it, started from l2
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad " + viz.FROM_ANOTHER_BACKWARD
    assert box(source, "l1")[-1] == "grad 1.0000"  # d l1 / d l1, whatever the walk
    assert box(viz.draw_graph(l2).source, "y")[-1] == "grad [11.0000, 11.0000]"  # l2's own
    x, y, l1, _ = shared_losses()
    l2 = l1 + (y * 10).sum()
    l2.backward(retain_graph=True)  # the graph is alive: worked out again for l1
    assert box(viz.draw_graph(l1).source, "y")[-1] == "grad [1.0000, 1.0000]"


@needs_dot
def test_after_a_step_an_intermediate_says_its_inputs_changed_in_place_not_that_the_graph_was_freed() -> None:
    from tinygrad_edu import nn, optim

    w = nn.Parameter(np.array([1.0, 2.0]))
    w.name = "w"
    x = Tensor(np.array([3.0, 4.0]), name="x")
    y = w * x
    y.name = "y"
    loss = y.sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    (y * 10).sum().backward(retain_graph=True)  # the last walk through y starts elsewhere
    assert box(viz.draw_graph(loss).source, "y")[-1] == "grad [1.0000, 1.0000]"  # worked out again
    optim.SGD([w], lr=0.1).step()  # changes w in place: the graph's backward would now refuse
    source = viz.draw_graph(loss).source
    assert box(source, "y")[-1] == "grad " + viz.CHANGED_GRAD
    assert box(source, "loss")[-1] == "grad 1.0000"  # d loss / d loss needs no walk
    assert box(source, "w")[-1] == "grad [33.0000, 44.0000]"  # a leaf: its .grad, both backwards
    texts = svg_texts(viz.draw_graph(loss))
    assert "grad ? (changed in place since)" in texts and viz.CHANGED_NOTE in texts
    loss2 = (w * x).sum()
    loss2.backward(retain_graph=True)
    optim.SGD([w], lr=0.1).step()
    y2 = loss2._ctx.inputs[0]
    assert viz._tensor_grads(loss2, [y2, loss2])[id(y2)].tolist() == [1.0, 1.0]  # its own walk's


def test_after_a_step_the_boxes_show_the_numbers_from_before_it_as_pictures_md_says() -> None:
    from pathlib import Path

    from tinygrad_edu import nn, optim

    page = (Path(__file__).resolve().parent.parent / "docs" / "pictures.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    (block,) = [b for b in blocks if "optim.SGD([w], lr=0.1).step()" in b]
    namespace: dict = {}
    exec(compile(block, "pictures.md, the block with optimizer.step()", "exec"), namespace)
    source = namespace["dot"].source
    # what the block's comments say
    assert box(source, "y") == ["y", "(2,) float64", "data [3.0000, 8.0000]", "grad [6.0000, 16.0000]"]
    assert box(source, "loss")[-2:] == ["data 73.0000", "grad 1.0000"]
    assert box(source, "w")[-2:] == ["data [-0.8000, -4.4000]", "grad [18.0000, 64.0000]"]
    assert html_text(viz.CHANGED_GRAD) not in source and html_text(viz.CHANGED_NOTE) not in source
    # the one "?" the page names: a box whose op another loss's backward passed through since
    w = nn.Parameter(np.array([1.0, 2.0]))
    y = w * Tensor([3.0, 4.0])
    y.name = "y"
    yy = y * y
    yy.name = "yy"
    loss = yy.sum()
    loss.name = "loss"
    loss.backward(retain_graph=True)
    (y * 10).sum().backward(retain_graph=True)
    optim.SGD([w], lr=0.1).step()
    source = viz.draw_graph(loss).source
    assert box(source, "y")[-1] == "grad " + viz.CHANGED_GRAD
    assert box(source, "yy")[-1] == "grad [1.0000, 1.0000]" and box(source, "loss")[-1] == "grad 1.0000"
    assert html_text(viz.CHANGED_NOTE) in source


def test_after_an_ordinary_backward_intermediates_show_what_it_sent() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x * x
    h.name = "h"
    loss = (h * 3).sum()
    loss.name = "loss"
    loss.backward()  # frees the graph; h's op keeps d loss / d h, numbered with loss's walk
    source = viz.draw_graph(loss).source
    assert box(source, "h")[-1] == "grad [3.0000, 3.0000]"
    assert box(source, "loss")[-1] == "grad 1.0000"
    assert box(source, "x")[-1] == "grad [6.0000, 12.0000]"
    h = x * x
    h.name = "h"
    loss = (h * 3).sum()
    loss.backward(retain_graph=True)  # kept: d loss / d h = 3 is worked out again
    assert box(viz.draw_graph(loss).source, "h")[-1] == "grad [3.0000, 3.0000]"


def test_before_its_own_backward_a_root_shows_no_gradient_left_by_another_loss() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x.tanh()
    h.name = "h"
    h.sum().backward(retain_graph=True)  # leaves a gradient on h's op
    x.grad = None
    lb = (h * 5).sum()
    lb.name = "lb"
    source = viz.draw_graph(lb).source
    assert box(source, "h")[-1] == "grad None"
    assert box(source, "lb")[-1] == "grad None"


def test_trace_backward_alone_leaves_every_box_without_a_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x * x
    h.name = "h"
    loss = h.sum()
    loss.name = "loss"
    viz.trace_backward(loss)
    assert h._ctx.grad_output is None and loss._ctx.grad_output is None
    source = viz.draw_graph(loss).source
    assert [box(source, n)[-1] for n in ("x", "h", "loss")] == ["grad None"] * 3


def test_two_backwards_double_the_leaves_not_the_intermediates_as_the_legend_says() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 3
    y.name = "y"
    z = (y * y).sum()
    z.name = "z"
    z.backward(retain_graph=True)
    z.backward(retain_graph=True)
    source = viz.draw_graph(z).source
    assert box(source, "x")[-1] == "grad [36.0000, 72.0000]"  # 2 * 18x, summed over two backwards
    assert box(source, "y")[-1] == "grad [6.0000, 12.0000]"  # 2y, one backward's
    assert html_text(viz.GRAD_NOTE) in source


def html_text(text: str) -> str:
    return text.replace("'", "&#x27;")


def test_tg_grad_does_not_change_the_picture_of_another_root() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    h = x * x
    h.name = "h"
    loss = (h * 3).sum()
    loss.backward(retain_graph=True)
    tg.grad(h.sum(), x, retain_graph=True)  # writes 1 on h's op
    assert box(viz.draw_graph(loss).source, "h")[-1] == "grad [3.0000, 3.0000]"


def test_the_engine_numbers_its_walks() -> None:
    """Each backward has the next number: on the op of its root when it started from that root
    alone (started_walk), and on every op whose grad_output it wrote (grad_walk)."""
    x, y, l1, l2 = shared_losses()
    l1.backward(retain_graph=True)
    first = l1._ctx.started_walk
    assert first > 0 and y._ctx.grad_walk == l1._ctx.grad_walk == first
    l2.backward(retain_graph=True)
    assert l2._ctx.started_walk == y._ctx.grad_walk == first + 1 and l1._ctx.grad_walk == first
    tg.grad([l1, l2], [x], retain_graph=True)  # two roots: their gradients mix on y (11 there)
    assert l1._ctx.started_walk == l2._ctx.started_walk == -y._ctx.grad_walk  # neither owns the walk
    assert box(viz.draw_graph(l1).source, "y")[-1] == "grad [1.0000, 1.0000]"  # worked out again
    tg.grad([l1, l2], [x])  # and freed
    assert box(viz.draw_graph(l1).source, "y")[-1] == "grad " + viz.FROM_ANOTHER_BACKWARD
    assert box(viz.draw_graph(l2).source, "y")[-1] == "grad " + viz.FROM_ANOTHER_BACKWARD


def test_a_value_box_shows_its_grad_marked_when_another_backward_left_it() -> None:
    x = Value(1.0, label="x")
    y = x * 2
    y.label = "y"
    l1 = y * 1.0
    l1.label = "l1"
    l2 = y * 10.0
    l1.backward()
    assert box(viz.draw_graph(l1).source, "y")[-1] == "grad 1.0000"  # d l1 / d y: no mark
    l2.backward()  # resets y.grad and leaves 10 in it
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad 10.0000 " + viz.NOT_THIS_ROOT  # y.grad, marked
    assert box(source, "l1")[-1] == "grad 1.0000"
    assert box(source, "x")[-1] == "grad 22.0000"  # a leaf: summed over both backwards
    assert html_text(viz.NOT_THIS_ROOT_NOTE) in source  # the legend says what the mark means
    assert y.grad == 10.0  # drawing changed nothing
    fresh = y * 3.0
    source = viz.draw_graph(fresh).source  # no backward from it yet: y.grad is l2's 10
    assert box(source, "y")[-1] == "grad 10.0000 " + viz.NOT_THIS_ROOT


@needs_dot
def test_a_value_graph_walked_by_hand_shows_each_grad_as_it_is_set() -> None:
    """The micrograd lecture: set o.grad = 1 by hand, then call each node's _backward() in turn."""
    x1, w1, b = Value(2.0, label="x1"), Value(-3.0, label="w1"), Value(B, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    n = x1w1 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.grad = 1.0
    texts = svg_texts(viz.draw_graph(o))
    assert texts.count("grad 0.0000") == 5 and "grad 1.0000" in texts  # n.grad is still 0.0
    assert box(viz.draw_graph(o).source, "n")[-1] == "grad 0.0000"
    o._backward()
    assert n.grad == pytest.approx(1 - o.data**2)
    assert box(viz.draw_graph(o).source, "n")[-1] == f"grad {n.grad:.4f}"
    assert box(viz.draw_graph(o).source, "x1w1")[-1] == "grad 0.0000"  # not reached yet
    n._backward()
    x1w1._backward()
    source = viz.draw_graph(o).source
    assert box(source, "w1")[-1] == f"grad {x1.data * n.grad:.4f}"
    assert box(source, "b")[-1] == f"grad {n.grad:.4f}"
    assert html_text(viz.NOT_THIS_ROOT) not in source and html_text(viz.VALUE_GRAD_NOTE) in source
    assert (x1.grad, w1.grad, b.grad) == (w1.data * n.grad, x1.data * n.grad, n.grad)  # unchanged


def _diamond() -> tuple[Value, Value, Value, Value, Value]:
    """o = (a + 1) + 3a with a = 2x: a reaches o along two paths, do/da = 1 + 3 = 4."""
    x = Value(1.0, label="x")
    a = x * 2
    a.label = "a"
    b = a + 1
    b.label = "b"
    c = a * 3
    c.label = "c"
    o = b + c
    o.label = "o"
    return x, a, b, c, o


def test_a_half_finished_walk_by_hand_marks_no_partial_sum() -> None:
    """After o._backward() and b._backward(), a holds b's share (1) of its gradient, c's (3) is to
    come: a partial sum of root's own walk, not another backward's gradient."""
    x, a, b, c, o = _diamond()
    o.grad = 1.0
    o._backward()
    b._backward()
    source = viz.draw_graph(o).source
    assert box(source, "a")[-1] == "grad 1.0000"  # a.grad as it is, unmarked
    assert html_text(viz.NOT_THIS_ROOT) not in source
    c._backward()  # the other path: a's gradient is complete, 4
    assert box(viz.draw_graph(o).source, "a")[-1] == "grad 4.0000"
    a._backward()
    assert box(viz.draw_graph(o).source, "x")[-1] == "grad 8.0000"
    # c first, then b: the same, whichever order the two paths come in
    x, a, b, c, o = _diamond()
    o.grad = 2.0  # any seed: the walk scales with it
    o._backward()
    c._backward()
    source = viz.draw_graph(o).source
    assert box(source, "a")[-1] == "grad 6.0000" and html_text(viz.NOT_THIS_ROOT) not in source
    assert (a.grad, b.grad, c.grad, o.grad) == (6.0, 2.0, 2.0, 2.0)  # drawing changed nothing


def test_another_backward_s_gradient_is_marked_in_a_walk_by_hand_too() -> None:
    x, a, b, c, o = _diamond()
    other = a * 10.0
    other.backward()  # a.grad = 10, from another output
    o.grad = 1.0
    o._backward()  # b and c have o's 1; a still holds other's 10, no step of o's walk gives it
    source = viz.draw_graph(o).source
    assert box(source, "a")[-1] == "grad 10.0000 " + viz.NOT_THIS_ROOT
    b._backward()  # 10 + 1: still no partial sum of o's walk (1, 3 or 4)
    assert box(viz.draw_graph(o).source, "a")[-1] == "grad 11.0000 " + viz.NOT_THIS_ROOT
    # a value below the shared one holds the other output's gradient too: marked as well
    x = Value(1.0, label="x")
    z = x * 2
    z.label = "z"
    y = z * 1.0
    y.label = "y"
    l1, l2 = y * 1.0, y * 10.0
    l1.backward()
    l2.backward()
    source = viz.draw_graph(l1).source
    assert box(source, "y")[-1] == "grad 10.0000 " + viz.NOT_THIS_ROOT
    assert box(source, "z")[-1] == "grad 10.0000 " + viz.NOT_THIS_ROOT


def test_a_leaf_value_root_accumulates_like_any_leaf() -> None:
    v = Value(3.0)
    v.backward()
    v.backward()
    assert v.grad == 2.0  # as PyTorch: a leaf's gradient adds up


# --- numbers with 4 significant digits -----------------------------------------------------------


def test_small_and_huge_numbers_keep_four_significant_digits() -> None:
    x = Tensor(np.array([1e-5, 2.5e-6]), requires_grad=True, name="x")
    loss = (x * 1e-3).sum()
    loss.backward()
    cells = box(viz.draw_graph(loss).source, "x")
    assert cells[2] == "data [1e-05, 2.5e-06]" and cells[3] == "grad [0.001000, 0.001000]"
    v = Value(1.234e-5, label="v")
    o = v * 1e-3
    o.backward()
    assert box(viz.draw_graph(o).source, "v") == ["v", "data 1.234e-05", "grad 0.001000"]
    big = Value(1e12, label="big")
    assert box(viz.draw_graph(big * big).source, "big")[1] == "data 1e+12"
    t = Tensor(np.array(1.234e-5), requires_grad=True, name="t0")
    assert box(viz.draw_graph(t * 2).source, "t0")[2] == "data 1.234e-05"  # a 0-d tensor too
    assert viz._digits(0.5) == "0.5000" and viz._digits(24.7041) == "24.7041"


def test_a_large_array_s_summary_writes_its_numbers_as_every_other_number() -> None:
    # 20 finite numbers and a NaN: min 0.5, max 24.70412, mean (0.5 + 24.70412 + 18 * 3) / 20 = 3.960206
    a = np.array([0.5, 24.70412] + [3.0] * 18 + [math.nan])
    x = Tensor(a, requires_grad=True, name="x")
    loss = (x * 2).sum()
    loss.backward()
    cells = box(viz.draw_graph(loss).source, "x")
    assert cells[2] == "data min 0.5000  mean 3.9602  max 24.7041\n1 NaN, 0 Inf"  # not 0.5, 3.96, 24.7
    assert cells[3] == "grad min 2.0000  mean 2.0000  max 2.0000"
    tiny = Tensor(np.full(20, 1.234e-5), requires_grad=True, name="tiny")
    assert (
        box(viz.draw_graph(tiny * 2).source, "tiny")[2] == "data min 1.234e-05  mean 1.234e-05  max 1.234e-05"
    )
    assert viz._format_array(np.arange(100), 16) == "min 0  mean 49.5000  max 99"  # integers stay integers


def test_captions_show_small_array_gradients() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    caption = viz.trace_backward((x * 1e-6).sum())[-1].caption
    assert "= [1e-06, 1e-06] to x" in caption  # 4 decimals would print [0, 0]


# --- ops with a constant: captions and names -----------------------------------------------------


def test_negative_constants_on_either_side_are_read_right() -> None:
    x = Value(0.7, label="x")
    o = (-2 - x) * (-3 / x)
    captions = [f.caption for f in viz.trace_backward(o)]
    assert "to -2 - x and" in captions[0] and "to -3/x" in captions[0]
    assert "-3/ (-3 divided by) received -2.7; sends 3/x² × -2.7 = 6.122 × -2.7" in captions[1]
    assert "-2- (-2 minus) received -4.286; sends −1 × -4.286 = 4.286 to x" in captions[2]
    x = Value(0.7, label="x")
    names = [f.caption for f in viz.trace_backward((x - -2) * (x + -2) * (x * -2) * (x / -2))]
    text = " ".join(names)
    assert "x - (-2)" in text and "x + (-2)" in text and "x*(-2)" in text and "x/(-2)" in text
    assert "1/(-2) × " in text
    x = Value(0.7, label="x")
    one_minus = [f.caption for f in viz.trace_backward((1 - x) * (2 / x))]
    assert "to 1 - x and" in one_minus[0] and "to 2/x" in one_minus[0]
    assert "2/ (2 divided by) received 0.3; sends −2/x² × 0.3 = -4.082 × 0.3" in one_minus[1]


def test_an_op_with_a_constant_is_named_in_words_not_read_as_a_number() -> None:
    x = Value(2.0, label="x")
    o = x * 3
    # the op of o - 1.0 is drawn "-1": its caption read "-1 received 1", like the number -1
    captions = [f.caption for f in viz.trace_backward(o - 1.0)]
    assert captions[0] == "Step 1 of 2: -1 (subtract 1) received 1; sends 1 × 1 = 1 to x*3"
    assert captions[1].startswith("Step 2 of 2: *3 (multiply by 3) received 1;")
    words = [f.caption.split(" received")[0] for f in viz.trace_backward(2 ** (x + 5) / 4 - (1 - x))]
    assert "2** (2 to the power)" in " ".join(words) and "+5 (add 5)" in " ".join(words)
    assert "/4 (divide by 4)" in " ".join(words) and "1- (1 minus)" in " ".join(words)


def test_tensor_captions_name_inputs_that_exist() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    w = Tensor([3.0, 4.0], requires_grad=True)  # no name: no "a" or "b" out of nowhere
    caption = viz.trace_backward((x * w).sum())[-1].caption
    assert not re.search(r"\b[ab] ×", caption), caption
    assert "x × grad" in caption


def test_dot_and_sum_captions_say_what_the_derivative_is() -> None:
    x = Value(0.7, label="x")
    w = Value(-0.3, label="w")
    out = Value.dot([w, w], [x, x], x) * Value.sum([x, x, 1])
    text = " ".join(f.caption for f in viz.trace_backward(out))
    assert "the local derivative" not in text
    assert "sum received 0.28; sends 2 × 0.28 = 0.56 to x" in text


def test_backslashes_in_names_stay_in_the_edge_labels() -> None:
    x = Value(2.0, label="a\\N")
    frames = viz.trace_backward(x * x)  # its edges' labels name it: (a\N + a\N) × 1
    source = frames[0].draw().source
    assert "(a\\\\N + a\\\\N) × 1" in source  # doubled in DOT: not the \N escape (the node's name)


@needs_dot
def test_backslashes_in_names_are_drawn_as_written() -> None:
    x = Value(2.0, label="a\\N")
    frames = viz.trace_backward(x * x)
    svg = viz.pipe(frames[0].draw(), "svg").decode()
    assert svg.count("a\\N") >= 3  # its box and the labels of its two edges


@needs_dot
def test_backslashes_in_a_tensor_s_box_are_drawn_as_written() -> None:
    x = Tensor(np.array([1.0]), requires_grad=True, name="x\\N")
    w = Tensor(np.array([2.0]), requires_grad=True, name="\\Gamma")
    svg = viz.pipe(viz.draw_graph((x * w).sum()), "svg").decode()
    assert ">x\\N<" in svg and ">\\Gamma<" in svg  # before: graphviz drew "xv0" and "%3amma"


# --- the losses' captions: the formula gives the number printed next to it -----------------------
#
# Each expected value below is the caption's formula evaluated with numpy, written out by hand.

P = np.array([[1.0], [2.0], [4.0]])  # three elements: n = 3, not the 2 of 2(p − y)
Y = np.array([[0.0], [1.0], [1.0]])
PROB = np.array([[0.2], [0.7], [0.9]])
Z = np.array([[0.5], [-1.0], [2.0]])
LOGITS = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, 0.0]])  # 3 samples, 2 classes: n = 3, not 6
CLASSES = np.array([1, 0, 1])
UPSTREAM = np.array([[1.0], [2.0], [0.5]])  # reduction="none": a gradient per loss, not all ones


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ONEHOT = np.eye(2)[CLASSES]


def sends(caption: str) -> dict[str, tuple[str, np.ndarray]]:
    """{input's name: (formula, printed value)} from "...; sends <formula> = <value> to <name> and ..."."""
    result = {}
    for part in caption.split("; sends ", 1)[1].split(" and "):
        if part.startswith("nothing to "):
            continue
        formula, rest = part.split(" = ", 1)
        value, name = rest.rsplit(" to ", 1)
        result[name] = (formula, np.array(json.loads(value)))
    return result


def loss_frame(loss_cls: type, reduction: str, x: np.ndarray, target: np.ndarray, target_grad: bool):
    names = ("z", "y") if loss_cls in (tg.nn.BCEWithLogitsLoss, tg.nn.CrossEntropyLoss) else ("p", "y")
    inp = Tensor(x, requires_grad=True, name=names[0])
    tgt = target
    if loss_cls is not tg.nn.CrossEntropyLoss:
        tgt = Tensor(target, requires_grad=target_grad, name="y")
    loss = loss_cls(reduction=reduction)(inp, tgt)
    gradient = None
    if reduction == "none":
        gradient = UPSTREAM[:, 0] if loss_cls is tg.nn.CrossEntropyLoss else UPSTREAM
    (frame,) = viz.trace_backward(loss, gradient=gradient)
    return frame


# (loss, reduction, input, target, caption's note, {input: (formula, the formula in numpy)})
LOSS_CASES = [
    (tg.nn.MSELoss, "mean", P, Y, "(mean over n = 3 elements)", {
        "p": ("2(p − y)/3 × 1", 2 * (P - Y) / 3 * 1),
        "y": ("−2(p − y)/3 × 1", -2 * (P - Y) / 3 * 1),
    }),
    (tg.nn.MSELoss, "sum", P, Y, "(sum over 3 elements)", {
        "p": ("2(p − y) × 1", 2 * (P - Y) * 1),
        "y": ("−2(p − y) × 1", -2 * (P - Y) * 1),
    }),
    (tg.nn.MSELoss, "none", P, Y, "", {
        "p": ("2(p − y) × grad", 2 * (P - Y) * UPSTREAM),
        "y": ("−2(p − y) × grad", -2 * (P - Y) * UPSTREAM),
    }),
    (tg.nn.BCEWithLogitsLoss, "mean", Z, Y, "(mean over n = 3 elements)", {
        "z": ("(σ(z) − y)/3 × 1", (sigmoid(Z) - Y) / 3 * 1),
        "y": ("−z/3 × 1", -Z / 3 * 1),
    }),
    (tg.nn.BCEWithLogitsLoss, "sum", Z, Y, "(sum over 3 elements)", {
        "z": ("(σ(z) − y) × 1", (sigmoid(Z) - Y) * 1),
        "y": ("−z × 1", -Z * 1),
    }),
    (tg.nn.BCEWithLogitsLoss, "none", Z, Y, "", {
        "z": ("(σ(z) − y) × grad", (sigmoid(Z) - Y) * UPSTREAM),
        "y": ("−z × grad", -Z * UPSTREAM),
    }),
    (tg.nn.BCELoss, "mean", PROB, Y, "(mean over n = 3 elements)", {
        "p": ("((1 − y)/(1 − p) − y/p)/3 × 1", ((1 - Y) / (1 - PROB) - Y / PROB) / 3 * 1),
        "y": ("(log(1 − p) − log p)/3 × 1", (np.log(1 - PROB) - np.log(PROB)) / 3 * 1),
    }),
    (tg.nn.BCELoss, "sum", PROB, Y, "(sum over 3 elements)", {
        "p": ("((1 − y)/(1 − p) − y/p) × 1", ((1 - Y) / (1 - PROB) - Y / PROB) * 1),
        "y": ("(log(1 − p) − log p) × 1", (np.log(1 - PROB) - np.log(PROB)) * 1),
    }),
    (tg.nn.BCELoss, "none", PROB, Y, "", {
        "p": ("((1 − y)/(1 − p) − y/p) × grad", ((1 - Y) / (1 - PROB) - Y / PROB) * UPSTREAM),
        "y": ("(log(1 − p) − log p) × grad", (np.log(1 - PROB) - np.log(PROB)) * UPSTREAM),
    }),
    (tg.nn.CrossEntropyLoss, "mean", LOGITS, CLASSES, "(mean over n = 3 samples)", {
        "z": ("(softmax(z) − onehot(target))/3 × 1", (softmax_rows(LOGITS) - ONEHOT) / 3 * 1),
    }),
    (tg.nn.CrossEntropyLoss, "sum", LOGITS, CLASSES, "(sum over 3 samples)", {
        "z": ("(softmax(z) − onehot(target)) × 1", (softmax_rows(LOGITS) - ONEHOT) * 1),
    }),
    (tg.nn.CrossEntropyLoss, "none", LOGITS, CLASSES, "", {
        "z": ("(softmax(z) − onehot(target)) × grad[:, None]", (softmax_rows(LOGITS) - ONEHOT) * UPSTREAM),
    }),
]


@pytest.mark.parametrize(
    "loss_cls, reduction, x, target, note, expected",
    LOSS_CASES,
    ids=[f"{case[0].__name__}-{case[1]}" for case in LOSS_CASES],
)
def test_a_loss_caption_formula_evaluates_to_the_value_it_prints(
    loss_cls, reduction, x, target, note, expected
) -> None:
    frame = loss_frame(loss_cls, reduction, x, target, target_grad=True)
    shown = sends(frame.caption)
    assert set(shown) == set(expected), frame.caption
    for name, (formula, value) in expected.items():
        caption_formula, printed = shown[name]
        assert caption_formula == formula, frame.caption
        assert ("/3 × " in caption_formula) == (reduction == "mean")  # the mean's division, and only there
        np.testing.assert_allclose(printed, value, rtol=1e-3, atol=1e-12)  # 4 significant digits
        i = 0 if name in ("p", "z") else 1
        np.testing.assert_allclose(frame.edge_grads[i], value, rtol=1e-12)
    head = frame.caption.split(" received ", 1)[0]
    assert head == f"Step 1 of 1: {frame.op} {note}".rstrip()


def test_the_edge_labels_carry_the_same_formula_as_the_caption() -> None:
    frame = loss_frame(tg.nn.MSELoss, "mean", P, Y, target_grad=False)
    label = frame._trace.labels[f"{frame.op_key}:0"]
    assert label.startswith("2(p − y)/3 × 1\n= [[0.6667], [0.6667], [2]]")  # 2·(1, 1, 3)/3


def test_the_first_example_of_a_mean_loss_prints_a_formula_that_gives_its_number() -> None:
    p = Tensor([[1.0], [2.0]], requires_grad=True, name="p")
    (frame,) = viz.trace_backward(tg.nn.MSELoss()(p, np.zeros((2, 1))))
    formula, printed = sends(frame.caption)["p"]
    assert formula == "2(p − y)/2 × 1"
    np.testing.assert_allclose(printed, 2 * (np.array([[1.0], [2.0]]) - 0) / 2 * 1)  # [[1], [2]]


def test_the_documented_network_s_loss_caption_divides_by_the_batch_size() -> None:
    from tinygrad_edu import data
    from tinygrad_edu.cli import common

    X, y = data.make_moons(4, noise=0.2, seed=0)
    model = common.make_network([2, 3, 1], 0)
    z = model(Tensor(X, name="X"))
    labels = y.reshape(-1, 1).astype(np.float32)
    loss = tg.nn.BCEWithLogitsLoss()(z, Tensor(labels, name="y"))
    frame = viz.trace_backward(loss, model=model)[0]
    assert frame.caption.startswith("Step 1 of 4: BCEWithLogits (mean over n = 4 elements) received 1; ")
    formula, printed = sends(frame.caption)["the output of Linear"]
    assert formula == "(σ(z) − y)/4 × 1"
    np.testing.assert_allclose(printed, (sigmoid(z.data.astype(np.float64)) - labels) / 4 * 1, rtol=1e-3)


def test_a_mean_loss_times_a_constant_shows_both_factors() -> None:
    p = Tensor(P, requires_grad=True, name="p")
    frames = viz.trace_backward(tg.nn.MSELoss()(p, Y) * 5)
    formula, printed = sends(frames[1].caption)["p"]
    assert formula == "2(p − y)/3 × 5"
    np.testing.assert_allclose(printed, 2 * (P - Y) / 3 * 5, rtol=1e-3)


def test_a_bce_caption_with_a_clamped_log_says_that_term_is_zero() -> None:
    prob = np.array([[0.0], [0.5]])  # log 0 is clamped at -100: d/dp of that term is 0, not -y/p
    target = np.array([[0.0], [1.0]])
    frame = loss_frame(tg.nn.BCELoss, "mean", prob, target, target_grad=True)
    shown = sends(frame.caption)
    formula, printed = shown["p"]
    assert formula == "((1 − y)/(1 − p)·[log(1 − p) > −100] − y/p·[log p > −100])/2 × 1"
    # [log(1 − p) > −100] = (1, 1) and [log p > −100] = (0, 1); y/p's term is 0 where its bracket is
    np.testing.assert_allclose(printed, [[((1 - 0) / (1 - 0) - 0) / 2], [((1 - 1) / 0.5 - 1 / 0.5) / 2]])
    formula, printed = shown["y"]
    assert formula == "(max(log(1 − p), −100) − max(log p, −100))/2 × 1"
    np.testing.assert_allclose(printed, [[(0 - -100) / 2], [(np.log(0.5) - np.log(0.5)) / 2]], atol=1e-12)


def test_a_name_with_grad_in_it_is_written_as_it_is() -> None:
    x = Tensor([2.0], requires_grad=True, name="grad_x")
    w = Tensor([3.0], requires_grad=True, name="w")
    frame = viz.trace_backward((x * w).sum())[-1]  # Mul receives [1]
    assert sends(frame.caption)["w"][0] == "grad_x × [1]"


# --- the player's page --------------------------------------------------------------------------

TRICKY = "<!--<script>"


def tricky_frames() -> viz.Frames:
    x = Value(2.0, label=TRICKY)
    w = Value(-3.0, label="w & </script>")
    o = (x * w + x).tanh()
    o.label = "o"
    return viz.trace_backward(o)


@needs_dot
def test_the_captions_json_has_no_html_in_it() -> None:
    page = viz._player(tricky_frames(), page=True)
    data = re.search(r'<script type="application/json" class="tge-captions">(.*?)</script>', page, re.S)
    assert data and not set("<>&") & set(data.group(1))
    assert TRICKY in " ".join(json.loads(data.group(1)))


def test_a_tricky_name_cannot_break_the_player_in_a_browser(browser, tmp_path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    frames = tricky_frames()
    browser.get("file://" + frames.to_html(tmp_path / "tricky.html"))
    caption = browser.find_element(By.CSS_SELECTOR, ".tge-caption")
    assert caption.text == frames[0].caption
    browser.find_element(By.CSS_SELECTOR, ".tge-next").click()
    assert caption.text == frames[1].caption and TRICKY in " ".join(f.caption for f in frames)
    shown = [f for f in browser.find_elements(By.CSS_SELECTOR, ".tge-frame") if f.is_displayed()]
    assert len(shown) == 1 and TRICKY in shown[0].text


# --- Value's edge cases --------------------------------------------------------------------------


def test_relu_of_nan_is_nan() -> None:
    v = Value(math.nan)
    out = v.relu()
    out.backward()
    assert math.isnan(out.data)
    assert v.grad == 1.0  # the gradient passes a NaN, as in PyTorch and Tensor.relu (not a harmless 0)


def test_a_number_to_a_value_power_is_computed_directly() -> None:
    assert (10 ** Value(3.0)).data == 1000.0
    x = Value(math.inf)
    out = 1**x
    out.backward()
    assert out.data == 1.0 and x.grad == 0.0


def test_the_mlp_takes_a_numpy_row_and_refuses_a_tensor() -> None:
    net = MLP(2, [3, 1])
    row = np.array([1.0, 2.0])
    assert net(row).data == pytest.approx(net([1.0, 2.0]).data)
    assert isinstance(Value.dot([Value(0.5), Value(-1.0)], np.array([1.0, 2.0]), 0.0).data, float)
    with pytest.raises(TypeError, match="Tensor"):
        net(Tensor([1.0, 2.0]))


def test_dot_makes_no_node_for_a_constant() -> None:
    w = Value(0.5, label="w")
    out = Value.dot([w], [2.0])
    assert out._prev == (w,)
    assert viz.draw_graph(out).source.count("class=leaf") == 1
    out.backward()
    assert w.grad == 2.0


@pytest.mark.parametrize(
    "make, grads",
    [
        (lambda: [Value(1e200), Value(1e200)], lambda a, b: a / b),
        (lambda: [Value(1e-200)], lambda a: 1 / a),
        (lambda: [Value(1e-200)], lambda a: a**-1),
    ],
    ids=["big/big", "1/tiny", "tiny**-1"],
)
def test_backward_does_not_overflow_where_the_forward_did_not(make, grads) -> None:
    values = make()
    grads(*values).backward()
    if len(values) == 2:
        assert values[0].grad == pytest.approx(1e-200) and values[1].grad == pytest.approx(-1e-200)
    else:
        assert values[0].grad == -math.inf  # -1e400: truly beyond a float


def test_an_integer_too_large_for_a_float_is_named() -> None:
    with pytest.raises(OverflowError, match=r"Value \(data\): the integer about 10\*\*400"):
        Value(10**400)
    with pytest.raises(OverflowError, match=r"Value \*: the integer"):
        Value(1.0) * 10**400


# --- every op's caption: its derivative as a formula, and the number it gives ----------------------

X_OP = np.array([[1.0, -2.0], [3.0, 0.5]])
Y_OP = np.array([[0.5, 1.0], [2.0, 4.0]])


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# (op, how it is applied to x and y, {input: (formula in the caption, its value for upstream w)})
OP_CAPTIONS = [
    ("Abs", lambda x, y: x.abs(), {"x": ("sign(x) × grad", lambda w: np.sign(X_OP) * w)}),
    ("Sqrt", lambda x, y: y.sqrt(), {"y": ("1/(2·out) × grad", lambda w: w / (2 * np.sqrt(Y_OP)))}),
    ("Pow", lambda x, y: y**x, {
        "y": ("x·y^(x − 1) × grad", lambda w: X_OP * Y_OP ** (X_OP - 1) * w),
        "x": ("out·ln(y) × grad", lambda w: Y_OP**X_OP * np.log(Y_OP) * w),
    }),
    ("Clip", lambda x, y: x.clip(0, 2), {
        "x": ("(x inside [lo, hi]) × grad", lambda w: ((X_OP >= 0) & (X_OP <= 2)) * w),
    }),
    ("LeakyReLU", lambda x, y: tg.nn.functional.leaky_relu(x), {
        "x": ("(1 where x > 0, else the slope) × grad", lambda w: np.where(X_OP > 0, 1, 0.01) * w),
    }),
    ("Maximum", lambda x, y: tg.maximum(x, y), {
        "x": ("(x > y, ½ on a tie) × grad", lambda w: (X_OP > Y_OP) * w),
        "y": ("(y > x, ½ on a tie) × grad", lambda w: (Y_OP > X_OP) * w),
    }),
    ("Minimum", lambda x, y: tg.minimum(x, y), {
        "x": ("(x < y, ½ on a tie) × grad", lambda w: (X_OP < Y_OP) * w),
        "y": ("(y < x, ½ on a tie) × grad", lambda w: (Y_OP < X_OP) * w),
    }),
    ("Where", lambda x, y: tg.where(X_OP > 0, x, y), {
        "x": ("cond × grad", lambda w: (X_OP > 0) * w),
        "y": ("(not cond) × grad", lambda w: (X_OP <= 0) * w),
    }),
    ("LogSumExp", lambda x, y: x.logsumexp(axis=1), {
        "x": ("softmax(x) × grad", lambda w: _softmax(X_OP) * w[:, None]),
    }),
    ("Softmax", lambda x, y: x.softmax(axis=1), {
        "x": ("out·(grad − sum(grad·out)) along the axis",
              lambda w: _softmax(X_OP) * (w - (w * _softmax(X_OP)).sum(axis=1, keepdims=True))),
    }),
    ("LogSoftmax", lambda x, y: x.log_softmax(axis=1), {
        "x": ("grad − softmax(x)·sum(grad) along the axis",
              lambda w: w - _softmax(X_OP) * w.sum(axis=1, keepdims=True)),
    }),
    ("GetItem", lambda x, y: x[1], {
        "x": ("grad put back where it was taken from, 0 elsewhere", lambda w: np.array([[0, 0], list(w)])),
    }),
    ("Reshape", lambda x, y: x.reshape(4), {"x": ("grad reshaped back", lambda w: w.reshape(2, 2))}),
    ("Transpose", lambda x, y: x.T, {"x": ("grad with its axes put back", lambda w: w.T)}),
    ("Concatenate", lambda x, y: tg.cat([x, y]), {
        "x": ("the input's slice of grad", lambda w: w[:2]),
        "y": ("the input's slice of grad", lambda w: w[2:]),
    }),
    ("Stack", lambda x, y: tg.stack([x, y]), {
        "x": ("the input's slice of grad", lambda w: w[0]),
        "y": ("the input's slice of grad", lambda w: w[1]),
    }),
    ("Cast", lambda x, y: x.astype(np.float32), {"x": ("1 × grad, in the input's dtype", lambda w: w)}),
    ("Max", lambda x, y: x.max(), {  # a one-element upstream gradient is written as its number
        "x": ("1 to the largest element (1/k each for k equal ones), 0 elsewhere", lambda w: X_OP == 3.0),
    }),
    ("Min", lambda x, y: x.min(axis=0), {
        "x": ("grad to the smallest element (1/k each for k equal ones), 0 elsewhere",
              lambda w: (X_OP == X_OP.min(axis=0)) * w),  # each column's smallest: row 0
    }),
]


@pytest.mark.parametrize("op, apply, expected", OP_CAPTIONS, ids=[case[0] for case in OP_CAPTIONS])
def test_every_op_s_caption_writes_its_derivative_and_the_number_it_gives(op, apply, expected) -> None:
    x = Tensor(X_OP, requires_grad=True, name="x")
    y = Tensor(Y_OP, requires_grad=True, name="y")
    out = apply(x, y)
    w = np.arange(1.0, out.size + 1).reshape(out.shape)  # upstream weights: each element's own
    frames = viz.trace_backward((out * w).sum())
    (frame,) = [f for f in frames if f.caption.split(": ", 1)[1].startswith(f"{op} received")]
    shown = sends(frame.caption)
    assert set(shown) == set(expected), frame.caption
    for name, (formula, value) in expected.items():
        assert shown[name][0] == formula, frame.caption
        np.testing.assert_allclose(shown[name][1], value(w), rtol=1e-3, atol=1e-12)


def test_a_broadcast_s_caption_says_the_gradient_is_summed_back() -> None:
    row = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="row")
    w = np.arange(1.0, 7.0).reshape(3, 2)
    frames = viz.trace_backward((row.broadcast_to((3, 2)) * w).sum())
    formula, value = sends(frames[-1].caption)["row"]
    assert formula == "grad summed over the repeated axes", frames[-1].caption
    np.testing.assert_allclose(value, w.sum(axis=0))  # [9, 12]


def test_every_built_in_op_has_a_caption_formula() -> None:
    missing = set(tg.autograd.OPS) - set(viz.TENSOR_LOCAL) - set(viz.LOSS_LOCAL)
    assert not missing, f"ops whose step-through caption would only say 'backward(grad)': {sorted(missing)}"


def test_a_user_op_shows_its_formula_once_it_is_given_one(monkeypatch) -> None:
    class Cube(tg.Function):
        def forward(self, x):
            return x**3

        def backward(self, grad):
            (x,) = self.inputs
            return 3 * x * x * grad

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    assert "sends Cube.backward(grad) = [3, 12] to x" in viz.trace_backward(Cube.apply(x).sum())[-1].caption
    monkeypatch.setitem(viz.TENSOR_LOCAL, "Cube", ("3·{a}² × grad",))  # as pictures.md shows
    assert "sends 3·x² × grad = [3, 12] to x" in viz.trace_backward(Cube.apply(x).sum())[-1].caption


def test_an_op_of_ones_own_named_like_a_built_in_one_shows_its_own_backward() -> None:
    # before: formulas were looked up by class name, so bug_sigmoid's planted mistake (no × grad)
    # was captioned "out·(1 − out) × grad = [0.25, 0.105]", a formula giving [0.75, 0.315]
    class Sigmoid(tg.Function):
        def forward(self, x):
            return 1 / (1 + np.exp(-x))

        def backward(self, grad):
            s = self.output
            return s * (1 - s)

    x = Tensor(np.array([0.0, 2.0]), requires_grad=True, name="x")
    caption = viz.trace_backward((Sigmoid.apply(x) * 3).sum())[-1].caption
    assert "sends Sigmoid.backward(grad) = [0.25, 0.105] to x" in caption
    built_in = viz.trace_backward((x.sigmoid() * 3).sum())[-1].caption
    assert "sends out·(1 − out) × grad = [0.75, 0.315] to x" in built_in

    class MSE(tg.Function):  # (a fused loss's name too)
        def forward(self, p, y):
            self.save_for_backward("mean")
            return np.mean((p - y) ** 2)

        def backward(self, grad):
            p, y = self.inputs
            return grad * (p - y), None

    p = Tensor(np.array([1.0, 3.0]), requires_grad=True, name="p")
    assert "sends MSE.backward(1) = [1, 3] to p" in viz.trace_backward(MSE.apply(p, np.zeros(2)))[-1].caption


def test_a_broadcast_input_s_formula_includes_the_sum_the_engine_applies() -> None:
    X = Tensor(np.ones((3, 1)), name="X")
    b = Tensor(np.array([0.5]), requires_grad=True, name="b")
    formula, value = sends(viz.trace_backward((X + b).sum())[-1].caption)["b"]
    assert formula == "(1 × grad) summed to shape (1,)"
    np.testing.assert_array_equal(value, [3.0])  # 1 × [[1], [1], [1]] summed
    B = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True, name="B")
    W = Tensor(np.arange(20.0).reshape(4, 5) / 10, requires_grad=True, name="W")
    caption = viz.trace_backward((B @ W).sum())[-1].caption
    assert "grad @ W.swapaxes(-1, -2) = " in caption  # 3-d: .T would reverse every axis
    assert "(B.swapaxes(-1, -2) @ grad) summed to shape (4, 5) = " in caption


def test_an_unnamed_expression_or_a_negative_number_is_bracketed_in_a_formula() -> None:
    a = Tensor(2.0, requires_grad=True, name="a")
    b = Tensor(3.0, requires_grad=True, name="b")
    caption = viz.trace_backward((a * b) ** 3)[0].caption
    assert "sends 3·(a*b)^(3 − 1) × 1 = 108 to a*b" in caption  # 3 · 6² = 108
    value_caption = viz.trace_backward((Value(-0.5) * 1.0) ** 3)[0].caption
    assert "3·(-0.5)^2 × 1 = 0.75 × 1" in value_caption


def test_negative_zero_is_written_as_zero() -> None:
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True, name="x")
    caption = viz.trace_backward((x.relu() * -1.0).sum())[-1].caption
    assert "= [0, -1] to x" in caption
    assert viz._digits(-0.0) == "0.0000"


def test_a_seeded_backward_is_shown_as_it_was_sent_from_its_seed_in_every_box() -> None:
    """l.backward(2.0): every box shows what that backward sent, twice d l / d value, as the leaves'
    .grad has it; worked out again (another loss wrote over y's op), from the same seed."""
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 3
    y.name = "y"
    yy = y * y
    yy.name = "yy"
    loss = yy.sum()
    loss.name = "loss"
    loss.backward(np.array(2.0), retain_graph=True)
    expected = {"loss": "grad 2.0000", "yy": "grad [2.0000, 2.0000]", "y": "grad [12.0000, 24.0000]"}
    expected["x"] = "grad [36.0000, 72.0000]"  # 2 * d loss / d x = 2 * 18x: the leaf agrees
    source = viz.draw_graph(loss).source
    assert {name: box(source, name)[-1] for name in expected} == expected
    assert html_text(viz.GRAD_NOTE) in source and "seed" in viz.GRAD_NOTE
    (y * 10).sum().backward(retain_graph=True)  # y's op now keeps that loss's 10
    x.grad = None
    source = viz.draw_graph(loss).source
    assert {name: box(source, name)[-1] for name in ("loss", "yy", "y")} == {
        "loss": "grad 2.0000",
        "yy": "grad [2.0000, 2.0000]",
        "y": "grad [12.0000, 24.0000]",  # from loss's seed 2 again, not 1
    }
    # a later backward through the root (a loss built on it) writes over its seed: taken as 1
    top = loss * 3
    top.backward(retain_graph=True)
    assert box(viz.draw_graph(loss).source, "y")[-1] == "grad [6.0000, 12.0000]"
    assert box(viz.draw_graph(loss).source, "loss")[-1] == "grad 1.0000"


def test_tracing_after_backward_says_to_trace_first() -> None:
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"trace_backward: .*call trace_backward\(loss\) before loss"):
        viz.trace_backward(loss)


def test_a_non_scalar_root_is_not_seeded_with_another_backward_s_gradient() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2
    y.name = "y"
    h = y * 3  # a non-scalar root: its own backward needs a gradient= seed
    h.name = "h"
    (h * 5).sum().backward(retain_graph=True)  # reaches h with [5, 5]: not h's seed
    assert box(viz.draw_graph(h).source, "y")[-1] == "grad None"  # no backward started from h
    h.backward(np.array([1.0, 0.0], np.float32), retain_graph=True)
    assert box(viz.draw_graph(h).source, "y")[-1] == "grad [3.0000, 0.0000]"  # its own seed
    (h * 5).sum().backward(retain_graph=True)  # the seed is overwritten
    assert box(viz.draw_graph(h).source, "y")[-1] == "grad " + viz.FROM_ANOTHER_BACKWARD


def test_a_square_s_caption_writes_the_power_rule_without_a_power_of_one() -> None:
    x = Value(-1.5, label="x")
    captions = [f.caption for f in viz.trace_backward(x**2)]
    assert captions == ["Step 1 of 1: **2 (to the power 2) received 1; sends 2·x × 1 = -3 × 1 = -3 to x"]
    text = " ".join(f.caption for f in viz.trace_backward(Value(2.0, label="y") ** 1))
    assert "× 1 = 1 to y" in text and "^" not in text  # d y/dy = 1, not 1·y^0
    cube = " ".join(f.caption for f in viz.trace_backward(Value(2.0, label="z") ** 3))
    assert "3·z^2" in cube


def test_a_constant_s_grey_box_is_not_called_input_data_by_the_legend() -> None:
    c = Tensor([1.0, 2.0], requires_grad=True, name="c")
    source = viz.draw_graph((c * 3).mean()).source  # 3 and the mean's count are constants
    legend = re.search(r"graph \[.*label=<(.*)> labeljust", source).group(1)
    assert viz.ROLE_TEXT["input"] in legend
    assert "constant" in viz.ROLE_TEXT["input"]


def test_an_unnamed_parameter_is_called_a_parameter_in_a_caption() -> None:
    W = tg.nn.Parameter(np.ones((3, 2)))
    x = Tensor(np.ones((4, 3)))
    caption = viz.trace_backward((x @ W).sum())[-1].caption
    assert "to the parameter (3, 2)" in caption, caption
    assert "the leaf (3, 2)" not in caption


def test_a_root_no_backward_started_from_shows_no_gradient_like_its_inputs() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    y = x * 2
    y.name = "y"
    l1 = y.sum()
    l1.name = "l1"
    l2 = l1 + (10 * y).sum()
    l2.backward()  # through l1, but no backward started from l1
    source = viz.draw_graph(l1).source
    # the root showed grad 1 (l2's), where its input y showed None
    assert box(source, "l1")[-1] == "grad None" and box(source, "y")[-1] == "grad None"
    assert box(source, "x")[-1] == "grad [22.0000, 22.0000]"  # a leaf: its .grad
    l1 = (x * 2).sum()
    l1.name = "l1"
    l1.backward()
    assert box(viz.draw_graph(l1).source, "l1")[-1] == "grad 1.0000"


def _evaluated(formula: str, names: dict) -> np.ndarray:
    """A caption's formula computed with numpy: outer(a, b) and a.T as numpy writes them."""
    code = formula.split(",")[0] if formula.startswith(("grad.T", "(grad")) else formula
    code = code.replace("outer(", "np.outer(").replace("×", "*")
    return eval(code, {"np": np}, names)  # noqa: S307 (the library's own formula)


@pytest.mark.parametrize(
    "make",
    [
        lambda x, W, b: tg.nn.functional.linear(x, W, b),  # one sample: the micrograd habit
        lambda x, W, b: W @ x,
        lambda x, W, b: (x @ W.T) * 1.0,
        lambda x, W, b: x @ x,
    ],
    ids=["linear one sample", "matrix @ vector", "vector @ matrix", "vector @ vector"],
)
def test_a_vector_operand_s_formula_gives_the_number_printed(make):
    """For 1-d operands the captions said grad.T @ x and grad @ x.T, which numpy refuses (.T leaves
    a vector as it is): the number printed was an outer product."""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    W = Tensor([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]], requires_grad=True, name="W")
    b = Tensor([0.5, -0.5], requires_grad=True, name="b")
    out = make(x, W, b)
    frames = viz.trace_backward(out.sum() if out.ndim else out)
    step = next(f for f in frames if f.op in ("Linear", "MatMul"))
    names = {"x": x.data, "W": W.data, "b": b.data, "grad": np.asarray(step.grad_output)}
    names["transpose"] = np.transpose
    parts = step.caption.split("; sends ", 1)[1].split(" and ")
    assert len(parts) == len(step.edge_grads)
    for part, sent in zip(parts, step.edge_grads):
        formula = part.split(" = ")[0]
        np.testing.assert_allclose(_evaluated(formula, names), sent)


@pytest.mark.parametrize(
    "make",
    [lambda v, B, C, W: v @ B, lambda v, B, C, W: C @ v, lambda v, B, C, W: C @ W, lambda v, B, C, W: C @ B],
    ids=["vector @ batch", "batch @ vector", "batch @ matrix", "batch @ batch"],
)
def test_a_batched_matmul_s_formula_gives_the_number_printed(make):
    """With a vector beside a batch of matrices the captions said grad @ B.swapaxes(-1, -2) (a (2, 2, 4)
    array for a (4,) vector) and v.swapaxes(-1, -2) @ grad (an AxisError), and left out the sum over
    the batch."""
    rng = np.random.default_rng(0)
    v = Tensor(rng.standard_normal(4), requires_grad=True, name="v")
    B = Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True, name="B")
    C = Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True, name="C")
    W = Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="W")
    out = make(v, B, C, W)
    step = next(f for f in viz.trace_backward((out * out).sum()) if f.op == "MatMul")
    names = {"v": v.data, "B": B.data, "C": C.data, "W": W.data, "grad": np.asarray(step.grad_output)}
    parts = step.caption.split("; sends ", 1)[1].split(" and ")
    assert len(parts) == len(step.edge_grads) == 2
    for part, sent in zip(parts, step.edge_grads):
        formula = part.split(" = ")[0]
        summed = re.fullmatch(r"\((.*)\) summed to shape (\(.*\))", formula)
        code = (summed.group(1) if summed else formula).replace("×", "*")
        value = eval(code, {"np": np}, names)  # noqa: S307 (the library's own formula)
        if summed:
            value = tg.autograd.unbroadcast(value, eval(summed.group(2)))  # noqa: S307 (a shape)
        np.testing.assert_allclose(value, sent, err_msg=formula)


@pytest.mark.parametrize("make, label", [
    (lambda x, a, b: x.sum(axis=0), "sum(x, axis=0)"),
    (lambda x, a, b: x.mean(axis=1), "mean(x, axis=1)"),
    (lambda x, a, b: x.sum(axis=1, keepdims=True), "sum(x, axis=1, keepdims=True)"),
    (lambda x, a, b: x.max(axis=-1), "max(x, axis=1)"),
    (lambda x, a, b: x.sum(), "sum(x)"),
    (lambda x, a, b: tg.where(a.data > 0, a, b), "where(cond, a, b)"),
])
def test_a_label_names_the_axis_of_a_reduction_and_the_condition_of_a_where(make, label):
    # before: sum(x) for x.sum(axis=0), a vector, and where(a, b) with no condition; and a label
    # with a comma got brackets of its own in every formula, (sum(x, axis=0)) × grad
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    a = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True, name="a")
    b = Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True, name="b")
    out = make(x, a, b)
    caption = viz.trace_backward((out * 2.0).sum())[1].caption
    assert caption.endswith(f" to {label} and nothing to 2 (it needs no gradient)"), caption
    caption = viz.trace_backward((out * out).sum())[1].caption
    assert f"sends {label} × grad = " in caption or f"sends {label} × 1 = " in caption, caption


def test_a_one_number_leaf_that_gets_a_gradient_is_named_as_a_leaf_not_as_a_constant():
    # before: "(x × grad) summed to shape () = 6 to 0.5", which reads like the constant 0.5
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, name="x")
    s = Tensor(np.array(0.5), requires_grad=True)  # (float64, as x: no cast in between)
    caption = viz.trace_backward((x * s).sum())[-1].caption
    assert caption.endswith("sends 0.5 × grad = [0.5, 0.5, 0.5] to x and (x × grad) summed to shape () = 6 "
                            "to the leaf () = 0.5"), caption
    constant = viz.trace_backward((x * 0.5).sum())[-1].caption
    assert constant.endswith("and nothing to 0.5 (it needs no gradient)"), constant


def test_a_step_by_hand_run_twice_gets_the_mark_and_the_legend_names_that_cause():
    # before: the legend said another output's backward left the grad, and there was no other output
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    n = a * b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.grad = 1.0
    o._backward()
    o._backward()  # (a notebook cell run again)
    source = viz.draw_graph(o).source
    assert box(source, "n")[-1] == "grad 0.1413 (not this output's)"
    assert "or a step by hand ran twice (a cell run again)" in source


def test_a_linear_relu_s_captions_use_only_names_the_picture_shows():
    # before: (grad·(z > 0)).T @ x, with no box named z in the picture (z is the pre-activation);
    # out > 0 exactly where z > 0, and the expanded picture names its pre-activation box z
    tg.manual_seed(0)
    layer = tg.nn.LinearReLU(2, 3)
    x = Tensor(np.array([[1.0, -1.0], [0.5, 2.0]]), name="x")
    h = layer(x)
    h.name = "h"
    caption = viz.trace_backward(h.sum())[-1].caption
    assert "(grad·(h > 0)).T @ x = " in caption and "grad·(h > 0) summed over the rows = " in caption
    assert "z" not in caption
    frames = viz.trace_backward(layer(x).sum(), expand=True)
    relu = next(f for f in frames if f.op == "ReLU")
    assert relu.caption.endswith(" to z") and "sends (z > 0) × grad = " in relu.caption
    assert "<b>z</b>" in viz.draw_graph(layer(x).sum(), expand=True).source


def test_a_value_sum_s_label_keeps_its_numbers():
    # before: Value.sum([w1, w1, w2, 3.0]) was labelled sum(w1, w1, w2), adding up to 0 beside a box of 3
    w1, w2 = Value(0.5, label="w1"), Value(-1.0, label="w2")
    o = Value.sum([w1, w1, w2, 3.0]) * 2.0
    assert viz.trace_backward(o)[0].caption.endswith(" to sum(w1, w1, w2, 3)")
    o = Value.sum([Value(0.1, label="a"), Value(0.2, label="b")]) * 2.0  # (0.1 + 0.2 rounds: no 0 term)
    assert viz.trace_backward(o)[0].caption.endswith(" to sum(a, b)")

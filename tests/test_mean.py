"""mean is one op, Mean, with its own backward (1/n to each averaged element): the graph a
student draws of ((pred - y) ** 2).mean() shows a Mean box, not a Sum and a Div."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, viz
from tinygrad_edu.gradcheck import gradcheck


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_mean_is_one_op_with_its_own_caption():
    pred, y = leaf([0.5, 1.5, 2.0]), Tensor(np.array([1.0, 1.0, 1.0]))
    loss = ((pred - y) ** 2).mean()
    assert type(loss.grad_fn).__name__ == "Mean"
    frames = viz.trace_backward(loss)
    assert [f.op for f in frames][0] == "Mean"
    assert "sends (1/3) × 1, copied to each of the 3 elements averaged = [0.3333" in frames[0].caption
    np.testing.assert_allclose(frames[0].edge_grads[0], np.full(3, 1 / 3))


AXES = [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False)]


@pytest.mark.parametrize("axis, keepdims", AXES)
def test_mean_gradient_is_one_over_n_numerically(axis, keepdims):
    x = leaf(np.random.default_rng(0).standard_normal((2, 3, 4)))
    assert gradcheck(lambda t: t.mean(axis=axis, keepdims=keepdims), [x])
    out = x.mean(axis=axis, keepdims=keepdims)
    out.backward(np.ones(out.shape))
    n = 24 if axis is None else 2 * 4 if axis == (0, 2) else {0: 2, 1: 3, -1: 4}[axis]
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3, 4), 1 / n))


def test_the_mean_of_seven_sevens_is_exactly_seven():
    assert Tensor(np.full(7, 7.0)).mean().item() == 7.0
    assert Tensor(np.full(7, 7.0, dtype=np.float32)).mean().data.dtype == np.float32


def test_the_mean_of_integers_is_the_default_float_and_of_nothing_nan():
    assert Tensor(np.array([1, 2], dtype=np.int64)).mean().dtype == tg.get_default_dtype()
    x = leaf(np.zeros((0, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "divide by zero" on the way back)
        out = x.mean()
        assert np.isnan(out.item())
        out.backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(x.mean(axis=0).data, np.full(3, np.nan))


def test_mean_second_derivative_through_create_graph():
    x = leaf([1.0, 2.0, 3.0])
    (g,) = tg.grad((x * x).mean(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 2 * x.data / 3)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 2 / 3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_mean_matches_pytorch_in_value_dtype_and_gradient(dtype, axis):
    torch = need("torch")
    values = np.random.default_rng(1).standard_normal((3, 5)).astype(dtype)
    x, t = leaf(values, dtype), torch.tensor(values, requires_grad=True)
    ours, theirs = x.mean(axis=axis), (t.mean() if axis is None else t.mean(dim=axis))
    assert ours.dtype == theirs.detach().numpy().dtype
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6)
    w = np.random.default_rng(2).standard_normal(ours.shape).astype(dtype)
    (ours * Tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-6)
    assert x.grad.dtype == t.grad.numpy().dtype

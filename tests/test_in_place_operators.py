"""x += y, x -= y, x *= y, x /= y: in place as in PyTorch, so that the manual update loop
``for p in model.parameters(): p -= lr * p.grad`` under no_grad() trains the model.

The PyTorch tests run PyTorch for real (they skip without torch and fail in CI, as test_interop
does); the others need numpy alone, with expected values written by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn


def _manual_sgd_losses(model, X, y, steps=4, lr=0.1):
    losses = []
    for _ in range(steps):
        model.zero_grad()
        loss = nn.MSELoss()(model(X), y)
        loss.backward()
        losses.append(loss.item())
        with tg.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    return losses


def test_a_manual_sgd_loop_under_no_grad_updates_the_model():
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    params_before = [w]
    loss = (w * w).sum()
    loss.backward()  # grad = 2w = [2, -4]
    with tg.no_grad():
        for p in params_before:
            p -= 0.25 * p.grad
    np.testing.assert_array_equal(w.data, [0.5, -1.0])  # 1 - 0.5, -2 + 1: the same tensor changed
    assert w.requires_grad and w.is_leaf


def test_the_manual_sgd_loop_gives_pytorch_s_losses():
    torch = need("torch")
    tg.manual_seed(0)
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    ours = nn.Linear(3, 1, dtype=np.float64)
    theirs = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    expected = []
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for _ in range(4):
        theirs.zero_grad()
        loss = torch.nn.MSELoss()(theirs(Xt), yt)
        loss.backward()
        expected.append(loss.item())
        with torch.no_grad():
            for p in theirs.parameters():
                p -= 0.1 * p.grad
    got = _manual_sgd_losses(ours, Tensor(X), y)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[-1] < got[0]


def test_a_leaf_requiring_grad_is_refused_outside_no_grad_as_in_pytorch():
    torch = need("torch")
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"x -= y: a leaf Variable that requires grad .* tg.no_grad"):
        w -= 1.0
    t = torch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        t -= 1.0
    np.testing.assert_array_equal(w.data, [1.0, 1.0])  # nothing changed


@pytest.mark.parametrize(
    "symbol, expected",
    [("+=", [3.0, 5.0]), ("-=", [-1.0, -1.0]), ("*=", [2.0, 6.0]), ("/=", [0.5, 2 / 3])],
)
def test_each_operator_writes_into_the_tensor_s_own_array(symbol, expected):
    array = np.array([1.0, 2.0])
    x = Tensor(array)
    alias = x
    namespace = {"x": x, "y": Tensor(np.array([2.0, 3.0]))}
    exec(f"x {symbol} y", namespace)
    assert namespace["x"] is alias
    np.testing.assert_allclose(array, expected)  # the array itself, as every reference to x sees it


def test_a_backward_through_an_op_recorded_before_the_change_raises():
    torch = need("torch")
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = Tensor(np.array([3.0, 4.0]))
    out = (w * c).sum()
    c += 1.0  # Mul saved c for w's gradient
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()
    tw, tc = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    tout = (tw * tc).sum()
    tc += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tout.backward()


def test_a_result_x_cannot_hold_is_refused_with_shapes_and_dtypes():
    torch = need("torch")
    counts = Tensor(np.zeros(3, dtype=np.int64))
    counts += 1
    np.testing.assert_array_equal(counts.data, [1, 1, 1])
    with pytest.raises(TypeError, match=r"x \+= y: the result is float32, which x \(int64, shape \(3,\)\)"):
        counts += 0.5
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        t = torch.zeros(3, dtype=torch.int64)
        t += 0.5
    x = Tensor(np.zeros(3))
    shapes = r"the result has shape \(2, 3\), but x has shape \(3,\).*y: shape \(2, 3\) float64"
    with pytest.raises(RuntimeError, match=shapes):
        x += np.ones((2, 3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t = torch.zeros(3, dtype=torch.float64)
        t += torch.ones(2, 3, dtype=torch.float64)
    single = Tensor(np.zeros(2, dtype=np.float32))
    single += np.ones(2)  # a float64 result into float32: the same kind, allowed as in PyTorch
    assert single.dtype == np.float32 and single.data.tolist() == [1.0, 1.0]


def test_what_would_need_recording_is_done_as_a_new_tensor():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 2.0
    before = h
    h += 1.0  # h was made by an op: h = h + 1, with its graph
    assert h is not before and h._ctx is not None
    np.testing.assert_array_equal(before.data, [2.0, 4.0])  # the old tensor keeps its value
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 2.0])
    total = Tensor(np.zeros(2))
    total += w  # y requires grad: total = total + w, recorded
    assert total.requires_grad and total._ctx is not None


def test_a_read_only_array_is_refused():
    array = np.ones(2)
    array.flags.writeable = False
    x = Tensor(array)
    with pytest.raises(ValueError, match=r"x \*= y: the array of x \(shape \(2,\), float64\) is read-only"):
        x *= 2.0


def test_the_recorded_path_checks_shape_and_dtype_too():
    torch = need("torch")
    w = Tensor(np.ones(3), requires_grad=True)
    h = w * 2.0
    with pytest.raises(RuntimeError, match=r"the result has shape \(2, 3\), but x has shape \(3,\)"):
        h += Tensor(np.ones((2, 3)))
    counts = Tensor(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match=r"the result is float64, which x \(int64, shape \(3,\)\)"):
        counts += w
    tw = torch.ones(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t = torch.zeros(3, dtype=torch.int64)
        t += tw


def test_the_recorded_path_keeps_x_s_dtype_as_pytorch_s_in_place_op_does():
    # before: h (float32, made by an op) += a float64 array rebound h to a float64 tensor, silently;
    # the same += on a leaf under no_grad kept float32, and PyTorch keeps x's dtype in place
    torch = need("torch")
    w = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    h = w * 3.0
    h += np.array([0.5, 0.25])  # float64
    assert h.dtype == np.float32 and h._ctx is not None
    np.testing.assert_array_equal(h.data, np.array([3.5, 6.25], np.float32))
    (h * h).sum().backward()
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    th = tw * 3.0
    th += torch.tensor([0.5, 0.25], dtype=torch.float64)
    assert th.dtype == torch.float32
    (th * th).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-6)
    total = Tensor(np.zeros(2, np.float32))
    total += Tensor(np.array([1.0, 2.0]), requires_grad=True)  # y float64, requiring grad
    assert total.dtype == np.float32 and total.requires_grad

"""The table "Tensor code: here and in PyTorch" in docs/interop.md, run on both sides: every
row that states a difference, or a sameness beyond the name, is checked against PyTorch."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn


@pytest.fixture
def torch():
    return need("torch")


def _leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_a_list_of_ints_becomes_the_default_float_here_and_int64_in_torch(torch):
    assert Tensor([1, 2]).dtype == np.float32
    assert torch.tensor([1, 2]).dtype == torch.int64
    a = np.arange(3, dtype=np.int32)
    assert Tensor(a).dtype == np.int32 and torch.tensor(a).dtype == torch.int32


def test_size_here_is_numel_there(torch):
    x = np.ones((2, 3))
    assert Tensor(x).size == torch.tensor(x).numel() == 6
    assert Tensor(x).shape == tuple(torch.tensor(x).size())


def test_size_called_is_torch_s_size(torch):
    # before: x.size(0) was "'int' object is not callable", so x.view(x.size(0), -1) failed
    x = np.arange(24.0).reshape(2, 3, 4)
    ours, theirs = Tensor(x), torch.tensor(x)
    assert ours.size() == tuple(theirs.size()) == (2, 3, 4)
    assert [ours.size(a) for a in (0, 1, 2, -1)] == [theirs.size(a) for a in (0, 1, 2, -1)] == [2, 3, 4, 4]
    np.testing.assert_array_equal(ours.view(ours.size(0), -1).data, theirs.view(theirs.size(0), -1).numpy())
    with pytest.raises(IndexError, match=r"size\(3\): expected an axis in \[-3, 2\] for shape \(2, 3, 4\)"):
        ours.size(3)
    with pytest.raises(IndexError):
        theirs.size(3)


def test_swapaxes_is_torch_s_transpose_of_two_axes(torch):
    x = np.arange(24.0).reshape(2, 3, 4)
    for a, b in [(1, 2), (-1, -2), (0, 2), (1, 1)]:
        ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        upstream = np.arange(24.0).reshape(theirs.transpose(a, b).shape)
        (ours.swapaxes(a, b) * Tensor(upstream)).sum().backward()
        (theirs.transpose(a, b) * torch.tensor(upstream)).sum().backward()
        np.testing.assert_array_equal(ours.swapaxes(a, b).data, theirs.transpose(a, b).detach().numpy())
        np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_transpose_of_two_axes_as_torch_writes_it_is_named(torch):
    # before: on a matrix, transpose(0, 1) was numpy's identity order and changed nothing, silently
    # (torch: the transpose); on 3 axes, numpy's "axes don't match array"
    m = np.arange(6.0).reshape(2, 3)
    for a, b in [(0, 1), (-2, -1), (0, -1)]:
        assert tuple(torch.tensor(m).transpose(a, b).shape) == (3, 2)
        expected = rf"transpose\({a}, {b}\) of a matrix .* nothing moves.*x.T or x.swapaxes"
        with pytest.warns(UserWarning, match=expected):
            assert Tensor(m).transpose(a, b).shape == (2, 3)
    assert Tensor(m).transpose(1, 0).shape == tuple(torch.tensor(m).transpose(1, 0).shape) == (3, 2)
    with pytest.raises(ValueError, match=r"transpose\(1, 2\) of a tensor of shape \(2, 3, 4\).*swapaxes"):
        Tensor(np.zeros((2, 3, 4))).transpose(1, 2)


def test_indexing_with_none_is_unsqueeze_and_reshape_is_view(torch):
    v = np.arange(6.0)
    np.testing.assert_array_equal(Tensor(v)[None].data, torch.tensor(v).unsqueeze(0).numpy())
    np.testing.assert_array_equal(Tensor(v)[:, None].data, torch.tensor(v).unsqueeze(1).numpy())
    np.testing.assert_array_equal(Tensor(v).reshape(2, 3).data, torch.tensor(v).view(2, 3).numpy())


def test_transpose_takes_the_order_of_the_axes_like_permute(torch):
    v = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Tensor(v).transpose(2, 0, 1).data, torch.tensor(v).permute(2, 0, 1).numpy())


def test_max_over_an_axis_is_amax_and_ties_share_the_gradient(torch):
    values = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]
    x = _leaf(values)
    x.max(axis=1).sum().backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    t.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    t.grad = None
    t.max(dim=1).values.sum().backward()  # PyTorch's max(dim): one index per row gets it all
    assert sorted(t.grad.numpy()[0].tolist()) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("name", ["max", "min"])
def test_a_nan_is_the_extreme_and_the_nans_share_the_gradient(torch, name):
    nan = float("nan")
    values = [[nan, 1.0, nan], [2.0, 3.0, 3.0]]
    x = _leaf(values)
    with np.errstate(all="raise"):  # (it gave numpy's "invalid value encountered in divide")
        out = getattr(x, name)()
        out.backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    getattr(t, name)().backward()  # PyTorch's x.max() splits the gradient among the NaNs
    assert np.isnan(out.item())
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    # over an axis the same rule, row by row (PyTorch's amax(dim) gives the NaN row NaN everywhere)
    x.grad = None
    getattr(x, name)(axis=1).sum().backward()
    other = [0.0, 0.5, 0.5] if name == "max" else [1.0, 0.0, 0.0]
    np.testing.assert_array_equal(x.grad.data, [[0.5, 0.0, 0.5], other])


def test_var_divides_by_n_here_and_by_n_minus_1_in_torch(torch):
    values = [1.0, 3.0, 3.0, 2.0]
    t = torch.tensor(values, dtype=torch.float64)
    assert _leaf(values).var().item() == pytest.approx(0.6875, rel=1e-15)
    assert _leaf(values).var(ddof=1).item() == pytest.approx(t.var().item(), rel=1e-15)
    assert t.var().item() == pytest.approx(0.6875 * 4 / 3, rel=1e-15)


def test_clip_and_clamp_pass_the_gradient_on_the_closed_interval(torch):
    values = [0.5, 1.0, 2.0, 3.0, 3.5]
    x = _leaf(values)
    x.clip(1.0, 3.0).sum().backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    t.clamp(1.0, 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_maximum_splits_the_gradient_of_a_tie_in_both(torch):
    a, b = _leaf([1.0, 2.0]), _leaf([1.0, 1.0])
    tg.maximum(a, b).sum().backward()
    ta = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tb = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())
    np.testing.assert_array_equal(a.grad.data, [0.5, 1.0])


def test_concatenate_and_stack_are_cat_and_stack(torch):
    u, v = np.arange(3.0), np.arange(3.0, 6.0)
    tu, tv = torch.tensor(u), torch.tensor(v)
    np.testing.assert_array_equal(tg.concatenate([Tensor(u), Tensor(v)]).data, torch.cat([tu, tv]).numpy())
    stacked = tg.stack([Tensor(u), Tensor(v)], axis=1)
    np.testing.assert_array_equal(stacked.data, torch.stack([tu, tv], dim=1).numpy())


def test_astype_is_a_recorded_copy_like_float_and_clone(torch):
    x = _leaf([1.5, -2.0])
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    t = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)
    (t.float() * t.float()).sum().backward()
    assert x.grad.dtype == np.float64 and t.grad.dtype == torch.float64
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-6)
    c = x.astype(x.dtype)
    assert not np.shares_memory(c.data, x.data) and c.grad_fn is not None
    assert not np.shares_memory(t.clone().detach().numpy(), t.detach().numpy())


def test_softmax_takes_axis_here_and_dim_there(torch):
    v = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    for axis in (-1, 0):
        theirs = torch.tensor(v).softmax(dim=axis).numpy()
        np.testing.assert_allclose(Tensor(v).softmax(axis=axis).data, theirs, rtol=1e-14)
    np.testing.assert_allclose(Tensor(v).softmax().data, torch.tensor(v).softmax(dim=-1).numpy(), rtol=1e-14)


def test_numpy_shares_the_memory_in_both(torch):
    x = Tensor(np.zeros(2))
    x.numpy()[0] = 1.0
    t = torch.zeros(2, dtype=torch.float64)
    t.numpy()[0] = 1.0
    assert x.data[0] == 1.0 and t[0].item() == 1.0
    assert x.data.tolist() == t.tolist()


def test_no_grad_holds_for_its_own_thread_only_in_both(torch):
    inside, done = threading.Event(), threading.Event()

    def other_thread(no_grad):
        with no_grad():
            inside.set()
            done.wait(10)

    for no_grad, make in ((tg.no_grad, lambda: _leaf([1.0]) * 2.0),
                          (torch.no_grad, lambda: torch.ones(1, requires_grad=True) * 2.0)):
        inside.clear()
        done.clear()
        worker = threading.Thread(target=other_thread, args=(no_grad,))
        worker.start()
        assert inside.wait(10)
        assert make().requires_grad  # this thread still records while the other is inside no_grad
        done.set()
        worker.join()


def test_zero_grad_sets_every_grad_to_none_in_both(torch):
    model = nn.Linear(2, 1, dtype=np.float64)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((1, 2)))).sum().backward()
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    tmodel = torch.nn.Linear(2, 1)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    tmodel(torch.ones(1, 2)).sum().backward()
    topt.zero_grad()
    assert all(p.grad is None for p in tmodel.parameters())


def test_the_same_seed_gives_other_numbers_in_each_framework(torch):
    tg.manual_seed(0)
    ours = tg.randn(4, dtype=np.float64).data
    torch.manual_seed(0)
    theirs = torch.randn(4, dtype=torch.float64).numpy()
    assert not np.allclose(ours, theirs)
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.randn(4, dtype=np.float64).data, ours)  # reproducible here


def test_gradcheck_is_called_as_in_torch(torch):
    x = np.array([0.3, -1.2, 2.0])
    assert tg.gradcheck(lambda a: a.tanh(), [Tensor(x, requires_grad=True)]) is True
    assert torch.autograd.gradcheck(torch.tanh, [torch.tensor(x, requires_grad=True)]) is True


def test_bce_gradients_agree_until_p_is_within_1e_12_of_0_or_1(torch):
    logits = np.array([-5.0, 2.0, 20.0, -30.0])
    target = np.array([1.0, 0.0, 1.0, 1.0])
    z = _leaf(logits)
    nn.BCELoss()(z.sigmoid(), target).backward()
    tz = torch.tensor(logits, requires_grad=True)
    torch.nn.BCELoss()(torch.sigmoid(tz), torch.tensor(target)).backward()
    mild = slice(0, 3)  # p (1 - p) above 1e-12: the same gradient
    np.testing.assert_allclose(z.grad.data[mild], tz.grad.numpy()[mild], rtol=1e-6)
    # z = -30: p (1 - p) is about 9e-14. Here the exact derivative, (p - 1) / 4 = -0.25 (the mean
    # of 4); PyTorch divides by 1e-12 instead of p (1 - p) and gives less than a tenth of it
    assert z.grad.data[3] == pytest.approx(-0.25, rel=1e-6)
    assert abs(tz.grad.numpy()[3]) < 0.1 * 0.25
    # p = 1 exactly with y = 0: the log is clamped, a constant, so 0 here; PyTorch 1 / 1e-12
    p = _leaf([1.0])
    nn.BCELoss()(p, np.array([0.0])).backward()
    tp = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    torch.nn.BCELoss()(tp, torch.tensor([0.0], dtype=torch.float64)).backward()
    assert p.grad.item() == 0.0 and tp.grad.item() > 1e11


def test_labels_outside_0_1_are_refused_here_and_give_a_negative_loss_in_torch(torch):
    logits, labels = np.array([[-5.0], [3.0]]), np.array([[-1.0], [1.0]])
    loss = torch.nn.BCEWithLogitsLoss()(torch.tensor(logits), torch.tensor(labels)).item()
    # by hand: mean of (0 - (-5)(-1) + log(1 + e^-5)) and (3 - 3 + log(1 + e^-3))
    assert loss == pytest.approx((-5 + np.log1p(np.exp(-5)) + np.log1p(np.exp(-3))) / 2) and loss < 0
    with pytest.raises(ValueError, match=r"must hold probabilities in \[0, 1\].*\(y \+ 1\) / 2"):
        nn.BCEWithLogitsLoss()(logits, labels)
    np.testing.assert_allclose(  # the fix the message gives: the loss of 0/1 labels, equal in both
        nn.BCEWithLogitsLoss()(logits, (labels + 1) / 2).item(),
        torch.nn.BCEWithLogitsLoss()(torch.tensor(logits), torch.tensor((labels + 1) / 2)).item(),
        rtol=1e-12,
    )


def test_an_integer_copy_has_no_gradient_in_both(torch):
    x = _leaf([0.3, 1.7])
    tx = torch.tensor([0.3, 1.7], dtype=torch.float64, requires_grad=True)
    assert x.astype(np.int64).requires_grad is tx.long().requires_grad is False


def test_exp_of_an_integer_or_bool_tensor_is_the_default_float_in_both(torch):
    for values in (np.array([1, 2, 3]), np.array([True, False])):
        ours, theirs = Tensor(values).exp(), torch.tensor(values).exp()
        assert ours.dtype == np.float32 and theirs.dtype == torch.float32
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_send_a_nan_s_gradient_to_both_inputs_as_torch_does(torch, name):
    a_values, b_values = [np.nan, 1.0, 2.0, 3.0], [1.0, np.nan, 2.0, 1.0]
    a, b = _leaf(a_values), _leaf(b_values)
    getattr(tg, name)(a, b).sum().backward()
    ta = torch.tensor(a_values, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b_values, dtype=torch.float64, requires_grad=True)
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


def test_clamp_between_tensors_gives_the_gradients_torch_gives(torch):
    x, lo, hi = np.array([-1.0, 0.5, 2.0, 0.0, 0.7]), np.array([0.0, 0.5, 0.0, 0.0, 0.9]), np.full(5, 1.0)
    g = np.arange(1.0, 6.0)
    ours = [_leaf(v) for v in (x, lo, hi)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    ours[0].clamp(ours[1], ours[2]).backward(g)
    theirs[0].clamp(theirs[1], theirs[2]).backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())


def test_a_0d_operand_takes_the_dtype_torch_gives(torch):
    cases = [(np.ones(3, np.float32), np.array(2.5)), (np.ones(3, np.int64), np.array(2.5)),
             (np.ones(3, np.int32), np.array(2, np.int64)), (np.ones(3, bool), np.array(2)),
             (np.ones(3, np.float16), np.array(2.0, np.float32))]
    for a, b in cases:
        ours = (Tensor(a) * Tensor(b)).dtype
        theirs = (torch.from_numpy(a) * torch.from_numpy(b)).numpy().dtype
        assert ours == theirs, (a.dtype, b.dtype)


def test_clamp_between_tensors_with_a_nan_gives_torch_s_values_and_gradients(torch):
    x, lo, hi = np.array([np.nan, 0.5, -1.0, 3.0]), np.zeros(4), np.array([1.0, np.nan, 1.0, 1.0])
    ours = [_leaf(v) for v in (x, lo, hi)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    y, ty = ours[0].clamp(ours[1], ours[2]), theirs[0].clamp(theirs[1], theirs[2])
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())


def test_and_or_xor_take_torch_s_dtypes(torch):
    for a, b in [(np.array([1, 2, 3], np.int8), np.int64(3)), (np.array([True, False]), 1),
                 (np.array([1, 2], np.uint8), 1), (np.array([1, 2], np.int16), np.array([3, 1]))]:
        ours = Tensor(a) & (b if np.ndim(b) == 0 and not isinstance(b, np.ndarray) else Tensor(b))
        theirs = torch.from_numpy(a) & (b if isinstance(b, int) else torch.from_numpy(np.asarray(b)))
        assert ours.dtype == theirs.numpy().dtype, (a.dtype, b)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_relu_passes_the_gradient_of_a_nan_on_as_pytorch_does(torch):
    values = [float("nan"), -1.0, 0.0, -0.0, 2.0]
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    t.relu().sum().backward()
    x = _leaf(values)
    x.relu().sum().backward()  # it gave 0 at the NaN: a harmless-looking number
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    b = _leaf(values)  # the fused Linear + ReLU keeps the same mask: its bias gets it as it is
    nn.functional.linear_relu(Tensor(np.zeros((1, 1))), Tensor(np.zeros((5, 1))), b).sum().backward()
    np.testing.assert_array_equal(b.grad.data, t.grad.numpy())
    for v, expected in zip(values, t.grad.numpy()):
        value = tg.Value(v)
        value.relu().backward()
        assert value.grad == expected


def test_abs_has_gradient_0_at_a_nan_and_at_0_as_in_torch(torch):
    # before: numpy's sign(nan) is nan, so the NaN's gradient was nan where PyTorch gives 0
    values = [float("nan"), -1.5, 0.0, -0.0, 2.0, float("inf"), -float("inf")]
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    t.abs().sum().backward()
    x = _leaf(values)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())
    np.testing.assert_array_equal(x.grad.data, [0.0, -1.0, 0.0, 0.0, 1.0, 1.0, -1.0])


# (numpy 2 warns about torch's own __array__, which np.dot calls before torch refuses)
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
def test_a_numpy_function_refuses_a_tensor_that_requires_grad_in_both(torch):
    X = np.ones((4, 2))
    with pytest.raises(RuntimeError, match="requires grad"):
        np.dot(X, torch.ones((3, 2), dtype=torch.float64, requires_grad=True).T)
    with pytest.raises(TypeError, match="requires grad"):
        np.dot(X, Tensor(np.ones((3, 2)), requires_grad=True).T)
    # and both compute on a tensor that needs no gradient
    ours, theirs = np.dot(X, Tensor(np.ones((3, 2))).T), np.dot(X, torch.ones((3, 2)).numpy().T)
    np.testing.assert_array_equal(ours, theirs)


def test_a_grad_of_another_dtype_or_shape_is_refused_when_assigned_in_both(torch):
    w = torch.ones(3, dtype=torch.float32, requires_grad=True)
    ours = Tensor(np.ones(3, np.float32), requires_grad=True)
    for theirs_bad, our_bad in [
        (torch.ones(3, dtype=torch.float64), Tensor(np.ones(3))),
        (torch.ones(4), Tensor(np.ones(4, np.float32))),
    ]:
        with pytest.raises(RuntimeError, match="assign a gradient (with dtype|of size)"):
            w.grad = theirs_bad
        with pytest.raises((TypeError, ValueError), match="it must have the tensor's shape and dtype"):
            ours.grad = our_bad


def test_the_dtype_shorthands_and_cpu_are_torch_s(torch):
    # before: AttributeError for each; interop.md itself writes .detach().cpu().numpy()
    v = np.array([1.5, -2.7, 0.0, 3.0])
    ours, theirs = Tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    for name in ("long", "int", "half", "bool"):
        got, expected = getattr(ours, name)(), getattr(theirs, name)()
        assert got.dtype == expected.detach().numpy().dtype, name
        np.testing.assert_array_equal(got.data, expected.detach().numpy())
        assert got.requires_grad == expected.requires_grad, name
    np.testing.assert_array_equal(ours.detach().cpu().numpy(), theirs.detach().cpu().numpy())
    assert ours.cpu() is ours


def test_max_of_another_tensor_names_maximum(torch):
    # before: "Max: cannot apply ...: axis must be None, an int or a tuple of ints, got Tensor(...)"
    x, y = np.array([1.0, 5.0]), np.array([3.0, 2.0])
    theirs = torch.tensor(x).max(torch.tensor(y)).numpy()
    np.testing.assert_array_equal(theirs, tg.maximum(Tensor(x), Tensor(y)).data)
    for name, pair in (("max", "maximum"), ("min", "minimum")):
        with pytest.raises(TypeError, match=rf"x.{name}\(other\) with a tensor or array of shape \(2,\).*"
                                            rf"write tg.{pair}\(x, other\)"):
            getattr(Tensor(x), name)(Tensor(y))


@pytest.mark.parametrize("dtype, value", [
    (np.float32, 1e40), (np.int64, 1e40), (np.int8, 300), (np.float16, 70000.0), (np.int8, float("nan")),
])
def test_masked_fill_refuses_a_value_the_dtype_cannot_hold_in_both(torch, dtype, value):
    # before: 1e40 into float32 gave inf with only numpy's warning, into int64 a wrapped number
    mask = np.array([True, False])
    with pytest.raises(RuntimeError, match="cannot be converted"):
        torch.from_numpy(np.zeros(2, dtype)).masked_fill(torch.from_numpy(mask), value)
    with pytest.raises(OverflowError, match=rf"masked_fill: the value .* does not fit in the tensor's dtype "
                                            rf"{np.dtype(dtype)} \(shape \(2,\)\), as PyTorch refuses too"):
        Tensor(np.zeros(2, dtype)).masked_fill(mask, value)


@pytest.mark.parametrize("dtype, value", [(np.float32, -1e9), (np.float32, float("inf")), (np.int64, 1.5)])
def test_masked_fill_takes_what_torch_takes(torch, dtype, value):
    mask = np.array([True, False])
    theirs = torch.from_numpy(np.zeros(2, dtype)).masked_fill(torch.from_numpy(mask), value).numpy()
    ours = Tensor(np.zeros(2, dtype)).masked_fill(mask, value)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours.data, theirs)


def test_a_float64_target_keeps_a_float32_loss_here_and_promotes_in_torch(torch):
    p, y = np.array([0.2, 0.7], np.float32), np.array([0.0, 1.0])
    pairs = [(nn.MSELoss(), torch.nn.MSELoss()), (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()),
             (nn.BCELoss(), torch.nn.BCELoss())]
    for ours, theirs in pairs:
        x, tx = Tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
        loss = ours(x, y)
        loss.backward()
        assert loss.dtype == x.grad.dtype == np.float32, type(ours).__name__
        if isinstance(ours, nn.BCELoss):
            with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
                theirs(tx, torch.tensor(y))
            continue
        their_loss = theirs(tx, torch.tensor(y))
        their_loss.backward()
        assert their_loss.dtype == torch.float64 and tx.grad.dtype == torch.float32
        np.testing.assert_allclose(loss.item(), their_loss.item(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)

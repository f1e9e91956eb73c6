"""PyTorch's spellings: Tensor.view, unsqueeze, squeeze, clamp, argmax, argmin, numel, clone, float,
double, tolist, std, pow, zero_ and tg.cat, zeros_like, ones_like, arange.

The first part runs PyTorch for real (values, dtypes and gradients); it skips without torch and fails
in CI, as test_interop does. The second part needs numpy alone: its expected values are written by
hand, and the float64 gradients are checked against central differences with tg.gradcheck.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.gradcheck import gradcheck

F32, F64 = np.float32, np.float64


@pytest.fixture
def torch():
    return need("torch")


def _torch_dtype(torch, dtype):
    return {F32: torch.float32, F64: torch.float64}[dtype]


def _pair(torch, values, dtype=F64, requires_grad=True):
    """The same values as a leaf here and a leaf in PyTorch."""
    values = np.asarray(values, dtype=dtype)
    ours = Tensor(values.copy(), requires_grad=requires_grad)
    theirs = torch.tensor(values.copy(), requires_grad=requires_grad)
    return ours, theirs


def _same(ours, theirs, exact=True):
    """Equal values, shape and dtype (a torch tensor's numpy dtype) in both."""
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape and ours.dtype == expected.dtype, (ours, theirs)
    if exact:
        np.testing.assert_array_equal(ours.data, expected)
    else:
        np.testing.assert_allclose(ours.data, expected, rtol=1e-6 if ours.dtype == F32 else 1e-14)


def _backward_both(torch, ours_out, theirs_out, seed=0):
    """Backward of sum(out * w) in both, w a fixed random array of the output's shape."""
    w = np.random.default_rng(seed).standard_normal(ours_out.shape).astype(ours_out.dtype)
    (ours_out * Tensor(w)).sum().backward()
    (theirs_out * torch.tensor(w)).sum().backward()


def _grads_agree(ours, theirs, rtol=1e-14):
    assert ours.grad.dtype == theirs.grad.numpy().dtype
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=rtol, atol=rtol)


# --- against PyTorch -----------------------------------------------------------------------------

SHAPE_CASES = [
    ((2, 3), lambda x: x.view(3, 2)),
    ((2, 3), lambda x: x.view(-1)),
    ((2, 3), lambda x: x.view((1, 6))),
    ((2, 3), lambda x: x.view(3, -1)),
    *[((2, 3), lambda x, a=a: x.unsqueeze(a)) for a in range(-3, 3)],
    ((), lambda x: x.unsqueeze(0)),
    ((), lambda x: x.unsqueeze(-1)),
    ((1, 3, 1), lambda x: x.squeeze()),
    *[((1, 3, 1), lambda x, a=a: x.squeeze(a)) for a in range(-3, 3)],  # a=1, -2: size 3, kept
    ((1, 3, 1), lambda x: x.squeeze((0, 2))),
    ((1,), lambda x: x.squeeze()),
    ((), lambda x: x.squeeze(0)),
]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shape, f", SHAPE_CASES)
def test_view_unsqueeze_squeeze_give_torch_s_values_shapes_and_gradients(torch, shape, f, dtype):
    values = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape)
    x, t = _pair(torch, values, dtype)
    y, u = f(x), f(t)
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(x, t)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("bounds", [(1.0, 3.0), (1.0, None), (None, 3.0), (2.0, 2.0), (3.0, 1.0)])
def test_clamp_gives_torch_s_values_and_gradients_on_the_bounds_too(torch, bounds, dtype):
    x, t = _pair(torch, [0.5, 1.0, 2.0, 3.0, 3.5, -4.0], dtype)
    lo, hi = bounds
    y, u = x.clamp(lo, hi), t.clamp(lo, hi)
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(x, t)
    _same(x.clamp(min=lo, max=hi), t.clamp(min=lo, max=hi))


def test_clamp_keeps_torch_s_dtypes_for_integer_tensors(torch):
    ints = np.array([0, 1, 2, 3])
    for lo, hi in ((1, 2), (1.5, 2.5), (None, 2.5)):
        _same(Tensor(ints).clamp(lo, hi), torch.tensor(ints).clamp(lo, hi))


def test_clamp_with_no_bound_raises_in_both(torch):
    with pytest.raises(ValueError, match="clamp"):
        Tensor([1.0]).clamp()
    with pytest.raises(RuntimeError, match="min.*max"):
        torch.tensor([1.0]).clamp()


ARG_VALUES = [[3.0, 1.0, 3.0, -2.0], [0.5, 0.5, -1.0, -1.0], [2.0, 7.0, 7.0, 0.0]]  # ties in every row


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_are_torch_s_int64_indices_first_on_ties(torch, name, axis, keepdims):
    x, t = _pair(torch, ARG_VALUES)
    ours = getattr(x, name)(axis=axis, keepdims=keepdims)
    theirs = getattr(t, name)(dim=axis, keepdim=keepdims)
    _same(ours, theirs)
    assert ours.dtype == np.int64 and theirs.dtype == torch.int64
    assert ours.requires_grad is theirs.requires_grad is False


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_argmin_of_a_0_d_tensor_and_with_nan_as_in_torch(torch, name):
    x, t = _pair(torch, 4.0, requires_grad=False)
    _same(getattr(x, name)(), getattr(t, name)())
    _same(getattr(x, name)(axis=0), getattr(t, name)(dim=0))
    x, t = _pair(torch, [1.0, np.nan, 5.0, np.nan], requires_grad=False)
    _same(getattr(x, name)(), getattr(t, name)())


def test_numel_and_tolist_as_in_torch(torch):
    for values in (np.ones((2, 3)), np.array(2.5), np.arange(4, dtype=np.int64), np.zeros((0, 2))):
        assert Tensor(values).numel() == torch.tensor(values).numel()
        assert Tensor(values).tolist() == torch.tensor(values).tolist()
    assert type(Tensor(np.ones((2, 3))).numel()) is type(torch.ones(2, 3).numel()) is int


@pytest.mark.parametrize("dtype", [F32, F64])
def test_clone_is_a_recorded_copy_in_both(torch, dtype):
    x, t = _pair(torch, [1.5, -2.0, 0.25], dtype)
    c, d = x.clone(), t.clone()
    _same(c, d)
    assert c.grad_fn is not None and d.grad_fn is not None
    _backward_both(torch, c * c, d * d)
    _grads_agree(x, t, rtol=1e-6 if dtype == F32 else 1e-14)
    ints, tints = Tensor(np.array([1, 2])), torch.tensor([1, 2])
    _same(ints.clone(), tints.clone())


@pytest.mark.parametrize("name", ["float", "double"])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_float_and_double_convert_and_send_the_gradient_back_in_the_original_dtype(torch, name, dtype):
    x, t = _pair(torch, [1.5, -2.0, 1e-3], dtype)
    y, u = getattr(x, name)(), getattr(t, name)()
    _same(y, u)
    _backward_both(torch, y * y, u * u)
    assert x.grad.dtype == dtype
    _grads_agree(x, t, rtol=1e-6)
    ints = np.array([1, -3])
    _same(getattr(Tensor(ints), name)(), getattr(torch.tensor(ints), name)())


STD_AXES = [(None, False), (0, False), (1, True), (-1, False), ((0, 1), True)]


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("axis, keepdims", STD_AXES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_std_is_torch_s_std_with_correction_ddof(torch, dtype, axis, keepdims, ddof):
    values = [[1.0, 3.0, 3.0, 2.0], [0.5, -1.0, 4.0, 2.5], [2.0, 2.5, -3.0, 1.0]]
    x, t = _pair(torch, values, dtype)
    y = x.std(axis=axis, keepdims=keepdims, ddof=ddof)
    u = t.std(dim=axis, keepdim=keepdims, correction=ddof)
    _same(y, u, exact=False)
    _backward_both(torch, y, u)
    _grads_agree(x, t, rtol=1e-5 if dtype == F32 else 1e-13)


def test_std_defaults_differ_ddof_0_here_correction_1_in_torch(torch):
    x, t = _pair(torch, [1.0, 3.0, 3.0, 2.0])
    assert x.std().item() == pytest.approx(t.std(correction=0).item(), rel=1e-15)
    assert x.std(ddof=1).item() == pytest.approx(t.std().item(), rel=1e-15)
    assert x.std().item() != pytest.approx(t.std().item(), rel=1e-3)


@pytest.mark.parametrize("dtype", [F32, F64])
def test_std_where_a_row_is_constant_has_torch_s_zero_gradient_not_nan(torch, dtype):
    values = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]  # row 0: std 0, where sqrt' × 0 would be NaN
    weights = np.arange(6.0).reshape(2, 3)
    x, t = _pair(torch, values, dtype)
    standardized = (x - x.mean(axis=1, keepdims=True)) / (x.std(axis=1, keepdims=True) + 1e-5)
    y = (standardized * weights.astype(dtype)).sum()
    u = ((t - t.mean(1, keepdim=True)) / (t.std(1, keepdim=True, correction=0) + 1e-5)
         * torch.tensor(weights.astype(dtype))).sum()
    _backward_both(torch, y, u)
    assert np.isfinite(x.grad.data).all()
    _grads_agree(x, t, rtol=1e-5 if dtype == F32 else 1e-12)
    x2, t2 = _pair(torch, [2.0, 2.0, 2.0], dtype)
    s, v = x2.std(), t2.std(correction=0)
    assert s.dtype == dtype and s.item() == 0.0 == v.item()
    _backward_both(torch, s, v)
    _grads_agree(x2, t2, rtol=0)  # 0 in both


@pytest.mark.parametrize("exponent", [2.0, 3, 0.5, -1.5])
@pytest.mark.parametrize("dtype", [F32, F64])
def test_pow_by_a_number_as_in_torch(torch, exponent, dtype):
    x, t = _pair(torch, [0.5, 1.0, 2.0, 3.0], dtype)
    y, u = x.pow(exponent), t.pow(exponent)
    _same(y, u, exact=False)
    _backward_both(torch, y, u)
    _grads_agree(x, t, rtol=1e-6 if dtype == F32 else 1e-14)


def test_pow_by_a_tensor_sends_gradients_to_both_as_in_torch(torch):
    x, t = _pair(torch, [0.5, 1.0, 2.0, 3.0])
    e, f = _pair(torch, [2.0, -1.0, 0.5, 1.5])
    y, u = x.pow(e), t.pow(f)
    _same(y, u, exact=False)
    _backward_both(torch, y, u)
    _grads_agree(x, t)
    _grads_agree(e, f)


def test_pow_keeps_torch_s_dtypes(torch):
    ints = np.array([1, 2, 3])
    for exponent in (2, 0.5, 2.0):
        _same(Tensor(ints).pow(exponent), torch.tensor(ints).pow(exponent), exact=False)
    _same(Tensor(np.array([1.0, 2.0], dtype=F32)).pow(2), torch.tensor([1.0, 2.0]).pow(2))


def test_zero_refuses_a_leaf_requiring_grad_except_under_no_grad_as_torch_does(torch):
    x, t = _pair(torch, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        t.zero_()
    with pytest.raises(RuntimeError, match="zero_: a leaf Variable that requires grad"):
        x.zero_()
    np.testing.assert_array_equal(x.data, [1.0, 2.0])  # refused before any change
    with torch.no_grad():
        assert t.zero_() is t
    with tg.no_grad():
        assert x.zero_() is x
    _same(x, t)
    assert x.requires_grad and t.requires_grad


def test_zero_then_a_backward_through_an_op_recorded_before_raises_in_both(torch):
    x, t = _pair(torch, [1.0, 2.0])
    y, u = (x * x).sum(), (t * t).sum()
    with tg.no_grad():
        x.zero_()
    with torch.no_grad():
        t.zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        u.backward()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("dtype", [F32, F64])
def test_cat_is_torch_cat_with_its_gradient(torch, dtype):
    a, ta = _pair(torch, np.arange(6.0).reshape(2, 3), dtype)
    b, tb = _pair(torch, np.arange(4.0).reshape(2, 2), dtype)
    y, u = tg.cat([a, b], axis=1), torch.cat([ta, tb], dim=1)
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(a, ta)
    _grads_agree(b, tb)
    _same(tg.cat([a, a]), torch.cat([ta, ta]))


LIKE_CASES = [np.ones((2, 3), dtype=F32), np.ones(3), np.arange(3), np.array([True, False])]


@pytest.mark.parametrize("values", LIKE_CASES, ids=lambda v: str(v.dtype))
def test_zeros_like_and_ones_like_keep_shape_and_dtype_without_grad_as_in_torch(torch, values):
    requires_grad = values.dtype.kind == "f"
    x, t = Tensor(values, requires_grad=requires_grad), torch.tensor(values, requires_grad=requires_grad)
    for ours, theirs in ((tg.zeros_like(x), torch.zeros_like(t)), (tg.ones_like(x), torch.ones_like(t))):
        _same(ours, theirs)
        assert ours.requires_grad is theirs.requires_grad is False


ARANGE_CASES = [
    (5,), (2, 7), (2, 9, 3), (10, 0, -3), (np.int64(4),), (np.int32(1), 4),  # all ints: int64
    (5.0,), (0, 1, 0.1), (1, 2.5, 0.5), (0.5, 4), (-1.0, 1.0, 0.25), (3, 0.0, -0.5), (np.float64(2.0),),
]


@pytest.mark.parametrize("args", ARANGE_CASES, ids=repr)
@pytest.mark.parametrize("default", [F32, F64])
def test_arange_takes_torch_s_dtype_rule_and_values(torch, args, default):
    before, torch_before = tg.get_default_dtype(), torch.get_default_dtype()
    tg.set_default_dtype(default)
    torch.set_default_dtype(_torch_dtype(torch, default))
    try:
        ours, theirs = tg.arange(*args), torch.arange(*args)
    finally:
        tg.set_default_dtype(before)
        torch.set_default_dtype(torch_before)
    _same(ours, theirs)
    assert ours.requires_grad is False


@pytest.mark.parametrize("dtype, torch_name", [(F64, "float64"), (F32, "float32"), (np.int32, "int32")])
def test_arange_with_a_dtype_as_in_torch(torch, dtype, torch_name):
    for args in ((5,), (0, 2, 0.5) if dtype != np.int32 else (0, 9, 2)):
        _same(tg.arange(*args, dtype=dtype), torch.arange(*args, dtype=getattr(torch, torch_name)))



# --- the differences that docs/interop.md states ---------------------------------------------------


def test_view_takes_a_transposed_tensor_here_and_torch_s_view_refuses_it(torch):
    values = np.arange(6.0).reshape(2, 3)
    _same(Tensor(values).T.view(6), torch.tensor(values).T.reshape(6))
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        torch.tensor(values).T.view(6)


def test_float_of_a_float32_tensor_is_a_copy_here_and_the_tensor_itself_in_torch(torch):
    x, t = _pair(torch, [1.0, 2.0], F32, requires_grad=False)
    assert t.float() is t
    y = x.float()
    assert y is not x and not np.shares_memory(y.data, x.data)


def test_zero_of_a_tensor_made_by_an_op_is_recorded_in_torch_and_refused_here(torch):
    x, t = _pair(torch, [1.0, 2.0])
    u = t * 2.0
    u.zero_()
    u.sum().backward()
    assert t.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="does not record in-place ops"):
        (x * 2.0).zero_()


def test_an_empty_arange_is_empty_here_and_an_error_in_torch(torch):
    assert tg.arange(5, 0).shape == (0,) and tg.arange(5, 0).dtype == np.int64
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        torch.arange(5, 0)

# --- by hand: no torch needed ----------------------------------------------------------------------


def _leaf(values, dtype=F64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def test_view_is_reshape_and_its_gradient_comes_back_in_the_original_shape():
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.view(3, 2)
    assert y.shape == (3, 2) and y.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert x.view((6,)).shape == (6,) and x.view(-1, 2).shape == (3, 2)
    (y * Tensor(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))).sum().backward()
    assert x.grad.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_view_with_the_wrong_number_of_elements_names_view_the_shape_and_the_count():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"view\(4, 2\).*shape \(2, 3\) \(6 elements\).*product is 6"):
        x.view(4, 2)
    with pytest.raises(TypeError, match=r"view\('a'\).*shape \(2, 3\)"):
        x.view("a")


def test_unsqueeze_takes_every_axis_from_minus_ndim_minus_1_to_ndim():
    x = Tensor(np.zeros((2, 3)))
    expected = {-3: (1, 2, 3), -2: (2, 1, 3), -1: (2, 3, 1), 0: (1, 2, 3), 1: (2, 1, 3), 2: (2, 3, 1)}
    assert {a: x.unsqueeze(a).shape for a in expected} == expected
    assert Tensor(1.0).unsqueeze(0).shape == (1,) and Tensor(1.0).unsqueeze(-1).shape == (1,)
    v = _leaf([1.0, 2.0])
    (v.unsqueeze(1) * Tensor(np.array([[3.0], [5.0]]))).sum().backward()
    assert v.grad.tolist() == [3.0, 5.0]


@pytest.mark.parametrize("axis", [3, -4, 5])
def test_unsqueeze_out_of_range_names_the_axis_the_shape_and_the_range(axis):
    with pytest.raises(IndexError, match=rf"unsqueeze: axis {axis} .*shape \(2, 3\).*from -3 to 2"):
        Tensor(np.zeros((2, 3))).unsqueeze(axis)


def test_unsqueeze_and_squeeze_want_an_int_axis():
    with pytest.raises(TypeError, match=r"unsqueeze: axis must be an int, got 1.0 \(float\)"):
        Tensor(np.zeros(2)).unsqueeze(1.0)
    with pytest.raises(TypeError, match=r"squeeze: axis must be an int, got True \(bool\)"):
        Tensor(np.zeros((1, 2))).squeeze(True)


def test_squeeze_drops_size_1_axes_and_keeps_other_axes_without_an_error():
    x = Tensor(np.arange(3.0).reshape(1, 3, 1))
    assert x.squeeze().shape == (3,)
    assert x.squeeze(0).shape == (3, 1) and x.squeeze(-1).shape == (1, 3)
    assert x.squeeze(1).shape == (1, 3, 1)  # size 3: left as it is, as PyTorch does (numpy would raise)
    assert x.squeeze((0, 1)).shape == (3, 1)
    assert Tensor(np.zeros((1, 1))).squeeze().shape == ()
    assert x.squeeze().tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(IndexError, match=r"squeeze: axis 3 .*shape \(1, 3, 1\).*from -3 to 2"):
        x.squeeze(3)


def test_clamp_by_hand_and_its_gradient_on_the_closed_interval():
    x = _leaf([0.5, 1.0, 2.0, 3.0, 3.5])
    y = x.clamp(1.0, 3.0)
    assert y.tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert x.clamp(min=2.0).tolist() == [2.0, 2.0, 2.0, 3.0, 3.5]
    assert x.clamp(max=1.0).tolist() == [0.5, 1.0, 1.0, 1.0, 1.0]
    assert x.clamp(max=1.0).dtype == F64 and Tensor(np.arange(3)).clamp(1, 1).dtype == np.int64
    assert Tensor(np.arange(3)).clamp(0.5).dtype == F32  # an int tensor with a float bound


def test_clamp_with_neither_bound_says_so():
    with pytest.raises(ValueError, match=r"clamp: min and max are both None \(tensor of shape \(2,\)"):
        Tensor([1.0, 2.0]).clamp()


def test_argmax_and_argmin_by_hand():
    x = Tensor(np.array(ARG_VALUES))
    assert x.argmax().item() == 9 and x.argmin().item() == 3  # flat indices: 7.0 first at 9, -2.0 at 3
    assert x.argmax(axis=1).tolist() == [0, 0, 1] and x.argmin(axis=1).tolist() == [3, 2, 3]
    assert x.argmax(axis=0).tolist() == [0, 2, 2, 2] and x.argmin(axis=-2).tolist() == [1, 1, 1, 0]
    assert x.argmax(axis=1, keepdims=True).shape == (3, 1) and x.argmax(keepdims=True).shape == (1, 1)
    assert x.argmax().dtype == x.argmin(axis=0).dtype == np.int64
    assert Tensor(np.array([1, 5, 5], dtype=np.int32)).argmax().dtype == np.int64
    leaf = _leaf([1.0, 3.0])
    assert leaf.argmax().requires_grad is False and leaf.argmax().grad_fn is None


def test_argmax_bad_axis_and_empty_tensor_say_what_is_wrong():
    with pytest.raises(IndexError, match=r"argmax: axis 2 .*shape \(3, 4\).*from -2 to 1"):
        Tensor(np.zeros((3, 4))).argmax(axis=2)
    with pytest.raises(TypeError, match="argmin: axis must be an int"):
        Tensor(np.zeros((3, 4))).argmin(axis=(0, 1))
    with pytest.raises(ValueError, match=r"argmin: tensor of shape \(0, 3\).*empty"):
        Tensor(np.zeros((0, 3))).argmin()


def test_numel_and_tolist_by_hand():
    assert Tensor(np.zeros((2, 3, 4))).numel() == 24 and Tensor(3.0).numel() == 1
    assert Tensor(np.array([[1, 2], [3, 4]])).tolist() == [[1, 2], [3, 4]]
    assert Tensor(np.array(2.5)).tolist() == 2.5
    assert type(Tensor(np.array([7])).tolist()[0]) is int and type(Tensor([0.5]).tolist()[0]) is float


def test_clone_is_an_independent_copy_whose_gradient_reaches_the_original():
    x = _leaf([1.0, -2.0, 3.0])
    c = x.clone()
    assert c.tolist() == [1.0, -2.0, 3.0] and c.dtype == F64 and c.grad_fn is not None
    c.data[0] = 99.0  # writing into the clone leaves the original alone
    assert x.tolist() == [1.0, -2.0, 3.0]
    assert not np.shares_memory(c.data, x.data)
    (c * Tensor(np.array([2.0, 3.0, 4.0]))).sum().backward()
    assert x.grad.tolist() == [2.0, 3.0, 4.0]
    ints = Tensor(np.array([1, 2]))
    copy = ints.clone()
    copy.data[0] = 5
    assert ints.tolist() == [1, 2] and copy.dtype == np.int64


def test_float_and_double_by_hand():
    x = _leaf([0.5, 2.0], dtype=F32)
    y = x.double()
    assert y.dtype == F64 and y.tolist() == [0.5, 2.0] and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == F32 and x.grad.tolist() == [1.0, 4.0]
    assert Tensor(np.array([1, 2])).float().dtype == F32 and Tensor(np.array([1, 2])).double().dtype == F64
    z = _leaf([1.0])
    assert z.float().dtype == F32 and z.float().data is not z.data


def test_std_by_hand_with_ddof_0_and_1():
    x = _leaf([1.0, 3.0, 3.0, 2.0])  # mean 2.25, squared deviations sum to 2.75
    assert x.std().item() == pytest.approx(np.sqrt(2.75 / 4), rel=1e-15)
    assert x.std(ddof=1).item() == pytest.approx(np.sqrt(2.75 / 3), rel=1e-15)
    x.std().backward()  # d std / dx_i = (x_i - mean) / (n std)
    expected = np.array([-1.25, 0.75, 0.75, -0.25]) / (4 * np.sqrt(2.75 / 4))
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)
    m = Tensor(np.array([[1.0, 3.0], [2.0, 2.0]]))
    assert m.std(axis=1).tolist() == [1.0, 0.0] and m.std(axis=0, keepdims=True).tolist() == [[0.5, 0.5]]
    c = _leaf([[1.0, 3.0], [2.0, 2.0]])
    (c.std(axis=1) * Tensor(np.array([1.0, 1.0]))).sum().backward()  # row 1 is constant: 0, not NaN
    np.testing.assert_array_equal(c.grad.data, [[-0.5, 0.5], [0.0, 0.0]])  # (x - mean) / (2 · 1)
    assert gradcheck(lambda z: z.std(axis=1, ddof=1), [_leaf([[1.0, 3.0, 0.5], [2.0, -1.0, 4.0]])])


def test_std_errors_name_std():
    with pytest.raises(IndexError, match="std: axis 2"):
        Tensor(np.zeros((2, 2))).std(axis=2)
    with pytest.raises(ValueError, match=r"std: 2 element\(s\) of shape \(2,\) reduced with ddof=2"):
        Tensor(np.zeros(2)).std(ddof=2)


def test_pow_is_the_power_operator():
    x = _leaf([1.0, 2.0, 3.0])
    y = x.pow(2)
    assert y.tolist() == [1.0, 4.0, 9.0] and y.dtype == F64
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    squares = Tensor(np.array([2, 3])).pow(2)
    assert squares.tolist() == [4, 9] and squares.dtype == np.int64
    assert Tensor(np.array([4, 9])).pow(0.5).dtype == F32
    assert Tensor(np.array([2.0, 3.0])).pow(Tensor(np.array([3.0, 2.0]))).tolist() == [8.0, 9.0]


def test_zero_of_a_leaf_requiring_grad_outside_no_grad_is_refused_and_changes_nothing():
    x = _leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"zero_: a leaf Variable that requires grad .*\(2,\).*no_grad"):
        x.zero_()
    assert x.tolist() == [1.0, 2.0]
    with tg.no_grad():
        assert x.zero_() is x
    assert x.tolist() == [0.0, 0.0] and x.requires_grad and x.dtype == F64


def test_zero_of_a_tensor_made_by_an_op_is_refused_even_under_no_grad():
    x = _leaf([1.0, 2.0])
    y = x.exp()  # exp's backward reads its output: zeroing it would silently change x.grad
    for grad_mode in (tg.enable_grad, tg.no_grad):
        with grad_mode():
            with pytest.raises(RuntimeError, match=r"zero_: this tensor \(shape \(2,\), float64\) .* Exp"):
                y.zero_()
    assert y.data[0] == pytest.approx(np.e)


def test_zero_of_a_tensor_without_grad_works_anywhere():
    t = Tensor(np.array([[1.5, 2.0]]))
    assert t.zero_() is t and t.tolist() == [[0.0, 0.0]] and t.shape == (1, 2)
    i = Tensor(np.array([3, 4]))
    assert i.zero_().tolist() == [0, 0] and i.dtype == np.int64


def test_zero_then_backward_through_an_earlier_op_raises():
    w = _leaf([1.0, 2.0])
    loss = (w * w).sum()
    with tg.no_grad():
        w.zero_()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    # a constant input changed after the op used it: the same
    w = _leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    loss = (w * c).sum()
    c.zero_()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
    # and through a detached alias of the parameter, which shares its memory
    w = _leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.detach().zero_()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_zero_before_the_forward_is_fine():
    w = _leaf([1.0, 2.0])
    with tg.no_grad():
        w.zero_()
    ((w + 1.0) * (w + 1.0)).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]


def test_zero_of_a_read_only_array_says_so():
    a = np.ones(2)
    a.flags.writeable = False
    with pytest.raises(ValueError, match=r"zero_: the array .*\(shape \(2,\), float64\) is read-only"):
        Tensor(a).zero_()


def test_cat_is_concatenate():
    a, b = _leaf([1.0, 2.0]), _leaf([3.0])
    y = tg.cat([a, b])
    assert y.tolist() == [1.0, 2.0, 3.0]
    (y * Tensor(np.array([4.0, 5.0, 6.0]))).sum().backward()
    assert a.grad.tolist() == [4.0, 5.0] and b.grad.tolist() == [6.0]
    m = tg.cat([Tensor(np.zeros((2, 1))), Tensor(np.ones((2, 2)))], axis=1)
    assert m.tolist() == [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]


def test_zeros_like_and_ones_like_by_hand():
    x = _leaf([[1.0, 2.0, 3.0]], dtype=F32)
    z, o = tg.zeros_like(x), tg.ones_like(x)
    assert z.tolist() == [[0.0, 0.0, 0.0]] and o.tolist() == [[1.0, 1.0, 1.0]]
    assert z.dtype == o.dtype == F32 and z.shape == o.shape == (1, 3)
    assert not z.requires_grad and not o.requires_grad and z.is_leaf
    assert tg.ones_like(Tensor(np.array([1, 2]))).dtype == np.int64
    assert tg.zeros_like(np.zeros((2, 2), dtype=F64)).dtype == F64
    z.data[0, 0] = 5.0  # a new array
    assert x.data[0, 0] == 1.0


def test_arange_by_hand_int64_for_ints_else_the_default_float():
    assert tg.arange(4).tolist() == [0, 1, 2, 3] and tg.arange(4).dtype == np.int64
    assert tg.arange(2, 8, 3).tolist() == [2, 5] and tg.arange(5, 0, -2).tolist() == [5, 3, 1]
    assert tg.arange(np.int32(3)).dtype == np.int64
    y = tg.arange(1, 2.5, 0.5)
    assert y.tolist() == [1.0, 1.5, 2.0] and y.dtype == F32
    assert tg.arange(3.0).dtype == F32 and tg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    doubles = tg.arange(3, dtype=np.float64)
    assert doubles.dtype == F64 and doubles.tolist() == [0.0, 1.0, 2.0]
    assert tg.arange(0).shape == (0,)
    before = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    try:
        assert tg.arange(0, 1, 0.5).dtype == F64 and tg.arange(3).dtype == np.int64
    finally:
        tg.set_default_dtype(before)


def test_arange_refuses_what_is_not_a_number_and_a_zero_step():
    with pytest.raises(TypeError, match="arange: start, stop and step must be numbers, got str '5'"):
        tg.arange("5")
    with pytest.raises(TypeError, match="arange: .* got NoneType None"):
        tg.arange(0, 5, None)
    with pytest.raises(ValueError, match="arange: step must not be 0"):
        tg.arange(0, 5, 0)


def test_the_new_names_are_exported():
    for name in ("cat", "zeros_like", "ones_like", "arange"):
        assert name in tg.__all__ and callable(getattr(tg, name))


# --- numerical gradients in float64 ----------------------------------------------------------------

_RNG = np.random.default_rng(7)
_X = _RNG.standard_normal((2, 3))

GRADCHECK_CASES = {
    "clone": lambda x: x.clone(),
    "view": lambda x: x.view(3, 2),
    "view -1": lambda x: x.view(-1, 1),
    "unsqueeze 0": lambda x: x.unsqueeze(0),
    "unsqueeze -1": lambda x: x.unsqueeze(-1) * x.unsqueeze(-1),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(),
    "squeeze 1": lambda x: x.unsqueeze(1).squeeze(1).exp(),
    "clamp": lambda x: x.clamp(-0.5, 0.5) * x,
    "clamp min": lambda x: x.clamp(min=0.1),
    "std": lambda x: x.std(),
    "std axis 1 ddof 1": lambda x: x.std(axis=1, ddof=1),
    "std axis 0 keepdims": lambda x: x.std(axis=0, keepdims=True),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_numerical_gradient_check_in_float64(name):
    x = _X.copy()
    if name.startswith("clamp"):  # keep every point away from the kinks at the bounds
        x = np.where(np.abs(np.abs(x) - 0.5) < 1e-3, x + 0.01, x)
        x = np.where(np.abs(x - 0.1) < 1e-3, x + 0.01, x)
    assert gradcheck(GRADCHECK_CASES[name], [Tensor(x, requires_grad=True)]) is True



# --- permute, t, dim, expand, flatten(start, end), masked_fill, int(), set_grad_enabled -------------


def test_permute_t_and_dim_are_torch_s(torch):
    values = np.arange(24.0).reshape(2, 3, 4)
    x, t = _pair(torch, values)
    y, u = x.permute(2, 0, 1), t.permute(2, 0, 1)
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(x, t)
    assert x.permute((1, 0, 2)).shape == tuple(t.permute((1, 0, 2)).shape)
    assert x.dim() == t.dim() == 3
    m, n = _pair(torch, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    _same(m.t(), n.t())
    v, w = _pair(torch, [1.0, 2.0])
    _same(v.t(), w.t())  # a 1-d tensor as it is, in both
    with pytest.raises(ValueError, match=r"t: expected a tensor with at most 2 axes, got shape \(2, 3, 4\)"):
        x.t()
    with pytest.raises(RuntimeError):
        t.t()
    with pytest.raises(ValueError, match=r"permute: got the order \(1, 0\) for a tensor of shape \(2, 3,"):
        x.permute(1, 0)


def test_expand_is_torch_s_with_minus_one_keeping_an_axis(torch):
    x, t = _pair(torch, [[1.0], [2.0], [3.0]])
    for sizes in [(3, 4), (-1, 4), (2, 3, 4), (2, -1, 4)]:
        y, u = x.expand(*sizes), t.expand(*sizes)
        _same(y, u)
    with pytest.raises(ValueError, match=r"expand: sizes \(-1, 3, 1\) .* a new leading axis needs its size"):
        x.expand(-1, 3, 1)
    with pytest.raises(RuntimeError):
        t.expand(-1, 3, 1)
    y, u = x.expand((2, -1, 5)), t.expand((2, -1, 5))
    _backward_both(torch, y, u)
    _grads_agree(x, t)  # summed over the copies, in both


def test_flatten_start_and_end_dims_are_torch_s(torch):
    x, t = _pair(torch, np.arange(24.0).reshape(2, 3, 4))
    for args in [(), (1,), (0, 1), (1, 2), (-2, -1), (2,)]:
        _same(x.flatten(*args), t.flatten(*args))
    y, u = x.flatten(1), t.flatten(1)
    _backward_both(torch, y, u)
    _grads_agree(x, t)
    s, r = _pair(torch, 5.0)
    _same(s.flatten(), r.flatten())  # a 0-d tensor: one element, in both
    with pytest.raises(ValueError, match=r"flatten: start_dim=2 comes after end_dim=1"):
        x.flatten(2, 1)
    with pytest.raises(IndexError, match=r"flatten: axis 5 is out of range for a tensor of shape \(\)"):
        s.flatten(5, 7)
    with pytest.raises(IndexError):
        r.flatten(5, 7)


def test_masked_fill_is_torch_s_and_the_gradient_skips_the_filled_places(torch):
    values = [[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]
    x, t = _pair(torch, values)
    mask = np.array([[True, False, False], [False, True, True]])
    y, u = x.masked_fill(mask, -1.5), t.masked_fill(torch.tensor(mask), -1.5)
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(x, t)
    row = np.array([True, False, True])  # broadcast over the rows, in both
    _same(x.masked_fill(row, 0.0), t.masked_fill(torch.tensor(row), 0.0))
    f32, t32 = _pair(torch, [1.0, 2.0], F32)
    _same(f32.masked_fill(np.array([True, False]), 7.0), t32.masked_fill(torch.tensor([True, False]), 7.0))


def test_int_of_a_one_element_tensor_is_torch_s(torch):
    for value in [3.7, -3.7, 2.0]:
        assert int(Tensor(value)) == int(torch.tensor(value)) == int(value)
    assert int(Tensor(np.array([5], dtype=np.int64))) == 5
    with pytest.raises(ValueError, match=r"item: tensor has shape \(2,\)"):
        int(Tensor([1.0, 2.0]))


def test_set_grad_enabled_switches_at_once_and_as_a_block_as_torch_s(torch):
    w = Tensor(np.ones(2), requires_grad=True)
    try:
        tg.set_grad_enabled(False)
        torch.set_grad_enabled(False)
        assert not tg.is_grad_enabled() and not torch.is_grad_enabled()
        assert not (w * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
        torch.set_grad_enabled(True)
    assert tg.is_grad_enabled() and (w * 2).requires_grad
    with tg.set_grad_enabled(False):
        assert not (w * 2).requires_grad
        with tg.set_grad_enabled(True):
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def evaluate():
        return (w * 2).requires_grad

    assert tg.is_grad_enabled()  # decorating does not switch the mode
    assert evaluate() is False and tg.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled: mode must be True or False, got str 'no'"):
        tg.set_grad_enabled("no")
    assert tg.is_grad_enabled()


@pytest.mark.parametrize("a, b", [(1, 0), (1.0, 0), (True, False), (1, True), (2.5, -1.5)])
def test_where_of_two_python_numbers_has_torch_s_dtype(torch, a, b):
    cond = np.array([True, False, True])
    ours, theirs = tg.where(cond, a, b), torch.where(torch.tensor(cond), a, b)
    assert ours.dtype == theirs.numpy().dtype and ours.tolist() == theirs.tolist()


def test_masked_fill_names_itself_for_a_mask_that_is_not_bool():
    with pytest.raises(TypeError, match=r"masked_fill: the mask must be a bool array, got dtype int64"):
        Tensor(np.ones(3)).masked_fill(np.array([1, 0, 1]), 0.0)


def test_masked_fill_keeps_the_tensor_s_dtype_as_torch_does(torch):
    mask = np.array([True, False, True])
    ours = Tensor(np.arange(3)).masked_fill(mask, 1.5)
    theirs = torch.arange(3).masked_fill(torch.tensor(mask), 1.5)
    assert ours.dtype == theirs.numpy().dtype == np.int64 and ours.tolist() == theirs.tolist() == [1, 1, 1]


def test_a_set_grad_enabled_made_earlier_sets_its_mode_when_entered_as_torch_s(torch):
    ours, theirs = tg.set_grad_enabled(False), torch.set_grad_enabled(False)
    tg.set_grad_enabled(True)
    torch.set_grad_enabled(True)
    with ours, theirs:
        assert tg.is_grad_enabled() is False and torch.is_grad_enabled() is False
    assert tg.is_grad_enabled() is True and torch.is_grad_enabled() is True


def test_to_cpu_changes_nothing_and_to_a_dtype_converts_as_in_torch(torch):
    x = Tensor(np.ones(3), requires_grad=True)
    tx = torch.ones(3, dtype=torch.float64, requires_grad=True)
    assert x.to("cpu") is x and tx.to("cpu") is tx  # (PyTorch: the tensor itself when nothing changes)
    assert x.to(torch.device("cpu")) is x
    y = x.to(np.float32)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float64  # as tx.to(torch.float32)
    model = tg.nn.Linear(2, 1)
    assert model.to("cpu") is model and model.to(torch.device("cpu")) is model


def test_to_another_device_or_an_unknown_name_says_what_to_do():
    # before: Module.to("cpu") failed with numpy's "data type 'cpu' not understood", Tensor had no .to
    model, x = tg.nn.Linear(2, 1), Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"^Linear.to: there is no 'cuda' device here: .* on the CPU only"):
        model.to("cuda")
    with pytest.raises(ValueError, match=r"^Tensor.to: there is no 'cuda:0' device here"):
        x.to("cuda:0")
    expected = r"^Linear.to: expected a float dtype \(np.float32, np.float64\) or 'cpu', got 'gpu0'"
    with pytest.raises(TypeError, match=expected):
        model.to("gpu0")
    with pytest.raises(TypeError, match=r"^Linear.to: expected a float dtype, got int64"):
        model.to(np.int64)
    assert model.to(np.float64).weight.dtype == np.float64 and x.to("int64").dtype == np.int64


# --- PyTorch's dim=, keepdim=, unbiased= and correction=: the message says what to write -----------

PYTORCH_KEYWORD_CALLS = [
    "x.sum(dim=1)",
    "x.sum(dim=0, keepdim=True)",
    "x.mean(dim=-1, keepdim=True)",
    "x.var(dim=0)",  # PyTorch divides by n - 1: the translation must say ddof=1
    "x.var(dim=1, unbiased=False)",
    "x.std(dim=0, correction=0)",
    "x.std(dim=1)",
    "x.logsumexp(dim=1)",
    "x.softmax(dim=0)",
    "x.log_softmax(dim=-1)",
    "x.argmax(dim=1)",
    "x.argmin(dim=0, keepdim=True)",
    "x.unsqueeze(dim=1)",
    "x.squeeze(dim=0)",
    "tg.cat([x, x], dim=1)",
    "tg.stack([x, x], dim=0)",
]


@pytest.mark.parametrize("call", PYTORCH_KEYWORD_CALLS)
def test_pytorch_keywords_are_refused_with_a_spelling_that_gives_pytorch_s_result(torch, call):
    values = np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 7.0]])
    x = Tensor(values.copy())
    with pytest.raises(TypeError, match=r"takes numpy's .*not PyTorch's") as info:
        eval(call, {"x": x, "tg": tg})
    written = str(info.value).split(": write ", 1)[1].split(" (PyTorch divides")[0]
    ours = eval(written, {"x": x, "tg": tg, "tensors": [x, x]})
    theirs = eval(call.replace("tg.", "torch."), {"x": torch.tensor(values.copy()), "torch": torch})
    _same(ours, theirs, exact=False)


def test_an_unknown_keyword_keeps_python_s_message():
    x = Tensor(np.ones((2, 2)))
    with pytest.raises(TypeError, match=r"^Tensor.sum\(\) got an unexpected keyword argument 'foo'$"):
        x.sum(foo=1)
    with pytest.raises(TypeError, match=r"^Tensor.softmax\(\) got an unexpected keyword argument 'keepdim'$"):
        x.softmax(keepdim=True)  # (softmax keeps every axis in PyTorch too)
    with pytest.raises(TypeError, match=r"^tg.stack\(\) got an unexpected keyword argument 'out'$"):
        tg.stack([x], out=None)


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (2, 1, 3, 5)])
def test_mT_swaps_the_last_two_axes_as_in_pytorch(torch, shape):
    values = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    x, t = _pair(torch, values)
    y, u = x.mT, t.mT
    _same(y, u)
    _backward_both(torch, y, u)
    _grads_agree(x, t)


def test_mT_of_fewer_than_two_axes_is_named():
    with pytest.raises(ValueError, match=r"mT: expected a tensor with at least 2 axes, got shape \(3,\)"):
        _ = Tensor(np.ones(3)).mT


def test_tg_tensor_is_called_as_torch_tensor_is(torch):
    ours, theirs = tg.tensor([[1.0, 2.0]], requires_grad=True), torch.tensor([[1.0, 2.0]], requires_grad=True)
    assert type(ours) is Tensor and ours.requires_grad and ours.is_leaf
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
    values = np.arange(3.0)
    theirs = torch.tensor(values, dtype=torch.float32)
    assert tg.tensor(values, dtype=np.float32).dtype == theirs.numpy().dtype
    # the documented difference: a list of ints is the default float here, int64 in PyTorch
    assert tg.tensor([1, 2]).dtype == tg.get_default_dtype() and torch.tensor([1, 2]).dtype == torch.int64


# --- any, all, isnan, isfinite, and what a Tensor does not have ------------------------------------

TRUTH_VALUES = [[0.0, 1.0, np.nan], [0.0, 0.0, 0.0], [2.0, -np.inf, 3.0]]


@pytest.mark.parametrize("name", ["any", "all"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_any_and_all_are_torch_s_bool_reductions(torch, name, axis, keepdims):
    x, t = _pair(torch, TRUTH_VALUES)
    ours = getattr(x, name)(axis=axis, keepdims=keepdims)
    theirs = getattr(t, name)() if axis is None else getattr(t, name)(dim=axis, keepdim=keepdims)
    if axis is None and keepdims:  # (torch's any() takes no keepdim without a dim)
        theirs = theirs.reshape(1, 1)
    _same(ours, theirs)
    assert ours.dtype == np.bool_ and ours.requires_grad is theirs.requires_grad is False


@pytest.mark.parametrize("name", ["isnan", "isfinite"])
def test_isnan_and_isfinite_are_torch_s(torch, name):
    x, t = _pair(torch, TRUTH_VALUES)
    ours = getattr(x, name)()
    _same(ours, getattr(t, name)())
    assert ours.requires_grad is False


def test_any_all_isnan_isfinite_by_hand():
    x = Tensor(np.array(TRUTH_VALUES), requires_grad=True)
    assert x.any().item() is True and x.all().item() is False
    assert x.any(axis=1).tolist() == [True, False, True]  # NaN and -inf are nonzero
    assert x.all(axis=0).tolist() == [False, False, False] and x.all(axis=-1).tolist() == [False, False, True]
    assert x.any(axis=0, keepdims=True).shape == (1, 3) and x.all(keepdims=True).shape == (1, 1)
    assert x.isnan().tolist() == [[False, False, True], [False, False, False], [False, False, False]]
    assert x.isfinite().tolist() == [[True, True, False], [True, True, True], [True, False, True]]
    assert bool((x.grad is None) and not x.isfinite().all())  # the check a training loop writes
    assert Tensor(0.0).any(axis=0).item() is False and Tensor(2.0).all(axis=-1).item() is True
    for call in (lambda: x.any(axis=2), lambda: Tensor(2.0).argmax(axis=5), lambda: Tensor(0.0).all(axis=1)):
        with pytest.raises(IndexError, match="out of range"):
            call()
    with pytest.raises(TypeError, match=r"write x.any\(axis=1, keepdims=True\)"):
        x.any(dim=1, keepdim=True)


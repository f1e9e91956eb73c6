"""PyTorch's rules for operands the engine's dtype table did not cover: 0-d operands, float16 with
numbers and long reductions, np.array of a tensor, **=, & | ^ ~, abs(), clamp between tensors, and
comparisons with numbers outside an integer dtype. The expected values are PyTorch's (written
out here; test_torch_equivalents.py runs PyTorch on the clamp gradients), except for those
comparisons, where PyTorch wraps the number into the dtype and the answer here is the exact one."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def f32(values):
    return Tensor(np.array(values, dtype=np.float32), requires_grad=True)


# --- 0-d operands: torch's "dimensioned tensors first" rule, on numpy 1 and 2 alike ----------


def test_a_0d_float64_does_not_widen_a_float32_tensor():
    x = f32([1.0, 2.0, 3.0])
    t = Tensor(np.arange(4.0), requires_grad=True)  # float64
    y = x * t.mean()
    assert y.dtype == np.float32  # numpy 2 alone: float64
    np.testing.assert_allclose(y.data, [1.5, 3.0, 4.5])
    y.sum().backward()
    assert x.grad.dtype == np.float32 and t.grad.dtype == np.float64
    np.testing.assert_allclose(t.grad.data, [1.5] * 4)  # d/dt_i of 6 * mean(t) = 6 / 4
    assert (x + np.array(1.5)).dtype == np.float32
    assert (x * np.float64(2.0)).dtype == np.float32


def test_a_0d_of_a_higher_category_decides():
    ints = Tensor(np.array([1, 2]))
    assert (ints * Tensor(np.float64(2.5))).dtype == np.float64  # int with a 0-d float64: float64
    assert (ints * Tensor(np.float32(2.5))).dtype == np.float32
    assert ((Tensor([1.0, -1.0]) > 0) ** 2).dtype == np.int64  # numpy 1.26 alone: int8
    assert (Tensor(np.array([1, 2], np.int32)) + np.int64(2)).dtype == np.int32  # numpy 2 alone: int64


def test_dimensioned_operands_promote_as_before():
    assert (Tensor(np.ones(2, np.float16)) + Tensor(np.ones(2))).dtype == np.float64
    assert (Tensor(np.array([1, 2])) + Tensor(np.ones(2, np.float32))).dtype == np.float32
    assert (Tensor(np.ones(2, np.int32)) + Tensor(np.ones(2, np.int64))).dtype == np.int64


def test_a_0d_operand_that_the_narrower_dtype_cannot_hold_is_refused():
    with pytest.raises(OverflowError, match=r"Add: the 0-d operand 300 \(int64\) does not fit in int8"):
        Tensor(np.array([1, 2], np.int8)) + np.int64(300)
    with pytest.raises(OverflowError, match="does not fit in float16"):
        Tensor(np.ones(2, np.float16)) * Tensor(np.float64(1e5))


def test_a_0d_operand_that_requires_grad_and_does_not_fit_is_refused_too():
    # before: converted by the recorded astype without the check, inf with only numpy's warning
    with pytest.raises(OverflowError, match="Mul: the 0-d operand 100000.0 .float64. does not fit"):
        Tensor(np.ones(2, np.float16)) * Tensor(np.array(1e5), requires_grad=True)
    w = Tensor(np.array([1e300, 1.0]), requires_grad=True)
    with pytest.raises(OverflowError, match="does not fit in float32"):
        Tensor(np.ones(2, np.float32)) + w.mean()  # the usual 0-d operand: a mean in the graph
    s = Tensor(np.array(3.0), requires_grad=True)
    y = Tensor(np.ones(2, np.float16)) * s  # one that fits still converts, recorded
    y.sum().backward()
    assert y.dtype == np.float16 and s.grad.dtype == np.float64 and s.grad.item() == 2.0


def test_result_dtype_is_the_rule():
    from tinygrad_edu.autograd import result_dtype

    a = np.ones(2, np.float32)
    assert result_dtype([a, np.array(1.0)]) == np.float32
    assert result_dtype([np.ones(2, np.int64), np.array(1.0, np.float16)]) == np.float16
    assert result_dtype([np.array(1, np.int8), np.array(1.0)]) == np.float64  # all 0-d: numpy's among the top
    assert result_dtype([np.ones(2, bool), np.array(3)]) == np.int64


# --- float16 ----------------------------------------------------------------------------------


def test_a_number_that_would_be_inf_in_float16_is_refused():
    x = Tensor(np.array([1e-3], np.float16))
    with pytest.raises(OverflowError, match=r"100000.0 would be inf in the tensor's dtype float16"):
        x * 1e5
    with pytest.raises(OverflowError, match="70000.0 would be inf"):
        x / 70000.0
    assert (x * 60000.0).dtype == np.float16  # within range


def test_float16_mean_and_var_are_computed_in_float32():
    assert Tensor(np.ones(100_000, np.float16)).mean().item() == 1.0  # 100000 is inf in float16
    x = Tensor(np.full(70_000, 1e-3, np.float16), requires_grad=True)
    m = x.mean()
    assert m.dtype == np.float16 and abs(m.item() - 1e-3) < 1e-6
    m.backward()
    assert x.grad.dtype == np.float16
    # 1/70000, not 0 (a float16 subnormal: 3 digits)
    np.testing.assert_allclose(x.grad.data[:3].astype(np.float64), 1 / 70_000, rtol=5e-3)
    v = Tensor(np.tile(np.array([-1.0, 1.0], np.float16), 40_000)).var()
    assert v.dtype == np.float16 and v.item() == 1.0  # was nan


# --- numpy's view of a tensor -------------------------------------------------------------------


def test_np_array_of_a_tensor_is_a_copy_and_asarray_its_own_memory():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    snapshot = np.array(w)
    snapshot *= 10  # numpy 2 passed copy=True and got the tensor's own array
    loss.backward()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])
    assert np.asarray(w) is w.data
    assert np.asarray(w, dtype=np.float32).dtype == np.float32
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        with pytest.raises(ValueError, match="cannot be seen as float32 without a copy"):
            np.asarray(w, dtype=np.float32, copy=False)


# --- operators ----------------------------------------------------------------------------------


def test_power_in_place_follows_the_in_place_rules():
    p = Tensor([1.0, 2.0], requires_grad=True)
    ref = p
    with tg.no_grad():
        p **= 2
    assert p is ref
    np.testing.assert_array_equal(ref.data, [1.0, 4.0])
    with pytest.raises(RuntimeError, match=r"x \*\*= y: a leaf Variable that requires grad.*x = x \*\* y"):
        q = Tensor([1.0, 2.0], requires_grad=True)
        q **= 2


def test_masks_combine_with_and_or_xor_not():
    x = Tensor([-1.0, 0.5, 2.0])
    inside = (x > 0) & (x < 1)
    assert inside.dtype == np.bool_ and inside.tolist() == [False, True, False]
    assert (~inside).tolist() == [True, False, True]
    assert ((x < 0) | (x > 1)).tolist() == [True, False, True]
    assert ((x > 0) ^ (x > 1)).tolist() == [False, True, False]
    assert (True & inside).tolist() == [False, True, False]
    ints = Tensor(np.array([3, 5]))
    assert (ints & 1).tolist() == [1, 1] and (~ints).tolist() == [-4, -6]  # as torch
    with pytest.raises(TypeError, match=r"x & y: defined for bool and integer tensors, got float32 \(shape"):
        x & x
    with pytest.raises(TypeError, match="~x: defined for bool and integer tensors"):
        _ = ~x


def test_abs_builtin_is_the_op():
    x = f32([-2.0, 3.0])
    y = abs(x)
    y.sum().backward()
    assert y.tolist() == [2.0, 3.0] and x.grad.tolist() == [-1.0, 1.0]


def test_clamp_between_tensors_sends_the_gradient_to_the_bound_passed():
    x = f32([-1.0, 0.5, 2.0, 0.0])
    lo = f32([0.0, 0.5, 0.0, 0.0])
    hi = f32([1.0, 1.0, 1.0, 1.0])
    y = x.clamp(lo, hi)
    y.backward(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    assert y.tolist() == [0.0, 0.5, 1.0, 0.0]
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 4.0]  # ties (0.5 at 0.5, 0 at 0) go to x, as in torch
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0] and hi.grad.tolist() == [0.0, 0.0, 3.0, 0.0]
    assert x.clamp(max=Tensor(0.0)).tolist() == [-1.0, 0.0, 0.0, 0.0]


def test_comparing_with_a_number_outside_the_integer_dtype_has_an_answer():
    assert (Tensor(np.array([0, 200], np.uint8)) > -1).tolist() == [True, True]
    assert (Tensor(np.array([1, 100], np.int8)) < 300).tolist() == [True, True]
    assert (Tensor(np.array([1, 100], np.int8)) == 2**70).tolist() == [False, False]
    assert (Tensor(np.array([1.0], np.float16)) < 1e5).tolist() == [True]
    assert (Tensor(np.array([0.1], np.float32)) == 0.1).tolist() == [True]  # the number takes float32


def test_comparing_with_an_integer_beyond_int64_is_exact():
    # before: compared in float64, where 2**63 - 1 and 2**63 are the same number
    big = Tensor(np.array([2**63 - 1, 0]))
    assert (big == 2**63).tolist() == [False, False] and (big >= 2**63).tolist() == [False, False]
    assert (big < 2**63).tolist() == [True, True] and (big != 2**64).tolist() == [True, True]
    assert (Tensor(np.array([2**64 - 1], np.uint64)) == 2**64).tolist() == [False]
    assert (Tensor(np.array([1, 2], np.int8)) < np.int64(300)).tolist() == [True, True]
    assert (Tensor(np.array([1, 2], np.int8)) == 300).dtype == np.bool_


def test_and_or_xor_take_the_0d_rule_and_name_a_python_number():
    # before: numpy 2 gave int64 for int8 & np.int64(3) (numpy 1 and PyTorch: int8)
    assert (Tensor(np.array([1, 2, 3], np.int8)) & np.int64(3)).dtype == np.int8
    assert (Tensor(np.array([1, 2], np.int8)) | Tensor(np.array([1, 2], np.int64))).dtype == np.int64
    assert (Tensor(np.array([True, False])) & 1).dtype == np.int64  # (as torch: an int beside bools)
    with pytest.raises(TypeError, match=r"got float32 \(shape \(1,\)\) and the Python int 1,"):
        Tensor([1.5]) & 1  # (it said "float64 (shape ())" for the 1)
    with pytest.raises(TypeError, match=r"got int64 \(shape \(2,\)\) and the Python float 1.5,"):
        Tensor(np.array([1, 2])) ^ 1.5
    with pytest.raises(TypeError, match=r"got int64 \(shape \(2,\)\) and float64 \(shape \(\)\),"):
        Tensor(np.array([1, 2])) & np.float64(1.5)  # (a numpy float, not "the Python float64")


def test_clip_of_an_integer_tensor_with_a_float_array_bound_gives_floats():
    # before: the bound was cast to int (0.5 -> 0) and the result stayed int64
    for bound in (np.full(4, 0.5), np.array(0.5), np.float64(0.5)):
        y = Tensor(np.array([0, 1, 2, 3])).clip(bound, None)
        assert y.dtype == np.float32 and y.tolist() == [0.5, 1.0, 2.0, 3.0]


def test_clamp_between_tensors_passes_no_gradient_through_a_nan():
    # before: where(x < lo, lo, x) picked x for NaN, and x got the gradient 1 there
    x = Tensor(np.array([np.nan, 0.5, -1.0]), requires_grad=True)
    lo = Tensor(np.zeros(3), requires_grad=True)
    y = x.clamp(lo, None)
    y.sum().backward()
    assert np.isnan(y.data[0]) and y.tolist()[1:] == [0.5, 0.0]
    assert x.grad.tolist() == [0.0, 1.0, 0.0] and lo.grad.tolist() == [0.0, 0.0, 1.0]  # torch's



@pytest.mark.parametrize("hi", [np.nan, np.array([np.nan, np.nan])])
def test_clamp_with_a_tensor_bound_and_a_nan_number_or_array_bound_is_nan(hi):
    # before: only Tensor bounds were looked at, and x came back unclipped with gradient 1
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    y = x.clamp(Tensor(np.zeros(2)), hi)
    y.sum().backward()
    assert np.isnan(y.data).all() and x.grad.tolist() == [0.0, 0.0]  # as x.clip(0.0, nan), and torch


def test_var_names_itself():
    with pytest.raises(IndexError, match="^var: axis 2"):
        Tensor(np.ones((2, 3))).var(axis=2)

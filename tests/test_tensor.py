"""Tensor construction, attributes, dtype rules and repr."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


@pytest.fixture
def float64_default():
    """Switch the default dtype to float64 for one test and always switch it back."""
    previous = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    try:
        yield
    finally:
        tg.set_default_dtype(previous)


# --- construction and dtypes ---------------------------------------------------------


def test_float64_ndarray_keeps_its_dtype_and_is_not_copied():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = Tensor(a)
    assert t.dtype == np.float64
    assert t.data is a


def test_float32_ndarray_keeps_its_dtype():
    assert Tensor(np.ones(3, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_and_bool_ndarrays_stay_integer_and_bool(dtype):
    t = Tensor(np.array([1, 0, 1], dtype=dtype))
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, [1, 0, 1])


@pytest.mark.parametrize("data", [3, 2.5, True, [1, 2, 3], [[1.5, 2.0], [3.0, 4.0]], (1, 2)])
def test_python_scalars_and_lists_get_the_default_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


def test_numpy_scalars_keep_their_dtype():
    assert Tensor(np.float64(1.5)).dtype == np.float64
    assert Tensor(np.int64(3)).dtype == np.int64


def test_set_default_dtype_changes_what_python_data_becomes(float64_default):
    assert tg.get_default_dtype() == np.float64
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(2.5).dtype == np.float64
    assert tg.zeros(2, 3).dtype == np.float64
    assert tg.ones(2).dtype == np.float64
    assert tg.randn(3).dtype == np.float64
    assert tg.rand(3).dtype == np.float64
    # ndarrays still keep their own dtype
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32


def test_default_dtype_is_float32_again_after_the_fixture():
    assert tg.get_default_dtype() == np.float32
    assert tg.zeros(1).dtype == np.float32


def test_set_default_dtype_refuses_non_float():
    with pytest.raises(TypeError, match="float32 or float64"):
        tg.set_default_dtype(np.int64)
    assert tg.get_default_dtype() == np.float32


@pytest.mark.parametrize(
    "data, dtype",
    [
        ([1, 2], np.float64),
        (np.ones(2, dtype=np.float32), np.float64),
        (np.arange(3), np.float32),
        ([1.0, -2.0], np.int64),
        (np.array([3, 200]), np.uint8),
    ],
)
def test_dtype_argument_converts(data, dtype):
    t = Tensor(data, dtype=dtype)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data).astype(dtype))


@pytest.mark.parametrize(
    "data, dtype, error, words",
    [
        (2**40, np.int32, OverflowError, ["1099511627776", "int32"]),
        ([300], np.int8, OverflowError, ["300", "int8", "127"]),
        ([-1], np.uint8, OverflowError, ["-1", "uint8"]),
        (np.array([2**40]), np.int32, OverflowError, ["int32"]),
        ([2.0**63], np.int64, OverflowError, ["int64"]),
        ([2.7], np.int64, ValueError, ["2.7", "whole number", "np.round"]),
        (10**40, None, OverflowError, ["41 digits", "float32"]),
    ],
)
def test_a_number_the_dtype_cannot_hold_is_refused(data, dtype, error, words):
    # numpy would wrap 300 into an int8 as 44, -1 into a uint8 as 255, truncate 2.7 to 2,
    # and turn 10**40 into inf in float32
    with pytest.raises(error) as info:
        Tensor(data, dtype=dtype)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False]), [1, 2]])
def test_requires_grad_on_an_integer_or_bool_tensor_is_a_type_error(data):
    dtype = np.int64 if isinstance(data, list) else None
    with pytest.raises(TypeError, match=r"only floating tensors can require grad.*dtype (int64|bool)"):
        Tensor(data, requires_grad=True, dtype=dtype)


def test_requires_grad_on_an_integer_tensor_later_is_a_type_error():
    t = Tensor(np.arange(3))
    with pytest.raises(TypeError, match="int64"):
        t.requires_grad_()
    assert t.requires_grad is False


@pytest.mark.parametrize(
    "bad, dtype_word",
    [
        ("abc", "str"),
        ("1.5", "str"),  # numpy alone would quietly read it as the number 1.5
        (["1", "2"], "list"),
        (None, "NoneType"),  # numpy alone would quietly make it nan
        (object(), "object"),
        ({"a": 1}, "dict"),
        (1 + 2j, "complex"),
        (np.array(["a", "b"]), "ndarray"),
        (np.array([object()]), "ndarray"),
        ([[1, 2], [3]], "list"),
    ],
)
def test_strings_objects_and_ragged_lists_are_refused_clearly(bad, dtype_word):
    with pytest.raises(TypeError, match=rf"Tensor: cannot make a tensor from {dtype_word}.*expected"):
        Tensor(bad)


def test_a_tensor_of_a_tensor_is_a_detached_copy_as_torch_tensor_makes():
    w = Tensor(np.ones(3), requires_grad=True)
    start = Tensor(w)  # keeping the starting weights, as a student would
    with tg.no_grad():
        w -= 0.5  # an optimizer step writes into w's array
    assert start.data.tolist() == [1.0, 1.0, 1.0]
    assert not start.requires_grad and start._ctx is None
    assert Tensor(w, dtype=np.float32).data.tolist() == [0.5, 0.5, 0.5]
    assert not np.shares_memory(Tensor(w, requires_grad=True).data, w.data)


# --- attributes ----------------------------------------------------------------------------


def test_basic_attributes():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t = Tensor(a, requires_grad=True, name="x")
    assert t.data is not a and np.array_equal(t.data, a)  # a tensor to be trained has its own array
    assert t.grad is None
    assert t.requires_grad is True
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.dtype == np.float64
    assert t.name == "x"
    t.name = "renamed"
    assert t.name == "renamed"
    assert Tensor(1.0).name is None
    assert Tensor(1.0).requires_grad is False


def test_numpy_returns_the_array_and_item_the_python_number():
    a = np.array([[2.5]])
    t = Tensor(a)
    assert t.numpy() is a
    assert t.item() == 2.5
    assert type(t.item()) is float


def test_item_of_a_many_element_tensor_is_refused():
    with pytest.raises(ValueError, match=r"item.*shape \(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_detach_keeps_the_data_but_drops_the_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3.0
    d = y.detach()
    assert d.requires_grad is False
    assert d._ctx is None
    np.testing.assert_array_equal(d.data, [3.0, 6.0])
    assert y._ctx is not None  # the original is untouched
    assert (d * 2.0)._ctx is None


def test_T_and_transpose_reverse_all_axes():
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t = Tensor(a)
    np.testing.assert_array_equal(t.T.data, a.transpose(2, 1, 0))
    np.testing.assert_array_equal(t.transpose().data, a.transpose(2, 1, 0))
    assert t.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(t.transpose(1, 0, 2).data, a.transpose(1, 0, 2))
    np.testing.assert_array_equal(t.transpose((2, 0, 1)).data, a.transpose(2, 0, 1))
    m = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.T.data, [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])


def test_T_gradient_goes_back_transposed():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = np.arange(6.0).reshape(3, 2) * 10
    (x.T * Tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, w.T)


# --- Python scalars never change the dtype ---------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "op",
    [
        lambda t: t * 2.0,
        lambda t: 2.0 * t,
        lambda t: t + 1,
        lambda t: 1 - t,
        lambda t: t / 3.0,
        lambda t: 3.0 / t,
        lambda t: t**2,
        lambda t: t**2.5,
        lambda t: 2.0**t,
        lambda t: t - np.float64(1.0),
        lambda t: (t > 0.5) * 1.0 + t,
    ],
)
def test_python_scalars_never_change_the_dtype(dtype, op):
    t = Tensor(np.array([0.5, 1.5], dtype=dtype), requires_grad=True)
    out = op(t)
    assert out.dtype == dtype
    out.sum().backward()
    assert t.grad.dtype == dtype


def test_integer_tensor_times_python_int_stays_integer():
    t = Tensor(np.array([1, 2], dtype=np.int64))
    assert (t * 3).dtype == np.int64
    np.testing.assert_array_equal((t * 3).data, [3, 6])


def test_mixed_float32_float64_grads_come_back_in_each_inputs_dtype():
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0], dtype=np.float64), requires_grad=True)
    out = (a * b + a).sum()
    assert out.dtype == np.float64  # numpy's promotion for the value
    out.backward()
    assert a.grad.dtype == np.float32
    assert b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [4.0, 5.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 2.0])


def test_mixed_dtype_grads_under_broadcasting_and_matmul():
    a = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = Tensor(np.arange(3, dtype=np.float64), requires_grad=True)
    w = Tensor(np.ones((3, 2), dtype=np.float64), requires_grad=True)
    ((a * b) @ w).sum().backward()
    assert (a.grad.dtype, a.grad.shape) == (np.float32, (2, 3))
    assert (b.grad.dtype, b.grad.shape) == (np.float64, (3,))
    assert w.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, np.tile([0.0, 2.0, 4.0], (2, 1)))
    np.testing.assert_array_equal(b.grad.data, [4.0, 4.0, 4.0])


# --- repr ----------------------------------------------------------------------------------------


def test_repr_of_a_default_dtype_tensor_is_short():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"


def test_repr_shows_dtype_requires_grad_grad_fn_and_name():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="w")
    assert repr(x) == "Tensor([1., 2.], dtype=float64, requires_grad=True, name='w')"
    assert repr(x * 2.0) == "Tensor([2., 4.], dtype=float64, grad_fn=Mul)"
    assert repr(Tensor(np.array([1, 2]))) == "Tensor([1, 2], dtype=int64)"


def test_repr_of_a_matrix_lines_up():
    text = repr(Tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert text == "Tensor([[1., 2.],\n        [3., 4.]])"


# --- comparisons ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,)])
def test_comparisons_give_bool_tensors_holding_arrays_and_record_nothing(shape):
    x = Tensor(np.full(shape, 0.5), requires_grad=True)
    for result, expected in [
        (x > 0, True),
        (x < 0, False),
        (x >= 0.5, True),
        (x <= 0.4, False),
        (x == 0.5, True),
        (x != 0.5, False),
    ]:
        assert type(result.data) is np.ndarray  # 0-d included: numpy alone would give np.bool_
        assert result.dtype == np.bool_ and result.shape == shape
        assert result._ctx is None and result.requires_grad is False
        np.testing.assert_array_equal(result.data, np.full(shape, expected))


def test_a_0d_tensor_indexed_by_its_own_mask():
    x = Tensor(np.array(2.0), requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.data, np.array(2.0)[np.array(2.0) > 0])
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_number_operands_are_shared_constants_that_keep_sign_and_dtype():
    x32 = tg.Tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    x64 = tg.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    a, b = x32 * 2.0, x32 * 2.0
    assert a._ctx.inputs[1] is b._ctx.inputs[1]  # one shared constant
    assert a._ctx.inputs[1].dtype == np.float32 and (x64 * 2.0)._ctx.inputs[1].dtype == np.float64
    assert not a._ctx.inputs[1].data.flags.writeable
    # 0.0 and -0.0 compare equal but are different constants: 1 / -0.0 is -inf
    with np.errstate(divide="ignore"):
        assert np.array_equal((1.0 / (x64 * 0.0)).data, [np.inf, -np.inf])
        assert np.array_equal((1.0 / (x64 * -0.0)).data, [-np.inf, np.inf])
    (a.sum() + (x32 * 3).sum()).backward()
    assert np.array_equal(x32.grad.data, [5.0, 5.0])


@pytest.mark.parametrize("flag", ["yes", 1, 1.0, None, [True]])
def test_requires_grad_must_be_a_bool(flag):
    with pytest.raises(TypeError, match=r"Tensor: requires_grad must be True or False, got"):
        Tensor([1.0], requires_grad=flag)
    with pytest.raises(TypeError, match=r"requires_grad_: requires_grad must be True or False, got"):
        Tensor([1.0]).requires_grad_(flag)
    assert Tensor([1.0], requires_grad=np.bool_(True)).requires_grad is True


def test_only_a_leaf_can_stop_requiring_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    expected = r"requires_grad_\(False\): this tensor \(shape \(2,\)\) was made by Mul.*\.detach\(\)"
    with pytest.raises(RuntimeError, match=expected):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y and y.requires_grad  # (switching it on again changes nothing)
    assert x.requires_grad_(False) is x and not x.requires_grad


def test_a_tensor_that_requires_grad_copies_the_array_so_a_step_leaves_the_caller_s_alone():
    w0 = np.ones(3)
    w = Tensor(w0, requires_grad=True)
    (w * w).sum().backward()
    tg.optim.SGD([w], lr=0.5).step()  # in place: w = 1 - 0.5 * 2
    np.testing.assert_array_equal(w.data, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(w0, [1.0, 1.0, 1.0])  # as torch.tensor(w0) would leave it
    x0 = np.ones(3)
    assert Tensor(x0).data is x0  # data that is not trained is not copied
    float32 = np.ones(2, dtype=np.float32)
    assert Tensor(float32, requires_grad=True, dtype=np.float64).dtype == np.float64  # (converted: new)

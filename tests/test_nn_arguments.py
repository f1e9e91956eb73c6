"""nn: arguments of the wrong kind are refused up front, with the layer or function, the argument,
what was given and what to pass instead.

Each case here was once accepted and did something else without a word (a string flag read as
True, an integer dtype truncating every update, an int seed failing later inside numpy).
"""

from __future__ import annotations

import re
from typing import Any, Callable

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init

STRING_IS_NOT_READ = r"got str 'False' \(a string is not read: any non-empty one would count as True\)"

# --- yes/no flags --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "where", "name"),
    [
        (lambda v: nn.Linear(2, 2, bias=v), "Linear", "bias"),
        (lambda v: nn.BatchNorm1d(2, affine=v), "BatchNorm1d", "affine"),
        (lambda v: nn.BatchNorm1d(2, track_running_stats=v), "BatchNorm1d", "track_running_stats"),
        (lambda v: nn.Linear(2, 1).requires_grad_(v), "Linear.requires_grad_", "requires_grad"),
        (lambda v: nn.Sequential(nn.Linear(2, 1)).zero_grad(v), "Sequential.zero_grad", "set_to_none"),
        (lambda v: nn.BatchNorm1d(2).load_state_dict({}, strict=v), "load_state_dict", "strict"),
        (lambda v: F.dropout(np.ones(6), 0.5, training=v), "dropout", "training"),
    ],
    ids=["Linear bias", "BatchNorm1d affine", "BatchNorm1d track_running_stats", "requires_grad_",
         "zero_grad", "load_state_dict strict", "dropout training"],
)  # fmt: skip
def test_a_string_flag_is_refused(make: Callable[[Any], Any], where: str, name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{where}: {name} must be True or False, {STRING_IS_NOT_READ}$"):
        make("False")


def test_flags_given_as_bools_still_work() -> None:
    assert nn.Linear(2, 2, bias=np.bool_(False)).bias is None
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert bn.affine is False and bn.track_running_stats is False and bn.running_mean is None
    net = nn.Linear(2, 1).requires_grad_(False)
    assert not net.weight.requires_grad and not net(np.ones((1, 2), np.float32)).requires_grad
    missing, unexpected = nn.BatchNorm1d(2).load_state_dict({}, strict=False)
    assert missing == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert unexpected == []


def test_requires_grad_string_leaves_the_parameters_as_they_were() -> None:
    """The string used to be stored as the flag: every parameter then held 'True' and no op
    recorded anything."""
    net = nn.Linear(2, 1)
    with pytest.raises(TypeError):
        net.requires_grad_("True")
    assert net.weight.requires_grad is True and net.bias.requires_grad is True


def test_zero_grad_no_keeps_the_gradients() -> None:
    net = nn.Linear(2, 1, dtype=np.float64)
    net(np.ones((3, 2))).sum().backward()
    with pytest.raises(TypeError, match="set_to_none"):
        net.zero_grad("no")
    np.testing.assert_array_equal(net.bias.grad.data, [3.0])


# --- dtypes -----------------------------------------------------------------------------------------


FLOAT_DTYPE = r"dtype must be a float dtype \(np\.float32 or np\.float64\), got "


@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool, np.uint8])
@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda dt: nn.Linear(2, 2, dtype=dt), "Linear"),
        (lambda dt: nn.BatchNorm1d(2, dtype=dt), "BatchNorm1d"),
        (lambda dt: init.he_normal((2, 3), dtype=dt), "init.he_normal"),
        (lambda dt: init.he_uniform((2, 3), dtype=dt), "init.he_uniform"),
        (lambda dt: init.xavier_normal((2, 3), dtype=dt), "init.xavier_normal"),
        (lambda dt: init.xavier_uniform((2, 3), dtype=dt), "init.xavier_uniform"),
        (lambda dt: init.normal((2, 3), dtype=dt), "init.normal"),
        (lambda dt: init.uniform((2, 3), -1, 1, dtype=dt), "init.uniform"),
        (lambda dt: init.zeros((2, 3), dtype=dt), "init.zeros"),
        (lambda dt: init.ones((2, 3), dtype=dt), "init.ones"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_non_float_dtype_is_refused(make: Callable[[Any], Any], where: str, dtype: Any) -> None:
    """BatchNorm1d(dtype=np.int64) kept int64 running statistics, truncating every update;
    init.he_normal(dtype=np.int64) returned mostly zeros."""
    with pytest.raises(TypeError, match=rf"^{where}: {FLOAT_DTYPE}{np.dtype(dtype)}$"):
        make(dtype)


def test_a_dtype_that_is_not_one_is_named() -> None:
    with pytest.raises(TypeError, match=rf"^init\.normal: {FLOAT_DTYPE}'real', not a dtype$"):
        init.normal((2, 2), dtype="real")
    with pytest.raises(TypeError, match=rf"^BatchNorm1d: {FLOAT_DTYPE}'f99', not a dtype$"):
        nn.BatchNorm1d(2, dtype="f99")


def test_float_dtypes_are_kept() -> None:
    bn = nn.BatchNorm1d(2, dtype=np.float64)
    assert {t.dtype for t in (bn.weight, bn.bias, bn.running_mean, bn.running_var)} == {np.dtype(np.float64)}
    assert init.he_normal((2, 3), dtype=np.float64).dtype == np.float64
    assert init.zeros(3, dtype="float32").dtype == np.float32


# --- numbers -------------------------------------------------------------------------------------


def test_batchnorm_momentum_and_eps_must_be_numbers() -> None:
    with pytest.raises(TypeError, match=r"^BatchNorm1d: momentum must be a number in \[0, 1\] or None, "
                       r"got str '0\.1'$"):
        nn.BatchNorm1d(2, momentum="0.1")
    with pytest.raises(TypeError, match=r"^BatchNorm1d: eps must be a number, got str '1e-5'$"):
        nn.BatchNorm1d(2, eps="1e-5")
    with pytest.raises(TypeError, match="momentum"):
        nn.BatchNorm1d(2, momentum=True)
    assert nn.BatchNorm1d(2, momentum=None).momentum is None
    assert nn.BatchNorm1d(2, momentum=np.float32(0.5), eps=1).momentum == 0.5


# --- init: zero fans -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "shape", "fan"),
    [(init.he_normal, (3, 0), "fan_in"), (init.he_uniform, (3, 0), "fan_in"),
     (init.xavier_normal, (0, 0), r"fan_in \+ fan_out"), (init.xavier_uniform, (0,), r"fan_in \+ fan_out")],
    ids=["he_normal", "he_uniform", "xavier_normal", "xavier_uniform"],
)  # fmt: skip
def test_init_of_a_zero_fan_says_so(fn: Any, shape: tuple, fan: str) -> None:
    """These divided by the fan and raised a bare ZeroDivisionError."""
    where = rf"^init\.{fn.__name__}: shape {re.escape(str(shape))}"
    with pytest.raises(ValueError, match=rf"{where} has {fan} = 0, which the variance is divided by"):
        fn(shape)


def test_init_of_an_empty_weight_with_non_zero_fans_is_empty() -> None:
    """(0, 3) has fan_in 3: an empty array, as PyTorch's kaiming_normal_ leaves an empty tensor."""
    w = init.he_normal((0, 3), rng=np.random.default_rng(0))
    assert w.shape == (0, 3)
    assert init.xavier_uniform((3, 0)).shape == (3, 0)


# --- random sources ---------------------------------------------------------------------------------


GENERATOR = (r"rng must be a np\.random\.Generator, a np\.random\.RandomState or None, got {got}; "
             r"pass a generator, e.g\. rng=np\.random\.default_rng\(42\)")  # fmt: skip
INPLACE = r" \(a bool here looks like PyTorch's inplace argument, which has no equivalent: {where} always"


@pytest.mark.parametrize(
    ("make", "where"),
    [
        (lambda r: nn.Linear(3, 2, rng=r), "Linear"),
        (lambda r: nn.Dropout(0.5, rng=r), "Dropout"),
        (lambda r: F.dropout(np.ones(3), 0.5, rng=r), "dropout"),
        (lambda r: init.he_normal((2, 3), rng=r), "init.he_normal"),
        (lambda r: init.xavier_uniform((2, 3), rng=r), "init.xavier_uniform"),
        (lambda r: init.zeros((2, 3), rng=r), "init.zeros"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_an_int_seed_as_rng_says_what_to_pass(make: Callable[[Any], Any], where: str) -> None:
    """An int failed with a bare AttributeError ('int' object has no attribute ...), Dropout's only
    at its first forward."""
    with pytest.raises(TypeError, match=rf"^{where}: " + GENERATOR.format(got="int 42") + "$"):
        make(42)


@pytest.mark.parametrize(
    ("call", "where", "value"),
    [
        (lambda: F.dropout(np.ones(3), 0.5, True, False), "dropout", "False"),
        (lambda: nn.Dropout(0.5, True), "Dropout", "True"),
    ],
    ids=["F.dropout(x, p, training, inplace)", "nn.Dropout(p, inplace)"],
)
def test_pytorch_s_positional_inplace_is_explained(call: Callable[[], Any], where: str, value: str) -> None:
    want = rf"^{where}: " + GENERATOR.format(got=f"bool {value}") + INPLACE.format(where=where)
    with pytest.raises(TypeError, match=want):
        call()


def test_generators_and_random_states_are_still_taken() -> None:
    a = nn.Linear(3, 2, rng=np.random.default_rng(1), dtype=np.float64).weight.data
    np.testing.assert_array_equal(a, np.random.default_rng(1).standard_normal((2, 3)) * np.sqrt(2 / 3))
    out = nn.Dropout(0.5, rng=np.random.RandomState(0))(np.ones(6)).data
    np.testing.assert_array_equal(out, (np.random.RandomState(0).rand(6) > 0.5) * 2.0)


# --- Linear: what a custom init returns -----------------------------------------------------------


def test_linear_refuses_an_init_of_the_wrong_shape() -> None:
    """The weight used to be (3, 2) while repr said in_features=3, out_features=2."""
    with pytest.raises(ValueError, match=r"^Linear: init returned an array of shape \(3, 2\); expected the "
                       r"weight's shape \(2, 3\) = \(out_features, in_features\)$"):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: np.ones(6))


def test_linear_refuses_an_init_that_is_not_floats() -> None:
    with pytest.raises(TypeError, match=r"^Linear: init returned an array of dtype int64; expected floats "
                       r"\(the weight is float64\)$"):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: np.ones(shape, np.int64), dtype=np.float64)
    not_numbers = r"^Linear: init returned a {}, which is not an array of numbers"
    with pytest.raises(TypeError, match=not_numbers.format("NoneType")):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: None)
    with pytest.raises(TypeError, match=not_numbers.format("list")):
        nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: [[1.0, 2.0, 3.0], [1.0]])


def test_linear_takes_array_likes_of_the_right_shape_from_init() -> None:
    rows = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    lin = nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: rows)
    np.testing.assert_array_equal(lin.weight.data, rows)
    assert lin.weight.dtype == np.float32
    lin = nn.Linear(3, 2, init=lambda shape, rng=None, dtype=None: Tensor(np.full(shape, 0.5)))
    np.testing.assert_array_equal(lin.weight.data, np.full((2, 3), 0.5))


# --- dropout masks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mask", [np.array([0.5, 2, 1, 0]), np.array([1.0, np.nan, 1, 0]), np.array([-1, 0, 1, 1])],
    ids=["0.5 and 2", "NaN", "-1"],
)  # fmt: skip
def test_dropout_refuses_a_mask_that_is_not_zeros_and_ones(mask: np.ndarray) -> None:
    """The mask [0.5, 2, 1, 0] used to scale x by 0.5 and 2."""
    with pytest.raises(ValueError, match=rf"^dropout: mask \(shape \(4,\), {mask.dtype}\) must hold only "
                       r"0 \(drop\) and 1 \(keep\) or bools, found \["):
        F.dropout(np.ones(4), 0.5, mask=mask)


def test_dropout_mask_shape_and_dtype_are_checked_in_every_mode() -> None:
    for training in (True, False):
        with pytest.raises(ValueError, match=r"^dropout: mask has shape \(2,\); expected x's shape \(4,\)$"):
            F.dropout(np.ones(4), 0.0, training=training, mask=np.array([1, 0]))
    with pytest.raises(TypeError, match=r"^dropout: mask has dtype <U1; expected 0/1 numbers or bools$"):
        F.dropout(np.ones(2), 0.5, mask=np.array(["1", "0"]))


def test_dropout_takes_bool_int_float_and_tensor_masks() -> None:
    x = np.arange(1.0, 5.0)
    want = np.array([2.0, 0.0, 6.0, 0.0])  # x * mask / (1 - 0.5)
    for mask in ([True, False, True, False], np.array([1, 0, 1, 0]), np.array([1.0, 0, 1, 0]),
                 Tensor(np.array([1.0, 0, 1, 0]))):  # fmt: skip
        np.testing.assert_array_equal(F.dropout(x, 0.5, mask=mask).data, want)

"""PyTorch's in-place initialisers in nn.init (zeros_, ..., kaiming_normal_): each fills a tensor's
data in place, marks it changed and returns it, with PyTorch's arguments and formulas.

The formulas are checked by statistics over large tensors here, and against PyTorch's own fans,
gains and samples when torch is installed (as in test_interop, a skip without it, a failure in CI).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn

init = nn.init
SHAPE = (400, 500)  # (fan_out, fan_in): 200,000 samples, enough for a std within 1%


@pytest.fixture
def torch():
    return need("torch")


def big(shape=SHAPE, dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


def uniform_std(bound):
    return bound / math.sqrt(3.0)


# --- what each one does --------------------------------------------------------------------------


ALL = [
    lambda t: init.zeros_(t),
    lambda t: init.ones_(t),
    lambda t: init.constant_(t, 0.5),
    lambda t: init.normal_(t),
    lambda t: init.uniform_(t),
    lambda t: init.xavier_uniform_(t),
    lambda t: init.xavier_normal_(t),
    lambda t: init.kaiming_uniform_(t),
    lambda t: init.kaiming_normal_(t),
]
NAMES = ["zeros_", "ones_", "constant_", "normal_", "uniform_", "xavier_uniform_", "xavier_normal_",
         "kaiming_uniform_", "kaiming_normal_"]  # fmt: skip


@pytest.mark.parametrize("fill", ALL, ids=NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fills_in_place_and_returns_the_tensor(fill, dtype):
    p = big((3, 4), dtype)
    array, version = p.data, p._version
    assert fill(p) is p
    assert p.data is array and p.dtype == dtype and p.shape == (3, 4)  # the same array, written into
    assert p._version > version  # marked as changed in place
    assert p.requires_grad and p.grad is None


def test_constants():
    p = big((2, 3))
    assert (init.zeros_(init.ones_(p)).data == 0).all()
    assert (init.ones_(p).data == 1).all()
    assert (init.constant_(p, -2.5).data == -2.5).all()
    assert (init.constant_(p, np.float64(3)).data == 3).all()


def test_a_leaf_that_requires_grad_needs_no_no_grad_block():
    """PyTorch's nn.init runs under torch.no_grad() itself: nn.init.zeros_(layer.bias) just works."""
    layer = nn.Linear(3, 2)
    init.constant_(layer.bias, 0.1)
    init.xavier_uniform_(layer.weight)
    out = layer(Tensor(np.ones((1, 3), dtype=np.float32))).sum()
    out.backward()  # recorded after the fills: fine
    np.testing.assert_allclose(layer.bias.grad.data, [1.0, 1.0])


def test_normal_statistics():
    p = init.normal_(big(), mean=3.0, std=2.0)
    assert abs(p.data.mean() - 3.0) < 0.02 and abs(p.data.std() / 2.0 - 1) < 0.01
    q = init.normal_(big())
    assert abs(q.data.mean()) < 0.01 and abs(q.data.std() - 1) < 0.01


def test_uniform_bounds_and_statistics():
    p = init.uniform_(big(dtype=np.float64), a=-1.0, b=3.0)
    assert p.data.min() >= -1.0 and p.data.max() < 3.0
    assert p.data.min() < -0.999 and p.data.max() > 2.999
    assert abs(p.data.mean() - 1.0) < 0.02 and abs(p.data.std() / uniform_std(2.0) - 1) < 0.01
    q = init.uniform_(big())
    assert q.data.min() >= 0.0 and q.data.max() <= 1.0  # PyTorch's default U(0, 1)


@pytest.mark.parametrize("gain", [1.0, 5 / 3, 0.5])
def test_xavier_uniform_bound_and_xavier_normal_std(gain):
    fan_out, fan_in = SHAPE
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    u = init.xavier_uniform_(big(dtype=np.float64), gain=gain).data
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.999 * bound
    assert abs(u.std() / std - 1) < 0.01
    n = init.xavier_normal_(big(), gain=gain).data
    assert abs(n.mean()) < 0.01 * std and abs(n.std() / std - 1) < 0.01


KAIMING = [
    # (a, mode, nonlinearity, gain)
    (0, "fan_in", "leaky_relu", math.sqrt(2.0)),  # the defaults: He
    (0.2, "fan_in", "leaky_relu", math.sqrt(2.0 / (1 + 0.2**2))),
    (0, "fan_out", "relu", math.sqrt(2.0)),
    (0, "fan_in", "tanh", 5.0 / 3),
    (0, "fan_out", "linear", 1.0),
    (0, "fan_in", "sigmoid", 1.0),
]


@pytest.mark.parametrize(("a", "mode", "nonlinearity", "gain"), KAIMING)
def test_kaiming_bound_and_std(a, mode, nonlinearity, gain):
    fan_out, fan_in = SHAPE
    std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    u = init.kaiming_uniform_(big(dtype=np.float64), a=a, mode=mode, nonlinearity=nonlinearity).data
    bound = math.sqrt(3.0) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.999 * bound
    assert abs(u.std() / std - 1) < 0.01
    n = init.kaiming_normal_(big(), a, mode, nonlinearity).data
    assert abs(n.std() / std - 1) < 0.01


def test_a_kernel_counts_its_receptive_field_in_both_fans():
    # (out, in, k1, k2) = (64, 32, 3, 3): fan_in 32 * 9 = 288, fan_out 64 * 9 = 576
    w = init.kaiming_normal_(big((64, 32, 3, 3)), mode="fan_out", nonlinearity="relu").data
    assert abs(w.std() / math.sqrt(2.0 / 576) - 1) < 0.02
    x = init.xavier_uniform_(big((64, 32, 3, 3), np.float64)).data
    assert np.abs(x).max() <= math.sqrt(6.0 / (288 + 576))


def test_calculate_gain():
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2.0 / (1 + 0.01**2))  # PyTorch's default slope
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2.0)
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("sigmoid") == init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("selu") == 0.75


# --- the same numbers as the shape-based initialisers, from the same random source -----------------


@pytest.mark.parametrize(
    ("in_place", "by_shape"),
    [
        (init.xavier_uniform_, init.xavier_uniform),
        (init.xavier_normal_, init.xavier_normal),
        (init.kaiming_uniform_, init.he_uniform),
        (init.kaiming_normal_, init.he_normal),
    ],
)
def test_the_defaults_are_the_shape_based_ones(in_place, by_shape):
    p = big((5, 3), np.float64)
    in_place(p, rng=np.random.default_rng(7))
    expected = by_shape((5, 3), rng=np.random.default_rng(7), dtype=np.float64)
    np.testing.assert_allclose(p.data, expected, rtol=1e-14)  # (gain / sqrt(fan) vs sqrt(2 / fan))


def test_draws_from_the_librarys_generator_so_manual_seed_replays():
    tg.manual_seed(3)
    first = init.kaiming_uniform_(big((4, 3))).data.copy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(init.kaiming_uniform_(big((4, 3))).data, first)
    tg.manual_seed(3)
    np.testing.assert_array_equal(init.he_uniform((4, 3)), first)
    # a RandomState replays np.random.seed code, as for the shape-based ones
    p = init.normal_(big((2, 2), np.float64), std=0.01, rng=np.random.RandomState(1))
    np.testing.assert_array_equal(p.data, np.random.RandomState(1).randn(2, 2) * 0.01)


def test_a_read_only_array_is_replaced_and_the_tensor_still_returned():
    a = np.zeros((2, 3), dtype=np.float32)
    a.flags.writeable = False
    t = Tensor(a)
    assert init.ones_(t) is t and (t.data == 1).all() and (a == 0).all()


# --- a backward through an op recorded before the fill raises -------------------------------------


@pytest.mark.parametrize("fill", ALL, ids=NAMES)
def test_backward_after_an_in_place_init_raises(fill):
    w = nn.Parameter(np.ones((3, 2), dtype=np.float32))
    x = Tensor(np.full((3, 2), 2.0, dtype=np.float32), requires_grad=True)
    loss = (x * w).sum()  # Mul's backward needs w as the forward saw it
    fill(w)
    with pytest.raises(RuntimeError, match=r"Mul.backward needs input 1 .* modified in place since"):
        loss.backward()


# --- what is refused ----------------------------------------------------------------------------


@pytest.mark.parametrize("fill", ALL[3:], ids=NAMES[3:])
def test_a_non_float_tensor_is_refused_by_the_random_ones(fill):
    with pytest.raises(TypeError, match=r"init\.\w+_: the tensor must have a float dtype .* got int64"):
        fill(Tensor(np.zeros((3, 2), dtype=np.int64)))


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint8, np.bool_])
def test_zeros_ones_and_constant_fill_integer_and_bool_tensors_as_pytorch(torch, dtype):
    theirs_dtype = getattr(torch, "bool" if dtype == np.bool_ else np.dtype(dtype).name)
    for fill, torch_fill in [
        (init.zeros_, torch.nn.init.zeros_),
        (init.ones_, torch.nn.init.ones_),
        (lambda t: init.constant_(t, 1), lambda t: torch.nn.init.constant_(t, 1)),
        (lambda t: init.constant_(t, 0.0), lambda t: torch.nn.init.constant_(t, 0.0)),
    ]:
        ours = Tensor(np.full((2, 3), 1, dtype=dtype) if dtype != np.bool_ else np.zeros((2, 3), bool))
        theirs = torch.tensor(ours.data.copy(), dtype=theirs_dtype)
        array = ours.data
        assert fill(ours) is ours and ours.data is array  # in place, the dtype kept
        torch_fill(theirs)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.dtype == theirs.numpy().dtype


@pytest.mark.parametrize(
    "dtype, val", [(np.int32, 2.5), (np.int8, 128), (np.uint8, -1), (np.int64, math.nan), (np.bool_, 2)]
)
def test_constant_refuses_a_value_an_integer_tensor_cannot_hold(dtype, val):
    t = Tensor(np.zeros(3, dtype=dtype))
    # PyTorch writes 2.5 into an int32 tensor as 2, and 128 into int8 as -128
    with pytest.raises(ValueError, match=rf"init.constant_: val={val!r} does not fit the tensor's dtype"):
        init.constant_(t, val)
    np.testing.assert_array_equal(t.data, np.zeros(3, dtype=dtype))


@pytest.mark.parametrize(("fill", "name"), list(zip(ALL, NAMES)), ids=NAMES)
def test_a_shape_or_an_array_is_refused_with_the_shape_based_spelling(fill, name):
    with pytest.raises(TypeError, match=rf"init.{name}: expected a Tensor or Parameter to fill in place"):
        fill((3, 2))
    with pytest.raises(TypeError, match=r"got an ndarray of shape \(3, 2\); for a new array of a shape"):
        fill(np.zeros((3, 2)))


def test_a_tensor_made_by_an_op_is_refused():
    y = nn.Parameter(np.ones((2, 2))) * 2
    with pytest.raises(RuntimeError, match=r"init.zeros_: this tensor .* made by Mul .*expected a Parameter"):
        init.zeros_(y)


@pytest.mark.parametrize(
    ("fill", "shape", "fan"),
    [
        (init.kaiming_normal_, (3, 0), "fan_in"),
        (init.kaiming_uniform_, (3, 0), "fan_in"),
        (lambda t: init.kaiming_normal_(t, mode="fan_out"), (0, 3), "fan_out"),
        (init.xavier_uniform_, (0, 0), "fan_in \\+ fan_out"),
        (init.xavier_normal_, (0, 0, 3), "fan_in \\+ fan_out"),
    ],
)
def test_a_zero_fan_is_refused(fill, shape, fan):
    with pytest.raises(ValueError, match=rf"init\.\w+_: shape \({shape[0]}, .* has {fan} = 0, which the"):
        fill(big(shape))


def test_an_empty_weight_with_non_zero_fans_stays_empty():
    assert init.kaiming_normal_(big((0, 3))).shape == (0, 3)
    assert init.xavier_uniform_(big((3, 0))).shape == (3, 0)


@pytest.mark.parametrize("fill", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                                  init.kaiming_normal_])  # fmt: skip
def test_a_bias_has_no_fans_as_in_pytorch(fill):
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(shape \(3,\)\), as in PyTorch; .*_"):
        fill(nn.Linear(2, 3).bias)


def test_bad_arguments_are_named():
    p = big((3, 2))
    with pytest.raises(ValueError, match=r"init.kaiming_normal_: mode must be 'fan_in' or 'fan_out', got"):
        init.kaiming_normal_(p, mode="in")
    with pytest.raises(ValueError, match=r"init.kaiming_uniform_: unsupported nonlinearity 'gelu'; expected"):
        init.kaiming_uniform_(p, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"init.calculate_gain: unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match=r"init.calculate_gain: the negative slope \(param\) must be a"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match=r"init.normal_: std must be at least 0, got -1.0"):
        init.normal_(p, 0.0, -1.0)
    with pytest.raises(ValueError, match=r"init.uniform_: expected a <= b .* got a=1.0 > b=0.0"):
        init.uniform_(p, 1.0, 0.0)
    with pytest.raises(TypeError, match=r"init.constant_: val must be a number, got str"):
        init.constant_(p, "1")
    with pytest.raises(TypeError, match=r"init.xavier_normal_: rng must be a np.random.Generator"):
        init.xavier_normal_(p, 1.0, 42)
    assert (p.data == 0).all()  # nothing was written by a refused call


def test_a_shape_function_given_a_parameter_names_the_in_place_one():
    with pytest.raises(TypeError, match=r"write nn.init.kaiming_normal_\(p, nonlinearity=\"relu\"\) or"):
        init.he_normal(nn.Linear(2, 3).weight)
    with pytest.raises(TypeError, match=r"write nn.init.zeros_\(p\) or p.data\[...\] = nn.init.zeros\(p"):
        init.zeros(nn.Linear(2, 3).bias)


# --- against PyTorch ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(400, 500), (30, 20, 3, 3), (7, 1)])
@pytest.mark.parametrize(("a", "mode", "nonlinearity", "gain"), KAIMING)
def test_kaiming_std_is_pytorchs(torch, shape, a, mode, nonlinearity, gain):
    t = torch.empty(shape)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    assert init.fans(shape) == (fan_in, fan_out)
    assert torch.nn.init._calculate_correct_fan(t, mode) == (fan_in if mode == "fan_in" else fan_out)
    assert math.isclose(torch.nn.init.calculate_gain(nonlinearity, a), gain)
    assert math.isclose(init.calculate_gain(nonlinearity, a), torch.nn.init.calculate_gain(nonlinearity, a))
    std = gain / math.sqrt(torch.nn.init._calculate_correct_fan(t, mode))
    if math.prod(shape) < 10_000:
        return  # too few samples for the statistics below
    torch.manual_seed(0)
    theirs_u = torch.nn.init.kaiming_uniform_(t.clone().double(), a=a, mode=mode, nonlinearity=nonlinearity)
    ours_u = init.kaiming_uniform_(big(shape, np.float64), a=a, mode=mode, nonlinearity=nonlinearity).data
    bound = math.sqrt(3.0) * std
    assert theirs_u.abs().max().item() <= bound and np.abs(ours_u).max() <= bound
    assert abs(ours_u.std() / theirs_u.std().item() - 1) < 0.02
    theirs_n = torch.nn.init.kaiming_normal_(t.clone(), a=a, mode=mode, nonlinearity=nonlinearity)
    ours_n = init.kaiming_normal_(big(shape), a=a, mode=mode, nonlinearity=nonlinearity).data
    assert abs(ours_n.std() / theirs_n.std().item() - 1) < 0.02
    assert abs(ours_n.std() / std - 1) < 0.01


@pytest.mark.parametrize("shape", [(400, 500), (30, 20, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_std_is_pytorchs(torch, shape, gain):
    t = torch.empty(shape, dtype=torch.float64)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    torch.manual_seed(0)
    theirs = torch.nn.init.xavier_uniform_(t, gain=gain)
    ours = init.xavier_uniform_(big(shape, np.float64), gain=gain).data
    assert theirs.abs().max().item() <= bound and np.abs(ours).max() <= bound
    assert abs(ours.std() / theirs.std().item() - 1) < 0.02
    theirs = torch.nn.init.xavier_normal_(t, gain=gain)
    ours = init.xavier_normal_(big(shape), gain=gain).data
    assert abs(ours.std() / theirs.std().item() - 1) < 0.02


def test_normal_uniform_and_constants_are_pytorchs(torch):
    torch.manual_seed(0)
    t = torch.empty(SHAPE, dtype=torch.float64)
    theirs = torch.nn.init.normal_(t.clone(), mean=3.0, std=2.0)
    ours = init.normal_(big(dtype=np.float64), mean=3.0, std=2.0).data
    assert abs(ours.mean() - theirs.mean().item()) < 0.03 and abs(ours.std() / theirs.std().item() - 1) < 0.02
    theirs = torch.nn.init.uniform_(t.clone(), a=-1.0, b=3.0)
    ours = init.uniform_(big(dtype=np.float64), a=-1.0, b=3.0).data
    assert theirs.min().item() >= -1 and theirs.max().item() <= 3 and ours.min() >= -1 and ours.max() <= 3
    assert abs(ours.std() / theirs.std().item() - 1) < 0.02
    for name, args in (("zeros_", ()), ("ones_", ()), ("constant_", (0.25,))):
        theirs = getattr(torch.nn.init, name)(torch.empty(2, 3), *args)
        np.testing.assert_array_equal(getattr(init, name)(big((2, 3)), *args).data, theirs.numpy())


def test_pytorch_refuses_a_bias_too(torch):
    for name in ("xavier_uniform_", "kaiming_normal_"):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            getattr(torch.nn.init, name)(torch.empty(3))
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            getattr(init, name)(big((3,)))


def test_pytorch_backward_after_an_in_place_init_raises_too(torch):
    w = torch.nn.Parameter(torch.ones(3, 2))
    x = torch.full((3, 2), 2.0, requires_grad=True)
    loss = (x * w).sum()
    torch.nn.init.zeros_(w)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()

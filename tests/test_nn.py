"""nn: Parameter, Module (registration, walking, modes, state dicts, repr), Sequential, layers, init.

Expected values are numpy formulas written here; gradients are checked by
float64 finite differences (``gradcheck``). Losses are in ``test_losses.py``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Iterator

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.gradcheck import gradcheck, gradgradcheck
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init


@pytest.fixture
def float64_default() -> Iterator[None]:
    previous = tg.get_default_dtype()
    tg.set_default_dtype(np.float64)
    yield
    tg.set_default_dtype(previous)


def mlp(seed: int = 0, dtype: Any = np.float64) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 5, rng=rng, dtype=dtype), nn.Tanh(), nn.Linear(5, 3, rng=rng, dtype=dtype)
    )


class TwoLayer(nn.Module):
    """Registration order differs from alphabetical order on purpose."""

    def __init__(self) -> None:
        super().__init__()
        self.zeta = nn.Parameter(np.zeros(2))
        self.hidden = nn.Linear(3, 2, dtype=np.float64)
        self.alpha = nn.Parameter(np.ones(1))
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(2, 1, dtype=np.float64))
        self.label = "plain attribute"

    def forward(self, x: Any) -> Tensor:
        return self.out(self.hidden(x) + self.zeta) * self.alpha


# --- Parameter --------------------------------------------------------------------------


def test_parameter_copies_its_data_and_requires_grad() -> None:
    user = np.array([1.0, 2.0, 3.0])
    p = nn.Parameter(user)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.dtype == np.float64  # a float ndarray keeps its dtype
    p.data -= 1.0  # what an optimizer does
    np.testing.assert_array_equal(user, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(p.data, [0.0, 1.0, 2.0])


def test_a_models_parameters_lie_side_by_side_in_one_block() -> None:
    """nn.Parameter cuts each new array from a shared block (what lets optimizers update a small
    model in place as one array); each is still a C-contiguous array of its own."""
    model = mlp()
    arrays = [p.data for p in model.parameters()]
    addresses = [a.__array_interface__["data"][0] for a in arrays]
    assert all(a.base is arrays[0].base and a.flags.c_contiguous and a.flags.writeable for a in arrays)
    assert addresses == [addresses[0] + sum(a.nbytes for a in arrays[:i]) for i in range(len(arrays))]
    assert [p.shape for p in model.parameters()] == [(5, 2), (5,), (3, 5), (3,)]
    before = [a.copy() for a in arrays]
    model[0].weight.data[...] = 7.0  # writing one parameter leaves its neighbours alone
    np.testing.assert_array_equal(model[0].bias.data, before[1])
    np.testing.assert_array_equal(model[2].weight.data, before[2])


def test_large_and_empty_parameters_get_arrays_of_their_own() -> None:
    from tinygrad_edu.nn.module import _Blocks

    big = nn.Parameter(np.ones(_Blocks.LARGE + 1))
    assert big.data.base is None and big.data.flags.c_contiguous
    assert nn.Parameter(np.ones((0, 3))).shape == (0, 3)


def test_a_full_block_is_followed_by_a_new_one() -> None:
    from tinygrad_edu.nn.module import _Blocks

    blocks = _Blocks()
    f64 = np.dtype(np.float64)
    first = blocks.take((3,), f64)
    rest = [blocks.take((_Blocks.LARGE,), f64) for _ in range(_Blocks.BLOCK // _Blocks.LARGE)]
    assert first.base is rest[0].base and rest[-1].base is not first.base  # the last one did not fit
    taken = [first, *rest]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(taken) for b in taken[i + 1 :])
    other = blocks.take((2, 2), np.dtype(np.float32))
    assert other.dtype == np.float32 and other.base is not first.base  # one block per dtype


def test_parameters_made_in_threads_never_share_memory() -> None:
    import threading

    made: list[nn.Parameter] = []

    def work() -> None:
        mine = [nn.Parameter(np.zeros(7)) for _ in range(200)]
        made.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts = sorted(p.data.__array_interface__["data"][0] for p in made)
    assert len(set(starts)) == 800
    assert all(b - a >= 7 * 8 for a, b in zip(starts, starts[1:]))  # no two overlap


def test_parameter_dtypes() -> None:
    assert nn.Parameter([1, 2]).dtype == tg.get_default_dtype()  # lists: the default dtype
    assert nn.Parameter(np.arange(3)).dtype == tg.get_default_dtype()  # integers become float
    assert nn.Parameter(np.ones(2, np.float32)).dtype == np.float32
    assert nn.Parameter(np.ones(2, np.float32), dtype=np.float64).dtype == np.float64
    t = Tensor(np.ones(2))
    p = nn.Parameter(t)
    p.data[0] = 5.0
    assert t.data[0] == 1.0  # a Tensor is copied too
    with pytest.raises(TypeError, match="Parameter"):
        nn.Parameter("abc")
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.ones(2), dtype=np.int64)


def test_parameter_default_dtype_follows_setting(float64_default: None) -> None:
    assert nn.Parameter([1.0]).dtype == np.float64
    assert nn.Linear(2, 3).weight.dtype == np.float64


def test_parameter_repr() -> None:
    assert repr(nn.Parameter(np.array([1.0, 2.0], np.float32))).startswith("Parameter([1., 2.]")


# --- Module: registration ------------------------------------------------------------------


def test_registration_keeps_insertion_order() -> None:
    net = TwoLayer()
    names = [n for n, _ in net.named_parameters()]
    # own parameters first (in assignment order), then each child's, as PyTorch does
    assert names == ["zeta", "alpha", "hidden.weight", "hidden.bias", "out.1.weight", "out.1.bias"]
    assert [n for n, _ in net.named_children()] == ["hidden", "out"]
    assert [type(m).__name__ for m in net.modules()] == ["TwoLayer", "Linear", "Sequential", "ReLU", "Linear"]
    assert [n for n, _ in net.named_modules()] == ["", "hidden", "out", "out.0", "out.1"]
    assert list(net.parameters())[2] is net.hidden.weight
    assert net.label == "plain attribute"


def test_replacing_a_parameter_keeps_its_place() -> None:
    net = TwoLayer()
    net.zeta = nn.Parameter(np.ones(2))
    assert [n for n, _ in net.named_parameters()][:2] == ["zeta", "alpha"]
    np.testing.assert_array_equal(net.zeta.data, [1.0, 1.0])


def test_unknown_attribute_raises_attribute_error() -> None:
    net = TwoLayer()
    with pytest.raises(AttributeError, match="'TwoLayer' object has no attribute 'hiden'"):
        net.hiden  # noqa: B018
    assert not hasattr(net, "weights")


def test_assigning_before_super_init_is_a_clear_error() -> None:
    class Forgetful(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgetful()


def test_assigning_a_plain_tensor_to_a_parameter_name_is_an_error() -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = Tensor(np.zeros((2, 2)))
    lin.bias = None  # allowed: removes the parameter
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    assert lin.bias is None
    with pytest.raises(TypeError, match="sub-module 'out'"):
        TwoLayer().out = 3


def test_a_list_of_modules_is_refused_with_a_hint() -> None:
    class Hidden(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="ModuleList"):
        Hidden()


def test_module_list_registers_its_items() -> None:
    class Stack(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x: Any) -> Tensor:
            for layer in self.layers:
                x = layer(x)
            return x

    s = Stack()
    assert len(s.layers) == 3 and s.layers[-1] is list(s.layers)[2]
    assert [n for n, _ in s.named_parameters()][:3] == ["layers.0.weight", "layers.0.bias", "layers.1.weight"]
    assert s(np.ones((4, 2), np.float32)).shape == (4, 2)


def test_shared_parameters_are_listed_once() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert model.num_parameters() == 12
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # like PyTorch


def test_delattr_unregisters() -> None:
    net = TwoLayer()
    del net.alpha
    del net.out
    assert [n for n, _ in net.named_parameters()] == ["zeta", "hidden.weight", "hidden.bias"]
    with pytest.raises(AttributeError):
        net.alpha  # noqa: B018


def test_forward_must_be_written() -> None:
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty.forward"):
        Empty()(1.0)


# --- Module: walking, grads, modes ----------------------------------------------------------


def test_num_parameters() -> None:
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1))
    assert model.num_parameters() == (2 * 5 + 5) + (5 * 1 + 1)
    assert nn.BatchNorm1d(4).num_parameters() == 8  # running statistics are not parameters
    model[0].requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 6


def test_zero_grad_sets_grads_to_none() -> None:
    model = mlp()
    model(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_reach_every_module() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].train(False)
    assert model.training and not model[1][0].training and not model[1][1].training
    with pytest.raises(TypeError, match="True or False"):
        model.train("no")


def test_apply_and_to() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Sequential"]  # children in order, then the module itself
    model.apply(lambda m: m.weight.data.fill(0.5) if isinstance(m, nn.Linear) else None)
    assert np.all(model[0].weight.data == 0.5)
    model.to(np.float64)
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_var.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # integer buffers stay integer
    with pytest.raises(TypeError, match="float dtype"):
        model.to(np.int32)


def test_apply_visits_children_in_order_then_the_module_as_pytorch_does() -> None:
    """torch.nn.Sequential(Linear(2, 3), Linear(3, 1)).apply(fn) calls fn on the 3-output layer,
    the 1-output one, then the Sequential; nested modules are visited depth first, post-order."""
    flat = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    seen: list[Any] = []
    flat.apply(lambda m: seen.append(getattr(m, "out_features", "Seq")))
    assert seen == [3, 1, "Seq"]
    first, second = nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Sequential(nn.Linear(3, 3))
    nested = nn.Sequential(first, second, nn.Linear(3, 4))
    names: list[str] = []
    nested.apply(lambda m: names.append(type(m).__name__ + str(getattr(m, "out_features", ""))))
    # torch's order for the same model:
    assert names == ["Linear3", "ReLU", "Sequential", "Linear3", "Sequential", "Linear4", "Sequential"]
    shared = nn.Linear(1, 1)
    twice = nn.Sequential(nn.Sequential(shared), nn.Sequential(shared))
    visits: list[nn.Module] = []
    twice.apply(visits.append)
    assert visits == [shared, twice[0], twice[1], twice]  # once, where torch visits it under each parent
    assert nested.apply(lambda m: None) is nested


def test_apply_gives_a_custom_init_its_draws_in_layer_order() -> None:
    """An init drawing from one rng: the first layer gets the first numbers, as the course's
    initialize_parameters draws W1 before W2."""
    model = nn.Sequential(nn.Linear(2, 4, dtype=np.float64), nn.ReLU(), nn.Linear(4, 1, dtype=np.float64))
    rng = np.random.default_rng(3)

    def redraw(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            m.weight.data[...] = rng.standard_normal(m.weight.shape) * 0.01

    model.apply(redraw)
    course = np.random.default_rng(3)
    np.testing.assert_array_equal(model[0].weight.data, course.standard_normal((4, 2)) * 0.01)
    np.testing.assert_array_equal(model[2].weight.data, course.standard_normal((1, 4)) * 0.01)


# --- Module: state dicts --------------------------------------------------------------------


def test_state_dict_holds_copies_of_parameters_and_buffers() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    sd = model.state_dict()
    assert list(sd) == [
        "0.weight", "0.bias", "1.weight", "1.bias",
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
    ]  # fmt: skip
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    np.testing.assert_array_equal(sd["0.weight"], model[0].weight.data)
    sd["0.weight"][...] = 7.0
    assert not np.any(model[0].weight.data == 7.0)


def test_state_dict_round_trip_gives_the_same_function() -> None:
    x = np.random.default_rng(1).standard_normal((6, 2))
    a, b = mlp(seed=1), mlp(seed=2)
    assert not np.allclose(a(x).data, b(x).data)
    weight_before = b[0].weight
    sd = a.state_dict()
    missing, unexpected = b.load_state_dict(sd)
    assert missing == [] and unexpected == []
    np.testing.assert_array_equal(b(x).data, a(x).data)
    assert b[0].weight is weight_before  # copied in: optimizers keep their references
    sd["0.weight"][...] = 0.0
    assert np.any(b[0].weight.data != 0.0)  # and the dict can be changed afterwards


def test_state_dict_round_trip_through_a_checkpoint_file(tmp_path: Any) -> None:
    from tinygrad_edu.serialization import load, save

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))  # moves running stats
    save(model.state_dict(), tmp_path / "model.npz")
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(load(tmp_path / "model.npz"))
    for (k, v), (k2, v2) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert k == k2 and v.dtype == v2.dtype
        np.testing.assert_array_equal(v, v2)


def test_load_state_dict_casts_into_the_model_dtype() -> None:
    model = nn.Linear(2, 2, dtype=np.float32)
    model.load_state_dict({"weight": np.ones((2, 2)), "bias": Tensor(np.array([1.0, 2.0]))})
    assert model.weight.dtype == np.float32 and model.bias.dtype == np.float32
    np.testing.assert_array_equal(model.bias.data, [1.0, 2.0])


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("num_batches_tracked", 2.7, "2.7 is not a whole number"),  # numpy's cast: 2
        ("num_batches_tracked", np.nan, "cannot convert nan to int64"),  # numpy's: -2**63
        ("running_mean", [1e300, 0.0, 0.0], "1e+300 does not fit in float32"),  # numpy's: inf
    ],
)
def test_load_state_dict_refuses_values_the_model_dtype_would_change(key, value, words) -> None:
    bn = nn.BatchNorm1d(3)
    state = bn.state_dict()
    state[key] = np.asarray(value, dtype=np.float64)
    before = bn.state_dict()
    with pytest.raises(RuntimeError, match=re.escape(words)):
        bn.load_state_dict(state)
    assert all(np.array_equal(bn.state_dict()[k], before[k]) for k in before)  # nothing changed
    state[key] = np.zeros_like(state[key])  # whole, finite numbers load
    bn.load_state_dict(state)


def test_load_state_dict_missing_key() -> None:
    model = mlp()
    sd = model.state_dict()
    del sd["2.bias"]
    with pytest.raises(RuntimeError, match=r"missing keys.*'2.bias'"):
        model.load_state_dict(sd)


def test_load_state_dict_unexpected_key() -> None:
    model = mlp()
    sd = model.state_dict()
    sd["3.weight"] = np.zeros((1, 3))
    with pytest.raises(RuntimeError, match=r"unexpected keys.*'3.weight'"):
        model.load_state_dict(sd)


def test_load_state_dict_wrong_shape_names_key_and_shapes() -> None:
    model = mlp()
    sd = model.state_dict()
    sd["0.weight"] = np.zeros((2, 5))
    with pytest.raises(RuntimeError, match=r"'0.weight'.*\(2, 5\).*\(5, 2\)"):
        model.load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(sd, strict=False)  # a wrong shape is an error even when not strict


def test_failed_load_changes_nothing() -> None:
    model = mlp(seed=3)
    before = model.state_dict()
    sd = mlp(seed=4).state_dict()
    sd["2.bias"] = np.zeros(7)  # one bad entry among good ones
    with pytest.raises(RuntimeError, match="nothing was changed"):
        model.load_state_dict(sd)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_returns_missing_and_unexpected() -> None:
    source = mlp(seed=5)
    target = mlp(seed=6)
    sd = {"0.weight": source.state_dict()["0.weight"], "extra": np.zeros(1)}
    missing, unexpected = target.load_state_dict(sd, strict=False)
    assert missing == ["0.bias", "2.weight", "2.bias"] and unexpected == ["extra"]
    np.testing.assert_array_equal(target[0].weight.data, source[0].weight.data)


def test_load_state_dict_bad_inputs() -> None:
    with pytest.raises(TypeError, match="dict"):
        mlp().load_state_dict([("0.weight", np.zeros((5, 2)))])
    sd = mlp().state_dict()
    sd["0.bias"] = np.array(["a"] * 5)
    with pytest.raises(RuntimeError, match="'0.bias' has dtype"):
        mlp().load_state_dict(sd)


def test_deepcopy_gives_an_independent_model() -> None:
    import copy

    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    clone = copy.deepcopy(model)
    assert clone[0].weight is not model[0].weight
    clone[0].weight.data += 1.0
    clone[1].running_mean.data += 1.0
    assert not np.array_equal(clone.state_dict()["0.weight"], model.state_dict()["0.weight"])
    assert np.all(model[1].running_mean.data == 0)


def test_register_buffer() -> None:
    class Counter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("count", np.zeros(1))
            self.register_buffer("unused", None)

    c = Counter()
    assert [n for n, _ in c.named_buffers()] == ["count"] and c.unused is None
    c.count = np.ones(1)  # assigning replaces the buffer, which stays registered
    np.testing.assert_array_equal(c.state_dict()["count"], [1.0])
    assert "count" in dir(c)


def test_buffer_registered_as_none_is_saved_once_assigned() -> None:
    class Running(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("running", None)

        def forward(self, x: Tensor) -> Tensor:
            self.running = x.mean(axis=0).data  # the buffer's first value, made on first use
            return x

    m = Running()
    assert m.state_dict() == {} and list(m.buffers()) == [] and m.running is None
    m(Tensor(np.ones((3, 2))))
    assert isinstance(m.running, Tensor) and [n for n, _ in m.named_buffers()] == ["running"]
    np.testing.assert_array_equal(m.state_dict()["running"], [1.0, 1.0])
    fresh = Running()
    fresh.running = np.zeros(2)
    fresh.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(fresh.running.data, [1.0, 1.0])
    m.running = None  # None again: still a buffer, left out of state_dict until it holds an array
    assert m.state_dict() == {} and "running" in m._buffers


# --- Module: repr -----------------------------------------------------------------------------


def test_repr_is_a_tree() -> None:
    model = nn.Sequential(
        nn.Linear(2, 5), nn.ReLU(), nn.Dropout(0.25), nn.Sequential(nn.BatchNorm1d(5), nn.Sigmoid())
    )
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=5, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.25)\n"
        "  (3): Sequential(\n"
        "    (0): BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")"
    )
    assert repr(TwoLayer()).startswith("TwoLayer(\n  (hidden): Linear(in_features=3, out_features=2")
    assert repr(nn.Linear(3, 1, bias=False)) == "Linear(in_features=3, out_features=1, bias=False)"


# --- Sequential -------------------------------------------------------------------------------


def test_sequential_is_a_list_of_modules() -> None:
    a, r, b = nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)
    model = nn.Sequential(a, r, b)
    assert len(model) == 3
    assert model[0] is a and model[-1] is b and list(model) == [a, r, b]
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and tail[1] is b
    assert [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias"]  # original names, like PyTorch
    assert model.append(nn.Sigmoid()) is model and len(model) == 4
    assert [n for n, _ in model.named_children()] == ["0", "1", "2", "3"]
    model.extend([nn.Identity()])
    assert isinstance(model[4], nn.Identity)
    model[1] = nn.Tanh()
    assert isinstance(model[1], nn.Tanh)
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    with pytest.raises(TypeError, match="integers or slices"):
        model["0"]


def test_sequential_forward_composes() -> None:
    model = mlp(seed=7)
    x = np.random.default_rng(7).standard_normal((4, 2))
    w1, b1 = model[0].weight.data, model[0].bias.data
    w2, b2 = model[2].weight.data, model[2].bias.data
    want = np.tanh(x @ w1.T + b1) @ w2.T + b2
    np.testing.assert_allclose(model(x).data, want, rtol=1e-12)


def test_sequential_from_a_dict_uses_its_names() -> None:
    model = nn.Sequential({"hidden": nn.Linear(2, 3), "act": nn.ReLU()})
    assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]


def test_sequential_rejects_non_modules() -> None:
    with pytest.raises(TypeError, match=r"class ReLU, not a module; write ReLU\(\)"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)
    with pytest.raises(TypeError, match="item 0 is a function"):
        nn.Sequential(lambda x: x)


def test_layer_is_module() -> None:
    assert nn.Layer is nn.Module


# --- Linear -------------------------------------------------------------------------------------


def test_linear_shapes_dtype_and_zero_bias() -> None:
    lin = nn.Linear(3, 4)
    assert lin.weight.shape == (4, 3) and lin.bias.shape == (4,)
    assert lin.weight.dtype == tg.get_default_dtype() and lin.bias.dtype == tg.get_default_dtype()
    assert np.all(lin.bias.data == 0)
    assert nn.Linear(3, 4, dtype=np.float64).weight.dtype == np.float64
    no_bias = nn.Linear(3, 4, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]


def test_linear_forward_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    lin = nn.Linear(3, 4, dtype=np.float64)
    lin.bias.data[:] = rng.standard_normal(4)
    w, b = lin.weight.data, lin.bias.data
    x = rng.standard_normal((5, 3))
    np.testing.assert_allclose(lin(x).data, x @ w.T + b, rtol=1e-12)
    np.testing.assert_allclose(lin(Tensor(x[0])).data, w @ x[0] + b, rtol=1e-12)  # one sample
    x3 = rng.standard_normal((2, 5, 3))
    np.testing.assert_allclose(lin(x3).data, np.einsum("nsi,oi->nso", x3, w) + b, rtol=1e-12)
    no_bias = nn.Linear(3, 4, bias=False, dtype=np.float64)
    np.testing.assert_allclose(no_bias(x).data, x @ no_bias.weight.data.T, rtol=1e-12)


def test_linear_is_one_graph_node() -> None:
    lin = nn.Linear(3, 2)
    out = lin(np.ones((4, 3), np.float32))
    assert type(out.grad_fn).__name__ == "Linear"


def recorded_ops(out: Tensor) -> list[str]:
    """The names of the ops that made ``out``, from the output back (one path: a chain)."""
    names = []
    fn = out.grad_fn
    while fn is not None:
        names.append(type(fn).__name__)
        fn = next((t.grad_fn for t in fn.inputs if t.grad_fn is not None), None)
    return names


def relu_mlp(bias: bool = True) -> nn.Sequential:
    tg.manual_seed(4)
    return nn.Sequential(
        nn.Linear(3, 5, bias=bias, dtype=np.float64), nn.ReLU(),
        nn.Linear(5, 4, dtype=np.float64), nn.ReLU(),
        nn.Linear(4, 2, dtype=np.float64), nn.Tanh(),
    )


def test_sequential_runs_exactly_the_modules_it_shows() -> None:
    model = relu_mlp()
    calls = []
    for m in model:
        m.forward = (lambda f, name: lambda x: (calls.append(name), f(x))[1])(m.forward, type(m).__name__)
    out = model(np.ones((2, 3)))
    assert calls == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"]  # ReLU's forward runs
    assert recorded_ops(out) == ["Tanh", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert "fuse" not in dir(model)


def test_sequential_follows_changes_to_its_modules() -> None:
    model = relu_mlp()
    x = np.ones((2, 3))
    model[1] = nn.Sigmoid()
    assert recorded_ops(model(x))[-2:] == ["Sigmoid", "Linear"]
    model.append(nn.Linear(2, 2, dtype=np.float64)).append(nn.ReLU())
    assert recorded_ops(model(x))[:2] == ["ReLU", "Linear"]
    del model[7]
    assert recorded_ops(model(x))[:2] == ["Linear", "Tanh"]


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_linear_relu_module_is_one_op_with_the_values_and_gradients_of_linear_then_relu(bias: bool) -> None:
    tg.manual_seed(4)
    fused = nn.LinearReLU(3, 5, bias=bias, dtype=np.float64)
    separate = nn.Sequential(nn.Linear(3, 5, bias=bias, dtype=np.float64), nn.ReLU())
    separate[0].load_state_dict(fused.state_dict())
    x = np.random.default_rng(2).standard_normal((6, 3))
    runs = []
    for model in (fused, separate):
        out = model(x)
        ops = recorded_ops(out)
        out.backward(np.linspace(-1, 1, out.size).reshape(out.shape))
        runs.append((ops, out.data, [p.grad.data for p in model.parameters()]))
    assert runs[0][0] == ["LinearReLU"] and runs[1][0] == ["ReLU", "Linear"]
    weight, b = fused.weight.data, (fused.bias.data if bias else 0.0)
    np.testing.assert_allclose(runs[0][1], np.maximum(x @ weight.T + b, 0), rtol=1e-12)
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    for a, c in zip(runs[0][2], runs[1][2]):
        np.testing.assert_array_equal(a, c)
    assert repr(fused) == f"LinearReLU(in_features=3, out_features=5, bias={bias})"


def _message_of(call: Any) -> tuple[type, str]:
    with pytest.raises(Exception) as info:
        call()
    return info.type, str(info.value)


def test_an_error_inside_a_sequential_names_the_layer_and_keeps_type_and_message() -> None:
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(15, 1))
    x = np.ones((2, 3), np.float32)
    hidden = model[1](model[0](x))
    direct_type, direct = _message_of(lambda: model[2](hidden))  # the layer on its own
    kind, message = _message_of(lambda: model(x))
    assert kind is direct_type
    assert message == f"Sequential[2] Linear(in_features=15, out_features=1, bias=True): {direct}"
    kind, message = _message_of(lambda: model(np.ones((2, 4), np.float32)))
    assert message.startswith("Sequential[0] Linear(in_features=3, out_features=16, bias=True): ")
    assert "(2, 4)" in message


def test_errors_in_nested_and_named_sequentials_chain_their_places() -> None:
    tg.manual_seed(0)
    inner = nn.Sequential(nn.ReLU(), nn.Linear(5, 1))
    model = nn.Sequential({"hidden": nn.Linear(3, 4), "head": inner})
    x = np.ones((2, 3), np.float32)
    _, direct = _message_of(lambda: inner[1](model.hidden(x)))
    kind, message = _message_of(lambda: model(x))
    assert message == (
        "Sequential[1] ('head') > Sequential[1] Linear(in_features=5, out_features=1, bias=True): " + direct
    )


def test_an_error_type_that_takes_more_than_a_message_is_kept_with_a_note() -> None:
    class Picky(nn.Module):
        def forward(self, x: Any) -> Any:
            b"\xff".decode("utf-8")

    model = nn.Sequential(nn.Identity(), Picky())
    with pytest.raises(UnicodeDecodeError) as info:
        model(np.ones(2))
    if hasattr(info.value, "add_note"):
        assert info.value.__notes__[-1].startswith("Sequential[1] Picky(): ")


def test_a_module_error_keeps_its_traceback_to_the_failing_line() -> None:
    class Broken(nn.Module):
        def forward(self, x: Any) -> Any:
            raise KeyError("no such column")

    with pytest.raises(KeyError) as info:
        nn.Sequential(Broken())(np.ones(2))
    assert str(info.value) == "'Sequential[0] Broken(): no such column'"
    assert info.traceback[-1].name == "forward"


def test_linear_relu_op_gradients() -> None:
    rng = np.random.default_rng(5)
    x, w, b = (Tensor(rng.standard_normal(s), requires_grad=True) for s in [(4, 3), (2, 3), (2,)])
    out = F.linear_relu(x, w, b)
    z = x.data @ w.data.T + b.data
    np.testing.assert_allclose(out.data, np.maximum(z, 0), rtol=1e-12)
    assert gradcheck(F.linear_relu, [x, w, b])


def test_linear_gradients_and_second_derivatives() -> None:
    rng = np.random.default_rng(1)
    lin = nn.Linear(3, 2, dtype=np.float64)
    lin.bias.data[:] = rng.standard_normal(2)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda x, w, b: lin(x), [x, lin.weight, lin.bias])
    assert gradgradcheck(lambda x, w, b: lin(x).tanh(), [x, lin.weight, lin.bias])


def test_linear_gradient_formulas() -> None:
    rng = np.random.default_rng(2)
    lin = nn.Linear(3, 2, dtype=np.float64)
    x = rng.standard_normal((5, 3))
    g = rng.standard_normal((5, 2))
    xt = Tensor(x, requires_grad=True)
    lin(xt).backward(g)
    np.testing.assert_allclose(xt.grad.data, g @ lin.weight.data, rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.data, g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.data, g.sum(axis=0), rtol=1e-12)


def test_linear_wrong_input_size_names_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"Linear.*\(4, 5\).*in_features = 3"):
        nn.Linear(3, 2)(np.ones((4, 5), np.float32))


def test_linear_argument_errors() -> None:
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="out_features"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match="unknown init 'kaiming'"):
        nn.Linear(2, 2, init="kaiming")


@pytest.mark.parametrize(
    ("name", "std"),
    [("he", lambda i, o: math.sqrt(2 / i)), ("xavier", lambda i, o: math.sqrt(2 / (i + o))),
     ("normal", lambda i, o: 0.01)],
)  # fmt: skip
def test_linear_init_formulas(name: str, std: Any) -> None:
    lin = nn.Linear(4, 3, init=name, rng=np.random.default_rng(7), dtype=np.float64)
    want = np.random.default_rng(7).standard_normal((3, 4)) * std(4, 3)
    np.testing.assert_allclose(lin.weight.data, want, rtol=1e-15)


def test_linear_init_reproduces_the_course_with_a_random_state() -> None:
    # the course: np.random.seed(3); W[l] = np.random.randn(n_l, n_(l-1)) * np.sqrt(2 / n_(l-1))
    layer_dims = [2, 4, 1]
    course = np.random.RandomState(3)
    want = [course.randn(layer_dims[i], layer_dims[i - 1]) * np.sqrt(2 / layer_dims[i - 1]) for i in (1, 2)]
    rs = np.random.RandomState(3)
    layers = [nn.Linear(2, 4, rng=rs, dtype=np.float64), nn.Linear(4, 1, rng=rs, dtype=np.float64)]
    for layer, w in zip(layers, want):
        np.testing.assert_array_equal(layer.weight.data, w)


def test_linear_init_uses_the_library_generator() -> None:
    tg.manual_seed(11)
    a = nn.Linear(3, 3).weight.data
    tg.manual_seed(11)
    b = nn.Linear(3, 3).weight.data
    tg.manual_seed(12)
    c = nn.Linear(3, 3).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_linear_accepts_an_init_function() -> None:
    lin = nn.Linear(2, 3, init=init.zeros)
    assert np.all(lin.weight.data == 0)
    lin = nn.Linear(2, 3, init=lambda shape, rng=None, dtype=None: np.full(shape, 0.5, dtype))
    assert np.all(lin.weight.data == 0.5) and lin.weight.dtype == tg.get_default_dtype()


# --- init -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "std"),
    [
        (init.he_normal, math.sqrt(2 / 400)),
        (init.he_uniform, math.sqrt(2 / 400)),
        (init.xavier_normal, math.sqrt(2 / 600)),
        (init.xavier_uniform, math.sqrt(2 / 600)),
        (init.normal, 0.01),
    ],
)
def test_init_statistics(fn: Any, std: float) -> None:
    w = fn((200, 400), rng=np.random.default_rng(0), dtype=np.float64)  # fan_out 200, fan_in 400
    assert w.shape == (200, 400) and w.dtype == np.float64
    assert abs(w.mean()) < 0.02 * std * 10  # 80,000 samples: the mean is within a few std/283
    assert abs(w.std() / std - 1) < 0.02
    if "uniform" in fn.__name__:
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


def test_init_exact_values_and_defaults() -> None:
    w = init.xavier_uniform((3, 5), rng=np.random.default_rng(4), dtype=np.float64)
    a = math.sqrt(6 / 8)
    np.testing.assert_allclose(w, np.random.default_rng(4).uniform(-a, a, (3, 5)), rtol=1e-15)
    assert init.he_normal((2, 3)).dtype == tg.get_default_dtype()
    assert init.zeros(4).shape == (4,) and np.all(init.zeros(4) == 0)
    assert np.all(init.ones((2, 2)) == 1)
    tg.manual_seed(3)
    first = init.he_uniform((4, 4))
    tg.manual_seed(3)
    np.testing.assert_array_equal(first, init.he_uniform((4, 4)))


def test_init_fans() -> None:
    assert init.fans((3, 5)) == (5, 3)  # (fan_in, fan_out) from (out, in)
    assert init.fans(7) == (7, 7)
    assert init.fans((8, 4, 3, 3)) == (36, 72)  # a convolution kernel (out, in, kh, kw)
    with pytest.raises(ValueError, match="scalar shape"):
        init.he_normal(())


# --- activations and Flatten ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "ref"),
    [
        (nn.ReLU(), lambda x: np.where(x > 0, x, 0.0)),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))),
        (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
        (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
        (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
        (nn.Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)),
        (nn.LogSoftmax(), lambda x: x - np.log(np.exp(x).sum(axis=-1, keepdims=True))),
        (nn.Identity(), lambda x: x),
    ],
    ids=lambda v: repr(v) if isinstance(v, nn.Module) else "",
)
def test_activation_layers(layer: nn.Module, ref: Any) -> None:
    x = np.random.default_rng(0).standard_normal((4, 3)) * 2
    np.testing.assert_allclose(layer(x).data, ref(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer(Tensor(x)).data, ref(x), rtol=1e-12, atol=1e-15)


def test_activation_reprs() -> None:
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(axis=0)) == "Softmax(axis=0)"


def test_flatten_keeps_the_batch_axis() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    out = nn.Flatten()(x)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out.data, x.reshape(2, 12))
    assert nn.Flatten()(np.ones((5, 3))).shape == (5, 3)
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten()(np.float64(1.0))


def test_flatten_of_an_empty_batch_is_empty() -> None:
    """torch.nn.Flatten()(torch.ones(0, 2, 3)).shape is (0, 6); reshape(0, -1) cannot infer the 6."""
    out = nn.Flatten()(np.ones((0, 2, 3)))
    assert out.shape == (0, 6)
    assert nn.Flatten()(np.ones((0, 4))).shape == (0, 4)
    assert nn.Flatten()(np.ones((3, 0, 2))).shape == (3, 0)


@pytest.mark.parametrize("shape", [(4,), (0,), ()])
def test_flatten_refuses_fewer_than_two_axes(shape: tuple) -> None:
    """A 1-D input has no axis after the batch's; (4,) became (4, 1). torch raises IndexError."""
    want = rf"^Flatten: input has shape {re.escape(str(shape))}; expected a batch \(N, d1, \.\.\.\)"
    with pytest.raises(ValueError, match=want + " of at least 2 axes"):
        nn.Flatten()(np.ones(shape))


# --- Dropout ---------------------------------------------------------------------------------------


def test_dropout_statistics() -> None:
    p = 0.3
    tg.manual_seed(0)
    x = np.ones((200, 500))  # 100,000 elements
    out = nn.Dropout(p)(x).data
    dropped = out == 0
    assert abs(dropped.mean() - p) < 0.01  # sd of the fraction is sqrt(p(1-p)/n) = 0.0015
    np.testing.assert_allclose(out[~dropped], 1 / (1 - p), rtol=1e-15)  # survivors scaled by 1/(1-p)
    assert abs(out.mean() - 1.0) < 0.015  # expectation preserved (sd of the mean is about 0.002)


def test_dropout_gradient_is_masked_the_same_way() -> None:
    p = 0.4
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((6, 7)) + 5.0, requires_grad=True)  # no zeros in x
    g = rng.standard_normal((6, 7))
    tg.manual_seed(1)
    out = nn.Dropout(p)(x)
    out.backward(g)
    kept = out.data != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(out.data, np.where(kept, x.data / (1 - p), 0.0), rtol=1e-14)
    np.testing.assert_allclose(x.grad.data, np.where(kept, g / (1 - p), 0.0), rtol=1e-14)


def test_dropout_is_the_identity_in_eval_and_for_p_zero() -> None:
    x = np.random.default_rng(0).standard_normal((5, 5))
    drop = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(drop(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(F.dropout(x, 0.9, training=False).data, x)
    xt = Tensor(x, requires_grad=True)
    drop(xt).sum().backward()
    np.testing.assert_array_equal(xt.grad.data, np.ones((5, 5)))


@pytest.mark.parametrize("p", [1, 1.0, -0.1, 1.5, float("nan")])
def test_dropout_p_outside_range_is_an_error(p: float) -> None:
    with pytest.raises(ValueError, match=r"Dropout: p=.* is outside \[0, 1\)"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match=r"dropout: p=.* is outside \[0, 1\)"):
        F.dropout(np.ones(3), p)


def test_dropout_p_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="p must be a number"):
        nn.Dropout("0.5")
    with pytest.raises(TypeError, match="p must be a number"):
        nn.Dropout(True)


def test_dropout_draws_from_the_library_generator_at_call_time() -> None:
    drop = nn.Dropout(0.5)
    x = np.ones((10, 10))
    tg.manual_seed(42)  # after the layer was made: the mask still follows it
    a = drop(x).data
    tg.manual_seed(42)
    b = drop(x).data
    c = drop(x).data  # the next call draws a new mask
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_dropout_with_its_own_generator() -> None:
    x = np.ones((4, 6))
    out = nn.Dropout(0.3, rng=np.random.default_rng(5))(x).data
    keep = np.random.default_rng(5).random((4, 6)) > 0.3
    np.testing.assert_array_equal(out, np.where(keep, 1 / 0.7, 0.0))


def test_dropout_replays_the_seeds_dropout_class_with_a_random_state() -> None:
    # the seeds' Dropout: mask = np.random.rand(*x.shape) > dropout_ratio; here scaled by 1/(1 - ratio)
    x = np.arange(1.0, 13.0).reshape(3, 4)
    mask = np.random.RandomState(0).rand(3, 4) > 0.5
    out = F.dropout(x, 0.5, rng=np.random.RandomState(0)).data
    np.testing.assert_array_equal(out, x * mask / 0.5)


def test_dropout_uses_a_given_mask_whatever_p() -> None:
    """With p = 0 the mask used to be ignored: x came back whole. 1 / (1 - 0) = 1 scales nothing."""
    x = np.arange(1.0, 5.0)
    mask = np.array([1, 0, 1, 0])
    np.testing.assert_array_equal(F.dropout(x, 0.0, mask=mask).data, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(F.dropout(x, 0.0, mask=mask, inverted=False).data, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(F.dropout(x, 0.2, mask=mask).data, x * mask / 0.8)
    # evaluation applies no mask: the identity, or x * (1 - p) for the non-inverted form
    np.testing.assert_array_equal(F.dropout(x, 0.2, training=False, mask=mask).data, x)
    np.testing.assert_array_equal(F.dropout(x, 0.2, training=False, mask=mask, inverted=False).data, x * 0.8)


@pytest.mark.parametrize("inverted", [True, False])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, bool])
def test_dropout_of_integers_gives_the_default_float_dtype(dtype: Any, inverted: bool) -> None:
    """Training gave float64 where eval gave float32; design.md: an integer with a Python float is
    the default float dtype."""
    x = np.ones((3, 4), dtype)
    train = F.dropout(x, 0.5, rng=np.random.default_rng(0), inverted=inverted)
    assert train.dtype == tg.get_default_dtype()
    keep = np.random.default_rng(0).random((3, 4)) > 0.5
    np.testing.assert_array_equal(train.data, keep * (2.0 if inverted else 1.0))
    if not inverted:
        evaluated = F.dropout(x, 0.5, training=False, inverted=False)
        assert evaluated.dtype == tg.get_default_dtype()
        np.testing.assert_array_equal(evaluated.data, np.full((3, 4), 0.5))


def test_dropout_of_integers_follows_the_default_dtype(float64_default: None) -> None:
    assert F.dropout(np.ones(4, np.int64), 0.5).dtype == np.float64


def test_dropout_keeps_float32() -> None:
    out = nn.Dropout(0.5)(np.ones((3, 3), np.float32))
    assert out.dtype == np.float32


def test_dropout_default_is_the_inverted_formula_bit_for_bit() -> None:
    x = np.random.default_rng(2).standard_normal((5, 7))
    keep = np.random.RandomState(3).rand(5, 7) > 0.3
    want = x * (keep.astype(np.float64) * (1 / (1 - 0.3)))  # the same products, in the same order
    for out in (F.dropout(x, 0.3, rng=np.random.RandomState(3)),
                F.dropout(x, 0.3, rng=np.random.RandomState(3), inverted=True),
                nn.Dropout(0.3, rng=np.random.RandomState(3))(x)):
        np.testing.assert_array_equal(out.data, want)
    np.testing.assert_array_equal(nn.Dropout(0.3).eval()(x).data, x)


class SeedDropout:
    """Seed 002's Dropout class (Deep Learning from Scratch), as the seed writes it."""

    def __init__(self, dropout_ratio: float = 0.5) -> None:
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.mask


@pytest.mark.parametrize("ratio", [0.5, 0.2])
def test_dropout_not_inverted_is_the_seeds_dropout_class(ratio: float) -> None:
    """inverted=False: train x * mask, eval x * (1 - p), backward dout * mask (seed 002)."""
    rng = np.random.default_rng(4)
    x, dout = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    seed = SeedDropout(ratio)
    np.random.seed(7)
    want_train = seed.forward(x)
    want_grad = seed.backward(dout)
    drop = nn.Dropout(ratio, rng=np.random.RandomState(7), inverted=False)
    xt = Tensor(x, requires_grad=True)
    out = drop(xt)
    out.backward(dout)
    np.testing.assert_array_equal(out.data, want_train)
    np.testing.assert_array_equal(xt.grad.data, want_grad)
    drop.eval()
    xt.grad = None
    out = drop(xt)
    out.backward(dout)
    np.testing.assert_array_equal(out.data, seed.forward(x, train_flg=False))
    np.testing.assert_allclose(xt.grad.data, dout * (1.0 - ratio), rtol=1e-15)
    ones = F.dropout(np.ones((400, 250)), ratio, rng=np.random.RandomState(0), inverted=False).data
    assert set(np.unique(ones)) == {0.0, 1.0}  # kept elements are not scaled
    assert abs(ones.mean() - (1 - ratio)) < 0.01  # the train mean is the eval scale, 1 - p


def test_dropout_not_inverted_passes_gradcheck_in_train_and_eval() -> None:
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((4, 6)), requires_grad=True)
    mask = rng.random((4, 6)) > 0.4
    assert gradcheck(lambda t: F.dropout(t, 0.4, mask=mask, inverted=False), [x])
    assert gradcheck(lambda t: F.dropout(t, 0.4, training=False, inverted=False), [x])
    assert gradgradcheck(lambda t: F.dropout(t, 0.4, mask=mask, inverted=False) ** 2, [x])


def test_dropout_not_inverted_keeps_float32_and_the_course_mask() -> None:
    x32 = np.ones((3, 4), np.float32)
    drop = nn.Dropout(0.5, inverted=False)
    assert drop(x32).dtype == np.float32 and drop.eval()(x32).dtype == np.float32
    out = F.dropout(np.ones((3, 4)), 0.2, rng=np.random.RandomState(4), keep="course", inverted=False)
    np.testing.assert_array_equal(out.data, (np.random.RandomState(4).rand(4, 3) < 0.8).T * 1.0)
    np.testing.assert_array_equal(F.dropout(x32, 0.0, inverted=False).data, x32)
    np.testing.assert_array_equal(F.dropout(x32, 0.0, training=False, inverted=False).data, x32)


def test_dropout_inverted_flag_in_repr_and_checked() -> None:
    assert repr(nn.Dropout(0.5, inverted=False)) == "Dropout(p=0.5, inverted=False)"
    both = nn.Dropout(0.5, keep="course", inverted=False)
    assert repr(both) == "Dropout(p=0.5, keep='course', inverted=False)"
    assert repr(nn.Dropout(0.5)) == "Dropout(p=0.5)"
    with pytest.raises(TypeError, match="Dropout: inverted must be True or False, got str 'no'"):
        nn.Dropout(0.5, inverted="no")
    with pytest.raises(TypeError, match="dropout: inverted must be True or False"):
        F.dropout(np.ones(2), 0.5, inverted=0)


# --- BatchNorm1d -----------------------------------------------------------------------------------


def np_batchnorm(x: np.ndarray, mean: np.ndarray, var: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float):
    return (x - mean) / np.sqrt(var + eps) * w + b


def make_bn(rng: np.random.Generator, c: int = 3, **kwargs: Any) -> nn.BatchNorm1d:
    bn = nn.BatchNorm1d(c, dtype=np.float64, **kwargs)
    bn.weight.data[:] = rng.uniform(0.5, 2.0, c)
    bn.bias.data[:] = rng.standard_normal(c)
    return bn


def test_batchnorm_parameters_and_buffers() -> None:
    bn = nn.BatchNorm1d(4)
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    assert np.all(bn.weight.data == 1) and np.all(bn.bias.data == 0)
    assert np.all(bn.running_mean.data == 0) and np.all(bn.running_var.data == 1)
    assert not bn.running_mean.requires_grad
    assert set(bn.state_dict()) == {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}
    assert not any(p is bn.running_mean for p in bn.parameters())


def test_batchnorm_train_uses_batch_statistics_and_updates_running_ones() -> None:
    rng = np.random.default_rng(0)
    bn = make_bn(rng)
    w, b, eps, m = bn.weight.data.copy(), bn.bias.data.copy(), 1e-5, 0.1
    running_mean, running_var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((8, 3)) * [1.0, 3.0, 0.5] + [0.0, 2.0, -1.0]
        mean, biased = x.mean(axis=0), ((x - x.mean(axis=0)) ** 2).mean(axis=0)
        np.testing.assert_allclose(bn(x).data, np_batchnorm(x, mean, biased, w, b, eps), rtol=1e-12)
        unbiased = ((x - mean) ** 2).sum(axis=0) / (8 - 1)
        running_mean = (1 - m) * running_mean + m * mean
        running_var = (1 - m) * running_var + m * unbiased
        np.testing.assert_allclose(bn.running_mean.data, running_mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, running_var, rtol=1e-12)
    assert int(bn.num_batches_tracked.data) == 3


def test_batchnorm_eval_uses_running_statistics_and_leaves_them_alone() -> None:
    rng = np.random.default_rng(1)
    bn = make_bn(rng)
    bn(rng.standard_normal((10, 3)) * 2 + 1)
    bn.eval()
    rm, rv = bn.running_mean.data.copy(), bn.running_var.data.copy()
    x = rng.standard_normal((4, 3))
    want = np_batchnorm(x, rm, rv, bn.weight.data, bn.bias.data, 1e-5)
    np.testing.assert_allclose(bn(x).data, want, rtol=1e-12)
    np.testing.assert_allclose(bn(x[:1]).data, want[:1], rtol=1e-12)  # a single sample is fine in eval
    np.testing.assert_array_equal(bn.running_mean.data, rm)
    np.testing.assert_array_equal(bn.running_var.data, rv)
    assert int(bn.num_batches_tracked.data) == 1


def test_batchnorm_three_dimensional_input() -> None:
    rng = np.random.default_rng(2)
    bn = make_bn(rng, c=2)
    x = rng.standard_normal((4, 2, 5))
    mean = x.mean(axis=(0, 2), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2), keepdims=True)
    w, b = bn.weight.data.reshape(1, 2, 1), bn.bias.data.reshape(1, 2, 1)
    np.testing.assert_allclose(bn(x).data, np_batchnorm(x, mean, var, w, b, 1e-5), rtol=1e-12)
    unbiased = ((x - mean) ** 2).sum(axis=(0, 2)) / (20 - 1)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * unbiased, rtol=1e-12)


def test_batchnorm_cumulative_average_with_momentum_none() -> None:
    rng = np.random.default_rng(3)
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [rng.standard_normal((5, 2)) + k for k in range(4)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.mean(axis=0) for x in batches], axis=0))
    np.testing.assert_allclose(bn.running_var.data, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0))


def test_batchnorm_without_running_stats_or_affine() -> None:
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=np.float64).eval()
    assert list(bn.parameters()) == [] and bn.state_dict() == {}
    x = np.random.default_rng(4).standard_normal((6, 2))
    want = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
    np.testing.assert_allclose(bn(x).data, want, rtol=1e-12)  # batch statistics even in eval


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batchnorm_gradients(training: bool) -> None:
    rng = np.random.default_rng(5)
    bn = make_bn(rng, c=2)
    bn(rng.standard_normal((6, 2)))  # non-trivial running statistics for eval
    bn.train(training)
    x = Tensor(rng.standard_normal((4, 2)) * 2, requires_grad=True)
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])
    assert gradgradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])


def test_batchnorm_errors() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): input has shape \(4, 2\); expected \(N, 3\)"):
        bn(np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="expected"):
        bn(np.ones((4, 3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        bn(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm1d(3, eps=0)


@pytest.mark.parametrize("shape", [(1, 2), (1, 2, 1)])
def test_batchnorm_without_running_stats_refuses_one_sample_in_eval_too(shape: tuple) -> None:
    """Without running statistics eval normalises with the batch's, and one sample gave the bias
    for any input; torch raises "Expected more than 1 value per channel when training"."""
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    with pytest.raises(ValueError, match=r"^BatchNorm1d\(2\): input of shape .* has 1 value per feature, and "
                       r"the batch statistics need at least 2 .*track_running_stats=False they are used in "
                       r"eval\(\) mode too .*track_running_stats=True to evaluate single samples$"):
        bn(np.ones(shape))
    assert bn(np.ones((1, 2, 3))).shape == (1, 2, 3)  # 3 values per feature: fine, as in torch


def test_batchnorm_one_sample_error_suggests_what_works_in_each_case() -> None:
    one = np.ones((1, 2))
    with pytest.raises(ValueError, match=r"; use a larger batch, or eval\(\) to normalise with the running "
                       r"statistics$"):
        nn.BatchNorm1d(2)(one)
    with pytest.raises(ValueError, match=r"used in training and in eval\(\) mode alike") as info:
        nn.BatchNorm1d(2, track_running_stats=False)(one)
    assert "or eval()" not in str(info.value)  # eval() would not help here
    np.testing.assert_allclose(nn.BatchNorm1d(2).eval()(np.array([[3.0, 7.0]])).data,
                               [[3 / np.sqrt(1 + 1e-5), 7 / np.sqrt(1 + 1e-5)]], rtol=1e-6)  # fmt: skip


def test_batchnorm_state_dict_round_trip() -> None:
    rng = np.random.default_rng(6)
    a = make_bn(rng)
    for _ in range(2):
        a(rng.standard_normal((5, 3)))
    b = nn.BatchNorm1d(3, dtype=np.float64)
    b.load_state_dict(a.state_dict())
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(b.eval()(x).data, a.eval()(x).data)
    assert int(b.num_batches_tracked.data) == 2


# --- a small network learns --------------------------------------------------------------------------


def test_mlp_with_every_layer_kind_trains_by_hand() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)  # XOR of signs: needs a hidden layer
    tg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 16, dtype=np.float64), nn.BatchNorm1d(16, dtype=np.float64), nn.ReLU(),
        nn.Dropout(0.1), nn.Linear(16, 2, init="xavier", dtype=np.float64),
    )  # fmt: skip
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(150):
        loss = loss_fn(model(x), y)
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad.data
    model.eval()
    accuracy = (model(x).data.argmax(axis=1) == y).mean()
    assert loss.item() < 0.5 * first and accuracy > 0.9


# --- docs ----------------------------------------------------------------------------------------------


def test_docs_modules_examples_run() -> None:
    import doctest
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "modules.md"
    result = doctest.testfile(str(path), module_relative=False, optionflags=doctest.ELLIPSIS, report=True)
    assert result.attempted > 30
    assert result.failed == 0, f"{result.failed} example(s) in docs/modules.md fail (see the output above)"


@pytest.mark.parametrize(
    "holder",
    [
        lambda: [nn.Linear(2, 2)],
        lambda: {"first": nn.Linear(2, 2)},  # before: silently not registered
        lambda: [[nn.Linear(2, 2)]],  # nested: likewise
        lambda: ({"w": nn.Parameter(np.ones(2))},),
    ],
)
def test_a_plain_container_of_modules_is_refused_with_the_way_out(holder) -> None:
    class Holder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = holder()

    refused = r"attribute 'blocks' is a (list|dict|tuple) holding modules.*ModuleList"
    with pytest.raises(TypeError, match=refused):
        Holder()



def test_a_tensor_requiring_grad_kept_as_an_attribute_is_warned_about() -> None:
    class Scale(nn.Module):
        def __init__(self, as_parameter: bool):
            super().__init__()
            values = np.array([2.0, 3.0])
            self.w = nn.Parameter(values) if as_parameter else Tensor(values, requires_grad=True)

        def forward(self, x):
            return x * self.w

    with pytest.warns(UserWarning, match=r"Scale: attribute .w. is a Tensor that requires grad .*Parameter"):
        Scale(as_parameter=False)  # before: no word, and parameters() was empty
    model = Scale(as_parameter=True)
    assert [name for name, _ in model.named_parameters()] == ["w"]
    holder = nn.Module()
    holder.constant = Tensor(np.ones(2))  # a tensor without a gradient, and one made by an op, stay allowed
    holder.last_output = model(Tensor(np.ones(2)))
    assert list(holder.parameters()) == []


def test_data_given_to_a_module_s_constructor_says_to_make_it_first_then_call_it() -> None:
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"ReLU\(\.\.\.\) was given a Tensor of shape \(2, 3\).*ReLU\(\)\(x"):
        nn.ReLU(x)
    with pytest.raises(TypeError, match=r"MSELoss\(\.\.\.\) was given a Tensor .*MSELoss\(\)\(input, targ"):
        nn.MSELoss(x, np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"MSELoss: reduction must be .* got a Tensor of shape \(2, 3\)"):
        nn.MSELoss(x)
    with pytest.raises(TypeError, match=r"Sigmoid\(\.\.\.\) was given an ndarray of shape \(2, 3\)"):
        nn.Sigmoid(np.ones((2, 3)))

    with pytest.raises(TypeError, match="missing 1 required positional argument: 'out_features'"):
        nn.Linear(x)  # a missing argument: Python's own words, not the hint

    class Scaled(nn.Module):  # an __init__ that takes an array is left alone
        def __init__(self, w):
            super().__init__()
            self.w = nn.Parameter(w)

    assert Scaled(np.ones(3)).w.shape == (3,)


def test_a_value_just_beyond_float32_is_shown_with_all_its_digits_when_refused():
    # With %g, 3.4028235e38 * 1.0000001 read "3.40282e+38 does not fit in float32": it looked as if it fitted.
    layer = nn.Linear(1, 1)
    state = layer.state_dict()
    state["weight"] = np.full((1, 1), 3.4028235e38 * 1.0000001)
    words = r"3\.4028238\d*e\+38 does not fit in float32 \(largest 3\.4028234\d*e\+38"
    with pytest.raises(RuntimeError, match=words):
        layer.load_state_dict(state)

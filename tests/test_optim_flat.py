"""The flat fast path (a small group updated as one array) must give exactly the per-parameter results."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import optimizer as optimizer_module

FACTORIES = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd_nesterov_wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "momentum": lambda ps: optim.Momentum(ps, lr=0.1, beta=0.9),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop_centered": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
    "adam_amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, eps_mode="inside"),
    "adamw_hat": lambda ps: optim.AdamW(ps, lr=0.01, eps_mode="hat"),
}
SHAPES = [(5, 2), (5,), (2, 5), (2,), (1, 2), (1,)]


def _run(factory, flat: bool, steps: int = 20, drop_grad_at: int = -1):
    rng = np.random.default_rng(0)
    params = [Tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    arrays = [p.data for p in params]
    opt = factory(params)
    if not flat:
        opt.FLAT_LIMIT = 0
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = None if (k == drop_grad_at and i == 1) else Tensor(rng.standard_normal(p.shape))
        opt.step()
    assert all(p.data is a for p, a in zip(params, arrays))  # updated in place, never rebound
    return [p.data.copy() for p in params], opt


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_flat_path_equals_per_parameter_path(name):
    flat_params, flat_opt = _run(FACTORIES[name], flat=True)
    ref_params, ref_opt = _run(FACTORIES[name], flat=False)
    (flat,) = flat_opt._flat.values()
    assert flat is not None and flat.views is not None  # the fast path ran, gathering separate arrays
    for a, b in zip(flat_params, ref_params):
        np.testing.assert_array_equal(a, b)
    sd_flat, sd_ref = flat_opt.state_dict(), ref_opt.state_dict()
    assert sd_flat["state"].keys() == sd_ref["state"].keys()
    for k in sd_ref["state"]:
        for key, value in sd_ref["state"][k].items():
            np.testing.assert_array_equal(np.asarray(sd_flat["state"][k][key]), np.asarray(value))


@pytest.mark.parametrize("name", ["adam_amsgrad", "sgd_nesterov_wd"])
def test_a_missing_gradient_falls_back_and_stays_exact(name):
    flat_params, flat_opt = _run(FACTORIES[name], flat=True, drop_grad_at=7)
    ref_params, _ = _run(FACTORIES[name], flat=False, drop_grad_at=7)
    for a, b in zip(flat_params, ref_params):
        np.testing.assert_array_equal(a, b)
    assert flat_opt.state[flat_opt.param_groups[0]["params"][1]]["step"] == 19


def test_resuming_from_a_state_dict_rebuilds_the_flat_buffers():
    factory = FACTORIES["adam_amsgrad"]
    straight, _ = _run(factory, flat=True, steps=20)
    rng = np.random.default_rng(0)
    params = [Tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    opt = factory(params)
    for _ in range(10):
        for p in params:
            p.grad = Tensor(rng.standard_normal(p.shape))
        opt.step()
    saved, weights = opt.state_dict(), [p.data.copy() for p in params]
    params2 = [Tensor(w, requires_grad=True) for w in weights]
    opt2 = factory(params2)
    opt2.load_state_dict(saved)
    for _ in range(10):
        for p in params2:
            p.grad = Tensor(rng.standard_normal(p.shape))
        opt2.step()
    for a, b in zip(straight, params2):
        np.testing.assert_array_equal(a, b.data)


# --- parameters that lie side by side are updated where they are --------------------------------


def _params_in_one_block(seed: int = 0):
    """nn.Parameter cuts consecutive parameters from one block: a layer's weight, then its bias."""
    from tinygrad_edu import nn

    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s)) for s in SHAPES]


def _per_parameter(factory):
    """The same optimizer with the flat path switched off."""

    def make(ps):
        opt = factory(ps)
        opt.FLAT_LIMIT = 0
        return opt

    return make


def _train(params, factory, steps: int, rng, rebind_at: int = -1):
    opt = factory(params)
    for k in range(steps):
        if k == rebind_at:
            params[2].data = params[2].data.copy()  # a new array assigned to p.data
        for p in params:
            p.grad = Tensor(rng.standard_normal(p.shape))
        opt.step()
    return opt


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_side_by_side_parameters_are_updated_in_place_as_one_array(name):
    params = _params_in_one_block()
    arrays = [p.data for p in params]
    assert optimizer_module.side_by_side(arrays) is not None
    opt = _train(params, FACTORIES[name], 20, np.random.default_rng(1))
    (flat,) = opt._flat.values()
    assert flat.views is None  # no gathered copy: the flat array is the parameters' memory
    assert np.shares_memory(flat.param, arrays[0]) and np.shares_memory(flat.param, arrays[-1])
    assert all(p.data is a for p, a in zip(params, arrays))  # still the same arrays

    reference = [Tensor(p.data.copy(), requires_grad=True) for p in _params_in_one_block()]
    _train(reference, _per_parameter(FACTORIES[name]), 20, np.random.default_rng(1))
    for p, r in zip(params, reference):
        np.testing.assert_array_equal(p.data, r.data)


def test_a_new_array_assigned_to_a_parameter_is_laid_out_again_and_stays_exact():
    factory = FACTORIES["adam_amsgrad"]
    params = _params_in_one_block()
    opt = _train(params, factory, 20, np.random.default_rng(1), rebind_at=8)
    (flat,) = opt._flat.values()
    assert flat.views is not None and flat.datas[2] is params[2].data  # gathered from now on

    reference = [Tensor(p.data.copy(), requires_grad=True) for p in _params_in_one_block()]
    _train(reference, _per_parameter(factory), 20, np.random.default_rng(1))
    for p, r in zip(params, reference):
        np.testing.assert_array_equal(p.data, r.data)


def test_side_by_side_finds_only_consecutive_pieces_in_order():
    block = np.arange(10.0)
    a, b, c = block[0:4].reshape(2, 2), block[4:6], block[6:10]
    whole = optimizer_module.side_by_side([a, b, c])
    assert whole is not None and whole.shape == (10,) and np.shares_memory(whole, block)
    np.testing.assert_array_equal(optimizer_module.side_by_side([b, c]), block[4:10])
    assert optimizer_module.side_by_side([b, a]) is None  # out of order
    assert optimizer_module.side_by_side([a, c]) is None  # a gap
    assert optimizer_module.side_by_side([a, np.arange(3.0)]) is None  # another array
    assert optimizer_module.side_by_side([np.arange(3.0)]) is None  # owns its memory: nothing to share
    assert optimizer_module.side_by_side([block[0:4].reshape(2, 2).T, b]) is None  # not C-contiguous
    assert optimizer_module.side_by_side([block[0:4].view(np.int64)]) is None  # another dtype than its base

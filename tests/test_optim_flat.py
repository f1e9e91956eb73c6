"""The flat fast path (a small group updated as one array) must give exactly the per-parameter results."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, optim

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
    assert any(f is not None for f in flat_opt._flat.values())  # the fast path really ran
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

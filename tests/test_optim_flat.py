"""The flat path (a small group updated as one array, optim/flat.py) gives exactly the per-parameter results.

The reference is the same optimizer class with the flat path switched off the way a user's
subclass has it: a subclass that does not restate ``elementwise = True`` runs the plain
per-parameter ``_update`` loop of ``Optimizer``.
"""

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import flat as flat_module
from tinygrad_edu.optim import schedules

# Every built-in optimizer, and every option of each set away from its default at least once.
CASES = {
    "sgd": (optim.SGD, dict(lr=0.1)),
    "sgd_momentum_dampening": (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_nesterov_wd": (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    "sgd_schedule": (optim.SGD, dict(lr=schedules.ExponentialDecay(0.1, 5, 0.5), momentum=0.5)),
    "momentum": (optim.Momentum, dict(lr=0.1, beta=0.8)),
    "adagrad": (optim.Adagrad, dict(lr=0.1)),
    "adagrad_options": (
        optim.Adagrad,
        dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1, eps=1e-6),
    ),
    "adagrad_inside": (optim.Adagrad, dict(lr=0.1, eps=1e-7, eps_mode="inside")),
    "rmsprop": (optim.RMSprop, dict(lr=0.01)),
    "rmsprop_centered_momentum": (
        optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.9, centered=True, weight_decay=0.01),
    ),
    "rmsprop_inside": (optim.RMSprop, dict(lr=0.01, eps=1e-7, eps_mode="inside")),
    "adam": (optim.Adam, dict(lr=0.01)),
    "adam_amsgrad_inside": (optim.Adam, dict(lr=0.01, amsgrad=True, eps_mode="inside")),
    "adam_hat_wd": (
        optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.01, eps_mode="hat"),
    ),
    "adamw": (optim.AdamW, dict(lr=0.01)),
    "adamw_amsgrad_hat": (optim.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True, eps_mode="hat")),
    "adamw_schedule": (optim.AdamW, dict(lr=schedules.CosineDecay(0.01, 30))),
}
SHAPES = [(5, 2), (5,), (2, 5), (2,), (1, 2), (1,)]
STEPS = 60


def per_parameter(cls):
    """``cls`` as a user's subclass: it does not restate ``elementwise``, so it has no flat path."""
    return type(f"PerParameter{cls.__name__}", (cls,), {})


def separate_tensors(seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]


def params_in_one_block(seed=0):
    """nn.Parameter cuts consecutive parameters from one block: a layer's weight, then its bias."""
    rng = np.random.default_rng(seed)
    return [nn.Parameter(rng.standard_normal(s)) for s in SHAPES]


def train(params, cls, kwargs, steps=STEPS, drop_grad_at=-1, rebind_at=-1, seed=1, change_at=-1, change=None):
    """``steps`` optimizer steps on random gradients (the same for the same seed)."""
    rng = np.random.default_rng(seed)
    opt = cls(params, **kwargs)
    for k in range(steps):
        if k == rebind_at:
            params[2].data = params[2].data.copy()  # a new array assigned to p.data
        if k == change_at:
            change(opt, params)  # the user edits optimizer.state
        for i, p in enumerate(params):
            g = rng.standard_normal(p.shape).astype(p.data.dtype)
            p.grad = None if (k == drop_grad_at and i == 1) else Tensor(g)
        opt.step()
    return opt


def assert_same(params, reference, opt, ref_opt):
    for p, r in zip(params, reference):
        np.testing.assert_array_equal(p.data, r.data)  # bit for bit
    sd, sd_ref = opt.state_dict(), ref_opt.state_dict()
    assert sd["state"].keys() == sd_ref["state"].keys() and sd["step_count"] == sd_ref["step_count"]
    for k in sd_ref["state"]:
        assert sd["state"][k].keys() == sd_ref["state"][k].keys()
        for key, value in sd_ref["state"][k].items():
            np.testing.assert_array_equal(np.asarray(sd["state"][k][key]), np.asarray(value))


@pytest.mark.parametrize("make_params", [separate_tensors, params_in_one_block], ids=["gathered", "in_place"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_flat_path_equals_per_parameter_path(name, make_params):
    cls, kwargs = CASES[name]
    params, reference = make_params(), make_params()
    arrays = [p.data for p in params]
    opt = train(params, cls, kwargs)
    ref_opt = train(reference, per_parameter(cls), kwargs)
    flat = opt._flat.get(opt.param_groups[0])
    assert flat is not None  # the flat path ran on every step
    assert (flat.views is None) == (make_params is params_in_one_block)  # in place when side by side
    assert ref_opt._flat is None  # and the reference never took it
    assert all(p.data is a for p, a in zip(params, arrays))  # updated in place, never rebound
    assert_same(params, reference, opt, ref_opt)


@pytest.mark.parametrize("name", ["adam_amsgrad_inside", "sgd_nesterov_wd", "rmsprop_centered_momentum"])
def test_a_missing_gradient_falls_back_and_stays_exact(name):
    cls, kwargs = CASES[name]
    params, reference = separate_tensors(), separate_tensors()
    opt = train(params, cls, kwargs, drop_grad_at=7)
    ref_opt = train(reference, per_parameter(cls), kwargs, drop_grad_at=7)
    assert opt._flat.get(opt.param_groups[0]) is None  # per parameter since the missing gradient
    assert_same(params, reference, opt, ref_opt)
    assert opt.state[params[1]]["step"] == STEPS - 1


def test_resuming_from_a_state_dict_rebuilds_the_flat_buffers():
    cls, kwargs = CASES["adam_amsgrad_inside"]
    straight = params_in_one_block()
    train(straight, cls, kwargs, steps=20, seed=3)

    params = params_in_one_block()
    rng = np.random.default_rng(3)
    opt = cls(params, **kwargs)
    for k in range(20):
        for p in params:
            p.grad = Tensor(rng.standard_normal(p.shape))
        opt.step()
        if k == 9:  # save, rebuild everything from the saved arrays, load, go on
            saved, weights = opt.state_dict(), [p.data.copy() for p in params]
            params = [nn.Parameter(w) for w in weights]
            opt = cls(params, **kwargs)
            opt.load_state_dict(saved)
    for a, b in zip(straight, params):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_new_array_assigned_to_a_parameter_is_laid_out_again_and_stays_exact():
    cls, kwargs = CASES["adam_amsgrad_inside"]
    params, reference = params_in_one_block(), params_in_one_block()
    opt = train(params, cls, kwargs, rebind_at=8)
    flat = opt._flat.get(opt.param_groups[0])
    assert flat.views is not None and flat.datas[2] is params[2].data  # gathered from now on
    ref_opt = train(reference, per_parameter(cls), kwargs, rebind_at=8)
    assert_same(params, reference, opt, ref_opt)


def new_buffers(opt, params):
    state = opt.state[params[0]]
    for k, v in list(state.items()):
        if isinstance(v, np.ndarray):
            state[k] = v * 0.5  # a new array, not the view the flat path handed out


def new_dict(opt, params):
    opt.state = {}


def copied_dicts(opt, params):
    opt.state = {p: dict(st) for p, st in opt.state.items()}  # the same arrays in new dicts


def steps_reset(opt, params):
    for p in params:
        opt.state[p]["step"] = 0  # Adam's bias correction starts again


STATE_CHANGES = {
    "new_buffers": new_buffers,
    "steps_reset": steps_reset,
    "one_step_changed": lambda opt, params: opt.state[params[0]].__setitem__("step", 2),
    "cleared": lambda opt, params: opt.state.clear(),
    "new_dict": new_dict,
    "copied_dicts": copied_dicts,
}


EDITED = ["sgd_momentum_dampening", "adagrad", "rmsprop_centered_momentum", "adam_amsgrad_inside"]


@pytest.mark.parametrize("change", sorted(STATE_CHANGES))
@pytest.mark.parametrize("name", EDITED)
def test_the_flat_path_uses_what_the_user_put_in_optimizer_state(name, change):
    cls, kwargs = CASES[name]
    params, reference = params_in_one_block(), params_in_one_block()
    edit = dict(steps=20, change_at=10, change=STATE_CHANGES[change])
    opt = train(params, cls, kwargs, **edit)
    ref_opt = train(reference, per_parameter(cls), kwargs, **edit)
    assert_same(params, reference, opt, ref_opt)  # the numbers, and state_dict() saves the same arrays
    flat = opt._flat.get(opt.param_groups[0])
    if change == "one_step_changed":
        assert flat is None  # the step counts differ: per parameter from now on
        return
    for p in params:  # laid out again from optimizer.state: it holds views of the buffers in use
        for k, v in opt.state[p].items():
            assert np.shares_memory(v, flat.state[k]) if isinstance(v, np.ndarray) else v == flat.state[k]


BUILT_IN = [optim.SGD, optim.Momentum, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW]


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda c: c.__name__)
def test_the_flat_path_is_opted_into_by_each_class_and_not_inherited(cls):
    assert cls.__dict__["elementwise"] is True  # written in the class itself
    kwargs = dict(lr=0.1)
    assert cls(separate_tensors(), **kwargs)._flat is not None
    assert per_parameter(cls)(separate_tensors(), **kwargs)._flat is None
    restated = type("Restated", (cls,), {"elementwise": True})
    assert restated(separate_tensors(), **kwargs)._flat is not None


def test_the_base_class_and_a_direct_subclass_have_no_flat_path():
    assert optim.Optimizer.elementwise is False

    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

        def _update(self, param, grad, state, group, lr):
            param -= lr * grad

    assert Plain(separate_tensors())._flat is None


def test_side_by_side_finds_only_consecutive_pieces_in_order():
    block = np.arange(10.0)
    a, b, c = block[0:4].reshape(2, 2), block[4:6], block[6:10]
    whole = flat_module.side_by_side([a, b, c])
    assert whole is not None and whole.shape == (10,) and np.shares_memory(whole, block)
    np.testing.assert_array_equal(flat_module.side_by_side([b, c]), block[4:10])
    assert flat_module.side_by_side([b, a]) is None  # out of order
    assert flat_module.side_by_side([a, c]) is None  # a gap
    assert flat_module.side_by_side([a, np.arange(3.0)]) is None  # another array
    assert flat_module.side_by_side([np.arange(3.0)]) is None  # owns its memory: nothing to share
    assert flat_module.side_by_side([block[0:4].reshape(2, 2).T, b]) is None  # not C-contiguous
    assert flat_module.side_by_side([block[0:4].view(np.int64)]) is None  # another dtype than its base


SECOND_GROUP_OPTION = {
    optim.SGD: {"momentum": 0.5},
    optim.Momentum: {"beta": 0.5},
    optim.Adagrad: {"weight_decay": 0.1},
    optim.RMSprop: {"alpha": 0.9},
    optim.Adam: {"weight_decay": 0.1},
    optim.AdamW: {"weight_decay": 0.1},
}


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda c: c.__name__)
def test_two_groups_with_their_own_options_are_each_updated_as_one_array(cls):
    def in_two_groups(optimizer_class):
        second = {"lr": 0.2, **SECOND_GROUP_OPTION[cls]}
        return lambda ps, **kw: optimizer_class([{"params": ps[:4]}, {"params": ps[4:], **second}], **kw)

    params, reference = params_in_one_block(), params_in_one_block()
    opt = train(params, in_two_groups(cls), dict(lr=0.05))
    ref_opt = train(reference, in_two_groups(per_parameter(cls)), dict(lr=0.05))
    assert all(opt._flat.get(g) is not None for g in opt.param_groups)
    assert_same(params, reference, opt, ref_opt)


# --- float32, and a 0-d parameter ------------------------------------------------------------

SHAPES_WITH_A_SCALAR = [(5, 2), (5,), (), (2, 5), (1,)]
LEGACY_SCALAR_PROMOTION = np.result_type(np.zeros((), np.float32), 1.0) != np.float32
"""numpy 1: a 0-d float32 array combined with a Python float gives float64 (numpy 2: float32)."""


def float32_with_a_scalar(in_one_block):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES_WITH_A_SCALAR]
    if in_one_block:
        return [nn.Parameter(a) for a in arrays]
    return [Tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("in_one_block", [False, True], ids=["gathered", "in_place"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_flat_path_equals_per_parameter_path_in_float32_with_a_0_d_parameter(name, in_one_block):
    cls, kwargs = CASES[name]
    params, reference = float32_with_a_scalar(in_one_block), float32_with_a_scalar(in_one_block)
    assert params[2].data.shape == () and params[2].data.dtype == np.float32
    opt = train(params, cls, kwargs)
    ref_opt = train(reference, per_parameter(cls), kwargs)
    assert all(p.data.dtype == np.float32 for p in params)
    assert_same(params, reference, opt, ref_opt)
    # numpy 2 updates the group as one array; numpy 1 computes a 0-d float32 parameter's step
    # in float64, which one flat float32 array cannot reproduce, so the group goes per parameter
    assert (opt._flat.get(opt.param_groups[0]) is None) == LEGACY_SCALAR_PROMOTION


def test_float32_without_a_0_d_parameter_is_flat_with_either_numpy():
    cls, kwargs = CASES["adam_amsgrad_inside"]
    make = lambda: [nn.Parameter(np.full(s, 0.3, np.float32)) for s in SHAPES]  # noqa: E731
    params, reference = make(), make()
    opt = train(params, cls, kwargs)
    ref_opt = train(reference, per_parameter(cls), kwargs)
    assert opt._flat.get(opt.param_groups[0]) is not None
    assert_same(params, reference, opt, ref_opt)


# --- options changed between steps ---------------------------------------------------------


def lockstep(make_params, cls, kwargs, change, steps=16, change_at=5, seed=1):
    """Both paths side by side, ``change(optimizer)`` applied to both before step ``change_at``;
    parameters and state dicts compared after every step."""
    params, reference = make_params(), make_params()
    opt, ref_opt = cls(params, **kwargs), per_parameter(cls)(reference, **kwargs)
    rng = np.random.default_rng(seed)
    for k in range(steps):
        if k == change_at:
            change(opt)
            change(ref_opt)
        for p, r in zip(params, reference):
            g = rng.standard_normal(p.shape)
            p.grad, r.grad = Tensor(g), Tensor(g.copy())
        opt.step()
        ref_opt.step()
        assert_same(params, reference, opt, ref_opt)
    return opt, params


def set_options(**options):
    def change(opt):
        opt.param_groups[0].update(options)

    return change


OPTION_CHANGES = {  # an option turned on after some steps, which makes a buffer the state lacked
    "sgd_momentum_on": (optim.SGD, dict(lr=0.1), dict(momentum=0.9)),
    "sgd_nesterov_on": (optim.SGD, dict(lr=0.1), dict(momentum=0.9, nesterov=True)),
    "sgd_momentum_off_and_on": (optim.SGD, dict(lr=0.1, momentum=0.5), dict(momentum=0.0)),
    "adam_amsgrad_on": (optim.Adam, dict(lr=0.01), dict(amsgrad=True)),
    "adamw_amsgrad_on": (optim.AdamW, dict(lr=0.01, eps_mode="hat"), dict(amsgrad=True)),
    "rmsprop_momentum_on": (optim.RMSprop, dict(lr=0.01), dict(momentum=0.9)),
    "rmsprop_centered_on": (optim.RMSprop, dict(lr=0.01), dict(centered=True)),
}


@pytest.mark.parametrize("make_params", [separate_tensors, params_in_one_block], ids=["gathered", "in_place"])
@pytest.mark.parametrize("name", sorted(OPTION_CHANGES))
def test_an_option_changed_between_steps_gives_the_per_parameter_steps_and_state(name, make_params):
    cls, kwargs, options = OPTION_CHANGES[name]
    opt, params = lockstep(make_params, cls, kwargs, set_options(**options))
    assert opt._flat.get(opt.param_groups[0]) is not None  # still one array
    flat = opt._flat.get(opt.param_groups[0])
    for p in params:  # optimizer.state holds views of the buffers in use
        for k, v in opt.state[p].items():
            if isinstance(v, np.ndarray):
                assert np.shares_memory(v, flat.state[k])


@pytest.mark.parametrize("name", ["sgd_momentum_on", "adam_amsgrad_on", "rmsprop_centered_on"])
def test_resuming_after_an_option_was_turned_on_continues_the_same_steps(name):
    cls, kwargs, options = OPTION_CHANGES[name]

    def run(resume_at):
        params = params_in_one_block()
        opt = cls(params, **kwargs)
        rng = np.random.default_rng(3)
        for k in range(16):
            if k == 5:
                opt.param_groups[0].update(options)
            if k == resume_at:
                saved, weights = opt.state_dict(), [p.data.copy() for p in params]
                params = [nn.Parameter(w) for w in weights]
                opt = cls(params, **kwargs)
                opt.load_state_dict(saved)
            for p in params:
                p.grad = Tensor(rng.standard_normal(p.shape))
            opt.step()
        return params

    for a, b in zip(run(resume_at=-1), run(resume_at=9)):
        np.testing.assert_array_equal(a.data, b.data)


# --- parameters that share memory ----------------------------------------------------------


def tied(in_one_block):
    """Parameter 2 is parameter 1's array (tied weights)."""
    rng = np.random.default_rng(0)
    make = nn.Parameter if in_one_block else (lambda a: Tensor(a, requires_grad=True))
    params = [make(rng.standard_normal(s)) for s in [(5, 2), (5,), (5,), (3,)]]
    params[2].data = params[1].data
    return params


def overlapping_views(in_one_block):
    """Parameters that are views of one array: overlapping slices, and a transpose."""
    rng = np.random.default_rng(0)
    make = nn.Parameter if in_one_block else (lambda a: Tensor(a, requires_grad=True))
    params = [make(rng.standard_normal(s)) for s in [(2, 3), (6,), (3, 2), (4,)]]
    base = rng.standard_normal(10)
    params[0].data, params[1].data = base[:6].reshape(2, 3), base[3:9]
    params[2].data = params[0].data.T
    return params


@pytest.mark.parametrize("in_one_block", [False, True], ids=["separate", "in_one_block"])
@pytest.mark.parametrize("layout", [tied, overlapping_views])
@pytest.mark.parametrize("name", ["sgd_nesterov_wd", "adam_amsgrad_inside", "rmsprop_centered_momentum"])
def test_parameters_that_share_memory_are_updated_one_at_a_time(name, layout, in_one_block):
    cls, kwargs = CASES[name]
    params, reference = layout(in_one_block), layout(in_one_block)
    before = params[1].data.copy()
    opt = train(params, cls, kwargs, steps=20)
    ref_opt = train(reference, per_parameter(cls), kwargs, steps=20)
    assert opt._flat.get(opt.param_groups[0]) is None  # the per-parameter path
    assert_same(params, reference, opt, ref_opt)
    assert not np.array_equal(params[1].data, before)


def tie_between_steps(opt, params):
    params[3].data = params[1].data[:2]  # a (2,) view into the (5,) parameter


def test_parameters_tied_between_steps_are_then_updated_one_at_a_time():
    cls, kwargs = CASES["adam_amsgrad_inside"]
    params, reference = params_in_one_block(), params_in_one_block()
    edit = dict(steps=20, change_at=8, change=tie_between_steps)
    opt = train(params, cls, kwargs, **edit)
    ref_opt = train(reference, per_parameter(cls), kwargs, **edit)
    assert opt._flat.get(opt.param_groups[0]) is None
    assert_same(params, reference, opt, ref_opt)


# --- gradients missing on a step -----------------------------------------------------------


@pytest.mark.parametrize("name", ["adam_amsgrad_inside", "sgd_nesterov_wd"])
def test_a_step_without_any_gradient_in_a_group_keeps_the_group_flat(name):
    """Alternating training: each step only one group has gradients."""
    cls, kwargs = CASES[name]

    def run(optimizer_class, params):
        opt = optimizer_class([{"params": params[:3]}, {"params": params[3:]}], **kwargs)
        rng = np.random.default_rng(2)
        for k in range(20):
            for i, p in enumerate(params):
                p.grad = Tensor(rng.standard_normal(p.shape)) if (i < 3) == (k % 2 == 0) else None
            opt.step()
        return opt

    params, reference = params_in_one_block(), params_in_one_block()
    opt, ref_opt = run(cls, params), run(per_parameter(cls), reference)
    assert all(opt._flat.get(g) is not None for g in opt.param_groups)
    assert_same(params, reference, opt, ref_opt)
    assert [opt.state[p]["step"] for p in params] == [10, 10, 10, 10, 10, 10]

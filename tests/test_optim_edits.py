"""Editing an optimizer between steps, as PyTorch allows: a group's parameter list, its options, and
a checkpoint taken after an option was turned on. Each edit either gives the per-parameter path's
(and PyTorch's) numbers or raises before any parameter changes."""

from __future__ import annotations

import numpy as np
import pytest
from test_interop import need

import tinygrad_edu as tg
from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import schedules

MAKERS = {
    "SGD": lambda cls, ps: cls(ps, lr=0.1, momentum=0.9),
    "Adam": lambda cls, ps: cls(ps, lr=0.1),
    "RMSprop": lambda cls, ps: cls(ps, lr=0.01, momentum=0.5, centered=True),
}


def leaves(seed=0, sizes=(3, 2, 4)):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(n), requires_grad=True) for n in sizes]


def set_grads(params, step):
    for i, p in enumerate(params):
        p.grad = Tensor(np.cos(np.arange(p.data.size) + 3 * step + i))


def run(cls, name, edit, steps=4):
    """``steps`` steps of optimizer ``name`` (class ``cls``) on a, b, c; ``edit(group, c)`` at step 2."""
    a, b, c = leaves()
    opt = MAKERS[name](cls, [a, b])
    for step in range(steps):
        if step == 2:
            edit(opt.param_groups[0], c)
        set_grads([a, b, c], step)
        opt.step()
    return [p.data.copy() for p in (a, b, c)]


EDITS = {
    "append": lambda group, c: group["params"].append(c),
    "pop": lambda group, c: group["params"].pop(),
    "reassign": lambda group, c: group.__setitem__("params", [group["params"][0], c]),
}


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize("name", MAKERS)
def test_editing_a_group_s_parameters_gives_the_per_parameter_numbers(name, edit):
    """A KeyError from the flat path after the group's other parameters were updated (append), or
    numpy's 'Output array is the wrong shape' (pop): now the numbers of the per-parameter loop."""
    cls = getattr(optim, name)
    one_by_one = type(f"OneByOne{name}", (cls,), {})  # (a subclass does not inherit the flat path)
    ours, reference = run(cls, name, EDITS[edit]), run(one_by_one, name, EDITS[edit])
    for x, y in zip(ours, reference):
        np.testing.assert_array_equal(x, y)


def test_appending_a_parameter_trains_it_as_pytorch_does():
    torch = need("torch")
    ours = run(optim.SGD, "SGD", EDITS["append"])
    a, b, c = (torch.tensor(p.data, requires_grad=True) for p in leaves())
    opt = torch.optim.SGD([a, b], lr=0.1, momentum=0.9)
    for step in range(4):
        if step == 2:
            opt.param_groups[0]["params"].append(c)
        for i, p in enumerate((a, b, c)):
            p.grad = torch.tensor(np.cos(np.arange(p.numel()) + 3 * step + i))
        opt.step()
    for x, t in zip(ours, (a, b, c)):
        np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-14)


BAD_OPTIONS = [
    ("Adam", "eps_mode", "Inside", ValueError, r"eps_mode of group 0 must be one of"),  # ran as "hat"
    ("SGD", "nesterov", "False", TypeError, r"nesterov of group 0 must be True or False"),  # ran as True
    ("Adam", "amsgrad", "no", TypeError, r"amsgrad of group 0 must be True or False"),
    ("SGD", "momentum", -1.0, ValueError, r"momentum of group 0 must be in \[0"),
    ("SGD", "weight_decay", -1.0, ValueError, r"weight_decay of group 0 must be in \[0"),
    ("Adam", "betas", 0.9, ValueError, r"betas of group 0 must be a pair"),  # (numpy's unpacking error)
    ("SGD", "moment", 0.9, ValueError, r"unknown option\(s\) \['moment'\] in param group 0"),  # ignored
]


@pytest.mark.parametrize("name, key, value, error, message", BAD_OPTIONS)
def test_an_option_changed_between_steps_is_checked_before_anything_moves(name, key, value, error, message):
    params = leaves()
    opt = MAKERS[name](getattr(optim, name), params)
    set_grads(params, 0)
    opt.step()
    before = [p.data.copy() for p in params]
    opt.param_groups[0][key] = value
    with pytest.raises(error, match=message):
        opt.step()
    for p, old in zip(params, before):
        np.testing.assert_array_equal(p.data, old)
    assert opt.step_count == 1


def test_a_valid_change_between_steps_is_taken():
    params = leaves()
    opt = optim.Adam(params, lr=0.1)
    set_grads(params, 0)
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    opt.param_groups[0]["betas"] = [0.8, 0.99]  # a list, as the constructor takes it
    opt.step()
    assert opt.param_groups[0]["betas"] == (0.8, 0.99) and "max_exp_avg_sq" in opt.state[params[0]]


def test_a_bad_schedule_in_a_later_group_leaves_every_group_as_it_was():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": lambda s: 0.1 - 0.05 * s}], lr=0.1)
    for _ in range(3):
        a.grad, b.grad = Tensor(np.ones(3)), Tensor(np.ones(2))
        opt.step()
    before = a.data.copy(), b.data.copy()
    with pytest.raises(ValueError, match=r"the learning-rate schedule returned -0.05"):
        opt.step()  # group 0 was updated a 4th time before group 1's schedule failed
    np.testing.assert_array_equal(a.data, before[0])
    np.testing.assert_array_equal(b.data, before[1])
    assert opt.step_count == 3


TURNED_ON = [
    ("Adam", lambda cls, ps: cls(ps, lr=0.1), {"amsgrad": True}),
    ("RMSprop", lambda cls, ps: cls(ps, lr=0.01), {"momentum": 0.5}),
    ("RMSprop", lambda cls, ps: cls(ps, lr=0.01), {"centered": True}),
]


@pytest.mark.parametrize("name, make, change", TURNED_ON)
@pytest.mark.parametrize("steps_since", [0, 1])
def test_a_checkpoint_after_an_option_was_turned_on_resumes(tmp_path, name, make, change, steps_since):
    """The state dict of an optimizer whose amsgrad (momentum, centered) was turned on between steps
    could not be loaded back: the loader asked for the buffer the update makes on first use."""
    cls = getattr(optim, name)
    params = leaves(sizes=(3, 2))
    opt = make(cls, params)
    for step in range(2):
        set_grads(params, step)
        opt.step()
    opt.param_groups[0].update(change)
    for step in range(2, 2 + steps_since):
        set_grads(params[:1], step)  # params[1] has no grad: its state never gets the new buffer
        params[1].grad = None
        opt.step()
    tg.save({"opt": opt.state_dict(), "params": [p.data for p in params]}, tmp_path / "ck.tg")
    saved = tg.load(tmp_path / "ck.tg")
    resumed_params = [Tensor(d.copy(), requires_grad=True) for d in saved["params"]]
    resumed = make(cls, resumed_params)
    resumed.load_state_dict(saved["opt"])
    for step in range(4, 7):
        for ps, o in ((params, opt), (resumed_params, resumed)):
            set_grads(ps, step)
            o.step()
    for p, q in zip(params, resumed_params):
        np.testing.assert_array_equal(p.data, q.data)


# --- opt.lr: the learning rate the groups share ------------------------------------------------


def test_setting_opt_lr_changes_the_next_step():
    # before: opt.lr = 0.5 made a new attribute no step read (as in PyTorch); seed 002's
    # optimizers keep self.lr, so a student coming from them writes exactly this
    w = tg.Tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    assert opt.lr == 0.1 and opt.learning_rate == 0.1
    opt.lr = 0.5
    assert opt.param_groups[0]["lr"] == 0.5 and opt.last_lr == [0.5]
    (w * w).sum().backward()  # grad 2w
    opt.step()
    np.testing.assert_allclose(w.data, [1.0 - 0.5 * 2.0, -2.0 + 0.5 * 4.0])
    opt.learning_rate = 0.25  # Keras's name
    assert opt.lr == 0.25


def test_opt_lr_sets_every_group_and_is_checked():
    a, b = tg.Tensor([1.0], requires_grad=True), tg.Tensor([1.0], requires_grad=True)
    opt = optim.Adam([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.2}])
    with pytest.raises(AttributeError, match=r"different learning rates \(0.1, 0.2\).*\[i\]\['lr'\]"):
        _ = opt.lr
    with pytest.raises(ValueError, match="lr of group 0 must be >= 0"):
        opt.lr = -1.0
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2]  # a refused value changes nothing
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt.lr = schedule
    assert opt.lr is schedule and [g["lr"] for g in opt.param_groups] == [schedule, schedule]


def test_opt_lr_before_init_says_where_the_rate_lives():
    class Halving(optim.Optimizer):
        def __init__(self, params, lr):
            self.lr = lr  # (seed 002's habit: before super().__init__, there are no groups yet)
            super().__init__(params, dict(lr=lr))

    with pytest.raises(AttributeError, match=r"Halving: .*kept in param_groups.*super\(\).__init__"):
        Halving([tg.Tensor([1.0], requires_grad=True)], 0.1)

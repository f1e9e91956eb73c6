"""Arguments of the optimizers, schedules and moving averages that are refused with a clear message,
and results that must not be the object's own memory."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import schedules


def make_params():
    rng = np.random.default_rng(0)
    return [Tensor(rng.standard_normal(s), requires_grad=True) for s in [(3,), (2, 2)]]


# --- ExponentialMovingAverage: results are copies, shapes stay --------------------------------


@pytest.mark.parametrize(
    "options",
    [dict(bias_correction=False), dict(bias_correction=False, start="first"), dict(bias_correction=True)],
    ids=["from_zero", "from_first", "corrected"],
)
def test_writing_into_the_result_of_an_ema_leaves_the_average_alone(options):
    ema = optim.ExponentialMovingAverage(beta=0.5, **options)
    clean = optim.ExponentialMovingAverage(beta=0.5, **options)  # the same values, results untouched
    for x in (np.full(3, 2.0), np.full(3, 4.0)):
        returned = ema.update(x)
        clean.update(x)
        returned[:] = 100.0  # the caller's array, to do with as it likes
        value = ema.value
        value += 1000.0
        np.testing.assert_array_equal(ema.value, clean.value)
    np.testing.assert_array_equal(ema.update(np.ones(3)), clean.update(np.ones(3)))


def test_an_ema_whose_input_changes_shape_is_refused_with_both_shapes():
    ema = optim.ExponentialMovingAverage(beta=0.9)
    ema.update(np.ones(3))
    for x, shape in [(np.ones((2, 3)), r"\(2, 3\)"), (np.ones(1), r"\(1,\)"), (2.0, r"\(\)")]:
        message = rf"ExponentialMovingAverage.update: got a value of shape {shape}, but the values so far"
        with pytest.raises(ValueError, match=message + r" have shape \(3,\)"):
            ema.update(x)
    assert ema.t == 1  # the refused values were not counted
    ema.reset()
    assert ema.update(np.ones((2, 3))).shape == (2, 3)  # a new series may have another shape


def test_an_ema_of_numbers_stays_a_float():
    ema = optim.ExponentialMovingAverage(beta=0.9, bias_correction=False, start="first")
    assert ema.update(3) == 3.0 and isinstance(ema.value, float)
    assert ema.smooth([1.0, 2.0]).shape == (2,)


# --- yes/no options must be bools -------------------------------------------------------------

FLAGS = [
    ("SGD", "nesterov", lambda p, v: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=v)),
    ("Adam", "amsgrad", lambda p, v: optim.Adam(p, amsgrad=v)),
    ("AdamW", "amsgrad", lambda p, v: optim.AdamW(p, amsgrad=v)),
    ("RMSprop", "centered", lambda p, v: optim.RMSprop(p, centered=v)),
    ("Adam", "amsgrad", lambda p, v: optim.Adam([{"params": p[:1]}, {"params": p[1:], "amsgrad": v}])),
    ("ExponentialDecay", "staircase", lambda p, v: schedules.ExponentialDecay(0.1, 10, 0.9, staircase=v)),
    ("InverseTimeDecay", "staircase", lambda p, v: schedules.InverseTimeDecay(0.1, 10, 0.9, staircase=v)),
    ("ExponentialMovingAverage", "bias_correction",
     lambda p, v: optim.ExponentialMovingAverage(0.9, bias_correction=v)),
    ("SGD.zero_grad", "set_to_none", lambda p, v: optim.SGD(p, lr=0.1).zero_grad(set_to_none=v)),
]


@pytest.mark.parametrize("value", ["False", 0, 1, None, np.array([True])], ids=repr)
@pytest.mark.parametrize("owner, option, make", FLAGS, ids=[f"{o}-{k}" for o, k, _ in FLAGS])
def test_a_yes_no_option_that_is_not_a_bool_is_refused(owner, option, make, value):
    with pytest.raises(TypeError, match=rf"^{owner}: {option}( of group \d)? must be True or False, got "
                                        rf"{type(value).__name__}"):
        make(make_params(), value)


@pytest.mark.parametrize("owner, option, make", FLAGS, ids=[f"{o}-{k}" for o, k, _ in FLAGS])
def test_a_numpy_bool_is_a_bool(owner, option, make):
    for value in (np.True_, np.False_, True, False):
        make(make_params(), value)


def test_an_optimizer_keeps_a_numpy_bool_option_as_a_bool():
    opt = optim.Adam(make_params(), amsgrad=np.True_)
    assert opt.param_groups[0]["amsgrad"] is True
    assert type(opt.state_dict()["param_groups"][0]["amsgrad"]) is bool


def test_a_string_in_place_of_a_saved_yes_no_option_is_refused_when_loading():
    opt = optim.SGD(make_params(), lr=0.1, momentum=0.9, nesterov=True)
    saved = opt.state_dict()
    saved["param_groups"][0]["nesterov"] = "False"
    with pytest.raises(ValueError, match="option 'nesterov' of group 0 has the wrong kind of value: 'False'"):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["nesterov"] is True
    saved["param_groups"][0]["nesterov"] = np.array(False)  # what a trip through .npz gives
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["nesterov"] is False


# --- a dict in place of the parameters --------------------------------------------------------


def test_one_param_group_given_as_a_dict_says_to_wrap_it_in_a_list():
    params = make_params()
    with pytest.raises(TypeError) as info:
        optim.SGD({"params": params, "lr": 0.1})
    message = str(info.value)
    assert message.startswith("SGD: params is a dict with keys ['lr', 'params']")
    assert "an iterable of Tensors" in message and "a list of dicts each with 'params'" in message
    assert "[{'params': ..., 'lr': ...}]" in message


def test_a_models_state_dict_in_place_of_its_parameters_says_what_to_pass():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(TypeError) as info:
        optim.Adam(model.state_dict())
    message = str(info.value)
    assert message.startswith("Adam: params is a dict with keys ['0.bias', '0.weight', '2.bias', '2.weight']")
    assert "an iterable of Tensors" in message and "model.parameters()" in message
    assert "state_dict() holds copies of the arrays" in message


def test_a_dict_of_named_parameters_says_to_pass_its_values():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    named = r"SGD: params is a dict with keys \['0.bias', .*pass list\(params.values"
    with pytest.raises(TypeError, match=named):
        optim.SGD(dict(model.named_parameters()), lr=0.1)
    many = {f"w{i}": np.zeros(1) for i in range(20)}
    first_six = "'w0', 'w1', 'w10', 'w11', 'w12', 'w13'"
    with pytest.raises(TypeError, match=rf"keys \[{first_six}, \.\.\. \(20 keys\)\]"):
        optim.SGD(many, lr=0.1)

"""Optimizers, step by step against their update rules written out here in numpy.

Every expected value is computed in this file from the formula (or from the
seeds' own code, copied in), never by calling the optimizer under test.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.optim import schedules

SHAPES = [(3,), (2, 4), ()]  # a vector, a matrix and a scalar parameter
STEPS = 6


def make_params(dtype: Any = np.float64, seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def gradient(i: int, p: np.ndarray) -> np.ndarray:
    """A gradient that depends on the current parameter, so a wrong step changes all later ones."""
    return (1.0 + i) * p + np.cos(3.0 * p) - 0.3


def has_grad(i: int, step: int) -> bool:
    """The scalar parameter gets no gradient on steps 1 and 4: it must be skipped there."""
    return not (i == 2 and step in (1, 4))


def two_groups(params: list[Tensor], lr0: Any, lr1: Any, **options: Any) -> list[dict[str, Any]]:
    return [{"params": params[:2], "lr": lr0, **options}, {"params": params[2:], "lr": lr1}]


def run_optimizer(opt: optim.Optimizer, params: list[Tensor], steps: int = STEPS) -> list[list[np.ndarray]]:
    history = []
    for step in range(steps):
        opt.zero_grad()
        for i, p in enumerate(params):
            if has_grad(i, step):
                p.grad = Tensor(gradient(i, p.data))
        opt.step()
        history.append([p.data.copy() for p in params])
    return history


def run_reference(
    rule: Callable[..., np.ndarray], lrs: list[float], options: dict[str, Any], steps: int = STEPS,
    per_param_options: list[dict[str, Any]] | None = None, dtype: Any = np.float64,
) -> list[list[np.ndarray]]:
    """The same trajectories from ``rule(p, g, state, t, lr, **options) -> new p``, parameter by parameter."""
    values = [p.data.copy() for p in make_params(dtype)]
    states: list[dict[str, Any]] = [{} for _ in values]
    counts = [0] * len(values)
    history = []
    for step in range(steps):
        for i, p in enumerate(values):
            if not has_grad(i, step):
                continue
            counts[i] += 1
            opts = options if per_param_options is None else per_param_options[i]
            values[i] = rule(p, gradient(i, p), states[i], counts[i], lrs[i], **opts)
        history.append([v.copy() for v in values])
    return history


# --- the update rules, written out --------------------------------------------------------


def sgd_rule(p, g, st, t, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    g = g + weight_decay * p
    if momentum != 0:
        st["b"] = g if t == 1 else momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return p - lr * g


def momentum_rule(p, g, st, t, lr, beta=0.9):
    st["v"] = beta * st.get("v", 0.0) + (1 - beta) * g
    return p - lr * st["v"]


def adagrad_rule(p, g, st, t, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, eps_mode="outside"):
    g = g + weight_decay * p
    st["s"] = st.get("s", initial_accumulator_value) + g**2
    clr = lr / (1 + (t - 1) * lr_decay)
    if eps_mode == "outside":
        return p - clr * g / (np.sqrt(st["s"]) + eps)
    return p - clr * g / np.sqrt(st["s"] + eps)


def rmsprop_rule(p, g, st, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 eps_mode="outside"):
    g = g + weight_decay * p
    st["s"] = alpha * st.get("s", 0.0) + (1 - alpha) * g**2
    s = st["s"]
    if centered:
        st["a"] = alpha * st.get("a", 0.0) + (1 - alpha) * g
        s = s - st["a"] ** 2
    d = np.sqrt(s) + eps if eps_mode == "outside" else np.sqrt(s + eps)
    if momentum > 0:
        st["b"] = momentum * st.get("b", 0.0) + g / d
        return p - lr * st["b"]
    return p - lr * g / d


def adam_rule(p, g, st, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
              eps_mode="outside", decoupled=False):
    b1, b2 = betas
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    st["m"] = b1 * st.get("m", 0.0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0.0) + (1 - b2) * g**2
    v = st["v"]
    if amsgrad:
        st["vmax"] = np.maximum(st.get("vmax", 0.0), st["v"])
        v = st["vmax"]
    m_hat = st["m"] / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    if eps_mode == "outside":
        return p - lr * m_hat / (np.sqrt(v_hat) + eps)
    if eps_mode == "inside":
        return p - lr * m_hat / np.sqrt(v_hat + eps)
    lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    return p - lr_t * st["m"] / (np.sqrt(v) + eps)


def adamw_rule(p, g, st, t, lr, weight_decay=0.01, **options):
    return adam_rule(p, g, st, t, lr, weight_decay=weight_decay, decoupled=True, **options)


# name: (optimizer class, rule, options). Two groups: lr 0.05 and 0.02 (Adagrad, RMSprop: 0.1, 0.03).
CASES = {
    "sgd": (optim.SGD, sgd_rule, {}),
    "sgd-momentum": (optim.SGD, sgd_rule, {"momentum": 0.9}),
    "sgd-dampening-wd": (optim.SGD, sgd_rule, {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1}),
    "sgd-nesterov-wd": (optim.SGD, sgd_rule, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    "momentum": (optim.Momentum, momentum_rule, {"beta": 0.8}),
    "adagrad": (optim.Adagrad, adagrad_rule, {}),
    "adagrad-all": (optim.Adagrad, adagrad_rule, {"lr_decay": 0.1, "weight_decay": 0.2,
                                                 "initial_accumulator_value": 0.1, "eps": 1e-3}),
    "adagrad-inside": (optim.Adagrad, adagrad_rule, {"eps": 1e-3, "eps_mode": "inside"}),
    "rmsprop": (optim.RMSprop, rmsprop_rule, {}),
    "rmsprop-momentum-wd": (optim.RMSprop, rmsprop_rule, {"alpha": 0.9, "momentum": 0.5,
                                                         "weight_decay": 0.1}),
    "rmsprop-centered": (optim.RMSprop, rmsprop_rule, {"centered": True, "eps": 1e-3}),
    "rmsprop-centered-momentum-inside": (optim.RMSprop, rmsprop_rule, {"centered": True, "momentum": 0.9,
                                                                      "eps": 1e-3, "eps_mode": "inside"}),
    "adam": (optim.Adam, adam_rule, {}),
    "adam-inside": (optim.Adam, adam_rule, {"eps": 1e-3, "eps_mode": "inside"}),
    "adam-hat": (optim.Adam, adam_rule, {"eps": 1e-3, "eps_mode": "hat"}),
    "adam-amsgrad-wd": (optim.Adam, adam_rule, {"betas": (0.8, 0.9), "amsgrad": True, "weight_decay": 0.1}),
    "adam-amsgrad-inside": (optim.Adam, adam_rule, {"amsgrad": True, "eps": 1e-3, "eps_mode": "inside"}),
    "adam-amsgrad-hat": (optim.Adam, adam_rule, {"amsgrad": True, "eps": 1e-3, "eps_mode": "hat"}),
    "adamw": (optim.AdamW, adamw_rule, {}),
    "adamw-amsgrad-hat-wd": (optim.AdamW, adamw_rule, {"weight_decay": 0.3, "amsgrad": True,
                                                       "eps_mode": "hat"}),
}


def lrs_for(cls: type) -> tuple[float, float]:
    return (0.1, 0.03) if cls in (optim.Adagrad, optim.RMSprop) else (0.05, 0.02)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_its_formula_two_groups(name):
    cls, rule, options = CASES[name]
    lr0, lr1 = lrs_for(cls)
    params = make_params()
    got = run_optimizer(cls(two_groups(params, lr0, lr1), **options), params)
    expected = run_reference(rule, [lr0, lr0, lr1], options)
    for step, (g, e) in enumerate(zip(got, expected)):
        for i, (a, b) in enumerate(zip(g, e)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"{name}: step {step}, p{i}")


@pytest.mark.parametrize("name", ["sgd-nesterov-wd", "momentum", "adagrad-all", "rmsprop-centered",
                                  "adam-hat"])
def test_per_group_options(name):
    """Options given in a group override the defaults for that group only."""
    cls, rule, options = CASES[name]
    lr0, lr1 = lrs_for(cls)
    params = make_params()
    groups = [{"params": params[:2], "lr": lr0}, {"params": params[2:], "lr": lr1, **options}]
    got = run_optimizer(cls(groups), params)
    # the first group runs with the class defaults, which are the rule's defaults (see the next test)
    expected = run_reference(rule, [lr0, lr0, lr1], {}, per_param_options=[{}, {}, options])
    for g, e in zip(got, expected):
        for a, b in zip(g, e):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_defaults_are_pytorchs():
    p = make_params()
    assert optim.SGD(p, lr=0.1).defaults == dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False,
                                                 weight_decay=0.0)
    assert optim.Momentum(p, lr=0.1).defaults == dict(lr=0.1, beta=0.9)
    assert optim.Adagrad(p).defaults == dict(lr=0.01, lr_decay=0.0, weight_decay=0.0,
                                             initial_accumulator_value=0.0, eps=1e-10, eps_mode="outside")
    assert optim.RMSprop(p).defaults == dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                                             centered=False, eps_mode="outside")
    assert optim.Adam(p).defaults == dict(lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                          amsgrad=False, eps_mode="outside")
    assert optim.AdamW(p).defaults["weight_decay"] == 0.01


# --- seed 004: Keras's examples, loss = var**2 / 2 from var = 1.0, lr = 0.1, float32 ------------------


def keras_example(make: Callable[[list[Tensor]], optim.Optimizer], steps: int = 1) -> list[np.float32]:
    """Minimise var**2 / 2 with a real backward, as seed 004's opt.minimize(loss, [var]) does."""
    var = Tensor(np.array(1.0, dtype=np.float32), requires_grad=True)
    opt = make([var])
    values = [var.data[()]]
    for _ in range(steps):
        opt.zero_grad()
        loss = (var * var) / 2.0
        loss.backward()
        opt.step()
        values.append(var.data[()])
    assert var.data.dtype == np.float32
    return values


def test_seed004_sgd():
    _, v1 = keras_example(lambda p: optim.SGD(p, lr=0.1))
    assert str(v1) == "0.9"  # 1 - 0.1 * 1


def test_seed004_sgd_momentum_steps():
    # Keras: v = 0.9 * v - lr * g; var += v. Printed: 0.10000002384185791, then 0.18000000715255737.
    v0, v1, v2 = keras_example(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), steps=2)
    assert float(v0 - v1) == 0.10000002384185791
    assert float(v1 - v2) == 0.18000000715255737


def test_seed004_rmsprop():
    # Keras RMSprop(learning_rate=0.1): rho 0.9, epsilon 1e-7; the seed prints 0.6837723.
    # That is 1 - 0.1 / (sqrt(0.1) + 1e-7): TensorFlow 2's Keras put eps outside the root here.
    _, v1 = keras_example(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-7))
    assert str(v1) == "0.6837723"
    assert abs(float(v1) - (1 - 0.1 / (math.sqrt(0.1) + 1e-7))) < 6e-8
    # Keras 3 puts it inside: 1 - 0.1 / sqrt(0.1 + 1e-7) = 0.68377239..., float32 0.6837724
    _, v1 = keras_example(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-7, eps_mode="inside"))
    assert abs(float(v1) - (1 - 0.1 / math.sqrt(0.1 + 1e-7))) < 6e-8
    assert str(v1) == "0.6837724"


def test_seed004_adam():
    # Keras Adam(learning_rate=0.1), epsilon 1e-7, Kingma & Ba's lr_t form; printed: 0.90000033
    _, v1 = keras_example(lambda p: optim.Adam(p, lr=0.1, eps=1e-7, eps_mode="hat"))
    assert str(v1) == "0.90000033"
    # PyTorch's placement gives a different last digit
    _, v1_torch = keras_example(lambda p: optim.Adam(p, lr=0.1, eps=1e-7))
    assert str(v1_torch) != "0.90000033"


@pytest.mark.parametrize("eps_mode", ["inside", "outside"])
def test_seed004_adagrad(eps_mode):
    # Keras Adagrad(learning_rate=0.1, initial_accumulator_value=0.1, epsilon=1e-07): 1 - 0.1 / sqrt(1.1)
    _, v1 = keras_example(lambda p: optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=1e-7,
                                                  eps_mode=eps_mode))
    assert abs(float(v1) - (1 - 0.1 / math.sqrt(1.1))) < 6e-8
    assert str(v1) == "0.9046537"


# --- the seeds' own code, copied in ------------------------------------------------------------


def test_seed001_momentum_and_adam_dict_code():
    """update_parameters_with_momentum and update_parameters_with_adam (eps inside the root)."""
    rng = np.random.default_rng(1)
    W = rng.standard_normal((5, 2))
    b = np.zeros((5, 1))
    grads = [(rng.standard_normal((5, 2)), rng.standard_normal((5, 1))) for _ in range(5)]

    for kind in ("momentum", "adam"):
        parameters = {"W1": W.copy(), "b1": b.copy()}
        v = {"dW1": np.zeros((5, 2)), "db1": np.zeros((5, 1))}
        s = {"dW1": np.zeros((5, 2)), "db1": np.zeros((5, 1))}
        tW, tb = Tensor(W.copy(), requires_grad=True), Tensor(b.copy(), requires_grad=True)
        if kind == "momentum":
            opt = optim.Momentum([tW, tb], lr=0.07, beta=0.9)
        else:
            opt = optim.Adam([tW, tb], lr=0.01, betas=(0.9, 0.999), eps=1e-8, eps_mode="inside")
        for t, (dW, db) in enumerate(grads, start=1):
            g = {"dW1": dW, "db1": db}
            if kind == "momentum":
                beta, learning_rate = 0.9, 0.07
                v["dW1"] = beta * v["dW1"] + (1 - beta) * g["dW1"]
                v["db1"] = beta * v["db1"] + (1 - beta) * g["db1"]
                parameters["W1"] = parameters["W1"] - learning_rate * v["dW1"]
                parameters["b1"] = parameters["b1"] - learning_rate * v["db1"]
            else:
                learning_rate, beta1, beta2, epsilon = 0.01, 0.9, 0.999, 1e-8
                for k in ("W1", "b1"):
                    d = "d" + k
                    v[d] = beta1 * v[d] + (1 - beta1) * g[d]
                    v_corrected = v[d] / (1 - np.power(beta1, t))
                    s[d] = beta2 * s[d] + (1 - beta2) * np.power(g[d], 2)
                    s_corrected = s[d] / (1 - np.power(beta2, t))
                    parameters[k] = (parameters[k]
                                     - learning_rate * v_corrected / np.sqrt(s_corrected + epsilon))
            tW.grad, tb.grad = Tensor(dW), Tensor(db)
            opt.step()
            np.testing.assert_allclose(tW.data, parameters["W1"], rtol=1e-13, err_msg=kind)
            np.testing.assert_allclose(tb.data, parameters["b1"], rtol=1e-13, atol=1e-16, err_msg=kind)


def test_seed002_dlfs_adagrad_and_adam_classes():
    """Seed 002's AdaGrad (eps 1e-7 outside) and Adam (lr_t form, eps 1e-7) classes."""
    rng = np.random.default_rng(2)
    start = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(6)]

    h = np.zeros_like(start)
    x = start.copy()
    p = Tensor(start.copy(), requires_grad=True)
    opt = optim.Adagrad([p], lr=0.01, eps=1e-7)
    for g in grads:
        h += g * g
        x -= 0.01 * g / (np.sqrt(h) + 1e-7)
        p.grad = Tensor(g)
        opt.step()
        np.testing.assert_allclose(p.data, x, rtol=1e-13)

    lr, beta1, beta2 = 0.001, 0.9, 0.999
    m, v = np.zeros_like(start), np.zeros_like(start)
    x = start.copy()
    p = Tensor(start.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=1e-7, eps_mode="hat")
    for it, g in enumerate(grads, start=1):
        lr_t = lr * np.sqrt(1.0 - beta2**it) / (1.0 - beta1**it)
        m += (1 - beta1) * (g - m)
        v += (1 - beta2) * (g**2 - v)
        x -= lr_t * m / (np.sqrt(v) + 1e-7)
        p.grad = Tensor(g)
        opt.step()
        np.testing.assert_allclose(p.data, x, rtol=1e-13)


def test_seed000_adam_without_epsilon_is_eps_zero():
    """Seed 000's Adam divides by sqrt(s_corrected) with no epsilon at all: eps=0 in every mode."""
    rng = np.random.default_rng(3)
    start, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(4)]
    for mode in ("outside", "inside", "hat"):
        v, s, x = np.zeros(4), np.zeros(4), start.copy()
        p = Tensor(start.copy(), requires_grad=True)
        opt = optim.Adam([p], lr=0.01, eps=0.0, eps_mode=mode)
        for t, g in enumerate(grads, start=1):
            v = 0.9 * v + 0.1 * g
            s = 0.999 * s + 0.001 * g**2
            x = x - 0.01 * (v / (1 - 0.9**t)) / np.sqrt(s / (1 - 0.999**t))
            p.grad = Tensor(g)
            opt.step()
            np.testing.assert_allclose(p.data, x, rtol=1e-12, err_msg=mode)



def test_seed000_adam_without_epsilon_cannot_train_the_courses_network():
    """As docs/optimizers.md says: on the course's run, one unit of the second layer is off for
    every sample of the first batch, its weights' gradients are exactly 0, and seed 000's
    ``v_corrected / np.sqrt(s_corrected)`` is 0 / 0 there: NaN, with numpy's warning."""
    from tinygrad_edu import data

    X, y = data.make_moons(300, noise=0.2, seed=3)
    rng = np.random.RandomState(3)
    model = nn.Sequential(nn.Linear(2, 5, rng=rng, dtype=np.float64), nn.ReLU(),
                          nn.Linear(5, 2, rng=rng, dtype=np.float64), nn.ReLU(),
                          nn.Linear(2, 1, rng=rng, dtype=np.float64), nn.Sigmoid())  # the course's float64
    xb, yb = data.random_mini_batches(X, y, 64, 11)[0]
    nn.BCELoss()(model(Tensor(xb)), Tensor(yb.reshape(-1, 1))).backward()
    grads = {name: p.grad.data.copy() for name, p in model.named_parameters()}
    assert (grads["2.weight"] == 0).all(axis=1).sum() == 1  # one unit gets no gradient at all
    course = {}
    for name, p in model.named_parameters():  # seed 000's update at t = 1, written out
        v, s = 0.1 * grads[name], 0.001 * grads[name] ** 2
        with np.errstate(invalid="ignore"):
            course[name] = p.data - 0.0007 * (v / 0.1) / np.sqrt(s / 0.001)
    opt = optim.Adam(model.parameters(), lr=0.0007, eps=0.0, eps_mode="inside")
    with pytest.warns(RuntimeWarning, match="invalid value"):
        opt.step()
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(np.isnan(p.data), np.isnan(course[name]), err_msg=name)
        np.testing.assert_allclose(p.data, course[name], rtol=1e-12, err_msg=name)
    assert np.isnan(model[2].weight.data).any()

# --- the base class: groups, state, skipping, in place ---------------------------------------------


def test_updates_in_place_and_skips_missing_grads():
    params = make_params()
    arrays = [p.data for p in params]
    opt = optim.Adam(params, lr=0.1)
    params[0].grad = Tensor(np.ones(3))
    grad_array = params[0].grad.data.copy()
    before = [p.data.copy() for p in params]
    opt.step()
    assert all(p.data is a for p, a in zip(params, arrays))  # the same ndarrays, changed in place
    assert not np.array_equal(params[0].data, before[0])
    np.testing.assert_array_equal(params[1].data, before[1])  # grad None: untouched
    np.testing.assert_array_equal(params[0].grad.data, grad_array)  # the grad is not modified
    assert set(opt.state) == {params[0]}  # state is made lazily, only for updated parameters
    assert opt.state[params[0]]["step"] == 1


def test_weight_decay_does_not_modify_the_grad():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    p.grad = Tensor(np.array([0.5, 0.5]))
    for opt in (optim.SGD([p], lr=0.1, weight_decay=0.5, momentum=0.9), optim.Adam([p], weight_decay=0.5),
                optim.RMSprop([p], weight_decay=0.5), optim.Adagrad([p], weight_decay=0.5)):
        opt.step()
        np.testing.assert_array_equal(p.grad.data, [0.5, 0.5])


def test_zero_grad_sets_none():
    params = make_params()
    for p in params:
        p.grad = Tensor(np.ones(p.shape))
    opt = optim.SGD(params, lr=0.1)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.step()  # nothing to do, no error


def test_float32_stays_float32():
    params = make_params(np.float32)
    for cls in (optim.SGD, optim.Momentum, optim.Adagrad, optim.RMSprop, optim.Adam, optim.AdamW):
        opt = cls(params, lr=0.01)
        for p in params:
            p.grad = Tensor(np.ones(p.shape, dtype=np.float32))
        opt.step()
        opt.step()
        for p in params:
            assert p.data.dtype == np.float32, cls.__name__
            for key, value in opt.state[p].items():
                if isinstance(value, np.ndarray):
                    assert value.dtype == np.float32, (cls.__name__, key)


def test_params_may_be_a_generator_and_groups_keep_order():
    params = make_params()
    opt = optim.SGD((p for p in params), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 3
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], params))
    opt = optim.SGD([{"params": params[0]}, {"params": params[1:], "momentum": 0.5}], lr=0.3)
    assert opt.param_groups[0]["params"][0] is params[0]
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.param_groups[0]["momentum"] == 0.0
    assert opt.param_groups[1]["lr"] == 0.3


def test_closure_is_called_and_its_loss_returned():
    p = Tensor(np.array([2.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 4.0
    np.testing.assert_allclose(p.data, [2.0 - 0.25 * 4.0])


def test_repr_lists_group_options():
    text = repr(optim.Adam(make_params(), lr=0.5))
    assert text.startswith("Adam (") and "Parameter Group 0" in text and "lr: 0.5" in text


# --- learning-rate schedules inside an optimizer --------------------------------------------------


def test_schedule_lr_is_evaluated_at_the_step_count_from_zero():
    p = Tensor(np.array([0.0]), requires_grad=True)
    lr = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    opt = optim.SGD([p], lr=lr)
    assert opt.param_groups[0]["lr"] is lr  # the group keeps the schedule
    assert opt.last_lr == [0.1]  # before any step: what the first step will use
    expected_lrs = [0.1, 0.1, 0.05, 0.05, 0.025]  # 0.1 * 0.5 ** floor(step / 2), step = 0, 1, 2, ...
    x = 0.0
    for k, expected in enumerate(expected_lrs):
        p.grad = Tensor(np.array([1.0]))
        opt.step()
        x -= expected * 1.0
        assert opt.last_lr == [pytest.approx(expected, rel=1e-15)]
        assert opt.step_count == k + 1
        np.testing.assert_allclose(p.data, [x], rtol=1e-15)


def test_custom_callable_lr_and_last_lr_per_group():
    params = make_params()
    seen = []

    def lr(step):
        seen.append(step)
        return 1.0 / (step + 1)

    opt = optim.SGD([{"params": params[:1], "lr": lr}, {"params": params[1:], "lr": 0.5}])
    for _ in range(3):
        for p in params:
            p.grad = Tensor(np.zeros(p.shape))
        opt.step()
    assert seen[-3:] == [0, 1, 2]
    assert opt.last_lr == [1.0 / 3.0, 0.5]


def test_schedule_counts_steps_even_without_grads():
    """Like Keras's iterations: the schedule follows step() calls; bias correction follows each parameter."""
    p, q = make_params()[:2]
    opt = optim.Adam([{"params": [p], "lr": lambda s: 0.1 * (s + 1)}, {"params": [q]}], lr=0.01)
    p.grad = None
    q.grad = Tensor(np.ones(q.shape))
    opt.step()
    opt.step()
    assert opt.step_count == 2 and opt.last_lr[0] == pytest.approx(0.2)
    assert p not in opt.state and opt.state[q]["step"] == 2


# --- state dicts --------------------------------------------------------------------------------


ROUND_TRIP = ["sgd-nesterov-wd", "sgd-momentum", "momentum", "adagrad-all",
              "rmsprop-centered-momentum-inside", "adam-amsgrad-wd", "adam-hat", "adamw"]


def _allowed_leaves(obj: Any, where: str = "sd") -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            assert isinstance(k, (str, int)), where
            _allowed_leaves(v, f"{where}[{k!r}]")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            _allowed_leaves(v, f"{where}[{i}]")
    else:
        assert obj is None or isinstance(obj, (np.ndarray, bool, int, float, str)), (where, type(obj))


def _like_npz(obj: Any) -> Any:
    """What a trip through .npz may do: numbers -> 0-d arrays, tuples -> lists, int keys -> str."""
    if isinstance(obj, dict):
        return {str(k): _like_npz(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_like_npz(v) for v in obj]
    if isinstance(obj, (bool, int, float, str)):
        return np.asarray(obj)
    return obj


def _continue_after_load(name: str, transform: Callable[[Any], Any]) -> None:
    cls, _, options = CASES[name]
    lr0, lr1 = lrs_for(cls)
    params = make_params()
    opt = cls(two_groups(params, lr0, lr1), **options)
    run_optimizer(opt, params, steps=4)
    saved_values = [p.data.copy() for p in params]
    sd = opt.state_dict()
    _allowed_leaves(sd)
    uninterrupted = run_optimizer(opt, params, steps=5)

    fresh = [Tensor(v.copy(), requires_grad=True) for v in saved_values]
    opt2 = cls(two_groups(fresh, 123.0, 456.0))  # other options: the saved ones must win
    opt2.load_state_dict(transform(sd))
    assert opt2.step_count == 4
    resumed = run_optimizer(opt2, fresh, steps=5)
    for a_step, b_step in zip(uninterrupted, resumed):
        for a, b in zip(a_step, b_step):
            np.testing.assert_array_equal(a, b)  # bit for bit


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip_continues_identically(name):
    _continue_after_load(name, lambda sd: sd)


@pytest.mark.parametrize("name", ["sgd-momentum", "adam-amsgrad-wd", "rmsprop-centered-momentum-inside"])
def test_state_dict_survives_npz_like_types(name):
    _continue_after_load(name, _like_npz)


def test_state_dict_through_a_checkpoint_file(tmp_path):
    serialization = pytest.importorskip("tinygrad_edu.serialization")
    _continue_after_load("adam-amsgrad-wd", lambda sd: (serialization.save(sd, tmp_path / "opt.npz"),
                                                       serialization.load(tmp_path / "opt.npz"))[1])


def test_state_dict_shape():
    params = make_params()
    opt = optim.Adam(two_groups(params, 0.1, 0.2), amsgrad=True)
    params[0].grad = Tensor(np.ones(3))
    params[2].grad = Tensor(np.array(1.0))
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups", "step_count", "optimizer"} and sd["optimizer"] == "Adam"
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert sd["param_groups"][0]["betas"] == [0.9, 0.999] and sd["param_groups"][1]["lr"] == 0.2
    assert sorted(sd["state"]) == [0, 2]  # parameter 1 had no grad yet
    assert sd["state"][0]["step"] == 1 and sd["step_count"] == 1
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    sd["state"][0]["exp_avg"] += 100.0  # a copy: the optimizer is not affected
    assert np.all(opt.state[params[0]]["exp_avg"] < 1.0)


def test_state_dict_with_a_schedule():
    params = make_params()
    lr = schedules.PiecewiseConstantDecay([1, 3], [0.3, 0.2, 0.1])
    opt = optim.SGD(params, lr=lr, momentum=0.5)
    run_optimizer(opt, params, steps=3)  # steps 0, 1, 2 at rates 0.3, 0.3 (step <= 1), 0.2
    sd = opt.state_dict()
    assert sd["param_groups"][0]["lr"] == {"schedule": "PiecewiseConstantDecay",
                                           "config": {"boundaries": [1.0, 3.0], "values": [0.3, 0.2, 0.1]}}
    after = [p.data.copy() for p in params]
    uninterrupted = run_optimizer(opt, params, steps=3)

    # into an optimizer built with the same schedule, and into one built with a plain number
    for lr_at_build in (lr, 0.5):
        fresh = [Tensor(v.copy(), requires_grad=True) for v in after]
        opt2 = optim.SGD(fresh, lr=lr_at_build, momentum=0.5)
        opt2.load_state_dict(_like_npz(sd))
        assert isinstance(opt2.param_groups[0]["lr"], schedules.PiecewiseConstantDecay)
        assert opt2.last_lr == [0.2]  # the rate of the latest step (step 2)
        resumed = run_optimizer(opt2, fresh, steps=3)
        for a_step, b_step in zip(uninterrupted, resumed):
            for a, b in zip(a_step, b_step):
                np.testing.assert_array_equal(a, b)


def test_state_dict_with_a_custom_callable_lr():
    params = make_params()
    opt = optim.SGD(params, lr=lambda step: 0.1 / (1 + step))
    run_optimizer(opt, params, steps=2)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["lr"]["schedule"] == "custom"
    optim.SGD(make_params(), lr=lambda step: 0.1 / (1 + step)).load_state_dict(sd)  # fine
    with pytest.raises(ValueError, match="custom schedule"):
        optim.SGD(make_params(), lr=0.1).load_state_dict(sd)



class Warmup(schedules.LearningRateSchedule):
    """A schedule of one's own, written as schedules.md teaches: linear warm-up to a peak."""

    def __init__(self, peak, steps):
        self.peak, self.steps = peak, steps

    def __call__(self, step):
        return self.peak * min(1.0, (step + 1) / self.steps)

    def get_config(self):
        return {"peak": self.peak, "steps": self.steps}


def test_a_schedule_subclass_of_ones_own_loads_with_its_saved_arguments(tmp_path):
    # before: saved as {"name": "Warmup"} alone, and loading kept the schedule the new optimizer
    # was built with (Warmup(0.1, 10) here), so a resumed run went on at another learning rate
    params = make_params()
    opt = optim.SGD(params, lr=Warmup(0.5, 4), momentum=0.5)
    run_optimizer(opt, params, steps=2)
    tg.save(opt.state_dict(), tmp_path / "opt.npz")
    fresh = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    uninterrupted = run_optimizer(opt, params, steps=3)
    opt2 = optim.SGD(fresh, lr=Warmup(0.1, 10), momentum=0.5)
    opt2.load_state_dict(tg.load(tmp_path / "opt.npz"))
    lr = opt2.param_groups[0]["lr"]
    assert type(lr) is Warmup and (lr.peak, lr.steps) == (0.5, 4)
    assert opt2.last_lr == [0.5 * 2 / 4]  # the rate of the latest step, step 1: 0.5 * (1 + 1) / 4
    resumed = run_optimizer(opt2, fresh, steps=3)
    for a_step, b_step in zip(uninterrupted, resumed):
        for a, b in zip(a_step, b_step):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"was a Warmup\(peak=0.5, steps=4\), but the optimizer's lr is"):
        optim.SGD(make_params(), lr=lambda step: 0.1).load_state_dict(tg.load(tmp_path / "opt.npz"))


# --- errors -------------------------------------------------------------------------------------


def test_bad_params_are_clear_errors():
    a, b, c = make_params()
    with pytest.raises(TypeError, match="set"):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="expected a Tensor"):
        optim.Adam([a, np.zeros(3)])
    with pytest.raises(ValueError, match="does not require grad"):
        optim.Adam([a, Tensor(np.zeros(2))])
    with pytest.raises(ValueError, match="leaf"):
        optim.Adam([a * 2.0])
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([a, b, a])
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([{"params": [a, b]}, {"params": [b]}])
    with pytest.raises(TypeError, match="set"):
        optim.Adam([{"params": {a}}])
    with pytest.raises(ValueError, match="no 'params'"):
        optim.Adam([{"lr": 0.1}])
    with pytest.raises(TypeError, match="must be a dict"):
        optim.Adam([{"params": [a]}, b])
    with pytest.raises(TypeError, match="expected a Tensor"):
        optim.Adam([a, {"params": [b]}])
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: optim.SGD(p), "no 'lr'"),
        (lambda p: optim.Momentum(p), "no 'lr'"),
        (lambda p: optim.SGD(p, lr=-0.1), "lr of group 0 must be >= 0"),
        (lambda p: optim.SGD(p, lr="0.1"), "lr of group 0 must be a number or a schedule"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "momentum"),
        (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov"),
        (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
        (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-3), "weight_decay"),
        (lambda p: optim.SGD([{"params": p, "momentun": 0.9}], lr=0.1),
         r"unknown option\(s\) \['momentun'\]"),
        (lambda p: optim.Momentum(p, lr=0.1, beta=1.0), "beta"),
        (lambda p: optim.Adagrad(p, eps_mode="hat"), "eps_mode"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
        (lambda p: optim.RMSprop(p, alpha=1.5), "alpha"),
        (lambda p: optim.RMSprop(p, eps_mode="middle"), "eps_mode"),
        (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "betas"),
        (lambda p: optim.Adam(p, betas=0.9), "betas"),
        (lambda p: optim.Adam(p, eps=-1e-8), "eps"),
        (lambda p: optim.AdamW(p, eps_mode="Hat"), "eps_mode"),
        (lambda p: optim.Adam([{"params": p[:1]}, {"params": p[1:], "betas": (1.2, 0.9)}]), "group 1"),
    ],
)
def test_bad_options_are_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(make_params())


def test_bad_grads_and_schedules_are_clear_errors():
    a = make_params()[0]
    opt = optim.SGD([a], lr=0.1)
    a.grad = Tensor(np.ones(3))
    a.data = np.zeros(4)  # (a new array of another shape, its grad left as it was)
    with pytest.raises(ValueError, match=r"shape \(4,\).*grad of shape \(3,\)"):
        opt.step()
    a.data = np.zeros(3)
    with pytest.raises(ValueError, match="schedule returned -1.0 at step 0"):
        optim.SGD([a], lr=lambda step: -1.0).step()
    with pytest.raises(TypeError, match="schedule returned 'fast'"):
        optim.SGD([a], lr=lambda step: "fast").step()


def test_load_state_dict_mismatches_are_clear_errors():
    params = make_params()
    adam = optim.Adam(params)
    run_optimizer(adam, params, steps=1)
    sd = adam.state_dict()

    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        adam.load_state_dict({"state": {}})
    with pytest.raises(ValueError, match=r"has 1 param group\(s\), this optimizer has 2"):
        optim.Adam(two_groups(make_params(), 0.1, 0.1)).load_state_dict(sd)
    with pytest.raises(ValueError, match="3 parameter"):
        optim.Adam(make_params()[:2]).load_state_dict(sd)
    with pytest.raises(ValueError, match="saved by Adam, whose steps differ"):
        optim.SGD(make_params(), lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="another optimizer"):  # a state dict without the class name
        optim.SGD(make_params(), lr=0.1).load_state_dict({k: v for k, v in sd.items() if k != "optimizer"})
    wrong = {k: {kk: vv for kk, vv in v.items() if kk != "exp_avg"} for k, v in sd["state"].items()}
    with pytest.raises(ValueError, match=r"the saved state lacks \['exp_avg'\]"):
        optim.Adam(make_params()).load_state_dict(dict(sd, state=wrong))
    ams = optim.Adam(make_params(), amsgrad=True)
    ams.load_state_dict(sd)  # the saved options win, as in PyTorch
    assert ams.param_groups[0]["amsgrad"] is False

    wrong_shape = optim.Adam(make_params()).state_dict()
    wrong_shape["param_groups"] = sd["param_groups"]
    wrong_shape["state"] = {0: dict(sd["state"][0], exp_avg=np.zeros(7))}
    target = optim.Adam(make_params())
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 should be a float array of shape \(3,\)"):
        target.load_state_dict(wrong_shape)
    assert target.state == {} and target.step_count == 0  # nothing changed by the failed load

    bad_index = dict(sd, state={9: sd["state"][0]})
    with pytest.raises(ValueError, match="parameter 9"):
        optim.Adam(make_params()).load_state_dict(bad_index)
    bad_option = dict(sd, param_groups=[dict(sd["param_groups"][0], eps_mode="sideways")])
    with pytest.raises(ValueError, match="eps_mode"):
        optim.Adam(make_params()).load_state_dict(bad_option)


@pytest.mark.parametrize("step, words", [
    (-5, "whole number >= 0, got -5"), (2.7, "whole number >= 0, got 2.7"),
    (np.array([1, 2]), r"whole number >= 0, got an array of shape \(2,\)"), ("3", "got a str"),
])
def test_load_state_dict_refuses_a_step_count_that_cannot_be(step, words):
    # A negative or fractional step would shift Adam's bias correction 1 - beta**t silently.
    params = make_params()
    adam = optim.Adam(params)
    run_optimizer(adam, params, steps=2)
    sd = adam.state_dict()
    one_step = dict(sd, state={**sd["state"], 0: dict(sd["state"][0], step=step)})
    for edited in (one_step, dict(sd, step_count=step)):
        target = optim.Adam(make_params())
        where = r"Adam.load_state_dict: '(step' of parameter 0|step_count').*"
        with pytest.raises(ValueError, match=where + words):
            target.load_state_dict(edited)
        assert target.state == {} and target.step_count == 0
    torch_like = dict(sd, state={k: dict(v, step=float(v["step"])) for k, v in sd["state"].items()})
    target = optim.Adam(make_params())
    target.load_state_dict(torch_like)  # a whole float, as PyTorch saves its step, is a count
    assert [(type(st["step"]), st["step"]) for st in target.state.values()] == [
        (int, st["step"]) for st in sd["state"].values()
    ]


def test_load_state_dict_given_a_checkpoint_or_a_model_state_names_the_entry_to_pass():
    model = nn.Linear(2, 1)
    adam = optim.Adam(model.parameters())
    checkpoint = {"model": model.state_dict(), "optimizer": adam.state_dict(), "epoch": 3}
    words = r"got a dict with keys 'epoch', 'model', 'optimizer': a checkpoint\? Pass its optimizer entry"
    with pytest.raises(ValueError, match=words + r", checkpoint\['optimizer'\]"):
        adam.load_state_dict(checkpoint)
    words = "a dict of arrays with keys 'bias', 'weight': a model's state_dict, which model.load_state_dict"
    with pytest.raises(ValueError, match=words):
        adam.load_state_dict(model.state_dict())
    adam.load_state_dict(checkpoint["optimizer"])


# --- an optimizer a student writes: one _update call per parameter, with that parameter's arrays ---


class NormalisedSGD(optim.Optimizer):
    """p = p - lr * g / ||g||: every parameter moves by exactly lr, whatever its gradient's size."""

    def __init__(self, params: Any, lr: float = 0.1) -> None:
        super().__init__(params, dict(lr=lr))
        self.shapes_seen: list[tuple[int, ...]] = []

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict, lr: float) -> None:
        self.shapes_seen.append(param.shape)
        param -= lr * grad / np.linalg.norm(grad)


def regression_model_and_data():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Tanh(), nn.Linear(4, 1, dtype=np.float64))
    rng = np.random.default_rng(1)
    X = rng.standard_normal((16, 3))
    y = np.sin(X.sum(axis=1, keepdims=True))
    return model, nn.MSELoss(), Tensor(X), y


def test_a_custom_normalised_sgd_moves_every_parameter_by_exactly_lr():
    model, loss_fn, X, y = regression_model_and_data()
    params = list(model.parameters())
    shapes = [p.shape for p in params]
    opt = NormalisedSGD(params, lr=0.05)
    for _ in range(10):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        before = [p.data.copy() for p in params]
        grads = [p.grad.data.copy() for p in params]
        opt.step()
        for p, b, g in zip(params, before, grads):
            step = p.data - b
            assert math.isclose(float(np.sqrt((step**2).sum())), 0.05, rel_tol=1e-12)
            np.testing.assert_allclose(step, -0.05 * g / np.sqrt((g**2).sum()), rtol=1e-12, atol=1e-15)
    assert opt.shapes_seen == shapes * 10  # one call per parameter, in order, each with its own shape


def test_a_subclass_of_a_built_in_optimizer_gets_one_parameter_at_a_time():
    class ClippedSGD(optim.SGD):
        """SGD whose step is cut to norm 0.01 per parameter: not elementwise, so it must not run flat."""

        def _update(self, param, grad, state, group, lr):
            norm = np.sqrt((grad**2).sum())
            super()._update(param, grad * min(1.0, 0.01 / (lr * norm)), state, group, lr)

    model, loss_fn, X, y = regression_model_and_data()
    params = list(model.parameters())
    opt = ClippedSGD(params, lr=1.0)
    loss_fn(model(X), y).backward()
    before = [p.data.copy() for p in params]
    grads = [p.grad.data.copy() for p in params]
    opt.step()
    for p, b, g in zip(params, before, grads):
        norm = np.sqrt((g**2).sum())
        np.testing.assert_allclose(p.data, b - g * min(1.0, 0.01 / norm), rtol=1e-12, atol=1e-15)


class LazyMomentum(optim.Optimizer):
    """PyTorch's style: no _init_state; the buffer and a running number are made on the first update."""

    def __init__(self, params: Any, lr: float = 0.1, beta: float = 0.9) -> None:
        super().__init__(params, dict(lr=lr, beta=beta))

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict, lr: float) -> None:
        if "v" not in state:
            state["v"] = np.zeros_like(param)
            state["gnorm_ema"] = 0.0
        state["v"] *= group["beta"]
        state["v"] += grad
        state["gnorm_ema"] = 0.9 * state["gnorm_ema"] + 0.1 * float(np.linalg.norm(grad))
        param -= lr * state["v"] / (1.0 + state["gnorm_ema"])


class ScalarState(optim.Optimizer):
    """State made by _init_state that holds numbers besides arrays."""

    def __init__(self, params: Any, lr: float = 0.1) -> None:
        super().__init__(params, dict(lr=lr))

    def _init_state(self, param: np.ndarray, group: dict) -> dict:
        numbers = {"ema": 0.0, "peak": np.float32(0), "scale": np.array(1.0), "hits": 0}
        return {"step": 0, **numbers, "v": np.zeros_like(param)}

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict, lr: float) -> None:
        norm = float(np.linalg.norm(grad))
        state["ema"] = 0.9 * state["ema"] + 0.1 * norm
        state["peak"] = max(state["peak"], np.float32(norm))
        state["scale"] = state["scale"] * 0.5
        state["hits"] += 1
        state["v"] += grad
        param -= lr * state["scale"] * state["v"] / (state["ema"] + state["peak"] + 1e-8)


@pytest.mark.parametrize("cls", [LazyMomentum, ScalarState])
def test_custom_state_made_on_first_use_or_holding_numbers_loads_and_resumes(cls, tmp_path):
    params = make_params()
    opt = cls(params, lr=0.05)
    run_optimizer(opt, params, steps=3)  # the scalar parameter is skipped on step 1: state of its own step
    tg.save(opt.state_dict(), tmp_path / "opt.npz")
    resumed_params = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    resumed = cls(resumed_params, lr=0.5)
    resumed.load_state_dict(tg.load(tmp_path / "opt.npz"))
    for p, q in zip(params, resumed_params):
        kinds = {k: type(v) for k, v in opt.state[p].items()}
        assert {k: type(v) for k, v in resumed.state[q].items()} == kinds  # a float stays a float, ...
    run_optimizer(opt, params, steps=3)
    run_optimizer(resumed, resumed_params, steps=3)
    for p, q in zip(params, resumed_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_custom_state_that_does_not_match_is_still_a_clear_error():
    params = make_params()
    opt = ScalarState(params)
    run_optimizer(opt, params, steps=1)
    sd = opt.state_dict()
    bad = {
        "'ema' of parameter 0 should be a number like 0.0": dict(sd["state"][0], ema=np.zeros(3)),
        "'hits' of parameter 0 should be a number like 0": dict(sd["state"][0], hits=2.5),  # int, not float
        r"'v' of parameter 0 should be a float array of shape \(3,\)": dict(sd["state"][0], v=np.zeros(2)),
        "'extra' of parameter 0 should hold numbers": dict(sd["state"][0], extra=np.array(["a", "b"])),
        r"'extra' of parameter 0 should be a float array of shape \(3,\)": dict(
            sd["state"][0], extra=np.array(["a", "b", "c"])
        ),
        r"lacks \['ema'\]": {k: v for k, v in sd["state"][0].items() if k != "ema"},
    }
    for message, entry in bad.items():
        target = ScalarState(make_params())
        with pytest.raises(ValueError, match=message):
            target.load_state_dict(dict(sd, state={0: entry}))
        assert target.state == {}


def test_defaults_without_lr_are_a_clear_error():
    class NoLr(optim.Optimizer):
        def __init__(self, params: Any, eta: float = 0.1) -> None:
            super().__init__(params, dict(eta=eta))

    with pytest.raises(ValueError, match=r"NoLr: the defaults .* have no 'lr'"):
        NoLr(make_params())


# --- every in-place change of a parameter's array is marked, so an older graph cannot use it ---------


STEPPERS = {
    "built_in_flat": lambda ps: optim.Adam(ps, lr=0.1),
    "built_in_per_parameter": lambda ps: optim.Adam([{"params": [p]} for p in ps], lr=0.1),
    "custom": lambda ps: NormalisedSGD(ps),
}


@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_a_step_marks_each_parameter_it_changes_and_only_those(name):
    model, loss_fn, X, y = regression_model_and_data()
    params = list(model.parameters())
    opt = STEPPERS[name](params)
    loss_fn(model(X), y).backward()
    versions = [p._version for p in params]
    opt.step()
    assert all(p._version > v for p, v in zip(params, versions))
    versions = [p._version for p in params]
    params[0].grad = None  # skipped on the next step: not changed, not marked
    opt.step()
    assert params[0]._version == versions[0]
    assert all(p._version > v for p, v in zip(params[1:], versions[1:]))


@pytest.mark.parametrize("name", sorted(STEPPERS))
def test_a_step_between_forward_and_backward_makes_backward_raise(name):
    model, loss_fn, X, y = regression_model_and_data()
    opt = STEPPERS[name](list(model.parameters()))
    loss_fn(model(X), y).backward()
    loss = loss_fn(model(X), y)  # recorded with the current weights
    opt.step()  # changes them in place
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_module_load_state_dict_marks_the_parameters():
    model, loss_fn, X, y = regression_model_and_data()
    versions = {name: p._version for name, p in model.named_parameters()}
    loss = loss_fn(model(X), y)
    model.load_state_dict(model.state_dict())
    assert all(p._version > versions[name] for name, p in model.named_parameters())
    with pytest.raises(RuntimeError, match="modified"):
        loss.backward()


def test_zero_grad_keeps_pytorchs_set_to_none_choice():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = Tensor(np.array([3.0, 4.0]))
    kept = p.grad
    opt.zero_grad(set_to_none=False)  # before: a TypeError
    assert p.grad is kept and np.array_equal(kept.data, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None
    model = nn.Linear(2, 1)
    (model(Tensor(np.ones((1, 2)))).sum()).backward()
    model.zero_grad(set_to_none=False)
    assert all(np.array_equal(q.grad.data, np.zeros(q.shape)) for q in model.parameters())


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_an_lr_changed_in_param_groups_to_a_bad_value_is_refused_at_the_step(name):
    w = Tensor(np.ones(2), requires_grad=True)
    opt = getattr(optim, name)([w], lr=0.1)
    (w * w).sum().backward()
    for bad, kind in [(-1.0, ValueError), ("fast", TypeError), (math.nan, ValueError), (None, TypeError)]:
        opt.param_groups[0]["lr"] = bad
        with pytest.raises(kind, match=rf"{name}: a group's lr is .* \(was param_groups\[i\]"):
            opt.step()
        np.testing.assert_array_equal(w.data, [1.0, 1.0])  # not stepped uphill, nor at all
    opt.param_groups[0]["lr"] = np.float32(0.25)  # any finite number >= 0 is taken
    opt.step()
    assert (w.data < 1.0).all()


def test_a_schedule_that_cannot_take_the_step_is_refused_when_the_optimizer_is_made():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=r"SGD: lr of group 0 is a callable that cannot be called with one "):
        optim.SGD([w], lr=lambda: 0.1)
    with pytest.raises(TypeError, match="lr of group 1 is a callable"):
        other = Tensor(np.ones(1), requires_grad=True)
        optim.SGD([{"params": [w]}, {"params": [other], "lr": lambda a, b: 1}], lr=0.1)
    optim.SGD([w], lr=lambda step, scale=1.0: 0.1 * scale)  # one argument is enough


def test_a_schedule_may_return_a_0_d_array_or_a_one_element_tensor():
    w = Tensor(np.ones(2), requires_grad=True)
    (w * w).sum().backward()
    optim.SGD([w], lr=lambda step: np.array(0.25)).step()  # grad 2: 1 - 0.5
    optim.SGD([w], lr=lambda step: Tensor(0.25)).step()  # 0.5 - 0.5
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    with pytest.raises(TypeError, match=r"the learning-rate schedule returned array\(\[0.1, 0.2\]\)"):
        optim.SGD([w], lr=lambda step: np.array([0.1, 0.2])).step()


@pytest.mark.parametrize("saved_by, loaded_by", [(optim.AdamW, optim.Adam), (optim.Adam, optim.AdamW)])
def test_a_state_saved_by_another_optimizer_with_the_same_options_is_refused(saved_by, loaded_by, tmp_path):
    # Adam and AdamW have the same options: only the class name tells their states apart
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = saved_by([w], lr=0.1, weight_decay=0.5)
    w.grad = Tensor(np.array([0.5, 0.5]))
    opt.step()
    tg.save({"optimizer": opt.state_dict()}, tmp_path / "ck.npz")
    saved = tg.load(tmp_path / "ck.npz")["optimizer"]
    other = loaded_by([w], lr=0.1, weight_decay=0.5)
    with pytest.raises(ValueError, match=rf"{loaded_by.__name__}\.load_state_dict: the state was saved by "
                       rf"{saved_by.__name__}, whose steps differ; to resume it, build {saved_by.__name__}"):
        other.load_state_dict(saved)
    assert other.step_count == 0 and not other.state
    same = saved_by([w], lr=0.1, weight_decay=0.5)
    same.load_state_dict(saved)
    assert same.step_count == 1
    del saved["optimizer"]  # a file written before the class name was saved
    other.load_state_dict(saved)
    assert other.step_count == 1


def test_add_param_group_adds_the_groups_learning_rate_to_last_lr():
    w, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    for _ in range(3):
        w.grad = Tensor(np.ones(2))
        opt.step()
    opt.add_param_group({"params": [b], "lr": lambda step: 1.0 / (1 + step)})
    assert opt.last_lr == [0.1, 0.25]  # the new group's first step is step 3: 1 / (1 + 3)
    w.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(1))
    opt.step()
    assert opt.last_lr == [0.1, 0.25] and b.data.tolist() == [0.75]

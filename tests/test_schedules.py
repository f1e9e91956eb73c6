"""Learning-rate schedules and the exponential moving average, against their formulas written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_edu import Tensor, optim
from tinygrad_edu.optim import schedules
from tinygrad_edu.optim.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
)

STEPS = [0, 1, 2, 5, 9, 10, 11, 99, 100, 101, 1000]


# --- PiecewiseConstantDecay ----------------------------------------------------------------------


def test_piecewise_seed004_example_and_boundary_rule():
    # seed 004: 1.0 for the first 100000 steps, 0.5 up to 110000, then 0.1; step <= boundary -> left value
    lr = PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    expected = {0: 1.0, 99999: 1.0, 100000: 1.0, 100001: 0.5, 110000: 0.5, 110001: 0.1, 10**9: 0.1}
    for step, value in expected.items():
        assert lr(step) == value, step
        assert type(lr(step)) is float
    got = lr(np.array(list(expected)))
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, list(expected.values()))


def test_piecewise_errors():
    with pytest.raises(ValueError, match="one more value than boundaries"):
        PiecewiseConstantDecay([10, 20], [1.0, 0.5])
    with pytest.raises(ValueError, match="one more value than boundaries"):
        PiecewiseConstantDecay([], [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1])


# --- ExponentialDecay and InverseTimeDecay ----------------------------------------------------------


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_formula(staircase):
    lr = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.96, staircase=staircase)
    for step in STEPS:
        p = step // 10 if staircase else step / 10
        assert lr(step) == pytest.approx(0.1 * 0.96**p, rel=1e-14), step
    np.testing.assert_allclose(
        lr(np.array(STEPS)), [0.1 * 0.96 ** ((s // 10) if staircase else s / 10) for s in STEPS], rtol=1e-14
    )


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay_formula(staircase):
    lr = InverseTimeDecay(0.5, decay_steps=10, decay_rate=2.0, staircase=staircase)
    for step in STEPS:
        p = step // 10 if staircase else step / 10
        assert lr(step) == pytest.approx(0.5 / (1 + 2.0 * p), rel=1e-14), step


def test_course_per_epoch_decays_as_schedules():
    """The course's decays are functions of the epoch; an optimizer counts mini-batches."""
    alpha0, decay_rate, batches_per_epoch, time_interval = 0.3, 1.0, 7, 4
    every_epoch = InverseTimeDecay(alpha0, decay_steps=batches_per_epoch, decay_rate=decay_rate,
                                   staircase=True)
    fixed_interval = InverseTimeDecay(alpha0, decay_steps=batches_per_epoch * time_interval,
                                      decay_rate=decay_rate, staircase=True)
    exponential = ExponentialDecay(alpha0, decay_steps=batches_per_epoch, decay_rate=0.95, staircase=True)
    for step in range(0, 200, 3):
        epoch = step // batches_per_epoch
        assert every_epoch(step) == pytest.approx(alpha0 / (1 + decay_rate * epoch), rel=1e-14)
        assert fixed_interval(step) == pytest.approx(
            alpha0 / (1 + decay_rate * math.floor(epoch / time_interval)), rel=1e-14
        )
        assert exponential(step) == pytest.approx(0.95**epoch * alpha0, rel=1e-14)


@pytest.mark.parametrize("cls", [ExponentialDecay, InverseTimeDecay, CosineDecay])
def test_decay_steps_must_be_positive(cls):
    args = (0.1, 0) if cls is CosineDecay else (0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps must be a number > 0"):
        cls(*args)


def test_bad_steps_are_clear_errors():
    lr = ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="steps count from 0"):
        lr(-1)
    with pytest.raises(TypeError, match="step must be a number"):
        lr("ten")


# --- CosineDecay ---------------------------------------------------------------------------------


def cosine_reference(step, lr0, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0):
    if warmup_target is None:
        s = min(step, decay_steps)
        return lr0 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)
    s = min(step, decay_steps + warmup_steps)
    if s < warmup_steps:
        return lr0 + (warmup_target - lr0) * s / warmup_steps
    s -= warmup_steps
    return warmup_target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay_steps)) + alpha)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"alpha": 0.1},
        {"alpha": 0.2, "warmup_target": 0.5, "warmup_steps": 10},
        {"warmup_target": 0.05, "warmup_steps": 0},
    ],
)
def test_cosine_decay_formula(kwargs):
    lr = CosineDecay(0.01, 100, **kwargs)
    for step in STEPS + [150, 5000]:
        assert lr(step) == pytest.approx(cosine_reference(step, 0.01, 100, **kwargs), rel=1e-13, abs=1e-16)
    np.testing.assert_allclose(
        lr(np.arange(300)), [cosine_reference(s, 0.01, 100, **kwargs) for s in range(300)],
        rtol=1e-13, atol=1e-16,
    )


def test_cosine_decay_landmarks():
    lr = CosineDecay(1.0, 100, alpha=0.1)
    assert lr(0) == 1.0 and lr(50) == pytest.approx(0.55)
    assert lr(100) == pytest.approx(0.1) and lr(10**6) == lr(100)
    warm = CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert warm(0) == 0.0 and warm(5) == pytest.approx(0.5) and warm(10) == 1.0
    assert warm(110) == pytest.approx(0.0, abs=1e-16)
    with pytest.raises(ValueError, match="warmup_steps"):
        CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=-1)


# --- plain data, for state dicts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        PiecewiseConstantDecay([3, 8], [0.3, 0.2, 0.1]),
        ExponentialDecay(0.1, 7, 0.9, staircase=True),
        InverseTimeDecay(0.1, 7, 0.5),
        CosineDecay(0.0, 50, alpha=0.05, warmup_target=0.2, warmup_steps=5),
    ],
)
def test_serialize_round_trip(schedule):
    data = schedules.serialize(schedule)
    assert data["schedule"] == type(schedule).__name__
    again = schedules.deserialize(data)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    steps = np.arange(80)
    np.testing.assert_array_equal(again(steps), schedule(steps))
    assert type(schedule).__name__ in repr(schedule)


def test_serialize_custom_callable_and_unknown_names():
    assert schedules.serialize(lambda step: 0.1)["schedule"] == "custom"
    assert schedules.deserialize({"schedule": "custom", "config": {"name": "f"}}) is None
    with pytest.raises(ValueError, match="unknown schedule 'StepLR'"):
        schedules.deserialize({"schedule": "StepLR", "config": {}})


def test_schedule_as_optimizer_lr_matches_standalone_values():
    """The optimizer uses lr(0), lr(1), ... for its steps; plotting uses the same callable."""
    lr = InverseTimeDecay(0.2, decay_steps=3, decay_rate=1.0, staircase=True)
    p = Tensor(np.array([0.0]), requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    used = []
    for _ in range(8):
        p.grad = Tensor(np.array([1.0]))
        opt.step()
        used.append(opt.last_lr[0])
    np.testing.assert_allclose(used, [0.2 / (1 + k // 3) for k in range(8)], rtol=1e-15)
    np.testing.assert_allclose(p.data, [-sum(used)], rtol=1e-14)


# --- ExponentialMovingAverage ----------------------------------------------------------------------


TEMPERATURES = np.array([4.0, 9.0, 6.0, 5.0, 12.0, 14.0, 10.0, 8.0, 13.0, 17.0])


@pytest.mark.parametrize("beta", [0.5, 0.9, 0.98])
def test_ema_with_and_without_bias_correction(beta):
    plain = optim.ExponentialMovingAverage(beta=beta, bias_correction=False)
    corrected = optim.ExponentialMovingAverage(beta=beta)
    v = 0.0
    for t, x in enumerate(TEMPERATURES, start=1):
        v = beta * v + (1 - beta) * x
        assert plain.update(x) == pytest.approx(v, rel=1e-14)
        assert corrected.update(x) == pytest.approx(v / (1 - beta**t), rel=1e-14)
    assert corrected.t == len(TEMPERATURES)


def test_ema_first_values():
    # with v0 = 0 the uncorrected start is pulled towards 0; the correction gives back x1
    assert optim.ExponentialMovingAverage(0.9, bias_correction=False).update(40.0) == pytest.approx(4.0)
    assert optim.ExponentialMovingAverage(0.9).update(40.0) == pytest.approx(40.0)
    # seed 001's form: S1 = Y1, then S_t = beta * S_{t-1} + (1 - beta) * Y_t
    ema = optim.ExponentialMovingAverage(0.9, bias_correction=False, start="first")
    s = TEMPERATURES[0]
    assert ema.update(TEMPERATURES[0]) == s
    for y in TEMPERATURES[1:]:
        s = 0.9 * s + 0.1 * y
        assert ema.update(y) == pytest.approx(s, rel=1e-14)


def test_ema_on_arrays_and_smooth():
    series = np.stack([TEMPERATURES, 2 * TEMPERATURES], axis=1)  # two series side by side
    got = optim.ExponentialMovingAverage(0.9).smooth(series)
    assert got.shape == series.shape
    single = optim.ExponentialMovingAverage(0.9).smooth(TEMPERATURES)
    np.testing.assert_allclose(got[:, 0], single, rtol=1e-14)
    np.testing.assert_allclose(got[:, 1], 2 * single, rtol=1e-14)
    ema = optim.ExponentialMovingAverage(0.9)
    ema.smooth(TEMPERATURES)
    ema.reset()
    assert ema.t == 0 and ema.value == 0.0


def test_ema_errors():
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\)"):
        optim.ExponentialMovingAverage(beta=1.0)
    with pytest.raises(ValueError, match="bias_correction=False"):
        optim.ExponentialMovingAverage(start="first")
    with pytest.raises(ValueError, match="start must be"):
        optim.ExponentialMovingAverage(start="last", bias_correction=False)
    with pytest.raises(TypeError, match="expected numbers"):
        optim.ExponentialMovingAverage().update("warm")

"""Learning-rate schedules: pure functions of the step count, with Keras's names, signatures and formulas.

A schedule is a callable ``schedule(step) -> learning rate``. Call it with an int
to get a float, or with an array of steps to get an array (handy for plotting).
Pass it as any optimizer's ``lr`` and the optimizer evaluates it at its own step
count, 0 for the first step, as Keras does::

    lr = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96, staircase=True)
    lr(0), lr(250)                 # 0.1, 0.1 * 0.96**2
    opt = optim.SGD(model.parameters(), lr=lr)

The course's per-epoch decays are these schedules with ``decay_steps`` counted
in mini-batches (see docs/optimizers.md):

* ``alpha0 / (1 + decay_rate * epoch)`` is
  ``InverseTimeDecay(alpha0, decay_steps=batches_per_epoch, decay_rate=decay_rate, staircase=True)``;
* ``0.95**epoch * alpha0`` is
  ``ExponentialDecay(alpha0, decay_steps=batches_per_epoch, decay_rate=0.95, staircase=True)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from tinygrad_edu._config import _check_flag

Steps = Union[int, float, np.ndarray, Sequence[int]]


def _steps(step: Steps, where: str) -> tuple[np.ndarray, bool]:
    """The step(s) as a float64 array, and whether the caller passed a single number."""
    try:
        arr = np.asarray(step, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{where}: step must be a number or an array of numbers, got {type(step).__name__}"
        ) from None
    if np.any(arr < 0) or np.any(np.isnan(arr)):
        raise ValueError(f"{where}: steps count from 0; got {step!r}")
    return arr, arr.ndim == 0


def _result(values: np.ndarray, scalar: bool) -> Union[float, np.ndarray]:
    return float(values) if scalar else values


def _check_number(where: str, name: str, value: Any, low: float = 0.0, strict: bool = False) -> float:
    """``value`` as a float: a finite number >= ``low`` (> ``low`` when ``strict``).

    TypeError when it is not a number (a str, a bool, None), ValueError when it is out of range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not (math.isfinite(number) and (number > low if strict else number >= low)):
        raise ValueError(f"{where}: {name} must be a number {'>' if strict else '>='} {low:g}, got {value!r}")
    return number


def _check_positive(where: str, name: str, value: Any) -> None:
    _check_number(where, name, value, 0.0, strict=True)


def _numbers(where: str, name: str, values: Any) -> np.ndarray:
    """A list of finite numbers as a 1-d float64 array, or a clear error naming ``name``."""
    try:
        array = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a list of numbers, got {values!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{where}: {name} must be finite numbers, got {list(values)}")
    return array


class LearningRateSchedule:
    """Base class: ``__call__(step)`` gives the learning rate; ``get_config()`` the constructor arguments."""

    def __call__(self, step: Steps) -> Union[float, np.ndarray]:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant pieces: ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` once ``step > boundaries[-1]``.

    ``PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])`` is seed 004's example: 1.0 for
    steps 0..100000, 0.5 up to step 110000, then 0.1.
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float]) -> None:
        where = "PiecewiseConstantDecay"
        b = _numbers(where, "boundaries", boundaries)
        v = _numbers(where, "values", values)
        if np.any(v < 0):
            raise ValueError(f"{where}: values are learning rates and must be >= 0, got {list(values)}")
        if len(b) == 0 or len(v) != len(b) + 1:
            raise ValueError(
                f"{where}: expected at least one boundary and one more value than boundaries; got "
                f"{len(b)} boundaries {list(boundaries)} and {len(v)} values {list(values)}"
            )
        if np.any(np.diff(b) <= 0):
            raise ValueError(f"{where}: boundaries must be strictly increasing, got {list(boundaries)}")
        self.boundaries = b.tolist()
        self.values = v.tolist()
        self._b, self._v = b, v

    def __call__(self, step: Steps) -> Union[float, np.ndarray]:
        steps, scalar = _steps(step, "PiecewiseConstantDecay")
        # side="left" gives the index i with boundaries[i-1] < step <= boundaries[i]
        return _result(self._v[np.searchsorted(self._b, steps, side="left")], scalar)

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values)}


class _StepDecay(LearningRateSchedule):
    """Shared by ExponentialDecay and InverseTimeDecay: both are a formula of
    ``p = step / decay_steps``, floored with ``staircase=True`` so that the rate drops
    once every ``decay_steps`` steps."""

    _positive_rate = True  # whether decay_rate must be > 0 (else >= 0)

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
    ) -> None:
        where = type(self).__name__
        self.initial_learning_rate = _check_number(where, "initial_learning_rate", initial_learning_rate)
        _check_positive(where, "decay_steps", decay_steps)
        self.decay_steps = decay_steps
        # rate ** p needs rate > 0 (a negative rate gives NaN); 1 + rate * p needs rate >= 0
        self.decay_rate = _check_number(where, "decay_rate", decay_rate, strict=self._positive_rate)
        self.staircase = _check_flag(staircase, "staircase", where)

    def _decay(self, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, step: Steps) -> Union[float, np.ndarray]:
        steps, scalar = _steps(step, type(self).__name__)
        p = steps / self.decay_steps
        if self.staircase:
            p = np.floor(p)
        return _result(self._decay(p), scalar)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``: the rate drops
    every ``decay_steps`` steps (the course's ``0.95**epoch * alpha0`` with
    ``decay_steps`` = mini-batches per epoch).
    """

    _positive_rate = True

    def _decay(self, p: np.ndarray) -> np.ndarray:
        return self.initial_learning_rate * np.power(self.decay_rate, p)


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True`` the quotient is ``floor(step / decay_steps)``. The course's
    ``alpha0 / (1 + decay_rate * epoch)`` is this with ``decay_steps`` = mini-batches per
    epoch and ``staircase=True``.
    """

    _positive_rate = False

    def _decay(self, p: np.ndarray) -> np.ndarray:
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class CosineDecay(LearningRateSchedule):
    """Optional linear warm-up, then half a cosine from the peak rate down to ``alpha`` times it.

    Without warm-up (``warmup_target=None``), with ``s = min(step, decay_steps)``::

        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)

    With ``warmup_target``, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` steps, then decays as above from
    ``warmup_target``, with ``s = min(step, warmup_steps + decay_steps) - warmup_steps``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        alpha: float = 0.0,
        warmup_target: Optional[float] = None,
        warmup_steps: float = 0,
    ) -> None:
        where = "CosineDecay"
        self.initial_learning_rate = _check_number(where, "initial_learning_rate", initial_learning_rate)
        _check_positive(where, "decay_steps", decay_steps)
        _check_number(where, "warmup_steps", warmup_steps)
        self.decay_steps = decay_steps
        self.alpha = _check_number(where, "alpha", alpha)
        if self.alpha > 1:
            raise ValueError(f"{where}: alpha (the final fraction of the rate) must be <= 1, got {alpha!r}")
        if warmup_target is not None:
            warmup_target = _check_number(where, "warmup_target", warmup_target)
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, steps: np.ndarray, peak: float) -> np.ndarray:
        cosine = 0.5 * (1.0 + np.cos(math.pi * steps / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Steps) -> Union[float, np.ndarray]:
        steps, scalar = _steps(step, "CosineDecay")
        if self.warmup_target is None:
            lr = self._decay(np.minimum(steps, self.decay_steps), self.initial_learning_rate)
            return _result(lr, scalar)
        steps = np.minimum(steps, self.decay_steps + self.warmup_steps)
        lr = self._decay(steps - self.warmup_steps, self.warmup_target)
        if self.warmup_steps > 0:
            rise = (self.warmup_target - self.initial_learning_rate) * (steps / self.warmup_steps)
            lr = np.where(steps < self.warmup_steps, rise + self.initial_learning_rate, lr)
        return _result(lr, scalar)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


SCHEDULES: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls for cls in (PiecewiseConstantDecay, ExponentialDecay, InverseTimeDecay, CosineDecay)
}


def serialize(schedule: Any) -> dict[str, Any]:
    """A schedule as plain data, ``{"schedule": class name, "config": constructor arguments}``.

    Any other callable becomes ``{"schedule": "custom", "config": {"name": its name}}``: its
    code cannot be stored, so loading needs an optimizer built with that callable again. A
    ``LearningRateSchedule`` subclass of one's own keeps its ``get_config()`` too, as
    ``"arguments"``, so that loading rebuilds the optimizer's schedule with the saved values.
    """
    name = type(schedule).__name__
    if SCHEDULES.get(name) is type(schedule):
        return {"schedule": name, "config": schedule.get_config()}
    if isinstance(schedule, LearningRateSchedule):
        config: dict[str, Any] = {"name": type(schedule).__qualname__}
        try:
            config["arguments"] = dict(schedule.get_config())
        except NotImplementedError:  # (one without get_config is kept as it is, like a lambda)
            pass
        return {"schedule": "custom", "config": config}
    label = getattr(schedule, "__qualname__", name)
    return {"schedule": "custom", "config": {"name": str(label)}}


def _plain(value: Any) -> Any:
    """Undo what saving to .npz does to numbers: 0-d arrays back to Python scalars, 1-d to lists."""
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def rebuild_custom(data: dict[str, Any], current: Any, where: str) -> Callable[[Steps], Any]:
    """The lr for a saved custom schedule, given the lr the optimizer was built with. A saved
    ``LearningRateSchedule`` subclass rebuilds the current schedule's class from the saved
    arguments (they replace the current ones, as a built-in schedule's do); any other callable's
    code is not stored, so the current callable is kept."""
    config = dict(data.get("config") or {})
    name = str(_plain(config.get("name")))
    if not callable(current):
        raise ValueError(
            f"{where} was a custom schedule {name!r}, whose code is not stored; "
            "build the optimizer with that schedule as lr before loading"
        )
    if "arguments" not in config:
        return current
    arguments = {str(k): _plain(v) for k, v in dict(config["arguments"]).items()}
    if not isinstance(current, LearningRateSchedule) or type(current).__qualname__ != name:
        raise ValueError(
            f"{where} was a {name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())}), but the "
            f"optimizer's lr is {current!r}; build the optimizer with a {name} as lr before loading"
        )
    return type(current).from_config(arguments)


def deserialize(data: dict[str, Any]) -> Optional[LearningRateSchedule]:
    """The schedule that ``serialize`` described, or None for a custom callable."""
    name = str(_plain(data.get("schedule")))
    if name == "custom":
        return None
    if name not in SCHEDULES:
        raise ValueError(
            f"deserialize: unknown schedule {name!r}; expected one of {sorted(SCHEDULES)} or 'custom'"
        )
    config = {str(k): _plain(v) for k, v in dict(data.get("config") or {}).items()}
    return SCHEDULES[name].from_config(config)

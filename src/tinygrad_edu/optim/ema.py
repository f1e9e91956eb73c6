"""Exponentially weighted (moving) averages: the smoothing behind momentum, RMSprop and Adam."""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from tinygrad_edu._config import _check_flag

Number = Union[float, np.ndarray]


class ExponentialMovingAverage:
    """Smooth a sequence one value at a time: ``v_t = beta * v_{t-1} + (1 - beta) * x_t``.

    ``v_0 = 0`` (the course's start), so early values are pulled towards 0; with
    ``bias_correction=True`` ``update`` returns ``v_t / (1 - beta**t)``, which removes that pull
    (the first output is ``x_1`` itself). ``beta=0.9`` averages over roughly the last
    ``1 / (1 - beta) = 10`` values, ``beta=0.98`` over 50 (smoother, later), ``beta=0.5`` over 2.

    ``start="first"`` starts instead from the first value, ``v_1 = x_1`` (the form of seed 001's
    temperature example, ``S1 = Y1``); there is nothing to correct then, so it needs
    ``bias_correction=False``.

    ``x`` may be a number or an array (every element is averaged separately)::

        ema = ExponentialMovingAverage(beta=0.9)
        smoothed = [ema.update(t) for t in temperatures]
    """

    def __init__(self, beta: float = 0.9, bias_correction: bool = True, start: str = "zero") -> None:
        if not isinstance(beta, (int, float, np.number)) or not 0.0 <= beta < 1.0:
            raise ValueError(f"ExponentialMovingAverage: beta must be in [0, 1), got {beta!r}")
        if start not in ("zero", "first"):
            raise ValueError(f"ExponentialMovingAverage: start must be 'zero' or 'first', got {start!r}")
        if start == "first" and bias_correction:
            raise ValueError(
                "ExponentialMovingAverage: start='first' already begins at the first value, so there is "
                "no bias to correct; pass bias_correction=False"
            )
        self.beta = float(beta)
        self.bias_correction = _check_flag(bias_correction, "bias_correction", "ExponentialMovingAverage")
        self.start = start
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.t = 0  # how many values have been averaged
        self.average: Any = 0.0  # v_t, before bias correction

    def update(self, x: Any) -> Number:
        """Add the next value and return the smoothed value (bias-corrected if asked), a new
        array (or float) each time. Every value of a series has the same shape."""
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise TypeError(f"ExponentialMovingAverage.update: expected numbers, got {x!r} (dtype {x.dtype})")
        if self.t > 0 and x.shape != np.shape(self.average):  # numpy would broadcast the two
            raise ValueError(
                f"ExponentialMovingAverage.update: got a value of shape {x.shape}, but the values so far "
                f"have shape {np.shape(self.average)}; each element is averaged on its own, so every "
                "value must have that shape (reset() starts a new series)"
            )
        self.t += 1
        if self.t == 1 and self.start == "first":
            self.average = x.astype(np.result_type(x.dtype, np.float32), copy=True)
        else:
            self.average = self.beta * self.average + (1.0 - self.beta) * x
        return self.value

    @property
    def value(self) -> Number:
        """The current smoothed value (``v_t / (1 - beta**t)`` with bias correction); 0 before any update.

        A float, or a new array: writing into it leaves the average alone."""
        v = self.average
        if self.bias_correction and self.t > 0:
            v = v / (1.0 - self.beta**self.t)  # a new array
        elif np.ndim(v) > 0:
            v = v.copy()  # not the average itself
        return float(v) if np.ndim(v) == 0 else v

    def smooth(self, values: Any) -> np.ndarray:
        """Run ``update`` over ``values`` along their first axis and return every smoothed value."""
        return np.asarray([self.update(x) for x in np.asarray(values)])

    def __repr__(self) -> str:
        return (
            f"ExponentialMovingAverage(beta={self.beta}, bias_correction={self.bias_correction}, "
            f"start={self.start!r}, t={self.t})"
        )

"""Reductions over ``axis`` (None, an int, a negative int or a tuple) with numpy's ``keepdims``.

Each backward first reshapes the incoming gradient to the kept-dims shape, so
that it broadcasts against the input again.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from tinygrad_edu.autograd import Function, run
from tinygrad_edu.ops.elementwise import Exp
from tinygrad_edu.ops.shape import BroadcastTo

AxisError = getattr(np, "exceptions", np).AxisError
"""numpy's error for an axis out of range: both a ValueError and an IndexError, as in numpy."""


def normalize_axis(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, (int, np.integer, tuple, list)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < max(ndim, 1):
            raise AxisError(f"{op}: axis {axis!r} is out of range for a {ndim}-d tensor")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def count(shape: tuple[int, ...], axis: Any, op: str = "reduce") -> int:
    """How many elements a reduction over ``axis`` combines into one."""
    n = 1
    for a in normalize_axis(axis, len(shape), op):
        n *= shape[a] if shape else 1
    return n


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after reducing ``axes`` with keepdims=True."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def dropped_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape after reducing ``axes`` with keepdims=False."""
    return tuple(s for i, s in enumerate(shape) if i not in axes)


class Sum(Function):
    """sum over axis;  d/dx = 1 for every element that was summed."""

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        if x.ndim == 0 or (axis is not None and not isinstance(axis, (int, np.integer))):
            axis = normalize_axis(axis, x.ndim, "sum") if x.ndim else None  # numpy wants a tuple
        self.save_for_backward(axis, keepdims)
        # the method, not np.sum: it skips numpy's Python-level dispatch (a third of the time on small arrays)
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, grad):
        axis, keepdims = self.saved
        (x,) = self.inputs
        if axis is not None and not keepdims:  # put the summed axes back as size 1
            grad = grad.reshape(kept_shape(x.shape, normalize_axis(axis, x.ndim, "sum")))
        return run(BroadcastTo, grad, shape=x.shape)


class Mean(Function):
    """mean over axis: sum / n, n the number of elements reduced;  d/dx = 1/n for each of them."""

    float_inputs = True  # the mean of integers is a float

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        axes = normalize_axis(axis, x.ndim, "mean")
        n = 1
        for a in axes:
            n *= x.shape[a]
        axis = None if axis is None or not x.ndim else axes  # (numpy wants a tuple)
        self.save_for_backward(axis, keepdims, n)
        total = x.sum(axis=axis, keepdims=keepdims)
        # Divided, not multiplied by 1/n: the mean of seven 7.0s is exactly 7.0 (7 * (1/7) is not);
        # by n in x's dtype, which keeps float32 on numpy 1 too. No element: NaN, as in PyTorch.
        return total / x.dtype.type(n) if n else total * x.dtype.type(np.nan)

    def backward(self, grad):
        axis, keepdims, n = self.saved
        (x,) = self.inputs
        if axis is not None and not keepdims:  # put the reduced axes back as size 1
            grad = grad.reshape(kept_shape(x.shape, axis))
        if n:  # (no element was averaged: there is nothing to send)
            grad = grad / x.dtype.type(n)
        return run(BroadcastTo, grad, shape=x.shape)


class _Extreme(Function):
    """Shared body of Max and Min: the gradient goes to the extreme elements, split on ties."""

    reduce: Any = None
    name = ""

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        axes = normalize_axis(axis, x.ndim, self.name)
        if x.size == 0:
            raise ValueError(f"{self.name}: cannot reduce an empty tensor of shape {x.shape}")
        ax: Optional[tuple[int, ...]] = axes if x.ndim else None
        out = self.reduce(x, axis=ax, keepdims=True)
        hits = x == out
        count = hits.sum(axis=ax, keepdims=True)
        if not count.all():  # NaN is the extreme, but never == itself: the NaNs share the gradient,
            hits = hits | (np.isnan(x) & np.isnan(out))  # as in PyTorch's x.max()
            count = hits.sum(axis=ax, keepdims=True)
        share = (hits / count).astype(x.dtype, copy=False)
        self.save_for_backward(kept_shape(x.shape, axes), share)
        return out if keepdims else out.reshape(dropped_shape(x.shape, axes))

    def backward(self, grad):
        keep, share = self.saved
        return grad.reshape(keep) * share


class Max(_Extreme):
    """max over axis;  d/dx = 1/k for each of the k elements equal to the max, else 0."""

    reduce = staticmethod(np.max)
    name = "max"


class Min(_Extreme):
    """min over axis;  d/dx = 1/k for each of the k elements equal to the min, else 0."""

    reduce = staticmethod(np.min)
    name = "min"


class LogSumExp(Function):
    """log(sum(exp(x))) over axis, computed as m + log(sum(exp(x - m))) with m = max;
    d/dx = softmax(x) along the axis."""

    float_inputs = True

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        axes = normalize_axis(axis, x.ndim, "logsumexp")
        ax = axes if x.ndim else None
        m = x.max(axis=ax, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)  # numpy < 2 would make 0-d float64
        out = np.log(np.exp(x - m).sum(axis=ax, keepdims=True)) + m
        self.save_for_backward(kept_shape(x.shape, axes), ax, m)
        return out if keepdims else out.reshape(dropped_shape(x.shape, axes))

    def backward(self, grad):
        # softmax(x) = exp(x - m) / sum(exp(x - m)): exact at any size, where exp(x - output)
        # loses everything when output = m + log(n) rounds to m (x = 3e38 in float32).
        keep, ax, m = self.saved
        (x,) = self.inputs
        e = run(Exp, x - m)
        return grad.reshape(keep) * (e / e.sum(axis=ax, keepdims=True))

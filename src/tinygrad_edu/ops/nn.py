"""Fused ops for networks: softmax and log-softmax, stable where the naive formula overflows."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.autograd import Function, run
from tinygrad_edu.ops.elementwise import Exp


def classes_first(x: np.ndarray, axis: int) -> bool:
    """Whether to reduce ``x`` over ``axis`` on its contiguous transpose, over axis 0, instead.

    numpy reduces the short last axis of an (N, C) array one row at a time: for
    128 samples of 10 classes the max takes 10 µs, against 1.4 µs over the first
    axis of the (C, N) copy (which itself costs about 1 µs).
    """
    return x.ndim == 2 and axis in (1, -1) and x.shape[1] < x.shape[0]


class Softmax(Function):
    """exp(x) / sum(exp(x)) along axis (shifted by the max first);
    d/dx: y * (grad - sum(grad * y))."""

    float_inputs = True

    def forward(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        self.save_for_backward(axis)
        transposed = classes_first(x, axis)
        if transposed:
            x, axis = np.ascontiguousarray(x.T), 0
        # x.max and e.sum, the methods: np.max and np.sum add a Python-level dispatch that
        # costs as much as the reduction itself on a small array
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        return out.T if transposed else out

    def backward(self, grad):
        (axis,) = self.saved
        y = self.output
        return y * (grad - (grad * y).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """x - logsumexp(x) along axis;  d/dx: grad - softmax(x) * sum(grad)."""

    float_inputs = True

    def forward(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        self.save_for_backward(axis)
        transposed = classes_first(x, axis)
        if transposed:
            x, axis = np.ascontiguousarray(x.T), 0
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return out.T if transposed else out

    def backward(self, grad):
        (axis,) = self.saved
        return grad - run(Exp, self.output) * grad.sum(axis=axis, keepdims=True)

"""Fused ops for networks: softmax and log-softmax, stable where the naive formula overflows."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.autograd import Function, run
from tinygrad_edu.ops.elementwise import Exp


class Softmax(Function):
    """exp(x) / sum(exp(x)) along axis (shifted by the max first);
    d/dx: y * (grad - sum(grad * y))."""

    array_backward = True

    def forward(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        self.save_for_backward(axis)
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    def backward(self, grad):
        (axis,) = self.saved
        y = self.output
        return y * (grad - (grad * y).sum(axis=axis, keepdims=True))


class LogSoftmax(Function):
    """x - logsumexp(x) along axis;  d/dx: grad - softmax(x) * sum(grad)."""

    array_backward = True

    def forward(self, x: np.ndarray, axis: int = -1) -> np.ndarray:
        self.save_for_backward(axis)
        shifted = x - np.max(x, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad):
        (axis,) = self.saved
        return grad - run(Exp, self.output) * grad.sum(axis=axis, keepdims=True)

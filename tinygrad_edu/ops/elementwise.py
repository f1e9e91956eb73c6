"""Elementwise ops. Binary ops broadcast; the engine sums each gradient back to its input's shape.

Each backward is written with operations that ndarrays and Tensors share (see
``Function.array_backward``): on arrays for a first-order backward, recorded on
Tensors, and so differentiable again, under ``create_graph``.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from tinygrad_edu.autograd import Function, run


class Add(Function):
    """a + b;  d/da = 1, d/db = 1."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """a - b;  d/da = 1, d/db = -1."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Neg(Function):
    """-x;  d/dx = -1."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad):
        return -grad


class Mul(Function):
    """a * b;  d/da = b, d/db = a."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """a / b;  d/da = 1/b, d/db = -a/b**2."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class Pow(Function):
    """a ** b;  d/da = b * a**(b-1), d/db = a**b * log(a) (taken as 0 where a == 0, like PyTorch)."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = None
        if need_b:
            nonzero = np.asarray(a) != 0  # a Tensor's array, or the array itself
            safe_a = a if nonzero.all() else run(Where, a, 1, cond=nonzero)
            grad_b = grad * self.output * run(Log, safe_a)
        return grad_a, grad_b


class Exp(Function):
    """exp(x);  d/dx = exp(x)."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """log(x) (natural);  d/dx = 1/x."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad / x


class Sqrt(Function):
    """sqrt(x);  d/dx = 1 / (2 sqrt(x))."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, grad):
        return grad / (self.output * 2)


class Abs(Function):
    """|x|;  d/dx = sign(x), and 0 at x = 0 (PyTorch's choice)."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(np.sign(x))
        return np.abs(x)

    def backward(self, grad):
        (sign,) = self.saved
        return grad * sign


_TYPED_ONES: dict[np.dtype, Any] = {}


def _one(dtype: np.dtype) -> Any:
    """1 as a scalar of ``dtype``, made once per dtype. Not a Python 1: numpy < 2 would turn a
    0-d float32 into float64 (and ``dtype.type(1)`` on every call costs more than the look-up)."""
    one = _TYPED_ONES.get(dtype)
    if one is None:
        one = _TYPED_ONES[dtype] = dtype.type(1)
    return one


class Tanh(Function):
    """tanh(x);  d/dx = 1 - tanh(x)**2."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad):
        # grad * (1 - y * y), as one op (three otherwise): see TanhBackward just below
        return run(TanhBackward, grad, self.output)


class TanhBackward(Function):
    """tanh's backward as one op: grad * (1 - y**2) with y = tanh(x), as PyTorch does.

    Only under ``create_graph`` is it recorded; its own derivatives (for second
    derivatives of tanh) are d/dgrad = 1 - y**2 and d/dy = -2 y grad.
    """

    array_backward = True

    def forward(self, grad: np.ndarray, y: np.ndarray) -> np.ndarray:
        return grad * (_one(y.dtype) - y * y)

    def backward(self, g):
        grad, y = self.inputs
        need_grad, need_y = self.needs_input_grad
        return (g * (1 - y * y) if need_grad else None), (g * grad * y * -2 if need_y else None)


class Sigmoid(Function):
    """1 / (1 + exp(-x));  d/dx = s(x) * (1 - s(x)).

    Computed as exp(-log(1 + exp(-x))) so that neither tail overflows.
    """

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        # a zero of x's dtype: numpy < 2 would turn a 0-d float32 and a Python 0 into float64
        return np.exp(-np.logaddexp(x.dtype.type(0), -x))

    def backward(self, grad):
        # grad * y * (1 - y), as one op (three otherwise): see SigmoidBackward just below
        return run(SigmoidBackward, grad, self.output)


class SigmoidBackward(Function):
    """sigmoid's backward as one op: grad * y * (1 - y) with y = sigmoid(x), as PyTorch does.

    Only under ``create_graph`` is it recorded; its own derivatives are
    d/dgrad = y (1 - y) and d/dy = grad (1 - 2 y).
    """

    array_backward = True

    def forward(self, grad: np.ndarray, y: np.ndarray) -> np.ndarray:
        return grad * y * (_one(y.dtype) - y)

    def backward(self, g):
        grad, y = self.inputs
        need_grad, need_y = self.needs_input_grad
        return (g * y * (1 - y) if need_grad else None), (g * grad * (1 - y * 2) if need_y else None)


class ReLU(Function):
    """max(x, 0);  d/dx = 1 where x > 0, else 0 (also at 0, like PyTorch)."""

    array_backward = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        # A zero of x's own dtype: keeps float32 on numpy < 2 and compares faster than a Python 0.
        zero = x.dtype.type(0)
        # The mask in x's dtype: grad * mask then multiplies two float arrays, twice as fast
        # as a float by a bool array.
        self.save_for_backward((x > zero).astype(x.dtype))
        return np.maximum(x, zero)

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask


class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x;  d/dx = 1 or negative_slope."""

    array_backward = True

    def forward(self, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
        self.save_for_backward(slope)
        return x * slope

    def backward(self, grad):
        (slope,) = self.saved
        return grad * slope


class Clip(Function):
    """min(max(x, lo), hi);  d/dx = 1 where lo <= x <= hi, else 0 (PyTorch's choice)."""

    array_backward = True

    def forward(self, x: np.ndarray, lo: Optional[float] = None, hi: Optional[float] = None):
        if lo is None and hi is None:
            raise ValueError("clip: give lo, hi or both")
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        self.save_for_backward(inside)
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, grad):
        (inside,) = self.saved
        return grad * inside


class Maximum(Function):
    """max(a, b) elementwise;  the gradient goes to the larger input, split evenly on ties."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.maximum(a, b)
        self.save_for_backward(((a > b) + 0.5 * (a == b)).astype(out.dtype))
        return out

    def backward(self, grad):
        (share_a,) = self.saved
        return grad * share_a, grad * (1 - share_a)


class Minimum(Function):
    """min(a, b) elementwise;  the gradient goes to the smaller input, split evenly on ties."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.minimum(a, b)
        self.save_for_backward(((a < b) + 0.5 * (a == b)).astype(out.dtype))
        return out

    def backward(self, grad):
        (share_a,) = self.saved
        return grad * share_a, grad * (1 - share_a)


class Where(Function):
    """a where cond else b;  the gradient goes to whichever input was chosen."""

    array_backward = True

    def forward(self, a: np.ndarray, b: np.ndarray, cond: Any = None) -> np.ndarray:
        self.save_for_backward(cond)
        return np.where(cond, a, b)

    def backward(self, grad):
        (cond,) = self.saved
        need_a, need_b = self.needs_input_grad
        return (grad * cond if need_a else None), (grad * ~cond if need_b else None)


class Cast(Function):
    """x in another dtype;  the gradient is cast back by the engine."""

    array_backward = True

    def forward(self, x: np.ndarray, dtype: Any = None) -> np.ndarray:
        return x.astype(dtype)

    def backward(self, grad):
        return grad

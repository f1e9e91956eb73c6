"""Elementwise ops. Binary ops broadcast; the engine sums each gradient back to its input's shape.

Each backward is written with operations that ndarrays and Tensors share: it runs on
arrays in an ordinary backward, and on Tensors, recorded and so differentiable again,
under ``create_graph`` (see ``Function``).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from tinygrad_edu.autograd import Function, run


class Add(Function):
    """a + b;  d/da = 1, d/db = 1."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad):
        return grad, grad


class Sub(Function):
    """a - b;  d/da = 1, d/db = -1."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, grad):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Neg(Function):
    """-x;  d/dx = -1."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad):
        return -grad


class Mul(Function):
    """a * b;  d/da = b, d/db = a."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    """a / b;  d/da = 1/b, d/db = -a/b**2."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class Pow(Function):
    """a ** b;  d/da = b * a**(b-1) (0 where b == 0, also at a = 0, like PyTorch),
    d/db = a**b * log(a) (0 where a == 0 and b >= 0, like PyTorch: 0**b is then constant;
    for b < 0 it is inf * -inf = -inf)."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            # b * a**(b-1) is 0 * inf = nan at a = 0, b = 0: where b == 0 the power is constant
            zero = np.asarray(b) == 0  # a Tensor's array, or the array itself
            exponent = b - 1 if not zero.any() else run(Where, b, 1, cond=~zero) - 1
            grad_a = grad * b * a**exponent
        if need_b:
            keep = (np.asarray(a) != 0) | (np.asarray(b) < 0)  # where log(a) is used as it is
            safe_a = a if keep.all() else run(Where, a, 1, cond=keep)
            with np.errstate(divide="ignore"):  # log(0) = -inf, for 0 ** negative
                grad_b = grad * self.output * run(Log, safe_a)
        return grad_a, grad_b


class Exp(Function):
    """exp(x);  d/dx = exp(x)."""

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """log(x) (natural);  d/dx = 1/x."""

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad / x


class Sqrt(Function):
    """sqrt(x);  d/dx = 1 / (2 sqrt(x))."""

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, grad):
        return grad / (self.output * 2)


class Abs(Function):
    """|x|;  d/dx = sign(x): 0 at x = 0, and 0 at NaN (PyTorch's choices; numpy's sign(nan) is nan)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(np.nan_to_num(np.sign(x)))
        return np.abs(x)

    def backward(self, grad):
        (sign,) = self.saved
        return grad * sign


class Tanh(Function):
    """tanh(x);  d/dx = 1 - tanh(x)**2."""

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad):
        y = self.output
        return grad * (1 - y * y)


class Sigmoid(Function):
    """1 / (1 + exp(-x));  d/dx = s(x) * (1 - s(x)).

    Computed as exp(-log(1 + exp(-x))) so that neither tail overflows.
    """

    float_inputs = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        # a zero of x's dtype: numpy < 2 would turn a 0-d float32 and a Python 0 into float64
        return np.exp(-np.logaddexp(x.dtype.type(0), -x))

    def backward(self, grad):
        y = self.output
        return grad * y * (1 - y)


class ReLU(Function):
    """max(x, 0);  d/dx = 1 where x > 0, else 0 (also at 0, like PyTorch; at a NaN 1, as there)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # A zero of x's own dtype: keeps float32 on numpy < 2 and compares faster than a Python 0.
        zero = x.dtype.type(0)
        out = np.maximum(x, zero)
        # The mask in x's dtype: grad * mask then multiplies two float arrays, twice as fast
        # as a float by a bool array. out != 0 where x > 0, and where x is NaN (maximum keeps it).
        self.save_for_backward((out != zero).astype(x.dtype))
        return out

    def backward(self, grad):
        (mask,) = self.saved
        return grad * mask


class LeakyReLU(Function):
    """x where x > 0, else negative_slope * x;  d/dx = 1 or negative_slope."""

    float_inputs = True

    def forward(self, x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.number)):
            raise TypeError(
                f"negative_slope must be a number, got {negative_slope!r} "
                f"({type(negative_slope).__name__})"
            )
        slope = np.where(x > 0, 1.0, float(negative_slope)).astype(x.dtype)
        self.save_for_backward(slope)
        return x * slope

    def backward(self, grad):
        (slope,) = self.saved
        return grad * slope


class Clip(Function):
    """min(max(x, lo), hi);  d/dx = 1 where lo <= x <= hi, else 0 (PyTorch's choice)."""

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


def _shares(a: np.ndarray, b: np.ndarray, a_loses: np.ndarray, b_loses: np.ndarray, dtype: Any):
    """Each input's share of the gradient of max(a, b) or min(a, b): 1 where it was chosen, 0
    where the other one was, 1/2 each on a tie; and 1 each where a comparison is false both
    ways (a NaN), as PyTorch gives them."""
    half_tie = 0.5 * (a == b)
    return (1 - a_loses - half_tie).astype(dtype), (1 - b_loses - half_tie).astype(dtype)


class Maximum(Function):
    """max(a, b) elementwise;  the gradient goes to the larger input, split evenly on ties."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.maximum(a, b)
        self.save_for_backward(*_shares(a, b, a < b, a > b, out.dtype))
        return out

    def backward(self, grad):
        share_a, share_b = self.saved
        return grad * share_a, grad * share_b


class Minimum(Function):
    """min(a, b) elementwise;  the gradient goes to the smaller input, split evenly on ties."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.minimum(a, b)
        self.save_for_backward(*_shares(a, b, a > b, a < b, out.dtype))
        return out

    def backward(self, grad):
        share_a, share_b = self.saved
        return grad * share_a, grad * share_b


class Where(Function):
    """a where cond else b;  the gradient goes to whichever input was chosen."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray, cond: Any = None) -> np.ndarray:
        self.save_for_backward(cond)
        return np.where(cond, a, b)

    def backward(self, grad):
        (cond,) = self.saved
        need_a, need_b = self.needs_input_grad
        return (grad * cond if need_a else None), (grad * ~cond if need_b else None)


class Cast(Function):
    """x in another dtype;  the gradient is cast back by the engine."""

    def forward(self, x: np.ndarray, dtype: Any = None) -> np.ndarray:
        return x.astype(dtype)

    def backward(self, grad):
        return grad

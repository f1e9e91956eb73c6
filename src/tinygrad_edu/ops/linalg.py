"""Matrix products."""

from __future__ import annotations

import numpy as np

from tinygrad_edu.autograd import Function


def _swap_last(t):
    """The transpose of the last two axes (a batch of matrices stays a batch)."""
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return t.transpose(*axes)


class MatMul(Function):
    """a @ b for 1-D, 2-D and batched (..., n, k) @ (..., k, m) operands, numpy's rules;
    d/da = grad @ b^T, d/db = a^T @ grad (batch axes summed back by the engine)."""

    promotes = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs operands with at least one axis; use * for scalars")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"inner dimensions differ: {a.shape} @ {b.shape} needs a.shape[-1] == "
                f"b.shape[{-2 if b.ndim > 1 else 0}]"
            )
        return np.matmul(a, b)

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        # Treat a vector as a 1-row (a) or 1-column (b) matrix, then undo it at the end.
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        g = grad
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if b.ndim > 1 else g.reshape(1, 1)
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,)) if a.ndim > 1 else g
        grad_a = grad_b = None
        if need_a:
            grad_a = g @ _swap_last(b2)
            if a.ndim == 1:
                grad_a = grad_a.reshape(grad_a.shape[:-2] + grad_a.shape[-1:])
        if need_b:
            grad_b = _swap_last(a2) @ g
            if b.ndim == 1:
                grad_b = grad_b.reshape(grad_b.shape[:-1])
        return grad_a, grad_b

"""Find the bug in a Linear op (the planted mistake: MISTAKE below)."""

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check, op_backward_check, randn

ID = "bug_linear"
TITLE = "find the bug in a Linear op"
SEED = "the course's dW = 1/m * np.dot(dZ, A_prev.T), shape (n_l, n_(l-1)) like W"
ENTRIES = ("Linear",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this Linear op, out = x @ W.T + b.

x is (N, in), W is (out, in), b is (out,), grad is (N, out); element by element,

    dx[n, i] = sum_o grad[n, o] W[o, i]
    dW[o, i] = sum_n grad[n, o] x[n, i]      (the course's dW = 1/m np.dot(dZ, A_prev.T))
    db[o]    = sum_n grad[n, o]

One of the three gradients is wrong: find it and fix it.

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class Linear(tg.Function):
    def forward(self, x, W, b):
        return x @ W.T + b

    def backward(self, grad):
        x, W, b = self.inputs
        return grad @ W, grad.T @ x, grad.sum(axis=0)
'''

MISTAKE = (
    "a transposed weight gradient: x.T @ grad, of shape (in, out), instead of grad.T @ x, "
    "of W's shape (out, in)"
)
BUG = (
    "return grad @ W, grad.T @ x, grad.sum(axis=0)",
    "return grad @ W, x.T @ grad, grad.sum(axis=0)",
    "transposed",
)


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ni,oi->no", x, W) + b


def _square():
    return randn(3, 3, seed=4), randn(3, 3, seed=5), randn(3, seed=6)


CHECKS = [
    (
        "backward on arrays, x (5, 3), W (2, 3)",
        1.0,
        op_backward_check(
            "Linear",
            linear,
            lambda: (randn(5, 3, seed=1), randn(2, 3, seed=2), randn(2, seed=3)),
            ("x", "W", "b"),
        ),
    ),
    (
        "backward on arrays, x (3, 3), W (3, 3)",
        1.0,
        op_backward_check("Linear", linear, _square, ("x", "W", "b"), seed=1),
    ),
    (
        "the same backward on Tensors",
        1.0,
        op_backward_check("Linear", linear, _square, ("x", "W", "b"), seed=2, on_tensors=True),
    ),
]

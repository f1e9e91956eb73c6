"""Find the bug in a bias add (the planted mistake: MISTAKE below)."""

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check, op_backward_check, randn

ID = "bug_bias_add"
TITLE = "find the bug in a bias add"
SEED = "the course's db = 1/m * np.sum(dZ, axis=1, keepdims=True)"
ENTRIES = ("AddBias",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this op, out = x + b, x (N, C), b (C,).

b is added to each of the N rows of x: out[n, c] = x[n, c] + b[c]. So

    dx[n, c] = grad[n, c]
    db[c]    = sum_n grad[n, c]      (the course's db = 1/m np.sum(dZ, axis=1, keepdims=True),
                                      with samples in columns)

One line is wrong: find it and fix it.

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class AddBias(tg.Function):
    def forward(self, x, b):
        return x + b

    def backward(self, grad):
        return grad, grad.sum(axis=0)
'''

MISTAKE = (
    "a missing broadcast reduction: the gradient for b is grad, of shape (N, C), instead of "
    "grad.sum(axis=0), of b's shape (C,)"
)
BUG = ("return grad, grad.sum(axis=0)", "return grad, grad", "missing broadcast reduction")


def add(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    return x + b


CHECKS = [
    (
        "backward on arrays, x (4, 3), b (3,)",
        1.0,
        op_backward_check("AddBias", add, lambda: (randn(4, 3, seed=1), randn(3, seed=2)), ("x", "b")),
    ),
    (
        "backward on arrays, x (1, 5), b (5,)",
        1.0,
        op_backward_check(
            "AddBias", add, lambda: (randn(1, 5, seed=3), randn(5, seed=4)), ("x", "b"), seed=1
        ),
    ),
]

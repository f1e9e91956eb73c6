"""Find the bug in a Div op (the planted mistake: MISTAKE below)."""

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check, op_backward_check, randn

ID = "bug_div"
TITLE = "find the bug in a Div op"
SEED = "seed 004, 2.2 (derivatives of the elementary functions: (1/x)' = -1/x**2)"
ENTRIES = ("Div",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this Div op, out = a / b.

d(a/b)/da = 1/b and d(a/b)/db = -a/b**2 ((1/x)' = -1/x**2), each times grad.
One of the two gradients is wrong: find it and fix it.

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class Div(tg.Function):
    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        return grad / b, -grad * a / (b * b)
'''

MISTAKE = "a sign error: the gradient for b is +grad * a / b**2 instead of -grad * a / b**2"
BUG = ("return grad / b, -grad * a / (b * b)", "return grad / b, grad * a / (b * b)", "sign")


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a / b


def _inputs():
    return randn(3, 4, seed=1), randn(3, 4, seed=2, low=0.5)


CHECKS = [
    ("backward on arrays, a and b (3, 4)", 1.0, op_backward_check("Div", div, _inputs, ("a", "b"))),
    (
        "backward on arrays, a and b (5,)",
        1.0,
        op_backward_check(
            "Div", div, lambda: (randn(5, seed=3), -randn(5, seed=4, low=0.5)), ("a", "b"), seed=1
        ),
    ),
    (
        "the same backward on Tensors",
        1.0,
        op_backward_check("Div", div, _inputs, ("a", "b"), seed=2, on_tensors=True),
    ),
]

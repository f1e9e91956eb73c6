"""Exercise: backward of Div."""

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_div"
TITLE = "backward of Div"
SEED = "seed 004, 2.2 (derivatives of the elementary functions)"
ENTRIES = ("Div",)

SOLUTION = f'''"""Exercise {ID}: backward of Div.

out = a / b. The local derivatives are d(a/b)/da = 1/b and d(a/b)/db = -a/b**2, each
times grad (the chain rule):

    grad_a = grad / b        grad_b = -grad * a / b**2

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class Div(tg.Function):
    def forward(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        ### BEGIN SOLUTION
        return grad / b, -grad * a / (b * b)
        ### END SOLUTION
'''


def reference(a, b):
    return a / b


CASES = [
    lambda: (randn(3, 4, seed=1), randn(3, 4, seed=2, low=0.5)),
    lambda: (randn(6, seed=3), -randn(6, seed=4, low=0.5)),
]
CHECKS = op_checks("Div", reference, CASES, names=("a", "b"))

MISTAKES = [
    ("-grad * a / (b * b)", "grad * a / (b * b)", "sign"),
]

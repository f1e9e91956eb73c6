"""Find the bug in a Sigmoid op (the planted mistake: MISTAKE below)."""

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check, op_backward_check, randn

ID = "bug_sigmoid"
TITLE = "find the bug in a Sigmoid op"
SEED = "seed 004, 2.3: dE/dnet = dE/dout * dout/dnet, and dout/dnet = out (1 - out) for sigmoid"
ENTRIES = ("Sigmoid",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this Sigmoid op.

s = 1 / (1 + exp(-x)) has the derivative ds/dx = s (1 - s). backward(grad)
returns the gradient for x by the chain rule (seed 004, 2.3: dE/dnet =
dE/dout * dout/dnet), where grad is dE/ds. One line is wrong: find it and fix it.

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg


class Sigmoid(tg.Function):
    def forward(self, x):
        return 1.0 / (1.0 + np.exp(-x))

    def backward(self, grad):
        s = self.output
        return grad * s * (1 - s)
'''

MISTAKE = "the forgotten upstream gradient: backward returns s * (1 - s), not grad * s * (1 - s)"
BUG = ("return grad * s * (1 - s)", "return s * (1 - s)", "off by the upstream gradient")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


CHECKS = [
    (
        "backward on arrays, x (3, 4)",
        1.0,
        op_backward_check("Sigmoid", sigmoid, lambda: (randn(3, 4, seed=1),), ("x",)),
    ),
    (
        "backward on arrays, x (6,)",
        1.0,
        op_backward_check("Sigmoid", sigmoid, lambda: (randn(6, seed=2),), ("x",), seed=1),
    ),
    (
        "the same backward on Tensors",
        1.0,
        op_backward_check(
            "Sigmoid", sigmoid, lambda: (randn(3, 4, seed=1),), ("x",), seed=2, on_tensors=True
        ),
    ),
]

"""Exercise: backward of Exp."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_exp"
TITLE = "backward of Exp"
SEED = "seed 004, 2.2 (derivatives of the elementary functions: (e^x)' = e^x)"
ENTRIES = ("Exp",)

SOLUTION = f'''"""Exercise {ID}: backward of Exp.

out = exp(x). d exp(x)/dx = exp(x), which is the output itself:

    grad_x = grad * exp(x) = grad * out        (use self.output: no second exp)

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class Exp(tg.Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, grad):
        out = self.output
        ### BEGIN SOLUTION
        return grad * out
        ### END SOLUTION
'''


def reference(x):
    return np.exp(x)


CASES = [lambda: (randn(3, 4, seed=1),), lambda: (randn(5, seed=2),)]
CHECKS = op_checks("Exp", reference, CASES, names=("x",))

MISTAKES = [
    ("return grad * out", "return out", "off by the upstream gradient"),
    ("return grad * out", "return grad * out * 2", "factor 2"),
]

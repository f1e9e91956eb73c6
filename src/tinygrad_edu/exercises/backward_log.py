"""Exercise: backward of Log."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_log"
TITLE = "backward of Log"
SEED = "seed 004, 2.2 (derivatives of the elementary functions: (ln x)' = 1/x)"
ENTRIES = ("Log",)

SOLUTION = f'''"""Exercise {ID}: backward of Log.

out = log(x) for x > 0. d log(x)/dx = 1/x:

    grad_x = grad / x

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class Log(tg.Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, grad):
        (x,) = self.inputs
        ### BEGIN SOLUTION
        return grad / x
        ### END SOLUTION
'''


def reference(x):
    return np.log(x)


CASES = [lambda: (randn(3, 4, seed=1, low=0.3),), lambda: (randn(5, seed=2, low=1.0),)]
CHECKS = op_checks("Log", reference, CASES, names=("x",))

MISTAKES = [
    ("return grad / x", "return 1 / x", "off by the upstream gradient"),
    ("return grad / x", "return -grad / x", "sign"),
]

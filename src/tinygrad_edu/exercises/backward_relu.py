"""Exercise: backward of ReLU."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_relu"
TITLE = "backward of ReLU"
SEED = "the course's relu_backward: dZ = dA * (Z > 0)"
ENTRIES = ("ReLU",)

SOLUTION = f'''"""Exercise {ID}: backward of ReLU.

out = max(x, 0). Its derivative is 1 where x > 0 and 0 elsewhere (0 at the kink x = 0,
as PyTorch chooses):

    grad_x = grad * (x > 0)

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class ReLU(tg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        (x,) = self.inputs
        ### BEGIN SOLUTION
        return grad * (x > 0)
        ### END SOLUTION
'''


def reference(x):
    return np.maximum(x, 0)


CASES = [lambda: (randn(3, 4, seed=1),), lambda: (randn(7, seed=2),)]
CHECKS = op_checks("ReLU", reference, CASES, names=("x",))

MISTAKES = [
    ("return grad * (x > 0)", "return (x > 0) * 1.0", "off by the upstream gradient"),
]

"""Exercise: backward of Sigmoid."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_sigmoid"
TITLE = "backward of Sigmoid"
SEED = "seed 004, 2.3 (the network's activation is sigmoid: s' = s (1 - s))"
ENTRIES = ("Sigmoid",)

SOLUTION = f'''"""Exercise {ID}: backward of Sigmoid.

out = s = 1 / (1 + exp(-x)). ds/dx = s * (1 - s):

    grad_x = grad * s * (1 - s)        (use self.output)

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class Sigmoid(tg.Function):
    def forward(self, x):
        return 1.0 / (1.0 + np.exp(-x))

    def backward(self, grad):
        s = self.output
        ### BEGIN SOLUTION
        return grad * s * (1 - s)
        ### END SOLUTION
'''


def reference(x):
    return 1.0 / (1.0 + np.exp(-x))


CASES = [lambda: (randn(3, 4, seed=1),), lambda: (3 * randn(6, seed=2),)]
KNOWN = {
    "the input x where the output s belongs: x * (1 - x). Hint: sigmoid' = s * (1 - s) with "
    "s = sigmoid(x) = self.output": lambda x, grad: (grad * x * (1 - x),),
}
CHECKS = op_checks("Sigmoid", reference, CASES, names=("x",), known=KNOWN)

MISTAKES = [
    ("s = self.output", "(s,) = self.inputs", "the input x where the output s"),
    ("return grad * s * (1 - s)", "return s * (1 - s)", "off by the upstream gradient"),
]

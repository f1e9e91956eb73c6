"""Exercise: backward of Tanh."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_tanh"
TITLE = "backward of Tanh"
SEED = "seed 004, 2.2 (tanh'(x) = 1 - tanh(x)**2)"
ENTRIES = ("Tanh",)

SOLUTION = f'''"""Exercise {ID}: backward of Tanh.

out = tanh(x). d tanh(x)/dx = 1 - tanh(x)**2 = 1 - out**2:

    grad_x = grad * (1 - out * out)        (use self.output)

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.autograd import run  # noqa: F401  (run(Op, x) calls another op from a backward)


class Tanh(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        y = self.output
        ### BEGIN SOLUTION
        return grad * (1 - y * y)
        ### END SOLUTION
'''


def reference(x):
    return np.tanh(x)


CASES = [lambda: (randn(3, 4, seed=1),), lambda: (randn(6, seed=2),)]
KNOWN = {
    "the input x where the output y belongs: 1 - x * x. Hint: tanh' = 1 - tanh(x)**2 = 1 - y * y, "
    "with y = self.output": lambda x, grad: (grad * (1 - x * x),),
}
CHECKS = op_checks("Tanh", reference, CASES, names=("x",), known=KNOWN)

MISTAKES = [
    ("y = self.output", "(y,) = self.inputs", "the input x where the output y"),
    ("return grad * (1 - y * y)", "return (1 - y * y)", "off by the upstream gradient"),
    ("return grad * (1 - y * y)", "return grad * (y * y - 1)", "sign"),
]

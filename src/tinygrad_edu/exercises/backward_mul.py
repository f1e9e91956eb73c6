"""Exercise: the backward of Mul, out = a * b (elementwise)."""

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_mul"
TITLE = "backward of Mul"
SEED = "seed 004, 2.2 (the chain rule: multiply the derivatives along the path)"
ENTRIES = ("Mul",)

SOLUTION = f'''"""Exercise {ID}: write the backward of Mul, out = a * b (elementwise, same shapes).

The local derivatives are d(a*b)/da = b and d(a*b)/db = a. By the chain rule
each is multiplied by grad, the gradient of the loss with respect to out:

    grad_a = grad * b        grad_b = grad * a

backward returns one gradient per input, in the order of forward's arguments.

{ONE_STYLE}

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class Mul(tg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        ### BEGIN SOLUTION
        return grad * b, grad * a
        ### END SOLUTION
'''


def mul(a, b):
    return a * b


CASES = [lambda: (randn(3, 4, seed=1), randn(3, 4, seed=2)), lambda: (randn(5, seed=3), randn(5, seed=4))]
CHECKS = op_checks("Mul", mul, CASES, names=("a", "b"))

MISTAKES = [
    ("return grad * b, grad * a", "return b, a", "off by the upstream gradient"),
    ("return grad * b, grad * a", "return grad * a, grad * b", "swapped between the inputs"),
]

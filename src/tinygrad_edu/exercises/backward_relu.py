"""Exercise: backward of ReLU."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import (
    ONE_STYLE,
    backward_on_arrays,
    how_to_check,
    op_checks,
    randn,
    random_upstream,
)
from tinygrad_edu.exercises.feedback import as_array, compare

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

# Where x = 0 a central difference gives the average of the two sides' slopes, 0.5: the value the
# task chooses there, 0, comes from its formula, grad * (x > 0).
AT_THE_KINK = np.array([[-1.5, 0.0, 0.7], [0.0, 2.0, -0.2]])


def _check_at_the_kink(answer: Any) -> list[str]:
    x = AT_THE_KINK
    upstream = random_upstream(x.shape, seed=3)
    (grad,) = backward_on_arrays(answer.ReLU, (x,), upstream)
    expected = np.where(x > 0, upstream, 0.0)
    lines = compare(
        f"gradient for x = {x.tolist()}", grad, expected, upstream=upstream, expected_name="expected"
    )
    mine = as_array(grad)
    if lines and mine is not None and mine.shape == x.shape:
        wrong = ~np.isclose(mine, expected)
        if wrong.any() and (x[wrong] == 0).all():
            ones = np.allclose(mine[wrong], upstream[wrong])  # the upstream passed on: a slope of 1
            slope = "a derivative of 1" if ones else "a derivative other than 0"
            return lines[:1] + [
                f"  looks like: {slope} at the kink x = 0, where the task takes 0 (as PyTorch "
                "does). Hint: which of your comparisons is true at x = 0?"
            ]
    return lines


CHECKS = op_checks("ReLU", reference, CASES, names=("x",)) + [
    ("backward at the kink: 0 where x = 0, as the task says", 1.0, _check_at_the_kink)
]

MISTAKES = [
    ("return grad * (x > 0)", "return (x > 0) * 1.0", "off by the upstream gradient"),
    ("return grad * (x > 0)", "return grad * (x >= 0)", "a derivative of 1 at the kink x = 0"),
    (
        "return grad * (x > 0)",
        "grad[x <= 0] = 0\n        return grad",
        "ReLU.backward changed its grad, an input or its output in place",
    ),
]

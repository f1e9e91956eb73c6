"""Exercise: the backward of Add with broadcasting (a bias added to every row)."""

from typing import Callable

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "broadcast_add"
TITLE = "backward of Add with broadcasting"
SEED = "the course's db = 1/m * np.sum(dZ, axis=1, keepdims=True): a broadcast bias sums its gradient"
ENTRIES = ("Add",)

SOLUTION = f'''"""Exercise {ID}: write the backward of Add, out = a + b, where numpy broadcasts.

d(a + b)/da = d(a + b)/db = 1, so each input gets grad, but grad has the
OUTPUT's shape. An input that was broadcast was used once per copy, so its
gradient is the sum over the copies (the course's db = np.sum(dZ, axis=1,
keepdims=True) for a bias of shape (n, 1)). Write sum_to_shape(g, shape):

  1. sum over leading axes that the input did not have: (4, 3) -> (3,)
  2. sum, keepdims=True, over axes where the input had size 1: (4, 3) -> (1, 3)

    grad_a = sum_to_shape(grad, a.shape)      grad_b = sum_to_shape(grad, b.shape)

{ONE_STYLE}

{how_to_check(ID)}
"""

import tinygrad_edu as tg


def sum_to_shape(g, shape):
    ### BEGIN SOLUTION
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
    ### END SOLUTION


class Add(tg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad, a.shape), sum_to_shape(grad, b.shape)
'''


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


CASES = [
    lambda: (randn(4, 3, seed=1), randn(3, seed=2)),
    lambda: (randn(4, 1, seed=3), randn(1, 5, seed=4)),
    lambda: (randn(2, 3, 4, seed=5), randn(3, 1, seed=6)),
]
MEAN = (
    "the mean instead of the sum over the broadcast axes{}. Hint: a broadcast input is used once per "
    "copy, and each use adds its share of the gradient: add the copies' gradients up (yours is smaller "
    "by the number of copies)"
)


def _averaged(leading: bool, kept: bool) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """The gradients of a and b when sum_to_shape averages instead of summing (over the leading
    axes an input did not have, over its size-1 axes, or both)."""

    def to_shape(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        while g.ndim > len(shape):
            g = g.mean(axis=0) if leading else g.sum(axis=0)
        for axis, size in enumerate(shape):
            if size == 1 and g.shape[axis] != 1:
                g = g.mean(axis=axis, keepdims=True) if kept else g.sum(axis=axis, keepdims=True)
        return g

    return lambda a, b, grad: (to_shape(grad, a.shape), to_shape(grad, b.shape))


KNOWN = {
    MEAN.format(" (the leading axes the input did not have)"): _averaged(leading=True, kept=False),
    MEAN.format(" (the axes where the input had size 1)"): _averaged(leading=False, kept=True),
    MEAN.format(""): _averaged(leading=True, kept=True),
}
CHECKS = op_checks("Add", add, CASES, names=("a", "b"), known=KNOWN)

MISTAKES = [
    ("    while g.ndim > len(shape):\n        g = g.sum(axis=0)\n", "", "missing broadcast reduction"),
    ("g = g.sum(axis=axis, keepdims=True)", "g = g", "missing broadcast reduction"),
    ("g = g.sum(axis=0)", "g = g.mean(axis=0)", "the mean instead of the sum over the broadcast axes"),
]

"""Exercise: the backward of MatMul."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn
from tinygrad_edu.exercises.feedback import HINTS

ID = "backward_matmul"
TITLE = "backward of MatMul"
SEED = "the course's dW = 1/m * np.dot(dZ, A_prev.T) and dA_prev = np.dot(W.T, dZ)"
ENTRIES = ("MatMul",)

SOLUTION = f'''"""Exercise {ID}: write the backward of MatMul, out = a @ b, a (n, k), b (k, m).

out[i, j] = sum_l a[i, l] * b[l, j], so d out[i, j] / d a[i, l] = b[l, j] and
d out[i, j] / d b[l, j] = a[i, l]. Summed over the output elements:

    grad_a = grad @ b.T          (n, m) @ (m, k) -> (n, k), a's shape
    grad_b = a.T @ grad          (k, n) @ (n, m) -> (k, m), b's shape

(the course's dW = np.dot(dZ, A_prev.T) and dA_prev = np.dot(W.T, dZ)). Each
gradient has the shape of its input: a quick test of where the .T goes.

{ONE_STYLE}

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class MatMul(tg.Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        ### BEGIN SOLUTION
        return grad @ b.T, a.T @ grad
        ### END SOLUTION
'''


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a @ b


CASES = [
    lambda: (randn(3, 4, seed=1), randn(4, 2, seed=2)),
    lambda: (randn(3, 3, seed=3), randn(3, 3, seed=4)),
]


def without_transpose(a: np.ndarray, b: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradients with the .T forgotten (their shapes fit only when a and b are square)."""
    return grad @ b, a @ grad


def factors_swapped(a: np.ndarray, b: np.ndarray, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradients with the factors in the wrong order (a matrix product does not commute)."""
    return b.T @ grad, grad @ a.T


HINT = HINTS["missing_T"][1]
KNOWN = {
    f"a missing transpose (.T): grad @ b for a, a @ grad for b. Hint: {HINT}": without_transpose,
    f"the factors in the wrong order: b.T @ grad for a, grad @ a.T for b. Hint: {HINT}": factors_swapped,
}
CHECKS = op_checks("MatMul", matmul, CASES, names=("a", "b"), known=KNOWN)

MISTAKES = [
    ("return grad @ b.T, a.T @ grad", "return grad @ b.T, (grad.T @ a).T.T", "transposed"),
    ("return grad @ b.T, a.T @ grad", "return grad @ b, a @ grad", "a missing transpose (.T)"),
    ("return grad @ b.T, a.T @ grad", "return b.T @ grad, grad @ a.T", "the factors in the wrong order"),
]

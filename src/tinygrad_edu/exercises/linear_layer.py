"""Exercise: a Linear layer as one op, out = x @ W.T + b."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "linear_layer"
TITLE = "a Linear layer: x @ W.T + b, forward and backward"
SEED = "the course's linear_forward Z = np.dot(W, A) + b and linear_backward (dW, db, dA_prev)"
ENTRIES = ("Linear",)

SOLUTION = f'''"""Exercise {ID}: a Linear layer as one op, out = x @ W.T + b.

x is (N, in), W is (out, in) (the course's W[l], shape (n_l, n_(l-1))), b is
(out,). Samples are rows here, so the course's Z = np.dot(W, A) + b becomes
Z = x @ W.T + b, and its linear_backward becomes, with grad of shape (N, out):

    grad_x = grad @ W            (N, out) @ (out, in) -> (N, in)
    grad_W = grad.T @ x          (out, N) @ (N, in)   -> (out, in)    (course: dZ @ A_prev.T)
    grad_b = grad.sum(axis=0)    b was broadcast over the N rows       (course: np.sum(dZ, axis=1))

(the course's 1/m is in its cost's gradient, not here).

{ONE_STYLE}

{how_to_check(ID)}
"""

import tinygrad_edu as tg


class Linear(tg.Function):
    def forward(self, x, W, b):
        ### BEGIN SOLUTION
        return x @ W.T + b
        ### END SOLUTION

    def backward(self, grad):
        x, W, b = self.inputs
        ### BEGIN SOLUTION
        return grad @ W, grad.T @ x, grad.sum(axis=0)
        ### END SOLUTION
'''


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ni,oi->no", x, W) + b


CASES = [
    lambda: (randn(5, 3, seed=1), randn(2, 3, seed=2), randn(2, seed=3)),
    lambda: (randn(4, 4, seed=4), randn(4, 4, seed=5), randn(4, seed=6)),
]
# The generic hint quotes grad_a = grad @ b.T for out = a @ b, which with b = W leads back to
# grad @ W.T; this layer multiplies by W.T, and its hint says so.
LAYER_HINT = (
    "a gradient has the shape of its input: write down the shapes of grad (N, out), x (N, in) and "
    "W (out, in); for out = a @ b the gradient for a is grad @ b.T, and this layer computes "
    "out = x @ W.T, so its b is W.T, not W"
)
HINTS = {
    "missing_T": ("a missing or extra transpose (.T), or the factors of @ in the wrong order", LAYER_HINT)
}


def extra_transpose(x: np.ndarray, W: np.ndarray, b: np.ndarray, grad: np.ndarray) -> tuple:
    """The gradients with grad @ W.T for x (their shapes fit only when W is square)."""
    return grad @ W.T, grad.T @ x, grad.sum(axis=0)


KNOWN = {
    f"an extra transpose in the gradient for x (yours is grad @ W.T). Hint: {LAYER_HINT}": extra_transpose
}
CHECKS = op_checks("Linear", linear, CASES, names=("x", "W", "b"), known=KNOWN, hints=HINTS)

MISTAKES = [
    (
        "return grad @ W, grad.T @ x, grad.sum(axis=0)",
        "return grad @ W, x.T @ grad, grad.sum(axis=0)",
        "transposed",
    ),
    (
        "return grad @ W, grad.T @ x, grad.sum(axis=0)",
        "return grad @ W, grad.T @ x, grad",
        "missing broadcast",
    ),
    (
        "return grad @ W, grad.T @ x, grad.sum(axis=0)",
        "return grad @ W, grad.T @ x, grad.sum(axis=1)",
        "yours is the sum over axis 1",
    ),
    (
        "return grad @ W, grad.T @ x, grad.sum(axis=0)",
        "return grad @ W, grad.T @ x, grad.sum(axis=0, keepdims=True)",
        "a summed axis kept (keepdims=True)",
    ),
    ("return grad @ W, grad.T @ x", "return grad @ W.T, grad.T @ x", "out = x @ W.T, so its b is W.T"),
]

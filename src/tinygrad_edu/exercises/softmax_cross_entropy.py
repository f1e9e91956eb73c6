"""Exercise: softmax + cross-entropy as one op, forward and backward."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, forward_on_arrays, how_to_check, op_checks
from tinygrad_edu.exercises.feedback import compare

ID = "softmax_cross_entropy"
TITLE = "softmax + cross-entropy, forward and backward"
SEED = "the course's softmax output layer: dZ = A - Y for softmax with cross-entropy (as dZ3 = A3 - Y)"
ENTRIES = ("SoftmaxCrossEntropy",)

SOLUTION = f'''"""Exercise {ID}: softmax + cross-entropy as one op: the mean loss over N samples.

logits z has shape (N, C), labels y has shape (N,) (integer classes). With
p = softmax(z) row by row and Y the one-hot labels:

    p[i, c] = exp(z[i, c] - max_c z[i]) / sum_c' exp(z[i, c'] - max_c z[i])
    loss    = -1/N * sum_i log p[i, y[i]]
    dloss/dz = (p - Y) / N                      (the course's dZ = A - Y, divided by N)

Subtracting the row maximum changes nothing mathematically and keeps exp from
overflowing (logits of 1000 must work). forward saves p and Y; backward
returns the gradient for z and None for the integer labels.

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg


class SoftmaxCrossEntropy(tg.Function):
    def forward(self, z, y):
        ### BEGIN SOLUTION
        shifted = z - z.max(axis=1, keepdims=True)
        p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        onehot = np.zeros_like(p)
        onehot[np.arange(len(y)), y] = 1.0
        self.save_for_backward(p, onehot)
        return np.asarray(-np.mean(np.log(p[np.arange(len(y)), y])))
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        p, onehot = self.saved
        n = p.shape[0]
        return grad * (p - onehot) / n, None
        ### END SOLUTION
'''


def loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The formula, written independently: log-sum-exp minus the label's logit, averaged."""
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return np.asarray(np.mean(lse - z[np.arange(len(y)), y.astype(int)]))


def _case(seed: int, n: int, c: int, scale: float = 1.0):
    def make():
        rng = np.random.default_rng(seed)
        return scale * rng.standard_normal((n, c)), rng.integers(0, c, n)

    return make


CASES = [_case(1, 5, 3), _case(2, 4, 6)]


def _check_forward(answer):
    problems = []
    for make in CASES:
        z, y = make()
        _, out = forward_on_arrays(answer.SoftmaxCrossEntropy, (z, y), {})
        problems += compare(f"loss for logits of shape {z.shape}", out, loss(z, y), expected_name="expected")
    return problems


def _check_large_logits(answer):
    z = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]])
    y = np.array([0, 2])
    with np.errstate(all="ignore"):
        _, out = forward_on_arrays(answer.SoftmaxCrossEntropy, (z, y), {})
    if not np.all(np.isfinite(out)):
        return [
            f"logits of 1000 give a loss of {out}: exp overflowed. Hint: subtract each row's maximum "
            "before exp (softmax does not change)"
        ]
    return compare("loss for logits of 1000", out, loss(z, y), expected_name="expected")


CHECKS = [
    ("forward: the mean cross-entropy of the softmax", 1.0, _check_forward),
    ("forward: logits of 1000 do not overflow", 1.0, _check_large_logits),
]
CHECKS += op_checks("SoftmaxCrossEntropy", loss, CASES, names=("z", "y"), differentiable=(0,))

MISTAKES = [
    ("return grad * (p - onehot) / n, None", "return grad * (p - onehot), None", "off by a constant factor"),
    ("return grad * (p - onehot) / n, None", "return grad * (onehot - p) / n, None", "sign"),
    ("return grad * (p - onehot) / n, None", "return (p - onehot) / n, None", "off by the upstream gradient"),
    ("shifted = z - z.max(axis=1, keepdims=True)", "shifted = z", "overflowed"),
]

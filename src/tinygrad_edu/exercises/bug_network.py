"""Find the bug: a small network built from hand-written ops, one of which has a wrong backward."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import graph_check, how_to_check
from tinygrad_edu.exercises.feedback import compare, numerical_vjp

ID = "bug_network"
TITLE = "find the bug in a small network of hand-written ops"
SEED = "seed 004, 2.3 (back-propagation through a network layer by layer); the course's gradient check"
ENTRIES = ("Linear", "Tanh", "Sigmoid", "BCELoss", "loss")

SOLUTION = f'''"""Exercise {ID}: this network's gradient is wrong; find the op that makes it wrong.

loss(X, Y, W1, b1, W2, b2) computes, with hand-written ops,

    z1 = X @ W1.T + b1       (Linear)
    a1 = tanh(z1)            (Tanh)        tanh' = 1 - tanh**2
    z2 = a1 @ W2.T + b2      (Linear)
    a2 = sigmoid(z2)         (Sigmoid)     sigmoid' = s (1 - s)
    J  = BCELoss(a2, Y)      mean of -(Y log a2 + (1 - Y) log(1 - a2)); dJ/da2 = (a2 - Y) / (a2 (1 - a2)) / N

A gradient check of the whole loss (the course's gradient_check_n) says THAT
something is wrong; the checks here also check each op along the graph on
its own, and name the one whose backward does not match its forward. Fix
that op; the others are right.

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg


class Linear(tg.Function):
    def forward(self, x, W, b):
        return x @ W.T + b

    def backward(self, grad):
        x, W, b = self.inputs
        return grad @ W, grad.T @ x, grad.sum(axis=0)


class Tanh(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        y = self.output
        return grad * (1 - y * y)


class Sigmoid(tg.Function):
    def forward(self, x):
        return 1.0 / (1.0 + np.exp(-x))

    def backward(self, grad):
        s = self.output
        return grad * s * (1 - s)


class BCELoss(tg.Function):
    def forward(self, p, y):
        return np.asarray(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    def backward(self, grad):
        p, y = self.inputs
        return grad * (p - y) / (p * (1 - p)) / p.size, None


def loss(X, Y, W1, b1, W2, b2):
    a1 = Tanh.apply(Linear.apply(X, W1, b1))
    a2 = Sigmoid.apply(Linear.apply(a1, W2, b2))
    return BCELoss.apply(a2, Y)
'''

MISTAKE = "Tanh's backward multiplies grad by 1 - y instead of 1 - y * y (tanh' = 1 - tanh**2)"
BUG = ("return grad * (1 - y * y)", "return grad * (1 - y)", "the faulty op: Tanh")


def _problem() -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 3))
    Y = rng.integers(0, 2, (6, 1)).astype(np.float64)
    params = [
        rng.standard_normal((4, 3)),
        rng.standard_normal(4),
        rng.standard_normal((1, 4)),
        rng.standard_normal(1),
    ]
    return X, Y, params


def _loss_numpy(X: np.ndarray, Y: np.ndarray, W1: Any, b1: Any, W2: Any, b2: Any) -> np.ndarray:
    a1 = np.tanh(X @ W1.T + b1)
    a2 = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))
    return np.asarray(-np.mean(Y * np.log(a2) + (1 - Y) * np.log(1 - a2)))


def _build(answer: Any) -> Any:
    import tinygrad_edu as tg

    X, Y, params = _problem()
    return answer.loss(tg.Tensor(X), tg.Tensor(Y), *[tg.Tensor(p, requires_grad=True) for p in params])


def _check_whole(answer: Any) -> list[str]:
    import tinygrad_edu as tg

    X, Y, params = _problem()
    tensors = [tg.Tensor(p, requires_grad=True) for p in params]
    grads = tg.grad(answer.loss(tg.Tensor(X), tg.Tensor(Y), *tensors), tensors)
    expected = numerical_vjp(lambda *p: _loss_numpy(X, Y, *p), params, np.asarray(1.0))
    problems = []
    for name, g, e in zip(("W1", "b1", "W2", "b2"), grads, expected):
        problems += compare(f"dJ/d{name}", g.data, e)
    return problems


CHECKS = [
    ("the loss's gradient for W1, b1, W2, b2 (a check of the end result)", 1.0, _check_whole),
    ("each op along the graph, against its own forward", 1.0, graph_check(_build)),
]

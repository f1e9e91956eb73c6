"""Find the bug in a small scalar Value engine (the planted mistake: MISTAKE below)."""

import math
from typing import Any, Callable

from tinygrad_edu.exercises._checks import how_to_check
from tinygrad_edu.exercises.feedback import compare

ID = "bug_value_engine"
TITLE = "find the bug in a scalar Value engine"
SEED = "seed 004, 2.3: E depends on w1 along more than one path, and the paths' derivatives add up"
ENTRIES = ("Value",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this small scalar engine (a Value like tg.Value).

Every op records how to send its output's gradient back to its inputs; backward
visits the ops from the output to the inputs, and leaves in each Value's grad
the derivative of the output with respect to it (seed 004, 2.3), for instance

    d(a * a)/da = 2a        d(w*x1 + w*x2)/dw = x1 + x2        d tanh(u)/du = 1 - tanh(u)**2

Something in this engine is wrong. Find it and fix it; do not rewrite the rest.

{how_to_check(ID)}
"""

import math


class Value:
    def __init__(self, data, children=()):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._children = children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._children:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()
'''

MISTAKE = (
    "= instead of += in Mul's backward: the gradient of an input used more than once is "
    "overwritten instead of accumulated (a * a gives a, not 2a)"
)
BUG = (
    "            self.grad += other.data * out.grad\n            other.grad += self.data * out.grad\n",
    "            self.grad = other.data * out.grad\n            other.grad = self.data * out.grad\n",
    "overwritten instead of accumulated",
)


def _numerical(f: Callable[[float], float], x: float) -> float:
    h = 1e-6
    return (f(x + h) - f(x - h)) / (2 * h)


def _case(
    name: str,
    build: Callable[[Any, float], Any],
    plain: Callable[[float], float],
    at: float,
    shares: Callable[[float], list[float]],
) -> Any:
    def check(answer: Any) -> list[str]:
        x = answer.Value(at)
        out = build(answer, x)
        out.backward()
        return compare(f"{name} at {at}: d/dx", x.grad, _numerical(plain, at), one_use=shares(at))

    return check


def _square(V: Any, a: Any) -> Any:
    return a * a


def _two_products(V: Any, a: Any) -> Any:
    return a * V.Value(2.0) + a * V.Value(-5.0)


def _neuron(V: Any, w: Any) -> Any:
    return (w * V.Value(0.5) + w * V.Value(1.5)).tanh()


def _neuron_share(w: float) -> list[float]:
    slope = 1 - math.tanh(2.0 * w) ** 2
    return [slope * 0.5, slope * 1.5]


CHECKS = [
    ("a * a", 1.0, _case("a * a", _square, lambda a: a * a, 3.0, lambda a: [a])),
    (
        "a * 2 + a * (-5)",
        1.0,
        _case("a * 2 + a * (-5)", _two_products, lambda a: -3 * a, 1.5, lambda a: [2.0, -5.0]),
    ),
    (
        "tanh(w * 0.5 + w * 1.5)",
        1.0,
        _case("tanh(w * 0.5 + w * 1.5)", _neuron, lambda w: math.tanh(2.0 * w), 0.4, _neuron_share),
    ),
]

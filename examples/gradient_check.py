"""Gradient checking: catch a wrong backward by comparing it with finite differences.

The course's recipe (Improving Deep Neural Networks, week 1): nudge each
parameter theta_i by +-eps, recompute the cost J, and compare

    g_num_i = (J(theta_i + eps) - J(theta_i - eps)) / (2 eps)

with backprop's gradient g by the relative error

    difference = ||g - g_num|| / (||g|| + ||g_num||)

below 2e-7 (the course's bound, with eps = 1e-7): the backward is right; 1e-3 or more: it is almost
certainly wrong. This example

1. checks one op with ``gradcheck`` (its whole Jacobian, element by element);
2. writes a sigmoid whose backward forgets a factor, and shows ``gradcheck``
   naming the element where it fails;
3. runs ``check_model`` on the course's [2, 5, 2, 1] network, then on the
   same network with the broken sigmoid, and prints both reports.

    python examples/gradient_check.py
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional, Sequence

import numpy as np

from tinygrad_edu import Function, Tensor, data, nn
from tinygrad_edu.gradcheck import GradcheckError, check_model, gradcheck

# The course's gradient_check_n: "difference > 2e-7: there is a mistake in the backward propagation".
COURSE_THRESHOLD = 2e-7


class BrokenSigmoid(Function):
    """sigmoid(x), with a backward that forgets the factor (1 - s): d/dx = s instead of s * (1 - s)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-x))

    def backward(self, grad: Tensor) -> Tensor:
        s = self.output
        return grad * s  # the bug: should be grad * s * (1 - s)


class BrokenSigmoidLayer(nn.Module):
    def forward(self, x: Any) -> Tensor:
        return BrokenSigmoid.apply(x)


def check_one_op() -> None:
    print("== 1. gradcheck on tanh(x @ w): the full Jacobian against central differences ==")
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    ok = gradcheck(lambda a, b: (a @ b).tanh(), [x, w])
    print(f"gradcheck(tanh(x @ w)) passed: {ok}")

    print("\n== 2. a sigmoid whose backward forgets the factor (1 - s) ==")
    z = Tensor(rng.standard_normal(5), requires_grad=True)
    print(f"gradcheck(sigmoid(z)) passed: {gradcheck(lambda a: a.sigmoid(), [z])}")
    try:
        gradcheck(lambda a: BrokenSigmoid.apply(a), [z])
        print("gradcheck(BrokenSigmoid(z)) passed: True  (this should not happen)")
    except GradcheckError as err:
        print("gradcheck(BrokenSigmoid(z)) raised GradcheckError:")
        print(f"  {err}")


def course_network(broken: bool = False) -> nn.Sequential:
    """The course's [2, 5, 2, 1] network, its initial weights from np.random.seed(3) (He)."""
    rng = np.random.RandomState(3)
    return nn.Sequential(
        nn.Linear(2, 5, rng=rng, dtype=np.float64), nn.ReLU(),
        nn.Linear(5, 2, rng=rng, dtype=np.float64), nn.ReLU(),
        nn.Linear(2, 1, rng=rng, dtype=np.float64),
        BrokenSigmoidLayer() if broken else nn.Sigmoid(),
    )


def print_course_verdict(difference: float) -> None:
    """The course's message for the overall difference."""
    if difference > COURSE_THRESHOLD:
        print(f"There is a mistake in the backward propagation! difference = {difference:.3e}")
    else:
        print(f"The backward propagation works perfectly fine! difference = {difference:.3e}")


def check_networks() -> None:
    X, y = data.make_moons(300, noise=0.2, seed=3)
    X, Y = X[:20], y[:20].reshape(-1, 1).astype(np.float64)  # a few samples: two forwards per parameter
    print("\n== 3. check_model on the course's [2, 5, 2, 1] network, 20 moons points, BCELoss ==")
    report = check_model(course_network(), nn.BCELoss(), X, Y, threshold=COURSE_THRESHOLD)
    print(report)
    print_course_verdict(report.relative_error)

    print("\n== the same network with the broken sigmoid ==")
    report = check_model(course_network(broken=True), nn.BCELoss(), X, Y,
                          threshold=COURSE_THRESHOLD)
    print(report)
    print_course_verdict(report.relative_error)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    check_one_op()
    check_networks()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Exercise: the course's Momentum as an optimizer."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import GRADIENTS, START, how_to_check, trajectory_check

ID = "momentum"
TITLE = "the course's Momentum update, as an Optimizer"
SEED = "seed 000 / 001: update_parameters_with_momentum, v = beta v + (1 - beta) dW; W = W - lr v"
ENTRIES = ("CourseMomentum",)

SOLUTION = f'''"""Exercise {ID}: the course's momentum, as a subclass of tg.optim.Optimizer.

The course's update_parameters_with_momentum, for each parameter W with gradient dW:

    v = beta * v + (1 - beta) * dW          (v starts at zeros, in initialize_velocity)
    W = W - learning_rate * v

An Optimizer subclass writes the update for ONE parameter in
_update(param, grad, state, group, lr): param and grad are ndarrays, state is
this parameter's dict (made by _init_state on its first step), group holds the
options (group["beta"]), lr is the learning rate of this step. Change param
and the state's arrays IN PLACE (param -= ..., v *= ..., v += ...): assigning
a new array to a local name changes nothing the optimizer keeps.

{how_to_check(ID)}
"""

import numpy as np

from tinygrad_edu.optim import Optimizer


class CourseMomentum(Optimizer):
    def __init__(self, params, lr=0.01, beta=0.9):
        super().__init__(params, dict(lr=lr, beta=beta))

    def _init_state(self, param, group):
        return {{"step": 0, "velocity": np.zeros_like(param)}}

    def _update(self, param, grad, state, group, lr):
        v, beta = state["velocity"], group["beta"]
        ### BEGIN SOLUTION
        v *= beta
        v += (1 - beta) * grad
        param -= lr * v
        ### END SOLUTION
'''


def reference(lr: float, beta: float) -> Any:
    def steps(shift: int = 0) -> list[np.ndarray]:
        p, v, out = START.copy(), np.zeros_like(START), []
        for g in GRADIENTS:
            v = beta * v + (1 - beta) * g
            p = p - lr * v
            out.append(p)
        return out

    return steps


STATE_NAMES = {"velocity": ("the velocity", "v *= beta; v += (1 - beta) * grad")}


GRADIENT_STEP = (
    "a plain gradient-descent step, param -= lr * grad. Hint: momentum steps along the velocity, "
    "param -= lr * v, after v has taken the new gradient in"
)


def gradient_descent(lr: float) -> Any:
    """The trajectory of plain gradient descent: the velocity computed, then not used."""
    return lambda: [START - lr * np.sum(GRADIENTS[: t + 1], axis=0) for t in range(len(GRADIENTS))]


def _check(lr: float, beta: float) -> Any:
    options = dict(lr=lr, beta=beta)
    known = {GRADIENT_STEP: gradient_descent(lr)}
    return trajectory_check("CourseMomentum", options, reference(lr, beta), known, state_names=STATE_NAMES)


CHECKS = [
    ("three steps with lr=0.1, beta=0.9", 1.0, _check(0.1, 0.9)),
    ("three steps with lr=0.5, beta=0.5", 1.0, _check(0.5, 0.5)),
]

MISTAKES = [
    (
        "        v *= beta\n        v += (1 - beta) * grad\n",
        "        v = beta * v + (1 - beta) * grad\n",
        "the velocity was not kept between steps",
    ),
    ("param -= lr * v", "param += lr * v", "sign"),
    ("param -= lr * v", "param -= lr * grad", "a plain gradient-descent step"),
    ("param -= lr * v", "param = param - lr * v", "the parameter did not change"),
]

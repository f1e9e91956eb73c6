"""Exercise: the course's RMSprop as an optimizer."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import GRADIENTS, START, how_to_check, trajectory_check

ID = "rmsprop"
TITLE = "the course's RMSprop update, as an Optimizer"
SEED = "seed 000, 5 / seed 004, 3.3: s = beta s + (1 - beta) dW**2; W = W - lr dW / (sqrt(s) + eps)"
ENTRIES = ("CourseRMSprop",)

SOLUTION = f'''"""Exercise {ID}: the course's RMSprop, as a subclass of tg.optim.Optimizer.

For each parameter W with gradient dW (elementwise):

    s = beta * s + (1 - beta) * dW**2        (s starts at zeros)
    W = W - learning_rate * dW / (sqrt(s) + eps)

Write _update(param, grad, state, group, lr) for ONE parameter; change param
and state["square_avg"] in place (param -= ..., s *= ..., s += ...).

{how_to_check(ID)}
"""

import numpy as np

from tinygrad_edu.optim import Optimizer


class CourseRMSprop(Optimizer):
    def __init__(self, params, lr=0.01, beta=0.9, eps=1e-8):
        super().__init__(params, dict(lr=lr, beta=beta, eps=eps))

    def _init_state(self, param, group):
        return {{"step": 0, "square_avg": np.zeros_like(param)}}

    def _update(self, param, grad, state, group, lr):
        s, beta, eps = state["square_avg"], group["beta"], group["eps"]
        ### BEGIN SOLUTION
        s *= beta
        s += (1 - beta) * grad * grad
        param -= lr * grad / (np.sqrt(s) + eps)
        ### END SOLUTION
'''


def reference(lr: float, beta: float, eps: float, eps_inside: bool = False) -> Any:
    def steps(shift: int = 0) -> list[np.ndarray]:
        p, s, out = START.copy(), np.zeros_like(START), []
        for g in GRADIENTS:
            s = beta * s + (1 - beta) * g**2
            p = p - lr * g / (np.sqrt(s + eps) if eps_inside else np.sqrt(s) + eps)
            out.append(p)
        return out

    return steps


INSIDE = (
    "eps inside the root, sqrt(s + eps) (Keras's form); the course's RMSprop adds it outside: sqrt(s) + eps"
)


STATE_NAMES = {
    "square_avg": ("the average of the squared gradients", "s *= beta; s += (1 - beta) * grad * grad")
}

OPTIONS = [dict(lr=0.01, beta=0.9, eps=1e-8), dict(lr=0.1, beta=0.5, eps=0.1)]
CHECKS = [
    (
        f"three steps with {o}",
        1.0,
        trajectory_check(
            "CourseRMSprop",
            o,
            reference(**o),
            {INSIDE: reference(**o, eps_inside=True)},
            state_names=STATE_NAMES,
        ),
    )
    for o in OPTIONS
]

MISTAKES = [
    (
        "param -= lr * grad / (np.sqrt(s) + eps)",
        "param -= lr * grad / np.sqrt(s + eps)",
        "eps inside the root",
    ),
    (
        "        s *= beta\n        s += (1 - beta) * grad * grad\n",
        "        s = beta * s + (1 - beta) * grad * grad\n",
        "the average of the squared gradients was not kept between steps",
    ),
]

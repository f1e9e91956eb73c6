"""Find the bug in an Adam optimizer (the planted mistake: MISTAKE below)."""

from tinygrad_edu.exercises import adam
from tinygrad_edu.exercises._checks import how_to_check, trajectory_check

ID = "bug_adam"
TITLE = "find the bug in an Adam optimizer"
SEED = "seed 001: t = t + 1 before update_parameters_with_adam, so the first correction is 1 - beta1**1"
ENTRIES = ("CourseAdam",)

SOLUTION = f'''"""Exercise {ID}: find the bug in this Adam.

The course's update_parameters_with_adam (seed 001), for a parameter W with
gradient g at its update t = 1, 2, ... (state["step"] holds t during the update):

    v = beta1 v + (1 - beta1) g;   s = beta2 s + (1 - beta2) g**2
    W = W - lr * (v / (1 - beta1**t)) / (sqrt(s / (1 - beta2**t)) + eps)

One line is wrong: find it and fix it.

{how_to_check(ID)}
"""

import numpy as np

from tinygrad_edu.optim import Optimizer


class CourseAdam(Optimizer):
    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    def _init_state(self, param, group):
        return {{"step": 0, "v": np.zeros_like(param), "s": np.zeros_like(param)}}

    def _update(self, param, grad, state, group, lr):
        beta1, beta2, eps = group["beta1"], group["beta2"], group["eps"]
        v, s = state["v"], state["s"]
        t = state["step"]
        v *= beta1
        v += (1 - beta1) * grad
        s *= beta2
        s += (1 - beta2) * grad * grad
        v_corrected = v / (1 - beta1**t)
        s_corrected = s / (1 - beta2**t)
        param -= lr * v_corrected / (np.sqrt(s_corrected) + eps)
'''

MISTAKE = (
    'bias correction off by one step: t = state["step"] + 1, though state["step"] already '
    "counts the update being made, so the first correction divides by 1 - beta1**2, not 1 - beta1"
)
BUG = ('t = state["step"]', 't = state["step"] + 1', "off by one step")

OPTIONS = [dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), dict(lr=0.1, beta1=0.8, beta2=0.9, eps=0.5)]
CHECKS = [
    (
        f"three steps with {o}",
        1.0,
        trajectory_check(
            "CourseAdam", o, adam.reference(**o, eps_mode="outside"), state_names=adam.STATE_NAMES
        ),
    )
    for o in OPTIONS
]

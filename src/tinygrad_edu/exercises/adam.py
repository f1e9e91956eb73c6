"""Exercise: the course's Adam with bias correction, as an optimizer."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import GRADIENTS, START, how_to_check, trajectory_check

ID = "adam"
TITLE = "the course's Adam update with bias correction, as an Optimizer"
SEED = "seeds 001 (eps inside the root, 2019 release) and 003 (eps outside): update_parameters_with_adam"
ENTRIES = ("CourseAdam",)

SOLUTION = f'''"""Exercise {ID}: the course's Adam, with bias correction, as a tg.optim.Optimizer.

The course's update_parameters_with_adam, at its step t = 1, 2, ... (t counts
the updates made so far, this one included):

    v = beta1 * v + (1 - beta1) * dW                 (v, s start at zeros)
    s = beta2 * s + (1 - beta2) * dW**2
    v_corrected = v / (1 - beta1**t)                 (bias correction)
    s_corrected = s / (1 - beta2**t)
    W = W - lr * v_corrected / (sqrt(s_corrected) + eps)      eps_mode="outside" (current course, seed 003)
    W = W - lr * v_corrected / sqrt(s_corrected + eps)        eps_mode="inside"  (2019 release, seed 001)

The optimizer counts the steps for you: state["step"] is t, already counted
for this update (1 on the first). Write _update for ONE parameter; change
param and the state's arrays in place.

{how_to_check(ID)}
"""

import numpy as np

from tinygrad_edu.optim import Optimizer


class CourseAdam(Optimizer):
    def __init__(self, params, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, eps_mode="outside"):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, eps_mode=eps_mode))

    def _init_state(self, param, group):
        return {{"step": 0, "v": np.zeros_like(param), "s": np.zeros_like(param)}}

    def _update(self, param, grad, state, group, lr):
        v, s, t = state["v"], state["s"], state["step"]
        beta1, beta2, eps = group["beta1"], group["beta2"], group["eps"]
        ### BEGIN SOLUTION
        v *= beta1
        v += (1 - beta1) * grad
        s *= beta2
        s += (1 - beta2) * grad * grad
        v_corrected = v / (1 - beta1**t)
        s_corrected = s / (1 - beta2**t)
        if group["eps_mode"] == "inside":
            param -= lr * v_corrected / np.sqrt(s_corrected + eps)
        else:
            param -= lr * v_corrected / (np.sqrt(s_corrected) + eps)
        ### END SOLUTION
'''


def reference(
    lr: float, beta1: float, beta2: float, eps: float, eps_mode: str, corrected: bool = True
) -> Any:
    """The course's trajectory (``corrected=False``: without the bias correction, a common mistake)."""

    def steps(shift: int = 0) -> list[np.ndarray]:
        p, v, s, out = START.copy(), np.zeros_like(START), np.zeros_like(START), []
        for t, g in enumerate(GRADIENTS, start=1 + shift):
            v = beta1 * v + (1 - beta1) * g
            s = beta2 * s + (1 - beta2) * g**2
            with np.errstate(divide="ignore", invalid="ignore"):
                v_c, s_c = (v / (1 - beta1**t), s / (1 - beta2**t)) if corrected else (v, s)
                root = np.sqrt(s_c + eps) if eps_mode == "inside" else np.sqrt(s_c) + eps
                p = p - lr * v_c / root
            out.append(p)
        return out

    return steps


OPTIONS = [
    dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, eps_mode="outside"),
    dict(lr=0.1, beta1=0.8, beta2=0.9, eps=0.5, eps_mode="outside"),
    dict(lr=0.1, beta1=0.8, beta2=0.9, eps=0.5, eps_mode="inside"),
]
STATE_NAMES = {
    "v": ("the average of the gradients", "v *= beta1; v += (1 - beta1) * grad"),
    "s": ("the average of the squared gradients", "s *= beta2; s += (1 - beta2) * grad * grad"),
}
NO_CORRECTION = (
    "no bias correction (yours is the update with v and s as they are). Hint: v and s start at zeros, "
    "so in the first steps they are too small; the bias correction scales each up by a factor that "
    "depends on t"
)


EPS_PLACED = {
    "inside": "eps inside the root, sqrt(s_corrected + eps), where eps_mode 'outside' adds it outside: "
    "sqrt(s_corrected) + eps",
    "outside": "eps outside the root, sqrt(s_corrected) + eps, where eps_mode 'inside' adds it inside: "
    "sqrt(s_corrected + eps)",
}


def _check(options: dict[str, Any]) -> Any:
    other = "inside" if options["eps_mode"] == "outside" else "outside"
    known = {
        NO_CORRECTION: reference(**options, corrected=False),
        EPS_PLACED[other]: reference(**dict(options, eps_mode=other)),
    }
    return trajectory_check("CourseAdam", options, reference(**options), known, state_names=STATE_NAMES)


CHECKS = [(f"three steps with {o}", 1.0, _check(o)) for o in OPTIONS]

MISTAKES = [
    ('state["s"], state["step"]', 'state["s"], state["step"] + 1', "off by one step"),
    (
        "param -= lr * v_corrected / (np.sqrt(s_corrected) + eps)",
        "param -= lr * v_corrected / np.sqrt(s_corrected + eps)",
        "eps inside the root, sqrt(s_corrected + eps), where eps_mode 'outside'",
    ),
    (
        "param -= lr * v_corrected / np.sqrt(s_corrected + eps)",
        "param -= lr * v_corrected / np.sqrt(s_corrected) + eps",
        "eps_mode': 'inside'",
    ),
    (
        "        v *= beta1\n        v += (1 - beta1) * grad\n",
        "        v = beta1 * v + (1 - beta1) * grad\n",
        "the average of the gradients was not kept between steps",
    ),
    (
        "        v_corrected = v / (1 - beta1**t)\n        s_corrected = s / (1 - beta2**t)\n",
        "        v_corrected = v\n        s_corrected = s\n",
        "no bias correction",
    ),
]

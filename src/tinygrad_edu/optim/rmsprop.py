"""RMSprop: divide each coordinate's step by a running root-mean-square of its gradients."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_edu.optim.optimizer import LearningRate, Optimizer


class RMSprop(Optimizer):
    """RMSprop, in PyTorch's convention (``torch.optim.RMSprop``); per parameter ``p``::

        g = grad + weight_decay * p
        s = alpha * s + (1 - alpha) * g * g              (s, a and b start at 0)
        centered:  a = alpha * a + (1 - alpha) * g;  s_used = s - a * a   (else s_used = s)
        d = sqrt(s_used) + eps                           eps_mode="outside" (PyTorch, the course)
        d = sqrt(s_used + eps)                           eps_mode="inside"  (Keras 3)
        momentum > 0:  b = momentum * b + g / d;  p = p - lr * b
        otherwise:     p = p - lr * g / d

    ``alpha`` is Keras's ``rho`` and the course's ``beta2``. TensorFlow 2's Keras ``RMSprop``
    (seed 004's printed 0.6837723) is ``RMSprop(lr, alpha=0.9, eps=1e-7)``, Keras 3's the same with
    ``eps_mode="inside"`` (docs/optimizers.md); Keras puts ``lr`` inside the
    momentum buffer (``b = momentum * b + lr * g / d; p = p - b``), the same while ``lr`` is constant.
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    made_on_first_use = ("momentum_buffer", "grad_avg")  # momentum or centered turned on between steps

    def __init__(
        self,
        params: Iterable[Any],
        lr: LearningRate = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        eps_mode: str = "outside",
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, eps_mode=eps_mode)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        self._check_range(group, index, "alpha", 0.0, 1.0)
        for key in ("eps", "weight_decay", "momentum"):
            self._check_range(group, index, key, 0.0)
        self._check_flag(group, index, "centered")
        self._check_choice(group, index, "eps_mode", ("outside", "inside"))

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "square_avg": np.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        alpha, eps = group["alpha"], group["eps"]
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        s = state["square_avg"]
        s *= alpha
        s += (1 - alpha) * grad * grad
        if group["centered"]:
            if "grad_avg" not in state:  # centered turned on after this parameter's first step
                state["grad_avg"] = np.zeros_like(param)
            a = state["grad_avg"]
            a *= alpha
            a += (1 - alpha) * grad
            s = s - a * a
        if group["eps_mode"] == "outside":
            denom = np.sqrt(s)
            denom += eps
        else:
            denom = np.sqrt(s + eps)
        if group["momentum"] > 0:
            if "momentum_buffer" not in state:  # momentum turned on after this parameter's first step
                state["momentum_buffer"] = np.zeros_like(param)
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            param -= lr * buf
        else:
            param -= lr * grad / denom

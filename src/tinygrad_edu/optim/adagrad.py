"""AdaGrad: each coordinate's step shrinks with the sum of its squared gradients so far."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_edu.optim.optimizer import LearningRate, Optimizer


class Adagrad(Optimizer):
    """AdaGrad, in PyTorch's convention (``torch.optim.Adagrad``); per parameter ``p``, at its step ``t``::

        g = grad + weight_decay * p
        s = s + g * g                          (s starts at initial_accumulator_value)
        clr = lr / (1 + (t - 1) * lr_decay)
        p = p - clr * g / (sqrt(s) + eps)      eps_mode="outside" (PyTorch, seed 002's AdaGrad class)
        p = p - clr * g / sqrt(s + eps)        eps_mode="inside"  (Keras 3)

    Keras 3's ``Adagrad`` is ``Adagrad(lr, initial_accumulator_value=0.1, eps=1e-7, eps_mode="inside")``
    (TensorFlow 2's Keras put eps outside the root; docs/optimizers.md).
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    def __init__(
        self,
        params: Iterable[Any],
        lr: LearningRate = 0.01,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        eps_mode: str = "outside",
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, eps_mode=eps_mode)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            self._check_range(group, index, key, 0.0)
        self._check_choice(group, index, "eps_mode", ("outside", "inside"))

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "sum": np.full_like(param, group["initial_accumulator_value"])}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        clr = lr / (1 + (state["step"] - 1) * group["lr_decay"])
        s = state["sum"]
        s += grad * grad
        if group["eps_mode"] == "outside":
            denom = np.sqrt(s)
            denom += group["eps"]
        else:
            denom = np.sqrt(s + group["eps"])
        param -= clr * grad / denom


"""Adam (momentum + RMSprop with bias correction) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Any, Iterable, Tuple

import numpy as np

from tinygrad_edu.optim.optimizer import LearningRate, Optimizer


class Adam(Optimizer):
    """Adam, in PyTorch's convention (``torch.optim.Adam``); per parameter ``p``, at its step ``t``::

        g = grad + weight_decay * p                  (L2 penalty; AdamW decays p directly instead)
        m = beta1 * m + (1 - beta1) * g              (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g * g
        amsgrad:  v_max = maximum(v_max, v), used in place of v below   (v_max starts at 0)
        m_hat = m / (1 - beta1**t);   v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)     eps_mode="outside" (PyTorch, seed 003)
        p = p - lr * m_hat / sqrt(v_hat + eps)       eps_mode="inside"  (the course's code, seed 001)
        p = p - lr_t * m / (sqrt(v) + eps),          eps_mode="hat"     (Kingma & Ba's efficient form;
            lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)               Keras, seed 002's Adam class)

    The three modes differ only in where ``eps`` sits; with ``eps=0`` they agree. Keras's ``Adam``
    is ``Adam(lr, eps=1e-7, eps_mode="hat")``.
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    _decoupled_weight_decay = False

    made_on_first_use = ("max_exp_avg_sq",)  # amsgrad turned on between steps

    def __init__(
        self,
        params: Iterable[Any],
        lr: LearningRate = 0.001,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        eps_mode: str = "outside",
    ) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        eps_mode=eps_mode)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        name = type(self).__name__
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"{name}: betas of group {index} must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = betas = (betas[0], betas[1])
        for b in betas:
            if not (isinstance(b, (int, float, np.number)) and 0.0 <= b < 1.0):
                raise ValueError(f"{name}: betas of group {index} must lie in [0, 1), got {betas!r}")
        self._check_range(group, index, "eps", 0.0)
        self._check_range(group, index, "weight_decay", 0.0)
        self._check_flag(group, index, "amsgrad")
        self._check_choice(group, index, "eps_mode", ("outside", "inside", "hat"))

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0, "exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        (beta1, beta2), eps, t = group["betas"], group["eps"], state["step"]
        weight_decay = group["weight_decay"]
        if weight_decay != 0:
            if self._decoupled_weight_decay:
                param *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:  # amsgrad turned on after this parameter's first step
                state["max_exp_avg_sq"] = np.zeros_like(param)
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        bias1, bias2 = 1 - beta1**t, 1 - beta2**t
        mode = group["eps_mode"]
        if mode == "outside":
            denom = np.sqrt(v)
            denom /= math.sqrt(bias2)
            denom += eps
            param -= (lr / bias1) * m / denom
        elif mode == "inside":
            denom = np.sqrt(v / bias2 + eps)
            param -= (lr / bias1) * m / denom
        else:  # "hat": the bias corrections folded into the step size
            denom = np.sqrt(v)
            denom += eps
            param -= (lr * math.sqrt(bias2) / bias1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), PyTorch's ``torch.optim.AdamW``.

    Before the Adam step of ``Adam``'s docstring (with ``weight_decay`` left out of ``g``)::

        p = p * (1 - lr * weight_decay)

    so the decay does not pass through ``m`` and ``v``. Default ``weight_decay=0.01``.
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: LearningRate = 0.001,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        eps_mode: str = "outside",
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         eps_mode=eps_mode)

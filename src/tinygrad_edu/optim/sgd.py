"""Gradient descent: ``SGD`` (PyTorch's, with momentum options) and ``Momentum`` (the course's form)."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from tinygrad_edu.optim.optimizer import LearningRate, Optimizer, required


class SGD(Optimizer):
    """(Mini-batch) gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    PyTorch's convention (``torch.optim.SGD``), per parameter ``p`` with gradient ``grad``::

        g = grad + weight_decay * p
        b = g                                     on the first step (momentum != 0)
        b = momentum * b + (1 - dampening) * g    on later steps
        g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    With ``momentum=0`` this is the course's ``update_parameters_with_gd``: ``p = p - lr * grad``.
    Keras writes momentum as ``v = momentum * v - lr * g; p = p + v``; while ``lr`` is constant
    that is the same trajectory (``v = -lr * b``), e.g. seed 004's steps of 0.1 then 0.18.
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    def __init__(
        self,
        params: Iterable[Any],
        lr: LearningRate = required,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        self._check_flag(group, index, "nesterov")
        self._check_range(group, index, "momentum", 0.0)
        self._check_range(group, index, "dampening", 0.0, 1.0)
        self._check_range(group, index, "weight_decay", 0.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov=True in group {index} needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        # The momentum buffer starts as a copy of the first gradient, so it is made on first use.
        return {"step": 0, "momentum_buffer": None}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        if group["weight_decay"] != 0:
            grad = grad + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum != 0:
            buf = state["momentum_buffer"]
            if buf is None:
                # np.array, not .copy(): for a 0-d parameter grad may be a numpy scalar, which is immutable
                buf = state["momentum_buffer"] = np.array(grad, dtype=param.dtype)
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= lr * grad


class Momentum(Optimizer):
    """Gradient descent with momentum in the course's form: step along an average of recent gradients.

    The course's ``update_parameters_with_momentum``, per parameter ``p``::

        v = beta * v + (1 - beta) * grad      (v starts at 0; no bias correction)
        p = p - lr * v

    ``v`` is an exponentially weighted average of the gradients (see ``ExponentialMovingAverage``).
    It equals ``SGD(lr=lr * (1 - beta), momentum=beta)``: PyTorch's buffer is ``v / (1 - beta)``.
    """

    elementwise = True  # a small group is updated as one flat array (optim/flat.py)

    def __init__(self, params: Iterable[Any], lr: LearningRate = required, beta: float = 0.9) -> None:
        super().__init__(params, dict(lr=lr, beta=beta))

    def _check_options(self, group: dict[str, Any], index: int) -> None:
        self._check_range(group, index, "beta", 0.0, 1.0, high_open=True)

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0, "velocity": np.zeros_like(param)}

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any], lr: float
    ) -> None:
        beta, v = group["beta"], state["velocity"]
        v *= beta
        v += (1 - beta) * grad
        param -= lr * v

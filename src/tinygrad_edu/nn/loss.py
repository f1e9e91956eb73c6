"""Loss modules: ``loss_fn(input, target)`` returns a Tensor (a scalar unless reduction="none").

Each calls one fused, numerically stable op (``tinygrad_edu.ops.fused``);
targets may be Tensors or ndarrays. ``reduction`` is "mean" (over every
element; for cross-entropy over the samples), "sum" or "none".
"""

from __future__ import annotations

from typing import Any

from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.module import Module
from tinygrad_edu.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = F.check_reduction(reduction, type(self).__name__)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error: mean((input - target)**2);  d/dinput = 2 (input - target) / n."""

    def forward(self, input: Any, target: Any) -> Tensor:
        return F._mse_loss(input, target, self.reduction, "MSELoss")


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities p (after a sigmoid), each log clamped at -100 (PyTorch):

        loss = -(y * max(log p, -100) + (1 - y) * max(log(1 - p), -100))

    Prefer ``BCEWithLogitsLoss`` on the raw scores: sigmoid followed by log loses
    precision (and saturates to the clamp) for large scores.
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F._binary_cross_entropy(input, target, self.reduction, "BCELoss")


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(z) for logits z, in the stable form

    loss = max(z, 0) - z * y + log(1 + exp(-|z|));   d/dz = sigmoid(z) - y
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F._binary_cross_entropy_with_logits(input, target, self.reduction, "BCEWithLogitsLoss")


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy: logits (N, C), integer class indices (N,),

        loss_i = logsumexp(z_i) - z_i[t_i] = -log softmax(z_i)[t_i];   d/dz_i = softmax(z_i) - onehot(t_i)

    averaged over the N samples by default. Give raw scores, not probabilities:
    the softmax is part of the loss.
    """

    def forward(self, input: Any, target: Any) -> Tensor:
        return F._cross_entropy(input, target, self.reduction, "CrossEntropyLoss")

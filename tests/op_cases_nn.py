"""Op-table rows for the fused layer and loss ops in ``tinygrad_edu.ops.fused``.

Read by ``tests/test_ops.py`` through ``op_cases.all_cases()``. Each reference
is the textbook formula in numpy (the inputs are moderate, so no stable form is
needed here); the stability of the ops at extreme inputs is tested in
``tests/test_losses.py``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import strategies as S
from hypothesis import strategies as st
from op_cases import OpCase

from tinygrad_edu.nn import functional as F
from tinygrad_edu.ops import fused


def probability(x: np.ndarray) -> np.ndarray:
    """A number in (0, 1), away from both ends (N(0, 1) inputs land in about (0.02, 0.98))."""
    return 1 / (1 + np.exp(-x))


def linear_shapes(bias: bool) -> st.SearchStrategy:
    """(x, weight[, bias]) shapes: x is (..., in) with 0 to 2 batch axes, weight (out, in), bias (out,)."""

    def build(batch: tuple[int, ...], n_in: int, n_out: int) -> tuple[tuple[int, ...], ...]:
        shapes = (batch + (n_in,), (n_out, n_in))
        return shapes + ((n_out,),) if bias else shapes

    return st.builds(build, S.shapes(max_dims=2), st.integers(1, 4), st.integers(1, 4))


MATRICES = S.same_shapes(1, min_dims=2, max_dims=2)


def class_targets(shape: tuple[int, ...]) -> np.ndarray:
    """Fixed class indices for logits of shape (N, C): 0, 1, ..., C-1, 0, 1, ... (an index, no value)."""
    n, c = shape
    return (np.arange(n) * 2 + 1) % c


# --- numpy references ------------------------------------------------------------------


def np_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray = None) -> np.ndarray:
    out = np.einsum("...i,oi->...o", x, w)
    return out if b is None else out + b


def np_bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def np_bce_with_logits(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    s = 1 / (1 + np.exp(-z))
    return -(y * np.log(s) + (1 - y) * np.log(1 - s))


def np_cross_entropy(z: np.ndarray) -> np.ndarray:
    t = class_targets(z.shape)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -log_probs[np.arange(z.shape[0]), t]


CASES = [
    OpCase(
        "linear", F.linear, np_linear, 3, covers=("Linear",), shapes=linear_shapes(bias=True),
    ),
    OpCase(
        "linear_no_bias", F.linear, np_linear, 2, covers=("Linear",), shapes=linear_shapes(bias=False),
    ),
    # relu has a kink at 0 (of x @ w.T + b, which no input domain can keep away from): no
    # gradgradcheck; N(0, 1) inputs land on it with probability 0
    OpCase(
        "linear_relu", F.linear_relu, lambda x, w, b: np.maximum(np_linear(x, w, b), 0), 3,
        covers=("LinearReLU",), shapes=linear_shapes(bias=True), smooth=False,
    ),
    OpCase(
        "linear_relu_no_bias", F.linear_relu, lambda x, w: np.maximum(np_linear(x, w), 0), 2,
        covers=("LinearReLU",), shapes=linear_shapes(bias=False), smooth=False,
    ),
    OpCase(
        "squared_error", fused.SquaredError.apply, lambda x, y: (x - y) ** 2, 2, broadcast=True,
        covers=("SquaredError",),
    ),
    OpCase(
        "mse_loss_mean", F.mse_loss, lambda x, y: np.mean((x - y) ** 2), 2,
        covers=("SquaredError",),
    ),
    OpCase(
        "bce", fused.BCE.apply, np_bce, 2, domain=probability, covers=("BCE",),
    ),
    OpCase(
        "binary_cross_entropy_sum", partial(F.binary_cross_entropy, reduction="sum"),
        lambda p, y: np.sum(np_bce(p, y)), 2, domain=probability, covers=("BCE",),
    ),
    OpCase(
        # soft targets in (0, 1), so the gradient with respect to the target is checked too
        "bce_with_logits", fused.BCEWithLogits.apply, np_bce_with_logits, 2,
        domain=(np.asarray, probability), covers=("BCEWithLogits",),
    ),
    OpCase(
        "binary_cross_entropy_with_logits_mean", F.binary_cross_entropy_with_logits,
        lambda z, y: np.mean(np_bce_with_logits(z, y)), 2, domain=(np.asarray, probability),
        covers=("BCEWithLogits",),
    ),
    OpCase(
        "cross_entropy_per_sample", lambda z: fused.CrossEntropy.apply(z, target=class_targets(z.shape)),
        np_cross_entropy, covers=("CrossEntropy",), shapes=MATRICES,
    ),
    OpCase(
        "cross_entropy_mean", lambda z: F.cross_entropy(z, class_targets(z.shape)),
        lambda z: np.mean(np_cross_entropy(z)), covers=("CrossEntropy",), shapes=MATRICES,
    ),
]

"""Fused ops for layers and losses: one graph node each, written for speed and numerical stability.

Each could be composed from smaller ops, but the composition would either
overflow (``log(sigmoid(z))`` at z = -1e4 is log(0)) or record several nodes
where one does. Forward works on ndarrays; backward, like every op's, runs on
ndarrays or, under ``create_graph``, on Tensors, so second derivatives work. The losses
take ``reduction`` ("none": one value per element or sample, "mean", "sum")
and reduce inside the op: a loss is then one node instead of three (loss,
sum, scale).
"""

from __future__ import annotations

import functools
from typing import Any, Optional

import numpy as np

from tinygrad_edu.autograd import Function, run
from tinygrad_edu.ops.elementwise import Log, Sigmoid, Where
from tinygrad_edu.ops.nn import Softmax, classes_first
from tinygrad_edu.tensor import Tensor

LOG_CLAMP = -100.0
"""BCE clamps each log at -100 (PyTorch's choice): the loss stays finite at p = 0 or 1."""


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    """The per-element losses, their sum, or their mean."""
    if reduction == "none":
        return loss
    total = loss.sum()
    return np.asarray(total / loss.size if reduction == "mean" else total, dtype=loss.dtype)


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: Any) -> np.ndarray:
    """A read-only vector of n ones, made once per (n, dtype)."""
    vector = np.ones(n, dtype=dtype)
    vector.flags.writeable = False
    return vector


def _per_element(grad: Tensor, reduction: str, size: int) -> Tensor:
    """The gradient reaching each element's loss: a mean shares ``grad`` out as grad / n;
    a sum passes it to every element (it broadcasts), as does "none" (already per element)."""
    if reduction != "mean":
        return grad
    return grad * (1.0 / size) if size else grad  # (an empty batch: an empty gradient, whatever the scale)


class Linear(Function):
    """x @ weight.T + bias in one node; weight is (out_features, in_features), x is (..., in_features).

    d/dx = grad @ weight,  d/dweight = grad^T @ x,  d/dbias = grad summed over the batch
    (batch axes of a (..., in) input are flattened into one for the last two).

    For a 2-D x the products are computed transposed, weight @ x^T and weight^T @ grad^T,
    and returned as transposed views: the features x samples layout in which the course
    keeps its data. OpenBLAS multiplies faster without a transposed right-hand operand,
    and once the first layer's output is in that layout every later product and
    elementwise op stays in it (measured: the 784-256-128-10 step 2-7% faster, the
    [2, 5, 2, 1] step 3%). The values are the same products.
    """

    promotes = True

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None) -> np.ndarray:
        if weight.ndim != 2:
            raise ValueError(f"weight must be 2-D (out_features, in_features), got shape {weight.shape}")
        out_features, in_features = weight.shape
        if x.ndim == 0 or x.shape[-1] != in_features:
            raise ValueError(
                f"x has shape {x.shape}, but weight has shape {weight.shape} = (out_features, "
                f"in_features): x's last axis must have in_features = {in_features} elements"
            )
        if bias is not None and bias.shape != (out_features,):
            raise ValueError(f"bias has shape {bias.shape}; expected (out_features,) = ({out_features},)")
        out = (weight @ x.T).T if x.ndim == 2 else x @ weight.T
        if bias is not None:
            if bias.dtype is out.dtype or bias.dtype == out.dtype:
                out += bias  # in place: out is a fresh array
            else:
                out = out + bias  # numpy's promotion, e.g. a float64 bias on float32 inputs
        return out

    def backward(self, grad: Tensor) -> tuple[Optional[Tensor], ...]:
        x, weight = self.inputs[0], self.inputs[1]
        need = self.needs_input_grad
        out_features, in_features = weight.shape
        grad_x = None
        if need[0]:
            grad_x = (weight.T @ grad.T).T if grad.ndim == 2 else grad @ weight
        # one row per sample: batch axes flattened (nothing to do for the usual (N, features))
        rows = grad if grad.ndim == 2 else grad.reshape(-1, out_features)
        x_rows = x if x.ndim == 2 else x.reshape(-1, in_features)
        grad_w = rows.T @ x_rows if need[1] else None
        if len(self.inputs) == 2:
            return grad_x, grad_w
        # The column sums of rows, as the product ones @ rows: on a small batch that one BLAS
        # call takes a third of the time of rows.sum(axis=0).
        grad_b = _ones(rows.shape[0], rows.dtype) @ rows if need[2] else None
        return grad_x, grad_w, grad_b


class LinearReLU(Linear):
    """relu(x @ weight.T + bias) in one node: what ``nn.LinearReLU``, the explicitly fused
    layer, runs (``nn.Sequential`` never fuses layers by itself).

    With z = x @ weight.T + bias:  d/dz = grad where z > 0 (or NaN), else 0 (also at 0, like ReLU);
    then Linear's derivatives with that gradient. One node instead of two saves a Tensor,
    a Function and a step of the backward walk per layer.
    """

    def forward(self, x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None) -> np.ndarray:
        z = super().forward(x, weight, bias)  # a fresh array: the ReLU may work in place
        zero = z.dtype.type(0)
        out = np.maximum(z, zero, out=z)
        self.save_for_backward((out != zero).astype(z.dtype))  # the mask, as ReLU keeps it (NaN: 1)
        return out

    def backward(self, grad: Tensor) -> tuple[Optional[Tensor], ...]:
        (mask,) = self.saved
        return super().backward(grad * mask)


class SquaredError(Function):
    """(x - y)**2 elementwise (MSE before its reduction);  d/dx = 2 (x - y),  d/dy = -2 (x - y)."""

    promotes = True

    def forward(self, x: np.ndarray, y: np.ndarray, reduction: str = "none") -> np.ndarray:
        diff = x - y
        loss = diff * diff
        self.save_for_backward(reduction, loss.size)
        return _reduce(loss, reduction)

    def backward(self, grad: Tensor) -> tuple[Optional[Tensor], Optional[Tensor]]:
        reduction, size = self.saved
        x, y = self.inputs
        grad_x = _per_element(grad, reduction, size) * (x - y) * 2
        need_x, need_y = self.needs_input_grad
        return (grad_x if need_x else None), (-grad_x if need_y else None)


class BCE(Function):
    """Binary cross-entropy on probabilities p in [0, 1], each log clamped at -100 (PyTorch):

        loss = -(y * max(log p, -100) + (1 - y) * max(log(1 - p), -100))

    d/dp = -y/p + (1 - y)/(1 - p), each term 0 where its log was clamped;
    d/dy = max(log(1 - p), -100) - max(log p, -100).
    That is (p - y) / (p (1 - p)) where no log is clamped. PyTorch's backward divides by
    max(p (1 - p), 1e-12) instead, so the two differ wherever p (1 - p) < 1e-12: p within
    about 1e-12 of 0 or 1, which a sigmoid reaches for logits beyond about +-27.6. There this
    one stays the exact derivative of the (clamped) loss, and gradcheck agrees with it.
    """

    promotes = True

    def forward(self, p: np.ndarray, y: np.ndarray, reduction: str = "none") -> np.ndarray:
        with np.errstate(divide="ignore"):  # log(0) = -inf is clamped just below
            log_p = np.log(p)
            log_q = np.log1p(-p)
        keep_p, keep_q = log_p > LOG_CLAMP, log_q > LOG_CLAMP
        loss = -(y * np.where(keep_p, log_p, LOG_CLAMP) + (1 - y) * np.where(keep_q, log_q, LOG_CLAMP))
        loss = loss.astype(p.dtype, copy=False)  # numpy < 2 promotes 0-d float32 with a Python float
        self.save_for_backward(keep_p, keep_q, reduction, loss.size)
        return _reduce(loss, reduction)

    def backward(self, grad: Tensor) -> tuple[Optional[Tensor], Optional[Tensor]]:
        keep_p, keep_q, reduction, size = self.saved
        grad = _per_element(grad, reduction, size)
        p, y = self.inputs
        q = 1 - p
        # Where a log was clamped, its term is constant: divide by 1 there instead of by 0.
        safe_p = run(Where, p, 1.0, cond=keep_p)
        safe_q = run(Where, q, 1.0, cond=keep_q)
        need_p, need_y = self.needs_input_grad
        grad_p = grad_y = None
        if need_p:
            grad_p = grad * ((1 - y) * keep_q / safe_q - y * keep_p / safe_p)
        if need_y:
            log_p = run(Where, run(Log, safe_p), LOG_CLAMP, cond=keep_p)
            log_q = run(Where, run(Log, safe_q), LOG_CLAMP, cond=keep_q)
            grad_y = grad * (log_q - log_p)
        return grad_p, grad_y


class BCEWithLogits(Function):
    """Binary cross-entropy on logits z, loss = -(y log s(z) + (1 - y) log(1 - s(z))), s = sigmoid,
    computed in the stable form

        loss = log(1 + exp(z)) - z * y,   log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|))

    (exp never sees a positive argument, so z = +-1e4 is fine);
    d/dz = sigmoid(z) - y,  d/dy = -z.
    """

    promotes = True

    def forward(self, z: np.ndarray, y: np.ndarray, reduction: str = "none") -> np.ndarray:
        # log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)) is numpy's logaddexp(0, z); the zero
        # has z's dtype, as numpy < 2 would turn a 0-d float32 and a Python 0 into float64.
        loss = np.logaddexp(z.dtype.type(0), z) - z * y
        self.save_for_backward(reduction, loss.size)
        return _reduce(loss, reduction)

    def backward(self, grad: Tensor) -> tuple[Optional[Tensor], Optional[Tensor]]:
        reduction, size = self.saved
        grad = _per_element(grad, reduction, size)
        z, y = self.inputs
        need_z, need_y = self.needs_input_grad
        grad_z = grad * (run(Sigmoid, z) - y) if need_z else None
        grad_y = -grad * z if need_y else None
        return grad_z, grad_y


class CrossEntropy(Function):
    """Softmax cross-entropy of logits z (N, C) against class indices t (N,), one loss per sample:

        loss_i = logsumexp(z_i) - z_i[t_i] = -log_softmax(z_i)[t_i]

    with logsumexp computed as m + log(sum(exp(z - m))), m = max(z_i), so logits
    of +-1e4 give finite values;  d/dz_i = softmax(z_i) - onehot(t_i).
    """

    float_inputs = True

    def forward(self, z: np.ndarray, target: Any = None, reduction: str = "none") -> np.ndarray:
        self.save_for_backward(target, reduction)
        rows = np.arange(z.shape[0])
        transposed = classes_first(z, 1)  # then work on the (C, N) copy: quicker reductions
        zc, axis = (np.ascontiguousarray(z.T), 0) if transposed else (z, 1)
        shifted = zc - zc.max(axis=axis, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=axis))
        picked = shifted[target, rows] if transposed else shifted[rows, target]
        return _reduce(log_sum - picked, reduction)

    def backward(self, grad: Tensor) -> Tensor:
        target, reduction = self.saved
        (z,) = self.inputs
        onehot = np.zeros(z.shape, dtype=z.dtype)
        onehot[np.arange(z.shape[0]), target] = 1
        per_sample = _per_element(grad, reduction, z.shape[0])
        if reduction == "none":
            per_sample = per_sample.reshape(-1, 1)  # one gradient per row
        return per_sample * (run(Softmax, z, axis=1) - onehot)

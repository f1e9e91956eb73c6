"""Stateless functions behind the layers and losses: each one calls ops, none re-derives a gradient.

Inputs may be Tensors or ndarrays. The loss functions check their arguments
(shapes, dtypes, class indices) and then call one fused op from
``tinygrad_edu.ops.fused``, followed by the reduction.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Optional, Union

import numpy as np

from tinygrad_edu._config import _check_flag, get_default_dtype, get_rng
from tinygrad_edu.autograd import _outside_package
from tinygrad_edu.nn.init import _check_rng
from tinygrad_edu.ops import elementwise as ew
from tinygrad_edu.ops import fused
from tinygrad_edu.ops import nn as nnops
from tinygrad_edu.tensor import Tensor

RandomSource = Union[np.random.Generator, np.random.RandomState]
REDUCTIONS = ("mean", "sum", "none")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# --- activations ---------------------------------------------------------------------
# (``apply`` itself turns an ndarray or a number into a Tensor.)


def relu(x: Any) -> Tensor:
    """max(x, 0)."""
    return ew.ReLU.apply(x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return ew.LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + exp(-x))."""
    return ew.Sigmoid.apply(x)


def tanh(x: Any) -> Tensor:
    """(exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return ew.Tanh.apply(x)


def _refuse_dim(dim: Any, where: str, call: str) -> None:
    """A TypeError for PyTorch's ``dim=`` (this library takes numpy's ``axis=``), saying what to write."""
    if dim is not None:
        raise TypeError(
            f"{where} takes numpy's axis=, not PyTorch's dim=: write {call.format(dim=dim)}"
        )


def softmax(x: Any, axis: int = -1, *, dim: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``."""
    _refuse_dim(dim, "F.softmax", "F.softmax(x, axis={dim})")
    return nnops.Softmax.apply(x, axis=axis)


def log_softmax(x: Any, axis: int = -1, *, dim: Any = None) -> Tensor:
    """x - logsumexp(x) along ``axis``: the log of softmax without its underflow."""
    _refuse_dim(dim, "F.log_softmax", "F.log_softmax(x, axis={dim})")
    return nnops.LogSoftmax.apply(x, axis=axis)


# --- layers --------------------------------------------------------------------------------


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """x @ weight.T + bias, one fused op; weight is (out_features, in_features)."""
    if bias is None:
        return fused.Linear.apply(x, weight)
    return fused.Linear.apply(x, weight, bias)


def linear_relu(x: Any, weight: Any, bias: Any = None) -> Tensor:
    """relu(x @ weight.T + bias), one fused op (what nn.LinearReLU runs)."""
    if bias is None:
        return fused.LinearReLU.apply(x, weight)
    return fused.LinearReLU.apply(x, weight, bias)


def check_dropout_p(p: Any, where: str) -> float:
    """``p`` as a float in [0, 1), or a clear error."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: p must be a number in [0, 1), got {type(p).__name__} {p!r}")
    if not 0 <= p < 1:
        raise ValueError(
            f"{where}: p={p!r} is outside [0, 1). p is the probability of dropping each "
            "element: 0 keeps everything, and 1 would drop everything and divide by 1 - p = 0"
        )
    return float(p)


DROPOUT_KEEP_RULES = ("above", "course")


def check_dropout_inverted(inverted: Any, where: str) -> bool:
    """``inverted`` as a bool, or a clear error (a string "False" would be true)."""
    return _check_flag(inverted, "inverted", where)


def _check_dropout_rng(rng: Any, where: str) -> Optional[RandomSource]:
    """``rng`` if a Generator, a RandomState or None. A bool there is most likely PyTorch's
    ``inplace`` given by position (``F.dropout(x, 0.5, True, False)``, ``nn.Dropout(0.5, True)``)."""
    hint = ""
    if isinstance(rng, (bool, np.bool_)):
        hint = (
            f" (a bool here looks like PyTorch's inplace argument, which has no equivalent: {where} "
            "always returns a new tensor; leave it out)"
        )
    return _check_rng(rng, where, hint)


def _dropout_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A given mask as an array of x's shape holding only 0 and 1 (or bools), else an error:
    other values (0.5, 2) would scale x by them without a word."""
    keep = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if keep.dtype.kind not in "biuf":
        raise TypeError(f"dropout: mask has dtype {keep.dtype}; expected 0/1 numbers or bools")
    if keep.shape != shape:
        raise ValueError(f"dropout: mask has shape {keep.shape}; expected x's shape {shape}")
    if keep.dtype.kind != "b":
        bad = (keep != 0) & (keep != 1)  # (NaN too)
        if bad.any():
            found = np.unique(keep[bad])[:5].tolist()
            raise ValueError(
                f"dropout: mask (shape {keep.shape}, {keep.dtype}) must hold only 0 (drop) and 1 (keep) "
                f"or bools, found {found}"
            )
    return keep


def dropout(
    x: Any,
    p: float = 0.5,
    training: bool = True,
    rng: Optional[RandomSource] = None,
    keep: str = "above",
    mask: Any = None,
    inverted: bool = True,
) -> Tensor:
    """Dropout: each element is zeroed with probability p. Inverted (the default), survivors are
    scaled by 1/(1 - p) in training and evaluation is the identity:

        inverted=True:   train  out = x * mask / (1 - p)     eval  out = x
        inverted=False:  train  out = x * mask               eval  out = x * (1 - p)
                         (seed 002's Dropout class; its backward is dout * mask)
        keep="above":    mask = u > p,            u ~ U[0, 1) of x's shape (the seeds' Dropout class)
        keep="course":   mask = u.T < 1 - p,      u ~ U[0, 1) of x.T's shape (the course's
                         D = np.random.rand(n, m) < keep_prob, drawn for samples in columns)
        mask given:      that mask (0/1 or bool, x's shape, checked); nothing is drawn

    Both forms keep train and eval outputs on the same scale in expectation. The
    gradient is masked and scaled the same way (it is a product with a constant). The
    mask is drawn from ``rng`` or the library's Generator (``tg.manual_seed``); with
    ``rng=np.random.RandomState(seed)`` it is the seeds' mask after ``np.random.seed(seed)``
    (with ``keep="course"``, the course's). For p = 0 without a mask x is returned as is; a
    given mask is used in training whatever p (p = 0 scales by 1), and in evaluation no mask
    applies. An integer or bool x, masked or scaled, gives the default float dtype (as an
    integer times a Python float does; returned as is, it keeps its dtype).
    """
    p = check_dropout_p(p, "dropout")
    training = _check_flag(training, "training", "dropout")
    rng = _check_dropout_rng(rng, "dropout")
    if keep not in DROPOUT_KEEP_RULES:
        raise ValueError(f"dropout: keep must be one of {DROPOUT_KEEP_RULES}, got {keep!r}")
    inverted = check_dropout_inverted(inverted, "dropout")
    x = _tensor(x)
    keep_mask = None if mask is None else _dropout_mask(mask, x.shape)
    if not training:
        return x if inverted or p == 0 else x * (1.0 - p)
    if keep_mask is None:
        if p == 0:
            return x
        source = get_rng() if rng is None else rng
        if keep == "course":
            keep_mask = source.random(x.shape[::-1]).T < 1 - p
        else:
            keep_mask = source.random(x.shape) > p
    dtype = x.dtype if x.dtype.kind == "f" else get_default_dtype()
    if not inverted:
        return x * keep_mask.astype(dtype)
    scale = keep_mask.astype(dtype) * (1 / (1 - p))
    return x * scale


# --- losses --------------------------------------------------------------------------------


def check_reduction(reduction: Any, where: str) -> str:
    if isinstance(reduction, (Tensor, np.ndarray)):  # nn.MSELoss(pred): the data went to the constructor
        kind = "an ndarray" if isinstance(reduction, np.ndarray) else "a Tensor"
        hint = f"; a loss is made first, then called on the data: {where}()(input, target)"
        raise TypeError(
            f"{where}: reduction must be 'mean', 'sum' or 'none', got {kind} of shape {reduction.shape} "
            f"(class weights are not supported){hint if where[:1].isupper() else ''}"
        )
    if reduction not in REDUCTIONS:
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_input(x: Any, name: str) -> Tensor:
    x = _tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: input has dtype {x.dtype} (shape {x.shape}); expected a float tensor")
    return x


def _target_array(target: Any, name: str) -> np.ndarray:
    """The target's array, or a TypeError naming the loss (a ragged list, say)."""
    if isinstance(target, Tensor):
        return target.data
    try:
        return np.asarray(target)
    except (TypeError, ValueError) as exc:
        kind = type(target).__name__
        raise TypeError(f"{name}: target ({kind}) is not an array of numbers: {exc}") from None


def _same_shape_target(x: Tensor, target: Any, name: str) -> Tensor:
    """The target as a Tensor of x's shape and dtype (cast when it carries no gradient)."""
    array = _target_array(target, name)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: target has dtype {array.dtype}; expected a float, integer or bool array")
    y = target if isinstance(target, Tensor) else Tensor(array)
    if array.shape != x.data.shape:
        hint = ""
        if x.size == y.size:
            hint = f"; reshape it, e.g. y.reshape{x.shape}"
        raise ValueError(
            f"{name}: target has shape {y.shape} but input has shape {x.shape}; they must match "
            f"(broadcasting them would silently compare every input with every target){hint}"
        )
    if array.dtype is not x.data.dtype and array.dtype != x.data.dtype:
        y = y.astype(x.dtype) if y.requires_grad else Tensor(y.data.astype(x.dtype), name=y.name)
    return y


def _mse_loss(x: Any, target: Any, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    x = _float_input(x, name)
    y = _same_shape_target(x, target, name)
    return fused.SquaredError.apply(x, y, reduction=reduction)


def _binary_cross_entropy(p: Any, target: Any, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    p = _float_input(p, name)
    y = _same_shape_target(p, target, name)
    _check_in_unit_interval(p.data, "input", name)
    _check_in_unit_interval(y.data, "target", name)
    return fused.BCE.apply(p, y, reduction=reduction)


def _warn_squashed_twice(name: str, layer: str, applies: str, otherwise: str) -> None:
    """A loss that applies its own sigmoid or softmax was given scores that went through one
    already: they are squashed twice, and the network trains slowly towards other numbers
    without any error. Warned at the first line outside the library (the user's loss call)."""
    _, steps = _outside_package(sys._getframe(0))
    warnings.warn(
        f"{name}: its input was made by {layer}, but {name} applies {applies} itself, so the scores "
        f"are squashed twice; drop the last {layer} layer{otherwise}",
        UserWarning,
        stacklevel=steps + 1,  # (1 is this function)
    )


def _binary_cross_entropy_with_logits(z: Any, target: Any, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    z = _float_input(z, name)
    y = _same_shape_target(z, target, name)
    _check_in_unit_interval(y.data, "target", name)
    if type(z._ctx) is ew.Sigmoid:
        _warn_squashed_twice(name, "Sigmoid", "sigmoid", ", or keep it and use BCELoss (for probabilities)")
    return fused.BCEWithLogits.apply(z, y, reduction=reduction)


def _cross_entropy(logits: Any, target: Any, reduction: str, name: str) -> Tensor:
    check_reduction(reduction, name)
    z = _float_input(logits, name)
    if type(z._ctx) is nnops.Softmax:
        _warn_squashed_twice(name, "Softmax", "log-softmax", ": it takes the raw scores, the logits")
    if z.ndim != 2:
        raise ValueError(
            f"{name}: logits have shape {z.shape}; expected (N, C): one row of C class scores per sample"
        )
    t = _class_indices(target, z.shape, name, "logits")
    # A copy, always: the backward reads it, and the caller may reuse their label array meanwhile.
    return fused.CrossEntropy.apply(z, target=t.astype(np.intp), reduction=reduction)


def _class_indices(target: Any, shape: tuple[int, ...], name: str, what: str) -> np.ndarray:
    """The target of a cross-entropy or NLL loss as integer class indices (N,) in [0, C), for
    scores ``what`` of ``shape`` (N, C), or an error saying how to make them."""
    n, n_classes = shape
    t = _target_array(target, name)
    if n_classes > 1 and t.shape == shape and t.dtype.kind in "biuf":
        raise ValueError(
            f"{name}: target has shape {t.shape}, the shape of the {what}: one-hot rows or class "
            f"probabilities, which {name} does not take; pass class indices, y.argmax(axis=1) of "
            f"shape ({n},)"
        )
    if t.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: target has dtype {t.dtype}; expected integer class indices in [0, {n_classes}) "
            "(convert labels with y.astype(np.int64))"
        )
    if t.shape != (n,):
        hint = "; flatten it with y.reshape(-1)" if t.size == n and n_classes > 1 else ""
        raise ValueError(
            f"{name}: target has shape {t.shape} but {what} have shape {shape}; expected one class "
            f"index per sample, shape ({n},){hint}{_one_class_hint(n_classes)}"
        )
    bad = (t < 0) | (t >= n_classes)
    if bad.any():
        i = int(np.argmax(bad))
        classes = f"{n_classes} class{'es' if n_classes != 1 else ''}"
        raise ValueError(
            f"{name}: target[{i}] = {int(t[i])} is not a class index: {what} of shape {shape} "
            f"have {classes}, so targets must be in [0, {n_classes}){_one_class_hint(n_classes)}"
        )
    return t


def _check_in_unit_interval(a: np.ndarray, what: str, name: str) -> None:
    """Refuse values outside [0, 1] (and NaN): a binary cross-entropy of them is no loss to minimise.
    For targets this is stricter than PyTorch, which computes it anyway: with -1/+1 labels the loss
    goes negative and the network trains towards nonsense without any error."""
    if not a.size or (a.min() >= 0 and a.max() <= 1):  # (False for NaN; the methods: np.min costs 2x)
        return
    lo, hi = np.nanmin(a), np.nanmax(a)
    nan = " and NaN" if np.isnan(a).any() else ""
    if what == "input":
        hint = " For raw scores (logits) use the with-logits version"
    elif lo < 0:
        hint = " Labels -1/+1 become 0/1 with (y + 1) / 2"
    elif hi > 1:
        hint = " Class indices 0, 1, 2, ... need CrossEntropyLoss, with one output per class"
    else:
        hint = ""
    raise ValueError(
        f"{name}: {what} (shape {a.shape}, {a.dtype}) must hold probabilities in [0, 1], found values "
        f"in [{lo}, {hi}]{nan}.{hint}"
    )


def _one_class_hint(n_classes: int) -> str:
    """For logits of one column: cross-entropy needs a score per class, or the binary loss."""
    if n_classes != 1:
        return ""
    return (
        ". One output per sample is one score, not one per class: for two classes, use "
        "BCEWithLogitsLoss with 0/1 targets of shape (N, 1), or give the last layer one output "
        "per class (e.g. Linear(..., 2)) and keep CrossEntropyLoss"
    )


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error (input - target)**2, averaged (or summed) over every element."""
    return _mse_loss(input, target, reduction, "mse_loss")


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) for probabilities p, each log clamped at -100."""
    return _binary_cross_entropy(input, target, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input), as max(z, 0) - z y + log(1 + exp(-|z|))."""
    return _binary_cross_entropy_with_logits(input, target, reduction, "binary_cross_entropy_with_logits")


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-log_softmax(input)[target] per sample; input is logits (N, C), target class indices (N,)."""
    return _cross_entropy(input, target, reduction, "cross_entropy")


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """-input[i, target[i]] per sample, for log-probabilities (N, C) (log_softmax then nll_loss
    equals cross_entropy); the targets are checked as cross_entropy's are."""
    check_reduction(reduction, "nll_loss")
    logp = _float_input(input, "nll_loss")
    if logp.ndim != 2:
        raise ValueError(
            f"nll_loss: input has shape {logp.shape}; expected log-probabilities (N, C), one row per sample"
        )
    t = _class_indices(target, logp.shape, "nll_loss", "log-probabilities")
    return _reduce(-logp[np.arange(logp.shape[0]), t], reduction)

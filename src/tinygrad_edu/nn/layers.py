"""Layers: Linear, the activations, Flatten, Dropout and BatchNorm1d.

Each forward is a few Tensor operations (through ``nn.functional``), so the
gradients come from the ops; no layer writes a backward of its own.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Union

import numpy as np

from tinygrad_edu._config import _check_flag
from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init as nn_init
from tinygrad_edu.nn.module import Module, Parameter
from tinygrad_edu.tensor import Tensor

Initializer = Callable[..., np.ndarray]


def _positive_int(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{where}: {what} must be a positive integer, got {value!r}")
    return int(value)


def _number(value: Any, what: str, where: str, expected: str = "a number") -> float:
    """``value`` as a float, or a TypeError naming the argument (a string "0.1" is not a number)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {what} must be {expected}, got {type(value).__name__} {value!r:.60}")
    return float(value)


def _initial_weight(draw: Initializer, shape: tuple[int, int], rng: Any, dtype: np.dtype) -> np.ndarray:
    """What ``init`` returned for the weight, checked: an array of floats of exactly ``shape``.
    A custom init of another shape would leave a layer whose repr says one thing and whose
    weight does another."""
    values = draw(shape, rng=rng, dtype=dtype)
    got = values.data if isinstance(values, Tensor) else values
    try:
        array = np.asarray(got)
    except (TypeError, ValueError) as exc:
        array, reason = None, f": {exc}"
    else:
        reason = f" (dtype {array.dtype})"
    if array is None or array.dtype.kind not in "biuf":
        kind = type(values).__name__
        raise TypeError(f"Linear: init returned a {kind}, which is not an array of numbers{reason}")
    if array.shape != shape:
        raise ValueError(
            f"Linear: init returned an array of shape {array.shape}; expected the weight's shape "
            f"{shape} = (out_features, in_features)"
        )
    if array.dtype.kind != "f":
        raise TypeError(
            f"Linear: init returned an array of dtype {array.dtype}; expected floats (the weight is {dtype})"
        )
    return array


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    The layout is PyTorch's and the course's W[l] of shape (n_l, n_(l-1)).
    ``init`` draws the weight (the bias starts at zeros):

        "he"       N(0, 2 / in_features)                the course's randn(out, in) * sqrt(2 / in)
        "xavier"   N(0, 2 / (in_features + out_features))   Glorot normal
        "normal"   N(0, 0.01**2)                        the course's randn(out, in) * 0.01

    or "he_uniform", "xavier_uniform", or any function ``init(shape, rng=..., dtype=...)``
    (those of ``nn.init``, or yours) returning floats of exactly that shape. Random numbers
    come from ``rng`` (a np.random Generator or RandomState) or the library's Generator.
    Parameters get ``dtype``, a float dtype, or the default dtype.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: Union[str, Initializer] = "he",
        rng: Optional[nn_init.RandomSource] = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features", "Linear")
        self.out_features = _positive_int(out_features, "out_features", "Linear")
        if callable(init):
            draw = init
        elif init in nn_init.INITIALIZERS:
            draw = nn_init.INITIALIZERS[init]
        else:
            raise ValueError(
                f"Linear: unknown init {init!r}; expected one of {sorted(nn_init.INITIALIZERS)} "
                "or a function (shape, rng=None, dtype=None) -> ndarray"
            )
        dtype = nn_init._float_dtype(dtype, "Linear")
        rng = nn_init._check_rng(rng, "Linear")
        bias = _check_flag(bias, "bias", "Linear")
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(_initial_weight(draw, shape, rng, dtype), dtype=dtype)
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, dtype=dtype))
        else:
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class LinearReLU(Linear):
    """relu(x @ weight.T + bias): a ``Linear`` and a ``ReLU`` computed as one op, ``LinearReLU``.

    The same arguments, parameters and initialisation as ``Linear``, and the same values
    and gradients as ``Sequential(Linear(...), ReLU())``; the graph has one node where
    that has two, which saves a few microseconds per layer and step on small networks.
    Nothing turns a ``Linear`` and a ``ReLU`` into this: write it where you want it.
    """

    def forward(self, x: Any) -> Tensor:
        return F.linear_relu(x, self.weight, self.bias)


class ReLU(Module):
    """max(x, 0) elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (the class axis, -1 by default)."""

    def __init__(self, axis: int = -1, *, dim: Any = None) -> None:
        super().__init__()
        F._refuse_dim(dim, "nn.Softmax", "nn.Softmax(axis={dim})")
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``axis``, computed without underflow."""

    def __init__(self, axis: int = -1, *, dim: Any = None) -> None:
        super().__init__()
        F._refuse_dim(dim, "nn.LogSoftmax", "nn.LogSoftmax(axis={dim})")
        self.axis = axis

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Identity(Module):
    """Returns its input (a placeholder, e.g. to switch a layer off)."""

    def forward(self, x: Any) -> Any:
        return x


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...): keeps the batch axis, flattens the rest.

    Like PyTorch's ``Flatten()`` (start_dim=1), an empty batch (0, 2, 3) gives (0, 6), and an
    input of fewer than 2 axes, which has no axis after the batch's, is an error.
    """

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim < 2:
            raise ValueError(
                f"Flatten: input has shape {x.shape}; expected a batch (N, d1, ...) of at least 2 axes "
                "(Flatten keeps axis 0 and flattens the others; one sample of n values is x.reshape(1, n))"
            )
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (not -1: with N = 0 it is ambiguous)


class Dropout(Module):
    """Dropout: in training, each element is zeroed with probability p; inverted (the default),
    survivors are scaled by 1 / (1 - p) and eval is the identity; ``inverted=False``, seed 002's form.

        mask = u > p, u ~ U[0, 1)
        inverted=True (default):  train  x * mask / (1 - p)    eval  x        (E[train] = x)
        inverted=False:           train  x * mask              eval  x * (1 - p)

    ``inverted=False`` is seed 002's ``Dropout`` class (*Deep Learning from Scratch*);
    with ``rng=np.random.RandomState(seed)`` its masks are that class's after
    ``np.random.seed(seed)``. The gradient is masked and scaled the same way. A new
    mask is drawn on each call, from ``rng`` or the library's Generator
    (``tg.manual_seed``). ``keep="course"`` draws the course's mask instead
    (``np.random.rand(n, m) < keep_prob`` for its samples-in-columns matrix; see ``F.dropout``).
    """

    def __init__(
        self,
        p: float = 0.5,
        rng: Optional[nn_init.RandomSource] = None,
        keep: str = "above",
        inverted: bool = True,
    ) -> None:
        super().__init__()
        self.p = F.check_dropout_p(p, "Dropout")
        if keep not in F.DROPOUT_KEEP_RULES:
            raise ValueError(f"Dropout: keep must be one of {F.DROPOUT_KEEP_RULES}, got {keep!r}")
        self.rng = F._check_dropout_rng(rng, "Dropout")
        self.keep = keep
        self.inverted = F.check_dropout_inverted(inverted, "Dropout")

    def forward(self, x: Any) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng, keep=self.keep, inverted=self.inverted)

    def extra_repr(self) -> str:
        extra = "" if self.keep == "above" else f", keep={self.keep!r}"
        return f"p={self.p}{extra}" + ("" if self.inverted else ", inverted=False")


class BatchNorm1d(Module):
    """Batch normalisation over the batch axis of (N, C) (or (N, C, L)) input, PyTorch's semantics.

    Training:  x_hat = (x - mean_B) / sqrt(var_B + eps),  y = weight * x_hat + bias,
    with the batch mean and the biased variance var_B = mean((x - mean_B)**2); then
        running_mean = (1 - momentum) * running_mean + momentum * mean_B
        running_var  = (1 - momentum) * running_var  + momentum * var_B * n / (n - 1)
    (the unbiased variance, n values per feature). ``momentum=None`` averages all
    batches seen instead (momentum = 1 / num_batches_tracked).
    Eval: the same with running_mean and running_var in place of the batch's.
    Parameters ``weight`` (ones) and ``bias`` (zeros); buffers ``running_mean``,
    ``running_var`` and ``num_batches_tracked`` are saved in ``state_dict``, not learned.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: Optional[float] = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.num_features = _positive_int(num_features, "num_features", "BatchNorm1d")
        if not _number(eps, "eps", "BatchNorm1d") > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive, got {eps!r}")
        in_range = "a number in [0, 1] or None"
        if momentum is not None and not 0 <= _number(momentum, "momentum", "BatchNorm1d", in_range) <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine = _check_flag(affine, "affine", "BatchNorm1d")
        self.track_running_stats = track_running_stats = _check_flag(
            track_running_stats, "track_running_stats", "BatchNorm1d"
        )
        dtype = nn_init._float_dtype(dtype, "BatchNorm1d")
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}): input has shape {x.shape}; expected "
                f"(N, {self.num_features}) or (N, {self.num_features}, L)"
            )
        axes = (0,) if x.ndim == 2 else (0, 2)
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)  # broadcasts a per-feature vector
        if self.training or not self.track_running_stats:
            n = x.size // self.num_features
            if n < 2:
                raise ValueError(self._too_few_values(x.shape, n))
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True)  # biased (ddof=0): what the batch is normalised by
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.data.reshape(-1), var.data.reshape(-1), n)
        else:
            mean = self.running_mean.reshape(shape)
            var = self.running_var.reshape(shape)
        x_hat = (x - mean) / (var + self.eps).sqrt()
        if self.affine:
            return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)
        return x_hat

    def _too_few_values(self, shape: tuple[int, ...], n: int) -> str:
        """Why batch statistics of ``n`` < 2 values per feature cannot be used, and what can be
        (PyTorch: "Expected more than 1 value per channel when training")."""
        start = (
            f"BatchNorm1d({self.num_features}): input of shape {shape} has {n} value per feature, and "
            "the batch statistics need at least 2 to compute a variance"
        )
        if self.track_running_stats:
            return f"{start}; use a larger batch, or eval() to normalise with the running statistics"
        mode = "in training and in eval() mode alike" if self.training else "in eval() mode too"
        return (
            f"{start}. With track_running_stats=False they are used {mode} (there are no running "
            "statistics); use a larger batch, or track_running_stats=True to evaluate single samples"
        )

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        self.num_batches_tracked.data += 1  # in place: it stays a 0-d array (a + 1 would be a numpy int)
        m = 1.0 / float(self.num_batches_tracked.data) if self.momentum is None else self.momentum
        unbiased = var * (n / (n - 1))
        rm, rv = self.running_mean.data, self.running_var.data
        rm[...] = (1 - m) * rm + m * mean
        rv[...] = (1 - m) * rv + m * unbiased

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )

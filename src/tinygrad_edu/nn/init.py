"""Weight initialisers: functions of a shape that return a new ndarray.

``shape`` is read like ``Linear.weight``: ``(fan_out, fan_in) = (out_features,
in_features)``. Random ones draw from ``rng`` (a ``np.random.Generator``, or a
``np.random.RandomState`` to replay code written with ``np.random.seed``) or
else from the library's Generator, so ``tg.manual_seed`` makes them
reproducible. The result has ``dtype`` (default: the library's default dtype).

    he_normal       N(0, 2 / fan_in)              the course's randn(out, in) * sqrt(2 / in)
    he_uniform      U(-a, a), a = sqrt(6 / fan_in)            same std as he_normal
    xavier_normal   N(0, 2 / (fan_in + fan_out))  (Glorot)
    xavier_uniform  U(-a, a), a = sqrt(6 / (fan_in + fan_out))  same std as xavier_normal
    normal          N(0, std**2), std = 0.01      the course's randn(out, in) * 0.01

A uniform U(-a, a) has variance a**2 / 3, hence a = sqrt(3) * std.
He (Kaiming) keeps the variance of activations constant through ReLU layers;
Xavier (Glorot) balances forward and backward variance for tanh/sigmoid.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import numpy as np

from tinygrad_edu._config import get_default_dtype, get_rng

RandomSource = Union[np.random.Generator, np.random.RandomState]
Shape = Union[int, Sequence[int]]


def _shape(shape: Shape) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape: (out, in) -> (in, out).

    A 1-D shape (n,) counts n for both; beyond 2-D (convolution kernels
    (out, in, k1, k2, ...)) each fan is multiplied by the kernel size, as in PyTorch.
    """
    dims = _shape(shape)
    if len(dims) == 0:
        raise ValueError("nn.init: a scalar shape () has no fan_in/fan_out; give a shape like (out, in)")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _rng(rng: Optional[RandomSource]) -> RandomSource:
    return get_rng() if rng is None else rng


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def normal(
    shape: Shape, std: float = 0.01, rng: Optional[RandomSource] = None, dtype: Any = None
) -> np.ndarray:
    """randn(*shape) * std: N(0, std**2). The course's small-random init uses std = 0.01."""
    return (_rng(rng).standard_normal(_shape(shape)) * std).astype(_dtype(dtype))


def uniform(
    shape: Shape, low: float, high: float, rng: Optional[RandomSource] = None, dtype: Any = None
) -> np.ndarray:
    """U(low, high) samples."""
    return _rng(rng).uniform(low, high, _shape(shape)).astype(_dtype(dtype))


def he_normal(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """randn(*shape) * sqrt(2 / fan_in): N(0, 2 / fan_in) (He et al. 2015, the course's form)."""
    fan_in, _ = fans(shape)
    return normal(shape, math.sqrt(2.0 / fan_in), rng, dtype)


def he_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): the same variance as he_normal."""
    fan_in, _ = fans(shape)
    a = math.sqrt(6.0 / fan_in)
    return uniform(shape, -a, a, rng, dtype)


def xavier_normal(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """randn(*shape) * sqrt(2 / (fan_in + fan_out)): N(0, 2 / (fan_in + fan_out)) (Glorot normal)."""
    fan_in, fan_out = fans(shape)
    return normal(shape, math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def xavier_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): the same variance as xavier_normal."""
    fan_in, fan_out = fans(shape)
    a = math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -a, a, rng, dtype)


def zeros(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """All zeros (biases). ``rng`` is accepted, and ignored, so every initialiser has one signature."""
    return np.zeros(_shape(shape), dtype=_dtype(dtype))


def ones(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """All ones (BatchNorm's scale)."""
    return np.ones(_shape(shape), dtype=_dtype(dtype))


# The names Linear(init=...) accepts.
INITIALIZERS = {
    "he": he_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier": xavier_normal,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "normal": normal,
}

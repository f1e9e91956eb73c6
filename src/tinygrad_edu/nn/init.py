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
from tinygrad_edu.nn.module import Parameter
from tinygrad_edu.tensor import Tensor

RandomSource = Union[np.random.Generator, np.random.RandomState]
Shape = Union[int, Sequence[int]]


# How to call each initialiser on a parameter p, for the error above (fans: none; shown as he_normal).
_CALLS = {
    "init.uniform": "init.uniform(p.shape, low, high)",
    "init.normal": "init.normal(p.shape, std)",
    "nn.init": "init.he_normal(p.shape)",
    "init.fans": "init.he_normal(p.shape)",
}


def _shape(shape: Shape, where: str = "nn.init") -> tuple[int, ...]:
    if isinstance(shape, Tensor) or (
        isinstance(shape, np.ndarray) and (shape.ndim != 1 or shape.dtype.kind not in "iu")
    ):
        # PyTorch's nn.init.zeros_(layer.bias) fills the tensor; here the argument is a shape, and
        # an array read as one would give an array of the shape of its values (zeros(bias) -> shape ())
        kind = "a Parameter" if isinstance(shape, Parameter) else f"a {type(shape).__name__}"
        raise TypeError(
            f"{where}: expected a shape such as (out_features, in_features), got {kind} of shape "
            f"{shape.shape}. The initialisers return a new array of that shape; they do not fill a "
            "tensor in place as PyTorch's nn.init.*_ do: write "
            f"p.data[...] = nn.{_CALLS.get(where, where + '(p.shape)')}"
        )
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def fans(shape: Shape, where: str = "init.fans") -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape: (out, in) -> (in, out).

    A 1-D shape (n,) counts n for both; beyond 2-D (convolution kernels
    (out, in, k1, k2, ...)) each fan is multiplied by the kernel size, as in PyTorch.
    """
    dims = _shape(shape, where)
    if len(dims) == 0:
        raise ValueError("nn.init: a scalar shape () has no fan_in/fan_out; give a shape like (out, in)")
    if len(dims) == 1:
        return dims[0], dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _check_rng(rng: Any, where: str, hint: str = "") -> Optional[RandomSource]:
    """``rng`` if it is a numpy Generator, a RandomState or None, else a TypeError saying what to pass
    (an int seed would fail only later, at the first draw, as a bare AttributeError)."""
    if rng is None or isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    raise TypeError(
        f"{where}: rng must be a np.random.Generator, a np.random.RandomState or None, got "
        f"{type(rng).__name__} {rng!r:.60}; pass a generator, e.g. rng=np.random.default_rng(42){hint}"
    )


def _rng(rng: Any, where: str) -> RandomSource:
    return get_rng() if _check_rng(rng, where) is None else rng


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` (None: the default dtype) as a float numpy dtype, else a TypeError naming ``where``:
    an integer or bool dtype would truncate every value drawn or updated."""
    if dtype is None:
        return get_default_dtype()
    expected = "a float dtype (np.float32 or np.float64)"
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be {expected}, got {dtype!r:.60}, not a dtype") from None
    if dt.kind != "f":
        raise TypeError(f"{where}: dtype must be {expected}, got {dt}")
    return dt


def _scale(fan: int, what: str, shape: Shape, where: str) -> int:
    """``fan``, the divisor of a variance, or a ValueError for a zero one (a shape with a 0 axis)."""
    if fan == 0:
        raise ValueError(
            f"{where}: shape {_shape(shape)} has {what} = 0, which the variance is divided by, so a "
            "weight of this shape cannot be initialised this way: its fan axes need a size of at least 1"
        )
    return fan


def normal(
    shape: Shape, std: float = 0.01, rng: Optional[RandomSource] = None, dtype: Any = None
) -> np.ndarray:
    """randn(*shape) * std: N(0, std**2). The course's small-random init uses std = 0.01."""
    return _normal(shape, std, rng, dtype, "init.normal")


def _normal(shape: Shape, std: float, rng: Any, dtype: Any, where: str) -> np.ndarray:
    dt = _float_dtype(dtype, where)
    return (_rng(rng, where).standard_normal(_shape(shape, where)) * std).astype(dt)


def uniform(
    shape: Shape, low: float, high: float, rng: Optional[RandomSource] = None, dtype: Any = None
) -> np.ndarray:
    """U(low, high) samples."""
    return _uniform(shape, low, high, rng, dtype, "init.uniform")


def _uniform(shape: Shape, low: float, high: float, rng: Any, dtype: Any, where: str) -> np.ndarray:
    dt = _float_dtype(dtype, where)
    return _rng(rng, where).uniform(low, high, _shape(shape, where)).astype(dt)


def he_normal(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """randn(*shape) * sqrt(2 / fan_in): N(0, 2 / fan_in) (He et al. 2015, the course's form)."""
    fan_in, _ = fans(shape, "init.he_normal")
    fan = _scale(fan_in, "fan_in", shape, "init.he_normal")
    return _normal(shape, math.sqrt(2.0 / fan), rng, dtype, "init.he_normal")


def he_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): the same variance as he_normal."""
    fan_in, _ = fans(shape, "init.he_uniform")
    a = math.sqrt(6.0 / _scale(fan_in, "fan_in", shape, "init.he_uniform"))
    return _uniform(shape, -a, a, rng, dtype, "init.he_uniform")


def xavier_normal(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """randn(*shape) * sqrt(2 / (fan_in + fan_out)): N(0, 2 / (fan_in + fan_out)) (Glorot normal)."""
    fan_in, fan_out = fans(shape, "init.xavier_normal")
    fan = _scale(fan_in + fan_out, "fan_in + fan_out", shape, "init.xavier_normal")
    return _normal(shape, math.sqrt(2.0 / fan), rng, dtype, "init.xavier_normal")


def xavier_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): the same variance as xavier_normal."""
    fan_in, fan_out = fans(shape, "init.xavier_uniform")
    a = math.sqrt(6.0 / _scale(fan_in + fan_out, "fan_in + fan_out", shape, "init.xavier_uniform"))
    return _uniform(shape, -a, a, rng, dtype, "init.xavier_uniform")


def zeros(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """All zeros (biases). ``rng`` is accepted, and ignored, so every initialiser has one signature."""
    _check_rng(rng, "init.zeros")
    return np.zeros(_shape(shape, "init.zeros"), dtype=_float_dtype(dtype, "init.zeros"))


def ones(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """All ones (BatchNorm's scale)."""
    _check_rng(rng, "init.ones")
    return np.ones(_shape(shape, "init.ones"), dtype=_float_dtype(dtype, "init.ones"))


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

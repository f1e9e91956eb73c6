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

PyTorch's in-place spellings take a float Tensor or Parameter instead, fill its
``data`` in place (marking it changed, so a backward through an op recorded
before raises) and return it, with PyTorch's arguments and formulas:
``zeros_``, ``ones_``, ``constant_``, ``normal_``, ``uniform_``,
``xavier_uniform_``, ``xavier_normal_``, ``kaiming_uniform_``,
``kaiming_normal_`` (and ``calculate_gain``). They draw from ``rng`` too,
where PyTorch takes ``generator``.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import numpy as np

from tinygrad_edu._config import get_default_dtype, get_rng
from tinygrad_edu.autograd import mark_modified
from tinygrad_edu.nn.module import Parameter
from tinygrad_edu.tensor import Tensor

RandomSource = Union[np.random.Generator, np.random.RandomState]
Shape = Union[int, Sequence[int]]


# How to call each initialiser on a parameter p, for the error above (fans: none; shown as he_normal).
_CALLS = {
    "init.uniform": "init.uniform(p.shape, low, high)",
    "init.normal": "init.normal(p.shape, std)",
    "nn.init": "init.he_normal(p.shape)",
}


# The in-place initialiser that fills a parameter p as the shape-based one would (for the same error).
_IN_PLACE = {
    "init.zeros": "zeros_(p)",
    "init.ones": "ones_(p)",
    "init.uniform": "uniform_(p, low, high)",
    "init.normal": "normal_(p, std=0.01)",
    "init.he_normal": 'kaiming_normal_(p, nonlinearity="relu")',
    "init.he_uniform": 'kaiming_uniform_(p, nonlinearity="relu")',
    "init.xavier_normal": "xavier_normal_(p)",
    "init.xavier_uniform": "xavier_uniform_(p)",
}


def _shape(shape: Shape, where: str = "nn.init") -> tuple[int, ...]:
    if isinstance(shape, Tensor) or (
        isinstance(shape, np.ndarray) and (shape.ndim != 1 or shape.dtype.kind not in "iu")
    ):
        if where == "init.fans":
            raise TypeError(
                f"init.fans: expected a shape such as (out_features, in_features), got a "
                f"{type(shape).__name__} of shape {shape.shape}; write init.fans(p.shape)"
            )
        # PyTorch's nn.init.zeros_(layer.bias) fills the tensor; here the argument is a shape, and
        # an array read as one would give an array of the shape of its values (zeros(bias) -> shape ())
        kind = "a Parameter" if isinstance(shape, Parameter) else f"a {type(shape).__name__}"
        raise TypeError(
            f"{where}: expected a shape such as (out_features, in_features), got {kind} of shape "
            f"{shape.shape}. The initialisers return a new array of that shape; to fill a tensor in "
            f"place, as PyTorch's nn.init.*_ do, write nn.init.{_IN_PLACE.get(where, 'kaiming_normal_(p)')} "
            f"or p.data[...] = nn.{_CALLS.get(where, where + '(p.shape)')}"
        )
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def fans(shape: Shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of this shape: (out, in) -> (in, out).

    A 1-D shape (n,) counts n for both; beyond 2-D (convolution kernels
    (out, in, k1, k2, ...)) each fan is multiplied by the kernel size, as in PyTorch.
    """
    return _fans(shape, "init.fans")


def _fans(shape: Shape, where: str) -> tuple[int, int]:
    """``fans``, with the initialiser that asked named in its errors."""
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


def _normal(shape: Shape, std: float, rng: Any, dtype: Any, where: str, mean: float = 0.0) -> np.ndarray:
    dt = _float_dtype(dtype, where)
    values = _rng(rng, where).standard_normal(_shape(shape, where)) * std
    return (values + mean if mean else values).astype(dt)


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
    fan_in, _ = _fans(shape, "init.he_normal")
    fan = _scale(fan_in, "fan_in", shape, "init.he_normal")
    return _normal(shape, math.sqrt(2.0 / fan), rng, dtype, "init.he_normal")


def he_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / fan_in): the same variance as he_normal."""
    fan_in, _ = _fans(shape, "init.he_uniform")
    a = math.sqrt(6.0 / _scale(fan_in, "fan_in", shape, "init.he_uniform"))
    return _uniform(shape, -a, a, rng, dtype, "init.he_uniform")


def xavier_normal(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """randn(*shape) * sqrt(2 / (fan_in + fan_out)): N(0, 2 / (fan_in + fan_out)) (Glorot normal)."""
    fan_in, fan_out = _fans(shape, "init.xavier_normal")
    fan = _scale(fan_in + fan_out, "fan_in + fan_out", shape, "init.xavier_normal")
    return _normal(shape, math.sqrt(2.0 / fan), rng, dtype, "init.xavier_normal")


def xavier_uniform(shape: Shape, rng: Optional[RandomSource] = None, dtype: Any = None) -> np.ndarray:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)): the same variance as xavier_normal."""
    fan_in, fan_out = _fans(shape, "init.xavier_uniform")
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


# --- PyTorch's in-place initialisers: fill a tensor, return it -------------------------------------
#
# Each writes into ``tensor.data`` (nothing is recorded, as under PyTorch's torch.no_grad(), so a
# Parameter needs no ``no_grad`` block around the call) and marks the tensor as changed in place:
# a backward through an op recorded before the fill raises, as in PyTorch.

Number = Union[int, float]

# What to write for a new array of a shape instead (the error for a non-tensor argument).
_BY_SHAPE = {
    "init.zeros_": "nn.init.zeros(shape)",
    "init.ones_": "nn.init.ones(shape)",
    "init.constant_": "np.full(shape, val)",
    "init.normal_": "nn.init.normal(shape, std)",
    "init.uniform_": "nn.init.uniform(shape, low, high)",
    "init.xavier_uniform_": "nn.init.xavier_uniform(shape)",
    "init.xavier_normal_": "nn.init.xavier_normal(shape)",
    "init.kaiming_uniform_": "nn.init.he_uniform(shape)",
    "init.kaiming_normal_": "nn.init.he_normal(shape)",
}


def _target(tensor: Any, where: str, kinds: str = "f") -> Tensor:
    """``tensor`` if an in-place initialiser can fill it: a Tensor (a Parameter, a leaf) whose dtype
    is of one of numpy's ``kinds`` (random ones: float only; zeros_, ones_, constant_ also integer
    and bool, as in PyTorch)."""
    if not isinstance(tensor, Tensor):
        shape = getattr(tensor, "shape", None)
        got = f"an ndarray of shape {shape}" if isinstance(tensor, np.ndarray) else (
            f"{type(tensor).__name__} {tensor!r:.60}"
        )
        raise TypeError(
            f"{where}: expected a Tensor or Parameter to fill in place (PyTorch's nn.init.*_ style), got "
            f"{got}; for a new array of a shape write "
            f"{_BY_SHAPE.get(where, 'nn.init.he_normal(shape)')}"
        )
    if tensor.dtype.kind not in kinds:
        raise TypeError(
            f"{where}: the tensor must have a float dtype (np.float32 or np.float64), got {tensor.dtype} "
            f"(shape {tensor.shape}): the initialisers fill float weights, as their dtype= must be float"
        )
    if tensor._ctx is not None:
        raise RuntimeError(
            f"{where}: this tensor (shape {tensor.shape}, {tensor.dtype}) was made by "
            f"{type(tensor._ctx).__name__} and is part of a graph, and this library does not record "
            "in-place ops; expected a Parameter or another leaf tensor"
        )
    return tensor


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor``'s array in place (a read-only array is replaced, as
    ``load_state_dict`` does) and mark the change; returns ``tensor``."""
    if tensor.data.flags.writeable:
        np.copyto(tensor.data, values, casting="unsafe")  # in place: an optimizer's references see it
    else:
        tensor.data = np.full(tensor.shape, values, dtype=tensor.dtype)
    mark_modified(tensor)  # a backward through an op recorded before the fill now raises
    return tensor


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {type(value).__name__} {value!r:.60}")
    return float(value)


def _torch_fans(tensor: Tensor, where: str) -> tuple[int, int]:
    """PyTorch's ``_calculate_fan_in_and_fan_out``: at least 2-D, (out, in, *kernel) -> (in, out) * kernel.

    Unlike the shape-based ``fans``, a 1-D tensor (a bias) is refused, as PyTorch refuses it."""
    if tensor.ndim < 2:
        raise ValueError(
            f"{where}: fan_in and fan_out cannot be computed for a tensor with fewer than 2 dimensions "
            f"(shape {tensor.shape}), as in PyTorch; a bias is usually filled with nn.init.zeros_(p), or "
            f"p.data[...] = nn.{where.rstrip('_').replace('kaiming', 'he')}(p.shape) counts n for both fans"
        )
    return _fans(tensor.shape, where)


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: Optional[Number] = None) -> float:
    """PyTorch's recommended gain for a nonlinearity: linear, conv*, sigmoid 1; tanh 5/3; relu sqrt(2);
    leaky_relu sqrt(2 / (1 + negative_slope**2)) (``param``, default 0.01); selu 3/4."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _number(param, "the negative slope (param)", "init.calculate_gain")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = ", ".join(repr(n) for n in (*_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu"))
    raise ValueError(
        f"init.calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of {known}"
    )


def zeros_(tensor: Tensor) -> Tensor:
    """PyTorch's ``nn.init.zeros_``: fill ``tensor`` (any numeric dtype) with 0 in place; returns it."""
    return _fill(_target(tensor, "init.zeros_", "fiub"), 0)


def ones_(tensor: Tensor) -> Tensor:
    """PyTorch's ``nn.init.ones_``: fill ``tensor`` (any numeric dtype) with 1 in place; returns it."""
    return _fill(_target(tensor, "init.ones_", "fiub"), 1)


def constant_(tensor: Tensor, val: Number) -> Tensor:
    """PyTorch's ``nn.init.constant_``: fill ``tensor`` with ``val`` in place; returns it.

    An integer or bool tensor takes only a ``val`` it can hold exactly (PyTorch would write 2.5
    into an integer tensor as 2)."""
    where = "init.constant_"
    t = _target(tensor, where, "fiub")
    number = _number(val, "val", where)
    if t.dtype.kind == "f":
        return _fill(t, number)
    low, high = (0, 1) if t.dtype.kind == "b" else (np.iinfo(t.dtype).min, np.iinfo(t.dtype).max)
    if not (number.is_integer() and low <= val <= high):
        raise ValueError(
            f"{where}: val={val!r} does not fit the tensor's dtype {t.dtype} (shape {t.shape}): expected "
            f"a whole number from {low} to {high}"
        )
    return _fill(t, int(val))


def normal_(
    tensor: Tensor, mean: Number = 0.0, std: Number = 1.0, rng: Optional[RandomSource] = None
) -> Tensor:
    """PyTorch's ``nn.init.normal_``: fill ``tensor`` with N(mean, std**2) samples in place; returns it."""
    where = "init.normal_"
    t = _target(tensor, where)
    std = _number(std, "std", where)
    if not std >= 0:
        raise ValueError(f"{where}: std must be at least 0, got {std}")
    return _fill(t, _normal(t.shape, std, rng, t.dtype, where, _number(mean, "mean", where)))


def uniform_(
    tensor: Tensor, a: Number = 0.0, b: Number = 1.0, rng: Optional[RandomSource] = None
) -> Tensor:
    """PyTorch's ``nn.init.uniform_``: fill ``tensor`` with U(a, b) samples in place; returns it."""
    where = "init.uniform_"
    t = _target(tensor, where)
    low, high = _number(a, "a", where), _number(b, "b", where)
    if not low <= high:
        raise ValueError(f"{where}: expected a <= b for the range [a, b), got a={low} > b={high}")
    return _fill(t, _uniform(t.shape, low, high, rng, t.dtype, where))


def _xavier_std(t: Tensor, gain: Any, where: str) -> float:
    fan_in, fan_out = _torch_fans(t, where)
    fan = _scale(fan_in + fan_out, "fan_in + fan_out", t.shape, where)
    return _number(gain, "gain", where) * math.sqrt(2.0 / fan)


def xavier_uniform_(tensor: Tensor, gain: Number = 1.0, rng: Optional[RandomSource] = None) -> Tensor:
    """PyTorch's ``nn.init.xavier_uniform_``: U(-a, a) in place, a = gain * sqrt(6 / (fan_in + fan_out));
    returns the tensor. With gain 1 it is ``xavier_uniform(shape)``."""
    where = "init.xavier_uniform_"
    t = _target(tensor, where)
    a = math.sqrt(3.0) * _xavier_std(t, gain, where)
    return _fill(t, _uniform(t.shape, -a, a, rng, t.dtype, where))


def xavier_normal_(tensor: Tensor, gain: Number = 1.0, rng: Optional[RandomSource] = None) -> Tensor:
    """PyTorch's ``nn.init.xavier_normal_``: N(0, std**2) in place, std = gain * sqrt(2 / (fan_in +
    fan_out)); returns the tensor. With gain 1 it is ``xavier_normal(shape)``."""
    where = "init.xavier_normal_"
    t = _target(tensor, where)
    return _fill(t, _normal(t.shape, _xavier_std(t, gain, where), rng, t.dtype, where))


def _kaiming_std(t: Tensor, a: Any, mode: Any, nonlinearity: Any, where: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r:.60}")
    fan_in, fan_out = _torch_fans(t, where)
    fan = _scale(fan_in if mode == "fan_in" else fan_out, mode, t.shape, where)
    _number(a, "a (the negative slope)", where)
    try:
        gain = calculate_gain(nonlinearity, a)
    except ValueError as exc:
        raise ValueError(f"{where}: {str(exc).removeprefix('init.calculate_gain: ')}") from None
    return gain / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: Number = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: Optional[RandomSource] = None,
) -> Tensor:
    """PyTorch's ``nn.init.kaiming_uniform_`` (He): U(-bound, bound) in place, bound = gain *
    sqrt(3 / fan), fan = fan_in or fan_out (``mode``), gain = ``calculate_gain(nonlinearity, a)``
    (``a``: leaky_relu's negative slope); returns the tensor. The defaults (leaky_relu with
    a = 0, fan_in) give gain sqrt(2): ``he_uniform(shape)``."""
    where = "init.kaiming_uniform_"
    t = _target(tensor, where)
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity, where)
    return _fill(t, _uniform(t.shape, -bound, bound, rng, t.dtype, where))


def kaiming_normal_(
    tensor: Tensor,
    a: Number = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    rng: Optional[RandomSource] = None,
) -> Tensor:
    """PyTorch's ``nn.init.kaiming_normal_`` (He): N(0, std**2) in place, std = gain / sqrt(fan),
    with ``fan`` and ``gain`` as in ``kaiming_uniform_``; returns the tensor. The defaults give
    ``he_normal(shape)``."""
    where = "init.kaiming_normal_"
    t = _target(tensor, where)
    return _fill(t, _normal(t.shape, _kaiming_std(t, a, mode, nonlinearity, where), rng, t.dtype, where))

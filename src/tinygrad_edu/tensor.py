"""``Tensor``: an ndarray that remembers the op that made it.

Every method here is one line that calls an op in ``tinygrad_edu.ops``; the
forward and backward of each op live together there.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
import types
import warnings
from typing import Any, Iterator, NoReturn, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import autograd
from tinygrad_edu._config import STATE, _check_flag
from tinygrad_edu.ops import elementwise as ew
from tinygrad_edu.ops import linalg
from tinygrad_edu.ops import nn as nnops
from tinygrad_edu.ops import reduce as red
from tinygrad_edu.ops import shape as sh

Axis = Union[None, int, Sequence[int]]


def _fits(value: Any, dtype: np.dtype) -> bool:
    """Whether a number (a Python or numpy one, or a 0-d array) fits in ``dtype`` without overflow:
    an integer dtype's range, which inf and NaN are outside; a float dtype's largest finite value,
    past which it would become inf (inf and NaN themselves stay what they are)."""
    if dtype.kind == "f":
        return not (math.isfinite(value) and abs(value) > float(np.finfo(dtype).max))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        finite = isinstance(value, (int, np.integer)) or math.isfinite(value)  # (a huge int has no float)
        return bool(finite and info.min <= value <= info.max)
    return True


def _check_fits(value: int, dtype: np.dtype) -> None:
    """A Python int must fit in the integer dtype it goes into (numpy would refuse or wrap it)."""
    info = np.iinfo(dtype)
    if not _fits(value, dtype):
        raise OverflowError(
            f"Tensor: the Python int {value} does not fit in the tensor's dtype {dtype} "
            f"(range [{info.min}, {info.max}]); convert the tensor first, e.g. x.astype(np.int64)"
        )


def _check_float_fits(value: float, dtype: np.dtype) -> None:
    """A finite Python number must stay finite in the float dtype it goes into: 1e5 is inf in
    float16, where PyTorch would compute ``x * 1e5`` in float32 and give a finite result."""
    largest = float(np.finfo(dtype).max)  # (a Python float: compared with a float16, 1e5 would be cast)
    if not _fits(value, dtype):
        raise OverflowError(
            f"Tensor: the Python number {float(value)!r} would be inf in the tensor's dtype {dtype} (largest "
            f"{largest}); convert the tensor first, e.g. x.astype(np.float32)"
        )


def _big_ints(data: Any, arr: np.ndarray, dtype: Any, where: str) -> np.ndarray:
    """Python ints beyond int64 (numpy gives dtype object): the default float dtype, or a clear error."""
    target = np.dtype(STATE.default_dtype if dtype is None else dtype)
    try:
        with np.errstate(over="ignore"):  # (an overflow to inf is refused just below)
            converted = np.asarray(data, dtype=target)
        if target.kind == "f" and not np.isfinite(converted).all():
            raise OverflowError
        return converted
    except OverflowError:
        digits = str(max((v for v in arr.flat), key=abs))
        big = digits if len(digits) <= 40 else f"{digits[:12]}... ({len(digits)} digits)"
        raise OverflowError(f"{where}: the integer {big} does not fit in {target}") from None


def _check_float_to_int(arr: np.ndarray, dtype: np.dtype, where: str) -> None:
    """Floats into an integer dtype: nan and inf have no integer value, and the rest must fit."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = arr[~finite].flat[0]
        raise ValueError(f"{where}: cannot convert {bad} to {dtype}: it has no integer value")
    fractional = arr != np.trunc(arr)
    if fractional.any():
        bad = arr[fractional].flat[0]
        raise ValueError(
            f"{where}: {bad:g} is not a whole number, so {dtype} cannot hold it exactly; "
            "round it first (np.round, np.floor) if that is what you mean"
        )
    _check_int_range(arr, dtype, where)


def _check_int_range(arr: np.ndarray, dtype: np.dtype, where: str) -> None:
    """Numbers into an integer dtype: each must fit (numpy would wrap 300 into int8 as 44)."""
    if arr.size == 0:
        return
    info = np.iinfo(dtype)
    low, high = arr.min(), arr.max()
    if arr.dtype.kind == "f":  # compared as floats: int64's largest, 2**63 - 1, rounds to 2**63
        fits = info.min <= low and high < info.max + 1.0
    else:
        fits = info.min <= low and high <= info.max
    if not fits:
        bad = low if low < info.min else high
        shown = f"{bad:g}" if arr.dtype.kind == "f" else str(bad)
        raise OverflowError(f"{where}: {shown} does not fit in {dtype} (range [{info.min}, {info.max}])")


def _check_conversion(arr: np.ndarray, dtype: np.dtype, where: str) -> None:
    """Raise if ``arr.astype(dtype)`` would change a value beyond rounding: a float that is not a
    whole number, nan or inf into an integer dtype, a number outside an integer dtype's range
    (numpy wraps 300 into int8 as 44), a finite float that overflows a narrower float to inf."""
    if dtype.kind in "iu" and arr.dtype.kind == "f":
        _check_float_to_int(arr, dtype, where)
    elif dtype.kind in "iu" and arr.dtype.kind in "iu" and arr.dtype != dtype:
        _check_int_range(arr, dtype, where)
    elif dtype.kind == "f" and arr.size and _may_overflow(arr.dtype, dtype):
        finite = np.isfinite(arr)
        with np.errstate(over="ignore"):
            overflows = finite & ~np.isfinite(arr.astype(dtype))
        if overflows.any():
            bad = arr[overflows].flat[0]
            biggest = float(np.finfo(dtype).max)  # (all digits: 3.40282e+38 looks as if it fitted)
            raise OverflowError(
                f"{where}: {float(bad)!r} does not fit in {dtype} (largest {biggest!r}: it would become inf)"
            )


def _may_overflow(source: np.dtype, target: np.dtype) -> bool:
    """Whether some finite number of dtype ``source`` becomes inf in the float dtype ``target``: a
    wider float into a narrower one, or an integer of 32 bits or more into float16 (its largest is
    65504)."""
    if source.kind == "f":
        return source.itemsize > target.itemsize
    return source.kind in "iu" and target.itemsize == 2 and source.itemsize >= 4


def _to_array(data: Any, dtype: Any, where: str) -> np.ndarray:
    """Python scalars and lists get the default float dtype; ndarrays keep theirs."""
    is_array = isinstance(data, (np.ndarray, np.generic))
    try:
        # Converted without a dtype first, so that strings and None are seen and refused
        # (numpy would turn "1.5" into 1.5 and None into nan when asked for floats).
        arr = np.asarray(data)
        if arr.dtype == object and not is_array and all(type(v) is int for v in arr.flat):
            return _big_ints(data, arr, dtype, where)
        target = None
        if arr.dtype.kind in "fiub" and (dtype is not None or not is_array):
            target = np.dtype(STATE.default_dtype if dtype is None else dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{where}: cannot make a tensor from {type(data).__name__} ({exc}); "
            "expected a number, a (nested) list of numbers or an ndarray"
        ) from None
    if target is not None:
        _check_conversion(arr, target, where)
        try:
            arr = arr.astype(target, copy=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where}: cannot convert {arr.dtype} to {target} ({exc})") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"{where}: cannot make a tensor from {type(data).__name__} of dtype {arr.dtype}; "
            "expected a number, a (nested) list of numbers, or a float, integer or bool ndarray"
        )
    return arr


# Number operands become constant Tensors, shared between uses (read-only, never recorded).
_CONSTANTS: dict = {}


class ElementCount(int):
    """``Tensor.size``: the number of elements, an int (numpy's meaning), that can also be called as
    PyTorch's ``size()`` is: ``x.size()`` gives the shape, ``x.size(axis)`` one axis's length, so
    ``x.view(x.size(0), -1)`` works as written in PyTorch."""

    def __new__(cls, count: int, shape: tuple[int, ...]) -> "ElementCount":
        number = super().__new__(cls, count)
        number.shape = shape
        return number

    def __getnewargs__(self) -> tuple[int, tuple[int, ...]]:  # (for pickle and copy)
        return int(self), self.shape

    def __call__(self, axis: Optional[int] = None, **pytorch_words: Any) -> Any:
        if pytorch_words:
            _refuse_pytorch_words("size", pytorch_words, ("dim",))
        if axis is None:
            return self.shape
        ndim = len(self.shape)
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool) or not -ndim <= axis < ndim:
            raise IndexError(
                f"size({axis!r}): expected an axis in [{-ndim}, {ndim - 1}] for shape {self.shape}"
            )
        return self.shape[axis]


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``. An ndarray
    keeps its dtype; it is shared, not copied, unless the tensor requires grad
    (an optimizer then updates the tensor's own copy, never the caller's array,
    as with ``torch.tensor``). A Tensor is copied and detached. Python numbers and
    lists become the default float dtype (float32 unless ``set_default_dtype`` says
    otherwise). Only floating tensors can require grad.
    """

    __slots__ = ("data", "_grad", "requires_grad", "_ctx", "name", "_version", "__weakref__")
    # __eq__ is elementwise, so the identity hash must be restored explicitly:
    # optimizer state and graph walks key on tensors.
    __hash__ = object.__hash__
    # Let `ndarray + Tensor` reach Tensor.__radd__ instead of numpy broadcasting over objects.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: Optional[str] = None,
    ) -> None:
        given = data
        if isinstance(data, Tensor):  # a detached copy, as torch.tensor(t) makes: never an alias of t
            data = data.data.copy()
        self.data = _to_array(data, dtype, "Tensor")
        requires_grad = _check_flag(requires_grad, "requires_grad", "Tensor")
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only floating tensors can require grad, got dtype {self.data.dtype} "
                f"(shape {self.data.shape}); convert with dtype=np.float32 or np.float64"
            )
        if requires_grad and self.data is given:
            # A tensor to be trained gets an array of its own, as torch.tensor copies: an
            # optimizer step writes into it in place, and must not overwrite the caller's array.
            self.data = data.copy()
        self.requires_grad = requires_grad
        self._grad: Optional[Tensor] = None
        self._ctx: Optional[autograd.Function] = None
        self.name = name
        self._version = 0  # the number of its latest in-place change, 0 for none (autograd.mark_modified)

    # --- basic facts -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape, a tuple of ints."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements, an int as numpy's ``a.size`` is. Called, it is PyTorch's
        ``size()``: ``x.size()`` the shape, ``x.size(0)`` the length of axis 0."""
        return ElementCount(self.data.size, self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        """The array's numpy dtype."""
        return self.data.dtype

    @property
    def grad(self) -> Optional["Tensor"]:
        """The gradient that backward accumulated here: a Tensor of this tensor's shape and dtype, or
        None. Assigning one of another shape or dtype, or an ndarray, is refused, as in PyTorch: a
        float64 grad on a float32 weight would make every later gradient float64.

        Read on a tensor made by an op, it is None and warns, as PyTorch does: backward fills the
        ``.grad`` of leaves only, and a parameter rebound by ``w = w - lr * w.grad`` is no leaf."""
        if self._grad is None and self._ctx is not None:
            warnings.warn(_non_leaf_grad_message(self), stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Optional["Tensor"]) -> None:
        if value is not None and (
            not isinstance(value, Tensor) or value.data.shape != self.data.shape
            or value.data.dtype != self.data.dtype
        ):
            _refuse_grad(self, value)
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Optional[autograd.Function]:
        """The recorded op that made this tensor, or None for a leaf."""
        return self._ctx

    @property
    def T(self) -> "Tensor":
        """The tensor with its axes reversed (the transpose of a matrix)."""
        return self.transpose()

    @property
    def mT(self) -> "Tensor":
        """PyTorch's ``mT``: the last two axes swapped, each matrix of a batch transposed."""
        if self.ndim < 2:
            raise ValueError(f"mT: expected a tensor with at least 2 axes, got shape {self.shape}")
        axes = list(range(self.ndim))
        axes[-2], axes[-1] = axes[-1], axes[-2]
        return self.transpose(*axes)

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor has shape {self.shape}; only one-element tensors convert")
        return self.data.item()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return _wrap(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place (off: leaves only, as in PyTorch) and return the tensor."""
        requires_grad = _check_flag(requires_grad, "requires_grad", "requires_grad_")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError(
                f"requires_grad_(False): this tensor (shape {self.shape}) was made by "
                f"{type(self._ctx).__name__} and is part of a graph; only a leaf can stop requiring "
                "grad. For a copy outside the graph, use .detach()"
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: dtype {self.dtype} cannot require grad")
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype: Any) -> "Tensor":
        """A copy in another dtype; the gradient flows back in the original dtype. An integer or
        bool copy has no gradient (``requires_grad`` False), as in PyTorch."""
        try:
            target = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"astype: {dtype!r} is not a numpy dtype (e.g. np.float32, np.int64)") from None
        return ew.Cast.apply(self, dtype=target)

    def to(self, dtype: Any) -> "Tensor":
        """``astype`` under PyTorch's name. ``to("cpu")`` (or a torch.device("cpu")) is the tensor
        itself, as in PyTorch when nothing changes: numpy computes on the CPU, and only there."""
        if _names_the_cpu(dtype, "Tensor.to"):
            return self
        return self.astype(dtype)

    def backward(self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; frees the graph unless retained."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = ""
        if self.data.dtype != STATE.default_dtype:
            extras += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extras += f", grad_fn={type(self._ctx).__name__}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        if self.name:
            extras += f", name={self.name!r}"
        return f"Tensor({body}{extras})"

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        """The tensor for numpy: ``np.asarray(t)`` is its own array (as ``t.numpy()``), ``np.array(t)``
        a copy (numpy 2 asks with ``copy=True``; a write into it must not reach the tensor)."""
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        if copy is False and array is not self.data:
            raise ValueError(
                f"np.asarray(tensor, copy=False): the tensor (shape {self.shape}, {self.dtype}) cannot be "
                f"seen as {np.dtype(dtype)} without a copy"
            )
        return array.copy() if copy and array is self.data else array

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        """A numpy function given Tensors (``np.dot(X, W.T)``, ``np.sum(t)``) computes on their arrays
        and returns an ndarray, which no backward can go through. For tensors that need no gradient
        that is what it was asked for; for one that requires grad it is refused, since its gradient
        would go missing with no error (PyTorch refuses such a tensor in numpy too)."""
        if func.__name__ in _NO_GRADIENT_ANSWERS or not any(map(_requires_grad_in, (args, kwargs.values()))):
            return func(*_arrays_in(args), **{k: _arrays_in(v) for k, v in kwargs.items()})
        raise TypeError(_numpy_function_message(func.__name__, args))

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it has no first dimension (use .item() for its value)")
        return len(self.data)

    def __iter__(self) -> Iterator["Tensor"]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    # --- operands --------------------------------------------------------------------
    def _operand(self, other: Any) -> "Tensor":
        """Turn the other operand into a Tensor; a Python number takes this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if type(other) is np.ndarray:  # checked first: every mask a backward multiplies by
            if other.dtype.kind not in autograd.NUMERIC_KINDS:
                raise TypeError(
                    f"Tensor: cannot combine a tensor (shape {self.shape}, {self.dtype}) with an ndarray of "
                    f"dtype {other.dtype} (shape {other.shape}): expected a float, integer or bool array"
                )
            return _wrap(other)
        if isinstance(other, (int, float)):
            dtype = self._scalar_dtype(other)
            if dtype.kind in "iu":
                _check_fits(other, dtype)
            key = (other, math.copysign(1.0, other), type(other), dtype)  # copysign: -0.0 is not 0.0
            const = _CONSTANTS.get(key)
            if const is None:
                if dtype.kind == "f":
                    _check_float_fits(other, dtype)
                if len(_CONSTANTS) > 1024:
                    _CONSTANTS.clear()
                const = _CONSTANTS[key] = _wrap(np.asarray(other, dtype=dtype))
                const.data.flags.writeable = False
            return const
        if isinstance(other, (np.ndarray, np.generic)):
            return self._operand(np.asarray(other))
        if isinstance(other, (list, tuple)):
            return Tensor(other)
        return NotImplemented

    def _scalar_dtype(self, number: Any) -> np.dtype:
        """The dtype a Python number takes beside this tensor (PyTorch's rule): a float tensor's own;
        an integer tensor's for an int, the default float for a float; for a bool tensor, bool for a
        bool, int64 for an int, the default float for a float."""
        kind = self.data.dtype.kind
        same_kind = isinstance(number, bool) if kind == "b" else kind == "f" or isinstance(number, int)
        if same_kind:
            return self.data.dtype
        if kind == "b" and isinstance(number, int):
            return np.dtype(np.int64)
        return STATE.default_dtype

    # --- arithmetic --------------------------------------------------------------------
    def __add__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Add.apply(self, o)

    def __radd__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Add.apply(o, self)

    def __sub__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Sub.apply(self, o)

    def __rsub__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Sub.apply(o, self)

    def __mul__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Mul.apply(self, o)

    def __rmul__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Mul.apply(o, self)

    def __truediv__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Div.apply(*_true_division(self, o))

    def __rtruediv__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Div.apply(*_true_division(o, self))

    def __pow__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Pow.apply(self, o)

    def __rpow__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else ew.Pow.apply(o, self)

    def __matmul__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else linalg.MatMul.apply(self, o)

    def __rmatmul__(self, other: Any) -> "Tensor":
        o = other if type(other) is Tensor else self._operand(other)
        return o if o is NotImplemented else linalg.MatMul.apply(o, self)

    def __neg__(self) -> "Tensor":
        return ew.Neg.apply(self)

    def __pos__(self) -> "Tensor":
        return self

    # --- in place: x += y, x -= y, x *= y, x /= y, x **= y ------------------------------------
    def __iadd__(self, other: Any) -> "Tensor":
        return self._in_place(self.__add__, other, "+=")

    def __isub__(self, other: Any) -> "Tensor":
        return self._in_place(self.__sub__, other, "-=")

    def __imul__(self, other: Any) -> "Tensor":
        return self._in_place(self.__mul__, other, "*=")

    def __itruediv__(self, other: Any) -> "Tensor":
        return self._in_place(self.__truediv__, other, "/=")

    def __ipow__(self, other: Any) -> "Tensor":
        return self._in_place(self.__pow__, other, "**=")

    def _in_place(self, op: Any, other: Any, symbol: str) -> "Tensor":
        """``x -= y`` as in PyTorch: x's own array takes the result, so every reference to x sees
        it (``for p in model.parameters(): p -= lr * p.grad`` under ``no_grad()`` updates the
        model), and a backward through an op recorded before the change raises.

        A leaf that requires grad is refused while gradients are recorded, as PyTorch refuses it.
        What would have to be recorded (x made by an op, or y requiring grad) is done as
        ``x = x - y`` instead, a new tensor with its graph, since this library records no
        in-place op; other references to the old x keep the old value."""
        if self.requires_grad and self._ctx is None and STATE.grad_enabled:
            raise RuntimeError(
                f"x {symbol} y: a leaf Variable that requires grad is being used in an in-place "
                f"operation (x: shape {self.shape}, {self.dtype}), as PyTorch says. To update a "
                f"parameter, do it inside `with tg.no_grad():` (e.g. p -= lr * p.grad); for a new "
                f"tensor that is part of the graph, write x = x {symbol[:-1]} y"
            )
        result = op(other)
        if result is NotImplemented:
            return result
        if result.shape != self.shape:
            raise RuntimeError(
                f"x {symbol} y: the result has shape {result.shape}, but x has shape {self.shape}, and an "
                f"in-place op cannot change x's shape (y: {_describe(other)}); write x = x {symbol[:-1]} y "
                "for a new tensor"
            )
        if not np.can_cast(result.dtype, self.dtype, casting="same_kind"):
            raise TypeError(
                f"x {symbol} y: the result is {result.dtype}, which x ({self.dtype}, shape {self.shape}) "
                f"cannot hold (y: {_describe(other)}), as PyTorch refuses too; write x = x {symbol[:-1]} y "
                "for a new tensor, or convert x first (x.astype(np.float32))"
            )
        if self._ctx is not None or result.requires_grad:  # recorded: x = x - y, a new tensor with its
            return result if result.dtype == self.dtype else result.astype(self.dtype)  # graph, x's dtype
        if not self.data.flags.writeable:
            raise ValueError(f"x {symbol} y: the array of x (shape {self.shape}, {self.dtype}) is read-only")
        self.data[...] = result.data
        autograd.mark_modified(self)  # a backward through an op recorded before now raises
        return self

    # --- comparisons: bool tensors, never recorded --------------------------------------------
    def _compare(self, other: Any, op: Any) -> "Tensor":
        try:
            o = self._operand(other)
        except OverflowError:  # a number beyond the tensor's dtype (uint8 > -1) has an exact answer,
            exact = object if isinstance(other, (int, np.integer)) else np.float64  # in Python ints
            return _wrap(np.asarray(op(self.data.astype(exact), other), dtype=bool))
        if o is NotImplemented:
            return NotImplemented
        out = op(self.data, o.data)
        # numpy returns a np.bool_ scalar, not an array, when both operands are 0-d
        return _wrap(out if type(out) is np.ndarray else np.asarray(out))

    def __lt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> "Tensor":
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> "Tensor":
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> "Tensor":  # type: ignore[override]
        return self._compare(other, np.not_equal)

    # --- logical and bitwise: & | ^ ~ on bool masks and integers, never recorded -----------------
    def _bitwise(self, other: Any, op: Any, symbol: str) -> "Tensor":
        o = self._operand(other)
        if o is NotImplemented:
            return NotImplemented
        if self.data.dtype.kind not in "biu" or o.data.dtype.kind not in "biu" or isinstance(other, float):
            if type(other) in (int, float):  # (np.float64 is a float too, but numpy's)
                theirs = f"the Python {type(other).__name__} {other!r}"
            else:  # as passed (the operand above may have been converted already)
                theirs = f"{getattr(other, 'dtype', o.dtype)} (shape {np.shape(other)})"
            raise TypeError(
                f"x {symbol} y: defined for bool and integer tensors, got {self.dtype} (shape {self.shape}) "
                f"and {theirs}, as PyTorch refuses floats; combine masks, e.g. (x > 0) & (x < 1)"
            )
        _, (a, b) = autograd.promote((self, o), (self.data, o.data), f"x {symbol} y")  # PyTorch's dtype
        return _wrap(np.asarray(op(a, b)))

    def __and__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_and, "&")

    def __rand__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_and, "&")

    def __or__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_or, "|")

    def __ror__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_or, "|")

    def __xor__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_xor, "^")

    def __rxor__(self, other: Any) -> "Tensor":
        return self._bitwise(other, np.bitwise_xor, "^")

    def __invert__(self) -> "Tensor":
        """~mask: logical not of a bool tensor, bitwise not of an integer one (not recorded)."""
        if self.data.dtype.kind not in "biu":
            raise TypeError(
                f"~x: defined for bool and integer tensors, got {self.dtype} (shape {self.shape}), as "
                "PyTorch refuses floats; for a mask, ~(x > 0) or x <= 0"
            )
        return _wrap(np.asarray(~self.data))

    # --- elementwise functions ---------------------------------------------------------------
    def exp(self) -> "Tensor":
        """e**x elementwise;  d/dx = exp(x)."""
        return ew.Exp.apply(self)

    def log(self) -> "Tensor":
        """Natural logarithm elementwise;  d/dx = 1/x."""
        return ew.Log.apply(self)

    def sqrt(self) -> "Tensor":
        """Square root elementwise;  d/dx = 1 / (2 sqrt(x))."""
        return ew.Sqrt.apply(self)

    def abs(self) -> "Tensor":
        """|x| elementwise;  d/dx = sign(x) (0 at 0)."""
        return ew.Abs.apply(self)

    def __abs__(self) -> "Tensor":
        return self.abs()

    def tanh(self) -> "Tensor":
        """tanh(x) elementwise;  d/dx = 1 - tanh(x)**2."""
        return ew.Tanh.apply(self)

    def sigmoid(self) -> "Tensor":
        """1 / (1 + exp(-x)) elementwise, stable at both tails;  d/dx = s (1 - s)."""
        return ew.Sigmoid.apply(self)

    def relu(self) -> "Tensor":
        """max(x, 0) elementwise;  d/dx = 1 where x > 0, else 0."""
        return ew.ReLU.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> "Tensor":
        """x where x > 0, else negative_slope * x."""
        return ew.LeakyReLU.apply(self, negative_slope=negative_slope)

    def clip(self, lo: Any, hi: Any) -> "Tensor":
        """x limited to [lo, hi] (either may be None);  the gradient passes where lo <= x <= hi.

        Bounds are numbers, ndarrays (constants) or Tensors; a Tensor bound gets the gradient
        where x is beyond it, as in PyTorch's ``clamp``. An integer or bool tensor with a float
        bound gives the default float dtype, as in PyTorch (``clip(1.5, 2.5)`` of ``[1, 2, 3]``
        is ``[1.5, 2., 2.5]``, not ints)."""
        if isinstance(lo, Tensor) or isinstance(hi, Tensor):
            return _clip_between_tensors(self, lo, hi)
        x = self
        float_bound = _is_float(lo) or _is_float(hi)
        if self.data.dtype.kind in "iub" and float_bound:
            x = _wrap(self.data.astype(STATE.default_dtype))
        elif self.data.dtype.kind == "b":
            x = _wrap(self.data.astype(np.int64))  # bool with int bounds: int64 (PyTorch's promotion)
        return ew.Clip.apply(x, lo=lo, hi=hi)

    # --- reductions ---------------------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """Sum over ``axis`` (None: all; int, negative int or tuple), numpy's ``keepdims``."""
        if pytorch_words:
            _refuse_pytorch_words("sum", pytorch_words, ("dim", "keepdim"))
        return red.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """sum / n, where n is the number of elements reduced (nan for none, as in PyTorch)."""
        if pytorch_words:
            _refuse_pytorch_words("mean", pytorch_words, ("dim", "keepdim"))
        if self.data.dtype == np.float16:  # summed and divided in float32, as PyTorch does: n > 65504 is inf
            return self.astype(np.float32).mean(axis, keepdims).astype(np.float16)
        return red.Mean.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0, **pytorch_words: Any) -> "Tensor":
        """mean of squared deviations, sum((x - mean)**2) / (n - ddof); ddof=0 like numpy."""
        if pytorch_words:
            _refuse_pytorch_words("var", pytorch_words, ("dim", "keepdim", "unbiased", "correction"))
        n = red.count(self.shape, axis, "var")
        if n - ddof <= 0:
            raise ValueError(f"var: {n} element(s) reduced with ddof={ddof}; need more than ddof")
        if self.data.dtype == np.float16:  # in float32, as PyTorch computes it: n > 65504 is inf in float16
            return self.astype(np.float32).var(axis, keepdims, ddof).astype(np.float16)
        centered = self - self.mean(axis, keepdims=True)
        return (centered * centered).sum(axis, keepdims) / (n - ddof)

    def max(self, axis: Axis = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """Largest value over ``axis``; the gradient is split evenly between tied maxima."""
        if pytorch_words:
            _refuse_pytorch_words("max", pytorch_words, ("dim", "keepdim"))
        if isinstance(axis, (Tensor, np.ndarray)):
            raise TypeError(_elementwise_hint("max", "maximum", axis))
        return red.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """Smallest value over ``axis``; the gradient is split evenly between tied minima."""
        if pytorch_words:
            _refuse_pytorch_words("min", pytorch_words, ("dim", "keepdim"))
        if isinstance(axis, (Tensor, np.ndarray)):
            raise TypeError(_elementwise_hint("min", "minimum", axis))
        return red.Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """log(sum(exp(x))) over ``axis``, computed without overflow;  d/dx = softmax(x)."""
        if pytorch_words:
            _refuse_pytorch_words("logsumexp", pytorch_words, ("dim", "keepdim"))
        return red.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1, **pytorch_words: Any) -> "Tensor":
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the max for stability."""
        if pytorch_words:
            _refuse_pytorch_words("softmax", pytorch_words, ("dim",))
        return nnops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1, **pytorch_words: Any) -> "Tensor":
        """x - logsumexp(x) along ``axis``: the stable log of softmax."""
        if pytorch_words:
            _refuse_pytorch_words("log_softmax", pytorch_words, ("dim",))
        return nnops.LogSoftmax.apply(self, axis=axis)

    # --- shape --------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> "Tensor":
        """The same elements in a new shape: ``reshape(2, 3)`` or ``reshape((2, 3))``; -1 infers one axis."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return sh.Reshape.apply(self, shape=shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        """The axes from ``start_dim`` to ``end_dim`` in one, as PyTorch's ``flatten``: by default
        all elements in one axis (a 0-d tensor gives one element)."""
        start = _axis_arg(self, start_dim, self.ndim, "flatten")  # (a 0-d tensor has the one place 0)
        end = _axis_arg(self, end_dim, self.ndim, "flatten")
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(
                f"flatten: start_dim={start_dim} comes after end_dim={end_dim} "
                f"for a tensor of shape {self.shape}"
            )
        shape = self.shape
        return self.reshape(shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])

    def transpose(self, *axes: Any) -> "Tensor":
        """Axes permuted as numpy's transpose; no arguments reverses them.

        Two axes are PyTorch's spelling for swapping them: on a matrix ``x.transpose(0, 1)`` is the
        order the axes already have, so it warns (nothing moves); on another number of axes it is
        refused, naming ``swapaxes``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            _check_two_axes(self, axes)
        return sh.Transpose.apply(self, axes=axes or None)

    def swapaxes(self, axis1: int, axis2: int) -> "Tensor":
        """Two axes swapped, the others kept (numpy's ``swapaxes``, PyTorch's ``transpose(a, b)``)."""
        order = list(range(self.ndim))
        a, b = _axis_arg(self, axis1, self.ndim, "swapaxes"), _axis_arg(self, axis2, self.ndim, "swapaxes")
        order[a], order[b] = order[b], order[a]
        return sh.Transpose.apply(self, axes=tuple(order))

    def broadcast_to(self, shape: Sequence[int]) -> "Tensor":
        """The tensor repeated along new or size-1 axes to ``shape`` (numpy's broadcasting rules)."""
        return sh.BroadcastTo.apply(self, shape=tuple(shape))

    def __getitem__(self, index: Any) -> "Tensor":
        return sh.GetItem.apply(self, index=sh.normalize_index(index))

    # --- PyTorch's spellings ------------------------------------------------------------------
    # The names a PyTorch user reaches for, each a line or two over the methods above.

    def view(self, *shape: Any) -> "Tensor":
        """PyTorch's ``view``: ``reshape``, as a numpy array needs no contiguous memory to be reshaped."""
        try:
            return self.reshape(*shape)
        except autograd.OpError as exc:
            args = ", ".join(map(repr, shape))
            raise type(exc)(
                f"view({args}): cannot view a tensor of shape {self.shape} ({self.size} elements) that way: "
                f"{exc.__cause__ or exc}; expected sizes whose product is {self.size} (one of them may be -1)"
            ) from None

    def unsqueeze(self, axis: Optional[int] = None, **pytorch_words: Any) -> "Tensor":
        """PyTorch's ``unsqueeze``: a new size-1 axis at ``axis``, in [-ndim-1, ndim] (0: ``x[None]``)."""
        if pytorch_words:
            _refuse_pytorch_words("unsqueeze", pytorch_words, ("dim",))
        if axis is None:  # (a default only so that dim= reaches the line above)
            raise TypeError(
                "Tensor.unsqueeze() missing its argument axis: the place of the new axis, x.unsqueeze(0)"
            )
        a = _axis_arg(self, axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:a] + (1,) + self.shape[a:])

    def squeeze(self, axis: Axis = None, **pytorch_words: Any) -> "Tensor":
        """PyTorch's ``squeeze``: size-1 axes (all, or in ``axis``) removed; others kept, not an error."""
        if pytorch_words:
            _refuse_pytorch_words("squeeze", pytorch_words, ("dim",))
        named = range(self.ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
        axes = {_axis_arg(self, a, self.ndim, "squeeze") for a in named}
        return self.reshape(tuple(s for i, s in enumerate(self.shape) if not (i in axes and s == 1)))

    def clamp(self, min: Optional[float] = None, max: Optional[float] = None) -> "Tensor":
        """PyTorch's ``clamp``: ``clip(min, max)``; with neither bound it raises, as PyTorch does."""
        if min is None and max is None:
            raise ValueError(
                f"clamp: min and max are both None (tensor of shape {self.shape}, {self.dtype}); "
                "expected at least one bound, e.g. x.clamp(min=0.0)"
            )
        return self.clip(min, max)

    def argmax(self, axis: Optional[int] = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """PyTorch's ``argmax``: int64 index of the (first) largest value over ``axis``, or flat; no grad."""
        if pytorch_words:
            _refuse_pytorch_words("argmax", pytorch_words, ("dim", "keepdim"))
        return _arg_reduce(self, np.argmax, axis, keepdims, "argmax")

    def argmin(self, axis: Optional[int] = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """PyTorch's ``argmin``: int64 index of the (first) smallest value over ``axis``, or flat; no grad."""
        if pytorch_words:
            _refuse_pytorch_words("argmin", pytorch_words, ("dim", "keepdim"))
        return _arg_reduce(self, np.argmin, axis, keepdims, "argmin")

    def any(self, axis: Optional[int] = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """True where any element over ``axis`` (or of the tensor) is nonzero: a bool tensor, no grad."""
        if pytorch_words:
            _refuse_pytorch_words("any", pytorch_words, ("dim", "keepdim"))
        return _bool_reduce(self, np.any, axis, keepdims, "any")

    def all(self, axis: Optional[int] = None, keepdims: bool = False, **pytorch_words: Any) -> "Tensor":
        """True where every element over ``axis`` (or of the tensor) is nonzero: a bool tensor, no grad."""
        if pytorch_words:
            _refuse_pytorch_words("all", pytorch_words, ("dim", "keepdim"))
        return _bool_reduce(self, np.all, axis, keepdims, "all")

    def isnan(self) -> "Tensor":
        """PyTorch's ``isnan``: True where an element is NaN (``np.isnan``); a bool tensor, no grad."""
        return _wrap(np.asarray(np.isnan(self.data)))

    def isfinite(self) -> "Tensor":
        """PyTorch's ``isfinite``: True where an element is neither NaN nor ±Inf; a bool tensor, no grad."""
        return _wrap(np.asarray(np.isfinite(self.data)))

    def numel(self) -> int:
        """PyTorch's ``numel``: the number of elements (``size`` here, as in numpy)."""
        return int(self.data.size)

    def dim(self) -> int:
        """PyTorch's ``dim()``: the number of axes (``ndim`` here, as in numpy)."""
        return self.data.ndim

    def t(self) -> "Tensor":
        """PyTorch's ``t()``: the transpose of a matrix; a 0-d or 1-d tensor comes back as it is."""
        if self.ndim > 2:
            raise ValueError(
                f"t: expected a tensor with at most 2 axes, got shape {self.shape}; for more axes give "
                "their order, x.transpose(0, 2, 1) (PyTorch: x.permute(0, 2, 1))"
            )
        return self.transpose()

    def permute(self, *dims: Any) -> "Tensor":
        """PyTorch's ``permute``: ``transpose`` with the order of all the axes, ``x.permute(1, 0)``."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ValueError(
                f"permute: got the order {dims} for a tensor of shape {self.shape}; expected an order "
                f"of all its {self.ndim} axes"
            )
        return self.transpose(*dims)

    def expand(self, *sizes: Any) -> "Tensor":
        """PyTorch's ``expand``: ``broadcast_to(sizes)``, where -1 keeps that axis's size."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        new = len(sizes) - self.ndim  # leading axes that are added
        if new < 0:
            raise ValueError(
                f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {self.shape}; "
                f"expected at least {self.ndim}"
            )
        shape = tuple(self.shape[i - new] if n == -1 and i >= new else n for i, n in enumerate(sizes))
        if any(not isinstance(n, (int, np.integer)) or n < 0 for n in shape):
            raise ValueError(
                f"expand: sizes {sizes} for a tensor of shape {self.shape}: -1 keeps an existing axis, "
                "so a new leading axis needs its size"
            )
        return self.broadcast_to(shape)

    def masked_fill(self, mask: Any, value: float) -> "Tensor":
        """PyTorch's ``masked_fill``: ``value`` where the bool ``mask`` is true, else the tensor; the
        gradient flows to the elements that were kept. ``tg.where(mask, value, x)``."""
        mask_dtype = np.asarray(mask.data if isinstance(mask, Tensor) else mask).dtype
        if mask_dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be a bool array, got dtype {mask_dtype} (mask > 0?)")
        given = np.asarray(value)
        with np.errstate(over="ignore", invalid="ignore"):
            converted = given.astype(self.dtype)  # x's dtype, as in PyTorch (1.5 into int: 1)
        if given.ndim == 0 and given.dtype.kind in "iuf" and not _fits(given, self.dtype):
            raise OverflowError(
                f"masked_fill: the value {value!r} does not fit in the tensor's dtype {self.dtype} (shape "
                f"{self.shape}), as PyTorch refuses too; convert the tensor first, e.g. x.astype(np.float64)"
            )
        out = where(mask, Tensor(converted), self)
        if out.shape != self.shape:
            raise ValueError(
                f"masked_fill: a mask of shape {np.shape(mask)} would change the shape {self.shape}; "
                "expected a mask that broadcasts to the tensor's shape"
            )
        return out

    def clone(self) -> "Tensor":
        """PyTorch's ``clone``: a copy in a new array, recorded: the gradient flows back to the original."""
        return self.astype(self.dtype)

    def copy(self) -> "Tensor":
        """numpy's name for ``clone``, so that ``grad.copy()`` in a backward works on ndarrays and Tensors."""
        return self.clone()

    def float(self) -> "Tensor":
        """PyTorch's ``float``: ``astype(np.float32)``, a recorded copy, even of a float32 x (PyTorch: x)."""
        return self.astype(np.float32)

    def double(self) -> "Tensor":
        """PyTorch's ``double``: ``astype(np.float64)``, a recorded copy, even of a float64 x (PyTorch: x)."""
        return self.astype(np.float64)

    def half(self) -> "Tensor":
        """PyTorch's ``half``: ``astype(np.float16)``, a recorded copy."""
        return self.astype(np.float16)

    def long(self) -> "Tensor":
        """PyTorch's ``long``: ``astype(np.int64)``, an integer copy with no gradient (as in PyTorch)."""
        return self.astype(np.int64)

    def int(self) -> "Tensor":
        """PyTorch's ``int``: ``astype(np.int32)``, an integer copy with no gradient."""
        return self.astype(np.int32)

    def bool(self) -> "Tensor":
        """PyTorch's ``bool``: ``astype(bool)``, True where nonzero; no gradient."""
        return self.astype(np.bool_)

    def cpu(self) -> "Tensor":
        """PyTorch's ``cpu``: the tensor itself, as numpy computes on the CPU only
        (so ``x.detach().cpu().numpy()`` works as written)."""
        return self

    def tolist(self) -> Any:
        """PyTorch's ``tolist``: the values as (nested lists of) Python numbers, as ``x.data.tolist()``."""
        return self.data.tolist()

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0, **pytorch_words: Any) -> "Tensor":
        """sqrt of ``var`` (numpy's ddof=0); PyTorch's ``std`` defaults to correction=1: ``std(ddof=1)``.

        d std/dx = (x - mean) / ((n - ddof) std), which is 0/0 where every element equals the
        mean (std = 0): there the derivative is 0, PyTorch's choice, not the NaN of sqrt'(0) × 0."""
        if pytorch_words:
            _refuse_pytorch_words("std", pytorch_words, ("dim", "keepdim", "unbiased", "correction"))
        n = red.count(self.shape, axis, "std")  # first: it names a bad axis
        if n - ddof <= 0:
            raise ValueError(f"std: {n} element(s) of shape {self.shape} reduced with ddof={ddof}; need more")
        var = self.var(axis, keepdims, ddof)
        positive = var.data > 0
        if positive.all():
            return var.sqrt()
        return where(positive, where(positive, var, 1.0).sqrt(), 0.0)  # sqrt never sees a 0

    def pow(self, exponent: Any) -> "Tensor":
        """PyTorch's ``pow``: ``x ** exponent`` (a number, an ndarray or a Tensor)."""
        return self ** exponent

    def zero_(self) -> "Tensor":
        """PyTorch's ``zero_``: ``data`` set to 0 in place (a leaf requiring grad: under ``no_grad()``)."""
        _check_in_place(self, "zero_")
        self.data[...] = 0
        autograd.mark_modified(self)  # a backward through an op recorded before now raises, as in PyTorch
        return self


# --- functions -------------------------------------------------------------------------------

_new_object = object.__new__


_NO_GRADIENT_ANSWERS = frozenset({
    "shape", "ndim", "size", "shares_memory", "may_share_memory",  # the shape and the memory
    "allclose", "isclose", "array_equal", "array_equiv", "any", "all", "count_nonzero",  # comparisons
    "argmax", "argmin", "argsort", "nonzero", "flatnonzero", "searchsorted", "unique", "histogram",
    "array2string", "array_repr", "array_str",
    "zeros_like", "ones_like", "empty_like", "full_like",  # arrays of the tensor's shape, not its values
})
"""numpy functions whose answer is no value to differentiate (a shape, a yes or no, indices, counts,
text, a constant of the tensor's shape): allowed on any tensor."""


def _requires_grad_in(value: Any) -> bool:
    """Whether ``value`` is, or a list, tuple or dict of ``value`` holds, a Tensor that requires grad."""
    if isinstance(value, Tensor):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(map(_requires_grad_in, value))
    if isinstance(value, dict):
        return any(map(_requires_grad_in, value.values()))
    return False


def _arrays_in(value: Any) -> Any:
    """``value`` with each Tensor, also inside lists and tuples, replaced by its array."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(map(_arrays_in, value))
    return value


def _numpy_function_message(name: str, args: tuple) -> str:
    """What to write instead of ``np.<name>(...)`` on a Tensor that requires grad."""
    shapes = ", ".join(f"shape {a.shape} {a.dtype}" for a in args if isinstance(a, Tensor))
    if name in ("dot", "matmul", "inner", "vdot"):
        instead = "the @ operator (np.dot(X, W.T) is X @ W.T)"
    elif name == "expand_dims":  # (.reshape works on ndarrays too: a backward on either can use it)
        instead = "t.unsqueeze(axis), or .reshape with a 1 at the axis"
    elif name in ("where", "concatenate", "stack", "maximum", "minimum"):
        instead = f"tg.{name}(...)"
    elif hasattr(Tensor, name):
        instead = f"the Tensor method: t.{name}(...)"
    else:
        instead = "the Tensor's operations (arithmetic, @, .sum, .reshape, tg.where, ...)"
    return (
        f"np.{name} was given a Tensor that requires grad ({shapes or 'inside a list'}): numpy computes "
        f"on the arrays and returns an ndarray, so the result would be cut off from the graph and the "
        f"tensor's gradient would be missing, with no error. Write it with {instead}; for the values "
        "alone, pass t.detach().numpy() (or t.data)"
    )


def _check_two_axes(t: Tensor, axes: tuple[Any, ...]) -> None:
    """``t.transpose(a, b)`` written as in PyTorch (swap two axes), where numpy's transpose takes the
    order of all the axes: on a matrix the identity order warns, on any other shape it is refused."""
    a, b = (int(x) for x in axes)
    if t.ndim == 2:
        if a % 2 == 0 and b % 2 == 1 and -2 <= min(a, b) and max(a, b) <= 1:
            warnings.warn(
                f"transpose({a}, {b}) of a matrix (shape {t.shape}) keeps its axes in their order: "
                "transpose takes the order of all the axes, as numpy's does, so nothing moves. To swap "
                f"them, as PyTorch's transpose({a}, {b}) does, write x.T or x.swapaxes({a}, {b})",
                stacklevel=3,
            )
        return
    raise ValueError(
        f"transpose({a}, {b}) of a tensor of shape {t.shape}: transpose takes the order of all its "
        f"{t.ndim} axes, as numpy's does; to swap two axes, as PyTorch's transpose({a}, {b}) does, write "
        f"x.swapaxes({a}, {b})"
    )


def _non_leaf_grad_message(t: Tensor) -> str:
    return (
        f"Tensor.grad of a tensor made by {type(t._ctx).__name__} (shape {t.shape}) is None: backward fills "
        "the .grad of leaves only, the tensors created with requires_grad=True. Was a parameter rebound, "
        "as in w = w - lr * w.grad? Update it in place instead: with tg.no_grad(): w -= lr * w.grad. For "
        "the gradient of an intermediate, use tg.grad(loss, [h]), or see it in viz.draw_graph(loss)"
    )


def _elementwise_hint(name: str, pair: str, other: Any) -> str:
    """``x.max(other)``: PyTorch's elementwise maximum of two tensors; here max takes an axis."""
    return (
        f"x.{name}(other) with a tensor or array of shape {np.shape(other)}: {name} takes an axis here, "
        f"as numpy's does; for the elementwise {pair} of two tensors (PyTorch's x.{name}(other)), write "
        f"tg.{pair}(x, other)"
    )


def _refuse_grad(t: Tensor, value: Any) -> NoReturn:
    """``t.grad = value`` for a value that is not a Tensor of t's shape and dtype."""
    where = f"Tensor.grad: the tensor has shape {t.shape} ({t.dtype}), and the grad assigned"
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{where} is of type {type(value).__name__}; expected a Tensor or None, e.g. t.grad = "
            "Tensor(array)"
        )
    kind = ValueError if value.shape != t.shape else TypeError
    raise kind(
        f"{where} has shape {value.shape} ({value.dtype}); it must have the tensor's shape and dtype, "
        f"e.g. t.grad = Tensor(array.astype(np.{t.dtype}).reshape{t.shape})"
    )


def _wrap(data: np.ndarray) -> Tensor:
    """An ndarray as a Tensor that needs no gradient, without any checks or copy: the engine's
    way to wrap the arrays it made itself (a plain function: a classmethod call costs a third more)."""
    t = _new_object(Tensor)
    t.data = data
    t._grad = t._ctx = t.name = None
    t.requires_grad = False
    t._version = 0
    return t


def _zero_grad_in_place(t: Tensor) -> None:
    """``zero_grad(set_to_none=False)`` for one tensor: its ``grad`` array filled with zeros in place
    (a reference to the old ``grad`` then sees the zeros), as PyTorch does."""
    if t.grad is None:
        return
    if t.grad.data.flags.writeable:
        t.grad.data[...] = 0
    else:
        t.grad = _wrap(np.zeros_like(t.grad.data))


# PyTorch's keyword -> numpy's, for _refuse_pytorch_words (unbiased=True is ddof=1, correction=c is ddof=c)
_NUMPY_WORDS = {"dim": "axis", "keepdim": "keepdims", "unbiased": "ddof", "correction": "ddof"}


def _refuse_pytorch_words(method: str, given: dict[str, Any], known: tuple[str, ...], call: str = "") -> None:
    """A TypeError for PyTorch's keywords (``x.sum(dim=1, keepdim=True)``) given to a method that
    takes numpy's: it says what to write. Any other keyword gets Python's own message.
    ``call`` is how the call starts (default ``x.method(``)."""
    where = method if call else f"Tensor.{method}"
    for word in given:
        if word not in known:
            raise TypeError(f"{where}() got an unexpected keyword argument {word!r}")
    written = [f"{_NUMPY_WORDS[w]}={int(bool(v)) if w == 'unbiased' else v!r}" for w, v in given.items()]
    note = ""
    if "unbiased" in known and not {"unbiased", "correction"} & set(given):
        written.append("ddof=1")  # PyTorch's var and std divide by n - 1 unless told otherwise
        note = " (PyTorch divides by n - 1 by default, numpy's ddof=0 by n)"
    pytorch = " and ".join(f"{w}=" for w in given)
    numpy = " and ".join(dict.fromkeys(f"{_NUMPY_WORDS[w]}=" for w in given))
    raise TypeError(
        f"{where} takes numpy's {numpy}, not PyTorch's {pytorch}: write "
        f"{call or f'x.{method}('}{', '.join(written)}){note}"
    )


def _axis_arg(t: Tensor, axis: Any, places: int, where: str) -> int:
    """``axis`` as an int in [0, places), from PyTorch's range [-places, places - 1] (one place for a
    0-d tensor), or a clear error."""
    places = max(places, 1)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{where}: axis must be an int, got {axis!r} ({type(axis).__name__})")
    if not -places <= axis < places:
        raise red.AxisError(
            f"{where}: axis {axis} is out of range for a tensor of shape {t.shape}; "
            f"expected an int from {-places} to {places - 1}"
        )
    return int(axis) % places


def _reduction_axis(t: Tensor, axis: Any, where: str) -> Optional[int]:
    """One axis of ``t`` as an int in [0, ndim), or None for all of them (PyTorch takes axis 0 or -1 of
    a 0-d tensor, which is all of it)."""
    if axis is None:
        return None
    axis = _axis_arg(t, axis, t.ndim, where)
    return axis if t.ndim else None


def _arg_reduce(t: Tensor, fn: Any, axis: Any, keepdims: bool, where: str) -> Tensor:
    """``argmax``/``argmin``: numpy's ``fn`` as an int64 tensor, never recorded (an index has no gradient)."""
    axis = _reduction_axis(t, axis, where)
    try:
        index = fn(t.data, axis=axis, keepdims=keepdims)
    except ValueError as exc:  # an empty tensor, or an empty axis
        raise ValueError(f"{where}: tensor of shape {t.shape}, axis={axis}: {exc}") from None
    return _wrap(np.asarray(index, dtype=np.int64))


def _bool_reduce(t: Tensor, fn: Any, axis: Any, keepdims: bool, where: str) -> Tensor:
    """``any``/``all``: numpy's ``fn`` as a bool tensor, never recorded (a truth value has no gradient)."""
    axis = _reduction_axis(t, axis, where)
    return _wrap(np.asarray(fn(t.data, axis=axis, keepdims=keepdims)))


def _describe(value: Any) -> str:
    """'shape (2, 3) float32' for a tensor or an array, the repr of anything else."""
    if isinstance(value, (Tensor, np.ndarray)):
        return f"shape {value.shape} {value.dtype}"
    return repr(value)


def _check_in_place(t: Tensor, where: str) -> None:
    """Refuse what PyTorch refuses in place, and what cannot be recorded here (a tensor inside a graph)."""
    if t._ctx is not None:
        raise RuntimeError(
            f"{where}: this tensor (shape {t.shape}, {t.dtype}) was made by {type(t._ctx).__name__} and "
            "is part of a graph, and this library does not record in-place ops; expected a leaf. "
            "For zeros of its shape use tg.zeros_like(x)"
        )
    if t.requires_grad and STATE.grad_enabled:
        raise RuntimeError(
            f"{where}: a leaf Variable that requires grad is being used in an in-place operation "
            f"(shape {t.shape}, {t.dtype}), as PyTorch says; do it inside `with tg.no_grad():`"
        )
    if not t.data.flags.writeable:
        raise ValueError(f"{where}: the array of this tensor (shape {t.shape}, {t.dtype}) is read-only")


_DEVICE = re.compile(r"(cpu|cuda|mps|xpu|hip|meta|xla|ipu|hpu|vulkan)(:\d+)?")


def _names_the_cpu(device: Any, where: str) -> bool:
    """Whether a ``to`` argument is PyTorch's CPU device ("cpu", "cpu:0", torch.device("cpu")):
    nothing to do. Another device is refused; anything else is taken for a dtype."""
    if type(device).__name__ == "device":  # a torch.device, without importing torch
        device = str(device)
    if not isinstance(device, str) or not _DEVICE.fullmatch(device):
        return False
    if device.split(":")[0] == "cpu":
        return True
    raise ValueError(
        f"{where}: there is no {device!r} device here: tinygrad_edu computes with numpy, on the CPU "
        f"only. Leave out the .to({device!r}), or use .to('cpu'), which changes nothing"
    )


def _is_float(bound: Any) -> bool:
    """Whether a clip bound is a float number or a float ndarray."""
    if isinstance(bound, np.ndarray):
        return bound.dtype.kind == "f"
    return isinstance(bound, (float, np.floating))


def _clip_between_tensors(x: Tensor, lo: Any, hi: Any) -> Tensor:
    """``clip`` with Tensor bounds: min(max(x, lo), hi), as PyTorch's ``clamp``. Written with
    ``where`` so that ties go to x: x gets the gradient where lo <= x <= hi, a bound where x is
    beyond it (``maximum`` would split a tie). Where x or a bound is NaN the result is NaN and
    no gradient passes, as in PyTorch."""
    clipped = x
    if lo is not None:
        clipped = where(clipped < lo, lo, clipped)
    if hi is not None:
        clipped = where(clipped > hi, hi, clipped)
    nan = np.zeros(clipped.shape, bool)  # (x < lo is False for a NaN on either side: where kept x)
    for t in (x, lo, hi):  # (a bound may be a Tensor, a number or an ndarray)
        values = t.data if isinstance(t, Tensor) else np.asarray(t) if t is not None else None
        if values is not None and values.dtype.kind == "f":
            nan |= np.isnan(values)
    return clipped.masked_fill(Tensor(nan), np.nan) if nan.any() else clipped


def _true_division(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Integer / integer gives the default float dtype (PyTorch's rule; numpy's is float64)."""
    if a.data.dtype.kind in "iub" and b.data.dtype.kind in "iub":
        dtype = STATE.default_dtype
        return _wrap(a.data.astype(dtype)), _wrap(b.data.astype(dtype))
    return a, b


def _shape_arg(shape: tuple[Any, ...], where: str) -> tuple[int, ...]:
    """``(2, 3)`` from ``f(2, 3)`` or ``f((2, 3))``; every size an int >= 0, or a clear error."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for size in shape:
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"{where}: sizes must be ints, got {size!r} ({type(size).__name__}) in {shape}")
        if size < 0:
            raise ValueError(f"{where}: shape {tuple(shape)} has a negative size {size}; sizes are ints >= 0")
    return tuple(int(size) for size in shape)


def _dtype_arg(dtype: Any, where: str) -> np.dtype:
    try:
        return np.dtype(dtype or STATE.default_dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype {dtype!r} is not a numpy dtype (such as np.float32)") from None


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``, in the default dtype unless ``dtype``."""
    return Tensor(np.zeros(_shape_arg(shape, "zeros"), dtype=_dtype_arg(dtype, "zeros")), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``, in the default dtype unless ``dtype``."""
    return Tensor(np.ones(_shape_arg(shape, "ones"), dtype=_dtype_arg(dtype, "ones")), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the library's Generator (see ``manual_seed``)."""
    data = STATE.rng.standard_normal(_shape_arg(shape, "randn")).astype(_dtype_arg(dtype, "randn"))
    return Tensor(data, requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the library's Generator."""
    data = STATE.rng.random(_shape_arg(shape, "rand")).astype(_dtype_arg(dtype, "rand"))
    return Tensor(data, requires_grad)


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def concatenate(tensors: Sequence[Any], axis: int = 0, **pytorch_words: Any) -> Tensor:
    """Join tensors along an existing axis (numpy.concatenate)."""
    if pytorch_words:
        _refuse_pytorch_words("tg.concatenate", pytorch_words, ("dim",), "tg.concatenate(tensors, ")
    if len(tensors) == 0:
        raise ValueError("concatenate: expected at least one tensor, got none")
    return sh.Concatenate.apply(*[_as_tensor(t) for t in tensors], axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0, **pytorch_words: Any) -> Tensor:
    """Join same-shaped tensors along a new axis (numpy.stack)."""
    if pytorch_words:
        _refuse_pytorch_words("tg.stack", pytorch_words, ("dim",), "tg.stack(tensors, ")
    if len(tensors) == 0:
        raise ValueError("stack: expected at least one tensor, got none")
    return sh.Stack.apply(*[_as_tensor(t) for t in tensors], axis=axis)


def cat(tensors: Sequence[Any], axis: int = 0, **pytorch_words: Any) -> Tensor:
    """PyTorch's ``torch.cat``: ``concatenate`` (numpy's name), joining tensors along an existing axis."""
    if pytorch_words:
        _refuse_pytorch_words("tg.cat", pytorch_words, ("dim",), "tg.cat(tensors, ")
    return concatenate(tensors, axis)


def zeros_like(t: Any) -> Tensor:
    """PyTorch's ``torch.zeros_like``: zeros of ``t``'s shape and dtype, not requiring grad."""
    return _wrap(np.zeros_like(_as_tensor(t).data))


def ones_like(t: Any) -> Tensor:
    """PyTorch's ``torch.ones_like``: ones of ``t``'s shape and dtype, not requiring grad."""
    return _wrap(np.ones_like(_as_tensor(t).data))


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """PyTorch's ``torch.arange``: start, start + step, ... < stop; int64 for ints, else default float."""
    if stop is None:
        start, stop = 0, start
    for value in (start, stop, step):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(
                "arange: start, stop and step must be numbers, "
                f"got {type(value).__name__} {value!r}"
            )
    if step == 0:
        raise ValueError("arange: step must not be 0")
    ints = all(isinstance(v, numbers.Integral) for v in (start, stop, step))
    if dtype is None:
        dtype = np.int64 if ints else STATE.default_dtype
    target = _dtype_arg(dtype, "arange")
    # floats are computed in float64 and then rounded, as PyTorch computes start + i * step in double
    values = np.arange(start, stop, step, dtype=target if target.kind in "iu" else np.float64)
    return Tensor(values.astype(target, copy=False))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` is true, else ``b``; the condition gets no gradient."""
    # A copy: the caller may change their array before backward, which reads it.
    c = np.array(cond.data if isinstance(cond, Tensor) else cond)
    if c.dtype != np.bool_:
        raise TypeError(f"where: the condition must be a bool array, got dtype {c.dtype}")
    if type(a) in _NUMBERS and type(b) in _NUMBERS:
        a, b = _number_pair(a, b)  # where(c, 1, 0) is int64, as in PyTorch
    ta = _as_tensor(a)
    tb = ta._operand(b) if not isinstance(b, Tensor) else b
    if not isinstance(a, Tensor):
        ta = tb._operand(a)
    return ew.Where.apply(ta, tb, cond=c)


_NUMBERS = (bool, int, float)


def _number_pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two Python numbers as tensors of PyTorch's dtype for them: bool for two bools, int64 for
    ints (and bools), else the default float dtype."""
    kinds = {type(a), type(b)}
    dtype = np.bool_ if kinds == {bool} else np.int64 if float not in kinds else STATE.default_dtype
    return Tensor(np.asarray(a, dtype=dtype)), Tensor(np.asarray(b, dtype=dtype))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; on ties the gradient is split evenly."""
    ta = _as_tensor(a) if isinstance(a, Tensor) or not isinstance(b, Tensor) else b._operand(a)
    return ew.Maximum.apply(ta, ta._operand(b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; on ties the gradient is split evenly."""
    ta = _as_tensor(a) if isinstance(a, Tensor) or not isinstance(b, Tensor) else b._operand(a)
    return ew.Minimum.apply(ta, ta._operand(b))


class _CallableModule(types.ModuleType):
    """This module, callable: ``tg.tensor(data, requires_grad=True)`` is ``tg.Tensor(data, ...)``,
    so the call a PyTorch user writes (``torch.tensor(...)``) works too. A list of ints still
    becomes the default float dtype, as ``Tensor`` makes it (int64 in PyTorch)."""

    __call__ = staticmethod(Tensor)


sys.modules[__name__].__class__ = _CallableModule

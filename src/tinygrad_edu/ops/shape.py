"""Ops that move elements without changing them: reshape, transpose, broadcast, index, join.

Their backward moves the gradient back to where each element came from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu.autograd import Function, OpIndexError, run


class Reshape(Function):
    """x with a new shape (same elements, same order);  the gradient is reshaped back."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        return x.reshape(shape)

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


class Transpose(Function):
    """x with its axes permuted (reversed when axes is None);  the gradient gets the inverse permutation."""

    def forward(self, x: np.ndarray, axes: Any = None) -> np.ndarray:
        self.save_for_backward(axes)
        return x.T if axes is None else x.transpose(axes)  # numpy checks that axes is a permutation

    def backward(self, grad):
        (axes,) = self.saved
        if axes is None:
            return grad.transpose()
        return grad.transpose(*np.argsort([int(a) % grad.ndim for a in axes]).tolist())


SMALL = 4096  # elements: below this, BroadcastTo copies instead of making a view


class BroadcastTo(Function):
    """x repeated along new or size-1 axes;  the engine sums the gradient back (adjoint of broadcast)."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        if math.prod(shape) > SMALL:
            return np.broadcast_to(x, shape)  # a read-only view: no copy of a large array
        # Small arrays: filling a new array costs a tenth of np.broadcast_to's Python-level work.
        out = np.empty(shape, dtype=x.dtype)
        out[...] = x
        return out

    def backward(self, grad):
        return grad


def normalize_index(index: Any) -> Any:
    """Replace Tensors, lists and ndarrays inside an index by ndarrays of its own, so numpy indexes
    with them and a change to the caller's array before backward (which reads the index) is not seen."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if hasattr(index, "data") and isinstance(index.data, np.ndarray):
        return _integer_index(index.data.copy(), "a Tensor")
    if isinstance(index, (list, np.ndarray)):
        return _integer_index(np.array(index), f"a {type(index).__name__}")
    return index


def _integer_index(index: np.ndarray, given: str) -> np.ndarray:
    """An array index must hold integers or bools. A Tensor made from a list of ints holds floats
    (the default float dtype, as every list becomes), where PyTorch's torch.tensor([0, 2]) is int64."""
    if index.dtype.kind not in "fc":
        return index
    shown = np.array2string(index, threshold=6)
    way_out = "convert it to integers, e.g. np.asarray(index).astype(np.int64)"
    if given == "a Tensor":
        way_out = (
            "a list of numbers becomes a float tensor here, Tensor([0, 2]) included, so index with the "
            "list itself, x[[0, 2]], an integer array, x[np.array([0, 2])], or an integer tensor, "
            "Tensor([0, 2], dtype=np.int64) (or t.long())"
        )
    raise OpIndexError(
        f"GetItem: the index is {given} of dtype {index.dtype} (shape {index.shape}, {shown}); indices must "
        f"be integers or bools: {way_out}"
    )


def _has_int_array(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in items)


class GetItem(Function):
    """x[index] (ints, slices, None, ..., integer arrays, boolean masks);
    the gradient is scattered back, adding up where an index repeats."""

    def forward(self, x: np.ndarray, index: Any = None) -> np.ndarray:
        self.save_for_backward(index)
        out = x[index]
        return out if isinstance(out, np.ndarray) else np.asarray(out)

    def backward(self, grad):
        (index,) = self.saved
        x = self.inputs[0]
        return run(ScatterAdd, grad, index=index, shape=x.shape)


class ScatterAdd(Function):
    """zeros(shape) with g added at index: the backward of GetItem;  its own backward is g = grad[index]."""

    def forward(self, g: np.ndarray, index: Any = None, shape: tuple[int, ...] = ()) -> np.ndarray:
        self.save_for_backward(index)
        out = np.zeros(shape, dtype=g.dtype)
        if _has_int_array(index):
            np.add.at(out, index, g)  # unbuffered: a repeated index accumulates
        else:
            out[index] = g  # slices and masks never repeat an element
        return out

    def backward(self, grad):
        (index,) = self.saved
        return run(GetItem, grad, index=index)


class Concatenate(Function):
    """Tensors joined along an existing axis;  each input gets its slice of the gradient."""

    promotes = True

    def forward(self, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        out = np.concatenate(arrays, axis=axis)
        ax = axis % out.ndim
        bounds = np.cumsum([0] + [a.shape[ax] for a in arrays])
        self.save_for_backward(ax, bounds)
        return out

    def backward(self, grad):
        ax, bounds = self.saved
        lead = (slice(None),) * ax
        return tuple(
            grad[lead + (slice(int(lo), int(hi)),)] if need else None
            for lo, hi, need in zip(bounds[:-1], bounds[1:], self.needs_input_grad)
        )


class Stack(Function):
    """Same-shaped tensors joined along a new axis;  input i gets the gradient's slice i."""

    promotes = True

    def forward(self, *arrays: np.ndarray, axis: int = 0) -> np.ndarray:
        out = np.stack(arrays, axis=axis)
        self.save_for_backward(axis % out.ndim)
        return out

    def backward(self, grad):
        (ax,) = self.saved
        lead = (slice(None),) * ax
        return tuple(
            grad[lead + (i,)] if need else None for i, need in enumerate(self.needs_input_grad)
        )

"""Hypothesis strategies for the op tests: shapes, and seeded random data to fill them.

Shapes come from ``hypothesis.extra.numpy`` (``array_shapes``,
``mutually_broadcastable_shapes``); every strategy here yields a *tuple of
shapes*, one per input of an op. The numbers themselves are standard normal
draws from a seeded ``np.random.Generator``: hypothesis picks the seed, so a
failure is reproducible, and random normals have no ties and no exact zeros
(the op table moves them away from kinks where that matters).

Sizes stay small (at most 3 axes of at most 4) because ``gradcheck`` builds
full Jacobians: one backward per output element, two forwards per input element.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

Shape = tuple[int, ...]

MAX_DIMS = 3
MAX_SIDE = 4

seeds = st.integers(min_value=0, max_value=2**32 - 1)
"""Seeds for ``random_arrays``."""


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE):
    """One array shape (no empty axes unless ``min_side=0``)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def same_shapes(n: int = 1, **kwargs) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``n`` copies of one shape: inputs of an op that does not broadcast."""
    return shapes(**kwargs).map(lambda s: (s,) * n)


def broadcastable_shapes(
    n: int = 2, min_dims: int = 0, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE
) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``n`` shapes that broadcast together, e.g. ((3, 1), (2, 1, 4)) or ((), (2,))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda b: b.input_shapes)


def matmul_shapes(signature: str, min_dims: int = 0, max_dims: int = 0, max_side: int = MAX_SIDE):
    """Operand shapes for ``a @ b`` from a gufunc signature.

    ``"(n,k),(k,m)->(n,m)"`` gives matrices, ``"(k),(k,m)->(m)"`` a vector times
    a matrix, and numpy's own ``np.matmul.signature`` (optional ``n?``, ``m?``)
    every case. ``min_dims``/``max_dims`` count the batch axes, which broadcast.
    """
    return hnp.mutually_broadcastable_shapes(
        signature=signature, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda b: b.input_shapes)


def concatenable_shapes(n: int, axis: int, max_dims: int = MAX_DIMS) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``n`` shapes equal except along ``axis``, as ``concatenate`` needs."""
    min_dims = axis + 1 if axis >= 0 else -axis

    def build(base: Shape, sizes: list[int]) -> tuple[Shape, ...]:
        ax = axis % len(base)
        return tuple(base[:ax] + (k,) + base[ax + 1 :] for k in sizes)

    sizes = st.lists(st.integers(1, MAX_SIDE), min_size=n, max_size=n)
    return st.builds(build, shapes(min_dims=min_dims, max_dims=max_dims), sizes)


def shapes_with_ones(min_dims: int = 0, max_dims: int = MAX_DIMS) -> st.SearchStrategy[tuple[Shape]]:
    """One shape whose axes are often 1, to be broadcast to a bigger shape."""
    side = st.sampled_from([1, 1, 2, 3])
    return st.lists(side, min_size=min_dims, max_size=max_dims).map(lambda s: (tuple(s),))


def leading(size: int, rest: st.SearchStrategy[Shape]) -> st.SearchStrategy[tuple[Shape]]:
    """One shape whose first axis is exactly ``size`` (for fixed index arrays)."""
    return rest.map(lambda s: ((size,) + s,))


def random_arrays(seed: int, input_shapes: Sequence[Shape]) -> list[np.ndarray]:
    """Standard normal float64 arrays of the given shapes, from one seeded Generator."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in input_shapes]

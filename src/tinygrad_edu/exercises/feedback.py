"""Feedback that finds the bug: compare a student's numbers with the expected ones and name the mistake.

``compare(what, yours, expected, ...)`` returns the lines of one failed check:
where (which input or value, which element), your value and the expected
(numerical) one, and which common mistake the difference matches:

    off by the upstream gradient   yours * upstream == expected    (forgot to multiply by grad)
    transposed                     yours.T == expected
    a missing transpose (.T)       (named by the checks) a product in the backward whose shapes do not fit
    missing broadcast reduction    yours.sum(broadcast axes) == expected
    forgotten keepdims             yours has expected's shape without its size-1 axes
    a kept axis (keepdims=True)    yours has expected's shape with extra size-1 axes
    summed over the wrong axis     yours == expected summed/broadcast another way
    sign                           yours == -expected
    factor 2                       yours == 2 * expected or expected / 2
    overwritten, not accumulated   yours == one use's share of a reused input's gradient
    off by one step                yours == the expected value one step earlier or later

each with a hint. The value relations (sign, factor 2, a constant factor)
are named only when no other mistake matches. ``hints`` says which mistakes
can be the cause in a check and how to explain them: the default, ``HINTS``,
is for gradients; an optimizer's update or a learning rate passes its own
(``{}`` for none), so that no hint about derivatives is given where there is
no derivative. The exercises' checks call it; a teacher adding an exercise
uses it the same way.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

RTOL, ATOL = 1e-4, 1e-7

HINTS: dict[str, tuple[str, str]] = {
    "upstream": (
        "off by the upstream gradient",
        "multiply the local derivative by grad, the gradient that reached the op's output (chain rule)",
    ),
    "transposed": (
        "transposed",
        "a gradient has the shape of its input; check which side of @ each factor goes and which needs .T",
    ),
    "missing_T": (
        "a missing transpose (.T), or the factors of @ in the wrong order",
        "a gradient has the shape of its input: write down the shapes of grad and of each input, then "
        "choose the order of the factors and the .T that give it (grad_a = grad @ b.T for out = a @ b)",
    ),
    "broadcast": (
        "missing broadcast reduction",
        "the input was broadcast: sum the gradient over the broadcast axes, .sum(axis=..., keepdims=...), "
        "so it gets the input's shape",
    ),
    "kept_axis": (
        "a summed axis kept (keepdims=True) that the input does not have",
        "sum without keepdims, grad.sum(axis=0) for a bias of shape (n,), so the gradient has the "
        "input's shape; the course's db keeps the axis because its b has shape (n, 1)",
    ),
    "keepdims": (
        "forgotten keepdims",
        "an axis summed without keepdims=True is gone: put it back with size 1 (keepdims=True, or "
        ".reshape) so the shapes line up with the input's",
    ),
    "wrong_axis": (
        "summed over the wrong axis",
        "sum over the axes the forward reduced or broadcast, and keep the input's shape",
    ),
    "sign": (
        "sign",
        "the derivative has the opposite sign: check each minus sign of your formula, and the order of "
        "each subtraction",
    ),
    "factor2": (
        "factor 2",
        "a factor of 2 is missing or doubled: d(x**2)/dx = 2x, the central difference divides by 2 eps",
    ),
    "accumulate": (
        "overwritten instead of accumulated",
        "an input used twice gets a gradient from each use: add them up (+=), do not assign (=)",
    ),
    "step": (
        "off by one step",
        "the bias correction of update t divides by 1 - beta**t, with t the step being made (1 on the first)",
    ),
    "swapped": (
        "swapped between the inputs",
        "each input's gradient uses the other factors: d(a*b)/da = b, not a",
    ),
    "factor": (
        "off by a constant factor",
        "compare your formula's constants with the task's (1/m, 1/keep_prob, ...)",
    ),
}


def close(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and equal to rounding."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def as_array(value: Any) -> Optional[np.ndarray]:
    """An ndarray of a student's answer (a Tensor's data, a number, ...), or None if it is not numeric."""
    data = getattr(value, "data", value)
    try:
        array = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def diagnose(
    yours: np.ndarray,
    expected: np.ndarray,
    upstream: Optional[np.ndarray] = None,
    one_use: Sequence[np.ndarray] = (),
    neighbours: Sequence[np.ndarray] = (),
) -> list[str]:
    """The keys of HINTS whose mistake turns ``expected`` into ``yours`` ("zero" when
    yours is all zeros, which HINTS leaves without a hint).

    ``upstream`` is the gradient that reached the op's output (to spot a
    forgotten ``grad``); ``one_use`` are the shares of a reused input's
    gradient, one per use; ``neighbours`` are the expected values one step before and after.
    """
    found = []
    if yours.shape != expected.shape:
        return _diagnose_shape(yours, expected)
    if upstream is not None:
        up = (
            np.broadcast_to(np.asarray(upstream, dtype=np.float64), expected.shape)
            if _broadcasts(upstream, expected)
            else None
        )
        if up is not None and not close(up, np.ones_like(up)) and close(yours * up, expected):
            found.append("upstream")
    if (
        yours.ndim == 2
        and yours.shape[0] == yours.shape[1]
        and close(yours.T, expected)
        and not close(yours, expected)
    ):
        found.append("transposed")
    if any(close(yours, share) for share in one_use):
        found.append("accumulate")
    if any(close(yours, n) for n in neighbours):
        found.append("step")
    if not found and np.any(np.abs(expected) > ATOL):  # only when no other mistake explains it
        if close(yours, -expected):
            found.append("sign")
        elif close(yours, 2 * expected) or close(2 * yours, expected):
            found.append("factor2")
        elif not np.any(yours):
            found.append("zero")
        elif expected.size > 1 and _constant_ratio(yours, expected) is not None:
            found.append("factor")
    return found


def _broadcasts(a: Any, target: np.ndarray) -> bool:
    try:
        np.broadcast_to(np.asarray(a), target.shape)
        return True
    except ValueError:
        return False


def _constant_ratio(yours: np.ndarray, expected: np.ndarray) -> Optional[float]:
    """c when yours == c * expected everywhere (c not 0 or 1), else None."""
    big = np.abs(expected) > 1e-6
    if not big.any():
        return None
    c = float(np.median(yours[big] / expected[big]))
    if np.isfinite(c) and abs(c - 1) > 1e-3 and c != 0 and close(yours, c * expected):
        return c
    return None


def _diagnose_shape(yours: np.ndarray, expected: np.ndarray) -> list[str]:
    """Which mistake gives a gradient of the wrong shape."""
    if yours.ndim >= 2 and yours.shape == expected.shape[::-1]:
        return ["transposed"]
    if yours.ndim < expected.ndim and yours.shape == tuple(n for n in expected.shape if n != 1):
        return ["keepdims"]  # (4,) for (4, 1): the size-1 axes are gone
    if yours.ndim > expected.ndim and _without_ones(yours.shape) == _without_ones(expected.shape):
        return ["kept_axis"]  # (1, 4) for (4,): an axis kept that the input does not have
    stretched = yours.ndim == expected.ndim and all(e in (1, y) for e, y in zip(expected.shape, yours.shape))
    if yours.ndim > expected.ndim or stretched:
        return ["broadcast"]
    if yours.ndim == expected.ndim == 1:  # a reduction to a vector of the wrong length
        return ["wrong_axis"]
    return []


def _without_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


def compare(
    what: str,
    yours: Any,
    expected: Any,
    upstream: Optional[np.ndarray] = None,
    one_use: Sequence[np.ndarray] = (),
    neighbours: Sequence[np.ndarray] = (),
    expected_name: str = "numerical",
    rtol: float = RTOL,
    atol: float = ATOL,
    hints: Optional[dict[str, tuple[str, str]]] = None,
) -> list[str]:
    """[] when ``yours`` matches ``expected``; else the lines that say where, by how much, and why.

    ``hints`` maps the mistakes that can be the cause here to (name, hint) (default ``HINTS``,
    for gradients); a mistake it leaves out is not named.
    """
    expected = np.asarray(expected, dtype=np.float64)
    mine = as_array(yours)
    if mine is None:
        return [
            f"{what}: you returned {type(yours).__name__} {_short(yours)}; expected an array of shape "
            f"{expected.shape}"
        ]
    if mine.shape == expected.shape and np.allclose(mine, expected, rtol=rtol, atol=atol):
        return []
    if mine.shape != expected.shape:
        lines = [f"{what}: yours has shape {mine.shape}, expected shape {expected.shape}"]
    else:
        k = int(np.argmax(np.abs(mine - expected)))
        index = tuple(int(i) for i in np.unravel_index(k, expected.shape)) if expected.ndim else ()
        n_bad = int((~np.isclose(mine, expected, rtol=rtol, atol=atol)).sum())
        values = f"yours {mine.flat[k]:.8g}, {expected_name} {expected.flat[k]:.8g}"
        if expected.ndim == 0:
            lines = [f"{what}: {values}"]
        else:
            lines = [f"{what}: element {index}: {values} ({n_bad} of {expected.size} elements differ)"]
    return lines + _hint_lines(diagnose(mine, expected, upstream, one_use, neighbours), mine, expected, hints)


def _hint_lines(
    keys: list[str], mine: np.ndarray, expected: np.ndarray, hints: Optional[dict[str, tuple[str, str]]]
) -> list[str]:
    """A "looks like" line for each key that ``hints`` explains; where they do not explain a factor 2
    (there is no derivative), it is named as a constant factor if they explain that."""
    hints = HINTS if hints is None else hints
    lines = []
    for key in keys:
        if key == "factor2" and key not in hints and expected.size > 1:
            key = "factor"
        if key not in hints:
            continue
        name, hint = hints[key]
        if key == "factor":
            name = f"{name} ({_constant_ratio(mine, expected):.4g})"
        lines.append(f"  looks like: {name}. Hint: {hint}")
    return lines


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def numerical_vjp(
    f: Callable[..., np.ndarray], arrays: Sequence[np.ndarray], upstream: np.ndarray, eps: float = 1e-6
) -> list[np.ndarray]:
    """d/dx_i of sum(f(*arrays) * upstream) by central differences, one array per input (float64)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            plus = float(np.sum(f(*arrays) * upstream))
            flat[k] = original - eps
            minus = float(np.sum(f(*arrays) * upstream))
            flat[k] = original
            gflat[k] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads

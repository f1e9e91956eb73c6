"""Gradient checking: compare the engine's gradients with central finite differences.

``gradcheck`` compares full Jacobians (one backward per output element, one
pair of forwards per input element), so a backward that ignores or mis-routes
its incoming gradient is caught; checking only ``f(x).sum()`` would miss both.
"""

from __future__ import annotations

import sys
import types
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from tinygrad_edu.autograd import grad as autograd_grad
from tinygrad_edu.checkmodel import ModelCheckReport, check_model  # noqa: F401  (part of this module's API)
from tinygrad_edu.graph import toposort
from tinygrad_edu.tensor import Tensor, _wrap

# Above this many output elements, random cotangents replace the full Jacobian.
FULL_JACOBIAN_LIMIT = 256
RANDOM_COTANGENTS = 4


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree."""


def _outputs(f: Callable[..., Any], inputs: Sequence[Tensor], name: str = "gradcheck") -> list[Tensor]:
    """f's outputs as a list of floating-point Tensors, or a clear error (a bool or integer output,
    such as ``v > 0``, has no derivative, and numpy cannot even subtract two bool arrays)."""
    out = f(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}: output {i} of f is a {type(o).__name__}, expected a Tensor")
        if o.dtype.kind != "f":
            raise TypeError(
                f"{name}: output {i} of f has dtype {o.dtype} (shape {o.shape}); expected a floating-point "
                "Tensor (float64): a bool or integer output, such as a comparison v > 0 or an argmax, "
                "is piecewise constant and has no derivative to check; check the float computation "
                "it is made from"
            )
    return outs


def _as_inputs(inputs: Sequence[Any]) -> list[Tensor]:
    """Tensors whose arrays can be nudged in place (contiguous and writeable)."""
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x), requires_grad=True) for x in inputs]
    for t in tensors:
        if not (t.data.flags.c_contiguous and t.data.flags.writeable):
            t.data = np.array(t.data, order="C")
    return tensors


def numerical_grad(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    grad_output: Optional[Any] = None,
) -> list[np.ndarray]:
    """Central differences: d/dx of sum(f(*inputs) * grad_output), one ndarray per input.

    (f(x + eps) - f(x - eps)) / (2 eps), one element at a time; ``grad_output``
    defaults to ones (for a scalar f, the plain gradient): an array of the
    output's shape, or for an f returning several outputs a list with one per
    output. Inputs are nudged in place and restored, also when f raises. The
    differences are computed in the inputs' own dtype (what f really computes),
    so use float64 inputs: it warns for others, as float32 rounds x + eps and
    the difference can be off by percents.
    """
    _check_settings(eps, 0.0, 0.0, "numerical_grad")
    tensors = _as_inputs(inputs)
    _check_dtypes(tensors, "numerical_grad", eps, every_input=True)
    outs = _repeatable_outputs(f, tensors, "numerical_grad")
    weights = None if grad_output is None else _cotangents(grad_output, outs, "numerical_grad", "grad_output")
    return _numerical_grad(f, tensors, eps, weights)


def _numerical_grad(
    f: Callable[..., Any], tensors: list[Tensor], eps: float, weights: Optional[list[np.ndarray]]
) -> list[np.ndarray]:
    """The body of ``numerical_grad``, without its checks: ``weights`` holds one array per output,
    of its shape (None: ones)."""

    def value() -> float:
        outs = _outputs(f, tensors, "numerical_grad")
        if weights is None:
            return sum(float(np.sum(o.data)) for o in outs)
        return sum(float(np.sum(o.data * w)) for o, w in zip(outs, weights))

    grads = []
    for t in tensors:
        g = np.zeros(t.shape, dtype=np.float64)
        flat = t.data.reshape(-1)  # a view: writing to it nudges the input
        for k in range(flat.size):
            plus, minus = _at_both_sides(flat, k, eps, value)
            g.reshape(-1)[k] = (plus - minus) / (2 * eps)
        grads.append(g)
    return grads


def _at_both_sides(flat: np.ndarray, k: int, eps: float, evaluate: Callable[[], Any]) -> tuple[Any, Any]:
    """``evaluate()`` with input element k nudged to x + eps, then to x - eps; the element is put
    back even when evaluate raises, so a failing f never leaves the input changed."""
    original = flat[k]
    try:
        flat[k] = original + eps
        plus = evaluate()
        flat[k] = original - eps
        minus = evaluate()
    finally:
        flat[k] = original
    return plus, minus


def _cotangents(given: Any, outs: list[Tensor], name: str, arg: str) -> list[np.ndarray]:
    """One array per output, each of its output's shape (a lone array for a single output), or a
    clear error: broadcasting one into the outputs would weight them silently wrong."""
    if isinstance(given, (list, tuple)) and not (len(outs) == 1 and np.shape(given) == outs[0].shape):
        arrays = list(given)  # one per output (a nested list of one output's shape is that array)
    elif len(outs) == 1:
        arrays = [given]
    else:
        raise ValueError(f"{name}: f returns {len(outs)} outputs, so {arg} must be a list of {len(outs)}")
    if len(arrays) != len(outs):
        raise ValueError(f"{name}: {arg} has {len(arrays)} entries for the {len(outs)} output(s) of f")
    result = []
    for i, (a, o) in enumerate(zip(arrays, outs)):
        a = np.asarray(a.data if isinstance(a, Tensor) else a)
        if a.shape != o.shape:
            raise ValueError(
                f"{name}: {arg}[{i}] has shape {a.shape} but output {i} of f has shape {o.shape}; "
                "they must match (nothing is broadcast)"
            )
        result.append(a)
    return result


def _repeatable_outputs(f: Callable[..., Any], tensors: list[Tensor], name: str) -> list[Tensor]:
    """f's outputs, after checking that a second call at the same point gives the same values: a
    random f (dropout in training mode, np.random) makes every finite difference noise."""
    first = _outputs(f, tensors, name)
    second = _outputs(f, tensors, name)
    for i, (a, b) in enumerate(zip(first, second)):
        if a.shape != b.shape or not np.array_equal(a.data, b.data, equal_nan=True):
            raise ValueError(
                f"{name}: f gave different values for output {i} (shape {a.shape}) in two calls at "
                "the same point, so finite differences would measure its randomness, not its "
                "derivative; make f deterministic (dropout with training=False or model.eval(), no "
                "np.random inside f, or tg.manual_seed(0) at its start)"
            )
    return first


def _check_settings(eps: Any, atol: Any, rtol: Any, name: str) -> None:
    """Raise for a step that is not a positive finite number (eps = 0 divides by zero, a negative
    eps turns the difference around) or a negative tolerance (nothing could ever match)."""
    for arg, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
        if not number or not np.isfinite(value) or value < 0 or (arg == "eps" and value == 0):
            expected = "a positive" if arg == "eps" else "a non-negative"
            raise ValueError(f"{name}: {arg} must be {expected} finite number, got {value!r}")


class SkippedInputsWarning(UserWarning):
    """Some inputs of a gradient check do not require grad, so their derivatives are not checked."""


def _check_something_to_check(tensors: Sequence[Tensor], name: str) -> None:
    """Raise when no input requires grad (the check would pass vacuously); warn naming skipped inputs."""
    skipped = [f"{i} (shape {t.shape}, {t.dtype})" for i, t in enumerate(tensors) if not t.requires_grad]
    if len(skipped) == len(tensors):
        raise ValueError(
            f"{name}: no input requires grad (input {', '.join(skipped)}), so there is no derivative to "
            "check and it would pass whatever the backward does; make the inputs to check with "
            "Tensor(..., requires_grad=True), or pass ndarrays"
        )
    if skipped:
        warnings.warn(
            f"{name}: input {', '.join(skipped)} does not require grad: its derivative is not checked",
            SkippedInputsWarning,
            stacklevel=3,
        )


def _check_dtypes(tensors: Sequence[Tensor], name: str, eps: float = 0.0, every_input: bool = False) -> None:
    """Warn, naming the caller's line, for each input (each one that requires grad, unless
    ``every_input``) that is not float64: its finite differences are mostly rounding error."""
    for i, t in enumerate(tensors):
        if (t.requires_grad or every_input) and t.dtype != np.float64:
            consequence = (
                f"x + eps is rounded to {t.dtype}, so with eps={eps:g} the differences can be off by "
                "a few percent (use Tensor(..., dtype=np.float64))"
                if every_input
                else "expect false failures"
            )
            warnings.warn(
                f"{name}: input {i} is {t.dtype}; finite differences need float64 to be "
                f"meaningful, {consequence}",
                stacklevel=3,
            )


def _jacobians(
    f: Callable[..., Any], tensors: list[Tensor], eps: float
) -> tuple[list[np.ndarray], list[np.ndarray], list[tuple[int, ...]]]:
    """Numerical and analytic Jacobians, each (outputs' total size, input size), per input."""
    outs = _outputs(f, tensors)

    def stacked() -> np.ndarray:
        return np.concatenate([o.data.reshape(-1) for o in _outputs(f, tensors)])

    out_shapes = [o.shape for o in outs]
    n_out = sum(int(np.prod(s)) for s in out_shapes)
    diff = [i for i, t in enumerate(tensors) if t.requires_grad]

    numeric = []
    for t in tensors:
        J = np.zeros((n_out, t.data.size))
        if t.requires_grad:
            flat = t.data.reshape(-1)
            for k in range(flat.size):
                plus, minus = _at_both_sides(flat, k, eps, stacked)
                J[:, k] = (plus - minus) / (2 * eps)
        numeric.append(J)

    # Analytic: row r of the Jacobian is the gradient for a one-hot cotangent at output r.
    analytic = [np.zeros_like(J) for J in numeric]
    live = [o.requires_grad for o in outs]
    row = 0
    for oi, o in enumerate(outs):
        for k in range(o.data.size):
            if live[oi] and diff:
                onehot = np.zeros(o.data.size, dtype=o.dtype)
                onehot[k] = 1
                gs = autograd_grad(
                    o,
                    [tensors[i] for i in diff],
                    grad_outputs=onehot.reshape(o.shape),
                    retain_graph=True,
                    allow_unused=True,
                )
                for i, g in zip(diff, gs):
                    if g is not None:
                        analytic[i][row] = np.asarray(g.data, dtype=np.float64).reshape(-1)
            row += 1
    return numeric, analytic, out_shapes


def _cotangent_products(
    f: Callable[..., Any], tensors: list[Tensor], eps: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For large outputs: v^T J for a few random v, numerically and analytically (rows = v)."""
    outs = _outputs(f, tensors)
    vs = [[rng.standard_normal(o.shape) for o in outs] for _ in range(RANDOM_COTANGENTS)]
    per_v = [_numerical_grad(f, tensors, eps, v) for v in vs]
    numeric = [
        np.stack([grads[i].reshape(-1) if t.requires_grad else np.zeros(t.data.size) for grads in per_v])
        for i, t in enumerate(tensors)
    ]
    analytic = [np.zeros_like(n) for n in numeric]
    diff = [i for i, t in enumerate(tensors) if t.requires_grad]
    for r, v in enumerate(vs):
        live = [(o, vv) for o, vv in zip(outs, v) if o.requires_grad]
        if not live or not diff:
            continue
        gs = autograd_grad(
            [o for o, _ in live],
            [tensors[i] for i in diff],
            grad_outputs=[vv.astype(o.dtype) for o, vv in live],
            retain_graph=True,
            allow_unused=True,
        )
        for i, g in zip(diff, gs):
            if g is not None:
                analytic[i][r] = np.asarray(g.data, dtype=np.float64).reshape(-1)
    return numeric, analytic


def gradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """True when every analytic derivative of ``f(*inputs)`` matches central differences.

    ``f`` returns a Tensor of any shape or a tuple of Tensors; inputs that
    require grad are checked. Elements match when |analytic - numeric| <=
    atol + rtol * |numeric|. On a mismatch it raises ``GradcheckError`` naming
    the input, the output and input elements, and both values (or returns
    False with ``raise_exception=False``). Use float64 inputs. Raises
    ValueError when no input requires grad (nothing to check) and warns
    (``SkippedInputsWarning``) naming the inputs it skips.
    """
    _check_settings(eps, atol, rtol, "gradcheck")
    tensors = _as_inputs(inputs)
    _check_something_to_check(tensors, "gradcheck")
    _check_dtypes(tensors, "gradcheck")
    return _compare(f, tensors, eps, atol, rtol, raise_exception, "gradcheck")


def _compare(
    f: Callable[..., Any],
    tensors: list[Tensor],
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    name: str,
    explain: Optional[Callable[[Optional[int]], str]] = None,
) -> bool:
    """The body of ``gradcheck`` (also run by ``gradgradcheck`` on the first derivative).

    ``explain(output index or None)`` may add the likely cause to a mismatch's message.
    """
    n_out = sum(o.data.size for o in _repeatable_outputs(f, tensors, name))
    if n_out <= FULL_JACOBIAN_LIMIT:
        numeric, analytic, out_shapes = _jacobians(f, tensors, eps)
        what = "Jacobian"
    else:
        rng = np.random.default_rng(0)
        numeric, analytic = _cotangent_products(f, tensors, eps, rng)
        out_shapes = []
        what = "vector-Jacobian product (random cotangent)"
    check = _Check(f, tensors, eps, atol, rtol, name)
    msg = _first_mismatch(check, numeric, analytic, out_shapes, what, explain)
    if msg is None and out_shapes:  # (random cotangents test linearity already)
        msg = _not_linear_in_grad(check, analytic)
    if msg is None:
        return True
    if raise_exception:
        raise GradcheckError(msg)
    return False


@dataclass
class _Check:
    """What a gradient check compares, and with which tolerances."""

    f: Callable[..., Any]
    tensors: list[Tensor]
    eps: float
    atol: float
    rtol: float
    name: str


def _first_mismatch(
    check: _Check,
    numeric: list[np.ndarray],
    analytic: list[np.ndarray],
    out_shapes: list[tuple[int, ...]],
    what: str,
    explain: Optional[Callable[[Optional[int]], str]],
) -> Optional[str]:
    """The message for the first entry where analytic and numerical derivatives differ, or None."""
    tensors = check.tensors
    for i, (num, ana) in enumerate(zip(numeric, analytic)):
        bad = ~np.isclose(ana, num, atol=check.atol, rtol=check.rtol, equal_nan=True)
        if not bad.any():
            continue
        r, k = np.argwhere(bad)[0]
        where_in = np.unravel_index(k, tensors[i].shape) if tensors[i].ndim else ()
        row = f"output element {_row_name(r, out_shapes)}" if out_shapes else f"cotangent {r}"
        msg = (
            f"{check.name}: {what} mismatch for input {i} (shape {tensors[i].shape}) at input "
            f"element {tuple(int(j) for j in where_in)}, {row}: analytic {float(ana[r, k])!r}, "
            f"numerical {float(num[r, k])!r} ({int(bad.sum())} of {bad.size} entries differ; "
            f"atol={check.atol}, rtol={check.rtol})"
        )
        low = [j for j, t in enumerate(tensors) if t.requires_grad and t.dtype != np.float64]
        if low:  # then f computes in low precision: its differences are mostly rounding
            j = i if i in low else low[0]
            msg += (
                f". Input {j} is {tensors[j].dtype}: f computes in it, so the numerical derivative is "
                "mostly rounding error and this may be no bug; check with float64 inputs"
            )
        else:
            entry = (r, k) if out_shapes else None
            msg += _kink_note(check.f, tensors, i, bad, check.eps, entry, float(ana[r, k]))
        if explain is not None:
            msg += explain(_output_of_row(r, out_shapes) if out_shapes else None)
        return msg
    return None


def _not_linear_in_grad(check: _Check, analytic: list[np.ndarray]) -> Optional[str]:
    """A backward multiplies the gradient it receives in (the chain rule), so its result is linear in
    it. The Jacobian's rows use one-hot upstream gradients (0s and a 1), which ``grad ** 2`` or
    ``abs(grad)`` pass; one random upstream gradient, against the rows it combines, catches them."""
    outs = _outputs(check.f, check.tensors)
    diff = [i for i, t in enumerate(check.tensors) if t.requires_grad]
    live = [o for o in outs if o.requires_grad]
    if not live or not diff:
        return None
    rng = np.random.default_rng(2)
    vs = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    v = np.concatenate([x.reshape(-1).astype(np.float64) for x in vs])
    gs = autograd_grad(
        live,
        [check.tensors[i] for i in diff],
        grad_outputs=[x for o, x in zip(outs, vs) if o.requires_grad],
        retain_graph=True,
        allow_unused=True,
    )
    for i, g in zip(diff, gs):
        combined = v @ analytic[i]  # what the backward gives for v if it is linear in its grad
        got = np.zeros_like(combined) if g is None else np.asarray(g.data, dtype=np.float64).reshape(-1)
        bad = ~np.isclose(got, combined, atol=check.atol, rtol=check.rtol, equal_nan=True)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            where = tuple(int(j) for j in np.unravel_index(k, check.tensors[i].shape))
            return (
                f"{check.name}: the backward is not linear in the gradient it receives, for input {i} "
                f"(shape {check.tensors[i].shape}) at input element {where}: with a random upstream "
                f"gradient it gives {float(got[k])!r}, but the Jacobian's rows (each right, checked with "
                f"upstream gradients of 0s and a 1) combine to {float(combined[k])!r}. The chain rule "
                "multiplies the upstream gradient in: grad ** 2, abs(grad) or a branch on the sign of "
                "grad pass one-hot checks and are wrong for every other upstream gradient"
            )
    return None


# How many differing input elements are nudged again to see whether they sit at a kink.
KINK_SCAN_LIMIT = 32


def _kink_note(
    f: Callable[..., Any],
    tensors: list[Tensor],
    i: int,
    bad: np.ndarray,
    eps: float,
    entry: Optional[tuple[int, int]],
    analytic: float,
) -> str:
    """Why a mismatch may be no bug: the differing entries sit at a kink, where the central
    difference is the average of two one-sided slopes and measures neither. Named by the built-in
    ops with a kink (relu, abs, max, ...) whose saved pattern differs between x + eps and x - eps,
    or, for the first differing entry ``entry`` = (output row, input element) of a full Jacobian,
    by its one-sided slopes when they differ and the analytic value is one of them. "" otherwise;
    the verdict does not change."""
    flat = tensors[i].data.reshape(-1)
    columns = np.flatnonzero(bad.any(axis=0))
    crossed = {
        int(k): _ops_whose_kink_is_crossed(f, tensors, flat, int(k), eps) for k in columns[:KINK_SCAN_LIMIT]
    }
    at_kinks = [k for k, ops in crossed.items() if ops]
    sides = "" if entry is None else _one_sided_slopes(f, tensors, flat, entry, eps, analytic)
    if at_kinks:
        what = _where_the_kinks_are(tensors[i].shape, at_kinks, len(columns), crossed)
    elif sides:
        what = "The first differing entry sits at a kink of f"
    else:
        return ""
    return (
        f". {what}, so the central difference is the average of the two one-sided slopes{sides}, not a "
        "derivative, and a backward takes one side (relu's takes 0 at 0, as PyTorch does). Not "
        "necessarily a bug: check at points away from the kink"
    )


def _where_the_kinks_are(
    shape: tuple[int, ...], at_kinks: list[int], n_differ: int, crossed: dict[int, set[str]]
) -> str:
    """ "Input element (3,) sits at a kink of ReLU: ..." or "2 of 5 input elements whose ..."."""
    names = ", ".join(sorted(set().union(*crossed.values())))
    where = ", ".join(str(tuple(int(j) for j in np.unravel_index(k, shape))) for k in at_kinks[:4])
    if n_differ == 1:
        return f"Input element {where} sits at a kink of {names}: x + eps and x - eps fall on its two sides"
    scanned = f"the first {KINK_SCAN_LIMIT} of {n_differ}" if n_differ > KINK_SCAN_LIMIT else str(n_differ)
    more = ", ..." if len(at_kinks) > 4 else ""
    return (
        f"{len(at_kinks)} of {scanned} input elements whose entries differ sit at a kink of {names} "
        f"({where}{more}): x + eps and x - eps fall on its two sides"
    )


def _ops_whose_kink_is_crossed(
    f: Callable[..., Any], tensors: list[Tensor], flat: np.ndarray, k: int, eps: float
) -> set[str]:
    """The built-in kink ops whose saved pattern (relu's mask, abs's sign, ...) differs between
    element k nudged by +eps and by -eps."""
    from tinygrad_edu.checkmodel import KINK_OPS

    def patterns() -> list[tuple[str, list[np.ndarray]]]:
        outs = _outputs(f, tensors)
        nodes = toposort(outs, lambda t: () if t._ctx is None else t._ctx.inputs or ())
        return [
            (type(t._ctx).__name__, [a for a in t._ctx.saved if isinstance(a, np.ndarray)])
            for t in nodes
            if isinstance(t._ctx, KINK_OPS)
        ]

    plus, minus = _at_both_sides(flat, k, eps, patterns)
    if len(plus) != len(minus):
        return set()
    return {
        name
        for (name, a), (_, b) in zip(plus, minus)
        if len(a) != len(b) or not all(np.array_equal(x, y) for x, y in zip(a, b))
    }


def _one_sided_slopes(
    f: Callable[..., Any],
    tensors: list[Tensor],
    flat: np.ndarray,
    entry: tuple[int, int],
    eps: float,
    analytic: float,
) -> str:
    """' (left and right here)' when the one-sided slopes of output row r in element k differ
    (a kink) and the analytic value is one of them; else ""."""
    r, k = entry

    def row() -> float:
        return float(np.concatenate([o.data.reshape(-1) for o in _outputs(f, tensors)])[r])

    original = flat[k]
    try:
        base = row()
        flat[k] = original + eps
        right = (row() - base) / eps
        flat[k] = original - eps
        left = (base - row()) / eps
    finally:
        flat[k] = original
    tol = 1e-3 * max(abs(left), abs(right), 1.0)
    if abs(left - right) <= tol or min(abs(analytic - left), abs(analytic - right)) > tol:
        return ""
    return f" ({left:.6g} from the left, {right:.6g} from the right)"


def _output_of_row(r: int, out_shapes: list[tuple[int, ...]]) -> int:
    """Which output a row of the stacked Jacobian belongs to."""
    ends = np.cumsum([int(np.prod(shape)) for shape in out_shapes])
    return int(np.searchsorted(ends, r, side="right"))


def _row_name(r: int, out_shapes: list[tuple[int, ...]]) -> str:
    for oi, shape in enumerate(out_shapes):
        size = int(np.prod(shape))
        if r < size:
            idx = tuple(int(j) for j in np.unravel_index(r, shape)) if shape else ()
            return f"{idx} of output {oi}"
        r -= size
    return str(r)


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Sequence[Any],
    grad_outputs: Optional[Sequence[Any]] = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: ``gradcheck`` of x -> grad(f(x), x, v, create_graph=True).

    ``v`` (``grad_outputs``) is a fixed random cotangent unless given. Like
    ``gradcheck``, raises when no input requires grad and warns about skipped ones.
    """
    _check_settings(eps, atol, rtol, "gradgradcheck")
    tensors = _as_inputs(inputs)
    _check_something_to_check(tensors, "gradgradcheck")
    _check_dtypes(tensors, "gradgradcheck")
    outs = _outputs(f, tensors, "gradgradcheck")
    rng = np.random.default_rng(1)
    if grad_outputs is None:
        vs = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    else:
        vs = _cotangents(grad_outputs, outs, "gradgradcheck", "grad_outputs")
    wrt_index = [i for i, t in enumerate(tensors) if t.requires_grad]
    detached: set[int] = set()  # first derivatives that came out with no graph behind them

    def first_derivative(*args: Tensor) -> tuple[Tensor, ...]:
        os = _outputs(f, args, "gradgradcheck")
        live = [(o, v) for o, v in zip(os, vs) if o.requires_grad]
        wrt = [a for a in args if a.requires_grad]
        if not live:
            return tuple(_wrap(np.zeros(a.shape, dtype=a.dtype)) for a in wrt)
        gs = autograd_grad(
            [o for o, _ in live],
            wrt,
            grad_outputs=[v for _, v in live],
            create_graph=True,
            allow_unused=True,
        )
        detached.update(j for j, g in enumerate(gs) if g is not None and not g.requires_grad)
        return tuple(
            g if g is not None else _wrap(np.zeros(a.shape, dtype=a.dtype)) for g, a in zip(gs, wrt)
        )

    def explain(j: Optional[int]) -> str:
        if not detached or (j is not None and j not in detached):
            return ""
        which = f"with respect to input {wrt_index[j]} " if j is not None else ""
        return _first_order_only(which, outs)

    return _compare(first_derivative, tensors, eps, atol, rtol, raise_exception, "gradgradcheck", explain)


def _first_order_only(which: str, outs: list[Tensor]) -> str:
    """Why a first derivative with no graph behind it gets a second derivative of 0, and the fix."""
    ops = sorted(
        {
            type(t._ctx).__name__
            for t in toposort(outs, lambda t: () if t._ctx is None else t._ctx.inputs or ())
            if t._ctx is not None and not type(t._ctx).__module__.startswith("tinygrad_edu.")
        }
    )
    where = f" (in f: {', '.join(ops)})" if ops else ""
    return (
        f". The backward is not differentiable (first-order only): the first derivative {which}has "
        "no graph behind it (requires_grad is False), so its derivative comes out as 0. That happens "
        f"when a backward{where} returns ndarrays or detached values (computed from .data, saved "
        "ndarrays or .detach()). To make it differentiable, write the backward with Tensor ops on "
        "self.inputs and self.output, which are Tensors under create_graph=True (for x**3: "
        "(x,) = self.inputs; return grad * 3 * x**2); a first-order op has no gradgradcheck"
    )


class _CallableModule(types.ModuleType):
    """This module, callable: ``tg.gradcheck(f, inputs)`` runs ``tg.gradcheck.gradcheck(f, inputs)``,
    so the call a PyTorch user writes (``torch.autograd.gradcheck(f, inputs)``) works too."""

    __call__ = staticmethod(gradcheck)  # no frame of its own: a warning names the caller's line


sys.modules[__name__].__class__ = _CallableModule

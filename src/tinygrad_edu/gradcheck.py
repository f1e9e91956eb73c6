"""Gradient checking: compare the engine's gradients with central finite differences.

``gradcheck`` compares full Jacobians (one backward per output element, one
pair of forwards per input element), so a backward that ignores or mis-routes
its incoming gradient is caught; checking only ``f(x).sum()`` would miss both.

Reading order: ``numerical_grad`` (the central difference), ``gradcheck``,
``_jacobians`` (the numerical one column by column, the analytic one row by
row, one backward per output element) and ``_compare``; that is the whole
check. Most of the rest says why a check failed, in words a student can act on:
``_likely_cause`` and what it calls (a NaN, an output with no graph, an input
no gradient reaches, a step eps far from the default, a kink), and the checks
for the usual mistakes of a first op (``_check_f``, ``_as_inputs``,
``_written_in_place``). ``gradgradcheck`` checks second derivatives the same way.
"""

from __future__ import annotations

import sys
import types
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import numpy as np

from tinygrad_edu.autograd import AnomalyError, BackwardStep, Function, detect_anomaly, run_backward
from tinygrad_edu.autograd import grad as autograd_grad
from tinygrad_edu.checkmodel import ModelCheckReport, check_model  # noqa: F401  (part of this module's API)
from tinygrad_edu.graph import toposort
from tinygrad_edu.tensor import Tensor, _wrap

# Above this many output elements, random cotangents replace the full Jacobian.
FULL_JACOBIAN_LIMIT = 256
RANDOM_COTANGENTS = 4


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree."""


def _outputs(
    f: Callable[..., Any], inputs: Sequence[Tensor], name: str = "gradcheck", values: bool = False
) -> list[Tensor]:
    """f's outputs as a list of floating-point Tensors, or a clear error (a bool or integer output,
    such as ``v > 0``, has no derivative, and numpy cannot even subtract two bool arrays). With
    ``values`` (numerical_grad, which needs only f's values) a number or an ndarray is taken too."""
    out = f(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            if values and isinstance(o, (int, float, np.number, np.ndarray)) and not isinstance(o, bool):
                outs[i] = o = Tensor(np.asarray(o))
            else:
                raise TypeError(_not_a_tensor(name, i, o))
        if o.dtype.kind != "f":
            raise TypeError(
                f"{name}: output {i} of f has dtype {o.dtype} (shape {o.shape}); expected a floating-point "
                "Tensor (float64): a bool or integer output, such as a comparison v > 0 or an argmax, "
                "is piecewise constant and has no derivative to check; check the float computation "
                "it is made from"
            )
    return outs


def _not_a_tensor(name: str, i: int, o: Any) -> str:
    """Why an output of f must be a Tensor made with the library's ops."""
    if o is None:
        return f"{name}: output {i} of f is None, expected a Tensor: does f (or a lambda) not return it?"
    return (
        f"{name}: output {i} of f is a {type(o).__name__}, expected a Tensor: f gets the inputs as Tensors "
        "and must compute its result from them with the library's ops (Tensor methods, Op.apply), which "
        "record the graph that the backward runs on; a number or an ndarray computed through .data, "
        ".numpy() or numpy functions has no backward to check"
    )


def _check_f(f: Any, name: str) -> None:
    """Refuse a Function class, an instance or its forward in place of ``Op.apply``: the class and
    the instance cannot be called with the inputs, and a forward called on Tensors computes with the
    built-in ops, so the check would pass without ever running the op's backward."""
    if isinstance(f, type) and issubclass(f, Function):
        raise TypeError(
            f"{name}: f is the Function class {f.__name__} itself; pass {f.__name__}.apply, which runs its "
            f"forward and records the op so that its backward is checked: {name}({f.__name__}.apply, [x])"
        )
    if isinstance(f, Function):
        op = type(f).__name__
        raise TypeError(
            f"{name}: f is an instance of the Function {op} ({op}()); an op is not made and then called, "
            f"pass {op}.apply, which runs its forward and records the op: {name}({op}.apply, [x])"
        )
    owner = getattr(f, "__self__", None)
    if isinstance(owner, Function) and getattr(f, "__name__", "") in ("forward", "backward"):
        op = type(owner).__name__
        raise TypeError(
            f"{name}: f is {op}.{f.__name__}, a method of an instance: called on Tensors, a forward computes "
            f"with the built-in ops and never runs {op}.backward, so the check would test those ops, not "
            f"yours; pass {op}.apply: {name}({op}.apply, [x])"
        )


def _as_inputs(inputs: Sequence[Any], name: str = "gradcheck") -> list[Tensor]:
    """Tensors whose arrays can be nudged in place (contiguous and writeable); a float ndarray or
    number becomes a Tensor of its dtype that requires grad. A dict (the course's parameters) or a
    value that is not floating-point (an axis) is refused, saying what to pass instead."""
    if isinstance(inputs, dict):
        keys = ", ".join(repr(k) for k in list(inputs)[:4]) + (", ..." if len(inputs) > 4 else "")
        raise TypeError(
            f"{name}: inputs is a dict (keys {keys}); pass a list of its arrays, {name}(f, "
            "list(params.values())), with f taking them as arguments in that order (def f(W1, b1, ...)); "
            "the course's dictionary_to_vector is not needed"
        )
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    tensors = []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            array = np.asarray(x)
            if array.dtype.kind != "f":
                raise TypeError(_not_a_float_input(name, i, x, array))
            x = Tensor(array, requires_grad=True)
        tensors.append(x)
    for t in tensors:
        if not (t.data.flags.c_contiguous and t.data.flags.writeable):
            t.data = np.array(t.data, order="C")
    return tensors


def _not_a_float_input(name: str, i: int, x: Any, array: np.ndarray) -> str:
    """An input that cannot be nudged by eps: an integer (often an axis), a bool, None, a string."""
    if isinstance(x, np.ndarray):
        what = f"{array.dtype} ndarray (shape {array.shape})"
    else:
        what = f"{type(x).__name__} {x!r} (shape {array.shape})"
    article = "an" if what[0] in "aeio" else "a"
    return (
        f"{name}: input {i} is {article} {what}; {name} takes the derivative with respect to every input "
        "in the list, nudging each by eps, so each must be floating-point (a float Tensor, a float ndarray "
        "or a float). A non-tensor argument of the op (an axis, an index, a flag) goes inside f: "
        f"{name}(lambda x: Op.apply(x, axis=0), [x]); integer data to differentiate by is made float "
        "first: np.array(..., dtype=np.float64)"
    )


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
    the difference can be off by percents. Only f's values are used, so f may
    return a number or an ndarray as well as Tensors.
    """
    _check_f(f, "numerical_grad")
    _check_settings(eps, 0.0, 0.0, "numerical_grad")
    tensors = _as_inputs(inputs, "numerical_grad")
    _check_dtypes(tensors, "numerical_grad", eps, every_input=True)
    outs = _repeatable_outputs(f, tensors, "numerical_grad", values=True)
    weights = None if grad_output is None else _cotangents(grad_output, outs, "numerical_grad", "grad_output")
    return _numerical_grad(f, tensors, eps, weights)


def _numerical_grad(
    f: Callable[..., Any], tensors: list[Tensor], eps: float, weights: Optional[list[np.ndarray]]
) -> list[np.ndarray]:
    """The body of ``numerical_grad``, without its checks: ``weights`` holds one array per output,
    of its shape (None: ones)."""

    def value() -> float:
        outs = _outputs(f, tensors, "numerical_grad", values=True)
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


def _repeatable_outputs(
    f: Callable[..., Any], tensors: list[Tensor], name: str, values: bool = False
) -> list[Tensor]:
    """f's outputs, after checking that a call leaves the inputs as they were (a forward writing
    into its input changes the point at every call) and that a second call at the same point gives
    the same values: a random f (dropout in training mode, np.random) makes every finite
    difference noise."""
    before = [t.data.copy() for t in tensors]
    first = _outputs(f, tensors, name, values)
    _check_unchanged(tensors, before, first, name)
    second = _outputs(f, tensors, name, values)
    _check_unchanged(tensors, before, second, name)
    for i, (a, b) in enumerate(zip(first, second)):
        if a.shape != b.shape or not np.array_equal(a.data, b.data, equal_nan=True):
            raise ValueError(
                f"{name}: f gave different values for output {i} (shape {a.shape}) in two calls at "
                "the same point, so finite differences would measure its randomness, not its "
                "derivative; make f deterministic (dropout with training=False or model.eval(), no "
                "np.random inside f, or tg.manual_seed(0) at its start)"
            )
    return first


def _check_unchanged(tensors: list[Tensor], before: list[np.ndarray], outs: list[Tensor], name: str) -> None:
    """Raise, after putting the inputs back, when calling f changed one of them in place."""
    changed = [
        i for i, (t, b) in enumerate(zip(tensors, before)) if not np.array_equal(t.data, b, equal_nan=True)
    ]
    if not changed:
        return
    for t, b in zip(tensors, before):
        t.data[...] = b
    i = changed[0]
    ops = _own_ops(outs)
    who = (
        f"the forward of {', '.join(ops)} writes into its input"
        if ops
        else "an op's forward, or f itself, writes into its input"
    )
    raise ValueError(
        f"{name}: f changed input {i} (shape {tensors[i].shape}, {tensors[i].dtype}) in place: one call "
        f"left it with other values, so every call would compute at another point. Probably {who} "
        "(x *= 2, x[...] = ..., np.exp(x, out=x)): the arrays a forward gets are the caller's own, and "
        "such a write changes them and every gradient that reads them. Compute into new arrays "
        "(x = x * 2, np.exp(x)). The input is put back as it was"
    )


def _own_ops(outs: Sequence[Tensor]) -> list[str]:
    """The names of the ops in the graph behind ``outs`` that are not the library's (the user's)."""
    return sorted(
        {
            type(t._ctx).__name__
            for t in toposort(outs, lambda t: () if t._ctx is None else t._ctx.inputs or ())
            if t._ctx is not None and not type(t._ctx).__module__.startswith("tinygrad_edu.")
        }
    )


def _check_settings(eps: Any, atol: Any, rtol: Any, name: str) -> None:
    """Raise for a step that is not a positive finite number (eps = 0 divides by zero, a negative
    eps turns the difference around) or a negative tolerance (nothing could ever match)."""
    for arg, value in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        number = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
        if not number or not np.isfinite(value) or value < 0 or (arg == "eps" and value == 0):
            expected = "a positive" if arg == "eps" else "a non-negative"
            hint = (
                f": were the inputs given one by one? They go in one list: {name}(f, [x, y])"
                if isinstance(value, (Tensor, np.ndarray, list, tuple))
                else ""
            )
            raise ValueError(f"{name}: {arg} must be {expected} finite number, got {value!r}{hint}")


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
    (``SkippedInputsWarning``) naming the inputs it skips. A backward that writes
    into its grad, an input or its output fails too (one backward runs with them
    read-only), and ValueError says when calling f changes an input in place.
    """
    _check_f(f, "gradcheck")
    _check_settings(eps, atol, rtol, "gradcheck")
    tensors = _as_inputs(inputs, "gradcheck")
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
    written = _written_in_place(f, tensors, name)
    if written is not None:
        if raise_exception:
            raise GradcheckError(written)
        return False
    if n_out <= FULL_JACOBIAN_LIMIT:
        numeric, analytic, out_shapes = _jacobians(f, tensors, eps)
        what = "Jacobian"
    else:
        rng = np.random.default_rng(0)
        numeric, analytic = _cotangent_products(f, tensors, eps, rng)
        out_shapes = []
        what = "vector-Jacobian product (the gradient for a random upstream gradient)"
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
        row = f"output element {_row_name(r, out_shapes)}" if out_shapes else f"random upstream gradient {r}"
        msg = (
            f"{check.name}: {what} mismatch{_of_op(check.f)} for input {i} (shape {tensors[i].shape} "
            f"{tensors[i].dtype}) at input "
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
        extra = "" if explain is None else explain(_output_of_row(r, out_shapes) if out_shapes else None)
        if not low and not extra:
            extra = _likely_cause(check, i, int(r), int(k), num, ana, bad, out_shapes)
        return msg + extra
    return None


def _of_op(f: Callable[..., Any]) -> str:
    """" of Softplus.apply" for an op's apply, " of my_f" for a named function; "" for a lambda."""
    owner = getattr(f, "__self__", None)
    if isinstance(owner, type) and issubclass(owner, Function):
        return f" of {owner.__name__}.apply"
    name = getattr(f, "__name__", "")
    if not name or name == "<lambda>" or getattr(f, "__module__", None) == __name__:
        return ""  # (gradgradcheck's own first derivative of f: its message names f's op)
    return f" of {name}"


def _written_in_place(f: Callable[..., Any], tensors: list[Tensor], name: str) -> Optional[str]:
    """The message for a backward that writes into its grad, an input or its output, else None.

    gradcheck's own upstream gradients are fresh arrays, so such a backward gives the right Jacobian
    here and wrong gradients where its grad is another op's too (``x + x`` hands one array to both
    inputs). One backward with those arrays read-only, as ``tg.detect_anomaly()`` runs it, names it.
    A NaN or an Inf there is left to the comparison."""
    outs = _outputs(f, tensors, name)
    live = [o for o in outs if o.requires_grad]
    wrt = [t for t in tensors if t.requires_grad]
    if not live or not wrt:
        return None
    rng = np.random.default_rng(3)
    vs = [rng.standard_normal(o.shape).astype(o.dtype) for o in live]
    try:
        with detect_anomaly():
            autograd_grad(live, wrt, grad_outputs=vs, retain_graph=True, allow_unused=True)
    except AnomalyError:
        return None
    except RuntimeError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, ValueError) and "read-only" in str(cause)):
            raise
        return (
            f"{name}: {exc}. Here gradcheck's own upstream gradients are fresh arrays, so the Jacobian "
            "alone would look right; it runs one backward with the grad, the inputs and the output "
            "read-only, as tg.detect_anomaly() does, to find such a write"
        )
    return None


def _likely_cause(
    check: _Check,
    i: int,
    r: int,
    k: int,
    num: np.ndarray,
    ana: np.ndarray,
    bad: np.ndarray,
    out_shapes: list[tuple[int, ...]],
) -> str:
    """What a float64 mismatch of input i at entry (r, k) most likely comes from, as a sentence to
    append ("" when nothing is known): a value that is not a number, an output or input the graph
    does not reach, a step eps far from the default, or a kink."""
    a, n = float(ana[r, k]), float(num[r, k])
    if not (np.isfinite(a) and np.isfinite(n)):
        which, value = ("numerical", n) if not np.isfinite(n) else ("analytic", a)
        by = "f" if which == "numerical" else "the backward"
        return (
            f". Not a number to compare: the {which} value is {value!r}, as {by} gives a non-finite value at "
            "this point or at x +- eps: log or sqrt of a negative number (outside the op's domain), a "
            "division by 0, or an exp that overflows. Check at points inside the op's domain (positive "
            "inputs for log and sqrt), and write the forward in a stable form (np.logaddexp(0, x), not "
            "np.log(1 + np.exp(x)))"
        )
    if check.name == "gradcheck":  # (gradgradcheck's f is the first derivative: its explain says more)
        unconnected = _not_connected(check, i, r, ana, out_shapes)
        if unconnected:
            return unconnected
    if out_shapes:
        step = _other_step(check, i, r, k, a)
        if step:
            return step
    entry = (r, k) if out_shapes else None
    return _kink_note(check.f, check.tensors, i, bad, check.eps, entry, a)


def _not_connected(
    check: _Check, i: int, r: int, ana: np.ndarray, out_shapes: list[tuple[int, ...]]
) -> str:
    """Why the analytic derivatives are 0: the output of row r (or every output) has no graph, or
    no gradient reaches input i. "" when neither."""
    outs = _outputs(check.f, check.tensors, check.name)
    rows = [_output_of_row(r, out_shapes)] if out_shapes else list(range(len(outs)))
    dead = [j for j in rows if not outs[j].requires_grad]
    if dead and len(dead) == len(rows):
        return (
            f". Output {dead[0]} of f does not require grad: nothing recorded connects it to the inputs, so "
            "no backward runs for it and every analytic derivative is 0. f computed it outside the graph: "
            "from .data, .numpy() or np.asarray of a Tensor, under tg.no_grad(), by wrapping an array in "
            "Tensor(...)"
        )
    return "" if ana.any() else _unreached(check, i, outs)


def _unreached(check: _Check, i: int, outs: list[Tensor]) -> str:
    """Why no gradient reaches input i (one backward, watching what each op returns), or ""."""
    live = [o for o in outs if o.requires_grad]
    wrt = [t for t in check.tensors if t.requires_grad]
    x = check.tensors[i]
    if not live:
        return ""
    refused: list[str] = []  # ops whose backward returned None for an input that requires grad

    def watch(step: BackwardStep) -> None:
        for j, (inp, g) in enumerate(zip(step.op.inputs, step.input_grads)):
            if g is None and inp.requires_grad:
                name = type(step.op).__name__
                if inp is x:
                    refused.append(f"{name}.backward returned None for it (its input {j})")
                elif x in toposort([inp], lambda t: () if t._ctx is None else t._ctx.inputs or ()):
                    refused.append(
                        f"{name}.backward returned None for its input {j} (shape {inp.shape}), made from it"
                    )

    found = run_backward(live, [np.ones(o.shape, dtype=o.dtype) for o in live], True, False, set(wrt), watch)
    if found.get(x) is not None:
        return ""
    if refused:
        more = f" (and {len(refused) - 1} more such None)" if len(refused) > 1 else ""
        return (
            f". No gradient reached input {i}: {refused[0]}{more}, so its analytic derivative is 0. None is "
            "for an input that needs no gradient (self.needs_input_grad says which do); return the "
            "gradient of one that requires grad"
        )
    return (
        f". No gradient reached input {i}: no recorded op of f uses it, so its analytic derivative is 0, "
        "yet f's values depend on it: f used it outside the graph (through .data, .numpy() or numpy "
        "functions, or by giving it to apply as a keyword argument; tensors go positionally: "
        "Op.apply(x, y))"
    )


# The default step; a mismatch at a step far from it is tried again with it.
_DEFAULT_EPS = 1e-6


def _other_step(check: _Check, i: int, r: int, k: int, analytic: float) -> str:
    """When eps is far from the default and the default step gives the analytic value at entry
    (r, k): the step, not the backward, is wrong. "" otherwise."""
    if 1e-8 <= check.eps <= 1e-4:
        return ""
    flat = check.tensors[i].data.reshape(-1)

    def row() -> float:
        return float(np.concatenate([o.data.reshape(-1) for o in _outputs(check.f, check.tensors)])[r])

    plus, minus = _at_both_sides(flat, k, _DEFAULT_EPS, row)
    again = (plus - minus) / (2 * _DEFAULT_EPS)
    if not np.isclose(analytic, again, atol=check.atol, rtol=check.rtol):
        return ""
    why = (
        "too large: the central difference is off by about eps**2 times the third derivative (and "
        "crosses any kink within eps)"
        if check.eps > 1e-4
        else "too small: the rounding error of f's values, about 1e-16 * |f| / eps, swamps the difference"
    )
    return (
        f". With eps={_DEFAULT_EPS:g} (the default) the numerical value of this entry is {again:.6g}, which "
        f"matches the analytic one: eps={check.eps:g} is {why}. The course's eps=1e-7 and the default suit "
        "float64"
    )


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
            rows = analytic[i]
            ignored = (
                rows[0].any()
                and np.allclose(rows, rows[0], atol=check.atol, rtol=check.rtol)
                and np.allclose(got, rows[0], atol=check.atol, rtol=check.rtol)
            )
            why = (
                "It gives the same gradient as for an upstream gradient of 1: it does not use the upstream "
                "gradient at all. The chain rule multiplies it in: return grad * (d output / d input), "
                "for x**2: grad * 2 * x, not 2 * x; under a one-element output (a sum, a loss) every one-hot "
                "check is an upstream gradient of 1, which is why only this one shows it"
                if ignored
                else "The chain rule multiplies the upstream gradient in: grad ** 2, abs(grad) or a branch "
                "on the sign of grad pass one-hot checks and are wrong for every other upstream gradient"
            )
            return (
                f"{check.name}: the backward is not linear in the gradient it receives, for input {i} "
                f"(shape {check.tensors[i].shape}) at input element {where}: with a random upstream "
                f"gradient it gives {float(got[k])!r}, but the Jacobian's rows (each right, checked with "
                f"upstream gradients of 0s and a 1) combine to {float(combined[k])!r}. {why}"
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
        what = f"The first differing entry sits at a kink of {_of_op(f)[4:] or 'f'}"
    else:
        return ""
    relu = "ReLU" in set().union(*crossed.values())
    side = "one side (relu's takes 0 at 0, as PyTorch does)" if relu else "one side"
    return (
        f". {what}, so the central difference is the average of the two one-sided slopes{sides}, not a "
        f"derivative, and a backward takes {side}. Not necessarily a bug: check at points away from the kink"
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

    def slopes(step: float) -> tuple[float, float]:
        flat[k] = original + step
        right = (row() - base) / step
        flat[k] = original - step
        return (base - row()) / step, right

    try:
        base = row()
        left, right = slopes(eps)
        near_left, near_right = slopes(eps / 10)
    finally:
        flat[k] = original
    if not np.isfinite([left, right, near_left, near_right]).all():
        return ""
    tol = 1e-3 * max(abs(left), abs(right), 1.0)
    if abs(left - right) <= tol or min(abs(analytic - left), abs(analytic - right)) > tol:
        return ""
    gap, near_gap = abs(left - right), abs(near_left - near_right)
    if gap / 20 < near_gap < gap / 2:  # the gap shrinks with the step, about tenfold: curvature seen
        return ""  # with a large eps, not a kink (a kink closer than eps is not crossed at eps / 10: 0)
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
    _check_f(f, "gradgradcheck")
    _check_settings(eps, atol, rtol, "gradgradcheck")
    tensors = _as_inputs(inputs, "gradgradcheck")
    _check_something_to_check(tensors, "gradgradcheck")
    _check_dtypes(tensors, "gradgradcheck")
    outs = _repeatable_outputs(f, tensors, "gradgradcheck")
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
        try:
            gs = autograd_grad(
                [o for o, _ in live],
                wrt,
                grad_outputs=[v for _, v in live],
                create_graph=True,
                allow_unused=True,
            )
        except TypeError as exc:
            better = _ndarray_only_backward(exc)
            if better is None:
                raise
            raise better from exc
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


def _ndarray_only_backward(exc: TypeError) -> Optional[TypeError]:
    """The error of a backward that works on ndarrays only, run on Tensors by create_graph=True:
    a numpy function refuses a Tensor, and a Tensor takes no item assignment. None for another."""
    op = "the backward of an op in f"
    if isinstance(exc.__cause__, TypeError):  # numpy's own error, which the engine explained
        exc = exc.__cause__
    tb = exc.__traceback__
    while tb is not None:  # the innermost backward of an op of one's own names it
        me = tb.tb_frame.f_locals.get("self")
        if tb.tb_frame.f_code.co_name == "backward" and isinstance(me, Function):
            op = f"{type(me).__name__}.backward"
        tb = tb.tb_next
    first_order = (
        "or, for an op meant to be first-order only (its backward on ndarrays), leave gradgradcheck out"
    )
    if "does not support ufuncs" in str(exc):
        return TypeError(
            f"gradgradcheck: {op} called a numpy function on a Tensor ({exc}). gradgradcheck "
            "differentiates the backward, so it runs it with create_graph=True, where grad, self.inputs "
            "and self.output are Tensors, and numpy's functions (np.tanh, np.exp, np.sign, ...) refuse "
            "them. Write the backward with what ndarrays and Tensors share (arithmetic, @, .T, .sum, "
            ".reshape, indexing, comparisons, self.output) and run(Op, x) for another op (from "
            "tinygrad_edu.autograd import run; from tinygrad_edu.ops import Tanh; run(Tanh, x)), "
            f"{first_order}"
        )
    if "does not support item assignment" in str(exc):
        return TypeError(
            f"gradgradcheck: {op} assigned into a Tensor ({exc}). gradgradcheck differentiates the "
            "backward, so it runs it with create_graph=True, where grad, self.inputs and self.output are "
            "Tensors, which take no assignment. Compute the gradient without writing into an array, e.g. "
            f"return grad * (x > 0) rather than g[x <= 0] = 0, {first_order}"
        )
    return None


def _first_order_only(which: str, outs: list[Tensor]) -> str:
    """Why a first derivative with no graph behind it gets a second derivative of 0, and the fix."""
    ops = _own_ops(outs)
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

"""Checks that the exercises share: an op's backward on arrays and on Tensors, an op along a graph,
an optimizer's trajectory. Every expected value is computed here from numpy formulas or finite
differences, never from a reference solution.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional, Sequence

import numpy as np

from tinygrad_edu.autograd import _changed_in_place_error, _ndarray_misuse_error
from tinygrad_edu.exercises.feedback import HINTS, _constant_ratio, as_array, close, compare, numerical_vjp

ArrayFn = Callable[..., np.ndarray]


def new_op(op: type) -> Any:
    """A bare instance of a Function subclass, as the engine makes one (no __init__ runs)."""
    fn = object.__new__(op)
    fn.saved = ()
    return fn


def forward_on_arrays(
    op: type, arrays: Sequence[np.ndarray], params: dict[str, Any]
) -> tuple[Any, np.ndarray]:
    """Run the student's forward on copies of the arrays; (the op instance, its output array)."""
    fn = new_op(op)
    out = np.asarray(fn.forward(*[np.array(a) for a in arrays], **params))
    return fn, out


def backward_on_arrays(
    op: type, arrays: Sequence[np.ndarray], upstream: np.ndarray, params: Optional[dict[str, Any]] = None
) -> tuple[Any, ...]:
    """The student's backward in an ordinary (first-order) backward: grad, inputs and output are
    ndarrays, read-only: in a graph the gradient an op receives may be another input's too."""
    fn, out = forward_on_arrays(op, arrays, params or {})
    fn.inputs = tuple(_read_only(a) for a in arrays)
    fn.needs_input_grad = (True,) * len(arrays)
    fn._out = _read_only(out) if isinstance(out, np.ndarray) else out  # what ``self.output`` reads
    try:
        grads = fn.backward(_read_only(upstream))
    except ValueError as exc:
        if "read-only" not in str(exc):
            raise
        raise _changed_in_place_error(op.__name__, exc) from exc
    return _one_per_input(grads, len(arrays))


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only copy of ``a``."""
    copy = np.array(a)
    copy.flags.writeable = False
    return copy


def backward_on_tensors(
    op: type,
    arrays: Sequence[np.ndarray],
    upstream: np.ndarray,
    params: Optional[dict[str, Any]] = None,
    differentiable: Sequence[int] = (),
) -> tuple[Any, ...]:
    """The student's backward called as the engine calls it under create_graph=True: grad, inputs
    and output are Tensors, so grad-of-grad can build on what it returns.

    What it returns is what is compared, shape included: after the call the engine sums a
    gradient down to its input's shape, which would hide a missing broadcast reduction.
    """
    import tinygrad_edu as tg

    tensors = [tg.Tensor(np.array(a), requires_grad=(i in differentiable)) for i, a in enumerate(arrays)]
    out = op.apply(*tensors, **(params or {}))
    fn = out._ctx
    if fn is None:
        raise TypeError(f"{op.__name__}.forward returned {out.dtype} values, which have no gradient")
    fn._out = out  # what ``self.output`` reads while a backward runs
    # grad requires grad, as inside a second backward: a gradient computed from it must carry its graph
    grad = tg.Tensor(np.array(upstream), requires_grad=True)
    try:
        return _one_per_input(fn.backward(grad), len(arrays))
    except RuntimeError as exc:  # grad *= ...: grad is a leaf here; say what the arrays' check says
        if "in-place operation" not in str(exc):
            raise
        reason = RuntimeError("an in-place operator on a Tensor, here a leaf")
        raise _changed_in_place_error(op.__name__, reason) from exc
    except (AttributeError, TypeError) as exc:  # the engine's words for numpy's ufunc on a Tensor
        error = _ndarray_misuse_error(fn, exc, create_graph=True)
        if error is exc:
            raise
        raise error from exc
    finally:
        fn._out = None


def _one_per_input(grads: Any, n_inputs: int) -> tuple[Any, ...]:
    """A backward's result as a tuple: a lone gradient of a one-input op, else the tuple or list."""
    if isinstance(grads, tuple):
        return grads
    if n_inputs == 1 or not isinstance(grads, list):  # one array for several inputs is one gradient,
        return (grads,)  # not its rows: the count check then says "1 gradient(s) for 2 inputs"
    return tuple(grads)


def random_upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """An upstream gradient far from all ones, so a forgotten ``grad`` shows."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


Known = dict[str, Callable[..., Sequence[np.ndarray]]]


def op_backward_check(
    entry: str,
    f: ArrayFn,
    make_inputs: Callable[[], Sequence[np.ndarray]],
    names: Sequence[str],
    params: Optional[dict[str, Any]] = None,
    differentiable: Optional[Sequence[int]] = None,
    seed: int = 0,
    on_tensors: bool = False,
    known: Optional[Known] = None,
    hints: Optional[dict[str, tuple[str, str]]] = None,
) -> Callable[[Any], list[str]]:
    """A check: ``entry``'s backward (on arrays, or on Tensors as under create_graph=True) against
    finite differences of the numpy formula ``f`` at ``make_inputs()``, for every differentiable
    input. ``known`` maps the words for a common mistake to a function(*inputs, grad) giving
    the gradients that mistake makes (one per input); the first that fits is named. ``hints``
    replaces some of ``feedback.HINTS`` with the exercise's own words (key: (name, hint))."""
    params = params or {}
    words = {**HINTS, **(hints or {})}

    def check(answer: Any) -> list[str]:
        op = getattr(answer, entry)
        arrays = [np.asarray(a) for a in make_inputs()]
        which = list(range(len(arrays))) if differentiable is None else list(differentiable)
        upstream = random_upstream(np.shape(f(*arrays)), seed)
        expected = numerical_vjp(f, arrays, upstream)
        try:
            if on_tensors:
                grads = backward_on_tensors(op, arrays, upstream, params, which)
            else:
                grads = backward_on_arrays(op, arrays, upstream, params)
        except ValueError as exc:  # numpy's and the engine's errors for shapes that do not fit
            lines = _shape_error(entry, names, arrays, upstream, exc, words)
            if not lines:
                raise
            return lines
        if len(grads) != len(arrays):
            return [
                f"{entry}.backward returned {len(grads)} gradient(s); expected {len(arrays)}, one per "
                f"input ({', '.join(names)})"
            ]
        problems = []
        for i in which:
            problems += _gradient_feedback(
                f, arrays, names, i, grads, expected, upstream, which, known or {}, words
            )
            if on_tensors and grads[i] is not None and not problems:
                problems += _graph_feedback(entry, names[i], grads[i])
        return problems

    return check


def _gradient_feedback(
    f: ArrayFn,
    arrays: list[np.ndarray],
    names: Sequence[str],
    i: int,
    grads: Sequence[Any],
    expected: list[np.ndarray],
    upstream: np.ndarray,
    which: list[int],
    known: Known,
    hints: dict[str, tuple[str, str]] = HINTS,
) -> list[str]:
    """The lines for input i's gradient: [] when it matches, else where it differs and why (the
    first mistake this exercise knows of that fits, or else the generic ones that ``compare``
    names, in the words of ``hints``)."""
    mine = grads[i]
    if mine is None:
        return [f"gradient for {names[i]}: you returned None (no gradient)"]
    what = f"gradient for {names[i]} (input {i}, shape {arrays[i].shape})"
    up = upstream_for(expected[i], upstream)
    where = compare(what, mine, expected[i], upstream=up, hints={})  # where it differs, no hint yet
    if not where:
        return []
    specific = _swapped(f, arrays, names, i, mine, expected, which, upstream, hints)
    specific += _wrong_axis(f, arrays, i, mine, expected[i], upstream, hints)
    for words, mistake in known.items():
        with np.errstate(all="ignore"):
            try:
                theirs = mistake(*arrays, upstream)[i]
            except ValueError:  # the mistake's shapes do not fit these inputs
                continue
        if close(as_array(mine), theirs):
            specific.append(f"  looks like: {words}")
            break
    return (where if specific else compare(what, mine, expected[i], upstream=up, hints=hints)) + specific


def _graph_feedback(entry: str, name: str, gradient: Any) -> list[str]:
    """Under create_graph the gradient must be a Tensor computed from grad (its graph is what a
    second derivative goes through); a numpy function or .data on the way returns values only."""
    import tinygrad_edu as tg

    if isinstance(gradient, tg.Tensor) and gradient.requires_grad:
        return []
    what = "an ndarray" if isinstance(gradient, np.ndarray) else f"a {type(gradient).__name__} with no graph"
    return [
        f"gradient for {name}: the values are right, but on Tensors (create_graph=True) {entry}.backward "
        f"returned {what}, cut off from grad, so a second derivative through it would be lost",
        "  Hint: compute it from grad with what ndarrays and Tensors share (arithmetic, @, .T, .sum, "
        ".reshape, indexing); a numpy function such as np.expand_dims, or .data, returns plain values",
    ]


def upstream_for(expected: np.ndarray, upstream: np.ndarray) -> Optional[np.ndarray]:
    """The upstream gradient to spot a forgotten ``grad`` in a gradient of ``expected``'s shape: the
    same shape, or a scalar (a loss); None for a broadcast input, whose gradient was reduced."""
    return upstream if np.shape(upstream) in (expected.shape, ()) else None


def _shape_error(
    entry: str,
    names: Sequence[str],
    arrays: list[np.ndarray],
    upstream: np.ndarray,
    exc: ValueError,
    hints: dict[str, tuple[str, str]] = HINTS,
) -> list[str]:
    """The lines for a backward stopped by shapes that do not fit (a matrix product, a broadcast),
    with the shapes it was given and the likely mistake; [] for any other error."""
    from tinygrad_edu.exercises._kit import _where

    text = str(exc)
    given = ", ".join([f"grad {upstream.shape}"] + [f"{n} {a.shape}" for n, a in zip(names, arrays)])
    if "matmul" in text or "inner dimensions" in text:  # numpy's words, the engine's words
        what, key = "a matrix product whose shapes do not fit", "missing_T"
    elif "could not be broadcast" in text:
        numpy_says = text.split(": ")[-1].strip()  # "operands could not be broadcast ... shapes (3,) (3,5)"
        shown = _shapes_in(numpy_says)
        dropped = any(_drops_axes(s, t) for s in shown for t in shown)
        what, key = numpy_says, "keepdims" if dropped else None
    else:
        return []
    lines = [f"{entry} raised {type(exc).__name__}{_where(exc)}: {what}; the shapes are {given}"]
    if key:
        name, hint = hints[key]
        lines.append(f"  looks like: {name}. Hint: {hint}")
    return lines


def _shapes_in(text: str) -> list[tuple[int, ...]]:
    """The shapes written in an error message: "(3,) (3,5)" -> [(3,), (3, 5)]."""
    return [tuple(int(n) for n in t.replace(",", " ").split()) for t in re.findall(r"\(([\d, ]*)\)", text)]


def _drops_axes(small: tuple[int, ...], big: tuple[int, ...]) -> bool:
    """True when ``small`` is ``big`` with some axes left out, as a sum without keepdims leaves it."""
    if len(small) >= len(big):
        return False
    rest = list(big)
    for n in small:
        if n not in rest:
            return False
        rest = rest[rest.index(n) + 1 :]
    return True


def _swapped(
    f: ArrayFn,
    arrays: list[np.ndarray],
    names: Sequence[str],
    i: int,
    mine: Any,
    expected: list[np.ndarray],
    which: list[int],
    upstream: np.ndarray,
    hints: dict[str, tuple[str, str]] = HINTS,
) -> list[str]:
    """A hint when input i's gradient is another input's expected gradient, and swapping makes a
    difference (in a + b both inputs get grad: a gradient equal to the other's is unreduced)."""
    mine = as_array(mine)
    for j in which:
        if (
            j != i
            and mine is not None
            and close(mine, expected[j])
            and not close(mine, expected[i])
            and _swap_matters(f, arrays, i, j, upstream)
        ):
            name, hint = hints["swapped"]
            return [f"  looks like: {name} (this is the gradient of {names[j]}). Hint: {hint}"]
    return []


def _swap_matters(f: ArrayFn, arrays: list[np.ndarray], i: int, j: int, upstream: np.ndarray) -> bool:
    """False when inputs i and j get the same gradient before any broadcast reduction (as in a + b)."""
    try:  # every input given its own value at every output element
        stretched = [np.broadcast_to(a, upstream.shape).copy() for a in arrays]
    except ValueError:  # inputs that do not broadcast to the output (a matrix product): they differ
        return True
    full = numerical_vjp(f, stretched, upstream)
    return not close(full[i], full[j])


def _wrong_axis(
    f: ArrayFn,
    arrays: list[np.ndarray],
    i: int,
    mine: Any,
    expected: np.ndarray,
    upstream: np.ndarray,
    hints: dict[str, tuple[str, str]] = HINTS,
) -> list[str]:
    """A hint when input i was broadcast and its gradient is the full gradient summed over another axis."""
    mine = as_array(mine)
    if (
        mine is None
        or mine.shape != expected.shape
        or close(mine, expected)
        or arrays[i].shape == upstream.shape
    ):
        return []
    try:  # the input given its own value at every output element: the gradient before the reduction
        stretched = np.broadcast_to(arrays[i], upstream.shape).copy()
        full = numerical_vjp(lambda s: f(*arrays[:i], s, *arrays[i + 1 :]), [stretched], upstream)[0]
    except ValueError:
        return []
    for axis in range(full.ndim):
        for keepdims in (False, True):
            candidate = full.sum(axis=axis, keepdims=keepdims)
            if candidate.shape == mine.shape and close(mine, candidate):
                name, hint = hints["wrong_axis"]
                return [f"  looks like: {name} (yours is the sum over axis {axis}). Hint: {hint}"]
    return []


def op_forward_check(
    entry: str,
    f: ArrayFn,
    make_inputs: Callable[[], Sequence[np.ndarray]],
    params: Optional[dict[str, Any]] = None,
) -> Callable[[Any], list[str]]:
    """A check: ``entry``'s forward against the numpy formula ``f``."""

    def check(answer: Any) -> list[str]:
        arrays = [np.asarray(a) for a in make_inputs()]
        _, out = forward_on_arrays(getattr(answer, entry), arrays, params or {})
        return compare("forward output", out, f(*arrays), expected_name="expected")

    return check


def op_checks(
    entry: str,
    f: ArrayFn,
    cases: Sequence[Callable[[], Sequence[np.ndarray]]],
    names: Sequence[str],
    params: Optional[dict[str, Any]] = None,
    differentiable: Optional[Sequence[int]] = None,
    known: Optional[Known] = None,
    hints: Optional[dict[str, tuple[str, str]]] = None,
) -> list[tuple[str, float, Callable[[Any], list[str]]]]:
    """The usual checks of a backward exercise: each case on arrays, then the first on Tensors
    (``known``: the exercise's own common mistakes, ``hints``: its own words for the generic
    ones, as for ``op_backward_check``)."""
    checks = []
    for k, make in enumerate(cases):
        shapes = ", ".join(str(np.shape(a)) for a in make())
        checks.append(
            (
                f"backward on arrays, inputs of shape {shapes}",
                1.0,
                op_backward_check(
                    entry, f, make, names, params, differentiable, seed=k, known=known, hints=hints
                ),
            )
        )
    checks.append(
        (
            "the same backward on Tensors (create_graph=True: grad-of-grad can build on it)",
            1.0,
            op_backward_check(
                entry,
                f,
                cases[0],
                names,
                params,
                differentiable,
                seed=7,
                on_tensors=True,
                known=known,
                hints=hints,
            ),
        )
    )
    return checks


def randn(*shape: int, seed: int = 0, low: Optional[float] = None) -> np.ndarray:
    """Float64 normal numbers (or uniform in [low, low + 2) when ``low`` is given), reproducible."""
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, low + 2.0, shape)
    return rng.standard_normal(shape)


def _short_array(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=6, separator=", ").replace("\n", "")


# --- optimizers -------------------------------------------------------------------------------


GRADIENTS = [
    np.array([[0.5, -1.0], [2.0, 0.1]]),
    np.array([[0.4, -0.8], [1.5, -0.2]]),
    np.array([[-0.3, 0.6], [1.0, 0.3]]),
]
START = np.array([[1.0, -2.0], [0.5, 3.0]])


def run_optimizer(
    optimizer_class: type, options: dict[str, Any], steps: int = 3
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The student's optimizer on one (2, 2) parameter with GRADIENTS: the parameter after each
    step, and the parameter's state after the last."""
    import tinygrad_edu as tg

    p = tg.nn.Parameter(START.copy())
    opt = optimizer_class([p], **options)
    after = []
    for g in GRADIENTS[:steps]:
        p.grad = tg.Tensor(g.copy())
        opt.step()
        after.append(p.data.copy())
    return after, opt.state.get(p, {})


# The mistakes an update (after - before) can show, explained for an optimizer: no derivative here.
UPDATE_HINTS: dict[str, tuple[str, str]] = {
    "sign": ("sign", "the step goes the wrong way: gradient descent subtracts it, param -= lr * ..."),
    "factor": (
        "off by a constant factor",
        "compare your formula's constants with the task's (lr, beta, 1 - beta, ...)",
    ),
    "step": HINTS["step"],
    "zero": (
        "the parameter did not change",
        "update the state first, then change param in place: param -= lr * ... (param = param - ... "
        "makes a new array that the optimizer never sees)",
    ),
}

# A state entry's name and how to change it in place, for the hint when it was not kept.
StateNames = dict[str, tuple[str, str]]


def _state_not_kept(state: dict[str, Any], names: StateNames) -> list[str]:
    """A hint for each array of the state that is still all zeros after the steps: the student's
    code assigned a new array to a local name instead of changing the state's array in place."""
    lines = []
    for key, value in state.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and not np.any(value):
            what, in_place = names.get(key, (f'state["{key}"]', "x *= ...; x += ..."))
            local = in_place.split()[0]
            lines.append(
                f'  looks like: {what} was not kept between steps (state["{key}"] is still zeros). '
                f"Hint: {local} = ... makes a new array; change the state in place: {in_place}"
            )
    return lines


def trajectory_check(
    entry: str,
    options: dict[str, Any],
    reference: Callable[[int], list[np.ndarray]],
    known: Optional[dict[str, Callable[[], list[np.ndarray]]]] = None,
    state_names: Optional[StateNames] = None,
) -> Callable[[Any], list[str]]:
    """A check: the parameter after each of 3 steps against ``reference(shift)`` (the formula with the
    step count shifted by ``shift``; shift 0 is right, -1 and +1 spot an off-by-one step). ``known``
    maps the words for other common mistakes to the trajectory each gives; ``state_names`` maps a
    key of the state to (its name, how to change it in place), for the hint when it was not kept."""

    def check(answer: Any) -> list[str]:
        got, state = run_optimizer(getattr(answer, entry), options)
        want = reference(0)
        neighbours = [reference(-1), reference(1)]
        before = START
        for t, (mine, right) in enumerate(zip(got, want), start=1):
            if close(mine, right):
                before = right
                continue
            specific = [  # (the whole run: v += grad's first step is a plain gradient step too)
                f"  looks like: {words}"
                for words, trajectory in (known or {}).items()
                if all(close(g, k) for g, k in zip(got, trajectory()))
            ] + _state_not_kept(state, state_names or {})
            hints, changing = ({}, []) if specific else _factor_hints(got, want)
            # Compared as updates (after - before), so a sign or a factor in the step shows.
            compared = compare(
                f"  the update of step {t} (parameter after - before)",
                mine - before,
                right - before,
                neighbours=[n[t - 1] - before for n in neighbours],
                expected_name="expected",
                hints=hints,
            )
            if any("looks like:" in line for line in compared):
                changing = []  # (a step off by one changes the factor too: the named mistake says more)
            return [
                f"parameter after step {t} (options {options}): yours {_short_array(mine)}, "
                f"expected {_short_array(right)}"
            ] + compared + specific + changing
        return []

    return check


def _factor_hints(got: list[np.ndarray], want: list[np.ndarray]) -> tuple[dict, list[str]]:
    """The hints for an update off by a factor: UPDATE_HINTS when the factor is the same at every
    step; else, when each step has a factor of its own, no "constant factor" and a line saying so.

    Each step's update is compared with the expected update from the expected parameter before it:
    the course's optimizers' updates do not depend on the parameter's value."""
    factors = [
        _constant_ratio(np.asarray(g) - g0, np.asarray(w) - w0)
        for g, g0, w, w0 in zip(got, [START, *got[:-1]], want, [START, *want[:-1]])
    ]
    if all(f is not None and np.isclose(f, factors[0], rtol=1e-3) for f in factors):
        return UPDATE_HINTS, []
    hints = {key: hint for key, hint in UPDATE_HINTS.items() if key != "factor"}
    if any(f is None for f in factors):
        return hints, []
    steps = ", ".join(f"{f:.4g} at step {t}" for t, f in enumerate(factors, start=1))
    return hints, [
        f"  looks like: off by a factor that changes from step to step ({steps}). Hint: a constant "
        "of the formula would give the same factor at every step; look at what changes with the step "
        "(the state, the step count t)"
    ]


ONE_STYLE = """\
Write the backward with what ndarrays and Tensors share: arithmetic, @, .T,
.sum(axis=..., keepdims=...), .reshape, indexing, comparisons, and
run(Op, x) to call another op (run(Exp, x) rather than np.exp(x), with
from tinygrad_edu.ops import Exp). The same code then runs on ndarrays in an
ordinary backward and on Tensors under create_graph=True (second derivatives)."""


def how_to_check(exercise_id: str, path: Optional[str] = None) -> str:
    """The line of a skeleton's docstring that says how to check it (``path``: where it was written)."""
    return f"Check it:  tinygrad-edu exercise check {exercise_id} {path or f'exercises/{exercise_id}.py'}"


# --- a graph, op by op ----------------------------------------------------------------------------


def graph_ops(loss: Any) -> list[Any]:
    """The ops behind ``loss``, inputs first (each op after the ops that made its inputs)."""
    from tinygrad_edu.graph import toposort

    def parents(t: Any) -> tuple:
        ctx = t._ctx
        return () if ctx is None or getattr(ctx, "inputs", None) is None else tuple(ctx.inputs)

    return [t for t in toposort([loss], parents) if t._ctx is not None]


def graph_check(build: Callable[[Any], Any]) -> Callable[[Any], list[str]]:
    """A check: every op along the graph that ``build(answer)`` returns, each against finite differences
    of its own forward at the inputs it got, so the faulty op is named, not only a wrong end result."""

    def check(answer: Any) -> list[str]:
        outputs = graph_ops(build(answer))
        problems = []
        for k, t in enumerate(outputs, start=1):
            op = type(t._ctx)
            arrays = [
                np.array(x.data, dtype=np.float64) if x.data.dtype.kind == "f" else x.data
                for x in t._ctx.inputs
            ]
            which = [i for i, x in enumerate(t._ctx.inputs) if x.requires_grad]
            upstream = random_upstream(t.shape, seed=k)
            expected = numerical_vjp(lambda *a, op=op: forward_on_arrays(op, a, {})[1], arrays, upstream)
            grads = backward_on_arrays(op, arrays, upstream)
            for i in which:
                lines = compare(
                    f"op {k} of {len(outputs)} along the graph, {op.__name__} (output shape {t.shape}): "
                    f"gradient for its input {i}",
                    grads[i],
                    expected[i],
                    upstream=upstream_for(expected[i], upstream),
                )
                problems += lines
        if problems:
            faulty = sorted(
                {line.split(", ")[1].split(" (")[0] for line in problems if line.startswith("op ")}
            )
            problems.insert(
                0, f"the faulty op: {', '.join(faulty)} (each other op's backward matches its forward)"
            )
        return problems

    return check

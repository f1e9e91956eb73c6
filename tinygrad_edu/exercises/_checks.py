"""Checks that the exercises share: an op's backward on arrays and on Tensors, an op along a graph,
an optimizer's trajectory. Every expected value is computed here from numpy formulas or finite
differences, never from a reference solution.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import numpy as np

from tinygrad_edu.exercises.feedback import close, compare, numerical_vjp

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
    """The student's backward in an ordinary (first-order) backward: grad, inputs and output are ndarrays."""
    fn, out = forward_on_arrays(op, arrays, params or {})
    fn.inputs = tuple(np.array(a) for a in arrays)
    fn.needs_input_grad = (True,) * len(arrays)
    fn._out = out  # what ``self.output`` reads while a backward runs
    grads = fn.backward(np.array(upstream))
    return grads if isinstance(grads, tuple) else (grads,) if len(arrays) == 1 else tuple(grads)


def backward_on_tensors(
    op: type,
    arrays: Sequence[np.ndarray],
    upstream: np.ndarray,
    params: Optional[dict[str, Any]] = None,
    differentiable: Sequence[int] = (),
) -> list[Optional[np.ndarray]]:
    """The same backward reached through the engine with create_graph=True (Tensors in, Tensors out)."""
    import tinygrad_edu as tg

    tensors = [tg.Tensor(np.array(a), requires_grad=(i in differentiable)) for i, a in enumerate(arrays)]
    out = op.apply(*tensors, **(params or {}))
    wanted = [tensors[i] for i in differentiable]
    grads = tg.grad(
        out, wanted, grad_outputs=tg.Tensor(np.array(upstream)), create_graph=True, allow_unused=True
    )
    return [None if g is None else np.asarray(g.data) for g in grads]


def random_upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """An upstream gradient far from all ones, so a forgotten ``grad`` shows."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def op_backward_check(
    entry: str,
    f: ArrayFn,
    make_inputs: Callable[[], Sequence[np.ndarray]],
    names: Sequence[str],
    params: Optional[dict[str, Any]] = None,
    differentiable: Optional[Sequence[int]] = None,
    seed: int = 0,
    on_tensors: bool = False,
) -> Callable[[Any], list[str]]:
    """A check: ``entry``'s backward (on arrays, or through the engine on Tensors) against finite
    differences of the numpy formula ``f`` at ``make_inputs()``, for every differentiable input."""
    params = params or {}

    def check(answer: Any) -> list[str]:
        op = getattr(answer, entry)
        arrays = [np.asarray(a) for a in make_inputs()]
        which = list(range(len(arrays))) if differentiable is None else list(differentiable)
        out_shape = np.shape(f(*arrays))
        upstream = random_upstream(out_shape, seed)
        expected = numerical_vjp(f, arrays, upstream)
        if on_tensors:
            got = backward_on_tensors(op, arrays, upstream, params, which)
            got_by_input = dict(zip(which, got))
        else:
            grads = backward_on_arrays(op, arrays, upstream, params)
            if len(grads) != len(arrays):
                return [
                    f"{entry}.backward returned {len(grads)} gradient(s); expected {len(arrays)}, one per "
                    f"input ({', '.join(names)})"
                ]
            got_by_input = {i: grads[i] for i in which}
        problems = []
        for i in which:
            if got_by_input[i] is None:
                problems.append(f"gradient for {names[i]}: you returned None (no gradient)")
                continue
            local = (
                np.divide(expected[i], upstream, out=np.zeros_like(expected[i]), where=upstream != 0)
                if expected[i].shape == upstream.shape
                else None
            )
            problems += compare(
                f"gradient for {names[i]} (input {i}, shape {arrays[i].shape})",
                got_by_input[i],
                expected[i],
                upstream=upstream if local is not None else None,
            )
            problems += _swapped(names, i, got_by_input[i], expected, which)
            problems += _wrong_axis(f, arrays, i, got_by_input[i], expected[i], upstream)
        return problems

    return check


def _swapped(
    names: Sequence[str], i: int, mine: Any, expected: list[np.ndarray], which: list[int]
) -> list[str]:
    """A hint when input i's gradient is another input's expected gradient."""
    from tinygrad_edu.exercises.feedback import HINTS, as_array, close

    mine = as_array(mine)
    for j in which:
        if j != i and mine is not None and close(mine, expected[j]) and not close(mine, expected[i]):
            name, hint = HINTS["swapped"]
            return [f"  looks like: {name} (this is the gradient of {names[j]}). Hint: {hint}"]
    return []


def _wrong_axis(
    f: ArrayFn, arrays: list[np.ndarray], i: int, mine: Any, expected: np.ndarray, upstream: np.ndarray
) -> list[str]:
    """A hint when input i was broadcast and its gradient is the full gradient summed over another axis."""
    from tinygrad_edu.exercises.feedback import HINTS, as_array, close

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
                name, hint = HINTS["wrong_axis"]
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
) -> list[tuple[str, float, Callable[[Any], list[str]]]]:
    """The usual checks of a backward exercise: each case on arrays, then the first on Tensors."""
    checks = []
    for k, make in enumerate(cases):
        shapes = ", ".join(str(np.shape(a)) for a in make())
        checks.append(
            (
                f"backward on arrays, inputs of shape {shapes}",
                1.0,
                op_backward_check(entry, f, make, names, params, differentiable, seed=k),
            )
        )
    checks.append(
        (
            "the same backward on Tensors (create_graph=True: grad-of-grad can build on it)",
            1.0,
            op_backward_check(entry, f, cases[0], names, params, differentiable, seed=7, on_tensors=True),
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


def run_optimizer(optimizer_class: type, options: dict[str, Any], steps: int = 3) -> list[np.ndarray]:
    """The student's optimizer on one (2, 2) parameter with GRADIENTS; the parameter after each step."""
    import tinygrad_edu as tg

    p = tg.nn.Parameter(START.copy())
    opt = optimizer_class([p], **options)
    after = []
    for g in GRADIENTS[:steps]:
        p.grad = tg.Tensor(g.copy())
        opt.step()
        after.append(p.data.copy())
    return after


def trajectory_check(
    entry: str,
    options: dict[str, Any],
    reference: Callable[[int], list[np.ndarray]],
    known: Optional[dict[str, Callable[[], list[np.ndarray]]]] = None,
) -> Callable[[Any], list[str]]:
    """A check: the parameter after each of 3 steps against ``reference(shift)`` (the formula with the
    step count shifted by ``shift``; shift 0 is right, -1 and +1 spot an off-by-one step). ``known``
    maps the words for other common mistakes to the trajectory each gives."""

    def check(answer: Any) -> list[str]:
        got = run_optimizer(getattr(answer, entry), options)
        want = reference(0)
        neighbours = [reference(-1), reference(1)]
        before = START
        for t, (mine, right) in enumerate(zip(got, want), start=1):
            if close(mine, right):
                before = right
                continue
            # Compared as updates (after - before), so a sign or a factor in the step shows.
            lines = [
                f"parameter after step {t} (options {options}): yours {_short_array(mine)}, expected "
                f"{_short_array(right)}"
            ] + compare(
                f"  the update of step {t} (parameter after - before)",
                mine - before,
                right - before,
                neighbours=[n[t - 1] - before for n in neighbours],
                expected_name="expected",
            )
            for words, trajectory in (known or {}).items():
                if close(mine, trajectory()[t - 1]):
                    lines.append(f"  looks like: {words}")
            return lines
        return []

    return check


ONE_STYLE = """\
Write the backward with what ndarrays and Tensors share: arithmetic, @, .T,
.sum(axis=..., keepdims=...), .reshape, indexing, comparisons, and
run(Op, x) to call another op (run(Exp, x) rather than np.exp(x)). The same
code then runs on ndarrays in an ordinary backward and on Tensors under
create_graph=True (second derivatives)."""


def how_to_check(exercise_id: str) -> str:
    return f"Check it:  tinygrad-edu exercise check {exercise_id} exercises/{exercise_id}.py"


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
                    upstream=upstream if expected[i].shape == upstream.shape else None,
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

"""Exercise: the chain rule by hand, then on Value (seed 004, 2.2)."""

from __future__ import annotations

import math
from typing import Any, Optional

from tinygrad_edu.exercises._checks import how_to_check
from tinygrad_edu.exercises.feedback import HINTS, as_array, close, compare

ID = "chain_rule"
TITLE = "the chain rule by hand, on Value"
SEED = "seed 004, 2.2: f(x; w, b) = sigmoid(w x + b), df/dw = 0.25 at x = 1, w = 0, b = 0"
ENTRIES = ("by_hand", "with_value")

SOLUTION = f'''"""Exercise {ID}: the chain rule by hand, then with Value.

Seed 004, 2.2 splits f(x; w, b) = sigmoid(w * x + b) into elementary steps

    z = w * x + b             dz/dw = x,   dz/db = 1
    f = sigmoid(z)            df/dz = f * (1 - f)

and multiplies the derivatives along the path from f to each parameter:

    df/dw = df/dz * dz/dw = f * (1 - f) * x
    df/db = df/dz * dz/db = f * (1 - f)

At x = 1, w = 0, b = 0: f = 0.5 and df/dw = 0.25 (the seed's example).

1. by_hand(x, w, b): return (f, df/dw, df/db) as floats, with math only (no backward).
2. with_value(x, w, b): build f from tg.Value(w) and tg.Value(b), call f.backward(),
   and return (f.data, w.grad, b.grad): the engine does the same multiplications.

{how_to_check(ID)}
"""

import math

import tinygrad_edu as tg


def by_hand(x, w, b):
    ### BEGIN SOLUTION
    z = w * x + b
    f = 1 / (1 + math.exp(-z))
    df_dz = f * (1 - f)
    return f, df_dz * x, df_dz * 1.0
    ### END SOLUTION


def with_value(x, w, b):
    ### BEGIN SOLUTION
    w, b = tg.Value(w), tg.Value(b)
    f = (w * x + b).sigmoid()
    f.backward()
    return f.data, w.grad, b.grad
    ### END SOLUTION
'''

# x = 1 is the seed's point; at x = 3 and x = -1.5 df/dw = x df/db tells the usual mistakes apart
# (at x = 2 a swap would look like a factor 2).
POINTS = [(1.0, 0.0, 0.0), (3.0, -0.5, 0.3), (-1.5, 0.8, -0.2)]


def _expected(x: float, w: float, b: float) -> tuple[float, float, float, float]:
    """f, the central differences df/dw and df/db, and df/dz (the upstream gradient of z)."""

    def f(w: float, b: float) -> float:
        return 1 / (1 + math.exp(-(w * x + b)))

    h = 1e-6
    dw = (f(w + h, b) - f(w - h, b)) / (2 * h)
    db = (f(w, b + h) - f(w, b - h)) / (2 * h)
    return f(w, b), dw, db, f(w, b) * (1 - f(w, b))


CHAIN = "dz/dw = x and dz/db = 1, so df/dw = f * (1 - f) * x and df/db = f * (1 - f)"

# Incomplete derivatives of sigmoid, as functions of f. At f = 0.5 (the seed's point) df/dz = f is
# twice f * (1 - f), so only the other points tell one from a factor 2: each is named only when it
# gives the student's df/dw and df/db at every point.
SIGMOID_MISTAKES = {
    "df/dz = f": lambda f: f,
    "df/dz = 1 - f": lambda f: 1 - f,
}
SIGMOID_HINT = "differentiate sigmoid(z) = 1 / (1 + exp(-z)) and write df/dz in terms of f"


def _sigmoid_mistake(fn: Any) -> Optional[str]:
    """The incomplete sigmoid derivative that ``fn`` (by_hand or with_value) uses at every point, if any."""
    try:
        results = [(fn(x, w, b), x, _expected(x, w, b)[0]) for x, w, b in POINTS]
    except Exception:  # the check itself reports what the student's code raised
        return None
    for words, df_dz in SIGMOID_MISTAKES.items():
        if all(
            isinstance(got, tuple)
            and len(got) == 3
            and close(as_array(got[1]), df_dz(f) * x)
            and close(as_array(got[2]), df_dz(f))
            for got, x, f in results
        ):
            return (
                f"  looks like: the derivative of sigmoid is incomplete (yours is {words}). "
                f"Hint: {SIGMOID_HINT}"
            )
    return None


def _backward_not_called(name: str, fn: Any) -> Optional[str]:
    """with_value gives df/dw = df/db = 0 at every point: the gradients a Value starts with, so no
    backward ran (or the grads were read from other Values than the ones f was built from)."""
    if name != "with_value":
        return None
    try:
        results = [fn(x, w, b) for x, w, b in POINTS]
    except Exception:  # the check itself reports what the student's code raised
        return None
    def grads_are_zero(got: Any) -> bool:
        return isinstance(got, tuple) and len(got) == 3 and all(close(as_array(g), 0.0) for g in got[1:])

    if all(grads_are_zero(got) for got in results):
        return (
            "  looks like: no backward reached w and b (their grads are still 0). Hint: call f.backward() "
            "before reading w.grad and b.grad, on the f built from the Values w and b you return the grads of"
        )
    return None


def _chain_mistakes(x: float, got_dw: Any, got_db: Any, dw: float, db: float) -> tuple[list[str], list[str]]:
    """The chain rule's own mistakes, as (lines after df/dw, lines after df/db)."""
    mine_dw, mine_db = as_array(got_dw), as_array(got_db)
    if mine_dw is None or mine_db is None or close(dw, db):  # at x = 1 they cannot be told apart
        return [], []
    if close(mine_dw, db) and close(mine_db, dw):
        return [], [f"  looks like: swapped between the inputs (df/dw and df/db). Hint: {CHAIN}"]
    if close(mine_dw, dw * x):
        return [f"  looks like: dz/dw = x multiplied in twice. Hint: {CHAIN}"], []
    if close(mine_dw, db):
        return [f"  looks like: the factor dz/dw = x is missing. Hint: {CHAIN}"], []
    return [], []


def _check_function(name: str, points: list[tuple[float, float, float]]) -> Any:
    def check(answer: Any) -> list[str]:
        problems: list[str] = []
        fn = getattr(answer, name)
        whole_run = _sigmoid_mistake(fn) or _backward_not_called(name, fn)  # (named at every point)
        for x, w, b in points:
            got = fn(x, w, b)
            if not (isinstance(got, tuple) and len(got) == 3):
                return [f"{name}({x}, {w}, {b}) returned {got!r}; expected a tuple (f, df_dw, df_db)"]
            value, dw, db, df_dz = _expected(x, w, b)
            where = f"{name}(x={x}, w={w}, b={b})"
            after_dw, after_db = _chain_mistakes(x, got[1], got[2], dw, db)
            if whole_run:
                after_dw, after_db = [whole_run], [whole_run]
            hints = {} if after_dw or after_db else None  # a generic hint only when none of these fits
            problems += compare(f"{where}: f", got[0], value, expected_name="expected")
            dw_lines = compare(f"{where}: df/dw", got[1], dw, upstream=df_dz, hints=hints)
            db_lines = compare(f"{where}: df/db", got[2], db, upstream=df_dz, hints=hints)
            problems += dw_lines + (after_dw if dw_lines else [])
            problems += db_lines + (after_db if db_lines else [])
        return problems

    return check


def _doubled_everywhere(fn: Any) -> bool:
    """True when ``fn`` gives twice (or half) the right df/dw at every point: a real factor 2, which
    at the seed's point alone (f = 0.5) an incomplete sigmoid derivative would look like too."""
    try:
        dws = [(as_array(fn(x, w, b)[1]), _expected(x, w, b)[1]) for x, w, b in POINTS]
    except Exception:  # the check itself reports what the student's code raised
        return False
    return all(mine is not None and (close(mine, 2 * dw) or close(2 * mine, dw)) for mine, dw in dws)


def _check_the_seed_number(answer: Any) -> list[str]:
    got = answer.by_hand(1.0, 0.0, 0.0)
    sigmoid = _sigmoid_mistake(answer.by_hand)
    if sigmoid:
        hints: dict = {}
    elif _doubled_everywhere(answer.by_hand):
        hints = HINTS
    else:
        hints = {key: hint for key, hint in HINTS.items() if key != "factor2"}
    lines = compare(
        "by_hand(1, 0, 0): df/dw (the seed's 0.25)",
        got[1],
        0.25,
        upstream=0.25,
        expected_name="the seed's",
        hints=hints,
    )
    return lines + [sigmoid] if lines and sigmoid else lines


CHECKS = [
    ("by_hand gives the seed's df/dw = 0.25 at x = 1, w = 0, b = 0", 1.0, _check_the_seed_number),
    ("by_hand at three points against finite differences", 1.0, _check_function("by_hand", POINTS)),
    ("with_value (Value and backward) at three points", 1.0, _check_function("with_value", POINTS)),
]

MISTAKES = [
    ("return f, df_dz * x, df_dz * 1.0", "return f, x, 1.0", "off by the upstream gradient"),
    ("return f, df_dz * x, df_dz * 1.0", "return f, -df_dz * x, df_dz * 1.0", "sign"),
    ("return f, df_dz * x, df_dz * 1.0", "return f, df_dz * 1.0, df_dz * x", "swapped between the inputs"),
    ("return f, df_dz * x, df_dz * 1.0", "return f, df_dz * x * x, df_dz * 1.0", "multiplied in twice"),
    ("df_dz = f * (1 - f)", "df_dz = f", "the derivative of sigmoid is incomplete (yours is df/dz = f)"),
]

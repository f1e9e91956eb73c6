"""Exercise: gradient checking itself, the course's gradient_check_n."""

from typing import Any, Callable, Optional

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check
from tinygrad_edu.exercises.feedback import compare

ID = "gradient_check_n"
TITLE = "gradient checking: the course's gradient_check_n (relative difference, eps = 1e-7)"
SEED = "the course's gradient checking exercise (week 1), which prints difference = 1.18855520355e-07"
ENTRIES = ("gradient_check_n",)

SOLUTION = f'''"""Exercise {ID}: write the course's gradient check.

For each parameter theta_i (theta is the column vector of all parameters, shape (n, 1)):

    thetaplus  = copy of theta with theta_i + epsilon      J_plus[i]  = cost(thetaplus)
    thetaminus = copy of theta with theta_i - epsilon      J_minus[i] = cost(thetaminus)
    gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)

then the relative difference between backprop's grad and gradapprox:

    difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)      (np.linalg.norm)

The course: below 2e-7 the backward is right; on its 3-layer test case the
correct backward gives difference = 1.18855520355e-07 (your answer must agree to 1 %:
the later digits are rounding), its buggy one 0.285.
cost(theta) returns the cost J for a parameter vector; grad has theta's shape.

{how_to_check(ID)}
"""

import numpy as np


def gradient_check_n(cost, theta, grad, epsilon=1e-7):
    n = theta.shape[0]
    gradapprox = np.zeros((n, 1))
    ### BEGIN SOLUTION
    for i in range(n):
        thetaplus = np.copy(theta)
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        J_plus = cost(thetaplus)
        thetaminus = np.copy(theta)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        J_minus = cost(thetaminus)
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return numerator / denominator
    ### END SOLUTION
'''

# --- the course's test case, written out as the course writes it (samples in columns) ---------

KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def course_test_case() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """gradient_check_n_test_case: np.random.seed(1), x (4, 3), y = [1, 1, 0], a 3-layer network."""
    np.random.seed(1)
    x = np.random.randn(4, 3)
    y = np.array([1, 1, 0])
    shapes = [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    return x, y, {k: np.random.randn(*s) for k, s in zip(KEYS, shapes)}


def forward_propagation_n(X: np.ndarray, Y: np.ndarray, p: dict[str, np.ndarray]) -> tuple[float, tuple]:
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID and the course's cost, op for op."""
    m = X.shape[1]
    Z1 = np.dot(p["W1"], X) + p["b1"]
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(p["W2"], A1) + p["b2"]
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(p["W3"], A2) + p["b3"]
    A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    return 1.0 / m * np.sum(logprobs), (Z1, A1, Z2, A2, Z3, A3)


def backward_propagation_n(
    X: np.ndarray, Y: np.ndarray, p: dict[str, np.ndarray], cache: tuple, buggy: bool = False
) -> dict[str, np.ndarray]:
    """The course's backward (dZ3 = A3 - Y); with ``buggy`` its two planted bugs (dW2 * 2, db1 4/m)."""
    m = X.shape[1]
    Z1, A1, Z2, A2, Z3, A3 = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dZ2 = np.multiply(np.dot(p["W3"].T, dZ3), np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * (2 if buggy else 1)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(p["W2"].T, dZ2), np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = (4.0 if buggy else 1.0) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}


def course_problem(buggy: bool = False) -> tuple[Callable[[np.ndarray], float], np.ndarray, np.ndarray]:
    """(cost of a parameter vector, theta, grad) for the course's test case: dictionary_to_vector and back."""
    X, Y, params = course_test_case()
    theta = np.concatenate([params[k].reshape(-1, 1) for k in KEYS])
    _, cache = forward_propagation_n(X, Y, params)
    grads = backward_propagation_n(X, Y, params, cache, buggy)
    grad = np.concatenate([grads[k].reshape(-1, 1) for k in KEYS])

    def cost(vector: np.ndarray) -> float:
        p, i = {}, 0
        for k in KEYS:
            size = params[k].size
            p[k] = vector[i : i + size].reshape(params[k].shape)
            i += size
        return forward_propagation_n(X, Y, p)[0]

    return cost, theta, grad


FORMULA = (
    "gradapprox = (J_plus - J_minus) / (2 * epsilon), "
    "difference = ||grad - gradapprox|| / (||grad|| + ||gradapprox||)"
)
# Dividing by epsilon (gradapprox = 2 g) and a J_minus taken at theta (gradapprox = g / 2) give the
# same difference, 1/3 = ||g - 2g|| / (||g|| + ||2g||) = ||g - g/2|| / (||g|| + ||g/2||). A second run
# with 3 * grad tells them apart (1/5 for 2 g, 5/7 for g / 2): a mistake is named only when it fits both.
MISTAKE_HINTS = {
    "divided by epsilon instead of 2 * epsilon (factor 2)": FORMULA,
    "a one-sided difference (J_plus - J) / epsilon instead of the central one": FORMULA,
    "J_minus was computed at theta, not at theta - epsilon (gradapprox is half the gradient)": (
        "thetaminus is not a copy of theta of its own: thetaminus = thetaplus gives one array two "
        "names, so its - epsilon undoes the + epsilon; make thetaminus from theta as thetaplus is made"
    ),
    "the denominator without ||gradapprox||": FORMULA,
    "no denominator (the absolute, not the relative, difference)": FORMULA,
}
AGAIN_SCALED_BY = 3.0  # the factor by which the second run scales grad


def _variants(cost: Callable[[np.ndarray], float], theta: np.ndarray, eps: float) -> dict:
    """For each common mistake, the difference it gives as a function of grad (computed here)."""
    plus, minus = np.zeros_like(theta), np.zeros_like(theta)
    base = cost(theta)
    for i in range(theta.shape[0]):
        t = theta.copy()
        t[i, 0] += eps
        plus[i] = cost(t)
        t = theta.copy()
        t[i, 0] -= eps
        minus[i] = cost(t)
    central = (plus - minus) / (2 * eps)

    def diff(approx: np.ndarray, denominator: Optional[Callable] = None) -> Callable[[np.ndarray], float]:
        def of(grad: np.ndarray) -> float:
            d = np.linalg.norm(grad) + np.linalg.norm(approx) if denominator is None else denominator(grad)
            return float(np.linalg.norm(grad - approx) / d)

        return of

    words = list(MISTAKE_HINTS)
    return {
        words[0]: diff((plus - minus) / eps),
        words[1]: diff((plus - base) / eps),
        words[2]: diff((plus - base) / (2 * eps)),
        words[3]: diff(central, lambda grad: float(np.linalg.norm(grad))),
        words[4]: diff(central, lambda grad: 1.0),
    }


SHARED = (
    "  looks like: your gradient_check_n changed the theta it was given (thetaplus = theta is the "
    "caller's array, not a copy: each + epsilon stays in it). Hint: thetaplus = np.copy(theta), "
    "and the same for thetaminus"
)


def _run(answer: Any, cost: Callable[[np.ndarray], float], theta: np.ndarray, grad: np.ndarray) -> tuple:
    """The student's difference for theta and grad (given copies), and whether it changed its theta."""
    given = theta.copy()
    got = answer.gradient_check_n(cost, given, grad.copy(), 1e-7)
    return got, not np.array_equal(given, theta)


def _named_mistakes(answer: Any, cost: Callable, theta: np.ndarray, grad: np.ndarray, got: Any) -> list[str]:
    """The lines naming the mistakes whose difference is the student's, for grad and for 3 * grad."""
    models = _variants(cost, theta, 1e-7)
    fits = [
        words for words, model in models.items() if np.isclose(float(np.asarray(got)), model(grad), rtol=1e-2)
    ]
    if not fits:
        return []
    again = float(np.asarray(_run(answer, cost, theta, AGAIN_SCALED_BY * grad)[0]))
    return [
        f"  looks like: {words}. Hint: {MISTAKE_HINTS[words]}"
        for words in fits
        if np.isclose(again, models[words](AGAIN_SCALED_BY * grad), rtol=1e-2)
    ]


def _check_against(buggy: bool, printed: float, words: str) -> Any:
    def check(answer: Any) -> list[str]:
        cost, theta, grad = course_problem(buggy)
        got, changed = _run(answer, cost, theta, grad)
        lines = compare(
            f"difference on the course's test case ({words})",
            got,
            printed,
            expected_name="the course prints",
            rtol=1e-2,
            atol=0,
            hints={},  # a difference is no derivative: the gradient hints cannot be the cause
        )
        if lines and changed:
            return lines + [SHARED]
        if lines:
            lines += _named_mistakes(answer, cost, theta, grad, got)
        return lines

    return check


def _check_exact(answer: Any) -> list[str]:
    # J = sum(c * theta**2) / 2 has the gradient c * theta, and the central difference is exact for it.
    c = np.array([[1.0], [2.0], [0.5], [3.0]])
    theta = np.array([[0.3], [-1.2], [2.0], [0.7]])

    def cost(t: np.ndarray) -> float:
        return float(np.sum(c * t**2) / 2)

    got, changed = _run(answer, cost, theta, c * theta)
    problems = (
        []
        if float(np.asarray(got)) < 1e-7
        else [
            f"a correct gradient of a quadratic gives difference {float(np.asarray(got)):.3g}; "
            "expected below 1e-7"
        ]
    )
    wrong, changed_too = _run(answer, cost, theta, 2 * c * theta)
    if not np.isclose(float(np.asarray(wrong)), 1 / 3, rtol=1e-4):
        problems.append(
            f"a gradient twice too large gives difference {float(np.asarray(wrong)):.6g}; expected "
            "1/3 = ||2g - g|| / (||2g|| + ||g||)"
        )
    if problems and (changed or changed_too):
        problems.append(SHARED)
    elif problems:
        problems += _named_mistakes(answer, cost, theta, c * theta, got)
    return problems


CHECKS = [
    (
        "the course's correct backward: difference 1.19e-07",
        1.0,
        _check_against(False, 1.18855520355e-07, "correct backward"),
    ),
    (
        "the course's buggy backward: difference 0.285",
        1.0,
        _check_against(True, 0.2850931567761624, "buggy backward"),
    ),
    ("a quadratic: 0 for the right gradient, 1/3 for twice it", 1.0, _check_exact),
]

MISTAKES = [
    (
        "gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)",
        "gradapprox[i] = (J_plus - J_minus) / epsilon",
        "factor 2",
    ),
    (
        "denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)",
        "denominator = np.linalg.norm(grad)",
        "without ||gradapprox||",
    ),
    ("thetaplus = np.copy(theta)", "thetaplus = theta", "changed the theta it was given"),
    ("thetaminus = np.copy(theta)", "thetaminus = thetaplus", "J_minus was computed at theta"),
]

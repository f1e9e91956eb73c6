"""Exercise: inverted dropout, forward and backward, with the course's mask."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, backward_on_arrays, forward_on_arrays, how_to_check
from tinygrad_edu.exercises.feedback import compare

ID = "inverted_dropout"
TITLE = "inverted dropout, forward and backward (the course's mask)"
SEED = "seed 002 (the Dropout class: mask times x, the mask again in backward); the course's keep_prob"
ENTRIES = ("InvertedDropout",)

SOLUTION = f'''"""Exercise {ID}: inverted dropout as an op, with the course's mask.

The course's forward_propagation_with_dropout, for an activation A:

    D = rng.rand(*A.shape)          # uniform in [0, 1), one number per element
    D = D < keep_prob               # keep an element with probability keep_prob
    A = A * D                       # drop the others
    A = A / keep_prob               # scale the survivors: the expected value stays A

and its backward_propagation_with_dropout: dA = dA * D / keep_prob, the same
mask and scale (the op multiplies by a constant). Seed 002's Dropout class
keeps the mask for backward the same way. Draw D from the rng argument (a
np.random.RandomState), save it, and use it in backward.

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg


class InvertedDropout(tg.Function):
    def forward(self, x, keep_prob=0.8, rng=None):
        rng = np.random if rng is None else rng
        ### BEGIN SOLUTION
        mask = rng.rand(*x.shape) < keep_prob
        self.save_for_backward(mask, keep_prob)
        return x * mask / keep_prob
        ### END SOLUTION

    def backward(self, grad):
        ### BEGIN SOLUTION
        mask, keep_prob = self.saved
        return grad * mask / keep_prob
        ### END SOLUTION
'''


def _x() -> np.ndarray:
    return np.random.default_rng(5).uniform(0.5, 1.5, (4, 6))


def _check_forward(answer: Any) -> list[str]:
    x = _x()
    _, out = forward_on_arrays(
        answer.InvertedDropout, (x,), {"keep_prob": 0.7, "rng": np.random.RandomState(1)}
    )
    mask = np.random.RandomState(1).rand(*x.shape) < 0.7
    lines = compare(
        "forward with keep_prob=0.7, rng=RandomState(1)", out, x * mask / 0.7, expected_name="expected"
    )
    if lines and np.shape(out) == mask.shape and np.array_equal(np.asarray(out) != 0, ~mask):
        lines.append(
            "  looks like: the mask keeps the units it should drop and drops the others. Hint: keep a "
            "unit where its random number, uniform in [0, 1), falls below keep_prob"
        )
    return lines


def _course_test_case() -> tuple[np.ndarray, list[np.ndarray]]:
    """The course's forward_propagation_with_dropout_test_case (samples in columns)."""
    np.random.seed(1)
    X = np.random.randn(3, 5)
    shapes = [(2, 3), (2, 1), (3, 2), (3, 1), (1, 3), (1, 1)]
    return X, [np.random.randn(*s) for s in shapes]


def _check_course_number(answer: Any) -> list[str]:
    X, (W1, b1, W2, b2, W3, b3) = _course_test_case()
    rng = np.random.RandomState(1)  # the course calls np.random.seed(1) once, before D1 and D2
    A1 = forward_on_arrays(
        answer.InvertedDropout, (np.maximum(0, W1 @ X + b1),), {"keep_prob": 0.7, "rng": rng}
    )[1]
    A2 = forward_on_arrays(
        answer.InvertedDropout, (np.maximum(0, W2 @ A1 + b2),), {"keep_prob": 0.7, "rng": rng}
    )[1]
    A3 = 1 / (1 + np.exp(-(W3 @ A2 + b3)))
    printed = np.array([[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]])
    return compare(
        "the course's A3 (keep_prob=0.7)", A3, printed, expected_name="the course prints", atol=1e-8
    )


def _check_backward(answer: Any) -> list[str]:
    x = _x()
    upstream = np.random.default_rng(6).uniform(-2, 2, x.shape)
    grads = backward_on_arrays(
        answer.InvertedDropout, (x,), upstream, {"keep_prob": 0.6, "rng": np.random.RandomState(2)}
    )
    mask = np.random.RandomState(2).rand(*x.shape) < 0.6
    return compare(
        "gradient for x (keep_prob=0.6)",
        grads[0],
        upstream * mask / 0.6,
        upstream=upstream,
        expected_name="expected",
    )


def _check_on_tensors(answer: Any) -> list[str]:
    import tinygrad_edu as tg

    x = tg.Tensor(_x(), requires_grad=True)
    out = answer.InvertedDropout.apply(x, keep_prob=0.6, rng=np.random.RandomState(2))
    upstream = np.random.default_rng(7).uniform(-2, 2, x.shape)
    (g,) = tg.grad(out, [x], grad_outputs=tg.Tensor(upstream), create_graph=True)
    mask = np.random.RandomState(2).rand(*x.shape) < 0.6
    return compare(
        "gradient for x through the engine",
        g.data,
        upstream * mask / 0.6,
        upstream=upstream,
        expected_name="expected",
    )


def _check_mean(answer: Any) -> list[str]:
    x = np.ones((200, 200))
    _, out = forward_on_arrays(
        answer.InvertedDropout, (x,), {"keep_prob": 0.8, "rng": np.random.RandomState(0)}
    )
    kept = float(np.mean(out != 0))
    if abs(kept - 0.8) > 0.02:  # the mask, not the scale, is wrong: dividing by keep_prob cannot fix it
        return [
            f"the mask keeps {kept:.1%} of the units, expected keep_prob = 80% (the mean of dropout(ones) "
            f"is {out.mean():.4f}, expected about 1). Hint: a unit is kept with probability keep_prob, "
            "when its random number, uniform in [0, 1), falls below keep_prob"
        ]
    if abs(out.mean() - 1.0) > 0.02:
        return [
            f"the mean of dropout(ones) is {out.mean():.4f}, expected about 1: inverted dropout divides "
            "the survivors by keep_prob so that the expected value is unchanged"
        ]
    return []


CHECKS = [
    ("forward: the course's mask rand < keep_prob, scaled by 1 / keep_prob", 1.0, _check_forward),
    ("the course's forward_propagation_with_dropout gives its printed A3", 1.0, _check_course_number),
    ("the expected value is unchanged (mean of dropout(ones) is 1)", 1.0, _check_mean),
    ("backward on arrays: the same mask and scale", 1.0, _check_backward),
    ("the same backward on Tensors (create_graph=True)", 1.0, _check_on_tensors),
]

MISTAKES = [
    ("return grad * mask / keep_prob", "return mask / keep_prob", "off by the upstream gradient"),
    ("return grad * mask / keep_prob", "return grad * mask", "off by a constant factor"),
    ("mask = rng.rand(*x.shape) < keep_prob", "mask = rng.rand(*x.shape) > keep_prob", "the course prints"),
    (
        "mask = rng.rand(*x.shape) < keep_prob",
        "mask = rng.rand(*x.shape) > keep_prob",
        "the mask keeps 19.9%",
    ),
]

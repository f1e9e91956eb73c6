"""The course reproduced where it differs: its dropout masks, its gradient_check_n number, its Adam."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import exercises, nn
from tinygrad_edu.exercises import gradient_check_n as course_gc
from tinygrad_edu.exercises._kit import load_file
from tinygrad_edu.nn import functional as F

# The course's forward_propagation_with_dropout on its test case, keep_prob = 0.7, prints
A3_PRINTED = np.array([[0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721]])


def dropout_test_case():
    """forward_propagation_with_dropout_test_case: np.random.seed(1), X (3, 5), a [3, 2, 3, 1] network."""
    np.random.seed(1)
    X = np.random.randn(3, 5)
    shapes = [(2, 3), (2, 1), (3, 2), (3, 1), (1, 3), (1, 1)]
    return X, [np.random.randn(*s) for s in shapes]


def test_dropout_keep_course_reproduces_the_courses_printed_activations():
    X, (W1, b1, W2, b2, W3, b3) = dropout_test_case()
    rng = np.random.RandomState(1)  # the course: np.random.seed(1), then D1 and D2 from the same stream
    model = nn.Sequential(
        nn.Linear(3, 2, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.3, rng=rng, keep="course"),
        nn.Linear(2, 3, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.3, rng=rng, keep="course"),
        nn.Linear(3, 1, dtype=np.float64),
        nn.Sigmoid(),
    )
    for layer, W, b in zip([model[0], model[3], model[6]], [W1, W2, W3], [b1, b2, b3]):
        layer.weight.data[...] = W
        layer.bias.data[...] = b.ravel()
    a3 = model(tg.Tensor(X.T))  # samples are rows here
    np.testing.assert_allclose(a3.data.T, A3_PRINTED, atol=1e-8)


def test_dropout_keep_course_is_the_courses_mask_for_its_column_layout():
    x = tg.Tensor(np.ones((5, 3)))  # 5 samples, 3 features; the course's A is (3, 5)
    out = F.dropout(x, p=0.2, rng=np.random.RandomState(4), keep="course")
    D = np.random.RandomState(4).rand(3, 5) < 0.8  # the course's D = np.random.rand(n, m) < keep_prob
    np.testing.assert_array_equal(out.data, D.T / 0.8)


def test_the_default_keep_rule_is_the_seeds_dropout_class():
    x = tg.Tensor(np.ones((4, 6)))
    out = F.dropout(x, p=0.5, rng=np.random.RandomState(2))
    mask = np.random.RandomState(2).rand(4, 6) > 0.5  # seed 002: np.random.rand(*x.shape) > dropout_ratio
    np.testing.assert_array_equal(out.data, mask / 0.5)


def test_dropout_takes_a_mask_from_the_caller_and_its_gradient_is_the_scaled_mask():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = np.array([[1, 0, 1], [0, 0, 1]])
    out = F.dropout(x, p=0.25, mask=mask)
    np.testing.assert_allclose(out.data, np.arange(6.0).reshape(2, 3) * mask / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, mask / 0.75)


def test_dropout_rejects_a_bad_keep_rule_or_mask():
    with pytest.raises(ValueError, match="keep must be one of"):
        nn.Dropout(0.5, keep="below")
    with pytest.raises(ValueError, match=r"dropout: mask has shape \(2,\); expected x's shape \(2, 3\)"):
        F.dropout(tg.Tensor(np.ones((2, 3))), 0.5, mask=np.ones(2))
    assert repr(nn.Dropout(0.5, keep="course")) == "Dropout(p=0.5, keep='course')"


def test_the_gradient_check_exercise_gives_the_courses_number(tmp_path):
    # The course prints "Your backward propagation works perfectly fine! difference = 1.18855520355e-07".
    module = load_file(exercises.solution("gradient_check_n", tmp_path), exercises.get("gradient_check_n"))
    cost, theta, grad = course_gc.course_problem()
    difference = module.gradient_check_n(cost, theta, grad, epsilon=1e-7)
    assert f"{difference:.3g}" == "1.19e-07"
    assert difference < 2e-7
    # and its buggy backward: "There is a mistake in the backward propagation! difference = 0.285093156776"
    cost, theta, grad = course_gc.course_problem(buggy=True)
    assert module.gradient_check_n(cost, theta, grad, epsilon=1e-7) == pytest.approx(
        0.2850931567761624, rel=1e-9
    )


def test_the_courses_cost_gradient_is_bce_with_logits():
    # dZ3 = A3 - Y (over m) is the gradient of BCEWithLogitsLoss with respect to the scores z.
    z = np.array([[40.0], [-3.0], [0.5], [-800.0]])
    y = np.array([[0.0], [1.0], [1.0], [1.0]])
    scores = tg.Tensor(z, requires_grad=True)
    nn.BCEWithLogitsLoss()(scores, y).backward()
    with np.errstate(over="ignore"):
        a3 = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(scores.grad.data, (a3 - y) / len(z), rtol=1e-12)
    # Sigmoid + BCELoss: a sigmoid that rounds to exactly 1.0 (z = 40) or 0.0 (z = -800) on the wrong side
    # hits the log's clamp and passes back no gradient at all; the course's A3 - Y is 1 and -1 there.
    scores = tg.Tensor(z, requires_grad=True)
    nn.BCELoss()(scores.sigmoid(), y).backward()
    assert scores.grad.data[0, 0] == 0.0 and scores.grad.data[3, 0] == 0.0


def test_the_reference_gradient_check_n_agrees_with_the_course_to_the_one_percent_the_docs_say():
    # exercises.md: 1.19e-07 to three digits (the later ones differ between numpy versions), the
    # course's 1.18855520355e-07 within 1 %.
    from tinygrad_edu.exercises import gradient_check_n as task

    cost, theta, grad = task.course_problem(False)
    namespace = {}
    exec(compile(exercises.get("gradient_check_n").reference, "reference", "exec"), namespace)
    got = float(namespace["gradient_check_n"](cost, theta, grad))
    assert f"{got:.2e}" == "1.19e-07"
    expected = "1.1891e-07" if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else "1.1862e-07"
    assert f"{got:.4e}" == expected  # the two numpy versions CI runs, as the docs say
    assert abs(got / 1.18855520355e-07 - 1) < 1e-2

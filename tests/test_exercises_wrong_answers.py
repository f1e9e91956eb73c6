"""Wrong answers that the checks once passed or explained badly: each must fail, on every check the
mistake affects, with feedback that names the mistake."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import exercises
from tinygrad_edu.exercises._kit import load_file, plant, run_checks
from tinygrad_edu.exercises.feedback import compare

TENSOR_CHECK = "the same backward on Tensors"


def failed(report):
    """The names of the checks that failed."""
    return [c.name for c in report.checks if not c.passed]


# --- backward_sum: the reshape that keepdims=False needs --------------------------------------


class SumForward(tg.Function):
    """backward_sum's forward, as the exercise gives it: the answers below differ in backward only."""

    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(axis, keepdims)
        return np.sum(x, axis=axis, keepdims=keepdims)


class SumWithoutReshape(SumForward):
    def backward(self, grad):
        (x,) = self.inputs
        return grad * np.ones(x.shape, dtype=x.dtype)  # the summed axis is not put back


def test_a_sum_backward_without_the_reshape_fails_on_a_non_leading_axis():
    report = exercises.check("backward_sum", SumWithoutReshape)
    assert not report.passed and report.score < 1
    bad = failed(report)
    assert any(name.startswith("axis=1, keepdims=False") for name in bad), str(report)
    assert any(name.startswith("axis=-1, keepdims=False") for name in bad), str(report)
    assert "forgotten keepdims" in str(report)


class SumWithExpandDims(SumForward):
    def backward(self, grad):
        (x,) = self.inputs
        axis, keepdims = self.saved
        if axis is not None and not keepdims:
            grad = np.expand_dims(grad, axis)  # an ndarray even when grad is a Tensor
        return grad * np.ones_like(x)


class SumOfValues(SumForward):
    def backward(self, grad):
        (x,) = self.inputs
        axis, keepdims = self.saved
        values = grad.data if isinstance(grad, tg.Tensor) else grad  # the values, off the graph
        if axis is not None and not keepdims:
            values = values.reshape(x.shape[:axis % x.ndim] + (1,) + x.shape[axis % x.ndim + 1:])
        return values * np.ones_like(x.data if isinstance(x, tg.Tensor) else x)


def test_a_sum_backward_that_leaves_the_graph_fails_the_check_on_tensors():
    # before: both passed 10 of 10; under create_graph they return values without a graph, so
    # gradgradcheck failed ("first derivative has no graph") and tg.grad(create_graph=True) gave
    # a gradient with requires_grad=False
    report = exercises.check("backward_sum", SumWithExpandDims)
    bad = failed(report)
    assert bad and all(TENSOR_CHECK in name for name in bad), str(report)
    assert "np.expand_dims was given a Tensor that requires grad" in str(report)
    assert "Write it with t.unsqueeze(axis), or .reshape with a 1 at the axis" in str(report)
    report = exercises.check("backward_sum", SumOfValues)
    bad = failed(report)
    assert bad and all(TENSOR_CHECK in name for name in bad), str(report)
    assert "the values are right, but on Tensors (create_graph=True) Sum.backward returned an ndarray" in (
        str(report)
    )


# --- the check on Tensors compares what the backward returns, not what the engine makes of it ---


class AddWithoutReduction(tg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad, grad  # sum_to_shape returning g unchanged


class LinearWithoutBiasSum(tg.Function):
    def forward(self, x, W, b):
        return x @ W.T + b

    def backward(self, grad):
        x, W, b = self.inputs
        return grad @ W, grad.T @ x, grad


def test_a_missing_broadcast_reduction_fails_the_check_on_tensors_too():
    for exercise_id, answer in [
        ("broadcast_add", AddWithoutReduction),
        ("linear_layer", LinearWithoutBiasSum),
    ]:
        report = exercises.check(exercise_id, answer)
        assert report.score == 0, str(report)
        tensors = next(c for c in report.checks if c.name.startswith(TENSOR_CHECK))
        assert not tensors.passed
        assert "yours has shape" in " ".join(tensors.lines) and "missing broadcast reduction" in str(report)


# --- a file that tampers with the checks at import ---------------------------------------------

REPLACES_RUN_CHECKS = """
from tinygrad_edu.exercises import _kit
import tinygrad_edu as tg


class Tanh(tg.Function):
    def forward(self, x):
        return x

    def backward(self, grad):
        return grad


_original = _kit.run_checks


def everything_passes(exercise, answer):
    report = _original(exercise, answer)
    for c in report.checks:
        c.passed, c.lines = True, []
    return report


_kit.run_checks = everything_passes
"""


def test_a_file_that_replaces_run_checks_does_not_pass(tmp_path):
    path = tmp_path / "backward_tanh.py"
    path.write_text(REPLACES_RUN_CHECKS)
    report = exercises.check("backward_tanh", path)
    assert not report.passed and report.score == 0, str(report)


def test_the_docs_say_what_running_in_one_process_does_not_guard_against():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "exercises.md").read_text()
    assert "cannot pass on someone else's code" not in text
    assert "not against deliberate tampering" in text


# --- hints ------------------------------------------------------------------------------------


def test_an_unreduced_add_gradient_gets_no_swap_hint():
    report = exercises.check("broadcast_add", AddWithoutReduction)
    assert "missing broadcast reduction" in str(report)
    assert "swapped" not in str(report), str(report)


class MatMulWithoutTranspose(tg.Function):
    def forward(self, a, b):
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        return grad @ b, a @ grad


def test_a_matmul_backward_without_the_transpose_is_named_with_its_shapes():
    report = exercises.check("backward_matmul", MatMulWithoutTranspose)
    assert report.score == 0
    for c in report.checks:
        assert "a missing transpose (.T)" in " ".join(c.lines), str(report)
    assert "gufunc" not in str(report)
    assert "grad (3, 2), a (3, 4), b (4, 2)" in str(report)


class AddWithoutKeepdims(tg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        a, b = self.inputs
        return tuple(self.reduce(grad, x.shape) for x in (a, b))

    @staticmethod
    def reduce(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        for axis, size in reversed(list(enumerate(shape))):
            if size == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis)  # keepdims forgotten: (4, 5) -> (4,) for a of shape (4, 1)
        return g


def test_a_forgotten_keepdims_is_named():
    report = exercises.check("broadcast_add", AddWithoutKeepdims)
    assert not report.passed
    assert "yours has shape (4,), expected shape (4, 1)" in str(report)
    assert "forgotten keepdims" in str(report)
    lines = compare("gradient for b", np.ones(4), np.ones((4, 1)))
    assert "forgotten keepdims" in "\n".join(lines)


def test_a_syntax_error_names_the_students_file_and_line(tmp_path):
    path = tmp_path / "backward_tanh.py"
    path.write_text("import numpy as np\n\n\ndef f(:\n    pass\n")
    report = exercises.check("backward_tanh", path)
    assert report.status == "does not load"
    assert "line 4 of backward_tanh.py: def f(:" in report.error, report.error
    assert "frozen" not in report.error


# --- one plausible wrong line in the reference: the hint names it, and no hint that does not fit -------

MOMENTUM_STEP = "        v *= beta\n        v += (1 - beta) * grad\n        param -= lr * v\n"
DERIVATIVE_HINT = "d(x**2)/dx"  # the generic factor-2 hint's explanation: only where a derivative is

# (exercise, the line in the reference, the wrong line, words the feedback must have, words it must not)
WRONG_LINES = [
    (
        "chain_rule",
        "    f.backward()\n",
        "",
        ["no backward reached w and b (their grads are still 0)", "call f.backward()"],
        [DERIVATIVE_HINT, "factor"],
    ),
    (
        "chain_rule",
        "return f, df_dz * x, df_dz * 1.0",
        "return f, df_dz * 1.0, df_dz * x",
        ["swapped between the inputs (df/dw and df/db)"],
        ["factor 2"],
    ),
    (
        "chain_rule",
        "return f, df_dz * x, df_dz * 1.0",
        "return f, df_dz * x * x, df_dz * 1.0",
        ["dz/dw = x multiplied in twice"],
        ["factor 2"],
    ),
    (
        "lr_decay",
        "np.floor(epoch_num / time_interval)",
        "(np.floor(epoch_num // time_interval) + 1)",
        ["schedule_lr_decay(0.1, 999, 1.0, time_interval=1000): yours 0.05, expected 0.1"],
        ["looks like", DERIVATIVE_HINT],
    ),
    (
        "momentum",
        "v += (1 - beta) * grad",
        "v += grad",
        ["off by a constant factor (10)", "off by a constant factor (2)"],
        [DERIVATIVE_HINT],
    ),
    (
        "momentum",
        "param -= lr * v",
        "param = param - lr * v",
        ["the parameter did not change", "param -= lr * ..."],
        ["factor (0)"],
    ),
    (
        "momentum",
        MOMENTUM_STEP,
        "        param -= lr * v\n        v *= beta\n        v += (1 - beta) * grad\n",
        ["the parameter did not change", "update the state first"],
        ["factor (0)"],
    ),
    (
        "rmsprop",
        "        s *= beta\n        s += (1 - beta) * grad * grad\n",
        "        s = beta * s + (1 - beta) * grad * grad\n",
        ['was not kept between steps (state["square_avg"] is still zeros)', "s *= beta; s += "],
        [],
    ),
    (
        "adam",
        "        v *= beta1\n        v += (1 - beta1) * grad\n",
        "        v = beta1 * v + (1 - beta1) * grad\n",
        ['was not kept between steps (state["v"] is still zeros)', "v *= beta1; v += "],
        ['state["s"]'],
    ),
    (
        "adam",
        "        s *= beta2\n        s += (1 - beta2) * grad * grad\n",
        "        s = beta2 * s + (1 - beta2) * grad * grad\n",
        ['was not kept between steps (state["s"] is still zeros)', "s *= beta2; s += "],
        ['state["v"]'],
    ),
    (
        "adam",
        'state["s"], state["step"]',
        'state["s"], state["step"] + 1',
        ["looks like: off by one step"],
        ["changes from step to step"],  # (one named mistake, not a second guess beside it)
    ),
    (
        "gradient_check_n",
        "gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)",
        "gradapprox[i] = (J_plus - cost(theta)) / epsilon",
        ["a one-sided difference"],
        [DERIVATIVE_HINT],
    ),
    (
        "gradient_check_n",
        "denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)",
        "denominator = np.linalg.norm(grad)",
        ["the denominator without ||gradapprox||"],
        [DERIVATIVE_HINT],
    ),
    (
        "gradient_check_n",
        "thetaplus = np.copy(theta)",
        "thetaplus = theta",
        ["changed the theta it was given", "thetaplus = np.copy(theta)"],
        ["divided by epsilon instead of 2 * epsilon"],
    ),
    (
        "gradient_check_n",
        "thetaminus = np.copy(theta)",
        "thetaminus = theta",
        ["changed the theta it was given"],
        [],
    ),
    (
        "linear_layer",
        "grad.T @ x, grad.sum(axis=0)",
        "grad.T @ x, grad.sum(axis=0, keepdims=True)",
        [
            "yours has shape (1, 2), expected shape (2,)",
            "a summed axis kept (keepdims=True) that the input does not have",
            "grad.sum(axis=0) for a bias of shape (n,)",
        ],
        ["missing broadcast reduction"],
    ),
    (
        "softmax_cross_entropy",
        "return grad * (p - onehot) / n, None",
        "return (p - onehot) / n, None",
        ["off by the upstream gradient"],
        ["constant factor"],
    ),
]


@pytest.mark.parametrize(
    "exercise_id, old, new, present, absent",
    WRONG_LINES,
    ids=[f"{w[0]}: {w[2].strip()}" for w in WRONG_LINES],
)
def test_a_wrong_line_gets_the_hint_that_names_it(exercise_id, old, new, present, absent, tmp_path):
    exercise = exercises.get(exercise_id)
    path = tmp_path / f"{exercise_id}.py"
    path.write_text(plant(exercise.reference, old, new))
    text = str(run_checks(exercise, load_file(path, exercise)))
    assert "FAIL" in text
    for words in present:
        assert words in text, (words, text)
    for words in absent:
        assert words not in text, (words, text)


def test_the_planted_adam_bug_gets_one_looks_like_line(tmp_path):
    exercise = exercises.get("bug_adam")
    text = str(run_checks(exercise, load_file(exercises.start(exercise.id, tmp_path), exercise)))
    assert "looks like: off by one step" in text
    assert "changes from step to step" not in text, text


def test_a_specific_hint_is_not_given_next_to_a_generic_one(tmp_path):
    # a * a with = for +=: the gradient is half the right one; "overwritten" says why, "factor 2" would not
    exercise = exercises.get("bug_value_engine")
    text = str(run_checks(exercise, load_file(exercises.start(exercise.id, tmp_path), exercise)))
    assert "overwritten instead of accumulated" in text
    assert DERIVATIVE_HINT not in text, text


def test_compare_names_no_factor_of_0_and_only_the_hints_it_is_given():
    expected = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert "looks like" not in "\n".join(compare("x", np.zeros((2, 2)), expected))
    assert "looks like" not in "\n".join(compare("x", 2 * expected, expected, hints={}))
    factor = {"factor": ("off by a constant factor", "compare the constants")}
    assert "off by a constant factor (2)" in "\n".join(compare("x", 2 * expected, expected, hints=factor))
    kept = compare("gradient for b", np.ones((1, 4)), np.ones(4))
    assert "a summed axis kept (keepdims=True)" in "\n".join(kept), kept


# --- in a notebook: the names an answer lacks, a class passed as an instance ---------------------------


class Tanh(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        return grad * (1 - self.output**2)


def test_a_dict_without_a_name_the_exercise_needs_says_which_and_scores_0():
    def update_lr(lr0, epoch, rate):
        return lr0 / (1 + rate * epoch)

    report = exercises.check("lr_decay", {"update_lr": update_lr})
    assert report.score == 0 and report.status == "does not load", str(report)
    assert "has no schedule_lr_decay" in str(report)
    assert "AttributeError" not in str(report)


def test_an_instance_instead_of_the_class_is_named_and_scores_0():
    assert exercises.check("backward_tanh", Tanh).passed
    report = exercises.check("backward_tanh", Tanh())
    assert report.score == 0 and report.status == "does not load", str(report)
    assert "expected the class Tanh, got an instance" in str(report)
    assert "object.__new__" not in str(report)


class TanhWithNumpy(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * (1 - np.tanh(x) ** 2)  # a numpy function: fine on arrays, not on Tensors


def test_a_numpy_function_in_a_backward_gets_the_engines_words_in_the_check_on_tensors():
    # before: the check showed numpy's bare "operand 'Tensor' does not support ufuncs"
    report = exercises.check("backward_tanh", TanhWithNumpy)
    assert failed(report) == [c.name for c in report.checks if TENSOR_CHECK in c.name], str(report)
    assert "TanhWithNumpy.backward called a numpy function on a Tensor: under create_graph" in str(report)


class AddOneArray(tg.Function):
    def forward(self, a, b):
        return a + b

    def backward(self, grad):
        return grad  # one array for two inputs: its rows are no gradients


class MulWithOneGradient(tg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b  # one array for two inputs


@pytest.mark.parametrize(
    "exercise_id, op", [("backward_mul", MulWithOneGradient), ("broadcast_add", AddOneArray)]
)
def test_one_array_for_two_inputs_is_one_gradient_not_its_rows(exercise_id, op):
    report = exercises.check(exercise_id, op)
    assert report.score == 0
    for c in report.checks:
        assert "returned 1 gradient(s); expected 2" in " ".join(c.lines), str(report)


class TanhInPlace(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        y = self.output
        grad *= 1 - y * y
        return grad


def test_grad_changed_in_place_gets_the_same_words_on_arrays_and_on_tensors():
    report = exercises.check("backward_tanh", TanhInPlace)
    assert report.score == 0
    words = "TanhInPlace.backward changed its grad, an input or its output in place"
    for c in report.checks:
        assert words in " ".join(c.lines), str(report)
    assert "leaf Variable" not in str(report) and "no_grad" not in str(report)

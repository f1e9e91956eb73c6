"""Wrong answers that the checks once passed or explained badly: each must fail, on every check the
mistake affects, with feedback that names the mistake."""

from __future__ import annotations

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import exercises
from tinygrad_edu.exercises.feedback import compare

TENSOR_CHECK = "the same backward on Tensors"


def failed(report):
    """The names of the checks that failed."""
    return [c.name for c in report.checks if not c.passed]


# --- backward_sum: the reshape that keepdims=False needs --------------------------------------


class SumWithoutReshape(tg.Function):
    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(axis, keepdims)
        return np.sum(x, axis=axis, keepdims=keepdims)

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

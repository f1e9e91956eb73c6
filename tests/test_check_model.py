"""check_model: the course's relative-error gradient check over every parameter of a model."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu._config import STATE
from tinygrad_edu.checkmodel import ModelCheckReport, check_model, relative_error, verdict

F64 = np.float64


def linear(n_in, n_out, rng, dtype=F64):
    """A Linear layer with random weights and a random (non-zero) bias."""
    layer = nn.Linear(n_in, n_out, rng=rng, dtype=dtype)
    layer.bias.data[:] = rng.normal(0, 0.5, n_out)
    return layer


def data(seed=0, n=10, n_in=4, n_classes=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), rng.integers(0, n_classes, n)


class BrokenTanh(tg.Function):
    """tanh whose backward is off by ``factor`` (a deliberate bug when factor != 1)."""

    def forward(self, x, factor=1.0):
        self.save_for_backward(factor)
        return np.tanh(x)

    def backward(self, grad):
        (factor,) = self.saved
        y = self.output
        return grad * (1 - y * y) * factor


class Activation(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return BrokenTanh.apply(x, factor=self.factor)


# --- the formula and the course's words --------------------------------------------------


def test_relative_error_is_the_course_formula():
    assert relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0])) == 0.0
    # ||(1, -1)|| / (1 + 1)
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(math.sqrt(2) / 2)
    # |2 - 1| / (2 + 1)
    assert relative_error(np.array([[2.0]]), np.array([[1.0]])) == pytest.approx(1 / 3)
    # ||(0.1, 0, -0.2)|| / (||(1, 2, 3)|| + ||(0.9, 2, 3.2)||)
    expected = math.sqrt(0.05) / (math.sqrt(14) + math.sqrt(0.81 + 4 + 10.24))
    assert relative_error(np.array([1.0, 2, 3]), np.array([0.9, 2, 3.2])) == pytest.approx(expected)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0


@pytest.mark.parametrize(
    "error, words",
    [
        (0.0, "great"),
        (3e-8, "great"),
        (2e-7, "probably fine, double-check"),
        (5e-6, "probably fine, double-check"),
        (2e-5, "suspicious"),
        (9e-4, "suspicious"),
        (1e-3, "likely a bug"),
        (0.5, "likely a bug"),
        (math.nan, "not finite: NaN/Inf in the loss or gradient"),
    ],
)
def test_verdict_uses_the_course_thresholds(error, words):
    assert verdict(error) == words


# --- correct models pass --------------------------------------------------------------------


def test_analytic_and_numerical_gradients_of_a_linear_model_match_the_closed_form():
    # J = mean((X W^T + b - y)^2): dJ/dW = 2/N r^T X, dJ/db = 2/N sum(r), r = X W^T + b - y.
    rng = np.random.default_rng(1)
    model = nn.Sequential(linear(3, 2, rng))
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    W, b = model[0].weight.data.copy(), model[0].bias.data.copy()
    r = X @ W.T + b - y
    dW, db = 2 / r.size * r.T @ X, 2 / r.size * r.sum(axis=0)

    report = check_model(model, nn.MSELoss(), X, y)

    assert [p.name for p in report.parameters] == ["0.weight", "0.bias"]
    assert [p.shape for p in report.parameters] == [(2, 3), (2,)]
    np.testing.assert_allclose(report["0.weight"].analytic, dW, rtol=1e-12)
    np.testing.assert_allclose(report["0.bias"].analytic, db, rtol=1e-12)
    np.testing.assert_allclose(report["0.weight"].numerical, dW, rtol=1e-6)
    np.testing.assert_allclose(report["0.bias"].numerical, db, rtol=1e-6)
    assert report.passed and report.max_relative_error < 1e-7


@pytest.mark.parametrize("activation", [nn.Tanh, nn.Sigmoid, nn.ReLU])
def test_a_float64_mlp_passes(activation):
    rng = np.random.default_rng(2)
    model = nn.Sequential(linear(4, 6, rng), activation(), linear(6, 5, rng), activation(), linear(5, 3, rng))
    X, y = data(seed=3)
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    assert isinstance(report, ModelCheckReport)
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-7
    assert report.max_relative_error >= report.relative_error
    assert [p.name for p in report.parameters] == [name for name, _ in model.named_parameters()]
    assert all(p.verdict == "great" for p in report.parameters)
    assert report.n_kinks == 0  # random data puts no relu input within eps of 0


def test_a_float64_mlp_with_dropout_passes_because_every_evaluation_gets_the_same_mask():
    rng = np.random.default_rng(4)
    model = nn.Sequential(linear(4, 8, rng), nn.Tanh(), nn.Dropout(0.5), linear(8, 1, rng))
    X = rng.standard_normal((12, 4))
    y = rng.standard_normal((12, 1))
    model.train()
    # Dropout is really active: two forwards give different outputs.
    assert not np.array_equal(model(Tensor(X)).data, model(Tensor(X)).data)

    report = check_model(model, nn.MSELoss(), X, y)

    assert report.passed, str(report)
    assert model.training
    # The check ran with dropout on: without it (eval) the gradients are different.
    without_dropout = check_model(model.eval(), nn.MSELoss(), X, y)
    assert without_dropout.passed
    assert not np.allclose(report["3.weight"].analytic, without_dropout["3.weight"].analytic, rtol=0.01)


def test_dropout_with_its_own_generator_is_replayed_too():
    rng = np.random.default_rng(5)
    model = nn.Sequential(
        linear(3, 6, rng), nn.Sigmoid(), nn.Dropout(0.3, rng=np.random.default_rng(9)), linear(6, 2, rng)
    )
    X, y = data(seed=6, n=8, n_in=3, n_classes=2)
    report = check_model(model, nn.CrossEntropyLoss(), Tensor(X), Tensor(y))  # Tensors work too
    assert report.passed, str(report)


def test_a_float32_model_is_checked_in_float64():
    rng = np.random.default_rng(7)
    model = nn.Sequential(linear(4, 5, rng, np.float32), nn.Tanh(), linear(5, 3, rng, np.float32))
    X, y = data(seed=8)
    report = check_model(model, nn.CrossEntropyLoss(), X.astype(np.float32), y)
    assert report.passed, str(report)
    assert all(p.analytic.dtype == F64 and p.numerical.dtype == F64 for p in report.parameters)


def test_a_gradient_that_is_zero_up_to_rounding_is_read_as_zero():
    # Batch norm subtracts the batch mean, so the bias of the layer before it has no effect:
    # backprop gives ~1e-18, the finite difference 0 or one rounding step of the loss.
    rng = np.random.default_rng(9)
    bn = nn.BatchNorm1d(6)
    bn.to(F64)
    model = nn.Sequential(linear(4, 6, rng), bn, nn.Tanh(), linear(6, 1, rng))
    X = rng.standard_normal((16, 4))
    y = (rng.random((16, 1)) > 0.5).astype(F64)
    report = check_model(model, nn.BCEWithLogitsLoss(), X, y)
    assert np.max(np.abs(report["0.bias"].analytic)) < 1e-12
    assert report["0.bias"].relative_error == 0.0
    assert report.passed, str(report)
    assert "every derivative of 0.bias is below the finite-difference resolution" in str(report)


# --- broken backward passes fail -------------------------------------------------------------


def test_a_broken_backward_fails_and_points_at_the_parameters_behind_it():
    rng = np.random.default_rng(10)
    model = nn.Sequential(linear(4, 6, rng), Activation(factor=1.5), linear(6, 3, rng))
    X, y = data(seed=11)

    report = check_model(model, nn.CrossEntropyLoss(), X, y)

    assert not report.passed
    assert report.max_relative_error > 1e-3
    assert report.verdict == "likely a bug"
    # The gradient is wrong only for the parameters before the broken op.
    assert report["0.weight"].verdict == "likely a bug"
    assert report["0.bias"].verdict == "likely a bug"
    assert report["2.weight"].relative_error < 1e-7
    assert report["2.bias"].relative_error < 1e-7
    # A backward off by 1.5 makes every analytic derivative of the first layer 1.5 times the true one,
    # so the relative error is 0.5 / 2.5.
    assert report["0.weight"].relative_error == pytest.approx(0.2, rel=1e-5)
    worst = report["0.weight"].worst[0]
    assert worst.analytic == pytest.approx(1.5 * worst.numerical, rel=1e-5)
    assert "FAILED" in str(report) and "worst elements of 0.weight" in str(report)


def test_the_same_model_with_a_correct_backward_passes():
    rng = np.random.default_rng(10)
    model = nn.Sequential(linear(4, 6, rng), Activation(factor=1.0), linear(6, 3, rng))
    X, y = data(seed=11)
    assert check_model(model, nn.CrossEntropyLoss(), X, y).passed


def test_a_slightly_wrong_backward_is_suspicious():
    rng = np.random.default_rng(10)
    model = nn.Sequential(linear(4, 6, rng), Activation(factor=1 + 2e-4), linear(6, 3, rng))
    X, y = data(seed=11)
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    assert not report.passed
    assert report["0.weight"].verdict == "suspicious"  # 2e-4 / (2 + 2e-4) = 1e-4


# --- kinks ------------------------------------------------------------------------------------


def kinked_relu_model():
    """A relu network in which sample 0 puts every hidden pre-activation exactly at 0."""
    rng = np.random.default_rng(12)
    model = nn.Sequential(linear(3, 4, rng), nn.ReLU(), linear(4, 2, rng))
    model[0].bias.data[:] = 0.0
    X, y = data(seed=13, n=6, n_in=3, n_classes=2)
    X[0] = 0.0  # x W^T + b = 0 for this sample: nudging a bias crosses relu's kink
    return model, X, y


def test_elements_on_a_kink_are_found_and_left_out():
    model, X, y = kinked_relu_model()
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    assert report["0.bias"].n_kinks == 4
    assert report.n_kinks == 4
    assert report.kinks == [("0.bias", (0,)), ("0.bias", (1,)), ("0.bias", (2,)), ("0.bias", (3,))]
    # Weights multiply the zero input of sample 0: nudging them does not move that pre-activation.
    assert report["0.weight"].n_kinks == 0
    assert report.passed, str(report)
    assert "4 element(s) sit on a kink, left out of the relative error: 0.bias (4)" in str(report)


def test_kinks_included_make_a_correct_model_fail():
    model, X, y = kinked_relu_model()
    report = check_model(model, nn.CrossEntropyLoss(), X, y, exclude_kinks=False)
    # On the kink the finite difference sees half of each side's slope; backprop uses relu'(0) = 0.
    assert not report.passed
    assert report["0.bias"].relative_error > 1e-3
    assert report["0.weight"].relative_error < 1e-7
    assert "(on a kink)" in str(report)


def test_a_kink_of_abs_is_found():
    class AbsNet(nn.Module):
        def __init__(self, rng):
            super().__init__()
            self.hidden = linear(2, 3, rng)
            self.out = linear(3, 1, rng)

        def forward(self, x):
            return self.out(self.hidden(x).abs())

    model = AbsNet(np.random.default_rng(14))
    model.hidden.bias.data[1] = 0.0
    X = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.3]])
    y = np.array([[1.0], [0.0], [2.0]])
    report = check_model(model, nn.MSELoss(), X, y)
    assert report.kinks == [("hidden.bias", (1,))]
    assert report.passed, str(report)


# --- the model is left as it was ---------------------------------------------------------------


def test_the_model_its_grads_buffers_and_the_random_stream_are_restored():
    rng = np.random.default_rng(15)
    bn = nn.BatchNorm1d(5)
    model = nn.Sequential(
        linear(4, 5, rng, np.float32), bn, nn.ReLU(), nn.Dropout(0.2), linear(5, 3, rng, np.float32)
    )
    model.train()
    X, y = data(seed=16)
    arrays = [p.data for p in model.parameters()]
    values = [a.copy() for a in arrays]
    sentinel = Tensor(np.full((5, 4), 7.0, dtype=np.float32))
    model[0].weight.grad = sentinel
    buffers = {k: v.copy() for k, v in model.state_dict().items() if "running" in k or "batches" in k}
    tg.manual_seed(123)
    expected_next_draw = np.random.default_rng(123).random(3)

    check_model(model, nn.CrossEntropyLoss(), X, y)

    for p, a, v in zip(model.parameters(), arrays, values):
        assert p.data is a and p.dtype == np.float32
        np.testing.assert_array_equal(p.data, v)
    assert model[0].weight.grad is sentinel
    assert all(p.grad is None for p in list(model.parameters())[1:])
    state = model.state_dict()
    for k, v in buffers.items():
        np.testing.assert_array_equal(state[k], v)
        assert state[k].dtype == v.dtype
    assert model.training
    np.testing.assert_array_equal(STATE.rng.random(3), expected_next_draw)


def test_randomness_that_cannot_be_replayed_is_a_clear_error():
    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = linear(3, 1, np.random.default_rng(17))

        def forward(self, x):
            return self.layer(x) + np.random.standard_normal((x.shape[0], 1))  # numpy's global stream

    model = Noisy()
    before = model.layer.weight.data.copy()
    X = np.ones((4, 3))
    with pytest.raises(RuntimeError, match="changed between two evaluations"):
        check_model(model, nn.MSELoss(), X, np.zeros((4, 1)))
    np.testing.assert_array_equal(model.layer.weight.data, before)


# --- bad input --------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    rng = np.random.default_rng(18)
    model = nn.Sequential(linear(3, 2, rng))
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    with pytest.raises(ValueError, match=r"returned shape \(4, 2\); expected a scalar"):
        check_model(model, nn.MSELoss(reduction="none"), X, y)
    with pytest.raises(TypeError, match="expected an nn.Module"):
        check_model(lambda x: x, nn.MSELoss(), X, y)
    with pytest.raises(ValueError, match="eps must be a small positive number"):
        check_model(model, nn.MSELoss(), X, y, eps=0.0)
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="no parameters that require grad"):
        check_model(model, nn.MSELoss(), X, y)
    with pytest.raises(TypeError, match="dtype <U1"):
        check_model(nn.Sequential(linear(3, 2, rng)), nn.MSELoss(), np.array([["a"] * 3] * 4), y)


def test_a_loss_that_casts_down_to_float32_is_flagged():
    rng = np.random.default_rng(19)
    model = nn.Sequential(linear(3, 1, rng))
    X, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 1))

    def float32_loss(out, target):
        return nn.MSELoss()(out.astype(np.float32), target.astype(np.float32))

    with pytest.warns(RuntimeWarning, match="float32, not float64"):
        report = check_model(model, float32_loss, X, y)
    assert "float32, not float64" in str(report)


class Cast32(nn.Module):
    def forward(self, x):
        return x.astype(np.float32)


def test_a_float32_cast_in_the_middle_of_the_model_is_flagged():
    # the loss comes out float64 (float32 @ a float64 weight), yet 0.* look like bugs on a correct model
    rng = np.random.default_rng(21)
    model = nn.Sequential(linear(3, 4, rng), Cast32(), nn.Tanh(), linear(4, 2, rng))
    X, y = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    with pytest.warns(RuntimeWarning, match="a float32 value inside the model or loss"):
        report = check_model(model, nn.CrossEntropyLoss(), X, y)
    text = str(report)
    assert "the output of Cast (shape (5, 4)) is the first that is float32, not float64" in text, text
    assert "the parameters before it (0.weight, 0.bias) are mostly rounding error" in text, text


def test_no_float32_note_for_a_float64_model():
    rng = np.random.default_rng(21)
    model = nn.Sequential(linear(3, 4, rng), nn.Tanh(), linear(4, 2, rng))
    X, y = rng.standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    assert report.passed and "float32" not in str(report), str(report)


def test_the_printed_table():
    rng = np.random.default_rng(20)
    model = nn.Sequential(linear(2, 3, rng), nn.Tanh(), linear(3, 1, rng))
    X, y = rng.standard_normal((5, 2)), rng.standard_normal((5, 1))
    report = check_model(model, nn.MSELoss(), X, y)
    text = str(report)
    lines = text.splitlines()
    assert lines[0].startswith("Gradient check, relative error ||g - g_num|| / (||g|| + ||g_num||)")
    assert lines[1].split()[:5] == ["parameter", "shape", "rel.", "error", "verdict"]
    for name in ["0.weight", "0.bias", "2.weight", "2.bias"]:
        row = next(line for line in lines if line.startswith(name + " "))
        assert f"{report[name].relative_error:.2e}" in row and "great" in row
    assert any(line.startswith("all ") and "13 elements" in line for line in lines)
    assert lines[-1].startswith("PASSED: relative error") and "threshold 1e-07" in lines[-1]
    assert repr(report).startswith("ModelCheckReport(max_relative_error=")
    with pytest.raises(KeyError, match="no parameter named 'nope'"):
        report["nope"]


# --- the course's number ----------------------------------------------------------------------


def course_test_case():
    """gradient_check_n_test_case of the course's gradient-checking exercise (samples in columns)."""
    np.random.seed(1)
    x = np.random.randn(4, 3)
    y = np.array([1, 1, 0])
    shapes = [(5, 4), (5, 1), (3, 5), (3, 1), (1, 3), (1, 1)]
    return x, y, [np.random.randn(*shape) for shape in shapes]


class CourseSigmoid(nn.Module):
    """The course's sigmoid, 1 / (1 + exp(-z)), op for op."""

    def forward(self, z):
        return 1 / (1 + (-z).exp())


def course_cost(a3, Y):
    """The course's cost, op for op: 1/m * sum(-log(A3) * Y - log(1 - A3) * (1 - Y))."""
    m = Y.shape[0]
    return ((-(a3.log())) * Y + (-((1 - a3).log())) * (1 - Y)).sum() * (1.0 / m)


def test_check_model_gives_the_course_difference_on_the_course_network():
    # The course prints "Your backward propagation works perfectly fine! difference = 1.18855520355e-07"
    # (bound 2e-7): the same number, to the rounding of its 3 digits, with the course's cost written out.
    x, y, (W1, b1, W2, b2, W3, b3) = course_test_case()
    model = nn.Sequential(
        nn.Linear(4, 5, dtype=F64), nn.ReLU(), nn.Linear(5, 3, dtype=F64), nn.ReLU(),
        nn.Linear(3, 1, dtype=F64), CourseSigmoid(),
    )
    for layer, W, b in zip([model[0], model[2], model[4]], [W1, W2, W3], [b1, b2, b3]):
        layer.weight.data[...] = W
        layer.bias.data[...] = b.ravel()
    report = check_model(model, course_cost, x.T, y.reshape(-1, 1).astype(F64), threshold=2e-7)
    assert f"{report.relative_error:.2e}" == "1.19e-07"
    assert report.passed, str(report)
    assert report.verdict == "fine (below the course's 2e-7)"
    # the fourth digit moves with numpy's rounding (1.189e-07 with numpy 2, 1.186e-07 with 1.26)
    assert re.match(r"PASSED: relative error 1\.1[89]\de-07 < threshold 2e-07", str(report).splitlines()[-1])
    strict = check_model(model, course_cost, x.T, y.reshape(-1, 1).astype(F64))  # the default 1e-7
    # before: "FAILED: ... >= threshold 1e-07 (fine (below the course's 2e-7))", which read as a contradiction
    assert str(strict).splitlines()[-1].endswith(
        "(fine (below the course's 2e-7); the course's own bound is 2e-07: pass threshold=2e-07 to use it)"
    )


def test_the_verdict_is_the_summary_rows_verdict():
    # Per-parameter errors above 1e-7 on small bias gradients are rounding: the course's number decides.
    rng = np.random.default_rng(30)
    model = nn.Sequential(linear(2, 16, rng), nn.Tanh(), linear(16, 3, rng))
    X, y = data(seed=31, n=32, n_in=2)
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    all_row = next(line for line in str(report).splitlines() if line.startswith("all "))
    assert report.verdict in all_row and f"{report.relative_error:.2e}" in all_row
    assert report.passed == (report.relative_error < report.threshold)
    assert report.verdict in str(report).splitlines()[-1]


def test_one_parameter_that_is_far_off_fails_even_when_the_total_is_small():
    row = tg.checkmodel.ParameterCheck
    one, no_kink = np.ones(1), np.zeros(1, bool)
    report = ModelCheckReport(
        parameters=[
            row("0.weight", (1,), one, one, no_kink, 0.0, []),
            row("0.bias", (1,), one, one, no_kink, 0.02, []),
        ],
        relative_error=5e-8, eps=1e-7, threshold=1e-7, exclude_kinks=True,
    )
    assert not report.passed
    assert report.verdict == "likely a bug in 0.bias"
    assert str(report).splitlines()[-1].startswith("FAILED: relative error 5.000e-08 < threshold")


def test_a_parameter_entirely_on_kinks_is_not_checked_rather_than_great():
    model, X, y = kinked_relu_model()
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    assert report["0.bias"].n_kinks == report["0.bias"].kinks.size == 4
    assert report["0.bias"].verdict == "not checked (kink)"
    row = next(line for line in str(report).splitlines() if line.startswith("0.bias "))
    assert "not checked (kink)" in row and "great" not in row and "0.00e+00" not in row


def test_cli_gradcheck_passes_a_correct_network_and_its_verdict_matches_the_summary_row(capsys):
    from tinygrad_edu import cli

    status = cli.main(["gradcheck", "--layers", "2,64,64,3", "--dataset", "spirals", "--samples", "64"])
    lines = capsys.readouterr().out.rstrip().splitlines()
    all_row = next(line for line in lines if line.startswith("all "))
    assert status == 0, "\n".join(lines)
    assert lines[-1].startswith("PASSED: relative error")
    overall = float(all_row.split()[3])  # all, 4547, elements, the number, the verdict
    summary = float(lines[-1].split()[3])  # PASSED:, relative, error, the number
    assert f"{overall:.2e}" == f"{summary:.2e}"
    assert all_row.split()[4] == "great" and lines[-1].endswith("(great)")


def test_the_course_network_with_the_librarys_sigmoid_and_bce_passes_at_the_courses_bound():
    # The library computes the same cost with other rounding: 5.3e-8 instead of 1.19e-7, also below 2e-7.
    # Its 4.bias alone reads 2.5e-7 (one element, rounding), which must not fail the check.
    x, y, (W1, b1, W2, b2, W3, b3) = course_test_case()
    model = nn.Sequential(
        nn.Linear(4, 5, dtype=F64), nn.ReLU(), nn.Linear(5, 3, dtype=F64), nn.ReLU(),
        nn.Linear(3, 1, dtype=F64), nn.Sigmoid(),
    )
    for layer, W, b in zip([model[0], model[2], model[4]], [W1, W2, W3], [b1, b2, b3]):
        layer.weight.data[...] = W
        layer.bias.data[...] = b.ravel()
    report = check_model(model, nn.BCELoss(), x.T, y.reshape(-1, 1).astype(F64), threshold=2e-7)
    assert report.relative_error < 2e-7
    assert report.passed, str(report)
    assert str(report).splitlines()[-1].startswith("PASSED")


# --- zeros compared with zeros ---------------------------------------------------------------


class TimesZero(nn.Module):
    """x * 0: the loss does not depend on what comes before it, so every derivative there is 0."""

    def forward(self, x):
        return x * 0.0


def test_a_check_of_only_zeros_tested_nothing_and_does_not_pass():
    rng = np.random.default_rng(40)
    model = nn.Sequential(linear(4, 5, rng), nn.Tanh(), TimesZero())
    X = rng.standard_normal((6, 4))
    report = check_model(model, nn.MSELoss(), X, rng.standard_normal((6, 5)))
    assert [p.verdict for p in report.parameters] == ["only zeros compared", "only zeros compared"]
    assert report.zero_parameters == ["0.weight", "0.bias"]
    assert not report.tested and not report.passed
    assert report.verdict == "nothing tested: only zeros compared"
    text = str(report)
    assert "great" not in text
    assert (
        "note: every derivative of every parameter is exactly 0, from backprop and from the finite "
        "differences: the loss does not depend on them here" in text
    )
    assert text.splitlines()[-1] == (
        "NOT TESTED: relative error 0.000e+00, but the check compared zeros with zeros, which a wrong "
        "backward would pass as well"
    )


def test_parameters_with_only_zeros_are_named_and_not_called_great():
    rng = np.random.default_rng(41)
    model = nn.Sequential(linear(4, 5, rng), nn.Tanh(), TimesZero(), linear(5, 3, rng))
    X, y = data(seed=42, n=6)
    report = check_model(model, nn.CrossEntropyLoss(), X, y)
    # 3.weight multiplies the zeros: only 3.bias has a derivative that is not 0.
    assert report.zero_parameters == ["0.weight", "0.bias", "3.weight"]
    assert report["3.bias"].verdict == "great" and report.tested and report.passed
    lines = str(report).splitlines()
    for name in ("0.weight", "0.bias", "3.weight"):
        row = next(line for line in lines if line.startswith(name + " "))
        assert "only zeros compared" in row and "great" not in row and "0.00e+00" not in row
    assert "note: every derivative of 0.weight, 0.bias, 3.weight is exactly 0" in str(report)
    assert lines[-1].startswith("PASSED: relative error")
    assert lines[-1].endswith("(great); only zeros compared for 0.weight, 0.bias, 3.weight (not tested)")


# --- tensors outside the model, frozen parameters ---------------------------------------------


class ScaleBad(tg.Function):
    """x * s whose gradient for s has the wrong sign (s has shape (1,))."""

    def forward(self, x, s):
        return x * s

    def backward(self, g):
        x, s = self.inputs
        return g * s, -(g * x).sum(keepdims=True).reshape(1)


class ScaledByOutside(nn.Module):
    """op(lin(x)), op a function that multiplies by a tensor no module of the model holds (as a
    module-level ``S = nn.Parameter(...)`` used in forward)."""

    def __init__(self, op):
        super().__init__()
        self.lin = linear(3, 1, np.random.default_rng(50))
        self.op = op

    def forward(self, x):
        return self.op(self.lin(x))


def scaled_data():
    rng = np.random.default_rng(51)
    return rng.standard_normal((5, 3)), rng.standard_normal((5, 1))


def scaled_closed_form(model, s, X, y):
    """J = mean((z s - y)^2), z = X W^T + b: dJ/ds = mean(2 r z), dJ/dW = 2/N s r^T X, r = z s - y."""
    z = X @ model.lin.weight.data.T + model.lin.bias.data
    r = z * s - y
    n = r.size
    return {"s": np.array([np.sum(2 * r * z) / n]), "W": 2 / n * s * r.T @ X, "b": 2 / n * s * r.sum(axis=0)}


def test_a_tensor_outside_the_model_is_checked_as_an_extra_row_and_reported():
    s = nn.Parameter(np.array([1.5]))  # requires grad, but no module of the model holds it
    model = ScaledByOutside(lambda z: ScaleBad.apply(z, s))
    X, y = scaled_data()
    truth = scaled_closed_form(model, 1.5, X, y)
    s_data = s.data

    report = check_model(model, nn.MSELoss(), X, y)

    name = "(not a parameter) shape (1,)"
    assert [p.name for p in report.parameters] == ["lin.weight", "lin.bias", name]
    assert report.not_parameters == [name]
    np.testing.assert_allclose(report[name].numerical, truth["s"], rtol=1e-6)
    np.testing.assert_allclose(report[name].analytic, -truth["s"], rtol=1e-12)  # the sign bug
    np.testing.assert_allclose(report["lin.weight"].numerical, truth["W"], rtol=1e-6)
    assert report["lin.weight"].verdict == "great" and report["lin.bias"].verdict == "great"
    assert report[name].verdict == "likely a bug" and not report[name].is_parameter
    assert not report.passed
    text = str(report)
    assert (
        "note: the loss depends on 1 tensor that requires grad and is not a parameter of the model "
        "(shape (1,), float64): model.parameters() (so an optimizer) leaves it out." in text
    ), text
    assert 'Checked above as the row "(not a parameter) shape (1,)"' in text
    last = text.splitlines()[-1]
    assert last.startswith("FAILED")
    assert "the loss also depends on 1 tensor that requires grad and is not a parameter" in last
    assert s.data is s_data and s.grad is None  # put back


def test_a_correct_gradient_of_a_tensor_outside_the_model_passes_but_not_cleanly():
    s = nn.Parameter(np.array([1.5]))
    model = ScaledByOutside(lambda z: z * s)  # the library's own multiply
    X, y = scaled_data()
    truth = scaled_closed_form(model, 1.5, X, y)
    report = check_model(model, nn.MSELoss(), X, y)
    np.testing.assert_allclose(report["(not a parameter) shape (1,)"].analytic, truth["s"], rtol=1e-12)
    assert report.passed  # the gradients are right ...
    last = str(report).splitlines()[-1]
    assert last.startswith("PASSED")  # ... but the line says what an optimizer would miss
    assert last.endswith(
        "; the loss also depends on 1 tensor that requires grad and is not a parameter of the model "
        "(no optimizer given model.parameters() updates it)"
    ), last


def test_a_plain_tensor_attribute_is_named_by_its_attribute():
    class PlainScale(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = linear(3, 1, np.random.default_rng(50))
            self.scale = Tensor(np.array([1.5]), requires_grad=True)  # not an nn.Parameter

        def forward(self, x):
            return self.lin(x) * self.scale

    with pytest.warns(UserWarning, match="not an nn.Parameter"):
        model = PlainScale()
    X, y = scaled_data()
    truth = scaled_closed_form(model, 1.5, X, y)
    report = check_model(model, nn.MSELoss(), X, y)
    row = report["(not a parameter) scale"]
    np.testing.assert_allclose(row.numerical, truth["s"], rtol=1e-6)
    assert row.verdict == "great" and report.passed
    assert "(scale: shape (1,), float64)" in str(report)


def test_tensors_outside_the_model_of_the_same_shape_are_numbered():
    s, t = nn.Parameter(np.array([1.5])), nn.Parameter(np.array([-0.5]))
    model = ScaledByOutside(lambda z: z * s + z * t)
    report = check_model(model, nn.MSELoss(), *scaled_data())
    assert report.not_parameters == ["(not a parameter) shape (1,) #1", "(not a parameter) shape (1,) #2"]
    assert "the loss depends on 2 tensors that require grad and are not" in str(report)


def test_only_the_rows_kept_are_numbered():
    s = nn.Parameter(np.array([1.5]))  # checked; a second tensor of its shape is made anew every time
    model = ScaledByOutside(lambda z: z * s * Tensor(np.array([1.0]), requires_grad=True))
    report = check_model(model, nn.MSELoss(), *scaled_data())
    assert report.not_parameters == ["(not a parameter) shape (1,)"]
    assert report.unchecked == ["shape (1,), float64"]
    assert "#1" not in str(report)


def test_a_tensor_made_anew_by_every_forward_is_reported_as_not_checked():
    class Fresh(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = linear(3, 1, np.random.default_rng(50))

        def forward(self, x):
            return self.lin(x) * Tensor(np.array([1.5]), requires_grad=True)

    report = check_model(Fresh(), nn.MSELoss(), *scaled_data())
    assert report.unchecked == ["shape (1,), float64"]
    assert [p.name for p in report.parameters] == ["lin.weight", "lin.bias"]
    text = str(report)
    assert "(shape (1,), float64, made anew by every forward)" in text
    assert "Not checked: the one made anew by every forward" in text
    assert text.splitlines()[-1].endswith("updates it; it was not checked)")


def test_frozen_parameters_are_listed_as_not_checked():
    rng = np.random.default_rng(52)
    model = nn.Sequential(linear(3, 4, rng), nn.Tanh(), linear(4, 1, rng))
    model[0].requires_grad_(False)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    report = check_model(model, nn.MSELoss(), X, y)
    assert [p.name for p in report.parameters] == ["2.weight", "2.bias"]
    assert report.frozen == ["0.weight", "0.bias"]
    assert "frozen, not checked: 0.weight, 0.bias" in str(report).splitlines()
    assert report.passed and report.not_parameters == [] and "not a parameter" not in str(report)


def test_no_frozen_line_and_no_outside_tensors_for_an_ordinary_model():
    rng = np.random.default_rng(52)
    model = nn.Sequential(linear(3, 4, rng), nn.Tanh(), linear(4, 1, rng))
    report = check_model(model, nn.MSELoss(), rng.standard_normal((5, 3)), rng.standard_normal((5, 1)))
    assert report.frozen == [] and report.unchecked == [] and report.not_parameters == []
    assert "frozen" not in str(report) and "not a parameter" not in str(report)


# --- a large loss: the finite-difference resolution ---------------------------------------------


class Doubled(tg.Function):
    """The identity, whose backward doubles the gradient when ``factor`` is 2 (a bug)."""

    def forward(self, x, factor=2.0):
        self.save_for_backward(factor)
        return x.copy()

    def backward(self, grad):
        (factor,) = self.saved
        return grad * factor


B_SCALE = 3e-5


class LargeLoss(nn.Module):
    """a(x) + 3e-5 * b(x) (+ 1e-9 * c(x)) against targets of 1000: a loss of about 6e6 whose
    derivatives for b are 0.14 to 0.36 (doubled by the bug: below 100 rounding steps of J over
    eps, 1.3, which was read as 0) and for c about 1e-6."""

    def __init__(self, factor, tiny=False):
        super().__init__()
        rng = np.random.default_rng(60)
        self.a, self.b = linear(3, 1, rng), linear(3, 1, rng)
        self.c = linear(3, 1, rng) if tiny else None
        self.factor = factor

    def forward(self, x):
        out = self.a(x) + Doubled.apply(self.b(x), factor=self.factor) * B_SCALE
        return out if self.c is None else out + self.c(x) * 1e-9


def large_loss_truth(model, X, Y):
    """J = sum(r^2), r = out - Y: dJ/dW = 2 k r^T X and dJ/db = 2 k sum(r) for a layer scaled by k."""
    layers = [(model.a, 1.0), (model.b, B_SCALE)] + ([(model.c, 1e-9)] if model.c is not None else [])
    out = sum(k * (X @ layer.weight.data.T + layer.bias.data) for layer, k in layers)
    r = out - Y
    grads = {}
    for name, (_, k) in zip("abc", layers):
        grads[f"{name}.weight"], grads[f"{name}.bias"] = 2 * k * r.T @ X, 2 * k * r.sum(axis=0)
    return float(np.sum(r**2)), grads


def large_loss_data():
    return np.random.default_rng(61).standard_normal((6, 3)), np.full((6, 1), 1000.0)


def test_a_factor_two_bug_on_small_derivatives_of_a_large_loss_is_found():
    model = LargeLoss(factor=2.0)
    X, Y = large_loss_data()
    J, truth = large_loss_truth(model, X, Y)
    assert 5e6 < J < 7e6
    rounding = np.finfo(F64).eps * J / 1e-7  # one rounding step of J over eps: ~0.013

    report = check_model(model, nn.MSELoss(reduction="sum"), X, Y)

    for name in ("b.weight", "b.bias"):
        assert np.all(np.abs(truth[name]) > 0.1)  # real derivatives, far above the rounding
        np.testing.assert_allclose(report[name].numerical, truth[name], rtol=0, atol=2 * rounding)
        np.testing.assert_allclose(report[name].analytic, 2 * truth[name], rtol=1e-9)
        assert report[name].verdict == "likely a bug"
    assert report.buggy_parameters == ["b.weight", "b.bias"] and not report.passed
    text = str(report)
    assert "only zeros compared" not in text and "does not depend" not in text, text


def test_the_same_large_loss_with_a_correct_backward_is_not_called_a_bug():
    model = LargeLoss(factor=1.0)
    X, Y = large_loss_data()
    J, truth = large_loss_truth(model, X, Y)
    report = check_model(model, nn.MSELoss(reduction="sum"), X, Y)
    resolution = tg.checkmodel.NOISE_FLOOR * np.finfo(F64).eps * J / 1e-7
    for name in ("a.weight", "a.bias", "b.weight", "b.bias"):
        # the finite differences' rounding error stays below the resolution the check assumes
        assert np.max(np.abs(report[name].numerical - truth[name])) < resolution
        np.testing.assert_allclose(report[name].analytic, truth[name], rtol=1e-9)
    assert report.buggy_parameters == []
    # b's derivatives (0.14 to 0.36) are a few resolutions: rounding alone makes relative errors of 1e-2
    for name in ("b.weight", "b.bias"):
        row = report[name]
        expected = tg.checkmodel.UNRESOLVED if row.relative_error >= 1e-3 else verdict(row.relative_error)
        assert row.verdict == expected
    assert "likely a bug" not in str(report)


def test_derivatives_below_the_resolution_are_too_small_to_resolve_not_independent():
    model = LargeLoss(factor=1.0, tiny=True)
    X, Y = large_loss_data()
    J, truth = large_loss_truth(model, X, Y)
    resolution = tg.checkmodel.NOISE_FLOOR * np.finfo(F64).eps * J / 1e-7
    assert np.all(np.abs(truth["c.weight"]) > 1e-7) and np.all(np.abs(truth["c.weight"]) < resolution / 100)
    report = check_model(model, nn.MSELoss(reduction="sum"), X, Y)
    assert report["c.weight"].verdict == "only zeros compared"
    text = str(report)
    assert (
        "note: every derivative of c.weight is below the finite-difference resolution "
        f"({resolution:.1e}, 4 * eps_float64 * |loss| / eps with |loss| = {J:.3g}) and was read as 0: "
        "too small to resolve at this loss scale" in text
    ), text
    assert "does not depend on it" not in text


class _Scaled(tg.Function):
    """s * 6e-6, whose backward multiplies by ``factor`` * 6e-6 (a factor-2 bug when factor is 2): at
    a loss of about 6e6 the derivative, about 0.03, is below the finite-difference resolution."""

    def forward(self, s, factor=1.0):
        self.save_for_backward(factor)
        return s * 6e-6

    def backward(self, grad):
        (factor,) = self.saved
        return grad * (factor * 6e-6)


class _SmallShift(nn.Module):
    """lin(x) + 6e-6 * s (without lin: x + 6e-6 * s), against targets of 2500."""

    def __init__(self, factor, with_linear=True):
        super().__init__()
        self.lin = nn.Linear(1, 1, rng=np.random.default_rng(70), dtype=F64) if with_linear else None
        self.s = nn.Parameter(np.ones((1,)))
        self.factor = factor

    def forward(self, x):
        out = x if self.lin is None else self.lin(x)
        return out + _Scaled.apply(self.s, factor=self.factor)


def _small_shift_truth(model, X, y):
    """J = mean(r^2) with r = out - y, and dJ/ds = 6e-6 * mean(2 r), in closed form."""
    out = X if model.lin is None else X @ model.lin.weight.data.T + model.lin.bias.data
    r = out + 6e-6 * model.s.data - y
    return float(np.mean(r**2)), 6e-6 * np.mean(2 * r)


def _small_shift_data():
    return np.random.default_rng(0).standard_normal((4, 1)), np.full((4, 1), 2500.0)


def test_a_wrong_backward_hidden_by_the_loss_scale_is_named_as_not_tested():
    X, y = _small_shift_data()
    model = _SmallShift(factor=2.0)  # the backward gives twice the derivative
    J, true = _small_shift_truth(model, X, y)
    resolution = tg.checkmodel.NOISE_FLOOR * np.finfo(F64).eps * J / 1e-7
    assert 6e6 < J < 6.5e6 and abs(true) < resolution < abs(2 * true) + resolution

    report = check_model(model, nn.MSELoss(), X, y, threshold=1e-5)

    row = report["s"]
    np.testing.assert_allclose(row.analytic, [2 * true], rtol=1e-9)
    assert abs(row.numerical[0] - true) < resolution  # the finite difference is right, to its resolution
    assert abs(row.analytic[0] - row.numerical[0]) < resolution  # ... and so cannot see the bug
    assert row.relative_error >= 1e-3
    assert row.verdict == "below the resolution (not tested)" and not row.verdict.startswith("fine")
    assert report.unresolved_parameters == ["s"] and report.buggy_parameters == []
    assert report.tested and report["lin.weight"].verdict != tg.checkmodel.UNRESOLVED
    # as a row with only zeros compared: the rest decides `passed`, and the summary names s
    assert report.passed == (report.relative_error < 1e-5)
    text = str(report)
    summary = text.splitlines()[-1]
    assert (
        "; differences below the resolution for s (not tested: a wrong backward would look the same at "
        "this loss scale)" in summary
    ), summary
    assert (
        "note: every |analytic - numerical| of s is below the finite-difference resolution "
        f"({resolution:.1e}, 4 * eps_float64 * |loss| / eps with |loss| = {J:.3g}): at this loss scale "
        "the rounding of the loss hides the comparison" in text
    ), text
    assert "reduction='mean' instead of 'sum'" in text and "check the op alone with gradcheck" in text
    assert "no evidence" not in text and "within rounding" not in text


def test_the_same_loss_scale_with_a_correct_backward_is_not_called_a_bug():
    X, y = _small_shift_data()
    model = _SmallShift(factor=1.0)
    J, true = _small_shift_truth(model, X, y)
    report = check_model(model, nn.MSELoss(), X, y, threshold=1e-5)
    row = report["s"]
    np.testing.assert_allclose(row.analytic, [true], rtol=1e-9)
    assert report.buggy_parameters == [] and "likely a bug" not in str(report)
    # not tested either way: its derivative is below the resolution
    assert "s" in report.zero_parameters + report.unresolved_parameters
    assert " for s (not tested" in str(report).splitlines()[-1]


def test_a_model_whose_only_parameter_is_unresolved_is_not_tested():
    X, y = _small_shift_data()
    model = _SmallShift(factor=2.0, with_linear=False)
    report = check_model(model, nn.MSELoss(), X, y, threshold=1.0)
    assert report.unresolved_parameters == ["s"] and report.buggy_parameters == []
    assert not report.tested and not report.passed
    assert report.verdict == "nothing tested: differences below the resolution"
    summary = str(report).splitlines()[-1]
    assert summary.startswith("NOT TESTED: relative error "), summary
    assert "but the check compared differences below the finite-difference resolution" in summary, summary

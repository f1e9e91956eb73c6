"""The messages of the gradient checks, manual_seed and the optimizers' parameter list: a mistake
a student makes gets a message naming it and the fix, never a bare numpy error or a silent result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from test_engine import Cube, CubeWithArrays  # x**3: differentiable twice, and first-order only

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck, nn, optim
from tinygrad_edu.gradcheck import GradcheckError


def leaf(*shape, dtype=np.float64, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


# --- numerical_grad on float32 -------------------------------------------------------------------


def test_numerical_grad_warns_on_float32_naming_the_callers_line():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match=r"numerical_grad: input 0 is float32.*float64.*percent") as caught:
        (g,) = gradcheck.numerical_grad(lambda v: (v * v).sum(), [x])
    assert caught[0].filename == __file__  # the student's line, not the library's
    assert abs(g[0] - 2.0) > 0.01  # the reason for the warning: the float32 difference is ~5 % off


def test_numerical_grad_on_float64_does_not_warn_and_is_right():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (g,) = gradcheck.numerical_grad(lambda v: (v * v).sum(), [Tensor(np.ones(3), requires_grad=True)])
    np.testing.assert_allclose(g, 2.0, rtol=1e-8)


def test_numerical_grad_warns_for_a_float32_input_that_does_not_require_grad():
    # numerical_grad nudges every input, so each one's precision matters
    with pytest.warns(UserWarning, match="input 0 is float32"):
        gradcheck.numerical_grad(lambda v: (v * v).sum(), [Tensor(np.ones(2, dtype=np.float32))])


def test_gradcheck_warns_once_per_input_not_again_from_its_random_cotangents():
    x = leaf(300, dtype=np.float32)  # more outputs than FULL_JACOBIAN_LIMIT: random cotangents
    with pytest.warns(UserWarning) as caught:
        gradcheck.gradcheck(lambda v: v * 2.0, [x], atol=1e-1, rtol=1e-1)
    assert [str(w.message).split(":")[0] for w in caught if "float32" in str(w.message)] == ["gradcheck"]


# --- gradgradcheck on a first-order backward -----------------------------------------------------


class CubeDetached(tg.Function):
    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        x = x.detach() if isinstance(x, Tensor) else x  # detached under create_graph
        return grad * 3 * x**2


@pytest.mark.parametrize("op", [CubeWithArrays, CubeDetached], ids=lambda op: op.__name__)
def test_gradgradcheck_says_a_first_order_backward_is_not_differentiable(op):
    assert gradcheck.gradcheck(op.apply, [leaf(3)])  # the first derivative is right
    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradgradcheck(op.apply, [leaf(3)])
    message = str(caught.value)
    assert message.startswith("gradgradcheck: Jacobian mismatch for input 0 (shape (3,) float64)")
    assert "not differentiable (first-order only)" in message
    assert f"in f: {op.__name__}" in message
    assert "with respect to input 0" in message
    assert "Tensor ops on self.inputs" in message  # how to make it differentiable


def test_gradgradcheck_of_a_first_order_backward_with_raise_exception_false_returns_false():
    assert gradcheck.gradgradcheck(CubeWithArrays.apply, [leaf(3)], raise_exception=False) is False


def test_gradgradcheck_passes_a_differentiable_backward_and_a_constant_first_derivative():
    assert gradcheck.gradgradcheck(Cube.apply, [leaf(3)])
    # d/dx 2x = 2 has no graph behind it, and its derivative 0 is right: no mismatch, no message
    assert gradcheck.gradgradcheck(lambda v: v * 2.0, [leaf(3)])


def test_a_wrong_second_derivative_that_has_a_graph_gets_the_plain_mismatch():
    class WrongSecond(tg.Function):
        def forward(self, x):
            return x**3

        def backward(self, grad):
            (x,) = self.inputs
            constant = x.detach() if isinstance(x, Tensor) else x
            return grad * 3 * constant * x  # the right value, half the second derivative

    with pytest.raises(GradcheckError, match="Jacobian mismatch") as caught:
        gradcheck.gradgradcheck(WrongSecond.apply, [leaf(3)])
    assert "first-order only" not in str(caught.value)


# --- outputs that are not floating point ---------------------------------------------------------


@pytest.mark.parametrize("check", [gradcheck.gradcheck, gradcheck.gradgradcheck, gradcheck.numerical_grad])
def test_a_bool_output_names_its_dtype_and_what_is_expected(check):
    with pytest.raises(TypeError) as caught:
        check(lambda v: v > 0, [leaf(3)])
    message = str(caught.value)
    assert message.startswith(f"{check.__name__}: output 0 of f has dtype bool (shape (3,))")
    assert "floating-point" in message and "no derivative" in message
    assert "numpy boolean subtract" not in message


def test_an_integer_output_is_refused_too():
    with pytest.raises(TypeError, match=r"gradcheck: output 1 of f has dtype int64 \(shape \(2,\)\)"):
        gradcheck.gradcheck(lambda v: (v * 2.0, Tensor(np.array([1, 2]))), [leaf(3)])


# --- check_model's loss and model ----------------------------------------------------------------


@pytest.fixture
def small():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    return model, np.random.default_rng(0).standard_normal((5, 2)), np.ones((5, 1))


def test_check_model_with_a_loss_class_says_to_create_one(small):
    model, X, y = small
    with pytest.raises(TypeError) as caught:
        gradcheck.check_model(model, nn.BCEWithLogitsLoss, X, y)
    message = str(caught.value)
    assert "loss_fn is the class BCEWithLogitsLoss" in message
    assert "nn.BCEWithLogitsLoss()" in message
    assert "positional arguments" not in message


def test_check_model_with_a_loss_that_is_not_callable_says_what_to_pass(small):
    model, X, y = small
    with pytest.raises(TypeError) as caught:
        gradcheck.check_model(model, "bce", X, y)
    message = str(caught.value)
    assert "loss_fn is a str ('bce')" in message and "nn.BCEWithLogitsLoss()" in message


def test_check_model_with_a_model_class_says_to_create_one(small):
    _, X, y = small
    with pytest.raises(TypeError, match=r"model is the class Linear, not a model.*nn\.Linear\(\.\.\.\)"):
        gradcheck.check_model(nn.Linear, nn.MSELoss(), X, y)


def test_check_model_still_takes_a_plain_function_as_the_loss(small):
    model, X, y = small
    report = gradcheck.check_model(model.eval(), lambda out, target: ((out - target) ** 2).mean(), X, y)
    assert report.passed


# --- manual_seed ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seed, error, words",
    [
        (-1, ValueError, "got -1"),
        (1.5, TypeError, "got the float 1.5"),
        (3.0, TypeError, "manual_seed(3)"),
        (True, TypeError, "got the bool True"),
        (np.bool_(False), TypeError, "bool"),
        ("3", TypeError, "got a str ('3')"),
        (None, TypeError, "got a NoneType"),
        (np.int64(-2), ValueError, "got -2"),
    ],
)
def test_manual_seed_refuses_what_is_not_a_non_negative_integer(seed, error, words):
    with pytest.raises(error) as caught:
        tg.manual_seed(seed)
    message = str(caught.value)
    assert message.startswith("manual_seed: seed must be a non-negative integer")
    assert words in message


def test_manual_seed_takes_numpy_integers_like_ints():
    a = tg.manual_seed(np.int64(7)).standard_normal(3)
    b = tg.manual_seed(7).standard_normal(3)
    c = tg.manual_seed(np.uint32(7)).standard_normal(3)
    assert np.array_equal(a, b) and np.array_equal(b, c)
    tg.manual_seed(2**64)  # any size, as numpy's Generator takes


# --- an optimizer given a used-up generator ------------------------------------------------------


def test_an_optimizer_given_a_used_up_generator_says_parameters_can_be_iterated_once():
    model = nn.Linear(2, 1)
    params = model.parameters()
    optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError) as caught:
        optim.SGD(params, lr=0.1)
    message = str(caught.value)
    assert message.startswith("SGD: params is a generator that was already used up")
    assert "model.parameters() can be iterated only once" in message
    assert "list(model.parameters())" in message


def test_a_partly_used_generator_that_gives_nothing_more_is_called_used_up():
    params = nn.Linear(2, 1).parameters()
    next(params), next(params)
    with pytest.raises(ValueError, match="Adam: params is a generator that was already used up"):
        optim.Adam(params)


def test_a_new_generator_of_a_model_without_parameters_is_not_called_used_up():
    with pytest.raises(ValueError, match="gave no parameters: the model has none") as caught:
        optim.SGD(nn.Sequential(nn.ReLU()).parameters(), lr=0.1)
    assert "used up" not in str(caught.value)


def test_an_empty_iterator_mentions_both_causes_and_an_empty_list_stays_plain():
    with pytest.raises(ValueError, match="list_iterator that gave no parameters.*used up"):
        optim.SGD(iter([]), lr=0.1)
    with pytest.raises(ValueError, match="^SGD: got an empty parameter list$"):
        optim.SGD([], lr=0.1)

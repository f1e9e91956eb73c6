"""The mistakes students make writing a Function and checking it, as docs/adding_an_op.md and
docs/gradient_checking.md teach: each gets a message naming the op, the input, the shapes or
dtypes, and the way out, never a bare numpy or Python error, a misleading note or a silent pass."""

from __future__ import annotations

import functools
import pathlib
import re
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.gradcheck import GradcheckError

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def leaf(*shape, seed=0, dtype=np.float64):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


def page(name: str) -> str:
    """A docs page with its line breaks and indentation taken out, as a message is one line."""
    return re.sub(r"\s+", " ", (DOCS / name).read_text(encoding="utf-8"))


class Square(tg.Function):
    """x**2, right: d/dx = 2x."""

    def forward(self, x):
        return x * x

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 2 * x


# --- how f and the inputs are passed -----------------------------------------------------------


def test_the_function_class_itself_instead_of_apply_says_to_pass_apply():
    for check in (gradcheck.gradcheck, gradcheck.gradgradcheck, gradcheck.numerical_grad):
        with pytest.raises(TypeError, match=r"f is the Function class Square itself.*pass Square\.apply"):
            check(Square, [leaf(3)])


def test_an_instance_of_the_function_says_to_pass_apply():
    with pytest.raises(TypeError, match=r"f is an instance of the Function Square.*pass Square\.apply"):
        gradcheck.gradcheck(Square(), [leaf(3)])


def test_the_forward_method_is_refused_instead_of_passing_without_running_the_backward():
    # Square().forward on Tensors computes x * x with the built-in ops: it passed, checking them.
    words = r"f is Square\.forward.*never runs Square\.backward.*pass Square\.apply"
    with pytest.raises(TypeError, match=words):
        gradcheck.gradcheck(Square().forward, [leaf(3)])


def test_the_course_parameters_dictionary_as_inputs_says_to_pass_a_list():
    params = {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))}
    for check in (gradcheck.gradcheck, gradcheck.numerical_grad):
        words = r"inputs is a dict \(keys 'W1', 'b1'\).*list\(params\.values\(\)\)"
        with pytest.raises(TypeError, match=words):
            check(lambda W1, b1: (W1 * 2).sum() + b1.sum(), params)


def test_an_axis_among_the_inputs_says_it_goes_inside_f():
    class Sum(tg.Function):
        def forward(self, a, axis=None):
            self.save_for_backward(a.shape, axis)
            return a.sum(axis=axis)

        def backward(self, grad):
            shape, axis = self.saved
            return np.expand_dims(grad, axis) * np.ones(shape)

    with pytest.raises(TypeError) as caught:
        gradcheck.gradcheck(Sum.apply, [leaf(2, 3), 0])
    message = str(caught.value)
    assert "gradcheck: input 1 is an int 0 (shape ())" in message
    assert "an axis" in message and "lambda x: Op.apply(x, axis=0)" in message
    assert gradcheck.gradcheck(lambda x: Sum.apply(x, axis=0), [leaf(2, 3)])  # the way out
    assert gradcheck.gradcheck(functools.partial(Sum.apply, axis=1), [leaf(2, 3)])


def test_an_integer_array_input_says_to_make_it_float64():
    with pytest.raises(TypeError, match=r"input 0 is an int64 ndarray \(shape \(3,\)\).*dtype=np\.float64"):
        gradcheck.gradcheck(Square.apply, [np.array([1, 2, 3])])


def test_inputs_given_one_by_one_instead_of_in_a_list_say_to_put_them_in_one():
    with pytest.raises(ValueError) as caught:
        gradcheck.gradcheck(lambda a, b: a * b, leaf(3), leaf(3, seed=1))
    message = str(caught.value)
    assert message.startswith("gradcheck: eps must be a positive finite number, got Tensor(")
    assert "were the inputs given one by one? They go in one list: gradcheck(f, [x, y])" in message


# --- what f returns ----------------------------------------------------------------------------


def test_f_returning_a_number_says_it_needs_a_tensor_made_with_the_librarys_ops():
    with pytest.raises(TypeError) as caught:
        gradcheck.gradcheck(lambda t: float((t.data**2).sum()), [leaf(3)])
    message = str(caught.value)
    assert "gradcheck: output 0 of f is a float, expected a Tensor" in message
    assert ".data" in message and "no backward to check" in message


def test_numerical_grad_takes_a_cost_that_returns_a_number():
    # The course's cost(theta) returns a float: numerical_grad needs only values.
    theta = np.array([0.3, -1.2, 2.0])
    (g,) = gradcheck.numerical_grad(lambda t: float(np.sum(t.data**2)), [theta])
    np.testing.assert_allclose(g, 2 * theta, rtol=1e-7)
    (g,) = gradcheck.numerical_grad(lambda t: np.sum(t.data**3), [theta])
    np.testing.assert_allclose(g, 3 * theta**2, rtol=1e-7)


def test_an_output_computed_outside_the_graph_is_named_instead_of_a_bare_analytic_0():
    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(lambda t: Tensor(np.tanh(t.data)), [leaf(3)])
    message = str(caught.value)
    assert "analytic 0.0" in message
    assert "Output 0 of f does not require grad" in message
    assert ".data" in message and "no_grad" in message


def test_tensors_given_to_apply_as_keyword_arguments_are_named():
    class Mul(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            a, b = self.inputs
            return grad * b, grad * a

    # the op itself refuses them now (its result was not recorded, and gradcheck found zeros)
    with pytest.raises(TypeError, match=r"Mul.forward returned a Tensor.*as a keyword.*Mul\.apply\(x, y\)"):
        gradcheck.gradcheck(lambda x, y: Mul.apply(a=x, b=y), [leaf(3), leaf(3, seed=1)])
    with pytest.raises(TypeError, match=r"Mul.forward returned a Tensor"):  # (one of them a keyword)
        Mul.apply(leaf(3), b=leaf(3, seed=1))


# --- what the backward returns -----------------------------------------------------------------


def test_none_for_an_input_that_needs_a_gradient_is_named():
    class MulForgettingB(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            a, b = self.inputs
            return grad * b, None

    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(MulForgettingB.apply, [leaf(3), leaf(3, seed=1)])
    message = str(caught.value)
    assert "mismatch of MulForgettingB.apply for input 1 (shape (3,) float64)" in message
    assert "No gradient reached input 1: MulForgettingB.backward returned None for it" in message
    assert "None is for an input that needs no gradient" in message


def test_a_backward_that_forgets_grad_under_a_scalar_output_is_named():
    class SumOfSquaresForgettingGrad(tg.Function):
        def forward(self, x):
            return (x * x).sum()

        def backward(self, grad):
            (x,) = self.inputs
            return 2 * x

    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(SumOfSquaresForgettingGrad.apply, [leaf(3)])
    message = str(caught.value)
    assert "not linear in the gradient it receives, for input 0 (shape (3,))" in message
    assert "does not use the upstream gradient at all" in message


# --- in-place writes ---------------------------------------------------------------------------


class ReluWritingIntoGrad(tg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        (x,) = self.inputs
        grad[x <= 0] = 0
        return grad


class DoubleMultiplyingGradInPlace(tg.Function):
    def forward(self, x):
        return 2 * x

    def backward(self, grad):
        grad *= 2
        return grad


@pytest.mark.parametrize("op", [ReluWritingIntoGrad, DoubleMultiplyingGradInPlace])
def test_a_backward_writing_into_grad_fails_the_check_naming_the_op(op):
    # It passed: gradcheck's own upstream gradients are fresh arrays, so the Jacobian was right.
    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(op.apply, [leaf(5)])
    message = str(caught.value)
    assert f"gradcheck: {op.__name__}.backward changed its grad, an input or its output in place" in message
    assert "grad * (x > 0)" in message


def test_a_backward_writing_into_its_input_fails_and_leaves_the_input_as_it_was():
    class ReluClippingItsInput(tg.Function):
        def forward(self, x):
            return np.maximum(x, 0)

        def backward(self, grad):
            (x,) = self.inputs
            x[x < 0] = 0
            return grad * (x > 0)

    x = leaf(6)
    before = x.data.copy()
    with pytest.raises(GradcheckError, match=r"ReluClippingItsInput\.backward changed its grad, an input"):
        gradcheck.gradcheck(ReluClippingItsInput.apply, [x])
    np.testing.assert_array_equal(x.data, before)


@pytest.mark.parametrize(
    "forward",
    [
        lambda self, a: np.multiply(a, 2, out=a),  # a *= 2
        lambda self, a: np.exp(a, out=a),
    ],
    ids=["a *= 2", "np.exp(a, out=a)"],
)
def test_a_forward_writing_into_its_input_is_named_and_the_input_put_back(forward):
    Op = type("InPlaceForward", (tg.Function,), {"forward": forward, "backward": lambda self, g: g})
    x = leaf(3)
    before = x.data.copy()
    for check in (gradcheck.gradcheck, gradcheck.numerical_grad):
        with pytest.raises(ValueError) as caught:
            check(Op.apply, [x])
        message = str(caught.value)
        assert "f changed input 0 (shape (3,), float64) in place" in message
        assert "the forward of InPlaceForward" in message and "x = x * 2" in message
        np.testing.assert_array_equal(x.data, before)


# --- notes on a mismatch: non-finite values, eps, kinks ----------------------------------------


def test_a_nan_from_outside_the_domain_is_named_instead_of_a_kink_of_nan_slopes():
    class Log(tg.Function):
        def forward(self, x):
            return np.log(x)

        def backward(self, grad):
            (x,) = self.inputs
            return grad / x

    with np.errstate(invalid="ignore"), pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(Log.apply, [Tensor(np.array([-1.0, 2.0]), requires_grad=True)])
    message = str(caught.value)
    assert "kink" not in message and "nan from the left" not in message
    assert "the numerical value is nan" in message
    assert "outside the op's domain" in message


def test_an_overflowing_forward_says_to_write_it_in_a_stable_form():
    class NaiveSoftplus(tg.Function):
        def forward(self, x):
            return np.log(1 + np.exp(x))

        def backward(self, grad):
            (x,) = self.inputs
            return grad / (1 + np.exp(-x))

    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(NaiveSoftplus.apply, [Tensor(np.array([1000.0, 1.0]), requires_grad=True)])
    message = str(caught.value)
    assert "kink" not in message
    assert "the numerical value is nan" in message and "np.logaddexp" in message


def test_a_too_large_eps_is_named_and_not_taken_for_a_kink():
    class Fourth(tg.Function):
        def forward(self, x):
            return x**4

        def backward(self, grad):
            (x,) = self.inputs
            return grad * 4 * x**3

    for eps in (1e-2, 0.1):
        with pytest.raises(GradcheckError) as caught:
            gradcheck.gradcheck(Fourth.apply, [leaf(3)], eps=eps)
        message = str(caught.value)
        assert "sits at a kink" not in message, message
        assert f"eps={eps:g} is too large" in message and "matches the analytic one" in message
    assert gradcheck.gradcheck(Fourth.apply, [leaf(3)])  # with the default eps


def test_a_kink_of_ones_own_op_is_still_named_at_a_large_eps():
    class Relu(tg.Function):
        def forward(self, x):
            return np.maximum(x, 0)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * (x > 0)

    with pytest.raises(GradcheckError) as caught:
        gradcheck.gradcheck(Relu.apply, [Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)], eps=1e-3)
    assert "sits at a kink of Relu.apply" in str(caught.value)


# --- gradgradcheck of a backward written for ndarrays only --------------------------------------


def test_a_numpy_function_on_a_tensor_under_create_graph_is_explained():
    class Tanh(tg.Function):
        def forward(self, x):
            return np.tanh(x)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * (1 - np.tanh(x) ** 2)

    assert gradcheck.gradcheck(Tanh.apply, [leaf(3)])
    with pytest.raises(TypeError) as caught:
        gradcheck.gradgradcheck(Tanh.apply, [leaf(3)])
    message = str(caught.value)
    assert "gradgradcheck: Tanh.backward called a numpy function on a Tensor" in message
    assert "create_graph=True" in message and "run(" in message and "leave gradgradcheck out" in message


def test_an_assignment_into_a_tensor_under_create_graph_is_explained():
    class Relu(tg.Function):
        def forward(self, x):
            return np.maximum(x, 0)

        def backward(self, grad):
            (x,) = self.inputs
            g = grad * 1
            g[x <= 0] = 0
            return g

    assert gradcheck.gradcheck(Relu.apply, [leaf(4)])
    with pytest.raises(TypeError) as caught:
        gradcheck.gradgradcheck(Relu.apply, [leaf(4)])
    message = str(caught.value)
    assert "gradgradcheck: Relu.backward assigned into a Tensor" in message
    assert "grad * (x > 0)" in message


# --- the docs quote these messages --------------------------------------------------------------


def _message(check, *args, **kwargs) -> str:
    with pytest.raises(Exception) as caught:
        check(*args, **kwargs)
    return str(caught.value)


class Mul(tg.Function):
    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * b, grad * a


class MulReturningOne(Mul):
    def backward(self, grad):
        a, b = self.inputs
        return grad * b


class MulReturningNone(Mul):
    def backward(self, grad):
        a, b = self.inputs
        return grad * b, None


class AddBias(tg.Function):
    def forward(self, x, b):
        return x + b

    def backward(self, grad):
        return grad, grad.sum(axis=1)  # the bias's gradient sums over axis 0


class Sp(tg.Function):
    def forward(self, x):
        return np.logaddexp(np.zeros_like(x), x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.sigmoid()


class SumOfSquaresForgettingGrad(tg.Function):
    def forward(self, x):
        return (x * x).sum()

    def backward(self, grad):
        (x,) = self.inputs
        return 2 * x


class DoubleInPlace(tg.Function):
    def forward(self, x):
        x *= 2
        return x

    def backward(self, grad):
        return 2 * grad


class Log(tg.Function):
    def forward(self, x):
        return np.log(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad / x


class Cube(tg.Function):
    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 3 * x**2


class Sum(tg.Function):
    def forward(self, x, axis=0):
        self.save_for_backward(axis)
        return x.sum(axis=axis)

    def backward(self, grad):
        (axis,) = self.saved
        (x,) = self.inputs
        kept = list(x.shape)
        kept[axis] = 1
        return grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype)


class Tanh(tg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * (1 - np.tanh(x) ** 2)


class Relu(tg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        (x,) = self.inputs
        g = grad * 1
        g[x <= 0] = 0
        return g


def _message(check, *args, **kwargs) -> str:
    with np.errstate(all="ignore"), pytest.raises(Exception) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# gradient_checking.md's table "Mistakes the checks name": each quoted part, and what raises it.
TABLE = [
    (
        "Mul.backward returned 1 gradient(s) for 2 input(s) of shapes (3,), (3,): return one per input "
        "(None for none)",
        lambda: gradcheck.gradcheck(type("Mul", (MulReturningOne,), {}).apply, [leaf(3), leaf(3, seed=1)]),
    ),
    (
        "AddBias.backward returned a gradient of shape (4,) (float64) for an input of shape (3,): it "
        "cannot be summed to that shape",
        lambda: gradcheck.gradcheck(AddBias.apply, [leaf(4, 3), leaf(3, seed=1)]),
    ),
    ("Sp.backward called .sigmoid() on an ndarray. ...", lambda: gradcheck.gradcheck(Sp.apply, [leaf(3)])),
    (
        "No gradient reached input 1: Mul.backward returned None for it (its input 1)",
        lambda: gradcheck.gradcheck(type("Mul", (MulReturningNone,), {}).apply, [leaf(3), leaf(3, seed=1)]),
    ),
    (
        "It gives the same gradient as for an upstream gradient of 1: it does not use the upstream gradient "
        "at all",
        lambda: gradcheck.gradcheck(SumOfSquaresForgettingGrad.apply, [leaf(3)]),
    ),
    (
        "ValueError: gradcheck: f changed input 0 (shape (3,), float64) in place: ...",
        lambda: gradcheck.gradcheck(DoubleInPlace.apply, [leaf(3)]),
    ),
    (
        "Output 0 of f does not require grad: nothing recorded connects it to the inputs",
        lambda: gradcheck.gradcheck(lambda t: Tensor(np.tanh(t.data)), [leaf(3)]),
    ),
    (
        "Not a number to compare: the numerical value is nan",
        lambda: gradcheck.gradcheck(Log.apply, [Tensor(np.array([-1.0, 2.0]), requires_grad=True)]),
    ),
    (
        "With eps=1e-06 (the default) the numerical value of this entry is ..., which matches the analytic "
        "one: eps=0.1 is too large",
        lambda: gradcheck.gradcheck(Cube.apply, [leaf(3)], eps=0.1),
    ),
    (
        "f is the Function class Square itself; pass Square.apply",
        lambda: gradcheck.gradcheck(Square, [leaf(3)]),
    ),
    (
        "TypeError: gradcheck: input 1 is an int 0 (shape ()); ...",
        lambda: gradcheck.gradcheck(Sum.apply, [leaf(2, 3), 0]),
    ),
    (
        "TypeError: gradcheck: inputs is a dict (keys 'W1', 'b1'); pass a list of its arrays, gradcheck(f, "
        "list(params.values()))",
        lambda: gradcheck.gradcheck(lambda W1, b1: W1.sum() + b1.sum(), {"W1": np.ones(2), "b1": np.ones(1)}),
    ),
    (
        "ValueError: gradcheck: eps must be a positive finite number, got Tensor(...): were the inputs "
        "given one by one?",
        lambda: gradcheck.gradcheck(lambda a, b: a * b, leaf(3), leaf(3, seed=1)),
    ),
    (
        "TypeError: gradcheck: output 0 of f is a float, expected a Tensor: ...",
        lambda: gradcheck.gradcheck(lambda t: float(t.data.sum()), [leaf(3)]),
    ),
    (
        "TypeError: gradgradcheck: Tanh.backward called a numpy function on a Tensor ...",
        lambda: gradcheck.gradgradcheck(Tanh.apply, [leaf(3)]),
    ),
    (
        "TypeError: gradgradcheck: Relu.backward assigned into a Tensor ...",
        lambda: gradcheck.gradgradcheck(Relu.apply, [leaf(3)]),
    ),
]


@pytest.mark.parametrize("quoted, run", TABLE, ids=[q[:40] for q, _ in TABLE])
def test_the_table_of_mistakes_in_gradient_checking_md_quotes_what_the_checks_say(quoted, run):
    assert quoted in page("gradient_checking.md"), quoted
    with np.errstate(all="ignore"), pytest.raises(Exception) as caught:
        run()
    said = f"{type(caught.value).__name__}: {caught.value}"
    for part in quoted.split("..."):
        part = part.strip().rstrip(":").strip()
        if part:
            assert part in said, (part, said)


def test_gradient_checking_md_quotes_the_in_place_message():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    message = _message(gradcheck.gradcheck, ReluWritingIntoGrad.apply, [x])
    assert f"GradcheckError: {message}" in page("gradient_checking.md"), message


def test_adding_an_op_md_shows_an_op_with_an_axis_no_init_and_no_ctx():
    text = page("adding_an_op.md")
    assert ">>> SumAxis.apply(x2, axis=1)" in text and "self.save_for_backward(axis)" in text
    assert ">>> gradcheck.gradcheck(lambda t: SumAxis.apply(t, axis=1), [x2]) True" in text
    assert "The class has no `__init__`" in text and "no `ctx` argument as in PyTorch" in text
    with pytest.raises(TypeError, match="Sum"):
        Sum(leaf(3))  # the class called with the input, as the page says: a TypeError


def test_a_kink_closer_than_eps_still_gets_the_kink_note():
    # before: at eps / 10 the kink was no longer crossed, the gap vanished, and it was taken for
    # curvature: a correct backward got a bare mismatch
    class MyReLU(tg.Function):
        def forward(self, x):
            return np.maximum(x, 0)

        def backward(self, grad):
            return grad * (self.inputs[0] > 0)

    with pytest.raises(GradcheckError, match=r"0.5 from the left, 1 from the right"):
        gradcheck.gradcheck(MyReLU.apply, [Tensor(np.array([5e-7, 1.0]), requires_grad=True)])


# --- numpy functions on Tensors ------------------------------------------------------------------


@pytest.mark.parametrize("call, instead", [
    (lambda X, W: np.dot(X, W.T), "the @ operator (np.dot(X, W.T) is X @ W.T)"),
    (lambda X, W: np.sum(W), "the Tensor method: t.sum(...)"),
    (lambda X, W: np.mean(W, axis=0), "the Tensor method: t.mean(...)"),
    (lambda X, W: np.where(W.data > 0, W, 0.0), "tg.where(...)"),
    (lambda X, W: np.concatenate([W, W]), "tg.concatenate(...)"),
    (lambda X, W: np.transpose(W), "the Tensor method: t.transpose(...)"),
])
def test_a_numpy_function_on_a_tensor_that_requires_grad_says_what_to_write(call, instead):
    # before: np.dot(X, W.T) returned an ndarray, `+ b` made a Tensor of it again, and training ran
    # with W.grad None: only the biases learned (np.sum gave "unexpected keyword argument 'out'")
    X = np.random.default_rng(0).standard_normal((4, 2))
    W = Tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    with pytest.raises(TypeError) as info:
        call(X, W)
    message = str(info.value)
    assert message.startswith("np.") and "requires grad" in message and "gradient would be missing" in message
    assert f"Write it with {instead}" in message and "t.detach().numpy()" in message


def test_numpy_functions_still_take_tensors_that_need_no_gradient_and_questions_on_any():
    W = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    constant = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.sum(constant) == 15.0 and type(np.dot(constant, constant.T)) is np.ndarray
    np.testing.assert_array_equal(np.concatenate([constant, np.ones((1, 3))])[2], [1.0, 1.0, 1.0])
    assert np.shape(W) == (2, 3) and np.ndim(W) == 2 and np.size(W) == 6
    assert np.allclose(W, constant) and np.array_equal(W, constant.data) and np.argmax(W) == 5
    np.testing.assert_allclose(W, constant.data)


def test_reading_the_grad_of_a_tensor_made_by_an_op_warns_and_names_the_rebinding_mistake():
    # before: None, silently; the next step then failed with "unsupported operand type(s) for *:
    # 'float' and 'NoneType'", far from the line `w = w - 0.1 * w.grad` that made w a non-leaf
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    (w * w).sum().backward()
    w = w - 0.1 * w.grad  # the mistake: w is now the result of an op
    (w * w).sum().backward()
    with pytest.warns(UserWarning, match=r"Tensor.grad of a tensor made by Sub \(shape \(2,\)\) is None: "
                      r"backward fills the .grad of leaves only.*w = w - lr \* w.grad.*w -= lr \* w.grad"):
        assert w.grad is None
    leaf = Tensor(np.array([1.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert leaf.grad is None  # a leaf's None is no mistake: no warning


def test_an_index_tensor_of_floats_names_its_dtype_and_the_integer_spellings():
    # before: numpy's "arrays used as indices must be of integer (or boolean) type", naming
    # neither the index's dtype (a list becomes float32) nor a way out
    x = Tensor(np.arange(5.0))
    expected = (r"the index is a Tensor of dtype float32 \(shape \(2,\), \[0\. 2\.\]\); indices must be "
                r"integers or bools: a list of numbers becomes a float tensor here.*x\[\[0, 2\]\].*"
                r"Tensor\(\[0, 2\], dtype=np.int64\)")
    with pytest.raises(IndexError, match=expected):
        x[Tensor([0, 2])]
    with pytest.raises(IndexError, match=r"a list of dtype float64.*astype\(np.int64\)"):
        x[[0.0, 2.0]]
    for good in ([0, 2], np.array([0, 2]), Tensor([0, 2]).long(), Tensor([0, 2], dtype=np.int64)):
        np.testing.assert_array_equal(x[good].data, [0.0, 2.0])

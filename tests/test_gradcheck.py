"""gradcheck, gradgradcheck and numerical_grad: they pass right backwards and catch wrong ones.

Each broken op below is a bug a student really writes; a checker that lets one
through is itself broken.
"""

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.gradcheck import FULL_JACOBIAN_LIMIT, GradcheckError


def rand_leaf(*shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return Tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)


# --- correct and broken ops ----------------------------------------------------------------


class Sin(tg.Function):
    """sin(x); d/dx = cos(x)."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * Tensor(np.cos(x.data))


class SinIgnoringGrad(tg.Function):
    """Broken: returns cos(x) without multiplying by the incoming gradient."""

    def forward(self, x):
        return np.sin(x)

    def backward(self, grad):
        (x,) = self.inputs
        return Tensor(np.cos(x.data))


class MulSwapped(tg.Function):
    """Broken: a * b whose backward sends each input the other's gradient."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        return grad * a, grad * b


class SquareWrongFactor(tg.Function):
    """Broken: x**2 with d/dx = 2.02 x instead of 2x (a 1% error)."""

    def forward(self, x):
        return x**2

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x * 2.02


class MulWrongAtOneElement(tg.Function):
    """Broken: a * b whose gradient for b is off by +grad at element (1, 2) only."""

    def forward(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        bump = np.zeros(b.shape)
        bump[1, 2] = 1.0
        return grad * b, grad * a + grad * Tensor(bump)


class CubeDetached(tg.Function):
    """x**3 whose backward uses a detached copy of x: first derivative right, second wrong."""

    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        x_const = np.asarray(x)  # an ndarray: the graph cannot see that 3x**2 depends on x
        return grad * 3 * x_const**2


class CubeWithArrays(tg.Function):
    """x**3 whose backward uses a saved ndarray: first derivative right, no second one."""

    def forward(self, x):
        self.save_for_backward(3 * x**2)
        return x**3

    def backward(self, grad):
        (slope,) = self.saved
        return grad * slope


# --- gradcheck passes right backwards ------------------------------------------------------------


@pytest.mark.parametrize(
    "f, shapes",
    [
        (lambda a: a.tanh(), [(3, 4)]),
        (Sin.apply, [(5,)]),
        (lambda a, b: a * b + a / (b * b + 1.0), [(2, 3), (3,)]),  # broadcasting
        (lambda a, b: a @ b, [(2, 3), (3, 4)]),
        (lambda a: a.sum(axis=1), [(3, 4)]),
        (lambda a: (a * a).sum(), [(2, 2)]),
        (lambda a: a.exp().sum(axis=0, keepdims=True), [(2, 3)]),
    ],
)
def test_gradcheck_passes_right_backwards(f, shapes):
    inputs = [rand_leaf(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck.gradcheck(f, inputs) is True


def test_gradcheck_accepts_plain_arrays_and_a_single_tensor():
    assert gradcheck.gradcheck(lambda a: a * a, [np.array([1.0, 2.0])]) is True
    assert gradcheck.gradcheck(lambda a: a * a, rand_leaf(3)) is True


def test_the_module_can_be_called_as_its_main_function_like_torch_autograd_gradcheck():
    x = rand_leaf(3, 4)
    assert tg.gradcheck(lambda a: a.tanh(), [x], 1e-6, atol=1e-5) is True
    with pytest.raises(GradcheckError, match="input 0"):
        tg.gradcheck(SinIgnoringGrad.apply, [x])
    assert tg.gradcheck(SinIgnoringGrad.apply, [x], raise_exception=False) is False
    with pytest.warns(UserWarning, match="float32") as caught:
        tg.gradcheck(lambda a: a * 2.0, [rand_leaf(3, dtype=np.float32)], atol=1e-2, rtol=1e-2)
    assert caught[0].filename == __file__  # the warning names the caller's line, not the library's


def test_gradcheck_restores_the_inputs():
    x = rand_leaf(3, 2)
    before = x.data.copy()
    gradcheck.gradcheck(lambda a: a.tanh(), [x])
    np.testing.assert_array_equal(x.data, before)


# --- gradcheck catches wrong backwards -------------------------------------------------------------


def test_gradcheck_catches_a_backward_that_ignores_its_incoming_gradient():
    x = rand_leaf(3, 4)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck.gradcheck(SinIgnoringGrad.apply, [x])
    # downstream ops make the incoming gradient non-uniform: caught there too
    with pytest.raises(GradcheckError):
        gradcheck.gradcheck(lambda a: (SinIgnoringGrad.apply(a) * a).sum(), [x])


def test_the_trap_a_sum_alone_cannot_see_an_ignored_gradient():
    # The gradient of sum() is all ones, and cos(x) * 1 == cos(x): this is why
    # gradcheck compares whole Jacobians (or random cotangents), never just sum().
    x = rand_leaf(3, 4)
    f = lambda a: SinIgnoringGrad.apply(a).sum()  # noqa: E731
    (analytic,) = tg.grad(f(x), [x])
    (numerical,) = gradcheck.numerical_grad(f, [x])
    np.testing.assert_allclose(analytic.data, numerical, rtol=1e-6)  # the trap: they agree
    # gradcheck's one random upstream gradient (here a random number times the sum's) tells
    with pytest.raises(GradcheckError, match=r"not linear in the gradient it receives, for input 0 "):
        gradcheck.gradcheck(f, [x])


def test_gradcheck_catches_an_ignored_gradient_with_random_cotangents_on_big_outputs():
    side = int(np.sqrt(FULL_JACOBIAN_LIMIT)) + 2  # more output elements than the full-Jacobian limit
    x = rand_leaf(side, side)
    assert gradcheck.gradcheck(Sin.apply, [x]) is True
    words = r"vector-Jacobian product \(the gradient for a random upstream gradient\) mismatch"
    with pytest.raises(GradcheckError, match=words + " of SinIgnoringGrad.apply"):
        gradcheck.gradcheck(SinIgnoringGrad.apply, [x])


def test_gradcheck_catches_gradients_swapped_between_inputs():
    a, b = rand_leaf(2, 3, seed=1), rand_leaf(2, 3, seed=2)
    words = r"mismatch of MulSwapped.apply for input 0 \(shape \(2, 3\) float64\)"
    with pytest.raises(GradcheckError, match=words):
        gradcheck.gradcheck(MulSwapped.apply, [a, b])


def test_gradcheck_catches_a_wrong_factor():
    with pytest.raises(GradcheckError):
        gradcheck.gradcheck(SquareWrongFactor.apply, [rand_leaf(4)])


def test_gradcheck_message_names_input_element_analytic_and_numerical():
    a, b = rand_leaf(2, 3, seed=3), rand_leaf(2, 3, seed=4)
    with pytest.raises(GradcheckError) as info:
        gradcheck.gradcheck(MulWrongAtOneElement.apply, [a, b])
    msg = str(info.value)
    assert "mismatch of MulWrongAtOneElement.apply for input 1 (shape (2, 3) float64)" in msg
    assert "input element (1, 2)" in msg
    assert "output element (1, 2) of output 0" in msg
    analytic = float(re.search(r"analytic (\S+),", msg).group(1))
    numerical = float(re.search(r"numerical (\S+) ", msg).group(1))
    # d(a*b)[1,2] / d b[1,2] = a[1,2]; the broken backward adds 1
    assert analytic == pytest.approx(a.data[1, 2] + 1.0, rel=1e-12)
    assert numerical == pytest.approx(a.data[1, 2], rel=1e-6)


def test_gradcheck_raise_exception_false_returns_false():
    x = rand_leaf(3)
    assert gradcheck.gradcheck(SquareWrongFactor.apply, [x], raise_exception=False) is False
    assert gradcheck.gradcheck(SinIgnoringGrad.apply, [x], raise_exception=False) is False
    assert gradcheck.gradcheck(Sin.apply, [x], raise_exception=False) is True


def test_gradcheck_only_checks_inputs_that_require_grad():
    a = rand_leaf(2, 3, seed=1)
    b_values = np.random.default_rng(2).standard_normal((2, 3))
    # the broken gradient is b's: never asked for while b is a constant, and said so ...
    with pytest.warns(gradcheck.SkippedInputsWarning, match=r"input 1 \(shape \(2, 3\), float64\)"):
        assert gradcheck.gradcheck(MulWrongAtOneElement.apply, [a, Tensor(b_values)]) is True
    # ... and caught as soon as b requires grad
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck.gradcheck(MulWrongAtOneElement.apply, [a, Tensor(b_values, requires_grad=True)])


def test_gradcheck_warns_on_float32_inputs():
    x = rand_leaf(3, dtype=np.float32)
    with pytest.warns(UserWarning, match=r"gradcheck: input 0 is float32.*float64"):
        gradcheck.gradcheck(lambda a: a * 2.0, [x], atol=1e-2, rtol=1e-2)


def test_gradcheck_does_not_warn_on_float64(recwarn):
    gradcheck.gradcheck(lambda a: a * 2.0, [rand_leaf(3)])
    assert not [w for w in recwarn if "float" in str(w.message)]


# --- any output shape, tuples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a.sum(),  # 0-d
        lambda a: a.reshape(2, 1, 3) * 2.0,  # 3-d
        lambda a: a[1],  # 1-d
        lambda a: a.reshape(2, 3, 1) * a.reshape(1, 1, 6),  # broadcasting to (2, 3, 6)
    ],
)
def test_gradcheck_works_with_outputs_of_any_shape(f):
    assert gradcheck.gradcheck(f, [rand_leaf(2, 3)]) is True


def test_gradcheck_with_a_scalar_input():
    assert gradcheck.gradcheck(lambda a: (a * a).exp(), [Tensor(np.array(0.3), requires_grad=True)])


def test_gradcheck_with_tuple_outputs():
    a, b = rand_leaf(2, 3, seed=1), rand_leaf(3, seed=2)
    assert gradcheck.gradcheck(lambda x, y: (x * y, (x + y).sum(), y.exp()), [a, b]) is True


def test_gradcheck_catches_a_broken_second_output_of_a_tuple():
    a = rand_leaf(4)
    with pytest.raises(GradcheckError, match="of output 1"):
        gradcheck.gradcheck(lambda x: (x.tanh(), SquareWrongFactor.apply(x)), [a])


def test_gradcheck_with_a_constant_output_in_the_tuple():
    a = rand_leaf(3)
    const = Tensor(np.ones(2))
    assert gradcheck.gradcheck(lambda x: (const, x * x), [a]) is True


# --- numerical_grad ----------------------------------------------------------------------------------


def test_numerical_grad_matches_a_hand_derivative():
    # f(x, y) = sum(x**2 * y) + exp(x0):  df/dx = 2 x y + [exp(x0), 0, 0],  df/dy = x**2
    xv = np.array([0.3, -1.2, 2.0])
    yv = np.array([1.5, 0.5, -0.7])

    def f(x, y):
        return (x * x * y).sum() + x[0].exp()

    gx, gy = gradcheck.numerical_grad(f, [Tensor(xv.copy()), Tensor(yv.copy())])
    np.testing.assert_allclose(gx, 2 * xv * yv + np.array([np.exp(0.3), 0.0, 0.0]), rtol=1e-7)
    np.testing.assert_allclose(gy, xv**2, rtol=1e-7, atol=1e-9)
    assert gx.dtype == np.float64 and gx.shape == (3,)


def test_numerical_grad_weights_a_non_scalar_output_with_grad_output():
    # d/dx sum(w * x**3) = 3 w x**2
    xv = np.array([[1.0, 2.0], [-1.0, 0.5]])
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    (g,) = gradcheck.numerical_grad(lambda x: x * x * x, [xv.copy()], grad_output=w)
    np.testing.assert_allclose(g, 3 * w * xv**2, rtol=1e-7)


def test_numerical_grad_leaves_the_inputs_unchanged():
    x = Tensor(np.array([0.1, 0.2, 0.3]))
    before = x.data.copy()
    gradcheck.numerical_grad(lambda a: (a * a).sum(), [x])
    np.testing.assert_array_equal(x.data, before)


# --- gradgradcheck -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "f, shapes",
    [
        (lambda a: a.tanh(), [(3, 4)]),
        (lambda a, b: a * b.exp(), [(2, 3), (3,)]),
        (lambda a: (a * a * a).sum(), [(4,)]),
        (lambda a, b: a @ b, [(2, 3), (3, 2)]),
    ],
)
def test_gradgradcheck_passes_smooth_ops(f, shapes):
    inputs = [rand_leaf(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck.gradgradcheck(f, inputs) is True


def test_gradgradcheck_catches_a_backward_that_detaches_its_input():
    x = rand_leaf(3, seed=5)
    assert gradcheck.gradcheck(CubeDetached.apply, [x]) is True  # first derivatives are right
    with pytest.raises(GradcheckError, match=r"gradgradcheck: .*input 0"):
        gradcheck.gradgradcheck(CubeDetached.apply, [x])
    assert gradcheck.gradgradcheck(CubeDetached.apply, [x], raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_on_ndarrays():
    x = rand_leaf(3, seed=6)
    assert gradcheck.gradcheck(CubeWithArrays.apply, [x]) is True
    assert gradcheck.gradgradcheck(CubeWithArrays.apply, [x], raise_exception=False) is False


def test_gradgradcheck_with_given_grad_outputs():
    x = rand_leaf(2, 2)
    v = np.array([[1.0, -1.0], [2.0, 0.5]])
    assert gradcheck.gradgradcheck(lambda a: a.sigmoid(), [x], grad_outputs=[v]) is True
    with pytest.raises(GradcheckError):
        gradcheck.gradgradcheck(CubeDetached.apply, [x], grad_outputs=[v])


def test_gradgradcheck_warns_once_on_float32():
    x = rand_leaf(2, dtype=np.float32)
    with pytest.warns(UserWarning) as record:
        gradcheck.gradgradcheck(lambda a: a * a, [x], atol=1e-2, rtol=1e-2, raise_exception=False)
    messages = [str(w.message) for w in record if "float32" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("gradgradcheck")


def test_gradcheck_refuses_to_pass_when_no_input_requires_grad():
    # A backward that is wrong everywhere would "pass" if nothing were compared.
    a = Tensor(np.random.default_rng(3).standard_normal((2, 3)))
    b = Tensor(np.random.default_rng(4).standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"gradcheck: no input requires grad \(input 0 \(shape \(2, 3\)"):
        gradcheck.gradcheck(MulWrongAtOneElement.apply, [a, b])


def test_gradgradcheck_refuses_to_pass_when_no_input_requires_grad():
    a = Tensor(np.random.default_rng(5).standard_normal(3))
    with pytest.raises(ValueError, match="gradgradcheck: no input requires grad"):
        gradcheck.gradgradcheck(lambda x: x * x, [a])


def test_gradgradcheck_names_the_inputs_it_skips():
    a = rand_leaf(3, seed=6)
    b = Tensor(np.random.default_rng(7).standard_normal(3))
    with pytest.warns(gradcheck.SkippedInputsWarning, match="gradgradcheck: input 1"):
        assert gradcheck.gradgradcheck(lambda x, y: x * x * y, [a, b])


# --- the step and the tolerances -----------------------------------------------------------------


@pytest.mark.parametrize("eps", [0, 0.0, -1e-6, float("nan"), float("inf"), "1e-6", True])
def test_a_step_that_is_not_a_positive_number_is_refused(eps):
    x = np.array([1.0, 2.0])
    for check in (gradcheck.gradcheck, gradcheck.gradgradcheck, gradcheck.numerical_grad):
        with pytest.raises(ValueError, match=rf"{check.__name__}: eps must be a positive finite number, got"):
            check(lambda t: (t * t).sum(), [x], eps=eps)


@pytest.mark.parametrize("arg", ["atol", "rtol"])
def test_a_negative_tolerance_is_refused(arg):
    with pytest.raises(ValueError, match=rf"gradcheck: {arg} must be a non-negative finite number, got -0.1"):
        gradcheck.gradcheck(lambda t: (t * t).sum(), [np.array([1.0])], **{arg: -0.1})
    assert gradcheck.gradcheck(lambda t: (t * t).sum(), [np.array([1.0])], **{arg: 0.1})  # 0.1 is fine


# --- a kink: the verdict stays, the message says where the kink is ------------------------------


RELU_POINTS = [-1.0, -0.5, -0.2, 0.0, 0.1, 0.3, 0.7, 1.2, 2.0]


def test_a_correct_relu_at_0_still_fails_and_the_message_names_the_kink():
    x = Tensor(np.array(RELU_POINTS), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(lambda a: a.relu(), [x])
    message = str(caught.value)
    assert "analytic 0.0, numerical 0.5" in message
    assert "Input element (3,) sits at a kink of ReLU" in message, message
    assert "(0 from the left, 1 from the right)" in message, message
    assert gradcheck.gradcheck(lambda a: a.relu(), [x], raise_exception=False) is False


class ReluTakingTheRightSide(tg.Function):
    """A relu of one's own (not a built-in kink op) whose backward takes 1 at 0."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * (x >= 0)


def test_a_kink_of_an_op_of_ones_own_is_seen_from_its_one_sided_slopes():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(ReluTakingTheRightSide.apply, [x])
    message = str(caught.value)
    assert "The first differing entry sits at a kink of ReluTakingTheRightSide.apply" in message, message
    assert "(0 from the left, 1 from the right)" in message, message
    assert "relu's takes 0" not in message  # (said of the built-in ReLU only)
    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(lambda a: a.clip(-1.0, 1.0), [Tensor(np.array([1.0, 0.5]), requires_grad=True)])
    message = str(caught.value)
    assert "sits at a kink of Clip" in message and "relu" not in message, message


def test_a_wrong_backward_away_from_any_kink_gets_no_kink_note():
    class WrongTanh(tg.Function):
        def forward(self, x):
            return np.tanh(x)

        def backward(self, grad):
            return grad * (1 - self.output)

    with pytest.raises(GradcheckError) as caught:
        tg.gradcheck(WrongTanh.apply, [rand_leaf(4, seed=3)])
    assert "kink" not in str(caught.value)


# --- docs/gradient_checking.md's float32 number is what numerical_grad prints -------------------


def test_the_float32_number_in_the_docs_is_what_numerical_grad_gives():
    import pathlib

    doc = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "gradient_checking.md").read_text()
    stated = re.search(r"d/dx of sum\(x²\) at x = 1 comes out as ([\d.]+), not 2", doc)
    assert stated, "gradient_checking.md no longer states the float32 number"
    with pytest.warns(UserWarning, match="float32"):
        (g,) = gradcheck.numerical_grad(lambda x: (x**2).sum(), [np.ones(1, dtype=np.float32)])
    assert f"{g[0]:.8f}" == stated.group(1)


# --- what a student or teacher gets wrong when calling the checks -------------------------------


def test_numerical_grad_takes_one_grad_output_per_output_and_refuses_one_that_would_broadcast():
    x = np.array([1.0, 2.0, 3.0])
    v1, v2 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    (g,) = gradcheck.numerical_grad(lambda t: (t * 1, t * 2), [x.copy()], grad_output=[v1, v2])
    np.testing.assert_allclose(g, v1 + 2 * v2, atol=1e-8)  # d/dx sum(v1 x + v2 2x)
    with pytest.raises(ValueError, match=r"numerical_grad: grad_output\[0\] has shape \(2, 3\) but output 0 "
                       r"of f has shape \(3,\)"):
        gradcheck.numerical_grad(lambda t: t * t, [x.copy()], grad_output=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"grad_output\[0\] has shape \(3, 1\)"):
        gradcheck.numerical_grad(lambda t: t * t, [x.copy()], grad_output=np.ones((3, 1)))
    with pytest.raises(ValueError, match="f returns 2 outputs, so grad_output must be a list of 2"):
        gradcheck.numerical_grad(lambda t: (t * 1, t * 2), [x.copy()], grad_output=v1)
    with pytest.raises(ValueError, match=r"grad_output has 3 entries for the 2 output\(s\) of f"):
        gradcheck.numerical_grad(lambda t: (t * 1, t * 2), [x.copy()], grad_output=[v1, v2, v1])
    (g,) = gradcheck.numerical_grad(lambda t: t * 2, [x.copy()], grad_output=[1.0, -2.0, 0.5])
    np.testing.assert_allclose(g, [2.0, -4.0, 1.0], atol=1e-8)  # a plain list of the output's shape


@pytest.mark.parametrize("check", [gradcheck.gradcheck, gradcheck.numerical_grad])
def test_an_input_is_put_back_when_f_raises_half_way(check):
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)

    def f(t):
        if t.data[1] > 2.0:  # raises only while element 1 is nudged up
            raise ValueError("boom")
        return t * 2

    with pytest.raises(ValueError, match="boom"):
        check(f, [x])
    assert x.data.tolist() == [1.0, 2.0, 3.0]


class TanhSquaringGrad(tg.Function):
    """Broken: tanh whose backward squares the incoming gradient (right for every 0/1 upstream)."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        return grad**2 * (1 - self.output**2)


class TanhAbsGrad(tg.Function):
    """Broken: the same with abs(grad)."""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        return abs(grad) * (1 - self.output**2)


@pytest.mark.parametrize("op", [TanhSquaringGrad, TanhAbsGrad])
def test_a_backward_that_is_not_linear_in_grad_is_caught(op):
    x = rand_leaf(2, 3)
    with pytest.raises(GradcheckError, match=r"gradcheck: the backward is not linear in the gradient it "
                       r"receives, for input 0 \(shape \(2, 3\)\)"):
        gradcheck.gradcheck(op.apply, [x])
    assert gradcheck.gradcheck(lambda a: a.tanh(), [x])  # the right tanh passes the extra check
    assert gradcheck.gradcheck(lambda a, b: (a.tanh() * b, a @ b.T), [x, rand_leaf(2, 3, seed=4)])


def test_a_random_f_is_refused_with_its_reason():
    x = rand_leaf(4, 5)
    for check in (gradcheck.gradcheck, gradcheck.numerical_grad, gradcheck.gradgradcheck):
        with pytest.raises(ValueError, match=r"f gave different values for output 0 \(shape \(4, 5\)\) "
                           r"in two calls at the same point.*training=False"):
            check(lambda a: tg.nn.functional.dropout(a, 0.5, training=True), [x])
    assert gradcheck.gradcheck(lambda a: tg.nn.functional.dropout(a, 0.5, training=False), [x])


def test_a_float32_mismatch_says_it_may_be_rounding_instead_of_a_kink():
    t = Tensor(np.array([0.8689635], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        with pytest.raises(GradcheckError) as caught:
            gradcheck.gradcheck(lambda x: x * x * x, [t])
    assert "Input 0 is float32: f computes in it" in str(caught.value)
    assert "kink" not in str(caught.value)


def test_gradgradcheck_takes_a_lone_cotangent_for_one_output_and_refuses_a_wrong_count():
    x = rand_leaf(3)
    assert gradcheck.gradgradcheck(lambda a: a**3, [x], grad_outputs=np.array([1.0, -2.0, 0.5]))
    with pytest.raises(ValueError, match=r"gradgradcheck: grad_outputs has 2 entries for the 1 output"):
        gradcheck.gradgradcheck(lambda a: a**3, [x], grad_outputs=[np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(\) but output 0 of f has shape"):
        gradcheck.gradgradcheck(lambda a: a**3, [x], grad_outputs=[np.array(1.0)])


class AddBiasUnreduced(tg.Function):
    def forward(self, x, b):
        return x + b

    def backward(self, grad):
        return grad, grad  # the engine sums the second down to b's shape


def test_a_missing_broadcast_reduction_passes_gradcheck_and_fails_the_exercise_as_the_docs_say():
    # gradient_checking.md: the engine reduces, so the op is right; the exercises check the return itself.
    from tinygrad_edu import exercises

    x, b = rand_leaf(4, 3, seed=1), rand_leaf(3, seed=2)
    assert gradcheck.gradcheck(AddBiasUnreduced.apply, [x, b]) is True
    report = exercises.check("broadcast_add", AddBiasUnreduced)
    assert not report.passed and "missing broadcast reduction" in str(report)

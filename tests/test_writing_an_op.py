"""The mistakes of writing one's own op that the engine names: each message says which op, what
it did, and what to write instead (before, each was a bare Python or numpy error, or silent)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, gradcheck
from tinygrad_edu.autograd import OpError


def leaf(*values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


class Square(tg.Function):
    def forward(self, x):
        return x * x

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 2 * x


def test_an_init_of_ones_own_is_refused_when_the_class_is_defined():
    # before: apply never called it, and forward failed with "'Scale' object has no attribute 'k'"
    with pytest.raises(TypeError, match=r"^Scale: a Function has no __init__ .*Scale.apply\(x, k=2.0\)"):
        class Scale(tg.Function):
            def __init__(self, k=2.0):
                self.k = k

            def forward(self, x):
                return self.k * x


def test_pytorch_s_static_forward_with_ctx_is_refused_with_the_translation():
    # before: "Torchy.forward() missing 1 required positional argument: 'x'" at the first apply
    expected = r"Torchy.forward is a staticmethod.*def forward\(self, \.\.\.\).*ctx.saved_tensors"
    with pytest.raises(TypeError, match=expected):
        class Torchy(tg.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2


def test_calling_the_class_or_an_instance_says_to_call_apply():
    # before: "Square() takes no arguments" and "'Square' object is not callable"
    x = leaf(1.0, 2.0)
    with pytest.raises(TypeError, match=r"^Square: an op is run with Square.apply\(x, \.\.\.\)"):
        Square(x)
    with pytest.raises(TypeError, match=r"Square.apply"):
        Square()(x)
    assert isinstance(Square(), Square)  # (an instance without arguments is still made)


def test_a_tensor_method_in_forward_says_that_forward_gets_ndarrays():
    class Sig(tg.Function):
        def forward(self, x):
            return x.sigmoid()

    with pytest.raises(AttributeError, match=r"^Sig.forward called .sigmoid\(\) on an ndarray: forward gets"):
        Sig.apply(leaf(1.0))


def test_a_forward_that_returns_nothing_or_a_list_of_arrays_is_named():
    class Forgets(tg.Function):
        def forward(self, x):
            x * 2  # noqa: B018 (the mistake: no return)

    class Two(tg.Function):
        def forward(self, x):
            return [x * 2, x * 3]

    class Floats(tg.Function):
        def forward(self, x):
            return [float(x.sum()), 1.0]

    # before: "returned an array of dtype object", and a silent (2, 2) stack
    with pytest.raises(TypeError, match=r"^Forgets.forward returned None: does it forget to return"):
        Forgets.apply(leaf(1.0, 2.0))
    with pytest.raises(TypeError, match=r"^Two.forward returned a list of 2 arrays; a forward returns one"):
        Two.apply(leaf(1.0, 2.0))
    assert Floats.apply(leaf(1.0, 2.0)).tolist() == [3.0, 1.0]  # numbers in a list are still taken


def test_tensors_given_to_apply_as_keywords_are_refused():
    class Mul(tg.Function):
        def forward(self, a, b):
            return a * b

    # before: not recorded (requires_grad False) with no error, or "not enough values to unpack"
    x, y = leaf(1.0, 2.0), leaf(3.0, 4.0)
    for call in (lambda: Mul.apply(a=x, b=y), lambda: Mul.apply(x, b=y)):
        with pytest.raises(TypeError, match=r"^Mul.forward returned a Tensor.*Mul.apply\(x, y\)"):
            call()
    assert Mul.apply(x, y).requires_grad


def test_numpy_s_error_inside_a_backward_names_the_op_the_grad_and_the_inputs():
    class MatMul(tg.Function):
        def forward(self, a, b):
            return a @ b

        def backward(self, grad):
            a, b = self.inputs
            return grad @ b, a.T @ grad  # the mistake: b, where b.T belongs

    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(OpError, match=r"^MatMul.backward failed with grad of shape \(2, 4\) for inputs "
                                      r"\(shape \(2, 3\) float64, shape \(3, 4\) float64\): matmul"):
        MatMul.apply(a, b).sum().backward()


def test_a_numpy_function_on_a_tensor_under_create_graph_is_explained():
    class Tanh(tg.Function):
        def forward(self, x):
            return np.tanh(x)

        def backward(self, grad):
            (x,) = self.inputs
            return grad * (1 - np.tanh(x) ** 2)

    x = leaf(0.5)
    # before: numpy's bare "operand 'Tensor' does not support ufuncs"
    expected = r"^Tanh.backward called a numpy function on a Tensor: under create_graph"
    with pytest.raises(TypeError, match=expected):
        tg.grad(Tanh.apply(x).sum(), [x], create_graph=True)
    (g,) = tg.grad(Tanh.apply(x).sum(), [x])  # an ordinary backward runs it on ndarrays
    assert g.item() == pytest.approx(1 - np.tanh(0.5) ** 2)


class ReLUWithCopy(tg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        (x,) = self.inputs
        g = grad.copy()  # numpy's habit: Tensors have .copy() too, so this runs in both kinds of backward
        return g * (x > 0)


def test_grad_copy_in_a_backward_works_on_arrays_and_on_tensors():
    x = leaf(0.5, -1.0, 2.0)
    (g,) = tg.grad((ReLUWithCopy.apply(x) ** 2).sum(), [x], create_graph=True)
    assert g.tolist() == [1.0, 0.0, 4.0] and g.requires_grad  # 2 relu(x) where x > 0
    (gg,) = tg.grad(g.sum(), [x])
    assert gg.tolist() == [2.0, 0.0, 2.0]
    assert gradcheck.gradgradcheck(ReLUWithCopy.apply, [leaf(0.5, -1.0, 2.0)])
    copied = x.copy()
    assert copied.data is not x.data and copied.requires_grad and type(copied._ctx).__name__ == "Cast"


def test_an_ndarray_only_method_on_a_tensor_under_create_graph_is_explained():
    class Masked(tg.Function):
        def forward(self, x):
            return x * 2.0

        def backward(self, grad):
            g = grad * 2.0
            g.fill(1.0)  # an ndarray method Tensors do not have
            return g

    x = leaf(0.5)
    # before: Python's bare "'Tensor' object has no attribute 'fill'"
    expected = r"^Masked.backward called .fill\(\) on a Tensor: under create_graph"
    with pytest.raises(AttributeError, match=expected):
        tg.grad(Masked.apply(x).sum(), [x], create_graph=True)
    (g,) = tg.grad(Masked.apply(x).sum(), [x])  # on ndarrays it runs
    assert g.item() == 1.0


def test_saved_tensors_is_saved():
    class Keep(tg.Function):
        def forward(self, x):
            self.save_for_backward(x > 0)
            return x * 1.0

        def backward(self, grad):
            (mask,) = self.saved_tensors  # PyTorch's name
            return grad * mask

    x = leaf(-1.0, 2.0)
    Keep.apply(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0]


def test_a_reduction_s_gradient_of_the_wrong_shape_says_to_spread_it_back():
    class Total(tg.Function):
        def forward(self, x):
            return x.sum()

        def backward(self, grad):
            return np.array([grad, grad])  # the mistake: shape (2,) for an input of shape (3,)

    with pytest.raises(RuntimeError, match=r"cannot be summed to that shape\. Return a gradient of the "
                                           r"input's shape .*grad \* np.ones_like\(x\)"):
        Total.apply(leaf(1.0, 2.0, 3.0)).backward()


def test_a_forward_that_builds_a_tensor_a_typo_and_a_numpy_error_subclass_keep_their_own_story():
    class Wraps(tg.Function):
        def forward(self, x):
            return Tensor(np.tanh(x))

    class Typo(tg.Function):
        def forward(self, x):
            return x.rehsape(-1)

    class Singular(tg.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            raise np.linalg.LinAlgError("Singular matrix")

    class Sets(tg.Function):
        def forward(self, x):
            self.saved_tensors = (x,)
            return x * 1.0

    with pytest.raises(TypeError, match=r"^Wraps.forward returned a Tensor: .*made with Tensor\(\.\.\.\)"):
        Wraps.apply(leaf(1.0))
    with pytest.raises(AttributeError, match=r"^'numpy.ndarray' object has no attribute 'rehsape'"):
        Typo.apply(leaf(1.0))  # (numpy's message, not "a Tensor method")
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):  # keeps its type
        Singular.apply(leaf(1.0)).sum().backward()
    with pytest.raises(AttributeError, match=r"^Sets: self.saved_tensors is read-only.*save_for_backward"):
        Sets.apply(leaf(1.0))


def test_an_error_raised_as_it_was_is_not_its_own_cause():
    """A typo in a forward or in a backward is raised as numpy raised it; `raise exc from exc`
    made it its own cause, and the traceback printed apply's frames twice."""

    class Typo(tg.Function):
        def forward(self, x):
            return x.rehsape(-1)

    class BackTypo(tg.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            return grad.rehsape(-1)

    class Odd(tg.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, grad):
            raise np.linalg.LinAlgError("Singular matrix")

    for op, run in [
        (Typo, lambda: Typo.apply(leaf(1.0))),
        (BackTypo, lambda: BackTypo.apply(leaf(1.0)).sum().backward()),
        (Odd, lambda: Odd.apply(leaf(1.0)).sum().backward()),
    ]:
        with pytest.raises(Exception) as info:
            run()
        assert info.value.__cause__ is None, op.__name__
        assert info.value.__context__ is None, op.__name__
        assert "rehsape" in str(info.value) or "Singular" in str(info.value)


def test_saving_an_op_names_it_not_a_callable(tmp_path):
    y = leaf(1.0, 2.0) * 2
    # Function instances are callable (to say "use apply"), so save called the op "a callable"
    with pytest.raises(TypeError, match=r"^save: obj\['op'\] is a Mul; expected a dict"):
        tg.save({"op": y._ctx}, tmp_path / "op.tg")


def test_an_option_given_to_apply_by_position_is_named_with_the_keyword_to_write():
    """apply makes every positional argument a tensor input: an axis given by position reached forward
    as a 0-d float array (numpy: "only integer scalar arrays ..."), and a backward that returned one
    gradient was told only that it returned too few."""

    class SumAxis(tg.Function):
        def forward(self, x, axis):
            return x.sum(axis=axis)

        def backward(self, grad):
            return grad

    class Scale(tg.Function):
        def forward(self, x, k):
            return x * k

        def backward(self, grad):
            return grad * 2

    x = leaf(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match=r"Input 1 is a constant 1: if it is an option \(axis\) rather than"):
        SumAxis.apply(x.reshape(1, 3), 1)
    with pytest.raises(TypeError, match=r"give it by keyword, SumAxis.apply\(x, axis=1\)"):
        SumAxis.apply(x.reshape(1, 3), 1)
    with pytest.raises(RuntimeError, match=r"for 2 input\(s\).*by keyword, Scale.apply\(x, k=2\)"):
        Scale.apply(x, 2).sum().backward()
    # the way out works; a built-in op's error gets no such hint
    assert SumAxis.apply(x.reshape(1, 3), axis=1).shape == (1,)
    with pytest.raises(OpError) as info:
        tg.where(np.ones(2, bool), x, 0.0)
    assert "option" not in str(info.value)


def test_every_built_in_op_imports_from_tinygrad_edu_ops_by_its_name():
    from tinygrad_edu import ops
    from tinygrad_edu.ops import Exp, Tanh  # where a backward's run(Tanh, x) takes it from
    from tinygrad_edu.ops.elementwise import Tanh as where_it_lives

    assert Tanh is where_it_lives and Exp is tg.OPS["Exp"]
    assert all(getattr(ops, name) is op for name, op in tg.OPS.items())
    with pytest.raises(ImportError, match="Tahn"):
        from tinygrad_edu.ops import Tahn  # noqa: F401


def test_a_backward_that_forgets_to_return_warns_and_none_in_a_tuple_does_not():
    class Square(tg.Function):
        def forward(self, x):
            return x * x

        def backward(self, grad):
            (x,) = self.inputs
            g = grad * 2 * x  # noqa: F841  (the return forgotten)

    class NoGradient(Square):
        def backward(self, grad):
            return (None,)  # on purpose

    x = leaf(1.0, 2.0)
    with pytest.warns(UserWarning, match=r"Square.backward returned None, so no gradient reaches its input "
                                         r"\(shape \(2,\)\), which requires grad: does it forget to return"):
        Square.apply(x).sum().backward()
    assert x.grad is None  # (as PyTorch: None is no gradient)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        NoGradient.apply(x).sum().backward()
    assert x.grad is None

"""The engine's promises beyond the chain rule: per-thread settings, in-place changes caught,
PyTorch's dtype rules, x ** 0, the walk's order seen by the step-through."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, autograd, nn, viz

# --- settings per thread -------------------------------------------------------------------


def _train(seed: int, steps: int, barrier: threading.Barrier | None = None) -> list[np.ndarray]:
    """A small float64 regression trained by hand-written SGD; the final weights."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((32, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
    w = Tensor(rng.standard_normal((3, 1)) * 0.1, requires_grad=True)
    b = Tensor(np.zeros(1), requires_grad=True)
    for step in range(steps):
        if barrier is not None and step == 1:
            barrier.wait()  # both threads are mid-training now
        loss = ((Tensor(X) @ w + b - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with tg.no_grad():  # the other thread keeps recording meanwhile
            w.data -= 0.05 * w.grad.data
            b.data -= 0.05 * b.grad.data
    return [w.data.copy(), b.data.copy()]


def test_two_threads_train_at_once_and_get_the_one_thread_results():
    alone = [_train(seed, 200) for seed in (1, 2)]
    results: dict[int, list[np.ndarray]] = {}
    barrier = threading.Barrier(2)

    def work(seed: int) -> None:
        results[seed] = _train(seed, 200, barrier)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for seed, expected in zip((1, 2), alone):
        for got, want in zip(results[seed], expected):
            np.testing.assert_array_equal(got, want)


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def quiet() -> None:
        with tg.no_grad():
            inside.set()
            outside.wait(5)
            seen["quiet"] = tg.is_grad_enabled()

    t = threading.Thread(target=quiet)
    t.start()
    inside.wait(5)
    x = Tensor([1.0], requires_grad=True)
    seen["main"] = (x * 2).requires_grad
    outside.set()
    t.join()
    assert seen == {"quiet": False, "main": True}


def test_a_new_thread_starts_with_the_default_dtype_last_set():
    seen = []
    tg.set_default_dtype(np.float64)
    try:
        t = threading.Thread(target=lambda: seen.append(Tensor([1.0]).dtype))
        t.start()
        t.join()
    finally:
        tg.set_default_dtype(np.float32)
    assert seen == [np.float64]


# --- in-place changes -----------------------------------------------------------------------


def test_a_step_between_the_forward_and_backward_raises_naming_the_op_and_shape():
    model = nn.Linear(3, 2, dtype=np.float64)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    X = Tensor(np.ones((4, 3)))
    model(X).sum().backward()  # gradients exist, so step() changes the weights
    loss = model(X).sum()
    opt.step()  # the weights change after the forward used them
    expected = r"Linear\.backward needs input 1 \(shape \(2, 3\), float64\).*modified"
    with pytest.raises(RuntimeError, match=expected):
        loss.backward()


def test_mark_modified_protects_a_change_made_by_hand():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (w * w).sum()
    w.data[0] = 5.0
    autograd.mark_modified(w)
    with pytest.raises(RuntimeError, match=r"Mul\.backward needs input 0 \(shape \(2,\)"):
        y.backward()
    z = (w * w).sum()  # recorded after the change: fine
    z.backward()
    np.testing.assert_array_equal(w.grad.data, [10.0, 4.0])


# --- x ** 0 -----------------------------------------------------------------------------------


def test_the_derivative_of_x_to_the_zero_is_zero_also_at_zero():
    x = Tensor(np.array([0.0, 2.0, -1.5]), requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])  # d/dx 1 = 0 (PyTorch: 0)


def test_zero_to_the_zero_has_zero_derivatives_in_base_and_exponent():
    a = Tensor(np.array(0.0), requires_grad=True)
    b = Tensor(np.array(0.0), requires_grad=True)
    (a**b).backward()
    assert (a.grad.item(), b.grad.item()) == (0.0, 0.0)


def test_powers_other_than_zero_keep_their_derivative():
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    e = Tensor(np.array([0.0, 3.0]), requires_grad=True)
    (x**e).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 3 * 2.0**2])
    np.testing.assert_allclose(e.grad.data, [np.log(0.5), 8.0 * np.log(2.0)])


# --- dtypes -------------------------------------------------------------------------------------

INTS = Tensor(np.array([1, 2, 3], dtype=np.int64))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda: INTS * 2.5, np.float32),  # integer with a Python float: the default float dtype
        (lambda: INTS / INTS, np.float32),  # integer true division: the default float dtype
        (lambda: INTS / 2, np.float32),
        (lambda: INTS + Tensor(np.ones(3, np.float32)), np.float32),  # integer with float: the float's
        (lambda: Tensor(np.ones(3, np.float32)) * INTS, np.float32),
        (lambda: INTS + Tensor(np.ones(3)), np.float64),
        (lambda: Tensor(np.array([True, False, True])) * Tensor(np.ones(3, np.float32)), np.float32),
        (lambda: INTS * 2, np.int64),  # integers stay integers
        (lambda: INTS + Tensor(np.ones(3, np.int32)), np.int64),
        (lambda: Tensor(np.ones(3, np.float32)) + Tensor(np.ones(3)), np.float64),  # floats: numpy's rule
    ],
)
def test_dtype_rules_are_pytorchs(expression, expected):
    assert expression().dtype == expected


def test_a_linear_fed_int64_data_computes_in_its_weights_dtype():
    layer = nn.Linear(3, 2)  # float32 weights
    out = layer(Tensor(np.arange(6, dtype=np.int64).reshape(2, 3)))
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32
    expected = np.arange(6, dtype=np.float32).reshape(2, 3) @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


def test_the_gradient_keeps_the_float_dtype_beside_integers():
    w = Tensor(np.ones(3, np.float32), requires_grad=True)
    (w * INTS).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.data, [1, 2, 3])


@pytest.mark.parametrize(
    "bad", [np.array([1j, 2j]), np.array([object(), None], dtype=object), np.array(["a", "b"])]
)
def test_complex_object_and_string_operands_are_refused(bad):
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=f"dtype {bad.dtype}"):
        x * bad
    with pytest.raises(TypeError, match="cannot make a tensor"):
        Tensor(bad)


def test_a_forward_returning_strings_is_refused_naming_the_op():
    class Words(tg.Function):
        def forward(self, x):
            return np.array(["not", "a", "number"])

        def backward(self, grad):
            return grad

    with pytest.raises(TypeError, match=r"Words\.forward returned an array of dtype <U6"):
        Words.apply(Tensor(np.ones(3), requires_grad=True))


class _SumOfSquares(tg.Function):
    """A student's op whose forward returns a Python float (or, with as_list, a list)."""

    def forward(self, x, as_list=False):
        return (x * x).tolist() if as_list else float((x * x).sum())

    def backward(self, grad):
        (x,) = self.inputs
        return 2 * x * grad


@pytest.mark.parametrize("as_list", [False, True], ids=["float", "list"])
@pytest.mark.parametrize(
    "values, expected",
    [(np.array([1.0, 2.0], dtype=np.float32), np.float32), (np.array([1.0, 2.0]), np.float64),
     (np.array([1, 2]), np.float32)],
    ids=["float32", "float64", "int64 -> default float"],
)
def test_a_forward_returning_python_numbers_keeps_the_inputs_float_dtype(values, expected, as_list):
    """float(x.sum()) of a float32 x made a float64 result, silently: a Python number beside a
    tensor takes the tensor's dtype everywhere else."""
    x = Tensor(values, requires_grad=values.dtype.kind == "f")
    y = _SumOfSquares.apply(x, as_list=as_list)
    if as_list and values.dtype.kind == "i":
        expected = np.int64  # a list of Python ints: an integer result, as int * int is
    assert y.dtype == expected
    np.testing.assert_array_equal(y.data, [1.0, 4.0] if as_list else 5.0)


def test_a_forward_returning_a_numpy_scalar_keeps_its_dtype():
    class Total(tg.Function):
        def forward(self, x):
            return x.sum()  # an np.float64 scalar for a float64 x, np.int64 for an int64 one

        def backward(self, grad):
            return grad * np.ones_like(self.inputs[0])

    assert Total.apply(Tensor(np.array([1.0, 2.0]))).dtype == np.float64
    assert Total.apply(Tensor(np.array([1, 2]))).dtype == np.int64


# --- the walk's order, seen by the step-through --------------------------------------------------


def test_trace_backward_frames_come_in_the_order_backward_runs():
    x = Tensor(np.array(1.5), requires_grad=True, name="x")
    a = x * 2
    b = x * 3
    c = b + a
    ran = []  # what the engine's walk does, step by step
    autograd.run_backward([c], [Tensor(np.array(1.0))], True, False, wanted={x}, on_step=ran.append)
    # reversed topological order from c, whose inputs are (b, a): c, then a, then b
    assert [id(s.output) for s in ran] == [id(c), id(a), id(b)]  # by identity: Tensor == is elementwise
    assert [float(s.input_grads[0]) for s in ran[1:]] == [2.0, 3.0]
    frames = viz.trace_backward(c)
    assert [f.op for f in frames] == [type(s.op).__name__ for s in ran]
    sent_to_x = [float(f.edge_grads[0]) for f in frames[1:]]
    assert sent_to_x == [2.0, 3.0]  # the frames follow the same order
    assert x.grad is None  # the trace changes no .grad
    c.backward()
    assert x.grad.item() == 5.0


def test_value_backward_reports_each_step_to_its_hook_in_order():
    from tinygrad_edu import Value

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b  # dc/da = b = -3, dc/db = a = 2
    d = c + a  # a is used twice: its gradient adds 1 and -3
    seen = []
    d.backward(on_step=lambda node, sent: seen.append((node._op, sent)))
    assert seen == [("+", [1.0, 1.0]), ("*", [-3.0, 2.0])]
    assert (a.grad, b.grad) == (-2.0, 2.0)
    frames = viz.trace_backward(d)
    assert [f.op for f in frames] == ["+", "*"]
    assert (a.grad, b.grad) == (-2.0, 2.0)  # the trace changed no .grad


BOOLS = Tensor(np.array([True, False, True]))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda: INTS.exp(), np.float32),  # defined on real numbers: the default float dtype
        (lambda: BOOLS.exp(), np.float32),  # numpy: float16
        (lambda: INTS.log(), np.float32),
        (lambda: INTS.sqrt(), np.float32),
        (lambda: INTS.tanh(), np.float32),
        (lambda: INTS.sigmoid(), np.float32),
        (lambda: INTS.logsumexp(), np.float32),
        (lambda: INTS.reshape(1, 3).softmax(), np.float32),
        (lambda: INTS.reshape(1, 3).log_softmax(), np.float32),
        (lambda: INTS.mean(), np.float32),
        (lambda: INTS.clip(1.5, 2.5), np.float32),  # a float bound: a float result
        (lambda: INTS.clip(1, 2), np.int64),  # integer bounds: still integers
        (lambda: BOOLS + 1, np.int64),  # a bool tensor with a Python int: int64
        (lambda: BOOLS + True, np.bool_),  # with a Python bool: a logical or
        (lambda: BOOLS * 2.5, np.float32),
        (lambda: tg.concatenate([Tensor(np.ones(2, np.float32)), INTS]), np.float32),  # as a + b
        (lambda: tg.stack([Tensor(np.ones(3, np.float32)), INTS]), np.float32),
        (lambda: INTS.abs(), np.int64),  # an op defined on integers keeps them
        (lambda: INTS.sum(), np.int64),
    ],
)
def test_more_dtype_rules_are_pytorchs(expression, expected):
    assert expression().dtype == expected


def test_the_values_of_the_converted_integer_ops_are_right():
    # before, leaky_relu cast its slope to the input's dtype (0.5 became 0) and clip truncated
    np.testing.assert_array_equal(Tensor(np.array([-4, 2])).leaky_relu(0.5).data, [-2.0, 2.0])
    np.testing.assert_array_equal(Tensor(np.array([1, 2, 3])).clip(1.5, 2.5).data, [1.5, 2.0, 2.5])
    np.testing.assert_array_equal((BOOLS + True).data, [True, True, True])
    np.testing.assert_allclose(INTS.exp().data, np.exp([1.0, 2.0, 3.0]), rtol=1e-6)


def test_an_integer_result_is_cut_from_the_graph():
    x = Tensor(np.array([0.3, 1.7]), requires_grad=True)
    y = x.astype(np.int64)
    assert not y.requires_grad and y._ctx is None  # PyTorch: x.long().requires_grad is False
    with pytest.raises(RuntimeError, match="does not require grad"):
        (y * 3).sum().backward()  # before: x.grad became [3, 3], a gradient through the rounding
    z = x.astype(np.float32)  # a float copy stays in the graph
    z.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_an_integer_tensor_made_to_require_grad_by_hand_is_refused():
    a = Tensor(np.array([1, 2]))
    a.requires_grad = True  # the constructor and requires_grad_ refuse this; the attribute cannot
    with pytest.raises(TypeError, match=r"Mul: an input \(shape \(2,\), int64\) has requires_grad=True"):
        a * 2.0  # before: computed, and backward left a.grad None without a word
    with pytest.raises(TypeError, match="Exp: an input"):
        a.exp()


def test_mean_and_var_divide_so_a_constant_is_exact():
    sevens = Tensor(np.full(7, 7.0, np.float32))
    assert sevens.mean().item() == 7.0  # 7 * (1/7) in float32 is 7.0000005
    assert sevens.var().item() == 0.0
    assert Tensor(np.full(49, 7.0)).mean().item() == 7.0


def test_an_index_array_changed_after_the_forward_does_not_move_the_gradient():
    x = Tensor(np.arange(4.0), requires_grad=True)
    index = np.array([0, 1])
    y = x[index]
    index[:] = 3  # the caller reuses their array before backward
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 0.0, 0.0])


def test_a_where_condition_changed_after_the_forward_does_not_move_the_gradient():
    a = Tensor(np.ones(3), requires_grad=True)
    cond = np.array([True, False, True])
    y = tg.where(cond, a, 0.0)
    cond[:] = False
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 1.0])


def test_a_cross_entropy_target_changed_after_the_forward_does_not_move_the_gradient():
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    target = np.array([0, 1])
    loss = tg.nn.functional.cross_entropy(z, target)
    target[:] = 2
    loss.backward()
    expected = np.full((2, 3), 1 / 3) - np.eye(3)[[0, 1]]
    np.testing.assert_allclose(z.grad.data, expected / 2)


def test_zero_to_a_negative_power_has_derivative_minus_inf_in_the_exponent():
    a = Tensor(np.array([0.0, 0.0]), requires_grad=True)
    b = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        (a**b).sum().backward()
    # PyTorch's values: 0**b * log(0) is inf * -inf for b < 0; 0 for b >= 0 (0**b is constant there)
    np.testing.assert_array_equal(b.grad.data, [-np.inf, 0.0])


@pytest.mark.parametrize(
    "loss", ["cross_entropy", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]
)
def test_an_empty_batch_has_an_empty_gradient(loss):
    F = tg.nn.functional
    if loss == "cross_entropy":
        x, target = Tensor(np.zeros((0, 3)), requires_grad=True), np.zeros(0, np.int64)
    else:
        x, target = Tensor(np.full((0, 1), 0.5), requires_grad=True), np.zeros((0, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        value = getattr(F, loss)(x, target)  # the mean of nothing: nan, as in PyTorch
        value.backward()  # before: ZeroDivisionError
    assert np.isnan(value.item())
    assert x.grad.shape == x.shape


def test_astype_names_a_dtype_it_does_not_know():
    with pytest.raises(TypeError, match="astype: 'foo' is not a numpy dtype"):
        INTS.astype("foo")


def test_len_of_a_zero_d_tensor_says_so():
    with pytest.raises(TypeError, match="0-d tensor"):
        len(Tensor(1.0))


def test_a_second_backward_adds_into_the_same_grad_as_pytorch_does():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    saved = x.grad
    (x * 3).sum().backward()
    assert x.grad is saved  # before: a new Tensor, and `saved` kept showing [3, 3]
    np.testing.assert_array_equal(saved.data, [6.0, 6.0])


def test_a_read_only_grad_is_replaced_not_written_into():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    given = np.array([1.0, 1.0])
    given.flags.writeable = False
    x.grad = Tensor(given)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])
    np.testing.assert_array_equal(given, [1.0, 1.0])


def test_no_grad_on_a_generator_function_holds_while_its_body_runs():
    x = Tensor(np.ones(2), requires_grad=True)

    @tg.no_grad()
    def doubled():
        sent = yield (x * 2).requires_grad, tg.is_grad_enabled()
        yield sent, tg.is_grad_enabled()

    steps = doubled()
    # before: the mode was set only while the generator object was made, so the body recorded
    assert next(steps) == (False, False)
    assert tg.is_grad_enabled()  # the caller's own mode, at every yield
    assert steps.send("back") == ("back", False)
    with tg.no_grad():

        @tg.enable_grad()
        def recording():
            yield tg.is_grad_enabled()

        assert list(recording()) == [True] and not tg.is_grad_enabled()


def test_no_grad_works_as_a_bare_decorator_as_in_pytorch():
    @tg.no_grad
    def mode():
        return tg.is_grad_enabled()

    assert mode() is False and tg.is_grad_enabled()


def test_a_detached_alias_of_a_changed_parameter_is_caught():
    p = nn.Parameter(np.array([1.0, 2.0, 3.0]))
    x = Tensor(np.ones(3), requires_grad=True)
    loss = (p.detach() * x).sum()
    opt = tg.optim.SGD([p], lr=1.0)
    p.grad = Tensor(np.ones(3))
    opt.step()
    # before: x.grad became [0, 1, 2], the gradient at the new p (PyTorch raises here too)
    with pytest.raises(RuntimeError, match=r"Mul\.backward needs input 0 \(shape \(3,\)"):
        loss.backward()


def test_an_unrecorded_view_of_a_frozen_weight_changed_by_load_state_dict_is_caught():
    layer = nn.Linear(3, 2, dtype=np.float64)
    layer.weight.requires_grad_(False)
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    out = (x @ layer.weight.T).sum()  # the transpose is not recorded: a constant on the weight's memory
    layer.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.zeros(2)})
    with pytest.raises(RuntimeError, match=r"MatMul\.backward needs input 1 \(shape \(3, 2\)"):
        out.backward()


def test_a_neighbour_in_the_same_memory_block_that_did_not_change_is_no_alias():
    model = nn.Sequential(nn.Linear(2, 3, dtype=np.float64), nn.Linear(3, 1, dtype=np.float64))
    first, second = model[0], model[1]
    first.weight.requires_grad_(False)
    first.bias.requires_grad_(False)
    out = second(first(Tensor(np.ones((4, 2))))).sum()
    opt = tg.optim.SGD(second.parameters(), lr=0.1)  # changes only the second layer's arrays
    second.weight.grad, second.bias.grad = Tensor(np.ones((1, 3))), Tensor(np.ones(1))
    before = first.weight.data.copy()
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()  # the second layer's weight was an input: rightly refused
    x = Tensor(np.ones((4, 2)), requires_grad=True)
    (first(x)).sum().backward()  # the first layer alone was recorded after the step: fine
    np.testing.assert_array_equal(first.weight.data, before)
    out2 = first(x).sum()
    opt.step()  # the second layer changes again; the first layer's graph does not use it
    out2.backward()
    assert x.grad is not None


def test_a_change_through_a_view_is_still_caught_after_many_later_changes():
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    base = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
    out = (w * base.T).sum()  # base.T is not recorded: a constant on base's memory
    with tg.no_grad():
        base += 100.0
    counter = Tensor(np.zeros(()))
    for _ in range(100):  # before: only the latest 32 changes were remembered
        counter += 1.0
    with pytest.raises(RuntimeError, match=r"Mul\.backward needs input 1 \(shape \(2, 2\)"):
        out.backward()


def test_only_the_latest_changes_keep_their_tensors_alive():
    import gc
    import weakref

    t = Tensor(np.ones(1000))
    t += 1.0
    ref = weakref.ref(t)
    del t
    counter = Tensor(np.zeros(()))
    for _ in range(tg.autograd._Changes.ALIVE):
        counter += 1.0
    gc.collect()
    assert ref() is None  # remembered by weak reference only, once 32 later changes were made

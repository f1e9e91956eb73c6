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

"""What the documents quote in their prose and tables: error messages, dtypes, printed numbers.

The ```python blocks are run by test_docs.py; the claims between them are not. Each case below
names a page and a fragment quoted from it (matched after collapsing runs of whitespace, so a
line break inside a quote does not matter), runs the call the fragment describes, and checks
the fragment against what the library really does:

* ``Message``: the call raises that exception, and its message holds the fragment(s);
* ``Raises``: the fragment says "X is a TypeError" (or the like): the call raises the named type;
* ``Row``: the fragment is an example in a table row of errors.md whose first cell names the
  exception; the call raises that exception;
* ``Value``: the fragment states a result (a dtype, a number): ``expected`` is part of the
  fragment, and ``str`` of what the call returns is ``expected``;
* ``Text``: the call returns text (a report, what a command printed), which holds the fragment.

So a case fails when the page is reworded (the fragment is gone) and when the library changes
(the message or the number is another one): either way the two have drifted apart.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import io
import os
import re
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, cli, data, gradcheck, nn, optim, serialization, train, viz
from tinygrad_edu.optim import schedules

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_PAGES: dict[str, str] = {}


def page(name: str) -> str:
    if name not in _PAGES:
        with open(os.path.join(DOCS, name), encoding="utf-8") as f:
            _PAGES[name] = f.read()
    return _PAGES[name]


def assert_quoted(name: str, fragment: str) -> None:
    assert normalise(fragment) in normalise(page(name)), f"docs/{name} no longer says: {fragment!r}"


@dataclass(frozen=True)
class Message:
    doc: str
    fragments: tuple[str, ...]
    exc: type
    call: Callable[[], Any]


@dataclass(frozen=True)
class Raises:
    doc: str
    fragment: str
    exc_name: str  # a builtin exception named in the fragment
    call: Callable[[], Any]
    says: str = ""  # a part of the fragment that the message holds too


@dataclass(frozen=True)
class Row:
    doc: str
    fragment: str  # an example, unique to one row of the page's exception table
    call: Callable[[], Any]


@dataclass(frozen=True)
class Value:
    doc: str
    fragment: str
    expected: str
    call: Callable[[], Any]


@dataclass(frozen=True)
class Text:
    doc: str
    fragment: str
    call: Callable[[], str]


# --- small helpers the calls share ----------------------------------------------------------------


class SumAxis(tg.Function):
    """adding_an_op.md's op with a parameter, as a student writes it."""

    def forward(self, x, axis):
        return x.sum(axis=axis)

    def backward(self, grad):
        return grad


def moons() -> tuple[np.ndarray, np.ndarray]:
    X, y = data.make_moons(300, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(np.float64)


def fit(**options: Any) -> train.History:
    X, y = moons()
    model = nn.Linear(2, 1, dtype=np.float64)
    options = {"epochs": 1, "progress": False, **options}
    loss_fn = options.pop("loss_fn", nn.BCEWithLogitsLoss())
    return train.fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.1), X, y, **options)


def nan_at_global_step(step: int, batch_size: int) -> None:
    """fit with a loss that turns NaN at one step."""
    calls = [0]

    def loss_fn(out, target):
        calls[0] += 1
        loss = ((out - target) ** 2).mean()
        return loss * float("nan") if calls[0] == step + 1 else loss

    fit(loss_fn=loss_fn, epochs=10, batch_size=batch_size)


def one_step_float32(make_optimizer: Callable[[list], Any], steps: int = 1) -> list[str]:
    """seed 004's examples: loss = var**2 / 2 from var = 1.0 in float32; var after each step."""
    var = Tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    opt = make_optimizer([var])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (var * var / 2).sum().backward()
        opt.step()
        out.append(str(var.data[0]))
    return out


def dtype_of(make: Callable[[], Tensor]) -> str:
    return str(make().dtype)


def run_cli(*argv: str) -> str:
    """stdout and stderr of a command, with its exit status first."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = cli.main(list(argv))
    return f"status {status}\n{out.getvalue()}{err.getvalue()}"


def second_backward() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def sqrt_backward_at_zero() -> None:
    x = Tensor(np.array([4.0, 0.0]), requires_grad=True)
    with np.errstate(divide="ignore"), tg.detect_anomaly():
        x.sqrt().sum().backward()


class _ReLUWritingIntoGrad(tg.Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        grad[self.inputs[0] <= 0] = 0  # the numpy habit anomaly mode catches
        return grad


_ReLUWritingIntoGrad.__name__ = "ReLU"


def relu_writing_into_grad() -> None:
    x = Tensor(np.array([-1.0, 1.0]), requires_grad=True)
    with tg.detect_anomaly():
        _ReLUWritingIntoGrad.apply(x).sum().backward()


class BadCube(tg.Function):
    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        return 3 * x**2  # forgets grad *


class CubeOnArrays(tg.Function):
    def forward(self, x):
        return x**3

    def backward(self, grad):
        (x,) = self.inputs
        x = x.data if isinstance(x, Tensor) else x  # first-order only
        return grad * 3 * x**2


def warning_text(call: Callable[[], Any]) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return "\n".join(str(w.message) for w in caught)


def check_model_text(model: nn.Module, loss_fn: Any, X: np.ndarray, y: np.ndarray) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(gradcheck.check_model(model, loss_fn, X, y))


def frozen_first_layer() -> str:
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.Tanh(), nn.Linear(2, 1, dtype=np.float64))
    model[0].weight.requires_grad = False
    model[0].bias.requires_grad = False
    X = np.random.default_rng(0).standard_normal((4, 3))
    return check_model_text(model, nn.MSELoss(), X, np.ones((4, 1)))


SCALE = nn.Parameter(np.ones(1))


class _ScaledLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 1, dtype=np.float64)

    def forward(self, x):
        return self.lin(x) * SCALE  # SCALE is no parameter of the model


class _Cast32(nn.Module):
    def forward(self, x):
        return x.astype(np.float32)


def cast32_model() -> str:
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), _Cast32(), nn.Tanh(), nn.Linear(4, 1))
    X = np.random.default_rng(0).standard_normal((5, 3))
    return check_model_text(model, nn.MSELoss(), X, np.ones((5, 1)))


def float_precision_row(dtype: type) -> str:
    """gradient_checking.md's table: numerical_grad of sum(tanh(x)) against 1 - tanh(x)**2."""
    x0 = np.array([0.5, -1.2, 2.0])
    exact = 1 - np.tanh(x0) ** 2
    cells = []
    for eps in (1e-2, 1e-4, 1e-7):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (g,) = gradcheck.numerical_grad(lambda v: v.tanh().sum(), [x0.astype(dtype)], eps=eps)
        cells.append(f"{np.linalg.norm(g - exact) / (np.linalg.norm(g) + np.linalg.norm(exact)):.1e}")
    return f"| {np.dtype(dtype).name} | " + " | ".join(cells) + " |"


def standardizer_printed() -> str:
    scaler = data.Standardizer().fit(np.array([[1.0, 100.0], [2.0, 300.0], [3.0, 500.0]]))
    return f"{scaler.mean} {scaler.std}"  # (as the docs' print shows them, unrounded)


@functools.cache
def quickstart_comparison(epochs: int) -> dict[str, tuple[float, float]]:
    """quickstart.md's compare_optimizers example, run after the fit example before it (which
    draws from the same generator): each optimizer's final loss and accuracy."""
    tg.manual_seed(0)
    X, y = data.make_moons(300, noise=0.2, seed=3)
    Y = y.reshape(-1, 1).astype(np.float64)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.01),
              X, Y, epochs=100, batch_size=32, progress=False)
    result = train.compare_optimizers(
        lambda: nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 2), nn.ReLU(), nn.Linear(2, 1)),
        nn.BCEWithLogitsLoss(),
        {"gd": lambda p: optim.SGD(p, lr=0.05), "momentum": lambda p: optim.Momentum(p, lr=0.05, beta=0.9),
         "Adam": lambda p: optim.Adam(p, lr=0.01)},
        X, Y, epochs=epochs, batch_size=64, progress=False)
    return {row["name"]: (row["loss"], row["accuracy"]) for row in result.rows}


def quickstart_after_30(name: str, digits: int) -> str:
    loss, accuracy = quickstart_comparison(30)[name]
    return f"loss {loss:.{digits}f}, accuracy {accuracy:.{digits}f}"


def training_first_example_with_seed_10() -> str:
    """training.md: its first example with manual_seed(10), where the two-unit ReLU layer dies."""
    X, y = data.make_moons(300, noise=0.2, seed=3)
    y = y.reshape(-1, 1).astype(np.float64)
    tg.manual_seed(10)
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 2), nn.ReLU(), nn.Linear(2, 1))
    hidden = model[:4](tg.Tensor(X)).data
    assert (hidden > 0).sum(axis=0).tolist() == [0, 117]  # "one starts that way"
    history = train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.01), X, y,
                        epochs=200, batch_size=64, seed=0, progress=False)
    assert not (model[:4](tg.Tensor(X)).data > 0).any()  # "and the other follows"
    return f"loss {history.history['loss'][-1]:.3f}"


def quickstart_after_300() -> str:
    scores = quickstart_comparison(300).items()
    return ", ".join(f"{name} {loss:.2f} and {acc:.2f}" for name, (loss, acc) in scores)


def course_adam_eps_outside_at_epoch_1000() -> str:
    """course.md: the course's Adam with eps outside the root (PyTorch's), the cost printed at epoch 1000."""
    X, Y = moons()
    rng = np.random.RandomState(3)
    layers: list[nn.Module] = []
    for n_prev, n in ((2, 5), (5, 2), (2, 1)):
        layers += [nn.Linear(n_prev, n, rng=rng, dtype=np.float64), nn.ReLU()]
    layers[-1] = nn.Sigmoid()
    net = nn.Sequential(*layers)
    opt = optim.Adam(list(net.parameters()), lr=0.0007, eps=1e-8, eps_mode="outside")
    loss_fn, seed = nn.BCELoss(), 10
    for _ in range(1001):
        seed += 1
        for bx, by in data.random_mini_batches(X, Y, 64, seed):
            cost = loss_fn(net(Tensor(bx)), Tensor(by))
            opt.zero_grad()
            cost.backward()
            opt.step()
    return f"{cost.item():f}"


def f32(*shape: int) -> Tensor:
    return Tensor(np.ones(shape or (3,), dtype=np.float32))


def i64(*shape: int) -> Tensor:
    return Tensor(np.ones(shape or (3,), dtype=np.int64))


def mask() -> Tensor:
    return Tensor(np.array([True, False, True]))


CASES: list[Any] = [
    Message(
        "adding_an_op.md",
        ("give it by keyword, SumAxis.apply(x, axis=1)",),
        TypeError,
        lambda: SumAxis.apply(Tensor(np.ones((2, 3)), requires_grad=True), 1),
    ),
    # --- errors.md: the message format -----------------------------------------------------------
    Message(
        "errors.md",
        ("make_moons: noise must be a finite number >= 0 (a standard deviation), got -1",),
        ValueError,
        lambda: data.make_moons(noise=-1),
    ),
    Message(
        "errors.md",
        ("MSELoss: target has shape (4,) but input has shape (3,); they must match (broadcasting",),
        ValueError,
        lambda: nn.MSELoss()(Tensor(np.ones(3)), Tensor(np.ones(4))),
    ),
    Message(
        "errors.md",
        ("SGD: lr of group 0 must be >= 0, got -1",),
        ValueError,
        lambda: optim.SGD(nn.Linear(2, 2).parameters(), lr=-1),
    ),
    Message(
        "errors.md",
        (
            "Add: cannot apply to inputs (shape (2, 3) float64, shape (4,) float64): operands could "
            "not be broadcast together with shapes (2,3) (4,)",
        ),
        tg.OpError,
        lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones(4)),
    ),
    Message(
        "errors.md",
        (
            "GetItem: cannot apply to inputs (shape (2, 3) float64): index 5 is out of bounds for "
            "axis 0 with size 2",
        ),
        IndexError,
        lambda: Tensor(np.ones((2, 3)))[5],
    ),
    Message(
        "errors.md",
        ("BatchNorm1d(3): input has shape (4, 5); ",),
        ValueError,
        lambda: nn.BatchNorm1d(3)(Tensor(np.ones((4, 5)))),
    ),
    Message(
        "errors.md",
        ("unsupported operand type(s) for +: 'Tensor' and 'NoneType'",),
        TypeError,
        lambda: Tensor(np.ones(2)) + None,
    ),
    Message(
        "errors.md",
        ("nn.BCEWithLogitsLoss()",),
        TypeError,
        lambda: gradcheck.check_model(
            nn.Linear(2, 1), nn.BCEWithLogitsLoss, np.ones((4, 2)), np.ones((4, 1))
        ),
    ),
    # --- errors.md: the table of exception types --------------------------------------------------
    Row("errors.md", '`Tensor("abc")`', lambda: Tensor("abc")),
    Row("errors.md", "`tg.zeros(2.5)`", lambda: tg.zeros(2.5)),
    Row(
        "errors.md",
        "`Tensor([1, 2], dtype=np.int64, requires_grad=True)`",
        lambda: Tensor([1, 2], dtype=np.int64, requires_grad=True),
    ),
    Row("errors.md", "`data.make_spirals(2.5)`", lambda: data.make_spirals(2.5)),
    Row("errors.md", '`save({"s": {1, 2}}, path)`', lambda: tg.save({"s": {1, 2}}, os.devnull)),
    Row("errors.md", "`tg.manual_seed(1.5)`", lambda: tg.manual_seed(1.5)),
    Row("errors.md", "`tg.manual_seed(True)`", lambda: tg.manual_seed(True)),
    Row(
        "errors.md",
        "`gradcheck.gradcheck(lambda v: v > 0, [x])`",
        lambda: gradcheck.gradcheck(lambda v: v > 0, [Tensor(np.ones(2), requires_grad=True)]),
    ),
    Row("errors.md", "`tg.zeros(-1, 3)`", lambda: tg.zeros(-1, 3)),
    Row("errors.md", "`make_moons(seed=-1)`", lambda: data.make_moons(seed=-1)),
    Row("errors.md", "`tg.manual_seed(-1)`", lambda: tg.manual_seed(-1)),
    Row(
        "errors.md",
        "`ExponentialDecay(0.1, 10, decay_rate=-0.5)`",
        lambda: schedules.ExponentialDecay(0.1, 10, decay_rate=-0.5),
    ),
    Row("errors.md", "`Tensor([nan, 1.7], dtype=np.int64)`", lambda: Tensor([np.nan, 1.7], dtype=np.int64)),
    Row("errors.md", "`nn.Linear(-1, 2)`", lambda: nn.Linear(-1, 2)),
    Row("errors.md", "`x.reshape(4, 2)` of 6 elements", lambda: Tensor(np.ones(6)).reshape(4, 2)),
    Row("errors.md", "`x[5]` on a (2, 3) tensor", lambda: Tensor(np.ones((2, 3)))[5]),
    Row("errors.md", "`x.softmax(axis=4)`", lambda: Tensor(np.ones((2, 3))).softmax(axis=4)),
    Row("errors.md", '`x.reshape("a")`', lambda: Tensor(np.ones((2, 3))).reshape("a")),
    Row("errors.md", "`x.sum(axis=1.5)`", lambda: Tensor(np.ones((2, 3))).sum(axis=1.5)),
    Row("errors.md", "`int32 tensor + 2**40`", lambda: Tensor(np.ones(2, dtype=np.int32)) + 2**40),
    Row("errors.md", "`Tensor(2**70, dtype=np.int64)`", lambda: Tensor(2**70, dtype=np.int64)),
    Row("errors.md", "`Tensor(2**2000)`", lambda: Tensor(2**2000)),
    Row(
        "errors.md",
        "`Standardizer().transform(X)` before `fit`",
        lambda: data.Standardizer().transform(np.ones((2, 2))),
    ),
    Row("errors.md", '`load("notes.csv")`', lambda: tg.load(__file__)),
    # --- errors.md: where a value comes back instead --------------------------------------------
    Value(
        "errors.md",
        "`Tensor(np.zeros((0, 3))).mean()` | `nan`",
        "nan",
        lambda: float(Tensor(np.zeros((0, 3))).mean().data),
    ),
    Value(
        "errors.md",
        "`Tensor(2**70)` | the float32 value 1.18e21",
        "1.18e21",
        lambda: f"{float(Tensor(2**70).data):.2e}".replace("e+", "e"),
    ),
    # --- design.md: dtypes ---------------------------------------------------------------------
    Value(
        "design.md", "`float32_tensor * 2.0` stays float32", "float32", lambda: dtype_of(lambda: f32() * 2.0)
    ),
    Value("design.md", "`int_tensor * 2.5` is float32", "float32", lambda: dtype_of(lambda: i64() * 2.5)),
    Value(
        "design.md",
        "A bool tensor with a Python int gives int64 (`mask + 1`)",
        "int64",
        lambda: dtype_of(lambda: mask() + 1),
    ),
    Value(
        "design.md",
        "with a Python bool stays bool (`mask + True`",
        "bool",
        lambda: dtype_of(lambda: mask() + True),
    ),
    Value(
        "design.md",
        "`int64_tensor + float32_tensor` is float32",
        "float32",
        lambda: dtype_of(lambda: i64() + f32()),
    ),
    Value("design.md", "`int / int` is float32", "float32", lambda: dtype_of(lambda: i64() / i64())),
    Value("design.md", "`int_tensor.exp()` is float32", "float32", lambda: dtype_of(lambda: i64().exp())),
    Value(
        "design.md",
        "`float32_x * float64_t.mean()` is float32",
        "float32",
        lambda: dtype_of(lambda: f32() * Tensor(np.ones(3)).mean()),
    ),
    Value(
        "design.md",
        "`int_x * float64_t.mean()` is float64",
        "float64",
        lambda: dtype_of(lambda: i64() * Tensor(np.ones(3)).mean()),
    ),
    Value(
        "design.md",
        "`int32_x + np.int64(2)` is int32",
        "int32",
        lambda: dtype_of(lambda: Tensor(np.ones(3, dtype=np.int32)) + np.int64(2)),
    ),
    Value("design.md", "`mask ** 2` is int64", "int64", lambda: dtype_of(lambda: mask() ** 2)),
    Value(
        "design.md",
        "(`int8_x & np.int64(3)` is int8)",
        "int8",
        lambda: dtype_of(lambda: Tensor(np.ones(3, dtype=np.int8)) & np.int64(3)),
    ),
    Value(
        "design.md",
        "float32 joined with int64 is float32",
        "float32",
        lambda: dtype_of(lambda: tg.concatenate([f32(), i64()])),
    ),
    Value(
        "design.md",
        "`uint8_x > -1` is all True",
        "True",
        lambda: bool((Tensor(np.array([0, 255], dtype=np.uint8)) > -1).data.all()),
    ),
    Value(
        "design.md",
        "`int64_x == 2**63` all False",
        "False",
        lambda: bool((Tensor(np.array([2**62], dtype=np.int64)) == 2**63).data.any()),
    ),
    Message(
        "design.md",
        ("Sqrt.backward produced Inf in the gradient of input 0",),
        tg.AnomalyError,
        sqrt_backward_at_zero,
    ),
    Message(
        "design.md",
        ("ReLU.backward changed its grad, an input or its output in place",),
        RuntimeError,
        relu_writing_into_grad,
    ),
    Raises(
        "design.md",
        "A second `backward()` through the same graph raises a `RuntimeError` that says to pass "
        "`retain_graph=True`",
        "RuntimeError",
        second_backward,
        says="retain_graph=True",
    ),
    Raises(
        "design.md",
        "there is no floor division (`//` and `%` are a `TypeError`",
        "TypeError",
        lambda: i64() // 2,
    ),
    # --- interop.md ------------------------------------------------------------------------------
    Raises(
        "interop.md",
        "`x.sum(dim=1)` is a TypeError that says to write `x.sum(axis=1)`",
        "TypeError",
        lambda: Tensor(np.ones((2, 3))).sum(dim=1),
        says="x.sum(axis=1)",
    ),
    Raises(
        "interop.md",
        "`x.var(dim=0)` is a TypeError that says `x.var(axis=0, ddof=1)`",
        "TypeError",
        lambda: Tensor(np.ones((2, 3))).var(dim=0),
        says="x.var(axis=0, ddof=1)",
    ),
    Raises(
        "interop.md",
        "`clamp()` with neither bound raises in both (a ValueError here",
        "ValueError",
        lambda: Tensor(np.ones(2)).clamp(),
    ),
    Value(
        "interop.md",
        "a Python list of ints becomes the default float dtype here (float32",
        "float32",
        lambda: dtype_of(lambda: Tensor([1, 2])),
    ),
    Value(
        "interop.md",
        "`arange` is int64 when every argument is an int",
        "int64",
        lambda: dtype_of(lambda: tg.arange(5)),
    ),
    Value(
        "interop.md",
        "`Module.to` takes a float dtype (`model.to(np.float64)`",
        "float64",
        lambda: nn.Linear(2, 1).to(np.float64).weight.dtype,
    ),
    Raises(
        "interop.md",
        "another device (`\"cuda\"`) is a `ValueError` that says so",
        "ValueError",
        lambda: nn.Linear(2, 1).to("cuda"),
    ),
    # --- modules.md ------------------------------------------------------------------------------
    Value(
        "modules.md",
        "`(0, 2, 3) -> (0, 6)`",
        "(0, 6)",
        lambda: nn.Flatten()(Tensor(np.ones((0, 2, 3)))).shape,
    ),
    Raises(
        "modules.md",
        "anything else, an int seed say, is a `TypeError` (write `rng=np.random.default_rng(42)`)",
        "TypeError",
        lambda: nn.Linear(2, 2, rng=42),
        says="rng=np.random.default_rng(42)",
    ),
    Raises(
        "modules.md",
        "p = 1 would drop everything and divide by zero, so it is a `ValueError`",
        "ValueError",
        lambda: nn.Dropout(1.0),
    ),
    # --- training.md -----------------------------------------------------------------------------
    Message(
        "training.md",
        ("fit: shuffle must be True or False, got str 'False'",),
        TypeError,
        lambda: fit(shuffle="False"),
    ),
    Message(
        "training.md",
        ("fit: validation_data must be a pair (X_val, y_val), got one ndarray of shape (200, 2) (float64)",),
        TypeError,
        lambda: fit(validation_data=np.ones((200, 2))),
    ),
    Message(
        "training.md",
        (
            "fit: validation_data (X_val of shape (100, 2), y_val of shape (100,)), tried on its "
            "first 2 sample(s) before training:",
            "Reshape y_val to (100, 1)",
        ),
        ValueError,
        lambda: fit(validation_data=(moons()[0][:100], moons()[1][:100, 0])),
    ),
    Message(
        "training.md",
        (
            "fit: initial_epoch=30 but epochs=5: epochs is the number of the last epoch to train, "
            "not how many more (as in Keras), ",
            "; to train 5 more after epoch 30, pass epochs=35",
        ),
        ValueError,
        lambda: fit(epochs=5, initial_epoch=30),
    ),
    Message(
        "training.md",
        (
            "fit: the loss is nan at epoch 3, step 2 (global step 14; all counted from 0). Training "
            "stopped before this update, so the parameters are those after the last finite step.",
        ),
        train.NonFiniteLossError,
        lambda: nan_at_global_step(14, batch_size=80),
    ),  # 4 batches per epoch
    Value(
        "training.md",
        "`history.epoch` is `[30, ..., 34]`",
        "[30, ..., 34]",
        lambda: (lambda e: f"[{e[0]}, ..., {e[-1]}]" if len(e) == 5 else e)(
            fit(epochs=35, initial_epoch=30).epoch
        ),
    ),
    # --- data.md ---------------------------------------------------------------------------------
    Message(
        "data.md",
        (
            "random_mini_batches: X has 300 samples (shape (300, 2)) but y has 10 (shape (10,)); "
            "samples are rows",
        ),
        ValueError,
        lambda: data.random_mini_batches(moons()[0], data.make_moons(300, seed=3)[1][:10]),
    ),
    Message(
        "data.md",
        ("DataLoader: the data set is empty (X has shape (0, 2))",),
        ValueError,
        lambda: data.DataLoader(np.zeros((0, 2)), np.zeros(0)),
    ),
    Message(
        "data.md",
        ("DataLoader: batch size must be an int >= 1, got 0",),
        ValueError,
        lambda: data.DataLoader(*moons(), batch_size=0),
    ),
    Message(
        "data.md",
        ("DataLoader: shuffle must be True or False, got str 'no'",),
        TypeError,
        lambda: data.DataLoader(*moons(), shuffle="no"),
    ),
    Message(
        "data.md",
        ("make_spirals: n_per_class must be an int, got 2.5 (float)",),
        TypeError,
        lambda: data.make_spirals(2.5),
    ),
    Value(
        "data.md",
        "(300, 2) float64 (300,) int64",
        "(300, 2) float64 (300,) int64",
        lambda: " ".join(f"{a.shape} {a.dtype}" for a in data.make_moons(300, noise=0.2, seed=3)),
    ),
    Value(
        "data.md",
        "5 [64, 64, 64, 64, 44]",
        "5 [64, 64, 64, 64, 44]",
        lambda: (lambda b: f"{len(b)} {[len(bx) for bx, _ in b]}")(
            data.random_mini_batches(*moons(), 64, seed=0)
        ),
    ),
    Value(
        "data.md",
        "`drop_last=True`: 195)",
        "195",
        lambda: len(
            data.DataLoader(np.zeros((50000, 1)), np.zeros((50000, 1)), batch_size=256, drop_last=True)
        ),
    ),
    Value("training.md", "ends at loss 0.693 and accuracy near 0.5", "loss 0.693",
          training_first_example_with_seed_10),
    # --- quickstart.md: the comparison after 30 and after 300 epochs -----------------------------
    Value("quickstart.md", "(loss 0.693, accuracy 0.500", "loss 0.693, accuracy 0.500",
          lambda: quickstart_after_30("gd", 3)),
    Value("quickstart.md", "(loss 0.693, accuracy 0.500", "loss 0.693, accuracy 0.500",
          lambda: quickstart_after_30("momentum", 3)),
    Value("quickstart.md", "Adam is at loss 0.33, accuracy 0.88", "loss 0.33, accuracy 0.88",
          lambda: quickstart_after_30("Adam", 2)),
    Value("quickstart.md", "gd 0.69 and 0.50, momentum 0.69 and 0.50, Adam 0.13 and 0.94",
          "gd 0.69 and 0.50, momentum 0.69 and 0.50, Adam 0.13 and 0.94", quickstart_after_300),
    Value(
        "data.md", "[  2. 300.] [  0.81649658 163.29931619]", "[  2. 300.] [  0.81649658 163.29931619]",
        standardizer_printed,
    ),
    # --- optimizers.md: seed 004's one-step numbers ----------------------------------------------
    Value(
        "optimizers.md",
        "gives 0.90000033 in float32, as printed",
        "0.90000033",
        lambda: one_step_float32(lambda p: optim.Adam(p, lr=0.1, eps=1e-7, eps_mode="hat"))[0],
    ),
    Value(
        "optimizers.md",
        "The PyTorch placement gives 0.90000004.",
        "0.90000004",
        lambda: one_step_float32(lambda p: optim.Adam(p, lr=0.1, eps=1e-7))[0],
    ),
    Value(
        "optimizers.md",
        "seed 004's printed `0.6837723` is",
        "0.6837723",
        lambda: one_step_float32(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-7))[0],
    ),
    Value(
        "optimizers.md",
        "That gives 0.68377239 (float32: 0.6837724)",
        "0.6837724",
        lambda: one_step_float32(lambda p: optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-7, eps_mode="inside"))[
            0
        ],
    ),
    Value(
        "course.md",
        "momentum steps 0.10000002384185791 and 0.18000000715255737",
        "0.10000002384185791 and 0.18000000715255737",
        lambda: (
            lambda v: (
                f"{float(np.float32(1) - np.float32(v[0]))} and {float(np.float32(v[0]) - np.float32(v[1]))}"
            )
        )(one_step_float32(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), steps=2)),
    ),
    # --- gradient_checking.md --------------------------------------------------------------------
    Message(
        "gradient_checking.md",
        (
            "gradcheck: Jacobian mismatch of BadCube.apply for input 0 (shape (2, 3) float64) at input "
            "element (0, 1), output element (0, 0) of output 0: analytic 3.0, numerical 0.0 (30 of 36 "
            "entries differ; atol=1e-05, rtol=0.001)",
        ),
        gradcheck.GradcheckError,
        lambda: gradcheck.gradcheck(
            BadCube.apply, [Tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]), requires_grad=True)]
        ),
    ),
    Message(
        "gradient_checking.md",
        (
            "gradcheck: Jacobian mismatch for input 0 (shape (9,) float64) at input element (3,), output "
            "element (3,) of output 0: analytic 0.0, numerical 0.5 (1 of 81 entries differ; atol=1e-05, "
            "rtol=0.001). Input element (3,) sits at a kink of ReLU: x + eps and x - eps fall on its two "
            "sides",
        ),
        gradcheck.GradcheckError,
        lambda: gradcheck.gradcheck(
            lambda v: v.relu(), [Tensor(np.array([-2.0, -1, -0.5, 0, 0.5, 1, 2, 3, 4]), requires_grad=True)]
        ),
    ),
    Message(
        "gradient_checking.md",
        (
            "The backward is not differentiable (first-order only): the first derivative with respect to "
            "input 0 has no graph behind it (requires_grad is False), so its derivative comes out as 0. That "
            "happens when a backward (in f: CubeOnArrays) returns ndarrays or detached values",
        ),
        gradcheck.GradcheckError,
        lambda: gradcheck.gradgradcheck(
            CubeOnArrays.apply, [Tensor(np.array([1.1, -0.7, 0.4]), requires_grad=True)]
        ),
    ),
    Text(
        "gradient_checking.md",
        "numerical_grad: input 0 is float32; finite differences need float64 to be meaningful, x + eps is "
        "rounded to float32, so with eps=1e-06 the differences can be off by a few percent (use Tensor(..., "
        "dtype=np.float64))",
        lambda: warning_text(
            lambda: gradcheck.numerical_grad(lambda x: (x**2).sum(), [np.ones(1, np.float32)])
        ),
    ),
    Text("gradient_checking.md", "frozen, not checked: 0.weight, 0.bias", frozen_first_layer),
    Text(
        "gradient_checking.md",
        "the loss depends on 1 tensor that requires grad and is not a parameter of the model (shape (1,), "
        "float64): model.parameters() (so an optimizer) leaves it out.",
        lambda: check_model_text(
            _ScaledLinear(), nn.MSELoss(), np.random.default_rng(0).standard_normal((4, 3)), np.ones((4, 1))
        ),
    ),
    Text(
        "gradient_checking.md",
        "a float32 value inside the model or loss: the output of Cast (shape (5, 4)) is the first that is "
        "float32, not float64",
        cast32_model,
    ),
    Text(
        "gradient_checking.md",
        "| float32 | 7.3e-06 | 9.5e-05 | 1.4e-01 |",
        lambda: float_precision_row(np.float32),
    ),
    Text(
        "gradient_checking.md",
        "| float64 | 8.9e-06 | 8.9e-10 | 5.3e-10 |",
        lambda: float_precision_row(np.float64),
    ),
    # --- cli.md ----------------------------------------------------------------------------------
    Text(
        "cli.md",
        "tinygrad-edu train: error: argument --lr: expected a number > 0, got '0' (see --help)",
        lambda: run_cli("train", "--lr", "0"),
    ),
    Text(
        "cli.md",
        "NOT TESTED: relative error 0.000e+00, but the check compared zeros with zeros,",
        lambda: run_cli("gradcheck", "--dropout", "0.99", "--quiet"),
    ),
    Text(
        "cli.md",
        "best (lowest final loss): none (every run diverged)",
        lambda: run_cli(
            "compare", "--lr", "1e6", "--optimizers", "gd", "--epochs", "50", "--no-plots", "--jobs", "1"
        ),
    ),
    Text(
        "cli.md",
        "all 30 elements 2.42e-09 great 0 PASSED: relative error 2.425e-09 < threshold 1e-07 (great)",
        lambda: normalise(run_cli("gradcheck")),
    ),
    # --- course.md, README.md, quickstart.md ----------------------------------------------------
    Value(
        "course.md", "the cost at epoch 1000 is 0.185567", "0.185567", course_adam_eps_outside_at_epoch_1000
    ),
    Value(
        "quickstart.md",
        "0.070651 0.141302",
        "0.070651 0.141302",
        lambda: (lambda a, b: ((a * b + a**2).tanh().backward(), f"{a.grad:.6f} {b.grad:.6f}")[1])(
            tg.Value(2.0), tg.Value(-3.0)
        ),
    ),
]


def case_id(case: Any) -> str:
    text = case.fragments[0] if isinstance(case, Message) else case.fragment
    return f"{case.doc}:{type(case).__name__}:{normalise(text)[:48]}"


@pytest.fixture(autouse=True)
def default_dtype():
    before = tg.get_default_dtype()
    tg.set_default_dtype(np.float32)
    yield
    tg.set_default_dtype(before)


def table_exception(name: str, fragment: str) -> type:
    """The exception in the first cell of the one table row of a page that holds ``fragment``."""
    rows = [line for line in page(name).splitlines() if line.startswith("| ") and fragment in line]
    assert len(rows) == 1, f"docs/{name}: {fragment!r} is in {len(rows)} table rows, expected 1"
    first_cell = rows[0].split(" | ")[0]
    dotted = re.search(r"`([\w.]+)`", first_cell).group(1)
    namespace = {
        "tg": tg,
        "train": train,
        "gradcheck": gradcheck,
        "serialization": serialization,
        "viz": viz,
        **vars(builtins),
    }
    return eval(dotted, namespace)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_what_the_docs_quote_is_what_the_library_does(case):
    if isinstance(case, Message):
        for fragment in case.fragments:
            assert_quoted(case.doc, fragment)
        with pytest.raises(case.exc) as info:
            case.call()
        message = normalise(str(info.value))
        for fragment in case.fragments:
            assert normalise(fragment) in message, (fragment, message)
    elif isinstance(case, Raises):
        assert_quoted(case.doc, case.fragment)
        assert case.exc_name in case.fragment and case.says in case.fragment
        with pytest.raises(getattr(builtins, case.exc_name)) as info:
            case.call()
        assert case.says in str(info.value)
    elif isinstance(case, Row):
        with pytest.raises(table_exception(case.doc, case.fragment)):
            case.call()
    elif isinstance(case, Value):
        assert_quoted(case.doc, case.fragment)
        assert normalise(case.expected) in normalise(case.fragment)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert normalise(str(case.call())) == normalise(case.expected)
    else:
        assert_quoted(case.doc, case.fragment)
        assert normalise(case.fragment) in normalise(case.call())


def test_the_cases_cover_the_pages():
    assert len(CASES) >= 40
    pages = {case.doc for case in CASES}
    assert {
        "errors.md",
        "design.md",
        "training.md",
        "data.md",
        "optimizers.md",
        "interop.md",
        "gradient_checking.md",
        "cli.md",
        "modules.md",
    } <= pages


def test_a_reworded_page_or_another_message_fails_the_check():
    """The check must be able to fail, on either side."""
    with pytest.raises(AssertionError, match="no longer says"):
        assert_quoted("errors.md", "make_moons: noise must be a whole number")
    case = Message(
        "errors.md",
        ("SGD: lr of group 0 must be >= 0, got -1",),
        ValueError,
        lambda: optim.SGD(nn.Linear(2, 2).parameters(), lr=-2),
    )
    with pytest.raises(AssertionError):
        test_what_the_docs_quote_is_what_the_library_does(case)

"""Training steps: the seeds' moons network (W1) and an MNIST-size MLP (W2), per optimizer step.

One optimizer step is what a training loop repeats: forward on one mini-batch,
the loss (its value read back as a Python float, as a loop that logs it does),
the gradients, the parameter update. It is timed for

* tinygrad_edu, written as a user writes it: ``nn.Sequential`` of
  ``nn.Linear`` / ``nn.ReLU``, a loss module, an optimizer from ``optim``;
* the course's hand-written numpy (features x samples, parameters and
  gradients in dictionaries, ``forward_propagation``, ``backward_propagation``,
  ``update_parameters_with_...``), written out below as the course writes it;
* PyTorch eager, when it is installed, with 1 thread and with its default.

Every implementation starts from the same weights and sees the same
mini-batches, made once before timing (what a data loader costs is not timed
here). Before timing, each one's loss on the first step is checked against
the course's to 1e-10 in float64 (W2 is checked in float64 and then timed in
float32), and ours is checked to follow the course's parameters step for step.

W1, the seeds' workload: ``data.make_moons(300, noise=0.2, seed=3)``,
[2, 5, 2, 1] with ReLU, sigmoid output and cross-entropy, the course's
``random_mini_batches`` of 64 (4 batches of 64 and one of 44, cycled), Adam
with lr 0.0007, float64. Ours uses ``nn.BCEWithLogitsLoss`` on the last
layer's logits (as ``tinygrad-edu compare`` does); a second row times
``nn.Sigmoid`` + ``nn.BCELoss`` (as ``examples/course_optimization.py`` does).

W2: 784-256-128-10 with ReLU, softmax cross-entropy on integer labels, batch
128, plain SGD with lr 0.01, float32, random data from a seeded Generator.
Here the matrix products dominate, and numpy's BLAS may use several threads:
all three are timed with 1 thread (numpy's BLAS limited with ``threadpoolctl``
when it is installed, PyTorch with ``torch.set_num_threads(1)``) and with the
default thread counts, in one interleaved run.

    python -m benchmarks --only train
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import Result, interleaved_samples, median, torch_default_threads, torch_or_none  # noqa: E402
from tinygrad_edu import Tensor, data, nn, optim  # noqa: E402

W1_LAYERS = [2, 5, 2, 1]
W1_LR = 0.0007
W1_BATCH = 64
W2_LAYERS = [784, 256, 128, 10]
W2_LR = 0.01
W2_BATCH = 128
W2_BATCHES = 4  # distinct mini-batches, cycled
CHECK_TOLERANCE = 1e-10


# --- the course's numpy, features x samples -------------------------------------------------------


def initialize_parameters(layer_dims: list[int], dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """The course's He initialisation: np.random.seed(3), W = randn(n_l, n_(l-1)) * sqrt(2 / n_(l-1))."""
    rng = np.random.RandomState(3)
    parameters = {}
    for l in range(1, len(layer_dims)):  # noqa: E741 - the course's name
        W = rng.randn(layer_dims[l], layer_dims[l - 1]) * np.sqrt(2 / layer_dims[l - 1])
        parameters["W" + str(l)] = W.astype(dtype)
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1), dtype=dtype)
    return parameters


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward_propagation(X, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID, as in the course's utils."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = sigmoid(z3)
    cache = (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)
    return a3, cache


def compute_cost(a3, Y):
    m = Y.shape[1]
    logprobs = np.multiply(-np.log(a3), Y) + np.multiply(-np.log(1 - a3), 1 - Y)
    return 1.0 / m * np.sum(logprobs)


def backward_propagation(X, Y, cache):
    """The course's backward pass for the network above."""
    m = X.shape[1]
    (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3) = cache
    dz3 = 1.0 / m * (a3 - Y)
    dW3 = np.dot(dz3, a2.T)
    db3 = np.sum(dz3, axis=1, keepdims=True)
    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, np.int64(a2 > 0))
    dW2 = np.dot(dz2, a1.T)
    db2 = np.sum(dz2, axis=1, keepdims=True)
    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, np.int64(a1 > 0))
    dW1 = np.dot(dz1, X.T)
    db1 = np.sum(dz1, axis=1, keepdims=True)
    return {
        "dz3": dz3,
        "dW3": dW3,
        "db3": db3,
        "da2": da2,
        "dz2": dz2,
        "dW2": dW2,
        "db2": db2,
        "da1": da1,
        "dz1": dz1,
        "dW1": dW1,
        "db1": db1,
    }


def initialize_adam(parameters):
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(L):  # noqa: E741
        v["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        v["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
        s["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        s["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
    return v, s


def update_parameters_with_adam(
    parameters, gradients, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8
):
    """The course's Adam (seed 001): m_hat / sqrt(s_hat + epsilon)."""
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for l in range(L):  # noqa: E741
        v["dW" + str(l + 1)] = beta1 * v["dW" + str(l + 1)] + (1 - beta1) * gradients["dW" + str(l + 1)]
        v["db" + str(l + 1)] = beta1 * v["db" + str(l + 1)] + (1 - beta1) * gradients["db" + str(l + 1)]
        v_corrected["dW" + str(l + 1)] = v["dW" + str(l + 1)] / (1 - np.power(beta1, t))
        v_corrected["db" + str(l + 1)] = v["db" + str(l + 1)] / (1 - np.power(beta1, t))
        s["dW" + str(l + 1)] = beta2 * s["dW" + str(l + 1)] + (1 - beta2) * np.power(
            gradients["dW" + str(l + 1)], 2
        )
        s["db" + str(l + 1)] = beta2 * s["db" + str(l + 1)] + (1 - beta2) * np.power(
            gradients["db" + str(l + 1)], 2
        )
        s_corrected["dW" + str(l + 1)] = s["dW" + str(l + 1)] / (1 - np.power(beta2, t))
        s_corrected["db" + str(l + 1)] = s["db" + str(l + 1)] / (1 - np.power(beta2, t))
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * v_corrected[
            "dW" + str(l + 1)
        ] / np.sqrt(s_corrected["dW" + str(l + 1)] + epsilon)
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * v_corrected[
            "db" + str(l + 1)
        ] / np.sqrt(s_corrected["db" + str(l + 1)] + epsilon)
    return parameters, v, s


# The course's pattern, for W2's softmax output (the course's multi-class exercise does the same).
def softmax_forward_propagation(X, parameters):
    """LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SOFTMAX over the class axis 0."""
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    e = np.exp(z3 - np.max(z3, axis=0, keepdims=True))
    a3 = e / np.sum(e, axis=0, keepdims=True)
    cache = (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)
    return a3, cache


def compute_softmax_cost(a3, Y):
    """Mean of -log a3 at the true class; Y is one-hot, (classes, m)."""
    m = Y.shape[1]
    return -1.0 / m * np.sum(np.log(a3[Y.astype(bool)]))


def softmax_backward_propagation(X, Y, cache):
    """As ``backward_propagation``, with dz3 = (a3 - Y) / m for softmax + cross-entropy.

    The ReLU masks multiply as booleans, not as ``np.int64``: an int64 array
    would turn float32 gradients into float64.
    """
    m = X.shape[1]
    (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3) = cache
    dz3 = 1.0 / m * (a3 - Y)
    dW3 = np.dot(dz3, a2.T)
    db3 = np.sum(dz3, axis=1, keepdims=True)
    da2 = np.dot(W3.T, dz3)
    dz2 = np.multiply(da2, a2 > 0)
    dW2 = np.dot(dz2, a1.T)
    db2 = np.sum(dz2, axis=1, keepdims=True)
    da1 = np.dot(W2.T, dz2)
    dz1 = np.multiply(da1, a1 > 0)
    dW1 = np.dot(dz1, X.T)
    db1 = np.sum(dz1, axis=1, keepdims=True)
    return {"dW3": dW3, "db3": db3, "dW2": dW2, "db2": db2, "dW1": dW1, "db1": db1}


def update_parameters_with_gd(parameters, grads, learning_rate):
    L = len(parameters) // 2
    for l in range(L):  # noqa: E741
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


# --- one step of each implementation ------------------------------------------------------------
# Each maker returns step(): one optimizer step on the next mini-batch (cycling), returning the loss
# of that batch computed before the update.


def w1_batches() -> list[tuple[np.ndarray, np.ndarray]]:
    """The course's first epoch of mini-batches (seed 11), samples as rows; Y is (n, 1) float64."""
    X, y = data.make_moons(300, noise=0.2, seed=3)
    return data.random_mini_batches(X, y.reshape(-1, 1).astype(np.float64), W1_BATCH, seed=11)


def w1_course(batches, parameters) -> Callable[[], float]:
    parameters = {k: v.copy() for k, v in parameters.items()}
    v, s = initialize_adam(parameters)
    cycle = itertools.cycle([(xb.T, yb.T) for xb, yb in batches])  # features x samples
    t = 0

    def step() -> float:
        nonlocal parameters, v, s, t
        X, Y = next(cycle)
        a3, caches = forward_propagation(X, parameters)
        cost = compute_cost(a3, Y)
        gradients = backward_propagation(X, Y, caches)
        t = t + 1
        parameters, v, s = update_parameters_with_adam(parameters, gradients, v, s, t, W1_LR)
        return float(cost)

    step.parameters = lambda: parameters  # type: ignore[attr-defined]
    return step


def ours_network(parameters: dict[str, np.ndarray], dtype: Any, last: Optional[nn.Module] = None):
    """nn.Sequential(Linear, ReLU, ..., Linear[, last]) holding the course's weights."""
    n = len(parameters) // 2
    layers: list[nn.Module] = []
    for l in range(1, n + 1):  # noqa: E741
        W = parameters[f"W{l}"]
        layer = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        layer.weight.data[...] = W
        layer.bias.data[...] = parameters[f"b{l}"][:, 0]
        layers += [layer, nn.ReLU()]
    layers.pop()
    if last is not None:
        layers.append(last)
    return nn.Sequential(*layers)


def w1_ours(batches, parameters, sigmoid_output: bool = False) -> Callable[[], float]:
    """What a user writes: Sequential, a loss module, optim.Adam with the course's epsilon."""
    model = ours_network(parameters, np.float64, nn.Sigmoid() if sigmoid_output else None)
    loss_fn = nn.BCELoss() if sigmoid_output else nn.BCEWithLogitsLoss()
    opt = optim.Adam(model.parameters(), lr=W1_LR, eps_mode="inside")
    step = _stepper(model, loss_fn, opt, [(Tensor(xb), Tensor(yb)) for xb, yb in batches])
    step.model = model  # type: ignore[attr-defined]
    return step


def torch_network(torch: Any, parameters: dict[str, np.ndarray], dtype: Any):
    n = len(parameters) // 2
    layers = []
    for l in range(1, n + 1):  # noqa: E741
        W = parameters[f"W{l}"]
        layer = torch.nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(parameters[f"b{l}"][:, 0]))
        layers += [layer, torch.nn.ReLU()]
    layers.pop()
    return torch.nn.Sequential(*layers)


def _stepper(model: Any, loss_fn: Any, opt: Any, batches: list) -> Callable[[], float]:
    """One training step per call, cycling through ready-made batches: the loop a user writes,
    the same lines for ours and for PyTorch."""
    cycle = itertools.cycle(batches)

    def step() -> float:
        xb, yb = next(cycle)
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _torch_stepper(torch: Any, model: Any, loss_fn: Any, opt: Any, batches) -> Callable[[], float]:
    """One PyTorch training step per call, on torch copies of the batches."""
    copies = [(torch.from_numpy(xb.copy()), torch.from_numpy(yb.copy())) for xb, yb in batches]
    return _stepper(model, loss_fn, opt, copies)


def w1_torch(torch: Any, batches, parameters) -> Callable[[], float]:
    """PyTorch as its users write it: BCEWithLogitsLoss, torch.optim.Adam (epsilon outside the root)."""
    model = torch_network(torch, parameters, torch.float64)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(model.parameters(), lr=W1_LR)
    return _torch_stepper(torch, model, loss_fn, opt, batches)


def w2_data(dtype: Any) -> tuple[list[tuple[np.ndarray, np.ndarray]], dict[str, np.ndarray]]:
    """W2_BATCHES random mini-batches (inputs N(0, 1), labels 0..9) and He-initialised weights."""
    rng = np.random.default_rng(5)
    batches = [
        (rng.standard_normal((W2_BATCH, W2_LAYERS[0])).astype(dtype), rng.integers(0, 10, W2_BATCH))
        for _ in range(W2_BATCHES)
    ]
    return batches, initialize_parameters(W2_LAYERS, dtype)


def w2_course(batches, parameters) -> Callable[[], float]:
    parameters = {k: v.copy() for k, v in parameters.items()}
    dtype = parameters["W1"].dtype
    # features x samples; labels one-hot (classes x samples), made once like the inputs
    prepared = [(np.ascontiguousarray(xb.T), np.eye(10, dtype=dtype)[:, yb]) for xb, yb in batches]
    cycle = itertools.cycle(prepared)

    def step() -> float:
        nonlocal parameters
        X, Y = next(cycle)
        a3, caches = softmax_forward_propagation(X, parameters)
        cost = compute_softmax_cost(a3, Y)
        grads = softmax_backward_propagation(X, Y, caches)
        parameters = update_parameters_with_gd(parameters, grads, W2_LR)
        return float(cost)

    return step


def w2_ours(batches, parameters) -> Callable[[], float]:
    model = ours_network(parameters, parameters["W1"].dtype)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=W2_LR)
    return _stepper(model, loss_fn, opt, [(Tensor(xb), Tensor(yb)) for xb, yb in batches])


def w2_torch(torch: Any, batches, parameters) -> Callable[[], float]:
    dtype = torch.float32 if parameters["W1"].dtype == np.float32 else torch.float64
    model = torch_network(torch, parameters, dtype)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=W2_LR)
    return _torch_stepper(torch, model, loss_fn, opt, batches)


# --- checks before timing ----------------------------------------------------------------------------


def check_same_loss(workload: str, steps: dict[str, Callable[[], float]], reference: str) -> dict[str, float]:
    """Run the first step of each implementation; every loss must equal the reference's to 1e-10."""
    losses = {name: step() for name, step in steps.items()}
    for name, loss in losses.items():
        if abs(loss - losses[reference]) > CHECK_TOLERANCE:
            raise AssertionError(
                f"bench_train: {workload}: first-step loss of {name} is {loss!r}, "
                f"{reference} gives {losses[reference]!r} (tolerance {CHECK_TOLERANCE})"
            )
    return losses


def check_w1() -> None:
    """Same first loss everywhere; ours follows the course's parameters for 20 steps."""
    batches, parameters = w1_batches(), initialize_parameters(W1_LAYERS)
    steps = {
        "course": w1_course(batches, parameters),
        "ours": w1_ours(batches, parameters),
        "ours sigmoid": w1_ours(batches, parameters, sigmoid_output=True),
    }
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = w1_torch(torch, batches, parameters)
    check_same_loss("W1", steps, "course")
    for _ in range(19):
        steps["course"]()
        steps["ours"]()
    course = steps["course"].parameters()  # type: ignore[attr-defined]
    linears = [m for m in steps["ours"].model if isinstance(m, nn.Linear)]  # type: ignore[attr-defined]
    for l, layer in enumerate(linears, start=1):  # noqa: E741
        diff = max(
            np.max(np.abs(layer.weight.data - course[f"W{l}"])),
            np.max(np.abs(layer.bias.data - course[f"b{l}"][:, 0])),
        )
        if diff > CHECK_TOLERANCE:
            raise AssertionError(f"bench_train: W1: after 20 Adam steps, layer {l} differs by {diff}")


def check_w2() -> None:
    batches, parameters = w2_data(np.float64)
    steps = {"course": w2_course(batches, parameters), "ours": w2_ours(batches, parameters)}
    torch = torch_or_none()
    if torch is not None:
        steps["torch"] = w2_torch(torch, batches, parameters)
    check_same_loss("W2 (float64)", steps, "course")


# --- threads -------------------------------------------------------------------------------------------


class BlasThreads:
    """Set numpy's BLAS thread count with threadpoolctl when it is installed (otherwise: leave it)."""

    def __init__(self) -> None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            self.controller = None
            self.default: Optional[int] = None
            return
        self.controller = ThreadpoolController()
        counts = [info["num_threads"] for info in self.controller.info() if info["user_api"] == "blas"]
        self.default = max(counts) if counts else None

    def set(self, n: Optional[int]) -> None:
        if self.controller is not None and n is not None:
            self.controller.limit(limits=n, user_api="blas")

    def describe(self) -> str:
        if self.controller is None:
            return "numpy's BLAS with its default threads (threadpoolctl not installed)"
        return f"numpy's BLAS set with threadpoolctl to 1 and to its default {self.default}"


def _setter(blas: BlasThreads, torch: Any, n: Optional[int], torch_n: Optional[int]) -> Callable[[], None]:
    def prepare() -> None:
        blas.set(n)
        if torch is not None and torch_n is not None:
            torch.set_num_threads(torch_n)

    return prepare


# --- the runs ------------------------------------------------------------------------------------------


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a / b


def paired_ratio(samples: dict[str, list[float]], a: str, b: str) -> Optional[float]:
    """The median over rounds of time(a) / time(b) within each round.

    The candidates of one round run within a second or two, in the same state of the
    machine; the machine's slow and fast phases last minutes. This ratio is therefore
    steadier than the ratio of the medians (which decides the targets) and shows how
    far that one moved.
    """
    if a not in samples or b not in samples:
        return None
    return median([x / y for x, y in zip(samples[a], samples[b])])


def run_w1(quick: bool) -> list[Result]:
    check_w1()
    batches, parameters = w1_batches(), initialize_parameters(W1_LAYERS)
    candidates: dict[str, Callable[[], Any]] = {
        "ours": w1_ours(batches, parameters),
        "ours sigmoid": w1_ours(batches, parameters, sigmoid_output=True),
        "numpy": w1_course(batches, parameters),
    }
    # On arrays this small no BLAS call is big enough to use a second thread: numpy keeps its defaults.
    prepare: dict[str, Callable[[], None]] = {}
    torch = torch_or_none()
    default_threads = torch_default_threads()
    if torch is not None:
        candidates["torch"] = w1_torch(torch, batches, parameters)
        prepare["torch"] = lambda: torch.set_num_threads(1)
        if default_threads and default_threads != 1:
            candidates["torch default"] = w1_torch(torch, batches, parameters)
            prepare["torch default"] = lambda: torch.set_num_threads(default_threads)
    rounds, min_time = (3, 0.02) if quick else (11, 0.1)
    samples = interleaved_samples(candidates, rounds, min_time, prepare)
    t = {name: median(v) for name, v in samples.items()}
    best = {name: min(v) for name, v in samples.items()}
    torch_1t = t.get("torch")
    passed = t["ours"] <= t["numpy"] and (torch_1t is None or torch_1t / t["ours"] >= 4.0)
    rows = [
        Result(
            group="train",
            name="W1 moons 2-5-2-1 Adam f64, step",
            ours=t["ours"],
            numpy=t["numpy"],
            torch=torch_1t,
            torch_default=t.get("torch default"),
            target="<= 1.0x numpy, >= 4x faster than torch 1t",
            passed=passed,
            extra={
                "ours": "nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) + nn.BCEWithLogitsLoss, "
                "optim.Adam(eps_mode='inside')",
                "ratio ours / numpy": t["ours"] / t["numpy"],
                "torch 1t / ours": _ratio(torch_1t, t["ours"]),
                "paired ratio ours / numpy": paired_ratio(samples, "ours", "numpy"),
                "paired ratio torch 1t / ours": paired_ratio(samples, "torch", "ours"),
                "fastest round": best,
                "rounds": rounds,
            },
        ),
        Result(
            group="train",
            name="W1 same, Sigmoid + BCELoss",
            ours=t["ours sigmoid"],
            numpy=t["numpy"],
            torch=torch_1t,
            torch_default=t.get("torch default"),
            extra={"ratio ours / numpy": t["ours sigmoid"] / t["numpy"], "fastest round": best},
        ),
    ]
    return rows


def run_w2(quick: bool) -> list[Result]:
    check_w2()
    batches, parameters = w2_data(np.float32)
    blas = BlasThreads()
    torch = torch_or_none()
    default_threads = torch_default_threads()
    settings = {"1t": (1, 1), "default": (blas.default, default_threads)}
    candidates: dict[str, Callable[[], Any]] = {}
    prepare: dict[str, Callable[[], None]] = {}
    for label, (blas_n, torch_n) in settings.items():
        candidates[f"ours {label}"] = w2_ours(batches, parameters)
        candidates[f"numpy {label}"] = w2_course(batches, parameters)
        if torch is not None:
            candidates[f"torch {label}"] = w2_torch(torch, batches, parameters)
        for impl in ("ours", "numpy", "torch"):
            prepare[f"{impl} {label}"] = _setter(blas, torch, blas_n, torch_n)
    rounds, min_time = (3, 0.03) if quick else (9, 0.15)
    samples = interleaved_samples(candidates, rounds, min_time, prepare)
    blas.set(blas.default)
    if torch is not None and default_threads:
        torch.set_num_threads(default_threads)
    t = {name: median(v) for name, v in samples.items()}
    best = {name: min(v) for name, v in samples.items()}

    rows = []
    for label in settings:
        ours, numpy_t, torch_t = t[f"ours {label}"], t[f"numpy {label}"], t.get(f"torch {label}")
        threads = "1 thread" if label == "1t" else f"default (BLAS {blas.default}, torch {default_threads})"
        rows.append(
            Result(
                group="train",
                name=f"W2 MLP 784-256-128-10 SGD f32, {'1 thread' if label == '1t' else 'dflt threads'}",
                ours=ours,
                numpy=numpy_t,
                torch=torch_t if label == "1t" else None,
                torch_default=torch_t if label != "1t" else None,
                target="<= 1.1x numpy, <= 1.0x torch (same threads)",
                passed=ours <= 1.1 * numpy_t and (torch_t is None or ours <= torch_t),
                extra={
                    "threads": threads,
                    "blas": blas.describe(),
                    "ratio ours / numpy": ours / numpy_t,
                    "ratio ours / torch (same threads)": _ratio(ours, torch_t),
                    "paired ratio ours / numpy": paired_ratio(samples, f"ours {label}", f"numpy {label}"),
                    "paired ratio ours / torch": paired_ratio(samples, f"ours {label}", f"torch {label}"),
                    "fastest round": {k: v for k, v in best.items() if k.endswith(label)},
                    "rounds": rounds,
                },
            )
        )
    return rows


def run(quick: bool = False) -> list[Result]:
    """W1 and W2; about 30 s (6 s with ``quick``)."""
    return run_w1(quick) + run_w2(quick)


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--only", "train", *sys.argv[1:]]))

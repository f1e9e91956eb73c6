"""The course's optimizer experiment, rebuilt with tinygrad_edu, printing the course's own numbers.

The optimization chapter of the course notes trains a [2, 5, 2, 1] network
(LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID) on 300 "moons" points
with mini-batches of 64, learning rate 0.0007, for 10,000 epochs, once with
momentum (beta = 0.9) and once with Adam, and prints the cost every 1000
epochs and the final training accuracy. Every random draw is reproduced:

    course (numpy, samples in columns)               here (samples in rows)
    ----------------------------------------------   -------------------------------------------------
    load_dataset: np.random.seed(3);                 data.make_moons(300, noise=0.2, seed=3)
      sklearn make_moons(300, noise=.2)
    initialize_parameters: np.random.seed(3);        nn.Linear(n_prev, n, init="he",
      W = randn(n, n_prev) * sqrt(2 / n_prev), b = 0     rng=np.random.RandomState(3)), one rng for all
    forward_propagation                              nn.Sequential(Linear, ReLU, Linear, ReLU,
                                                       Linear, Sigmoid)
    compute_cost: mean of -y log a - (1-y) log(1-a)  nn.BCELoss()
    backward_propagation                             cost.backward()
    random_mini_batches(X, Y, 64, seed), seed =      data.random_mini_batches(X, Y, 64, seed), same seeds
      10 + 1, 10 + 2, ... one per epoch
    update_parameters_with_momentum                  optim.Momentum(params, lr, beta=0.9)
    update_parameters_with_adam, t = 1, 2, ...       optim.Adam(params, lr, eps=1e-8, eps_mode="inside")
      m_hat / sqrt(s_hat + eps)                        (each parameter counts its own steps t)

As in the course, the cost printed for an epoch is the cost of that epoch's
last mini-batch (44 samples: 300 = 4 * 64 + 44), computed before the update.

    python examples/course_optimization.py            # 1000 epochs: epoch 0 is checked, in seconds
    python examples/course_optimization.py --full     # 10,000 epochs: every printed cost and accuracy

A cost agrees when its 6 printed decimals are the course's printed digits
(``f"{cost:.6f}"``, the course's ``%f``); with ``--full`` the exit status is 1
if any cost or accuracy is not the course's exactly.
docs/course.md walks through the same mapping.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, data, nn, optim

# What the course prints ("%f": 6 decimals): the cost at epochs 0, 1000, ..., 9000 and the
# training accuracy after 10,000.
COURSE_COSTS = {
    "momentum": ["0.690741", "0.685341", "0.647145", "0.619594", "0.576665",
                 "0.607324", "0.529476", "0.460936", "0.465780", "0.464740"],
    "adam": ["0.690552", "0.185501", "0.150830", "0.074454", "0.125959",
             "0.104344", "0.100676", "0.031652", "0.111973", "0.197940"],
}
COURSE_ACCURACY = {"momentum": 0.7966666666666666, "adam": 0.94}
COURSE_EPOCHS = 10_000
COURSE_PRINT_EVERY = 1000

LAYERS_DIMS = [2, 5, 2, 1]
LEARNING_RATE = 0.0007
MINI_BATCH_SIZE = 64
FIRST_SEED = 10  # the course's ``seed = 10``, incremented before each epoch's shuffle
DTYPE = np.float64  # numpy's default, the course's precision


def load_dataset() -> tuple[np.ndarray, np.ndarray]:
    """The course's training set: X (300, 2), Y (300, 1) float 0/1 labels; samples are rows."""
    X, y = data.make_moons(300, noise=0.2, seed=3)
    return X, y.reshape(-1, 1).astype(DTYPE)


def initialize_model(layers_dims: Sequence[int] = LAYERS_DIMS) -> nn.Sequential:
    """The course's network with the course's initial weights.

    ``np.random.seed(3)`` then W1, W2, W3 drawn in that order as
    ``randn(n_l, n_(l-1)) * sqrt(2 / n_(l-1))``: one RandomState(3) passed to
    every Linear (which draws its weight in the course's (out, in) layout and
    zeros its bias) gives the same numbers in the same order.
    """
    rng = np.random.RandomState(3)
    layers: list[nn.Module] = []
    for n_prev, n in zip(layers_dims[:-1], layers_dims[1:]):
        layers += [nn.Linear(n_prev, n, init="he", rng=rng, dtype=DTYPE), nn.ReLU()]
    layers[-1] = nn.Sigmoid()  # the last activation is the sigmoid: a3 is a probability
    return nn.Sequential(*layers)


def make_optimizer(name: str, params: list[nn.Parameter]) -> optim.Optimizer:
    """The course's three update rules with its hyperparameters."""
    if name == "gd":
        return optim.SGD(params, lr=LEARNING_RATE)  # update_parameters_with_gd: p -= lr * grad
    if name == "momentum":
        return optim.Momentum(params, lr=LEARNING_RATE, beta=0.9)
    if name == "adam":
        return optim.Adam(params, lr=LEARNING_RATE, betas=(0.9, 0.999), eps=1e-8, eps_mode="inside")
    raise ValueError(f"unknown optimizer {name!r}; expected gd, momentum or adam")


def train(
    X: np.ndarray, Y: np.ndarray, optimizer: str, num_epochs: int, print_every: int = COURSE_PRINT_EVERY
) -> tuple[nn.Sequential, dict[int, float]]:
    """The course's ``model(X, Y, optimizer, ...)``: returns the network and {epoch: printed cost}."""
    model = initialize_model()
    opt = make_optimizer(optimizer, list(model.parameters()))
    compute_cost = nn.BCELoss()
    costs: dict[int, float] = {}
    seed = FIRST_SEED
    for epoch in range(num_epochs):
        seed += 1  # a different shuffle every epoch, the same ones as the course's
        for minibatch_X, minibatch_Y in data.random_mini_batches(X, Y, MINI_BATCH_SIZE, seed):
            a3 = model(Tensor(minibatch_X))  # forward_propagation
            cost = compute_cost(a3, Tensor(minibatch_Y))  # compute_cost
            opt.zero_grad()
            cost.backward()  # backward_propagation
            opt.step()  # update_parameters_with_...
        if epoch % print_every == 0:
            costs[epoch] = cost.item()  # the last mini-batch's cost, as the course prints it
    return model, costs


def predict_accuracy(model: nn.Module, X: np.ndarray, Y: np.ndarray) -> float:
    """The course's ``predict``: label 1 where a3 > 0.5, accuracy = mean(prediction == label)."""
    with tg.no_grad():
        a3 = model(Tensor(X)).data
    return float(np.mean((a3[:, 0] > 0.5) == (Y[:, 0] == 1)))


def course_cost(optimizer: str, epoch: int) -> Optional[str]:
    """The cost the course printed at this epoch (its 6 decimals), if it printed one."""
    values = COURSE_COSTS.get(optimizer)
    if values is None or epoch % COURSE_PRINT_EVERY or epoch // COURSE_PRINT_EVERY >= len(values):
        return None
    return values[epoch // COURSE_PRINT_EVERY]


def report(optimizer: str, costs: dict[int, float], accuracy: float, num_epochs: int) -> tuple[float, int]:
    """Print the costs next to the course's; return (largest difference, number of failed checks).

    A cost agrees when f"{cost:.6f}" is the course's printed string."""
    print(f"{'epoch':>6s}  {'cost':>10s}  {'course':>10s}  {'difference':>10s}")
    largest, failed = 0.0, 0
    for epoch, cost in costs.items():
        expected = course_cost(optimizer, epoch)
        if expected is None:
            print(f"{epoch:6d}  {cost:10.6f}")
            continue
        diff = abs(cost - float(expected))
        largest = max(largest, diff)
        ok = f"{cost:.6f}" == expected
        failed += not ok
        print(f"{epoch:6d}  {cost:10.6f}  {expected:>10s}  {diff:10.1e}  {'agrees' if ok else 'DIFFERS'}")
    expected_accuracy = COURSE_ACCURACY.get(optimizer) if num_epochs == COURSE_EPOCHS else None
    if expected_accuracy is None:
        print(f"Accuracy: {accuracy!r}")
    else:
        ok = accuracy == expected_accuracy
        failed += not ok
        print(f"Accuracy: {accuracy!r}  course: {expected_accuracy!r}  {'agrees' if ok else 'DIFFERS'}")
    return largest, failed


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help=f"the course's {COURSE_EPOCHS:,} epochs; every printed cost is checked")
    parser.add_argument("--epochs", type=int, default=None, help="number of epochs (default 1000)")
    parser.add_argument("--print-every", type=int, default=None,
                        help="print the cost every N epochs (default 100, with --full 1000)")
    parser.add_argument("--optimizers", default="momentum,adam",
                        help="comma-separated, from gd, momentum, adam (default momentum,adam)")
    args = parser.parse_args(argv)
    epochs = args.epochs if args.epochs is not None else (COURSE_EPOCHS if args.full else 1000)
    print_every = args.print_every or (COURSE_PRINT_EVERY if args.full else 100)
    names = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    bad = [n for n in names if n not in ("gd", "momentum", "adam")]
    if epochs < 1 or print_every < 1 or bad or not names:
        parser.error(f"need epochs >= 1, print-every >= 1 and optimizers from gd, momentum, adam; "
                     f"got {epochs}, {print_every}, {args.optimizers!r}")

    X, Y = load_dataset()
    largest, failed = 0.0, 0
    for name in names:
        print(f"\n== {name}: {epochs} epochs, lr {LEARNING_RATE}, mini-batch {MINI_BATCH_SIZE} ==")
        start = time.perf_counter()
        model, costs = train(X, Y, name, epochs, print_every)
        accuracy = predict_accuracy(model, X, Y)
        diff, n_failed = report(name, costs, accuracy, epochs)
        largest, failed = max(largest, diff), failed + n_failed
        print(f"({time.perf_counter() - start:.1f} s)")
    print(f"\nlargest difference from the course's printed costs: {largest:.1e} "
          "(agreeing means the same 6 printed decimals)")
    print("all agree with the course" if not failed else f"{failed} value(s) DIFFER from the course")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

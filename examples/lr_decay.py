"""Learning-rate decay: the course's per-epoch formulas and Keras's schedules, as curves and numbers.

The course (seed 001 section 11, seed 003): with a fixed learning rate mini-batch gradient
descent keeps wandering around the minimum; shrinking it over time lets it settle:

    alpha = alpha0 / (1 + decay_rate * epoch)      InverseTimeDecay(alpha0, batches_per_epoch, decay_rate,
                                                                    staircase=True)
    alpha = 0.95**epoch * alpha0                   ExponentialDecay(alpha0, batches_per_epoch, 0.95,
                                                                    staircase=True)

Keras's schedules (seed 004), functions of the step t:

    PiecewiseConstantDecay(boundaries, values)     values[i] between boundaries
    ExponentialDecay(a0, k, r)                     a0 * r**(t / k)
    InverseTimeDecay(a0, k, r)                     a0 / (1 + r * t / k)
    CosineDecay(a0, k)                             a0 * (1 + cos(pi * min(t, k) / k)) / 2

Prints each schedule's value at a few steps next to the formula evaluated by hand, trains a
line fit with mini-batch SGD at a fixed and at a decaying learning rate, and writes
schedules.{png,svg}, course_decay.{png,svg} and fixed_vs_decay.{png,svg}.

    python examples/lr_decay.py [--out DIR] [--epochs N] [--full]
"""

from __future__ import annotations

import argparse
import math
import os

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn, optim, plot  # noqa: E402
from tinygrad_edu.optim import schedules  # noqa: E402

ALPHA0 = 0.2
BATCHES_PER_EPOCH = 10


def print_table(title: str, schedule, formula, steps) -> None:
    print(f"\n{title}")
    print(f"  {'step':>6} {'schedule':>12} {'formula':>12}")
    for t in steps:
        print(f"  {t:6d} {schedule(t):12.8f} {formula(t):12.8f}")


def train_line(lr, epochs: int, seed: int = 0) -> dict[str, list[float]]:
    """Fit y = 3x + 2 + noise with batches of 10 and plain SGD; per epoch: full-data loss and lr."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(BATCHES_PER_EPOCH * 10, 1))
    y = 3.0 * X + 2.0 + rng.normal(0, 1.0, size=X.shape)
    tg.manual_seed(seed)
    model = nn.Linear(1, 1)
    opt = optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    history: dict[str, list[float]] = {"loss": [], "lr": []}
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for batch in np.array_split(order, BATCHES_PER_EPOCH):
            opt.zero_grad()
            loss_fn(model(tg.Tensor(X[batch])), tg.Tensor(y[batch])).backward()
            opt.step()
        with tg.no_grad():
            history["loss"].append(loss_fn(model(tg.Tensor(X)), tg.Tensor(y)).item())
        history["lr"].append(opt.last_lr[0])
    return history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", default=os.path.join("tinygrad_edu_out", "lr_decay"), help="output directory"
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the line fit (default 30)")
    parser.add_argument("--full", action="store_true", help="300 epochs of the line fit")
    args = parser.parse_args(argv)
    epochs = 300 if args.full else args.epochs
    os.makedirs(args.out, exist_ok=True)

    course = {
        "alpha0 / (1 + 1.0 * epoch)": schedules.InverseTimeDecay(
            ALPHA0, BATCHES_PER_EPOCH, 1.0, staircase=True
        ),
        "0.95**epoch * alpha0": schedules.ExponentialDecay(ALPHA0, BATCHES_PER_EPOCH, 0.95, staircase=True),
    }
    keras = {
        "PiecewiseConstantDecay([100, 150], [1.0, 0.5, 0.1])": schedules.PiecewiseConstantDecay(
            [100, 150], [1.0, 0.5, 0.1]
        ),
        "ExponentialDecay(1.0, 50, 0.5)": schedules.ExponentialDecay(1.0, 50, 0.5),
        "InverseTimeDecay(1.0, 50, 1.0)": schedules.InverseTimeDecay(1.0, 50, 1.0),
        "CosineDecay(1.0, 200)": schedules.CosineDecay(1.0, 200),
    }
    steps = (0, 9, 10, 25, 100, 199)
    print(f"course decay, alpha0 = {ALPHA0}, {BATCHES_PER_EPOCH} batches per epoch (epoch = step // 10)")
    print_table(
        "alpha0 / (1 + decay_rate * epoch), decay_rate = 1",
        course["alpha0 / (1 + 1.0 * epoch)"],
        lambda t: ALPHA0 / (1 + 1.0 * (t // BATCHES_PER_EPOCH)),
        steps,
    )
    print_table(
        "0.95**epoch * alpha0",
        course["0.95**epoch * alpha0"],
        lambda t: 0.95 ** (t // BATCHES_PER_EPOCH) * ALPHA0,
        steps,
    )
    print_table(
        "PiecewiseConstantDecay: 1.0 up to step 100, 0.5 up to 150, then 0.1 (Keras: a boundary's own step "
        "takes the value before it)",
        keras["PiecewiseConstantDecay([100, 150], [1.0, 0.5, 0.1])"],
        lambda t: 1.0 if t <= 100 else 0.5 if t <= 150 else 0.1,
        (0, 100, 101, 150, 151, 199),
    )
    print_table(
        "ExponentialDecay: 1.0 * 0.5**(t / 50)",
        keras["ExponentialDecay(1.0, 50, 0.5)"],
        lambda t: 0.5 ** (t / 50),
        steps,
    )
    print_table(
        "InverseTimeDecay: 1.0 / (1 + 1.0 * t / 50)",
        keras["InverseTimeDecay(1.0, 50, 1.0)"],
        lambda t: 1.0 / (1 + t / 50),
        steps,
    )
    print_table(
        "CosineDecay: (1 + cos(pi * t / 200)) / 2",
        keras["CosineDecay(1.0, 200)"],
        lambda t: (1 + math.cos(math.pi * min(t, 200) / 200)) / 2,
        steps,
    )

    fixed = train_line(ALPHA0, epochs)
    decayed = train_line(course["alpha0 / (1 + 1.0 * epoch)"], epochs)
    print(f"\nline fit, {epochs} epochs of mini-batch SGD: final full-data loss")
    print(
        f"  fixed lr {ALPHA0}:             {fixed['loss'][-1]:.6f}  (last 5 epochs vary by "
        f"{np.ptp(fixed['loss'][-5:]):.2e})"
    )
    print(
        f"  alpha0 / (1 + epoch):      {decayed['loss'][-1]:.6f}  (last 5 epochs vary by "
        f"{np.ptp(decayed['loss'][-5:]):.2e})"
    )

    for suffix in ("png", "svg"):
        plot.plot_schedules(
            keras, 250, title="Keras schedules", save=os.path.join(args.out, f"schedules.{suffix}")
        )
        plot.plot_schedules(
            course,
            30 * BATCHES_PER_EPOCH,
            title=f"course decay, alpha0 = {ALPHA0}",
            save=os.path.join(args.out, f"course_decay.{suffix}"),
        )
        plot.plot_history(
            {"fixed lr": fixed, "alpha0 / (1 + epoch)": decayed},
            metrics=("loss", "lr"),
            save=os.path.join(args.out, f"fixed_vs_decay.{suffix}"),
        )
    print(f"pictures written to {args.out}")


if __name__ == "__main__":
    main()

"""Optimizer paths on f(x, y) = x**2 / 20 + y**2: seed 002's comparison of SGD, Momentum, AdaGrad and Adam.

30 steps from (-7, 2) with the learning rates of "Deep Learning from Scratch", chapter 6, whose
optimizer classes the seed prints (the seed gives only the classes' defaults, lr=0.01):

    SGD       lr 0.95                 -> optim.SGD(lr=0.95)
    Momentum  lr 0.1, momentum 0.9    -> optim.SGD(lr=0.1, momentum=0.9)
    AdaGrad   lr 1.5                  -> optim.Adagrad(lr=1.5, eps=1e-7)
    Adam      lr 0.3                  -> optim.Adam(lr=0.3, eps=1e-7, eps_mode="hat")

The book's Momentum is v = 0.9 * v - 0.1 * g; p += v. (The seed prints `v += lr * g`, which
drops the momentum and climbs the loss: a misprint of that line.) PyTorch's SGD(lr=0.1, momentum=0.9)
keeps b = 0.9 * b + g and steps p -= 0.1 * b, which is the same path (b = -v / 0.1). The
course's Momentum(lr, beta) averages instead, v = beta * v + (1 - beta) * g, so it needs
lr = 0.1 / (1 - 0.9) = 1.0 for the same path; the example prints both to show they agree.
Each path starts at row 0 = (-7, 2); the seed's picture shows the 30 points before each update
(our rows 0..29), our picture adds the point after the last update.

Writes trajectories.{png,svg} (one panel per optimizer, as in the seed) and
trajectories_overlay.{png,svg} (all four in one panel). --full also runs the four on the
Rosenbrock function for 3000 steps (rosenbrock.{png,svg}).

    python examples/trajectories.py [--out DIR] [--steps N] [--full]
"""

from __future__ import annotations

import argparse
import functools
import os

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from tinygrad_edu import optim, plot  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", default=os.path.join("tinygrad_edu_out", "trajectories"), help="output directory"
    )
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps (default 30, as in the seed)")
    parser.add_argument("--full", action="store_true", help="also the Rosenbrock function, 3000 steps")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    f = plot.FUNCTIONS["elongated_bowl"]
    paths = plot.optimizer_trajectories("elongated_bowl", plot.SEED_002_OPTIMIZERS, (-7.0, 2.0), args.steps)
    print(f"f(x, y) = x**2/20 + y**2 from (-7, 2), {args.steps} steps; the minimum is f(0, 0) = 0")
    print(f"{'optimizer':<10} {'x':>12} {'y':>12} {'f(x, y)':>12}")
    for name, path in paths.items():
        x, y = path[-1]
        print(f"{name:<10} {x:12.6f} {y:12.6f} {f(x, y):12.6f}")

    course = plot.optimizer_trajectory(
        f, functools.partial(optim.Momentum, lr=1.0, beta=0.9), (-7.0, 2.0), args.steps
    )
    gap = np.max(np.abs(course - paths["Momentum"]))
    print(f"course Momentum(lr=1.0, beta=0.9) vs SGD(lr=0.1, momentum=0.9): largest difference {gap:.2e}")

    for suffix in ("png", "svg"):
        plot.plot_trajectories(
            "elongated_bowl", steps=args.steps, save=os.path.join(args.out, f"trajectories.{suffix}")
        )
        plot.plot_trajectories(
            "elongated_bowl",
            steps=args.steps,
            overlay=True,
            save=os.path.join(args.out, f"trajectories_overlay.{suffix}"),
        )
    if args.full:
        rosenbrock = {
            "SGD lr 1e-3": functools.partial(optim.SGD, lr=1e-3),
            "Momentum lr 1e-3, 0.9": functools.partial(optim.SGD, lr=1e-3, momentum=0.9),
            "AdaGrad lr 0.5": functools.partial(optim.Adagrad, lr=0.5),
            "Adam lr 0.05": functools.partial(optim.Adam, lr=0.05),
        }
        start = (-1.5, 2.0)
        print("\nRosenbrock (1 - x)**2 + 100 (y - x**2)**2 from (-1.5, 2), 3000 steps; minimum at (1, 1)")
        for name, path in plot.optimizer_trajectories("rosenbrock", rosenbrock, start, 3000).items():
            print(f"{name:<22} x = {path[-1, 0]:10.6f}  y = {path[-1, 1]:10.6f}")
        for suffix in ("png", "svg"):
            plot.plot_trajectories(
                "rosenbrock",
                rosenbrock,
                start,
                3000,
                overlay=True,
                save=os.path.join(args.out, f"rosenbrock.{suffix}"),
            )
    print(f"pictures written to {args.out}")


if __name__ == "__main__":
    main()

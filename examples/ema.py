"""Exponentially weighted averages of a year of daily temperatures: seed 001's figure.

A synthetic year (seeded, degrees Fahrenheit as in the lecture): a seasonal curve, cold in
January and warm in July, plus daily noise. It is smoothed with
v_t = beta * v_{t-1} + (1 - beta) * x_t for beta = 0.5, 0.9, 0.98, which average over
roughly 1 / (1 - beta) = 2, 10 and 50 days: the larger beta, the smoother
and the later the curve (seed 001: red 0.9, green 0.98, yellow 0.5).

Starting from v_0 = 0 pulls the first values towards 0; dividing by 1 - beta**t (bias
correction) removes that. ema_bias_correction.{png,svg} shows beta = 0.98 with and without it.

Writes ema.{png,svg} and ema_bias_correction.{png,svg}.

    python examples/ema.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from tinygrad_edu import plot  # noqa: E402


def synthetic_year(seed: int) -> np.ndarray:
    """365 daily temperatures in degrees F (the lecture's units): 55 - 18 cos(season) + N(0, 5**2).

    Coldest in mid-January (about 37 F), warmest in mid-July (about 73 F). Far from 0, so the
    pull of v_0 = 0 on the uncorrected average is plain to see.
    """
    rng = np.random.default_rng(seed)
    day = np.arange(365)
    seasonal = 55.0 - 18.0 * np.cos(2 * np.pi * (day - 15) / 365)
    return seasonal + rng.normal(0.0, 5.0, size=365)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join("tinygrad_edu_out", "ema"), help="output directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic year")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    temps = synthetic_year(args.seed)
    betas = (0.5, 0.9, 0.98)
    corrected = plot.ema_curves(temps, betas, bias_correction=True)
    raw = plot.ema_curves(temps, betas, bias_correction=False)
    print(
        f"a year of daily temperatures (seed {args.seed}): mean {temps.mean():.2f}, "
        f"min {temps.min():.2f}, max {temps.max():.2f}"
    )
    print("v_t = beta * v_(t-1) + (1 - beta) * x_t, v_0 = 0; corrected: v_t / (1 - beta**t)")
    print(f"{'day':>4} {'x_t':>8}" + "".join(f" {'b=' + str(b):>9} {'(raw)':>8}" for b in betas))
    for day in (1, 2, 3, 10, 50, 180, 365):
        row = f"{day:4d} {temps[day - 1]:8.3f}"
        row += "".join(f" {corrected[b][day - 1]:9.3f} {raw[b][day - 1]:8.3f}" for b in betas)
        print(row)
    for b in betas:
        rough = np.std(np.diff(corrected[b]))
        print(f"beta = {b:<4}: averages over ~{1 / (1 - b):4.0f} days; day-to-day change std {rough:.3f}")

    for suffix in ("png", "svg"):
        plot.plot_ema(
            temps,
            betas,
            ylabel="temperature (F)",
            title="Exponentially weighted averages",
            save=os.path.join(args.out, f"ema.{suffix}"),
        )
        plot.plot_ema(
            temps,
            (0.98,),
            bias_correction="both",
            ylabel="temperature (F)",
            title="beta = 0.98: bias correction",
            save=os.path.join(args.out, f"ema_bias_correction.{suffix}"),
        )
    print(f"pictures written to {args.out}")


if __name__ == "__main__":
    main()

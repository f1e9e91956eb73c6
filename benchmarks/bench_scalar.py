"""The scalar engine against micrograd: one step of micrograd's demo, and a long chain.

The demo (micrograd's ``demo.ipynb``): MLP(2, [16, 16, 1]) on 100 two-moons
points with labels -1/+1, SVM max-margin loss plus 1e-4 L2, plain SGD. One
step = forward over the 100 points, loss, zero_grad, backward, update. The
step below is micrograd's own code, run unchanged on both engines with the same
points and the same initial weights (copied across).

    .venv/bin/pip install micrograd    # optional, to compare (for this benchmark only, not a dependency)
    .venv/bin/python benchmarks/bench_scalar.py

``run(quick)`` gives the demo step as a ``Result`` row for ``python -m
benchmarks`` (W3). It measures in a fresh Python process: both engines make
thousands of small objects per step, and Python's cycle collector re-scans
every live object of the process, so the objects of other benchmarks (import
torch alone brings about 150,000) would slow both down. The two engines'
steps alternate, one of each per round, and the medians are compared.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(ROOT))

import tinygrad_edu  # noqa: E402
from benchmarks import Result, median  # noqa: E402
from tinygrad_edu import scalar  # noqa: E402

TARGET_SPEEDUP = 5.0


def make_moons(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles (sklearn's make_moons shape), labels -1 and +1, as Python floats."""
    rng = np.random.default_rng(seed)
    n_top = n // 2
    t_top = np.linspace(0.0, np.pi, n_top)
    t_bottom = np.linspace(0.0, np.pi, n - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)], axis=1)
    bottom = np.stack([1.0 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], axis=1)
    X = np.concatenate([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.ones(n_top), -np.ones(n - n_top)])
    order = rng.permutation(n)
    return X[order].tolist(), y[order].tolist()


def demo_step(
    value_cls: type, model: Any, X: list[list[float]], y: list[float], k: int
) -> tuple[float, float]:
    """One training step of micrograd's demo, its code as written there (full batch)."""
    inputs = [list(map(value_cls, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    # backward, then SGD with micrograd's decaying learning rate
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, sum(accuracy) / len(accuracy)


def median_time(step: Callable[[int], Any], repeats: int) -> float:
    """Median wall time of ``step(k)`` over ``repeats`` calls (after one warm-up call)."""
    step(0)
    times = []
    for k in range(1, repeats + 1):
        start = time.perf_counter()
        step(k)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def micrograd_twin(ours: scalar.MLP) -> Any:
    """micrograd's MLP with the same architecture and our model's initial weights, or None."""
    try:
        from micrograd.nn import MLP as MicroMLP
    except ImportError:
        return None
    twin = MicroMLP(2, [16, 16, 1])
    theirs_params = twin.parameters()
    assert len(theirs_params) == len(ours.parameters())
    for p, q in zip(theirs_params, ours.parameters()):  # same order: each neuron's w, then b
        p.data = q.data
    return twin


def bench_demo(repeats: int, steps_check: int) -> None:
    X, y = make_moons(100, noise=0.1, seed=1)
    tinygrad_edu.manual_seed(1337)
    ours = scalar.MLP(2, [16, 16, 1])
    twin = micrograd_twin(ours)

    print(f"micrograd demo step: MLP(2, [16, 16, 1]) ({len(ours.parameters())} parameters), 100 points")
    if twin is not None:
        from micrograd.engine import Value as MicroValue

        # Same data and weights: the first steps must agree to rounding (they are the same maths).
        for k in range(steps_check):
            loss_ours, acc_ours = demo_step(scalar.Value, ours, X, y, k)
            loss_theirs, acc_theirs = demo_step(MicroValue, twin, X, y, k)
            print(f"  step {k}: loss {loss_ours:.6f} (micrograd {loss_theirs:.6f}), accuracy {acc_ours:.2f}")
            assert abs(loss_ours - loss_theirs) <= 1e-9 * max(1.0, abs(loss_theirs)), "engines disagree"

    t_ours = median_time(lambda k: demo_step(scalar.Value, ours, X, y, k), repeats)
    print(f"  tinygrad_edu Value: {t_ours * 1e3:8.2f} ms per step (median of {repeats})")
    if twin is None:
        print("  micrograd is not installed: `.venv/bin/pip install micrograd` to compare")
        return
    t_theirs = median_time(lambda k: demo_step(MicroValue, twin, X, y, k), repeats)
    version = importlib.metadata.version("micrograd")
    print(f"  micrograd {version:<9}: {t_theirs * 1e3:8.2f} ms per step (median of {repeats})")
    print(f"  speed-up: {t_theirs / t_ours:.1f}x (target: at least 5x)")

    # micrograd's closures capture their own output, so every node is in a reference cycle and
    # Python's cycle collector keeps re-scanning the growing graph: much of the time above is that.
    # With the collector off for both, what remains is the engines' own work per step.
    gc.collect()
    gc.disable()
    try:
        t_ours_nogc = median_time(lambda k: demo_step(scalar.Value, ours, X, y, k), repeats)
        t_theirs_nogc = median_time(lambda k: demo_step(MicroValue, twin, X, y, k), repeats)
    finally:
        gc.enable()
    print(
        f"  with the cycle collector off for both: {t_ours_nogc * 1e3:.2f} ms vs "
        f"{t_theirs_nogc * 1e3:.2f} ms, "
        f"speed-up {t_theirs_nogc / t_ours_nogc:.1f}x"
    )


def bench_chain(n: int, repeats: int) -> None:
    """A chain of n ops, forward + backward (micrograd's recursive walk stops near depth 1,000)."""

    def run(_: int) -> None:
        y = scalar.Value(0.5)
        for i in range(n):
            y = y * 0.999999 if i % 2 == 0 else y + 1e-6
        y.backward()

    t = median_time(run, repeats)
    print(f"{n:,}-op chain (* and + with constants, alternating), forward + backward: {t * 1e3:.0f} ms")

    def run_tanh(_: int) -> None:
        y = scalar.Value(0.5)
        for _ in range(n):
            y = y.tanh()
        y.backward()

    t = median_time(run_tanh, repeats)
    print(f"{n:,} tanh in a chain, forward + backward: {t * 1e3:.0f} ms (target: under 1 s)")


def measure_demo(rounds: int, steps_check: int) -> dict[str, Any]:
    """Seconds per demo step of each engine, alternating, as medians and fastest; losses checked first."""
    X, y = make_moons(100, noise=0.1, seed=1)
    tinygrad_edu.manual_seed(1337)
    ours = scalar.MLP(2, [16, 16, 1])
    twin = micrograd_twin(ours)
    steps: dict[str, Callable[[int], Any]] = {"ours": lambda k: demo_step(scalar.Value, ours, X, y, k)}
    if twin is not None:
        from micrograd.engine import Value as MicroValue

        for k in range(steps_check):
            loss_ours, _ = demo_step(scalar.Value, ours, X, y, k)
            loss_theirs, _ = demo_step(MicroValue, twin, X, y, k)
            if abs(loss_ours - loss_theirs) > 1e-9 * max(1.0, abs(loss_theirs)):
                raise AssertionError(f"bench_scalar: losses differ at step {k}: {loss_ours} vs {loss_theirs}")
        steps["micrograd"] = lambda k: demo_step(MicroValue, twin, X, y, k)
    gc.collect()
    times: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            # The collection that frees this step's graph is charged to this step: otherwise one
            # engine's garbage (micrograd's nodes are all in reference cycles) is collected, and
            # paid for, during the other engine's step.
            start = time.perf_counter()
            steps[name](steps_check + r)
            gc.collect()
            times[name].append(time.perf_counter() - start)
    out: dict[str, Any] = {name: {"median": median(v), "fastest": min(v)} for name, v in times.items()}
    out["micrograd version"] = importlib.metadata.version("micrograd") if twin is not None else None
    out["rounds"] = rounds
    return out


def run(quick: bool = False) -> list[Result]:
    """W3 in a fresh process: the demo step on Value and on micrograd; about 15 s (5 s with ``quick``)."""
    rounds, checks = (2, 1) if quick else (7, 3)
    command = [sys.executable, "-m", "benchmarks.bench_scalar", "--measure", str(rounds), str(checks)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"bench_scalar: the measuring process failed:\n{out.stderr}")
    t = json.loads(out.stdout.strip().splitlines()[-1])
    ours = t["ours"]["median"]
    theirs = t["micrograd"]["median"] if "micrograd" in t else None
    speedup = None if theirs is None else theirs / ours
    return [
        Result(
            group="scalar",
            name="W3 micrograd demo step, Value"
            + ("" if speedup is None else f" (micrograd {theirs * 1e3:.0f} ms: {speedup:.1f}x)"),
            ours=ours,
            target=">= 5x faster than micrograd",
            passed=None if speedup is None else speedup >= TARGET_SPEEDUP,
            extra={
                "micrograd": theirs,
                "micrograd version": t["micrograd version"],
                "speed-up": speedup,
                "fastest": {k: v["fastest"] for k, v in t.items() if isinstance(v, dict)},
                "rounds": t["rounds"],
            },
        )
    ]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":  # the process that run() starts
        print(json.dumps(measure_demo(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--check-steps", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, {platform.platform()}")
    bench_demo(args.repeats, args.check_steps)
    bench_chain(100_000, max(3, args.repeats // 2))


if __name__ == "__main__":
    main()

"""Per-op overhead: one op's forward + backward on (2, 2) float64 arrays.

On arrays this small the arithmetic takes a fraction of a microsecond; the
rest is the framework's bookkeeping in Python: making the output Tensor,
recording the op, walking the graph, calling the backward, handing the
gradient to the leaves. That bookkeeping is what a small network pays on every
op, and what this benchmark measures:

    overhead = time of  z = op(x[, y]); z.backward(g)   minus   time of numpy's forward of op

with ``g`` an ndarray of ones shaped like ``z``, and ``x.grad`` (and ``y.grad``)
set back to None before every call, as ``zero_grad()`` does. The forward alone
is timed too; ``x`` requires grad, so that forward records the op. PyTorch
eager runs the same code on torch tensors when it is installed.

    python -m benchmarks --only ops
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import Result, interleaved_samples, median, torch_default_threads, torch_or_none  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

TARGET_OVERHEAD = 8e-6  # seconds: an elementwise op's forward + backward above numpy's forward


@dataclass
class Op:
    """One benchmarked op; ``ours`` also runs on torch tensors, ``numpy`` on ndarrays."""

    name: str
    arity: int
    elementwise: bool
    ours: Callable[..., Any]
    numpy: Callable[..., Any]


OPS = [
    Op("mul", 2, True, lambda x, y: x * y, lambda a, b: a * b),
    Op("add", 2, True, lambda x, y: x + y, lambda a, b: a + b),
    Op("tanh", 1, True, lambda x: x.tanh(), np.tanh),
    Op("relu", 1, True, lambda x: x.relu(), lambda a: np.maximum(a, 0.0)),
    Op("exp", 1, True, lambda x: x.exp(), np.exp),
    Op("matmul", 2, False, lambda x, y: x @ y, lambda a, b: a @ b),
    Op("sum", 1, False, lambda x: x.sum(), lambda a: a.sum()),
]


def _forward(op: Callable[..., Any], inputs: list[Any]) -> Callable[[], Any]:
    if len(inputs) == 1:
        (x,) = inputs
        return lambda: op(x)
    x, y = inputs
    return lambda: op(x, y)


def _forward_backward(op: Callable[..., Any], inputs: list[Any], g: Any) -> Callable[[], None]:
    """One training-step's worth of work for one op: reset grads, forward, backward."""
    if len(inputs) == 1:
        (x,) = inputs

        def step() -> None:
            x.grad = None
            op(x).backward(g)

    else:
        x, y = inputs

        def step() -> None:
            x.grad = None
            y.grad = None
            op(x, y).backward(g)

    return step


def _check(op: Op, ours: list[Tensor], arrays: list[np.ndarray]) -> None:
    """Make sure the timed code computes the right thing before timing it."""
    got = op.ours(*ours).data
    expected = op.numpy(*arrays)
    if not np.allclose(got, expected, rtol=1e-12, atol=0):
        raise AssertionError(f"bench_ops: {op.name} forward differs from numpy")


def bench_op(op: Op, rounds: int, min_time: float) -> list[Result]:
    """Time one op: ours, numpy and torch (1 thread and default threads), interleaved."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 2)) for _ in range(op.arity)]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    _check(op, ours, arrays)
    g = np.ones(np.shape(op.numpy(*arrays)))

    candidates: dict[str, Callable[[], Any]] = {
        "ours": _forward_backward(op.ours, ours, g),
        "ours fwd": _forward(op.ours, ours),
        "numpy": _forward(op.numpy, arrays),
    }
    prepare: dict[str, Callable[[], Any]] = {}
    torch = torch_or_none()
    default_threads: Optional[int] = torch_default_threads()
    if torch is not None:
        tt = [torch.tensor(a, requires_grad=True) for a in arrays]
        gt = torch.ones(g.shape, dtype=torch.float64)
        thread_counts = {"torch": 1}
        if default_threads and default_threads != 1:
            thread_counts["torch default"] = default_threads
        for label, n in thread_counts.items():
            candidates[label] = _forward_backward(op.ours, tt, gt)
            candidates[label + " fwd"] = _forward(op.ours, tt)
            prepare[label] = prepare[label + " fwd"] = _threads_setter(torch, n)

    samples = interleaved_samples(candidates, rounds, min_time, prepare)
    t = {name: median(values) for name, values in samples.items()}
    # The fastest round is kept too (in --json output): on a busy machine it is closer to
    # what the code costs when it has a core to itself; the table shows medians.
    best = {name: min(values) for name, values in samples.items()}
    if torch is not None:
        torch.set_num_threads(1)

    overhead = t["ours"] - t["numpy"]
    return [
        Result(
            group="ops",
            name=f"{op.name} fwd+bwd",
            ours=t["ours"],
            numpy=t["numpy"],
            torch=t.get("torch"),
            torch_default=t.get("torch default"),
            target="<= 8 µs over numpy" if op.elementwise else "",
            passed=(overhead <= TARGET_OVERHEAD) if op.elementwise else None,
            extra={"fastest round": _row(best, "")},
        ),
        Result(
            group="ops",
            name=f"{op.name} fwd",
            ours=t["ours fwd"],
            numpy=t["numpy"],
            torch=t.get("torch fwd"),
            torch_default=t.get("torch default fwd"),
            extra={"fastest round": _row(best, " fwd")},
        ),
    ]


def _row(times: dict[str, float], suffix: str) -> dict[str, float]:
    """numpy's time and each framework's time for one row (suffix "" or " fwd")."""
    row = {"numpy": times["numpy"]}
    row.update({k: times[k + suffix] for k in ("ours", "torch", "torch default") if k + suffix in times})
    return row


def _threads_setter(torch: Any, n: int) -> Callable[[], None]:
    return lambda: torch.set_num_threads(n)


def run(quick: bool = False) -> list[Result]:
    """Every op of ``OPS``; about 20 s (3 s with ``quick``)."""
    rounds, min_time = (5, 0.005) if quick else (15, 0.02)
    results: list[Result] = []
    for op in OPS:
        results += bench_op(op, rounds, min_time)
    return results


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--only", "ops", *sys.argv[1:]]))

"""A 100,000-op chain: ``z = z * 1.0001`` from one float64 scalar, then backward.

A graph this deep breaks a recursive backward (Python's recursion limit is
1,000) and shows what one recorded op costs when there are very many of them:
the forward allocates 100,000 Tensors and Functions, the backward sorts them
and calls 100,000 backward methods. The target is forward + backward in
under 1 s.

Compared with the same chain in numpy written by hand (the forward keeps each
factor, as the course's forward keeps its caches; the backward multiplies the
incoming gradient by them in reverse), in PyTorch eager, and on the scalar
``Value`` engine when ``tinygrad_edu.scalar`` exists. The result is checked:
d z / d x = 1.0001 ** 100000.

Each candidate runs in a Python process of its own, as a user's script would,
and the runs are interleaved (ours, numpy, torch, ..., then again). Why not
one process: building a 100,000-node graph makes Python's cycle collector
walk every live object several times, so the forward gets slower the more
objects the process holds. Importing torch alone adds about 150,000 of them,
and with everything in one process our forward was a good deal slower than
in a script of its own.

    python -m benchmarks --only chain
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(ROOT))

from benchmarks import Result, median, torch_default_threads, torch_or_none  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

N_OPS = 100_000
FACTOR = 1.0001
TARGET_SECONDS = 1.0

# A chain returns the seconds spent in its forward and in its backward.
Chain = Callable[[int], tuple[float, float]]


def _check(name: str, grad: float, n: int) -> None:
    expected = FACTOR**n
    if not np.isclose(grad, expected, rtol=1e-9, atol=0):
        raise AssertionError(f"bench_chain: {name} gives dz/dx = {grad}, expected {expected}")


def _time_chain(x: Any, n: int, name: str) -> tuple[float, float]:
    """Forward ``z = z * FACTOR`` n times from the leaf ``x``, then ``z.backward()``; seconds of each."""
    start = time.perf_counter()
    z = x
    for _ in range(n):
        z = z * FACTOR
    middle = time.perf_counter()
    z.backward()
    end = time.perf_counter()
    _check(name, float(x.grad.item() if hasattr(x.grad, "item") else x.grad), n)
    return middle - start, end - middle


def chain_ours(n: int) -> tuple[float, float]:
    return _time_chain(Tensor(np.array(1.0), requires_grad=True), n, "Tensor")


def chain_numpy(n: int) -> tuple[float, float]:
    """The chain rule by hand: forward saves each local derivative, backward multiplies them in."""
    x = np.array(1.0)
    start = time.perf_counter()
    z = x
    cache = []
    for _ in range(n):
        cache.append(FACTOR)  # d(z * c)/dz = c
        z = z * FACTOR
    middle = time.perf_counter()
    grad = np.array(1.0)
    for c in reversed(cache):
        grad = grad * c
    end = time.perf_counter()
    _check("numpy", float(grad), n)
    return middle - start, end - middle


def chain_torch(n: int) -> tuple[float, float]:
    """PyTorch eager, with whatever thread count the worker set."""
    import torch

    return _time_chain(torch.tensor(1.0, dtype=torch.float64, requires_grad=True), n, "torch")


def chain_value(n: int) -> tuple[float, float]:
    from tinygrad_edu.scalar import Value

    return _time_chain(Value(1.0), n, "Value")


def has_value_engine() -> bool:
    return importlib.util.find_spec("tinygrad_edu.scalar") is not None


CHAINS: dict[str, Chain] = {
    "ours": chain_ours,
    "numpy": chain_numpy,
    "torch": chain_torch,
    "value": chain_value,
}


def worker(name: str, threads: int) -> None:
    """Serve one candidate: read a chain length per line on stdin, answer [forward, backward] in JSON.

    One short untimed chain first: the first run pays for lazy imports and,
    in torch, for starting the autograd engine.
    """
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
    chain = CHAINS[name]
    chain(1000)
    for line in sys.stdin:
        gc.collect()  # the previous run's garbage is not charged to this one
        print(json.dumps(chain(int(line))), flush=True)


class _Worker:
    """A ``python -m benchmarks.bench_chain --worker NAME`` process, asked for one run at a time."""

    def __init__(self, name: str, threads: int = 1) -> None:
        self.name = name
        command = [
            sys.executable,
            "-m",
            "benchmarks.bench_chain",
            "--worker",
            name,
            "--threads",
            str(threads),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, n: int) -> tuple[float, float]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{n}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"bench_chain: the {self.name!r} worker stopped (see its error above)")
        forward, backward = json.loads(answer)
        return forward, backward

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def measure(workers: dict[str, _Worker], rounds: int, n: int) -> dict[str, tuple[float, float, float]]:
    """Median (forward, backward, forward + backward) seconds of each candidate, in interleaved rounds."""
    names = list(workers)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(workers[name].run(n))
    return {
        name: (
            median([f for f, _ in runs[name]]),
            median([b for _, b in runs[name]]),
            median([f + b for f, b in runs[name]]),
        )
        for name in names
    }


def run(quick: bool = False) -> list[Result]:
    """The chain on Tensor, numpy, torch and Value, interleaved; about 20 s (8 s with ``quick``)."""
    rounds = 2 if quick else 5
    workers = {"ours": _Worker("ours"), "numpy": _Worker("numpy")}
    if torch_or_none() is not None:
        workers["torch"] = _Worker("torch", threads=1)
        default_threads = torch_default_threads()
        if default_threads and default_threads != 1:
            workers["torch default"] = _Worker("torch", threads=default_threads)
    if has_value_engine():
        workers["value"] = _Worker("value")
    try:
        t = measure(workers, rounds, N_OPS)
    finally:
        for w in workers.values():
            w.close()

    results = []
    label = f"Tensor chain {N_OPS // 1000}k"
    for part, i in (("fwd+bwd", 2), ("fwd", 0), ("bwd", 1)):
        total = part == "fwd+bwd"
        results.append(
            Result(
                group="chain",
                name=f"{label} {part}",
                ours=t["ours"][i],
                numpy=t["numpy"][i],
                torch=t["torch"][i] if "torch" in t else None,
                torch_default=t["torch default"][i] if "torch default" in t else None,
                target="< 1 s" if total else "",
                passed=(t["ours"][i] < TARGET_SECONDS) if total else None,
            )
        )
    if "value" in t:
        label = f"Value chain {N_OPS // 1000}k"
        for part, i in (("fwd+bwd", 2), ("fwd", 0), ("bwd", 1)):
            results.append(Result(group="chain", name=f"{label} {part}", ours=t["value"][i]))
    return results


if __name__ == "__main__":
    if "--worker" in sys.argv:
        parser = argparse.ArgumentParser(description="one candidate of the chain benchmark (internal)")
        parser.add_argument("--worker", choices=list(CHAINS), required=True)
        parser.add_argument("--threads", type=int, default=1)
        args = parser.parse_args()
        worker(args.worker, args.threads)
    else:
        from benchmarks.run import main

        sys.exit(main(["--only", "chain", *sys.argv[1:]]))

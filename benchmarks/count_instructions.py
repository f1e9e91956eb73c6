"""Instructions per call, counted by valgrind's callgrind, for this checkout and another.

    python -m benchmarks.count_instructions [OLD_CHECKOUT] [--calls 300] [--only CASE ...]

Times move with the machine (on a 2-core machine a run of the same code can differ by 15 %);
the number of instructions a call executes does not. Each case runs twice under callgrind in a
process of its own, with ``calls`` calls and with none, and the difference divided by ``calls``
is what one call costs, the import and set-up cancelled out. It counts Python's work, not time:
a cache miss or a BLAS thread costs nothing here, so the timed benchmarks stay the reference,
and this is the magnifying glass for the per-op overhead. Needs ``valgrind`` on PATH.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve()
NEW = HERE.parent.parent
OPS = ("mul", "add", "tanh", "relu", "exp", "matmul", "sum")
CASES = (*[f"{op} fwd+bwd" for op in OPS], "mul fwd", "W1 step")


def _case(name: str) -> Callable[[], Any]:
    """The call that ``name`` counts, made from the checkout on the path (the old one's API too)."""
    import numpy as np

    import tinygrad_edu as tg
    from tinygrad_edu import Tensor, nn

    x = Tensor(np.random.rand(2, 2), requires_grad=True)
    y = Tensor(np.random.rand(2, 2), requires_grad=True)
    ops = {
        "mul": lambda: x * y, "add": lambda: x + y, "tanh": lambda: x.tanh(), "relu": lambda: x.relu(),
        "exp": lambda: x.exp(), "matmul": lambda: x @ y, "sum": lambda: x.sum(),
    }
    op = name.split()[0]
    if name == "mul fwd":
        return ops["mul"]
    if name == "W1 step":
        return _w1_step(np, tg, Tensor, nn)
    g = np.ones(()) if op == "sum" else np.ones((2, 2))

    def fwd_bwd() -> None:
        x.grad = y.grad = None
        ops[op]().backward(g)

    return fwd_bwd


def _w1_step(np: Any, tg: Any, Tensor: Any, nn: Any) -> Callable[[], None]:
    """One W1 step: the moons 2-5-2-1 network as a user writes it, BCEWithLogitsLoss, Adam."""
    tg.manual_seed(0)
    tg.set_default_dtype(np.float64)
    X, labels = tg.data.make_moons(300, noise=0.2, seed=3)
    xb, yb = X[:64], labels[:64].reshape(-1, 1).astype(np.float64)
    model = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 2), nn.ReLU(), nn.Linear(2, 1))
    loss_fn, opt = nn.BCEWithLogitsLoss(), tg.optim.Adam(model.parameters(), lr=0.0007)

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(Tensor(xb)), yb).backward()
        opt.step()

    return step


def _run_case(name: str, calls: int) -> None:
    """Warm up, then make ``calls`` calls: what runs under callgrind.

    The cycle collector is off while the calls are counted: where its runs fall depends on
    everything allocated before, so a change of one object per op moved W1's count by 14,000
    instructions, and a full collection falling in one of the two counted runs once added a
    third of a million per call to the (2, 2) relu. What the collector costs shows in the
    timed benchmarks (the 100,000-op chain above all).
    """
    call = _case(name)
    for _ in range(50):
        call()
    gc.collect()
    gc.disable()
    for _ in range(calls):
        call()


def count(checkout: Path, name: str, calls: int) -> int:
    """Instructions of one call of case ``name`` with ``checkout``'s tinygrad_edu."""
    from benchmarks import import_path  # here: this file also runs with an older checkout's benchmarks

    env = dict(os.environ, PYTHONPATH=import_path(checkout), PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1")
    totals = []
    for n in (0, calls):
        command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                   sys.executable, str(HERE), "--case", name, "--calls", str(n)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise RuntimeError(f"callgrind printed no count for {name!r}:\n{done.stderr[-2000:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) // calls


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.count_instructions", description=__doc__)
    parser.add_argument("old", type=Path, nargs="?", help="another checkout to count as well")
    parser.add_argument("--calls", type=int, default=300, help="calls counted per case (300)")
    parser.add_argument("--only", action="append", default=[], metavar="CASE", help=f"one of {CASES}")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child process: run one case
    args = parser.parse_args(argv)
    if args.case:
        _run_case(args.case, args.calls)
        return 0
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not on PATH (Debian: apt-get install valgrind)")
    cases = args.only or list(CASES)
    checkouts = [("old", args.old.resolve())] if args.old else []
    checkouts.append(("new", NEW))
    header = f"{'case':16}" + "".join(f"{label:>12}" for label, _ in checkouts)
    print(header + ("  change" if args.old else ""))
    for name in cases:
        counts = [count(checkout, name, args.calls) for _, checkout in checkouts]
        change = f"  {100 * (counts[-1] / counts[0] - 1):+6.1f}%" if args.old else ""
        print(f"{name:16}" + "".join(f"{c:12,}" for c in counts) + change, flush=True)
    print("\ninstructions per call (callgrind), the difference of", args.calls, "calls and none")
    return 0


if __name__ == "__main__":
    sys.exit(main())

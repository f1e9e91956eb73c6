"""Memory over a long run: resident set size (RSS) over 10,000 W1 steps after a warm-up (W5).

A training loop must not keep anything from one step to the next: the
graph of a step, its gradients and temporaries have to be freed when the step
ends, or memory grows with every step until the machine swaps. This runs the
W1 step of ``bench_train`` (the seeds' moons network, Adam, float64) 1,000
times to warm up (lazy imports, numpy's and the optimizer's first
allocations), reads the process's RSS, runs 10,000 more steps reading it every
1,000, and reports the growth and the peak:

    growth = RSS after the 10,000 steps - RSS after the warm-up
    peak   = the largest RSS the process ever had (VmHWM)

read from ``/proc/self/status`` (``resource.getrusage`` gives the peak
elsewhere). Each implementation runs in a fresh Python process of its own,
so that no other benchmark's allocations count: ours and the course's
hand-written numpy always, PyTorch (1 thread) when installed and not
``--quick``. The garbage collector stays on, as in a user's program.

    python -m benchmarks --only memory
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(ROOT))

from benchmarks import Result, torch_or_none  # noqa: E402

STEPS = 10_000
WARM_UP = 1_000
EVERY = 1_000
TARGET_GROWTH = 1 << 20  # bytes: 1 MB


def rss_bytes() -> tuple[Optional[int], int]:
    """(current RSS, peak RSS) of this process in bytes; current is None where /proc is missing."""
    current = peak = None
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    current = int(line.split()[1]) * 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) * 1024
    except OSError:
        pass
    if peak is None:  # ru_maxrss is in kB on Linux (bytes on macOS; this is only the fallback)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return current, peak


def worker(name: str, steps: int) -> dict[str, Any]:
    """Run in the measuring process: warm up, then ``steps`` W1 steps, reading the RSS on the way."""
    from benchmarks import bench_train as bt

    batches, parameters = bt.w1_batches(), bt.initialize_parameters(bt.W1_LAYERS)
    if name == "ours":
        step = bt.w1_ours(batches, parameters)
    elif name == "numpy":
        step = bt.w1_course(batches, parameters)
    else:
        import torch

        torch.set_num_threads(1)
        step = bt.w1_torch(torch, batches, parameters)
    for _ in range(WARM_UP):
        step()
    start_rss, _ = rss_bytes()
    trace = []
    start = time.perf_counter()
    for i in range(1, steps + 1):
        step()
        if i % EVERY == 0:
            trace.append(rss_bytes()[0])
    seconds = time.perf_counter() - start
    end_rss, peak = rss_bytes()
    return {"start": start_rss, "end": end_rss, "peak": peak, "trace": trace, "seconds": seconds}


def measure(name: str, steps: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.bench_memory", "--worker", name, str(steps)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"bench_memory: the {name!r} process failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(n: Optional[float]) -> str:
    return "?" if n is None else f"{n / 2**20:.2f} MB"


def run(quick: bool = False) -> list[Result]:
    """W5: about 10 s with PyTorch (4 s with ``quick``, which leaves PyTorch out)."""
    names = ["ours", "numpy"]
    if not quick and torch_or_none() is not None:
        names.append("torch")
    m = {name: measure(name, STEPS) for name in names}
    growth = {name: (None if r["start"] is None else r["end"] - r["start"]) for name, r in m.items()}
    ours = growth["ours"]
    seconds = {name: r["seconds"] / STEPS for name, r in m.items()}
    return [
        Result(
            group="memory",
            name=f"W5 {STEPS // 1000}k W1 steps: RSS growth {_mb(ours)}, peak {_mb(m['ours']['peak'])}",
            ours=seconds["ours"],
            numpy=seconds["numpy"],
            torch=seconds.get("torch"),
            target="growth < 1 MB",
            passed=None if ours is None else ours < TARGET_GROWTH,
            extra={
                "what": "time column: seconds per step during the 10,000 steps, in a fresh process",
                "growth (bytes)": growth,
                "peak RSS (bytes)": {name: r["peak"] for name, r in m.items()},
                "RSS after warm-up (bytes)": {name: r["start"] for name, r in m.items()},
                "RSS every 1,000 steps (bytes)": {name: r["trace"] for name, r in m.items()},
            },
        )
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]))))
    else:
        from benchmarks.run import main

        sys.exit(main(["--only", "memory", *sys.argv[1:]]))

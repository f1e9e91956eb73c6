"""The main job end to end: ``tinygrad-edu compare`` with its defaults, wall time (W6).

``tinygrad-edu compare`` trains the course's [2, 5, 2, 1] network on the
moons data with gd, momentum and Adam, 10,000 epochs each (150,000 optimizer
steps in all), prints a table and writes the cost curves and decision
boundaries as PNG and SVG. It is timed as a user runs it: a fresh process
started from the shell, in an empty folder (the pictures go there), from
start to exit, imports and pictures included.

By default ``compare`` trains each optimizer in a process of its own (3
processes, sharing the 2 CPUs of the machine in docs/performance.md); ``--jobs
1`` trains them one after the other in one process. Both are timed, alternating.

With ``--quick`` each run has ``--epochs 1000`` and the time for the default
10,000 is estimated: the training time that ``compare`` prints ("total
X s") times 10, plus the rest of the wall time (start-up, pictures).

    python -m benchmarks --only compare
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(ROOT))

from benchmarks import Result, median  # noqa: E402

TARGET_SECONDS = 25.0
DEFAULT_EPOCHS = 10_000
QUICK_EPOCHS = 1_000


def command() -> list[str]:
    """The installed ``tinygrad-edu`` script next to this Python, or ``python -m tinygrad_edu``."""
    script = Path(sys.executable).parent / "tinygrad-edu"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tinygrad_edu"]


def time_compare(options: list[str], epochs: Optional[int]) -> dict[str, Any]:
    """One run of ``compare`` in an empty folder: wall seconds, the training time it printed, its table."""
    args = [*command(), "compare", *options] + ([] if epochs is None else ["--epochs", str(epochs)])
    with tempfile.TemporaryDirectory(prefix="tinygrad_edu_compare_") as folder:
        start = time.perf_counter()
        out = subprocess.run(args, cwd=folder, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        pictures = sorted(p.name for p in Path(folder).rglob("*.png"))
    if out.returncode != 0:
        raise RuntimeError(f"bench_compare: {' '.join(args)} failed:\n{out.stderr}")
    found = re.search(r"total ([0-9.]+) s", out.stdout)
    return {
        "wall": wall,
        "training": float(found.group(1)) if found else None,
        "pictures": pictures,
        "stdout": out.stdout,
    }


def estimate_default(run: dict[str, Any], scale: int) -> float:
    """Wall time for ``scale`` times the epochs: the training part scales, start-up and pictures do not."""
    if run["training"] is None:
        return run["wall"] * scale
    return run["wall"] + (scale - 1) * run["training"]


def run(quick: bool = False) -> list[Result]:
    """W6: about 60 s (10 s with ``quick``)."""
    epochs = QUICK_EPOCHS if quick else None
    rounds = 1 if quick else 2
    variants = {"default jobs": [], "--jobs 1": ["--jobs", "1"]}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % 2 :] + names[: r % 2]:
            runs[name].append(time_compare(variants[name], epochs))

    results = []
    for name, measured in runs.items():
        if quick:
            seconds = [estimate_default(m, DEFAULT_EPOCHS // QUICK_EPOCHS) for m in measured]
            label = f"W6 compare, {name} (est. from --epochs {QUICK_EPOCHS})"
        else:
            seconds = [m["wall"] for m in measured]
            label = f"W6 compare, {name}"
        processes = re.search(r"in (\d+) processes", measured[0]["stdout"])
        results.append(
            Result(
                group="compare",
                name=label,
                ours=median(seconds),
                target="< 25 s",
                passed=median(seconds) < TARGET_SECONDS,
                extra={
                    "processes": int(processes.group(1)) if processes else 1,
                    "wall seconds of each run": [m["wall"] for m in measured],
                    "training seconds printed by compare": [m["training"] for m in measured],
                    "pictures written": measured[0]["pictures"],
                    "table": measured[0]["stdout"].split("\n\n")[-2:],
                },
            )
        )
    return results


if __name__ == "__main__":
    from benchmarks.run import main

    sys.exit(main(["--only", "compare", *sys.argv[1:]]))

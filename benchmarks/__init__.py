"""Benchmarks of tinygrad_edu against numpy and, when it is importable, PyTorch.

These are measurements, not tests: nothing here fails a build. Run them all with

    python -m benchmarks            (or: python benchmarks/run.py)
    python -m benchmarks --quick    (fewer repeats, for a first look)
    python -m benchmarks --only ops

A group is a module ``bench_NAME.py``. One that exposes ``run(quick: bool =
False) -> list[Result]`` adds rows to the table that ``run.py`` prints with
the machine it ran on; one without ``run`` is run as a separate process and
prints its own report. This file holds what the groups share: the ``Result``
row, the interleaved timer, and lazy access to PyTorch (never a dependency
of the library). How to read the results: ``docs/performance.md``.

How timing is done, and why:

* Each candidate is first called untimed for a while (warm-up: first calls
  pay for lazy imports, caches, torch's autograd engine start-up).
* ``time.perf_counter`` around a loop of ``number`` calls, so one clock read
  is spread over many calls; ``number`` is chosen per candidate so that one
  sample lasts at least ``min_time`` seconds. Each call also pays for one
  Python function call (about 0.05 µs); it is the same for every candidate.
* Every candidate (ours, numpy, torch) is timed once per round, and the rounds
  are repeated: on a shared machine, a burst of load then hits all candidates
  alike instead of one of them. The starting candidate rotates every round.
* The reported figure is the median over rounds: a single slow round (another
  process, a garbage collection) does not move it.
* The garbage collector stays on, as in a user's program.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

__all__ = [
    "Result",
    "disable_torch",
    "interleaved",
    "interleaved_samples",
    "median",
    "torch_default_threads",
    "torch_or_none",
]


@dataclass
class Result:
    """One row of the results table. Times are in seconds (per call, or per run for a chain).

    ``numpy`` is what the same work costs in numpy written by hand (for one op:
    numpy's forward only). ``torch`` is PyTorch eager with 1 thread,
    ``torch_default`` with its default thread count. ``passed`` is None when
    the row has no target.
    """

    group: str
    name: str
    ours: float
    numpy: Optional[float] = None
    torch: Optional[float] = None
    torch_default: Optional[float] = None
    target: str = ""
    passed: Optional[bool] = None
    extra: dict[str, Any] = field(default_factory=dict)



def import_path(checkout: Path) -> str:
    """PYTHONPATH for running ``checkout``'s own tinygrad_edu and benchmarks: its ``src/`` (where the
    package lives), then the checkout itself; an older checkout kept the package at the top."""
    src = checkout / "src"
    return os.pathsep.join([str(src), str(checkout)]) if (src / "tinygrad_edu").is_dir() else str(checkout)

def median(values: list[float]) -> float:
    return statistics.median(values)


def _seconds_per_call(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def _warm_up(fn: Callable[[], Any], seconds: float) -> None:
    """Call ``fn`` untimed for a while: first calls pay for imports, caches, thread pools."""
    calls = 0
    end = time.perf_counter() + seconds
    while calls < 10 or time.perf_counter() < end:
        fn()
        calls += 1


def _calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """The smallest power-of-two number of calls that takes at least ``min_time``."""
    number = 1
    while True:
        if _seconds_per_call(fn, number) * number >= min_time or number >= 1 << 24:
            return number
        number *= 2


def interleaved_samples(
    candidates: dict[str, Callable[[], Any]],
    rounds: int,
    min_time: float,
    prepare: Optional[dict[str, Callable[[], Any]]] = None,
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, one sample per round, the rounds interleaved.

    ``prepare[name]``, when given, runs (untimed) before each of that
    candidate's samples: PyTorch's thread count is set there, for instance.
    """
    prepare = prepare or {}
    names = list(candidates)
    numbers = {}
    for name in names:
        prepare.get(name, _nothing)()
        _warm_up(candidates[name], min_time)
        numbers[name] = _calibrate(candidates[name], min_time)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            prepare.get(name, _nothing)()
            _warm_up(candidates[name], 0)  # a few calls, after the other candidates ran
            samples[name].append(_seconds_per_call(candidates[name], numbers[name]))
    return samples


def interleaved(
    candidates: dict[str, Callable[[], Any]],
    rounds: int,
    min_time: float,
    prepare: Optional[dict[str, Callable[[], Any]]] = None,
) -> dict[str, float]:
    """Median seconds per call of each candidate (see ``interleaved_samples``)."""
    samples = interleaved_samples(candidates, rounds, min_time, prepare)
    return {name: median(values) for name, values in samples.items()}


def _nothing() -> None:
    pass


# --- PyTorch, when it is installed -------------------------------------------------

_torch: Any = None
_torch_tried = False
_torch_disabled = False
_torch_default_threads: Optional[int] = None


def disable_torch() -> None:
    """Measure without PyTorch even when it is installed (``--no-torch``)."""
    global _torch_disabled
    _torch_disabled = True


def torch_or_none() -> Any:
    """The ``torch`` module, or None when it is not installed or was disabled.

    Imported on first use only: ``import torch`` takes a second or two, and the
    library itself never needs it. Its default thread count is remembered
    before any benchmark changes it.
    """
    global _torch, _torch_tried, _torch_default_threads
    if _torch_disabled:
        return None
    if not _torch_tried:
        _torch_tried = True
        try:
            import torch
        except ImportError:
            return None
        _torch = torch
        _torch_default_threads = torch.get_num_threads()
    return _torch


def torch_default_threads() -> Optional[int]:
    """PyTorch's thread count before the benchmarks touched it (None without PyTorch)."""
    return _torch_default_threads if torch_or_none() is not None else None

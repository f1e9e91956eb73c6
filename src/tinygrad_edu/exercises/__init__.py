"""Exercises that check themselves: write a backward, an optimizer, a gradient check; find a planted bug.

    tinygrad-edu exercise list                       # the exercises
    tinygrad-edu exercise start backward_mul         # exercises/backward_mul.py, the task and a stub
    tinygrad-edu exercise check backward_mul         # run the checks: where, by how much, which mistake
    tinygrad-edu exercise solution backward_mul DIR  # the reference, for teachers
    tinygrad-edu exercise grade class/ --csv grades.csv

From Python (a notebook shows the report as a table)::

    from tinygrad_edu import exercises
    exercises.check("backward_mul", "exercises/backward_mul.py")   # a file: in a subprocess, time-limited
    exercises.check("backward_mul", Mul)                          # a class defined in the notebook

Each exercise is one module of this package with its task, reference solution
and checks (see ``_kit`` for the layout and docs/exercises.md for adding one).
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any, Union

from tinygrad_edu.exercises._kit import (
    DEFAULT_TIMEOUT,
    CheckResult,
    Exercise,
    Report,
    get,
    grade,
    registry,
    rows_to_csv,
)
from tinygrad_edu.exercises._kit import check as _check
from tinygrad_edu.exercises._kit import write as _write

__all__ = [
    "CheckResult",
    "Exercise",
    "Report",
    "check",
    "get",
    "grade",
    "list",
    "rows_to_csv",
    "solution",
    "start",
]


def list() -> builtins.list[Exercise]:  # noqa: A001 (the documented name)
    """Every exercise, in course order; each has ``.id``, ``.title``, ``.seed`` and ``.kind``."""
    return [*registry().values()]


def check(exercise_id: str, path_or_object: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Check a student's answer: a file's path (default ``exercises/ID.py``), loaded on its own in a
    subprocess limited to ``timeout`` seconds, or a module, class, function or dict of them.

    Returns a ``Report``: ``.passed`` (every check), ``.score`` (partial credit
    in [0, 1]), ``.lines`` (the feedback); ``print(report)`` shows it.
    """
    return _check(exercise_id, path_or_object, timeout)


def start(exercise_id: str, folder: Union[str, Path] = "exercises", overwrite: bool = False) -> Path:
    """Write the skeleton ``folder/ID.py`` (the task, its formula, ``raise NotImplementedError``).

    A file already there is kept (a FileExistsError), unless ``overwrite``."""
    return _write(exercise_id, folder, solution=False, overwrite=overwrite)


def solution(exercise_id: str, folder: Union[str, Path] = "exercises", overwrite: bool = False) -> Path:
    """Write the reference solution ``folder/ID.py`` (for teachers); a file already there is kept
    (a FileExistsError), unless ``overwrite``."""
    return _write(exercise_id, folder, solution=True, overwrite=overwrite)

"""The machinery of the exercises: what an exercise is, running its checks, the report, grading a class.

An exercise is one module of this package with

    ID, TITLE, SEED       its name, a one-line title, where in the seeds or the course it comes from
    ENTRIES               the names the checks take from the student's file ("Mul", "update_lr", ...)
    SOLUTION              the reference file, as text; the task and its formula in its docstring, the
                          student's part between "### BEGIN SOLUTION" and "### END SOLUTION"
    BUG (optional)        (correct, wrong, words): a find-the-bug exercise hands out SOLUTION
                          with the one mistake planted instead of a stub; its feedback must
                          contain ``words``
    MISTAKE               (with BUG) what the planted mistake is, in words, for the teacher; the
                          id, TITLE and the docstring of SOLUTION name what is buggy, never the bug
    CHECKS                a list of (name, points, function): function(answer) returns the feedback
                          lines of what is wrong ([] when the check passes); answer.Name gives
                          the student's objects
    MISTAKES              (old, new, words) edits of SOLUTION that a test plants; the check's
                          feedback must then contain ``words``

The skeleton is SOLUTION with each solution block replaced by
``raise NotImplementedError``. The checks compare with values computed
independently in the check (numpy formulas, finite differences, the course's
printed numbers), never with SOLUTION, which is only text: a student's file is
loaded on its own, in a subprocess with a time limit.
"""

from __future__ import annotations

import csv
import html
import importlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np

from tinygrad_edu import _files
from tinygrad_edu.exercises._checks import how_to_check

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("not written yet: your code goes here")'
DEFAULT_TIMEOUT = 60.0
NOT_WRITTEN = "not written yet"

# The exercise modules, in the order ``list()`` shows them.
EXERCISE_MODULES = (
    "chain_rule",
    "backward_mul",
    "backward_div",
    "backward_exp",
    "backward_log",
    "backward_tanh",
    "backward_sigmoid",
    "backward_relu",
    "broadcast_add",
    "backward_sum",
    "backward_matmul",
    "softmax_cross_entropy",
    "linear_layer",
    "inverted_dropout",
    "momentum",
    "rmsprop",
    "adam",
    "mini_batches",
    "lr_decay",
    "gradient_check_n",
    "bug_value_engine",
    "bug_bias_add",
    "bug_linear",
    "bug_sigmoid",
    "bug_div",
    "bug_adam",
    "bug_network",
)

# Old ids, still accepted wherever an id is (and files named by them), not listed: the
# find-the-bug exercises were once named by their bug.
ALIASES = {
    "bug_accumulate": "bug_value_engine",
    "bug_broadcast": "bug_bias_add",
    "bug_transposed": "bug_linear",
    "bug_upstream": "bug_sigmoid",
    "bug_sign": "bug_div",
    "bug_adam_step": "bug_adam",
}


@dataclass
class Exercise:
    """One exercise: its text (skeleton, solution) and its checks."""

    id: str
    title: str
    seed: str
    entries: tuple[str, ...]
    solution: str
    checks: list[tuple[str, float, Callable[[Any], list[str]]]]
    bug: Optional[tuple[str, str, str]] = None
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)
    mistake: Optional[str] = None  # a find-the-bug exercise's planted mistake, in words (for teachers)

    @property
    def kind(self) -> str:
        """ "write" (a stub to fill in) or "find the bug" (working code with one planted mistake)."""
        return "find the bug" if self.bug else "write"

    @property
    def skeleton(self) -> str:
        """What the student starts from: the stubbed solution, or the solution with its bug planted."""
        if self.bug:
            correct, wrong, _ = self.bug
            return plant(strip_markers(self.solution), correct, wrong)
        return stub_out(self.solution)

    @property
    def reference(self) -> str:
        """The reference solution, as a file's text (the markers removed)."""
        return strip_markers(self.solution)

    def __repr__(self) -> str:
        return f"Exercise({self.id!r}, {self.title!r})"


def plant(source: str, old: str, new: str) -> str:
    """``source`` with the last occurrence of ``old`` (the code, not the docstring above it) made ``new``."""
    if old not in source:
        raise ValueError(f"plant: {old!r} is not in the source")
    head, _, tail = source.rpartition(old)
    return head + new + tail


def stub_out(source: str) -> str:
    """Each BEGIN/END SOLUTION block replaced by ``raise NotImplementedError`` at its indentation."""
    pattern = re.compile(
        rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*\n", re.M | re.S
    )
    return pattern.sub(lambda m: f"{m.group(1)}{STUB}\n", source)


def strip_markers(source: str) -> str:
    return "".join(line for line in source.splitlines(keepends=True) if line.strip() not in (BEGIN, END))


def _load(name: str) -> Exercise:
    module = importlib.import_module(f"tinygrad_edu.exercises.{name}")
    return Exercise(
        id=module.ID,
        title=module.TITLE,
        seed=module.SEED,
        entries=tuple(module.ENTRIES),
        solution=module.SOLUTION,
        checks=list(module.CHECKS),
        bug=getattr(module, "BUG", None),
        mistakes=list(getattr(module, "MISTAKES", [module.BUG] if hasattr(module, "BUG") else [])),
        mistake=getattr(module, "MISTAKE", None),
    )


_REGISTRY: dict[str, Exercise] = {}


def registry() -> dict[str, Exercise]:
    """Every exercise by id, loaded once."""
    return {name: get(name) for name in EXERCISE_MODULES}


def get(exercise_id: str) -> Exercise:
    """The exercise called ``exercise_id`` (or an id it had before), or a KeyError listing the ids."""
    exercise_id = ALIASES.get(exercise_id, exercise_id)
    if exercise_id not in EXERCISE_MODULES:  # an exercise's id is its module's name
        stem = os.path.splitext(os.path.basename(str(exercise_id)))[0]
        hint = ""
        if stem != exercise_id and ALIASES.get(stem, stem) in EXERCISE_MODULES:  # a path given as the id
            hint = f"; {exercise_id!r} looks like a file: the id comes first, check {stem} {exercise_id}"
        raise KeyError(
            f"exercises: no exercise {exercise_id!r}; the exercises are {', '.join(EXERCISE_MODULES)}{hint}"
        )
    if exercise_id not in _REGISTRY:
        _REGISTRY[exercise_id] = _load(exercise_id)
    return _REGISTRY[exercise_id]


# --- the report ---------------------------------------------------------------------------


@dataclass
class CheckResult:
    """One check: its name, the points it is worth, whether it passed, and its feedback lines."""

    name: str
    points: float
    passed: bool
    lines: list[str] = field(default_factory=list)


@dataclass
class Report:
    """The result of ``check``: ``passed``, ``score`` in [0, 1], one feedback line per check and problem."""

    exercise: str
    title: str
    checks: list[CheckResult]
    error: Optional[str] = None  # the file did not load, crashed or ran out of time

    @property
    def passed(self) -> bool:
        """True when every check passed (and the file loaded and finished in time)."""
        return self.error is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def score(self) -> float:
        """Partial credit: the points of the checks that passed over all points (0 on an error)."""
        total = sum(c.points for c in self.checks)
        if self.error is not None or total == 0:
            return 0.0
        return sum(c.points for c in self.checks if c.passed) / total

    @property
    def status(self) -> str:
        """ "passed", "failed", "not written yet", or the error's first words."""
        if self.passed:
            return "passed"
        if self.error is not None:
            return self.error.split(":")[0]
        if (
            self.checks
            and all(NOT_WRITTEN in " ".join(c.lines) for c in self.checks if not c.passed)
            and (self.score == 0)
        ):
            return NOT_WRITTEN
        return "failed"

    @property
    def lines(self) -> list[str]:
        """The feedback: a PASS/FAIL line per check, each followed by what is wrong."""
        out = [] if self.error is None else [self.error]
        for c in self.checks:
            out.append(f"{'PASS' if c.passed else 'FAIL'}  {c.name}")
            out += [f"      {line}" for line in c.lines]
        return out

    def summary(self) -> str:
        """One line: the exercise, its status, how many checks passed, the score."""
        n_passed = sum(c.passed for c in self.checks)
        return (
            f"{self.exercise} ({self.title}): {self.status}, {n_passed} of {len(self.checks)} checks "
            f"passed, score {self.score:.2f}"
        )

    def __str__(self) -> str:
        return "\n".join([self.summary(), *self.lines])

    def __repr__(self) -> str:
        return f"Report({self.exercise!r}, passed={self.passed}, score={self.score:.2f})"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#b42318"
        rows = []
        for c in self.checks:
            mark = "&#10004;" if c.passed else "&#10008;"
            detail = "<br>".join(html.escape(line) for line in c.lines)
            rows.append(
                f"<tr><td style='color:{'#1a7f37' if c.passed else '#b42318'}'>{mark}</td>"
                f"<td>{html.escape(c.name)}</td><td style='font-family:monospace'>{detail}</td></tr>"
            )
        error = "" if self.error is None else f"<p style='color:#b42318'>{html.escape(self.error)}</p>"
        return (
            f"<div><p style='color:{colour}'><b>{html.escape(self.summary())}</b></p>{error}"
            f"<table>{''.join(rows)}</table></div>"
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON)."""
        return {
            "exercise": self.exercise,
            "title": self.title,
            "error": self.error,
            "checks": [vars(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Report":
        """The report that ``to_dict`` gave."""
        return cls(d["exercise"], d["title"], [CheckResult(**c) for c in d["checks"]], d.get("error"))


# --- running the checks ------------------------------------------------------------------


def run_checks(exercise: Exercise, answer: Any) -> Report:
    """Every check of ``exercise`` on ``answer`` (an object with the exercise's entries), in this process."""
    results = []
    for name, points, check in exercise.checks:
        try:
            with np.errstate(all="ignore"):  # a NaN or Inf shows in the feedback, not as a warning
                problems = list(check(answer))
        except NotImplementedError:
            problems = [f"{NOT_WRITTEN}: the code still raises NotImplementedError"]
        except Exception as exc:  # the student's code failed: say how, and where in their file
            problems = [f"raised {type(exc).__name__}: {exc}{_where(exc)}"]
        results.append(CheckResult(name, float(points), not problems, problems))
    return Report(exercise.id, exercise.title, results)


def _where(exc: BaseException) -> str:
    """' (line N of your file: <code>)': the line a SyntaxError names, else the innermost frame
    outside this package and Python's import machinery ("<frozen importlib._bootstrap>"), if any,
    in the error or in the one it was raised from (a check explaining numpy's error)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" (line {exc.lineno} of {os.path.basename(exc.filename)}: {(exc.text or '').strip()})"
    frames = [
        f
        for e in (exc, exc.__cause__)
        if e is not None
        for f in traceback.extract_tb(e.__traceback__)
        if "tinygrad_edu" not in f.filename and not f.filename.startswith("<frozen")
    ]
    if not frames:
        return ""
    f = frames[-1]
    return f" (line {f.lineno} of {os.path.basename(f.filename)}: {(f.line or '').strip()})"


def answer_from(exercise: Exercise, obj: Any) -> Any:
    """The student's objects as attributes: a module or namespace as is, a dict, or the one entry itself."""
    if isinstance(obj, dict):
        return SimpleNamespace(**obj)
    if isinstance(obj, (ModuleType, SimpleNamespace)):
        return obj
    if len(exercise.entries) == 1:
        return SimpleNamespace(**{exercise.entries[0]: obj})
    if all(hasattr(obj, name) for name in exercise.entries):
        return obj
    raise TypeError(
        f"exercises.check({exercise.id!r}, ...): got a {type(obj).__name__}; this exercise needs "
        f"{', '.join(exercise.entries)}: pass the path of your file, a module, or a dict of them"
    )


def missing_entries(exercise: Exercise, answer: Any) -> list[str]:
    """The exercise's entries that ``answer`` lacks."""
    return [name for name in exercise.entries if not hasattr(answer, name)]


def not_a_class(exercise: Exercise, answer: Any) -> Optional[str]:
    """What is wrong when an entry that the exercise defines as a class (``class Tanh`` in its
    reference) is something else, such as an instance, Tanh() for Tanh; else None."""
    for name in exercise.entries:
        obj = getattr(answer, name)
        if isinstance(obj, type) or not re.search(rf"^class {re.escape(name)}\b", exercise.solution, re.M):
            continue
        if type(obj).__name__ == name:
            return f"expected the class {name}, got an instance (pass {name}, not {name}())"
        return f"expected the class {name}, got a {type(obj).__name__}"
    return None


def load_file(path: Union[str, Path], exercise: Exercise) -> Any:
    """Run the student's file as a module of its own and check it defines the exercise's entries."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"student_{exercise.id}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(module)
    missing = missing_entries(exercise, module)
    if missing:
        raise AttributeError(f"{path.name} defines no {', '.join(missing)} (the exercise needs them)")
    problem = not_a_class(exercise, module)
    if problem:
        raise TypeError(f"{path.name}: {problem}")
    return module


def check(exercise_id: str, path_or_object: Any = None, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Run the checks of ``exercise_id`` on a student's file (path) or on objects defined here.

    A path (default ``exercises/ID.py``; a folder stands for its ``ID.py``) is
    loaded on its own in a subprocess limited to ``timeout`` seconds, so an
    infinite loop or a crash is reported. A module, class or function (or a
    dict of them) is checked in this process.
    """
    exercise = get(exercise_id)
    if path_or_object is None:
        path_or_object = student_file(exercise.id, "exercises")
    if isinstance(path_or_object, (str, Path)):
        path = Path(path_or_object)
        if path.is_dir():  # the folder that ``start ID DIR`` wrote DIR/ID.py into
            path = student_file(exercise.id, path)
        return _check_file_in_subprocess(exercise, path, timeout)
    answer = answer_from(exercise, path_or_object)
    missing = missing_entries(exercise, answer)
    if missing:
        kind = "dict" if isinstance(path_or_object, dict) else type(path_or_object).__name__
        return _error_report(
            exercise,
            f"does not load: the {kind} you passed has no {', '.join(missing)} (the exercise needs "
            f"{', '.join(exercise.entries)})",
        )
    problem = not_a_class(exercise, answer)
    if problem:
        return _error_report(exercise, f"does not load: {problem}")
    return run_checks(exercise, answer)


def student_file(exercise_id: str, folder: Union[str, Path]) -> Path:
    """``folder/ID.py``; when there is none, the file named by an id the exercise had before, if any."""
    exercise = get(exercise_id)
    path = Path(folder) / f"{exercise.id}.py"
    if not path.is_file():
        for old in (old for old, new in ALIASES.items() if new == exercise.id):
            if (Path(folder) / f"{old}.py").is_file():
                return Path(folder) / f"{old}.py"
    return path


def _error_report(exercise: Exercise, message: str) -> Report:
    failed = [CheckResult(name, float(points), False, []) for name, points, _ in exercise.checks]
    return Report(exercise.id, exercise.title, failed, message)


def _check_file_in_subprocess(exercise: Exercise, path: Path, timeout: float) -> Report:
    if not path.is_file():
        return _error_report(exercise, f"missing: there is no file {path}")
    path = path.resolve()
    # The package this process runs, first on the path, whether it is installed or not.
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "tinygrad_edu.exercises._runner", exercise.id, str(path), str(out)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, cwd=path.parent, env=env
            )
        except subprocess.TimeoutExpired:
            return _error_report(
                exercise, f"time limit: the checks ran for more than {timeout:g} s (an infinite loop?)"
            )
        if not out.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return _error_report(exercise, f"crashed: exit status {done.returncode}: {' | '.join(tail)}")
        return Report.from_dict(json.loads(out.read_text()))


def run_file(exercise_id: str, path: str, out: str) -> None:
    """The subprocess's side: load the file, run the checks, write the report as JSON to ``out``.

    The checks are taken before the student's code runs, so a file that replaces ``run_checks``
    when it is loaded does not change what runs here (docs/exercises.md says what this does and
    does not guard against).
    """
    exercise, checks = get(exercise_id), run_checks
    try:
        answer = load_file(path, exercise)
    except BaseException as exc:  # noqa: B036 (a student's file may even call exit())
        message = exc.msg if isinstance(exc, SyntaxError) else exc  # its file and line: from _where
        report = _error_report(exercise, f"does not load: {type(exc).__name__}: {message}{_where(exc)}")
    else:
        report = checks(exercise, answer)
    with _files.atomic_write(out, "w", encoding="utf-8", where="exercise check") as f:  # never half a report
        f.write(json.dumps(report.to_dict()))


# --- writing the files and grading a class ------------------------------------------------------


def write(
    exercise_id: str, folder: Union[str, Path] = "exercises", solution: bool = False, overwrite: bool = False
) -> Path:
    """Write ``folder/ID.py``: the skeleton (or, with ``solution``, the reference); return the path.

    The file's "Check it:" line names the path it was written to. A file already there (or one
    named by the exercise's old id, which ``check`` would read) is someone's work: it is kept, and
    a FileExistsError says so, unless ``overwrite``.
    """
    exercise = get(exercise_id)
    folder = Path(folder)
    path = folder / f"{exercise.id}.py"
    existing = student_file(exercise.id, folder)
    if existing.exists() and not overwrite:
        where = "exercises." + ("solution" if solution else "start")
        old = "" if existing == path else (
            f", named by the exercise's old id {existing.stem} (check({exercise.id!r}) reads it)"
        )
        raise FileExistsError(
            f"{where}: {existing} exists{old}: someone's work? It is kept; pass overwrite=True to "
            f"write {path}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    text = exercise.reference if solution else exercise.skeleton
    text = text.replace(how_to_check(exercise.id), how_to_check(exercise.id, str(path)))
    with _files.atomic_write(path, "w", encoding="utf-8", where="exercises.write") as f:  # all or nothing
        f.write(text)
    return path


GRADE_COLUMNS = ("student", "exercise", "score", "passed", "checks_passed", "checks", "status", "feedback")


def grade(
    folder: Union[str, Path], exercise_ids: Optional[Sequence[str]] = None, timeout: float = DEFAULT_TIMEOUT
) -> list[dict[str, Any]]:
    """One row per student (sub-folder of ``folder``) and exercise: the score and the first problem.

    The exercises are ``exercise_ids``, or every exercise whose ``ID.py`` some
    student handed in; a student without the file scores 0 ("missing"). An id the
    exercise had before names it too, in ``exercise_ids`` and in a file's name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"exercises.grade: {folder} is not a folder (one sub-folder per student)")
    students = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if exercise_ids is None:
        handed_in = {ALIASES.get(f.stem, f.stem) for s in students for f in s.glob("*.py")}
        exercise_ids = [e for e in registry() if e in handed_in]
    exercise_ids = [*dict.fromkeys(get(e).id for e in exercise_ids)]  # old ids: the exercise, once
    rows = []
    for student in students:
        for exercise_id in exercise_ids:
            report = check(exercise_id, student_file(exercise_id, student), timeout=timeout)
            first = next((line.strip() for line in report.lines if not line.startswith("PASS")), "")
            problem = _first_problem(report) or first
            rows.append(
                {
                    "student": student.name,
                    "exercise": exercise_id,
                    "score": round(report.score, 4),
                    "passed": report.passed,
                    "checks_passed": sum(c.passed for c in report.checks),
                    "checks": len(report.checks),
                    "status": report.status,
                    "feedback": "" if report.passed else (report.error or problem),
                }
            )
    return rows


def _first_problem(report: Any) -> str:
    """The first failed check's first line, with its "looks like ... Hint" lines (the likely mistake
    and what to do, which a teacher's table should not lose), joined by " | "."""
    failed = next((c for c in report.checks if not c.passed and c.lines), None)
    if failed is None:
        return ""
    hints = [ln.strip() for ln in failed.lines[1:] if ln.strip().startswith("looks like:")]
    return " | ".join([failed.lines[0].strip(), *hints])


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows of ``grade`` as CSV text, with the header ``GRADE_COLUMNS``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GRADE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()

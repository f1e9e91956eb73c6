"""``tinygrad-edu exercise``: hand out, check and grade the exercises that check themselves."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tinygrad_edu import _files
from tinygrad_edu.cli.common import (
    PROG,
    UsageError,
    check_output_file,
    check_output_folder,
    positive_float,
    same_file,
)


def _exercise(exercise_id: str) -> Any:
    from tinygrad_edu import exercises

    try:
        exercise = exercises.get(exercise_id)
    except KeyError as err:
        raise UsageError(err.args[0].removeprefix("exercises: ")) from None
    if exercise.id != exercise_id:  # an id it had before
        print(f"{PROG} exercise: {exercise_id} is now called {exercise.id}", file=sys.stderr)
    return exercise


def _list(args: argparse.Namespace) -> int:
    from tinygrad_edu import exercises

    rows = [(e.id, e.kind, e.title) for e in exercises.list()]
    widths = [max(len(r[c]) for r in rows) for c in range(2)]
    for r in rows:
        print(f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}")
    print(f"\n{PROG} exercise start ID writes exercises/ID.py; {PROG} exercise check ID checks it.")
    return 0


def _write(args: argparse.Namespace, solution: bool) -> int:
    from tinygrad_edu import exercises
    from tinygrad_edu.exercises._kit import student_file

    exercise = _exercise(args.id)
    check_output_folder(args.dir, "DIR", create=False)  # (made by the write, not before the checks)
    existing = student_file(exercise.id, args.dir)  # (or the file of the exercise's old id)
    if existing.exists() and not args.force:
        old = "" if existing.stem == exercise.id else (
            f", named by the exercise's old id ({PROG} exercise check {exercise.id} reads it)"
        )
        raise UsageError(
            f"{existing} exists{old} (someone's work?); pass --force to write {exercise.id}.py anyway"
        )
    write = exercises.solution if solution else exercises.start
    path = write(exercise.id, args.dir, overwrite=True)
    if solution:
        print(f"wrote {path}: the reference solution of {exercise.id} ({exercise.title})")
        if exercise.mistake:
            print(f"the planted mistake: {exercise.mistake}")
    else:
        print(f"wrote {path}: {exercise.title} ({exercise.kind}); the task is in its docstring")
        print(f"when done: {PROG} exercise check {exercise.id} {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from tinygrad_edu import exercises
    from tinygrad_edu.exercises._kit import student_file

    exercise = _exercise(args.id)
    path = Path(args.path) if args.path else student_file(exercise.id, "exercises")
    report = exercises.check(exercise.id, path, timeout=args.timeout)
    print(report)
    return 0 if report.passed else 1


def _grade(args: argparse.Namespace) -> int:
    from tinygrad_edu import exercises

    if not Path(args.dir).is_dir():
        raise UsageError(
            f"{args.dir} is not a folder; expected one sub-folder per student holding ID.py files"
        )
    ids = None if args.exercises is None else [_exercise(i).id for i in args.exercises.split(",")]
    _check_grade_outputs(args)  # before grading everyone, not after
    rows = exercises.grade(args.dir, ids, timeout=args.timeout)
    if not rows:
        print(f"{args.dir}: no student sub-folder holds an exercise file (ID.py)")
    for r in rows:
        print(f"{r['student']}  {r['exercise']}  {r['score']:.2f}  {r['status']}  {r['feedback']}".rstrip())
    outputs = [(args.csv, "--csv", exercises.rows_to_csv), (args.json, "--json", _rows_to_json)]
    for path, option, text in outputs:
        if path:
            with _files.atomic_write(path, "w", encoding="utf-8", where=option) as f:  # all or nothing
                f.write(text(rows))
    return 0


def _check_grade_outputs(args: argparse.Namespace) -> None:
    """--csv and --json: two different files, neither in a student's folder nor a student's .py
    (without --force), each a file that can be written; or a UsageError."""
    outputs = [(path, option) for path, option in ((args.csv, "--csv"), (args.json, "--json")) if path]
    if len(outputs) == 2 and same_file(args.csv, args.json):
        raise UsageError(
            f"--csv {args.csv!r} and --json {args.json!r} are the same file, so one table would be lost; "
            "give two file names, such as grades.csv and grades.json"
        )
    root = os.path.realpath(args.dir)
    for path, option in outputs:
        try:
            parts = Path(os.path.relpath(os.path.realpath(path), root)).parts
        except ValueError:  # another drive (Windows): not in DIR
            parts = ()
        example = "grades.csv" if option == "--csv" else "grades.json"
        if len(parts) >= 2 and parts[0] != ".." and not parts[0].startswith("."):
            student = os.path.join(args.dir, parts[0])
            if not os.path.isdir(student):
                where = f"would make a folder {student!r}, which grade would take for a student's"
            elif os.path.exists(path):
                where = f"would replace a file in {student!r}, a student's folder"
            else:
                where = f"is in {student!r}, a student's folder"
            raise UsageError(
                f"{option}: {path!r} {where}; write the table outside the student folders of "
                f"{args.dir}, such as {example}"
            )
        if path.lower().endswith(".py") and os.path.isfile(path) and not args.force:
            raise UsageError(f"{option}: {path!r} exists and is a Python file (someone's work?); "
                             "pass --force to overwrite it")
        check_output_file(path, option, example)


def _rows_to_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2) + "\n"


def run(args: argparse.Namespace) -> int:
    """Run the exercise action."""
    if args.action is None:
        raise UsageError("say what to do: list, start, check, solution or grade (see --help)")
    return {
        "list": _list,
        "start": lambda a: _write(a, solution=False),
        "solution": lambda a: _write(a, solution=True),
        "check": _check,
        "grade": _grade,
    }[args.action](args)


def add_parser(sub: Any) -> None:
    """The ``exercise`` subcommand and its actions."""
    p = sub.add_parser(
        "exercise",
        help="exercises that check themselves: list, start, check, solution, grade",
        description="Write a backward, an optimizer or a gradient check, or find a planted bug; "
        "'check' says which input and element is wrong and which mistake it looks like.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="the exercises")
    start = actions.add_parser("start", help="write DIR/ID.py: the task and a stub (DIR default ./exercises)")
    start.add_argument("id", metavar="ID")
    start.add_argument("dir", metavar="DIR", nargs="?", default="exercises")
    start.add_argument("--force", action="store_true", help="overwrite an existing file")
    check = actions.add_parser(
        "check",
        help="check ID [PATH]: exercise ID in PATH, a file or a folder holding ID.py (default "
        "exercises/ID.py); exit 0 if all pass",
    )
    check.add_argument("id", metavar="ID")
    check.add_argument("path", metavar="PATH", nargs="?", help="a file, or a folder holding ID.py")
    solution = actions.add_parser("solution", help="write the reference DIR/ID.py (DIR default ./solutions)")
    solution.add_argument("id", metavar="ID")
    solution.add_argument("dir", metavar="DIR", nargs="?", default="solutions")
    solution.add_argument("--force", action="store_true", help="overwrite an existing file")
    grade = actions.add_parser("grade", help="check DIR/<student>/ID.py for every student and exercise")
    grade.add_argument("dir", metavar="DIR")
    grade.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    grade.add_argument("--json", metavar="FILE", help="write the table as JSON")
    grade.add_argument("--exercises", metavar="IDS", help="comma-separated ids (default: those handed in)")
    grade.add_argument(
        "--force", action="store_true", help="let --csv or --json overwrite an existing .py file"
    )
    for action in (check, grade):
        action.add_argument(
            "--timeout",
            type=positive_float,
            default=60.0,
            help="seconds one file's checks may take (default 60)",
        )
    p.set_defaults(run=run)

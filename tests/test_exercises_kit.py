"""The exercise kit: reports, the subprocess that loads a student's file, grading a class, the CLI."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import cli, exercises
from tinygrad_edu.exercises._kit import plant


def solution_text(exercise_id):
    return exercises.get(exercise_id).reference


def with_mistake(exercise_id, k):
    old, new, _ = exercises.get(exercise_id).mistakes[k]
    return plant(solution_text(exercise_id), old, new)


# --- grading a class --------------------------------------------------------------------------


def make_class(root):
    """alice: both right; bob: one right, one with the floor forgotten; carol: nothing handed in."""
    (root / "alice").mkdir(parents=True)
    (root / "bob").mkdir()
    (root / "carol").mkdir()
    (root / "alice" / "backward_tanh.py").write_text(solution_text("backward_tanh"))
    (root / "alice" / "lr_decay.py").write_text(solution_text("lr_decay"))
    (root / "bob" / "backward_tanh.py").write_text(solution_text("backward_tanh"))
    # np.floor forgotten: the course's printed values (100 / 100 is whole) and update_lr still pass,
    # schedule_lr_decay at 999 / 1000 does not: 2 of 3 checks.
    (root / "bob" / "lr_decay.py").write_text(
        solution_text("lr_decay").replace(
            "np.floor(epoch_num / time_interval)", "(epoch_num / time_interval)"
        )
    )


EXPECTED = [
    ("alice", "backward_tanh", 1.0, True, 3, 3, "passed"),
    ("alice", "lr_decay", 1.0, True, 3, 3, "passed"),
    ("bob", "backward_tanh", 1.0, True, 3, 3, "passed"),
    ("bob", "lr_decay", round(2 / 3, 4), False, 2, 3, "failed"),
    ("carol", "backward_tanh", 0.0, False, 0, 3, "missing"),
    ("carol", "lr_decay", 0.0, False, 0, 3, "missing"),
]


def test_grade_writes_one_row_per_student_and_exercise(tmp_path):
    make_class(tmp_path)
    rows = exercises.grade(tmp_path)
    got = [
        (r["student"], r["exercise"], r["score"], r["passed"], r["checks_passed"], r["checks"], r["status"])
        for r in rows
    ]
    assert got == EXPECTED
    bob = rows[3]["feedback"]
    assert "schedule_lr_decay(0.1, 999, 1.0, time_interval=1000)" in bob
    assert rows[4]["feedback"].startswith("missing: there is no file")


def test_the_grade_command_writes_the_csv_and_json_tables(tmp_path, capsys):
    make_class(tmp_path / "class")
    status = cli.main(
        [
            "exercise",
            "grade",
            str(tmp_path / "class"),
            "--csv",
            str(tmp_path / "g.csv"),
            "--json",
            str(tmp_path / "g.json"),
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert len(out.strip().splitlines()) == 6
    table = list(csv.DictReader(io.StringIO((tmp_path / "g.csv").read_text())))
    assert [tuple(r[c] for c in ("student", "exercise", "score", "passed", "status")) for r in table] == [
        (s, e, str(score), str(passed), st) for s, e, score, passed, _, _, st in EXPECTED
    ]
    rows = json.loads((tmp_path / "g.json").read_text())
    assert [(r["student"], r["exercise"], r["score"]) for r in rows] == [e[:3] for e in EXPECTED]


# --- the student's file, on its own --------------------------------------------------------------


def test_an_infinite_loop_is_stopped_and_reported(tmp_path):
    path = tmp_path / "backward_exp.py"
    path.write_text(
        solution_text("backward_exp").replace("return grad * out", "while True:\n            pass")
    )
    report = exercises.check("backward_exp", path, timeout=3)
    assert not report.passed and report.score == 0
    assert report.status == "time limit"
    assert "more than 3 s" in str(report)


def test_a_crash_is_reported(tmp_path):
    path = tmp_path / "backward_exp.py"
    path.write_text(solution_text("backward_exp").replace("return grad * out", "import os; os._exit(3)"))
    report = exercises.check("backward_exp", path)
    assert report.score == 0 and report.status == "crashed"
    assert "exit status 3" in str(report)


def test_a_file_that_does_not_load_is_reported_with_its_line(tmp_path):
    path = tmp_path / "backward_exp.py"
    path.write_text("import numpy as np\n\nclass Exp(:\n    pass\n")
    report = exercises.check("backward_exp", path)
    assert report.score == 0 and report.status == "does not load"
    assert "SyntaxError" in str(report)


def test_a_file_without_the_entry_is_reported(tmp_path):
    path = tmp_path / "backward_exp.py"
    path.write_text("x = 1\n")
    report = exercises.check("backward_exp", path)
    assert report.score == 0
    assert "defines no Exp" in str(report)


def test_the_reference_is_never_checked_in_place_of_the_students_file(tmp_path):
    # The reference module is loaded in this process; the student's wrong file must still fail.
    import tinygrad_edu.exercises.backward_exp  # noqa: F401

    path = tmp_path / "backward_exp.py"
    path.write_text(with_mistake("backward_exp", 0))
    assert exercises.check("backward_exp", path).score == 0


def test_an_exception_in_the_students_code_names_the_line(tmp_path):
    path = tmp_path / "backward_log.py"
    path.write_text(solution_text("backward_log").replace("return grad / x", "return grad / undefined_name"))
    report = exercises.check("backward_log", path)
    assert report.score == 0
    assert "raised NameError" in str(report) and "line" in str(report) and "undefined_name" in str(report)


def test_partial_credit_is_per_check(tmp_path):
    path = tmp_path / "lr_decay.py"
    path.write_text(with_mistake("lr_decay", 0))
    report = exercises.check("lr_decay", path)
    assert [c.passed for c in report.checks] == [True, True, False]
    assert report.score == pytest.approx(2 / 3)


# --- from Python and in a notebook ----------------------------------------------------------------


class Exp(tg.Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, grad):
        return grad * self.output


class ExpForgettingGrad(tg.Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, grad):
        return self.output


def test_check_takes_a_class_defined_in_a_notebook():
    report = exercises.check("backward_exp", Exp)
    assert report.passed and report.score == 1
    wrong = exercises.check("backward_exp", ExpForgettingGrad)
    assert not wrong.passed and wrong.score == 0
    assert "off by the upstream gradient" in str(wrong)


def test_a_report_displays_as_text_and_as_html():
    report = exercises.check("backward_exp", ExpForgettingGrad)
    text = str(report)
    assert text.splitlines()[0] == "backward_exp (backward of Exp): failed, 0 of 3 checks passed, score 0.00"
    assert "FAIL  backward on arrays, inputs of shape (3, 4)" in text
    page = report._repr_html_()
    assert page.count("<tr>") == 3 and "&#10008;" in page and "off by the upstream gradient" in page
    assert repr(report) == "Report('backward_exp', passed=False, score=0.00)"


def test_check_takes_a_dict_for_an_exercise_with_several_entries():
    def update_lr(lr0, epoch, rate):
        return lr0 / (1 + rate * epoch)

    def schedule_lr_decay(lr0, epoch, rate, time_interval=1000):
        return lr0 / (1 + rate * np.floor(epoch / time_interval))

    report = exercises.check("lr_decay", {"update_lr": update_lr, "schedule_lr_decay": schedule_lr_decay})
    assert report.passed, str(report)
    with pytest.raises(TypeError, match="this exercise needs update_lr, schedule_lr_decay"):
        exercises.check("lr_decay", update_lr)


def test_an_unknown_exercise_lists_the_ids():
    with pytest.raises(KeyError, match="no exercise 'nope'; the exercises are chain_rule, backward_mul"):
        exercises.check("nope", Exp)


# --- the command line ----------------------------------------------------------------------------


def test_start_check_solution_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "start", "backward_sigmoid"]) == 0
    skeleton = (tmp_path / "exercises" / "backward_sigmoid.py").read_text()
    assert "raise NotImplementedError" in skeleton and "grad * s * (1 - s)" in skeleton  # the formula
    assert cli.main(["exercise", "check", "backward_sigmoid"]) == 1
    assert "not written yet" in capsys.readouterr().out
    assert cli.main(["exercise", "start", "backward_sigmoid"]) == 2  # a student's file is not overwritten
    assert "exists" in capsys.readouterr().err
    assert cli.main(["exercise", "solution", "backward_sigmoid", "teacher"]) == 0
    assert cli.main(["exercise", "check", "backward_sigmoid", "teacher/backward_sigmoid.py"]) == 0
    out = capsys.readouterr().out
    assert "passed, 3 of 3 checks passed, score 1.00" in out


def test_start_into_a_folder_names_that_path_and_check_takes_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "start", "backward_exp", "mydir"]) == 0
    printed = capsys.readouterr().out
    skeleton = (tmp_path / "mydir" / "backward_exp.py").read_text()
    assert "tinygrad-edu exercise check backward_exp mydir/backward_exp.py" in printed
    assert "Check it:  tinygrad-edu exercise check backward_exp mydir/backward_exp.py" in skeleton
    assert "exercises/backward_exp.py" not in skeleton
    assert cli.main(["exercise", "check", "backward_exp", "mydir"]) == 1
    assert "not written yet" in capsys.readouterr().out
    (tmp_path / "mydir" / "backward_exp.py").write_text(solution_text("backward_exp"))
    assert cli.main(["exercise", "check", "backward_exp", "mydir"]) == 0
    assert "passed, 3 of 3 checks passed" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert cli.main(["exercise", "check", "backward_exp", "empty"]) == 1
    assert "missing: there is no file empty/backward_exp.py" in capsys.readouterr().out


def test_list_shows_every_exercise(capsys):
    assert cli.main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    for e in exercises.list():
        assert e.id in out
    assert "find the bug" in out


def test_bad_exercise_commands_exit_2(capsys, tmp_path):
    assert cli.main(["exercise", "check", "nope"]) == 2
    assert "no exercise 'nope'" in capsys.readouterr().err
    assert cli.main(["exercise"]) == 2
    assert cli.main(["exercise", "grade", str(tmp_path / "missing")]) == 2


# --- naming the mistake --------------------------------------------------------------------------


def test_feedback_names_each_common_mistake():
    from tinygrad_edu.exercises.feedback import compare

    expected = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5], [2.0, 1.0, -0.75]])
    upstream = np.array([[2.0, -1.0, 0.5], [1.5, 3.0, -2.0], [0.5, 1.0, 4.0]])
    cases = [
        (-expected, {}, "sign"),
        (2 * expected, {}, "factor 2"),
        (expected.T, {}, "transposed"),
        (expected / upstream, {"upstream": upstream}, "off by the upstream gradient"),
        (expected / 3, {"one_use": [expected / 3]}, "overwritten instead of accumulated"),
        (expected * 1.1, {"neighbours": [expected * 1.1]}, "off by one step"),
        (np.ones((4, 3)), {}, "missing broadcast reduction"),
        (5 * expected, {}, "off by a constant factor (5)"),
    ]
    for yours, context, words in cases:
        lines = compare("gradient for x", yours, expected if yours.shape != (4, 3) else np.ones(3), **context)
        assert lines and words in "\n".join(lines), (words, lines)
    assert compare("gradient for x", expected.copy(), expected) == []
    first = compare("gradient for x", -expected, expected)[0]
    assert first == "gradient for x: element (1, 0): yours -3, numerical 3 (9 of 9 elements differ)"


def test_the_grade_table_keeps_the_looks_like_line_of_the_first_problem(tmp_path):
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "backward_tanh.py").write_text(
        plant(solution_text("backward_tanh"), "y = self.output", "(y,) = self.inputs")
    )
    (row,) = exercises.grade(tmp_path)
    first, hint = row["feedback"].split(" | ")
    assert first.startswith("gradient for x (input 0, shape (3, 4)): element")
    assert hint.startswith("looks like: the input x where the output y belongs") and "self.output" in hint

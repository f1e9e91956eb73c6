"""The find-the-bug exercises: named by what is buggy, never by the bug; the bug kept for the
teacher; the ids they had before still accepted everywhere an id is."""

from __future__ import annotations

import ast
import os
import re

import pytest

from tinygrad_edu import cli, exercises
from tinygrad_edu.exercises._kit import ALIASES, EXERCISE_MODULES

FIND_THE_BUG = [e for e in EXERCISE_MODULES if exercises.get(e).kind == "find the bug"]
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")

# Words that would tell a student what the mistake is before a check has failed.
GIVEAWAYS = (
    "sign",
    "transpos",
    "upstream",
    "broadcast",
    "accumulat",
    "+=",
    "off by one",
    "overwrit",
    "forg",
    "reduction",
    "faulty",
)


def what_the_student_reads_first(exercise):
    """The texts a student sees before any check fails: id, title, the file's docstring, the checks' names."""
    docstring = ast.get_docstring(ast.parse(exercise.skeleton))
    assert docstring, exercise.id
    return {
        "id": exercise.id,
        "title": exercise.title,
        "docstring": docstring,
        **{f"check {name!r}": name for name, _, _ in exercise.checks},
    }


@pytest.mark.parametrize("exercise_id", FIND_THE_BUG)
def test_no_find_the_bug_title_or_student_docstring_names_its_mistake(exercise_id):
    exercise = exercises.get(exercise_id)
    _, _, feedback_words = exercise.bug
    for where, text in what_the_student_reads_first(exercise).items():
        found = [w for w in GIVEAWAYS if w in text.lower()]
        assert not found, f"{exercise_id}'s {where} says {found}: {text!r}"
        assert feedback_words.lower() not in text.lower(), (exercise_id, where, text)
    assert exercise.title.startswith("find the bug in "), exercise.title


def test_the_giveaway_check_would_see_the_old_titles():
    old_titles = [
        "find the bug: a sign error",
        "find the bug: a transposed gradient",
        "find the bug: = instead of += for a reused input",
        "find the bug: the forgotten upstream grad",
        "find the bug: a missing broadcast reduction",
        "find the bug: bias correction off by one step",
    ]
    assert all(any(w in t for w in GIVEAWAYS) for t in old_titles)


@pytest.mark.parametrize("exercise_id", EXERCISE_MODULES)
def test_every_find_the_bug_exercise_keeps_its_mistake_for_the_teacher(exercise_id):
    exercise = exercises.get(exercise_id)
    if exercise.kind == "find the bug":
        assert exercise.mistake and len(exercise.mistake) > 20, exercise_id
    else:
        assert exercise.mistake is None, exercise_id


@pytest.mark.parametrize("exercise_id", FIND_THE_BUG)
def test_solution_prints_the_planted_mistake(exercise_id, tmp_path, capsys):
    assert cli.main(["exercise", "solution", exercise_id, str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"the planted mistake: {exercises.get(exercise_id).mistake}" in out, out
    assert cli.main(["exercise", "start", exercise_id, str(tmp_path / "s")]) == 0
    assert "planted mistake" not in capsys.readouterr().out


def test_the_docs_table_shows_each_neutral_title_and_planted_mistake():
    with open(os.path.join(DOCS, "exercises.md"), encoding="utf-8") as f:
        text = f.read()
    assert "| id | kind | title | the planted mistake | from |" in text
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]*) \|", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.groups()[1:]]
    assert list(rows) == list(EXERCISE_MODULES)
    for e in exercises.list():
        assert rows[e.id] == [e.kind, e.title, e.mistake or ""], e.id


# --- the old ids ------------------------------------------------------------------------------------

OLD = {
    "bug_sign": "bug_div",
    "bug_transposed": "bug_linear",
    "bug_upstream": "bug_sigmoid",
    "bug_broadcast": "bug_bias_add",
    "bug_accumulate": "bug_value_engine",
    "bug_adam_step": "bug_adam",
}


def test_every_old_id_is_an_alias_of_its_new_one_and_is_not_listed(capsys):
    assert ALIASES == OLD
    listed = [e.id for e in exercises.list()]
    for old, new in OLD.items():
        assert exercises.get(old) is exercises.get(new)
        assert old not in listed and old not in EXERCISE_MODULES
    assert cli.main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    assert not [old for old in OLD if old in out], out
    with pytest.raises(KeyError) as err:
        exercises.get("bug_nope")
    assert "bug_div" in str(err.value) and "bug_sign" not in str(err.value)


@pytest.mark.parametrize("old, new", sorted(OLD.items()))
def test_an_old_id_works_in_python(old, new, tmp_path, monkeypatch, recwarn):
    reference = exercises.get(new).reference
    assert exercises.start(old, tmp_path) == tmp_path / f"{new}.py"
    assert exercises.solution(old, tmp_path / "sol") == tmp_path / "sol" / f"{new}.py"
    assert f"tinygrad-edu exercise check {new} " in (tmp_path / f"{new}.py").read_text()
    report = exercises.check(old, tmp_path / "sol")
    assert report.passed and report.exercise == new, str(report)
    assert not exercises.check(old, tmp_path / f"{new}.py").passed
    # a file named by the old id, as the student's copy from before is: check and the default path find it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / f"{old}.py").write_text(reference)
    for exercise_id in (old, new):
        assert exercises.check(exercise_id).passed
        assert exercises.check(exercise_id, "exercises").passed
    assert not recwarn.list


def test_an_old_id_works_in_the_cli_with_a_short_note(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    note = "tinygrad-edu exercise: bug_sign is now called bug_div\n"
    assert cli.main(["exercise", "start", "bug_sign"]) == 0
    out, err = capsys.readouterr()
    assert err == note and "exercises/bug_div.py" in out, (out, err)
    assert (tmp_path / "exercises" / "bug_div.py").is_file()
    assert not (tmp_path / "exercises" / "bug_sign.py").exists()
    assert cli.main(["exercise", "check", "bug_sign"]) == 1
    out, err = capsys.readouterr()
    assert err == note and out.startswith("bug_div (find the bug in a Div op): failed"), (out, err)
    assert "looks like: sign" in out  # the feedback after a failed check names the mistake
    assert cli.main(["exercise", "solution", "bug_sign"]) == 0
    out, err = capsys.readouterr()
    assert err == note and "the planted mistake: a sign error" in out, (out, err)
    assert cli.main(["exercise", "check", "bug_sign", "solutions"]) == 0
    assert capsys.readouterr().err == note
    # the student's file from before, named by the old id
    os.replace(tmp_path / "solutions" / "bug_div.py", tmp_path / "exercises" / "bug_sign.py")
    (tmp_path / "exercises" / "bug_div.py").unlink()
    assert cli.main(["exercise", "check", "bug_div"]) == 0
    assert capsys.readouterr().err == ""
    assert cli.main(["exercise", "check", "bug_sign"]) == 0


def test_start_keeps_a_student_s_file_under_the_new_or_the_old_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    work = "# the student's work\n"
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "bug_sign.py").write_text(work)
    # start used to write a fresh bug_div.py beside it, which check then read instead of the work
    assert cli.main(["exercise", "start", "bug_div"]) == 2
    err = capsys.readouterr().err
    assert "exercises/bug_sign.py exists, named by the exercise's old id" in err and "--force" in err
    assert not (tmp_path / "exercises" / "bug_div.py").exists()
    with pytest.raises(FileExistsError, match=r"exercises.start: exercises/bug_sign.py exists, named by"):
        exercises.start("bug_div")
    with pytest.raises(FileExistsError, match=r"exercises.solution: .*bug_sign.py exists"):
        exercises.solution("bug_sign")
    assert (tmp_path / "exercises" / "bug_sign.py").read_text() == work
    # the same file name: exercises.start twice in a notebook kept nothing of the first
    (tmp_path / "exercises" / "backward_mul.py").write_text(work)
    with pytest.raises(FileExistsError, match=r"exercises/backward_mul.py exists: someone's work\? It is"):
        exercises.start("backward_mul")
    assert (tmp_path / "exercises" / "backward_mul.py").read_text() == work
    assert exercises.start("backward_mul", overwrite=True).read_text() != work
    assert cli.main(["exercise", "start", "bug_div", "--force"]) == 0
    assert (tmp_path / "exercises" / "bug_div.py").is_file()


def test_grade_takes_old_ids_and_files_named_by_them(tmp_path, capsys):
    reference = exercises.get("bug_div").reference
    (tmp_path / "ann").mkdir()
    (tmp_path / "bo").mkdir()
    (tmp_path / "cy").mkdir()
    (tmp_path / "ann" / "bug_sign.py").write_text(reference)  # named by the old id
    (tmp_path / "bo" / "bug_div.py").write_text(exercises.get("bug_div").skeleton)
    expected = [("ann", "bug_div", True), ("bo", "bug_div", False), ("cy", "bug_div", False)]
    for ids in (None, ["bug_sign"], ["bug_div", "bug_sign"]):
        rows = exercises.grade(tmp_path, ids)
        assert [(r["student"], r["exercise"], r["passed"]) for r in rows] == expected, ids
        assert rows[2]["status"] == "missing"
    assert cli.main(["exercise", "grade", str(tmp_path), "--exercises", "bug_sign"]) == 0
    out, err = capsys.readouterr()
    assert err == "tinygrad-edu exercise: bug_sign is now called bug_div\n"
    assert out.splitlines()[0] == "ann  bug_div  1.00  passed"

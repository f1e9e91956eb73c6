"""Every exercise: the untouched skeleton scores 0, the reference passes, each planted mistake is named."""

from __future__ import annotations

import pytest

from tinygrad_edu import exercises
from tinygrad_edu.exercises._kit import EXERCISE_MODULES, load_file, plant, run_checks

IDS = list(EXERCISE_MODULES)


def test_there_are_at_least_15_exercises_and_5_find_the_bug_ones():
    kinds = [e.kind for e in exercises.list()]
    assert len(kinds) >= 15
    assert kinds.count("find the bug") >= 5
    assert [e.id for e in exercises.list()] == IDS


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_untouched_skeleton_scores_0(exercise_id, tmp_path):
    path = exercises.start(exercise_id, tmp_path)
    assert path == tmp_path / f"{exercise_id}.py"
    report = exercises.check(exercise_id, path)
    assert not report.passed
    assert report.score == 0, str(report)
    exercise = exercises.get(exercise_id)
    if exercise.kind == "write":
        assert "raise NotImplementedError" in path.read_text()
        assert report.status == "not written yet", str(report)


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_reference_solution_passes(exercise_id, tmp_path):
    path = exercises.solution(exercise_id, tmp_path)
    assert "NotImplementedError" not in path.read_text()
    report = exercises.check(exercise_id, path)
    assert report.passed, str(report)
    assert report.score == 1


MISTAKES = [(e, i) for e in IDS for i in range(len(exercises.get(e).mistakes))]


@pytest.mark.parametrize("exercise_id, k", MISTAKES)
def test_a_planted_mistake_fails_with_feedback_that_names_it(exercise_id, k, tmp_path):
    exercise = exercises.get(exercise_id)
    old, new, words = exercise.mistakes[k]
    path = tmp_path / f"{exercise_id}.py"
    path.write_text(plant(exercise.reference, old, new))
    report = run_checks(exercise, load_file(path, exercise))
    assert not report.passed
    assert report.score < 1
    assert words in str(report), str(report)


@pytest.mark.parametrize("exercise_id", [e for e in IDS if exercises.get(e).kind == "write"])
def test_every_write_exercise_has_a_planted_mistake(exercise_id):
    assert exercises.get(exercise_id).mistakes


@pytest.mark.parametrize("exercise_id", [e for e in IDS if exercises.get(e).kind == "find the bug"])
def test_the_bug_of_a_find_the_bug_exercise_is_named_in_the_feedback(exercise_id, tmp_path):
    exercise = exercises.get(exercise_id)
    path = exercises.start(exercise_id, tmp_path)
    report = run_checks(exercise, load_file(path, exercise))
    assert exercise.mistakes, "a find-the-bug exercise says which words name its bug"
    for _, _, words in exercise.mistakes:
        assert words in str(report), str(report)

"""Hints that named a cause the wrong answer cannot have: each wrong answer (one replacement in the
reference solution) runs through the real checker, a file checked in a process of its own as
``tinygrad-edu exercise check ID FILE`` checks it, and the feedback must name its own mistake."""

from __future__ import annotations

import pytest

from tinygrad_edu import exercises
from tinygrad_edu.exercises._kit import plant

DERIVATIVE_HINT = "d(x**2)/dx"  # the generic factor-2 hint's explanation


def feedback(exercise_id, old, new, tmp_path):
    """The report of the reference solution with ``old`` replaced by ``new``, checked as a file."""
    exercise = exercises.get(exercise_id)
    path = tmp_path / f"{exercise_id}.py"
    path.write_text(plant(exercise.reference, old, new))
    report = exercises.check(exercise_id, path)
    assert not report.passed, str(report)
    return str(report)


@pytest.mark.parametrize(
    "exercise_id",
    [
        "gradient_check_n",
        "chain_rule",
        "broadcast_add",
        "inverted_dropout",
        "adam",
        "linear_layer",
        "backward_relu",
        "backward_div",
        "backward_tanh",
        "softmax_cross_entropy",
    ],
)
def test_the_right_answer_still_passes(exercise_id, tmp_path):
    report = exercises.check(exercise_id, exercises.solution(exercise_id, tmp_path))
    assert report.passed, str(report)


# --- gradient_check_n: a missing copy of theta for thetaminus is not "divided by epsilon" ----------


def test_thetaminus_without_its_own_copy_is_named_and_not_a_division_by_epsilon(tmp_path):
    text = feedback("gradient_check_n", "thetaminus = np.copy(theta)", "thetaminus = thetaplus", tmp_path)
    assert "divided by epsilon instead of 2 * epsilon" not in text, text
    assert "J_minus was computed at theta, not at theta - epsilon" in text, text
    assert "thetaminus" in text and "copy" in text
    # on the course's correct backward, its buggy one and the quadratic
    assert text.count("J_minus was computed at theta") == 3, text


def test_a_division_by_epsilon_is_still_named_as_such(tmp_path):
    text = feedback(
        "gradient_check_n",
        "gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)",
        "gradapprox[i] = (J_plus - J_minus) / epsilon",
        tmp_path,
    )
    assert "divided by epsilon instead of 2 * epsilon (factor 2)" in text, text
    assert "J_minus was computed at theta" not in text, text


# --- chain_rule: df/dz = f is an incomplete sigmoid derivative, a factor 2 only where f = 0.5 -------


def test_an_incomplete_sigmoid_derivative_is_named_not_a_factor_2(tmp_path):
    text = feedback("chain_rule", "df_dz = f * (1 - f)", "df_dz = f", tmp_path)
    assert "factor 2" not in text and DERIVATIVE_HINT not in text, text
    assert "the derivative of sigmoid is incomplete (yours is df/dz = f)" in text, text
    # the seed's own point (f = 0.5) is named too, since the other points tell the mistakes apart
    seed_check = text.split("FAIL  by_hand gives the seed's")[1].split("FAIL")[0]
    assert "the derivative of sigmoid is incomplete" in seed_check, text


def test_a_real_factor_2_in_the_chain_rule_is_not_called_an_incomplete_derivative(tmp_path):
    text = feedback("chain_rule", "df_dz = f * (1 - f)", "df_dz = 2 * f * (1 - f)", tmp_path)
    assert "factor 2" in text, text
    assert "incomplete" not in text, text


# --- broadcast_add: mean instead of sum over the broadcast axis -----------------------------------


def test_a_mean_instead_of_a_sum_over_the_broadcast_axis_is_named(tmp_path):
    text = feedback("broadcast_add", "g = g.sum(axis=0)", "g = g.mean(axis=0)", tmp_path)
    assert "factor 2" not in text and DERIVATIVE_HINT not in text, text
    assert "constant factor" not in text, text
    assert "looks like: the mean instead of the sum over the broadcast axes" in text, text


# --- inverted_dropout: the wrong fraction kept, not a missing division ---------------------------


def test_a_mask_that_keeps_the_wrong_fraction_is_named(tmp_path):
    text = feedback("inverted_dropout", "< keep_prob", "> keep_prob", tmp_path)
    assert "divides the survivors by keep_prob" not in text, text
    assert "the mask keeps 19.9% of the units, expected keep_prob = 80%" in text, text


def test_a_missing_division_by_keep_prob_is_still_named(tmp_path):
    text = feedback("inverted_dropout", "return x * mask / keep_prob", "return x * mask", tmp_path)
    assert "divides the survivors by keep_prob" in text, text
    assert "the mask keeps" not in text, text


# --- adam: the bias correction left out is named, and its factor is not "constant" -----------------

NO_CORRECTION = (
    "        v_corrected = v / (1 - beta1**t)\n        s_corrected = s / (1 - beta2**t)\n",
    "        v_corrected = v\n        s_corrected = s\n",
)


def test_adam_without_bias_correction_is_named(tmp_path):
    text = feedback("adam", *NO_CORRECTION, tmp_path)
    assert "constant factor" not in text, text
    assert text.count("looks like: no bias correction") == 3, text


def test_a_factor_that_changes_from_step_to_step_is_not_called_constant(tmp_path):
    # v_corrected divided by (1 - beta1**t) twice: the factor is 1 / (1 - beta1**t), another at each step
    text = feedback(
        "adam", "v_corrected = v / (1 - beta1**t)", "v_corrected = v / (1 - beta1**t) ** 2", tmp_path
    )
    assert "constant factor" not in text, text
    assert "a factor that changes from step to step" in text, text


# --- linear_layer: the hint speaks of this layer's out = x @ W.T --------------------------------


def test_a_wrong_transpose_in_the_linear_layer_gets_a_hint_about_x_at_W_T(tmp_path):
    text = feedback("linear_layer", "return grad @ W, grad.T", "return grad @ W.T, grad.T", tmp_path)
    assert "grad_a = grad @ b.T for out = a @ b" not in text, text
    assert "out = x @ W.T" in text, text
    assert "grad @ W," not in text.split("Hint:", 1)[1], text  # the hint does not write the answer out


# --- backward_relu: 0 at the kink ---------------------------------------------------------------


def test_relu_with_a_derivative_of_1_at_the_kink_fails(tmp_path):
    text = feedback("backward_relu", "return grad * (x > 0)", "return grad * (x >= 0)", tmp_path)
    assert "x = 0" in text, text
    assert "looks like: a derivative of 1 at the kink" in text, text


def test_relu_with_a_half_at_the_kink_is_not_said_to_take_1(tmp_path):
    text = feedback("backward_relu", "return grad * (x > 0)", "return grad * np.heaviside(x, 0.5)", tmp_path)
    assert "a derivative of 1" not in text, text
    assert "looks like: a derivative other than 0 at the kink x = 0" in text, text


# --- sign hints: generic, never the fix itself ---------------------------------------------------


@pytest.mark.parametrize(
    "exercise_id, old, new",
    [
        ("backward_div", "-grad * a / (b * b)", "grad * a / (b * b)"),
        ("bug_div", "return grad / b, -grad * a / (b * b)", "return grad / b, grad * a / (b * b)"),
        ("backward_tanh", "return grad * (1 - y * y)", "return grad * (y * y - 1)"),
        (
            "softmax_cross_entropy",
            "return grad * (p - onehot) / n, None",
            "return grad * (onehot - p) / n, None",
        ),
    ],
)
def test_a_sign_hint_does_not_give_the_fix_or_another_exercise_s_formula(exercise_id, old, new, tmp_path):
    text = feedback(exercise_id, old, new, tmp_path)
    assert "looks like: sign" in text, text
    assert "a/b**2" not in text and "d/db" not in text, text


def test_the_bug_div_skeleton_is_not_told_the_fix(tmp_path):
    report = exercises.check("bug_div", exercises.start("bug_div", tmp_path))
    assert "looks like: sign" in str(report)
    assert "-a/b**2" not in str(report), str(report)


# --- a solution file names the file it was written to ------------------------------------------


def test_a_written_solution_says_how_to_check_the_file_it_is(tmp_path):
    path = exercises.solution("backward_tanh", tmp_path / "sol")
    text = path.read_text()
    assert f"tinygrad-edu exercise check backward_tanh {path}" in text, text
    assert "exercises/backward_tanh.py" not in text

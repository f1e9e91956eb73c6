"""Exercise: the course's learning-rate decay, per epoch and on a schedule."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check
from tinygrad_edu.exercises.feedback import compare

ID = "lr_decay"
TITLE = "learning-rate decay: update_lr and schedule_lr_decay"
SEED = (
    "seed 003: alpha = 1 / (1 + decay_rate * epoch_num) * alpha0; the course's update_lr, schedule_lr_decay"
)
ENTRIES = ("update_lr", "schedule_lr_decay")

SOLUTION = f'''"""Exercise {ID}: the course's learning-rate decay.

Seed 003: alpha = 1 / (1 + decay_rate * epoch_num) * alpha0. The course writes it twice:

    update_lr(learning_rate0, epoch_num, decay_rate)
        = learning_rate0 / (1 + decay_rate * epoch_num)                          (every epoch)
    schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000)
        = learning_rate0 / (1 + decay_rate * floor(epoch_num / time_interval))   (in steps)

The course prints update_lr(0.5, 2, 1) = 0.16666666666666666 and
schedule_lr_decay(0.5, 100, 0.3, time_interval=100) = 0.38461538461538464.
(In the library: optim.schedules.InverseTimeDecay(learning_rate0, time_interval,
decay_rate, staircase=True) is the second.)

{how_to_check(ID)}
"""

import numpy as np


def update_lr(learning_rate0, epoch_num, decay_rate):
    ### BEGIN SOLUTION
    return learning_rate0 / (1 + decay_rate * epoch_num)
    ### END SOLUTION


def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):
    ### BEGIN SOLUTION
    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))
    ### END SOLUTION
'''


# A learning rate is no derivative: none of the gradient hints (sign, factor 2, ...) can be the cause.
NO_HINTS: dict = {}


def _printed(answer: Any) -> list[str]:
    return compare(
        "update_lr(0.5, 2, 1)",
        answer.update_lr(0.5, 2, 1),
        0.16666666666666666,
        expected_name="the course prints",
        hints=NO_HINTS,
    ) + compare(
        "schedule_lr_decay(0.5, 100, 0.3, time_interval=100)",
        answer.schedule_lr_decay(0.5, 100, 0.3, time_interval=100),
        0.38461538461538464,
        expected_name="the course prints",
        hints=NO_HINTS,
    )


def _update_lr(answer: Any) -> list[str]:
    problems = []
    for lr0, epoch, rate in [(0.1, 0, 0.5), (0.01, 7, 0.3), (1.0, 25, 2.0)]:
        problems += compare(
            f"update_lr({lr0}, {epoch}, {rate})",
            answer.update_lr(lr0, epoch, rate),
            lr0 / (1 + rate * epoch),
            expected_name="expected",
            hints=NO_HINTS,
        )
    return problems


def _schedule(answer: Any) -> list[str]:
    problems = []
    for lr0, epoch, rate, interval in [
        (0.1, 999, 1.0, 1000),
        (0.1, 1000, 1.0, 1000),
        (0.2, 2500, 0.5, 1000),
        (0.5, 7, 0.3, 3),
    ]:
        got = answer.schedule_lr_decay(lr0, epoch, rate, time_interval=interval)
        lines = compare(
            f"schedule_lr_decay({lr0}, {epoch}, {rate}, time_interval={interval})",
            got,
            lr0 / (1 + rate * (epoch // interval)),
            expected_name="expected",
            hints=NO_HINTS,
        )
        if lines and np.isclose(float(np.asarray(got)), lr0 / (1 + rate * epoch / interval)):
            lines.append(
                "  looks like: epoch_num / time_interval was not floored. Hint: the rate changes "
                "in steps, once every time_interval epochs: np.floor(epoch_num / time_interval)"
            )
        problems += lines
    return problems


CHECKS = [
    ("the course's printed learning rates", 1.0, _printed),
    ("update_lr at three epochs", 1.0, _update_lr),
    ("schedule_lr_decay changes in steps of time_interval", 1.0, _schedule),
]

MISTAKES = [
    ("np.floor(epoch_num / time_interval))", "(epoch_num / time_interval))", "was not floored"),
    (
        "return learning_rate0 / (1 + decay_rate * epoch_num)",
        "return learning_rate0 / (1 + epoch_num)",
        "update_lr(0.01, 7, 0.3)",
    ),
]

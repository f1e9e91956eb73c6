"""Exercise: the course's random_mini_batches, samples as rows."""

from typing import Any

import numpy as np

from tinygrad_edu.exercises._checks import how_to_check
from tinygrad_edu.exercises.feedback import compare

ID = "mini_batches"
TITLE = "random_mini_batches: shuffle, then partition"
SEED = "seeds 000, 001, 003: random_mini_batches(X, Y, mini_batch_size=64, seed=0)"
ENTRIES = ("random_mini_batches",)

SOLUTION = f'''"""Exercise {ID}: the course's random_mini_batches, with samples as rows.

Two steps (seeds 000, 001, 003), for m samples:

1. Shuffle: np.random.seed(seed); permutation = np.random.permutation(m);
   the same permutation for X and Y, so each sample keeps its label.
2. Partition: floor(m / mini_batch_size) complete mini-batches
   shuffled[k * size : (k + 1) * size], then, when size does not divide m, one
   last mini-batch of the m % size samples at the END: shuffled[num_complete * size:].

The course keeps samples in columns (X[:, permutation]); here they are rows
(X[permutation]), as in tinygrad_edu.data. Return a list of (X_batch, Y_batch);
Y keeps its shape, (m,) or (m, 1).

{how_to_check(ID)}
"""

import math

import numpy as np


def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
    np.random.seed(seed)
    m = X.shape[0]
    permutation = list(np.random.permutation(m))
    shuffled_X, shuffled_Y = X[permutation], Y[permutation]
    num_complete = math.floor(m / mini_batch_size)
    mini_batches = []
    for k in range(num_complete):
        ### BEGIN SOLUTION
        mini_batch_X = shuffled_X[k * mini_batch_size : (k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[k * mini_batch_size : (k + 1) * mini_batch_size]
        ### END SOLUTION
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        ### BEGIN SOLUTION
        mini_batch_X = shuffled_X[num_complete * mini_batch_size :]
        mini_batch_Y = shuffled_Y[num_complete * mini_batch_size :]
        ### END SOLUTION
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches
'''


def _data(m: int, y_shape: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.arange(m * 3, dtype=np.float64).reshape(m, 3)
    Y = (np.arange(m) % 2).astype(np.float64)
    return X, (Y.reshape(m, 1) if y_shape == "column" else Y)


def _batches_check(m: int, size: int, seed: int, y_shape: str) -> Any:
    def check(answer: Any) -> list[str]:
        X, Y = _data(m, y_shape)
        state = np.random.get_state()
        try:
            got = answer.random_mini_batches(X, Y, size, seed)
        finally:
            np.random.set_state(state)
        order = np.random.RandomState(seed).permutation(m)
        want = [(X[order][k : k + size], Y[order][k : k + size]) for k in range(0, m, size)]
        sizes = [len(b[0]) for b in got]
        if sizes != [len(b[0]) for b in want]:
            lines = [
                f"m={m}, mini_batch_size={size}: your mini-batches hold {sizes} samples, expected "
                f"{[len(b[0]) for b in want]}"
            ]
            return lines
        for k, ((gx, gy), (wx, wy)) in enumerate(zip(got, want)):
            lines = compare(f"m={m}, size={size}: X of mini-batch {k}", gx, wx, expected_name="expected")
            lines += compare(f"m={m}, size={size}: Y of mini-batch {k}", gy, wy, expected_name="expected")
            if lines and np.array_equal(np.asarray(gy), Y[k * size : (k + 1) * size]):
                lines.append(
                    "  looks like: Y was not shuffled. Hint: index X and Y with the same permutation, so "
                    "each sample keeps its label"
                )
            if lines and k == len(want) - 1 and m % size and np.array_equal(gx, X[order][: m % size]):
                lines.append(
                    "  looks like: the last mini-batch repeats the first samples (shuffled[:m % size], "
                    "as one of the seeds prints). Hint: the end case is the rest, "
                    "shuffled[num_complete * size:]"
                )
            if lines:
                return lines
        return []

    return check


CHECKS = [
    ("the course's test case: m=148, size 64 -> 64, 64, 20", 1.0, _batches_check(148, 64, 0, "column")),
    ("m=10, size 4, seed 3; Y of shape (m,)", 1.0, _batches_check(10, 4, 3, "flat")),
    ("m=128, size 64: no empty last mini-batch", 1.0, _batches_check(128, 64, 1, "column")),
]

MISTAKES = [
    (
        "mini_batch_X = shuffled_X[num_complete * mini_batch_size :]",
        "mini_batch_X = shuffled_X[: m % mini_batch_size]",
        "repeats the first samples",
    ),
    (
        "shuffled_X, shuffled_Y = X[permutation], Y[permutation]",
        "shuffled_X, shuffled_Y = X[permutation], Y",
        "Y was not shuffled",
    ),
]

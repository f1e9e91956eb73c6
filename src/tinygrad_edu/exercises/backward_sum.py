"""Exercise: the backward of Sum over an axis."""

import numpy as np

from tinygrad_edu.exercises._checks import ONE_STYLE, how_to_check, op_checks, randn

ID = "backward_sum"
TITLE = "backward of Sum(axis, keepdims)"
SEED = "the course's np.sum(dZ, axis=1, keepdims=True) and its cost 1/m * np.sum(...)"
ENTRIES = ("Sum",)

SOLUTION = f'''"""Exercise {ID}: write the backward of Sum, out = x.sum(axis=axis, keepdims=keepdims).

Every element of x adds into one output element with derivative 1, so each
element of x gets the gradient of the output element it went into: grad,
copied back along the summed axis. When keepdims is False the summed axis
is gone from grad: put it back with size 1 first (reshape), then broadcast:

    kept = x.shape with 1 at the summed axis (all axes when axis is None)
    grad_x = grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype)

forward saves axis and keepdims for backward with self.save_for_backward.

{ONE_STYLE}

{how_to_check(ID)}
"""

import numpy as np

import tinygrad_edu as tg


class Sum(tg.Function):
    def forward(self, x, axis=None, keepdims=False):
        self.save_for_backward(axis, keepdims)
        return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        axis, keepdims = self.saved
        ### BEGIN SOLUTION
        if axis is None:
            kept = (1,) * x.ndim
        else:
            kept = tuple(1 if i == axis % x.ndim else n for i, n in enumerate(x.shape))
        return grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype)
        ### END SOLUTION
'''


def _cases(axis, keepdims, shape, seed):
    def f(x):
        return np.sum(x, axis=axis, keepdims=keepdims)

    return f, [lambda: (randn(*shape, seed=seed),)], {"axis": axis, "keepdims": keepdims}


# A non-leading axis summed with keepdims=False is where a forgotten reshape shows: grad (3,)
# against x (3, 5) does not broadcast, and on a square x it would line up with the wrong axis.
CASES = [
    (0, False, (4, 3), 1),
    (1, True, (3, 5), 2),
    (None, False, (2, 3), 3),
    (1, False, (3, 5), 4),
    (-1, False, (2, 3, 4), 5),
]
CHECKS = []
for axis, keepdims, shape, seed in CASES:
    f, cases, params = _cases(axis, keepdims, shape, seed)
    for name, points, check in op_checks("Sum", f, cases, names=("x",), params=params):
        CHECKS.append((f"axis={axis}, keepdims={keepdims}: {name}", points, check))

MISTAKES = [
    (
        "return grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype)",
        "return grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype) * 2",
        "factor 2",
    ),
    (
        "return grad.reshape(kept) * np.ones(x.shape, dtype=x.dtype)",
        "return grad * np.ones(x.shape, dtype=x.dtype)",
        "forgotten keepdims",
    ),
]

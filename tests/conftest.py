"""Hypothesis profiles for the whole test suite.

    pytest                                   # "fast": few examples, same ones every run
    HYPOTHESIS_PROFILE=thorough pytest       # many random examples, failures remembered

No deadline in either: a gradient check builds whole Jacobians, and its time
says nothing about correctness.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast",
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine: no flaky CI
    database=None,  # nothing written into the source tree
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

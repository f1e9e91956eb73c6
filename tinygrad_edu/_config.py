"""Library-wide settings: default dtype, gradient mode, anomaly mode, the one random Generator.

Kept in one small mutable object so the hot path reads a single attribute.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    __slots__ = ("grad_enabled", "default_dtype", "anomaly", "rng")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.default_dtype: np.dtype = np.dtype(np.float32)
        self.anomaly = False
        self.rng = np.random.default_rng()


STATE = _State()


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype that Python scalars, lists and new parameters get (float32 or float64)."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: expected float32 or float64, got {dt}")
    STATE.default_dtype = dt


def get_default_dtype() -> np.dtype:
    """The float dtype that Python scalars, lists and new parameters get."""
    return STATE.default_dtype


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the library's one random Generator (used by randn, rand, nn.init, Dropout)."""
    STATE.rng = np.random.default_rng(seed)
    return STATE.rng


def get_rng() -> np.random.Generator:
    """The library's random Generator."""
    return STATE.rng


class _GradMode:
    """Context manager and decorator that sets whether ops are recorded for backward."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(STATE.grad_enabled)
        STATE.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self._previous.pop()

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(self.enabled):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def no_grad() -> _GradMode:
    """Record nothing inside: ``with tg.no_grad(): ...`` or ``@tg.no_grad()``."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record ops again inside a ``no_grad`` block (used for ``create_graph=True``)."""
    return _GradMode(True)


def is_grad_enabled() -> bool:
    """Whether ops are being recorded for backward right now."""
    return STATE.grad_enabled
